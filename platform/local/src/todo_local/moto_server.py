"""The emulator's server process: moto's server app, one request at a time.

``python -m moto.server`` answers every request on its own thread, and moto's
backends do not lock: two conditional writes to the same DynamoDB item can
both pass their condition check before either applies (measured: concurrent
``update_task`` calls lost writes). AWS guarantees that a conditional write or
a transaction is atomic, and the code under test relies on it. This launcher
runs the same moto application behind a lock, so each request is applied
atomically, as in AWS. Connections are still accepted concurrently; only the
work inside moto is serialized (it is bound by the GIL anyway).

Run as ``python -m todo_local.moto_server -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, Callable, Iterable, List, Optional

WsgiApp = Callable[[Any, Any], Iterable[bytes]]


class SerializedApp:
    """A WSGI app that runs ``app`` for one request at a time.

    The response body is produced inside the lock too: moto may compute it
    lazily, and state must not change between the check and the answer.
    """

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> List[bytes]:
        with self._lock:
            result = self._app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]


def _exit(*_: object) -> None:
    sys.exit(0)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="todo_local.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)

    # Imported here so that importing this module (e.g. for tests) stays cheap.
    from moto.moto_server import werkzeug_app
    from werkzeug.serving import run_simple

    app = werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)
    # moto >= 5.2 keeps S3 metadata headers with underscores through its own
    # request handler; older releases have none and use werkzeug's.
    handler = getattr(werkzeug_app, "MotoRequestHandler", None)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    run_simple(
        args.host,
        args.port,
        SerializedApp(app),
        threaded=True,
        request_handler=handler,
    )


if __name__ == "__main__":
    main()
