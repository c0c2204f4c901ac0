"""The emulator's application served in the test process, on a thread.

The tests talk to it over HTTP with plain boto3 clients, as every package's
tests do; serving it in-process lets a test switch a patch off (``monkeypatch``
with the patched function's ``__wrapped__``) to compare with moto's own code.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Iterator

import pytest
from werkzeug.serving import make_server

from todo_emulator.server import SerializedApp, build_app, request_handler


@pytest.fixture(scope="session")
def server() -> Iterator[Dict[str, Any]]:
    httpd = make_server(
        "127.0.0.1", 0, SerializedApp(build_app()), threaded=True,
        request_handler=request_handler(),
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"port": httpd.server_port}
    finally:
        httpd.shutdown()
        httpd.server_close()
