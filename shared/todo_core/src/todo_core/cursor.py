"""Opaque, tamper-evident, expiring pagination cursors.

A cursor is ``base64url(payload) "." base64url(HMAC-SHA256(key, scope, payload))``
where the payload is ``{"k": key id, "t": issue time, "p": position}``. The
scope binds it to one user and one query (index and filters), so a cursor
cannot be edited, forged, or replayed by another user or against another
filter: each of those is :class:`~todo_core.errors.InvalidCursor`, and so is
a cursor older than the codec's maximum age.

Keys rotate: a codec signs with its current key and also verifies with the
previous one, so cursors handed out just before a rotation keep working
until they expire. The key id (a digest of the key, not the key) says which
key to verify with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Callable, Dict, Optional, Protocol

from todo_core.errors import InvalidCursor

MAX_CURSOR_LENGTH = 2048
#: How long a cursor stays valid: a client paging through a list has an hour.
DEFAULT_MAX_AGE_SECONDS = 3600
#: Tolerated clock difference between the containers that issue and verify.
CLOCK_SKEW_SECONDS = 60
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


class Cursors(Protocol):
    """What a repository needs to hand out and read back cursors."""

    def encode(self, scope: str, position: Dict[str, str]) -> str: ...

    def decode(self, scope: str, cursor: str) -> Dict[str, str]: ...


def key_id(secret: bytes) -> str:
    """A short public name of a key (a digest that reveals nothing about it)."""
    return hashlib.sha256(b"todo-cursor-key-id\x00" + secret).hexdigest()[:12]


class CursorCodec:
    """Signs cursors with the current key; verifies with the current or previous one."""

    def __init__(
        self,
        secret: bytes,
        previous: Optional[bytes] = None,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for key in (secret, previous):
            if key is not None and len(key) < 32:
                raise ValueError("the cursor secret must be at least 32 bytes")
        self._secret = secret
        self.key_id = key_id(secret)
        self._keys: Dict[str, bytes] = {self.key_id: secret}
        if previous is not None and previous != secret:
            self._keys[key_id(previous)] = previous
        self._max_age = max_age_seconds
        self._clock = clock

    @staticmethod
    def _mac(key: bytes, scope: str, payload: bytes) -> bytes:
        message = scope.encode("utf-8") + b"\x00" + payload
        return hmac.new(key, message, hashlib.sha256).digest()

    def encode(self, scope: str, position: Dict[str, str]) -> str:
        body = {"k": self.key_id, "t": int(self._clock()), "p": position}
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return f"{_b64encode(payload)}.{_b64encode(self._mac(self._secret, scope, payload))}"

    def decode(self, scope: str, cursor: str) -> Dict[str, str]:
        if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise InvalidCursor("malformed cursor")
        payload_text, mac_text = cursor.split(".")
        try:
            payload, mac = _b64decode(payload_text), _b64decode(mac_text)
            body = json.loads(payload)
        except (ValueError, TypeError) as exc:
            raise InvalidCursor("malformed cursor") from exc
        kid = body.get("k") if isinstance(body, dict) else None
        key = self._keys.get(kid) if isinstance(kid, str) else None
        # The same answer for an unknown key and a bad signature.
        if key is None or not hmac.compare_digest(mac, self._mac(key, scope, payload)):
            raise InvalidCursor("cursor is not valid for this query")
        issued, position = body.get("t"), body.get("p")
        if not isinstance(issued, int) or not isinstance(position, dict):
            raise InvalidCursor("malformed cursor")
        age = self._clock() - issued
        if age > self._max_age or age < -CLOCK_SKEW_SECONDS:
            raise InvalidCursor("cursor expired; start again from the first page")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in position.items()):
            raise InvalidCursor("malformed cursor")
        return position
