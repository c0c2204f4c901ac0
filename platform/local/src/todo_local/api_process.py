"""The Tasks API served by uvicorn against the emulator, in a child process.

Configured like the Lambda is in AWS (the same environment variables, see
services/todo-api/README.md), with the emulator's Cognito pool as issuer and
its JWKS address. The API's stdout carries its structured JSON log lines;
they are copied to ``<log_dir>/api.log`` and forwarded, in batches, to the
logs delivery stream (``LogsFirehoseStreamName``): the local stand-in for
the CloudWatch Logs subscription filter that feeds the bronze bucket in AWS
(with Firehose's message extraction on, so records are the JSON lines).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import IO, Any, Dict, List, Optional

from todo_local.emulator import HOST, client_environment, free_port

#: Firehose PutRecordBatch limits: 500 records, 4 MiB per call.
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
#: A partial batch is sent after this long, like a subscription filter would.
FLUSH_INTERVAL_SECONDS = 1.0


class ApiProcessError(RuntimeError):
    pass


def api_environment(stack: Any) -> Dict[str, str]:
    """The API's environment against the local stack (what Pulumi sets in AWS).

    Variable names come from the API's own contract
    (``todo_api.settings.environment_variables``); only values are chosen here.
    """
    from todo_api.settings import environment_variables

    names = environment_variables()
    settings = {
        "stage": stack.names.stage,
        "table_name": stack.names.table,
        "cursor_secret_id": stack.names.cursor_signing_secret,
        "auth_mode": "jwt",
        "cognito_user_pool_id": stack.user_pool_id,
        "cognito_client_id": stack.user_pool_client_id,
        "cognito_issuer": stack.issuer,
        "cognito_jwks_url": stack.jwks_url,
        "blocking_io": "threadpool",
    }
    return {
        **client_environment(stack.endpoint_url),
        **{names[field]: value for field, value in settings.items()},
        "POWERTOOLS_SERVICE_NAME": "todo-api",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


class LogForwarder:
    """Batches JSON log lines into Firehose PutRecordBatch calls."""

    def __init__(self, firehose: Any, stream_name: str) -> None:
        self._firehose = firehose
        self._stream = stream_name
        self._queue: queue.Queue[Optional[bytes]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="api-log-forwarder", daemon=True)
        self.forwarded = 0
        self.failed = 0

    def start(self) -> LogForwarder:
        self._thread.start()
        return self

    def submit(self, line: str) -> None:
        self._queue.put(line.rstrip("\n").encode("utf-8") + b"\n")

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        batch: List[bytes] = []
        size = 0
        deadline = time.monotonic() + FLUSH_INTERVAL_SECONDS
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = b""
            if item is None:
                self._send(batch)
                return
            if item:
                if len(batch) == MAX_BATCH_RECORDS or size + len(item) > MAX_BATCH_BYTES:
                    self._send(batch)
                    batch, size = [], 0
                batch.append(item)
                size += len(item)
            if time.monotonic() >= deadline:
                self._send(batch)
                batch, size = [], 0
                deadline = time.monotonic() + FLUSH_INTERVAL_SECONDS

    def _send(self, batch: List[bytes]) -> None:
        records = [{"Data": data} for data in batch]
        for _ in range(3):
            if not records:
                return
            try:
                response = self._firehose.put_record_batch(
                    DeliveryStreamName=self._stream, Records=records
                )
            except Exception:  # the emulator went away: logs stay in api.log
                time.sleep(0.2)
                continue
            results = response.get("RequestResponses", [])
            retry = [r for r, res in zip(records, results) if res.get("ErrorCode")]
            self.forwarded += len(records) - len(retry)
            records = retry
        self.failed += len(records)


class ApiProcess:
    """``with ApiProcess(stack) as api: requests to api.url``."""

    def __init__(
        self,
        stack: Any,
        port: Optional[int] = None,
        log_dir: str = ".local",
        forward_logs: bool = True,
        extra_env: Optional[Dict[str, str]] = None,
        startup_timeout: float = 60.0,
        workers: int = 1,
    ) -> None:
        self.stack = stack
        self.port = port
        self.log_dir = log_dir
        self.forward_logs = forward_logs
        self.extra_env = dict(extra_env or {})
        self.startup_timeout = startup_timeout
        #: uvicorn worker processes (the API is CPU-bound per process: the GIL).
        self.workers = workers
        self.log_path = os.path.join(log_dir, "api.log")
        self.forwarder: Optional[LogForwarder] = None
        self._process: Optional[subprocess.Popen] = None
        self._reader: Optional[threading.Thread] = None
        self._log: Optional[IO[str]] = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> ApiProcess:
        os.makedirs(self.log_dir, exist_ok=True)
        if self.port is None:
            self.port = free_port()
        env = {**os.environ, **api_environment(self.stack), **self.extra_env}
        self._log = open(self.log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        if self.forward_logs:
            self.forwarder = LogForwarder(
                self.stack.client("firehose"), self.stack.names.logs_delivery_stream
            ).start()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "todo_api.app:create_app",
                "--factory",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "5",
                *(["--workers", str(self.workers)] if self.workers > 1 else []),
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read_stdout, name="api-stdout", daemon=True)
        self._reader.start()
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_stdout(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if self._log is not None:
                self._log.write(line)
            if self.forwarder is not None and line.lstrip().startswith("{"):
                try:
                    json.loads(line)
                except ValueError:
                    continue
                self.forwarder.submit(line)

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ApiProcessError(
                    f"the API exited with code {self._process.returncode}; see {self.log_path}:\n"
                    + self._log_tail()
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        raise ApiProcessError(f"the API did not answer on {self.url} in {self.startup_timeout}s")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)
            self._reader = None
        if self.forwarder is not None:
            self.forwarder.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ApiProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
