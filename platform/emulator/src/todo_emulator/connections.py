"""The emulator's HTTP request handler: kept-alive connections.

moto's server mode runs on werkzeug's development server, which closes the
connection after every response because it cannot tell where an unread
request body ends; every AWS call then pays for a new TCP connection on both
sides and a new server thread. :func:`keep_alive_handler` reads each body
completely before the application runs, so the connection can stay open.
"""

from __future__ import annotations

import io
import socket
import traceback
from typing import Any, List, Optional, Tuple

Response = Tuple[str, List[Tuple[str, str]], bytes]


def _read_body(environ: Any) -> Optional[bytes]:
    """The whole request body (by ``Content-Length`` or to the last chunk); None if short."""
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked
        return bytes(stream.read())
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = stream.read(length) if length > 0 else b""
    return None if length < 0 or len(body) < length else bytes(body)


def _call_app(handler: Any, environ: Any) -> Response:
    """Run the WSGI app; a crash is a 500 that closes the connection."""
    response: List[Any] = []
    written: List[bytes] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        response[:] = [status, headers]
        return written.append

    try:
        result = handler.server.app(environ, start_response)
        try:
            written.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:
        handler.server.log("error", f"Error on request:\n{traceback.format_exc()}")
        handler.close_connection = True
        headers = [("Content-Type", "text/plain")]
        return "500 INTERNAL SERVER ERROR", headers, b"Internal Server Error"
    return response[0], response[1], b"".join(written)


def _send(handler: Any, environ: Any, response: Response) -> None:
    """Status, headers (with a ``Content-Length``) and body in one write."""
    status, headers, payload = response
    code_text, _, reason = status.partition(" ")
    code = int(code_text)
    handler.send_response_only(code, reason)
    names = set()
    declared = None
    for name, value in headers:
        if name.lower() == "content-length":
            declared = value
            continue
        if name.lower() in ("connection", "transfer-encoding"):
            continue
        names.add(name.lower())
        handler.send_header(name, value)
    if "server" not in names:
        handler.send_header("Server", handler.version_string())
    if "date" not in names:
        handler.send_header("Date", handler.date_time_string())
    head = environ["REQUEST_METHOD"] == "HEAD"
    no_body = code < 200 or code in (204, 304)
    if head and declared is not None:
        # The size a GET would return (S3 HeadObject's ContentLength).
        handler.send_header("Content-Length", declared)
    elif not no_body:
        handler.send_header("Content-Length", str(len(payload)))
    if handler.close_connection:
        handler.send_header("Connection", "close")
    # Head and body in one write: two small writes on a kept-alive connection
    # meet Nagle's algorithm and the peer's delayed ACK.
    handler._headers_buffer.append(b"\r\n")
    if payload and not (head or no_body):
        handler._headers_buffer.append(payload)
    handler.flush_headers()
    if code >= 400:  # successes are not logged: a demo run makes 100,000s
        handler.log_request(code, len(payload))


def keep_alive_handler(base: Any) -> Any:
    """A subclass of the werkzeug request handler ``base`` that keeps connections open.

    Each request body is read completely before the application runs, so the
    stream is always at the next request; the answer carries a
    ``Content-Length`` and the connection stays open unless the client asked
    to close it. Headers, environ and errors are werkzeug's and moto's
    (``make_environ`` is inherited).
    """

    class KeepAliveRequestHandler(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def run_wsgi(self) -> None:
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.environ = environ = self.make_environ()
            body = _read_body(environ)
            if body is None:  # a malformed or truncated request
                self.close_connection = True
                self.send_error(400)
                return
            environ["wsgi.input"] = io.BytesIO(body)
            _send(self, environ, _call_app(self, environ))

    return KeepAliveRequestHandler
