"""Bronze lines as bytes, fast.

``todo_core.events.to_json_line`` defines the line (compact JSON, UTF-8, exact
numbers, newline-terminated). orjson writes the same bytes about ten times
faster for every document it accepts; it refuses what it cannot write exactly
(``Decimal`` numbers, integers beyond 64 bits, invalid UTF-8), and those
documents take ``to_json_line``. The equivalence is property-tested.
"""

from __future__ import annotations

from typing import Any, Mapping

import orjson

from todo_core.events import to_json_line

_OPTIONS = orjson.OPT_APPEND_NEWLINE


def encode_line(event: Mapping[str, Any]) -> bytes:
    """``to_json_line(event).encode("utf-8")``, quickly when possible."""
    try:
        return orjson.dumps(event, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: not writable exactly by orjson
        return to_json_line(event).encode("utf-8")
