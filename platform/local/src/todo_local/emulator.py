"""The local AWS emulator as a child process on 127.0.0.1.

One process serves every AWS service the local stack needs (DynamoDB and
Streams, S3, Firehose, Cognito, CloudWatch, Glue, Logs), all sharing state, so
Firehose really writes into the S3 buckets and Cognito really serves JWKS.
The process is ``todo_emulator.server`` (the ``todo-emulator`` package, Python
3.12, moto): moto's own server application, with each request applied
atomically as AWS does. This module needs neither: every suite, the Glue
jobs' Python 3.9 ones included, starts the emulator with the interpreter of
one environment that has it (:func:`emulator_python`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Dict, Iterator, Mapping, Optional

HOST = "127.0.0.1"
REGION = "us-east-1"
#: Credentials the emulator accepts; they are never valid anywhere else.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


#: The Python of an environment with ``todo-emulator`` installed (the noxfile
#: builds one from the root lock and sets this for every session).
PYTHON_ENV = "TODO_EMULATOR_PYTHON"
EMULATOR_MODULE = "todo_emulator.server"


class EmulatorError(RuntimeError):
    """The emulator could not start (port taken, server crashed or silent)."""


class _ExitedEarly(EmulatorError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def emulator_python() -> str:
    """The interpreter that runs the emulator: ``$TODO_EMULATOR_PYTHON``, else this one.

    This interpreter only qualifies when it can import the emulator (the
    root workspace's environments can; the Glue jobs' cannot: moto is not
    theirs to carry).
    """
    configured = os.environ.get(PYTHON_ENV)
    if configured:
        return configured
    if importlib.util.find_spec("todo_emulator") is not None:
        return sys.executable
    raise EmulatorError(
        f"no emulator here: set {PYTHON_ENV} to the python of an environment with "
        "todo-emulator installed (the noxfile's sessions do), or install todo-emulator"
    )


def client_environment(endpoint_url: str) -> Dict[str, str]:
    """Environment that points any boto3 client (and awswrangler) at the emulator."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # Never read a developer's real ~/.aws profile by accident.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@contextlib.contextmanager
def environment_applied(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` for the duration; what was there before, after."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Emulator:
    """A running moto server; use as a context manager or call start()/stop()."""

    def __init__(self, port: Optional[int] = None, log_path: Optional[str] = None) -> None:
        self.port = port
        self._log_path = log_path
        self._process: Optional[subprocess.Popen] = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> Emulator:
        """Start the server and wait until it answers; EmulatorError otherwise."""
        if self.port is not None:
            if port_in_use(self.port):
                raise EmulatorError(
                    f"port {self.port} on {HOST} is already in use: stop whatever listens "
                    "there or choose another port (--port / TODO_LOCAL_PORT)"
                )
            self._launch(self.port, timeout)
            return self
        # A free port can be taken by someone else before the server binds it:
        # then pick another one rather than fail.
        for attempt in range(3):
            self.port = free_port()
            try:
                self._launch(self.port, timeout)
                return self
            except _ExitedEarly:
                self.port = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, port: int, timeout: float) -> None:
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {
            **os.environ,
            **FAKE_CREDENTIALS,
            "MOTO_ALLOW_NONEXISTENT_REGION": "true",
            "MOTO_PORT": str(port),
        }
        python = emulator_python()
        try:
            self._process = subprocess.Popen(
                [
                    python, "-m", EMULATOR_MODULE, "-H", HOST, "-p", str(port),
                    "--parent-pid", str(os.getpid()),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                # Its own session: a terminal's Ctrl-C reaches only the owner,
                # which stops the emulator last, after the components using it.
                # It still exits with its owner (--parent-pid), whatever happens.
                start_new_session=True,
            )
        except OSError as exc:
            raise EmulatorError(f"cannot run the emulator's Python {python}: {exc}") from exc
        finally:
            if log is not subprocess.DEVNULL:
                log.close()  # the child holds its own descriptor
        url = f"http://{HOST}:{port}/moto-api/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                self._process = None
                raise _ExitedEarly(
                    f"the moto server exited with code {code} before answering "
                    f"(is port {port} on {HOST} free?)"
                )
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.stop()
        raise EmulatorError(f"the moto server did not answer on {url} within {timeout}s")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def reset(self) -> None:
        """Drop every resource and item (moto's reset API)."""
        url = f"{self.endpoint_url}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 - our own http URL
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
