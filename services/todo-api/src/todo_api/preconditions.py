"""HTTP conditional requests (RFC 9110 section 13): ETags and If-Match.

A task's ETag is its quoted version (``todo_core.models.Task.etag``). If-Match
uses the strong comparison (RFC 9110 section 8.8.3.2): a tag matches only when
its text is exactly the current ETag's, so weak validators (``W/"3"``) and
other spellings of the same number (``"03"``, ``"+3"``, ``"³"``) never match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import FrozenSet, Optional

_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
#: The only text ``etag_for`` produces: ASCII digits, no leading zero, and
#: short enough to be a version (DynamoDB numbers and Python ints agree).
_VERSION_TEXT = re.compile(r"[1-9][0-9]{0,17}")


class MalformedIfMatch(ValueError):
    pass


@dataclass(frozen=True)
class IfMatch:
    """A parsed If-Match header: ``*`` or the versions it names."""

    any: bool = False
    versions: FrozenSet[int] = frozenset()

    def matches(self, version: int) -> bool:
        return self.any or version in self.versions


def etag_for(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: Optional[str]) -> Optional[IfMatch]:
    """None when the header is absent; MalformedIfMatch when it is not a list of entity tags."""
    if value is None:
        return None
    text = value.strip()
    if text == "*":
        return IfMatch(any=True)
    if not text:
        raise MalformedIfMatch("If-Match is empty")
    versions = set()
    position = 0
    while position < len(text):
        match = _ENTITY_TAG.match(text, position)
        if match is None:
            raise MalformedIfMatch("If-Match must be '*' or a list of quoted entity tags")
        weak, opaque = match.group(1), match.group(2)
        # Weak tags never match strongly; a tag that is not exactly the text of
        # a version (``etag_for``) is a valid tag that matches no task.
        if not weak and _VERSION_TEXT.fullmatch(opaque):
            versions.add(int(opaque))
        position = match.end()
    return IfMatch(versions=frozenset(versions))
