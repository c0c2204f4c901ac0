"""Opaque, tamper-evident pagination cursors.

A cursor is ``base64url(position) "." base64url(HMAC-SHA256(secret, scope, position))``.
The scope binds it to one user and one query (index and filters), so a cursor
cannot be edited, forged, or replayed by another user or against another
filter: each of those is :class:`~todo_core.errors.InvalidCursor`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Dict

from todo_core.errors import InvalidCursor

MAX_CURSOR_LENGTH = 2048
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict, canonical base64url: Python's decoder silently skips foreign
    characters and ignores the unused low bits of the last character, so an
    altered cursor could decode to the same bytes. Only the one text that
    :func:`_b64encode` produces for the bytes is accepted."""
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


class CursorCodec:
    """Signs and verifies cursors with a server-side secret (at least 32 bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the cursor secret must be at least 32 bytes")
        self._secret = secret

    def _mac(self, scope: str, payload: bytes) -> bytes:
        message = scope.encode("utf-8") + b"\x00" + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def encode(self, scope: str, position: Dict[str, str]) -> str:
        payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return f"{_b64encode(payload)}.{_b64encode(self._mac(scope, payload))}"

    def decode(self, scope: str, cursor: str) -> Dict[str, str]:
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise InvalidCursor("malformed cursor")
        payload_text, mac_text = cursor.split(".")
        try:
            payload, mac = _b64decode(payload_text), _b64decode(mac_text)
        except (ValueError, TypeError) as exc:
            raise InvalidCursor("malformed cursor") from exc
        if not hmac.compare_digest(mac, self._mac(scope, payload)):
            raise InvalidCursor("cursor is not valid for this query")
        try:
            position = json.loads(payload)
        except ValueError as exc:  # pragma: no cover - only reachable with the secret
            raise InvalidCursor("malformed cursor") from exc
        if not isinstance(position, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in position.items()
        ):
            raise InvalidCursor("malformed cursor")
        return position
