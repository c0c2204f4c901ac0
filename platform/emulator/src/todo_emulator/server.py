"""The emulator's server process: moto's server application, one request at a time.

``python -m moto.server`` answers every request on its own thread, and moto's
backends do not lock: two conditional writes to the same DynamoDB item can
both pass their condition check before either applies. AWS applies a
conditional write or a transaction atomically, and the code under test relies
on it. This server runs the same moto application behind a lock
(:class:`SerializedApp`), so each request is applied atomically. Connections
are still accepted concurrently and kept open (:mod:`todo_emulator.connections`);
moto's behaviour is corrected where :mod:`todo_emulator.patches` says.

Run as ``python -m todo_emulator.server -H 127.0.0.1 -p PORT [--parent-pid PID]``.
With ``--parent-pid`` the server exits as soon as that process is gone, so a
crashed or killed test run never leaves an emulator behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterable, List, Optional

from todo_emulator import patches
from todo_emulator.connections import keep_alive_handler

WsgiApp = Callable[[Any, Any], Iterable[bytes]]

#: Set to a file path to profile the work done inside the lock (cProfile,
#: written in ``pstats`` format when the server exits).
PROFILE_ENV = "TODO_LOCAL_EMULATOR_PROFILE"


class SerializedApp:
    """A WSGI app that runs ``app`` for one request at a time.

    The response body is produced inside the lock too: moto may compute it
    lazily, and state must not change between the check and the answer.
    """

    def __init__(self, app: WsgiApp, profiler: Any = None) -> None:
        self._app = app
        self._lock = threading.Lock()
        #: A ``cProfile.Profile`` to run each request under (see ``PROFILE_ENV``).
        self._profiler = profiler

    def __call__(self, environ: Any, start_response: Any) -> List[bytes]:
        with self._lock:
            if self._profiler is not None:
                self._profiler.enable()
            try:
                result = self._app(environ, start_response)
                try:
                    body = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                if self._profiler is not None:
                    self._profiler.disable()
        return [body]


def _profiler() -> Any:
    path = os.environ.get(PROFILE_ENV)
    if not path:
        return None
    import atexit
    import cProfile

    profiler = cProfile.Profile()
    atexit.register(profiler.dump_stats, path)
    return profiler


def build_app() -> WsgiApp:
    """moto's server application with :mod:`todo_emulator.patches` applied (not serialized)."""
    from moto.moto_server import werkzeug_app

    patches.apply_all()
    return werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)


def request_handler() -> Any:
    """moto's request handler (it keeps S3 metadata headers with underscores), kept alive."""
    from moto.moto_server import werkzeug_app

    return keep_alive_handler(werkzeug_app.MotoRequestHandler)


def _exit(*_: object) -> None:
    sys.exit(0)


def _exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """Exit when ``parent`` dies (this process is then re-parented)."""
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="todo_emulator.server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)
    if args.parent_pid is not None:
        threading.Thread(
            target=_exit_with_parent, args=(args.parent_pid,), name="parent-watch", daemon=True
        ).start()

    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    run_simple(
        args.host,
        args.port,
        SerializedApp(build_app(), _profiler()),
        threaded=True,
        request_handler=request_handler(),
    )


if __name__ == "__main__":
    main()
