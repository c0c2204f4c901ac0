"""moto in server mode, as a child process on 127.0.0.1.

One process serves every AWS service the local stack needs (DynamoDB and
Streams, S3, Firehose, Cognito, CloudWatch, Glue, Logs), all sharing state, so
Firehose really writes into the S3 buckets and Cognito really serves JWKS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Dict, Optional

HOST = "127.0.0.1"
REGION = "us-east-1"
#: Credentials the emulator accepts; they are never valid anywhere else.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class EmulatorError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


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


class Emulator:
    """A running moto server; use as a context manager or call start()/stop()."""

    def __init__(self, port: Optional[int] = None, log_path: Optional[str] = None) -> None:
        self.port = port
        self._log_path = log_path
        self._process: Optional[subprocess.Popen] = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> "Emulator":
        if self.port is None:
            self.port = free_port()
        elif port_in_use(self.port):
            raise EmulatorError(
                f"port {self.port} on {HOST} is already in use: stop whatever listens "
                "there or choose another port (TODO_LOCAL_PORT / --port)"
            )
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, **FAKE_CREDENTIALS, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmulatorError(
                    f"moto server exited with code {self._process.returncode} "
                    f"(is port {self.port} free?)"
                )
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1):  # noqa: S310
                    return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.stop()
        raise EmulatorError(f"moto server did not answer on {self.endpoint_url} in {timeout}s")

    def reset(self) -> None:
        """Drop every resource and item (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
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

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
