"""Personal data in the lake: where it is kept, and the key that pseudonymises it.

* **Where.** Silver's tables holding clear-text personal data (``users``:
  e-mail address, given and family name) are registered in a Glue database
  of their own, :func:`pii_database` (``<database>_pii``), so access to them
  is granted separately from the rest of silver and from gold (IAM on the
  database and on ``s3://<silver>/users/``, or Lake Formation grants on the
  database). Their files stay under ``<table>/`` in the silver bucket.
* **The key.** Gold publishes e-mail and name only as keyed HMAC-SHA256
  pseudonyms; the key is the Secrets Manager secret the Pulumi program
  passes as ``--PII_HMAC_SECRET_ID`` (``ResourceNames.pii_hmac_secret``).
  On the local stage, without that argument, the stage's secret is read
  from the emulator and created there with a generated key the first time.
"""

from __future__ import annotations

from typing import Any, FrozenSet, Optional

from todo_core import lake
from todo_core.naming import pii_database_of

#: Silver tables with clear-text personal data.
PII_TABLES: FrozenSet[str] = frozenset({lake.SILVER_USERS})


class PiiKeyUnavailable(RuntimeError):
    """No key: gold never falls back to clear text or an unkeyed hash."""


def pii_database(database: str) -> str:
    """The Glue database of the PII tables that go with ``database``."""
    return pii_database_of(database)


def database_for(database: str, table: str) -> str:
    """Where ``table`` is registered: the PII database for PII tables."""
    return pii_database(database) if table in PII_TABLES else database


def hmac_key(secret_id: Optional[str], session: Any = None) -> bytes:
    """The PII HMAC key (the secret's string, UTF-8), read from Secrets Manager.

    The secret is provisioned with the stage (the Pulumi program in AWS, the
    local stack in the emulator); the job only reads it. No secret id, or a
    secret that cannot be read, raises :class:`PiiKeyUnavailable`: gold never
    falls back to clear text or an unkeyed hash.
    """
    if not secret_id:
        raise PiiKeyUnavailable(
            "--PII_HMAC_SECRET_ID is required to pseudonymise personal data"
            " (or run with --PII_MODE clear where clear text is allowed)"
        )
    if session is None:
        import boto3

        session = boto3.Session()
    client = session.client("secretsmanager")
    try:
        value = client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # not found, access denied, unreachable
        raise PiiKeyUnavailable(f"cannot read the PII HMAC key {secret_id!r}: {exc}") from exc
    text = value.get("SecretString")
    if not text:
        raise PiiKeyUnavailable(f"the PII HMAC key {secret_id!r} is empty")
    return str(text).encode("utf-8")
