"""Personal data in gold: e-mail addresses and names leave silver only as
keyed pseudonyms, computed in the SQL itself.

* ``hmac`` (default): HMAC-SHA256 with the stage's secret key (hex) of the
  trimmed, lower-cased e-mail address and of the full name. Stable, so
  analysts can count and join users; without the key nobody can test a
  guessed address (an unkeyed SHA-256 falls to a dictionary of addresses).
* ``clear``: e-mail and name as they are; only by explicit configuration
  (``--PII_MODE clear``), for stages where that is allowed.

The pseudonym is part of the query (:func:`sql_parameters`), so no engine
ever holds the clear values in a result: DuckDB's result, and Athena's CSV
in the workgroup's result location, contain only the HMACs. In Athena the
query text (with the key, as a hex literal) is kept in the workgroup's query
history: whoever may read that history may read the key, so the gold
workgroup's ``athena:GetQueryExecution`` is granted like the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Dict, Optional

MODES = ("hmac", "clear")
#: The user columns as gold publishes them: (placeholder, clear SQL expression
#: over user_analytics.sql's ``people`` CTE).
PSEUDONYMISED = {
    "email_value": "LOWER(TRIM(p.email))",
    "name_value": "p.full_name",
}
CLEAR = {"email_value": "p.email", "name_value": "p.full_name"}
_BLOCK = 64  # SHA-256's block size, for HMAC's pads


def hmac_hex(key: bytes, value: Optional[str]) -> Optional[str]:
    """The pseudonym of ``value`` (already normalised), as the SQL computes it."""
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hmac_sql(expression: str, key: bytes, dialect: str) -> str:
    """SQL computing ``hmac_hex(key, expression)`` in ``dialect`` (NULL stays NULL).

    Trino (Athena) has ``hmac_sha256``; DuckDB has SHA-256 only, so there
    HMAC is spelt out: ``H((K ^ opad) || H((K ^ ipad) || m))`` (RFC 2104).
    """
    if dialect == "trino":
        return f"LOWER(TO_HEX(HMAC_SHA256(TO_UTF8({expression}), FROM_HEX('{key.hex()}'))))"
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key).hex()
    outer = bytes(b ^ 0x5C for b in key).hex()
    return f"SHA256(UNHEX('{outer}') || UNHEX(SHA256(UNHEX('{inner}') || ENCODE({expression}))))"


def sql_parameters(mode: str, key: Optional[bytes], dialect: str) -> Dict[str, str]:
    """The ``{email_value}`` and ``{name_value}`` of user_analytics.sql."""
    if mode not in MODES:
        raise ValueError(f"PII mode must be one of {MODES}, not {mode!r}")
    if mode == "clear":
        return dict(CLEAR)
    if not key:
        raise ValueError("the hmac PII mode needs a key")
    return {name: hmac_sql(sql, key, dialect) for name, sql in PSEUDONYMISED.items()}
