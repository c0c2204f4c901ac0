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

import contextlib
import secrets
from typing import Any, FrozenSet, Optional

from todo_core import lake

#: Silver tables with clear-text personal data.
PII_TABLES: FrozenSet[str] = frozenset({lake.SILVER_USERS})
PII_DATABASE_SUFFIX = "_pii"
#: The stage on which a missing key is generated (the local emulator only).
LOCAL_STAGE = "local"


class PiiKeyUnavailable(RuntimeError):
    """No key: gold never falls back to clear text or an unkeyed hash."""


def pii_database(database: str) -> str:
    """The Glue database of the PII tables that go with ``database``."""
    return database + PII_DATABASE_SUFFIX


def database_for(database: str, table: str) -> str:
    """Where ``table`` is registered: the PII database for PII tables."""
    return pii_database(database) if table in PII_TABLES else database


def ensure_database(name: str, glue: Any) -> None:
    """Create the Glue database ``name`` when it does not exist (the local
    stack; in AWS the Pulumi program creates it, with its own grants)."""
    try:
        glue.get_database(Name=name)
    except glue.exceptions.EntityNotFoundException:
        # A concurrent run may make it first.
        with contextlib.suppress(glue.exceptions.AlreadyExistsException):
            glue.create_database(
                DatabaseInput={
                    "Name": name,
                    "Description": "Silver tables with clear-text personal data (granted apart)",
                }
            )


def local_secret_id(session: Any, stage: str) -> str:
    """The stage's secret name, ``ResourceNames(...).pii_hmac_secret``."""
    from todo_core.naming import ResourceNames

    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name or "us-east-1"
    return ResourceNames(stage=stage, account_id=account, region=region).pii_hmac_secret


def hmac_key(secret_id: Optional[str], stage: Optional[str], session: Any = None) -> bytes:
    """The PII HMAC key (the secret's string, UTF-8).

    With ``secret_id`` (AWS: always), the secret is read. Without it, only on
    the local stage: the stage's secret, created with a generated key when
    the emulator does not have it yet. Anything else raises
    :class:`PiiKeyUnavailable`.
    """
    if session is None:
        import boto3

        session = boto3.Session()
    client = session.client("secretsmanager")
    if secret_id is None:
        if stage != LOCAL_STAGE:
            raise PiiKeyUnavailable(
                "--PII_HMAC_SECRET_ID is required to pseudonymise personal data"
                " (or run with --PII_MODE clear where clear text is allowed)"
            )
        secret_id = local_secret_id(session, stage)
        with contextlib.suppress(client.exceptions.ResourceExistsException):
            client.create_secret(Name=secret_id, SecretString=secrets.token_hex(32))
    try:
        value = client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # not found, access denied, unreachable
        raise PiiKeyUnavailable(f"cannot read the PII HMAC key {secret_id!r}: {exc}") from exc
    text = value.get("SecretString")
    if not text:
        raise PiiKeyUnavailable(f"the PII HMAC key {secret_id!r} is empty")
    return str(text).encode("utf-8")
