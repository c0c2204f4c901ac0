"""E-mail addresses are personal data: gold keeps them hashed by default.

* ``hash`` (default): SHA-256 of the trimmed, lower-cased address, hex. Stable,
  so analysts can still count and join users, but not read addresses.
* ``mask``: ``j***@example.com`` - readable domain, hidden person.
* ``clear``: the address as is; only by explicit configuration
  (``--EMAIL_MODE clear``), for stages where that is allowed.
"""

from __future__ import annotations

import hashlib
from typing import Optional

import pyarrow as pa

MODES = ("hash", "mask", "clear")


def hash_email(email: Optional[str]) -> Optional[str]:
    if email is None:
        return None
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def mask_email(email: Optional[str]) -> Optional[str]:
    if email is None:
        return None
    local, at, domain = email.strip().partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def protect(table: pa.Table, column: str, mode: str) -> pa.Table:
    if mode not in MODES:
        raise ValueError(f"email mode must be one of {MODES}, not {mode!r}")
    if mode == "clear" or column not in table.column_names:
        return table
    func = hash_email if mode == "hash" else mask_email
    values = pa.array([func(v) for v in table.column(column).to_pylist()], pa.string())
    return table.set_column(table.column_names.index(column), column, values)
