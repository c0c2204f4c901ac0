"""Personal data: keyed HMACs with the key from Secrets Manager, hashed in the
SQL (the Athena statements compute them, so Athena's results hold no clear
text), and silver's clear-text users in a Glue database of their own."""

import datetime as dt

import boto3
import pytest

from tests.conftest import fixed_workload
from todo_core.naming import ResourceNames
from todo_gold import queries
from todo_gold.engines import AthenaEngine
from todo_gold.pii import hmac_hex, sql_parameters
from todo_lake.pii import PiiKeyUnavailable, hmac_key, pii_database

pytestmark = pytest.mark.integration


@pytest.fixture
def built(pipeline):
    pipeline.put(fixed_workload())
    pipeline.silver()
    return pipeline


def test_gold_hmacs_email_and_name_with_the_stage_secret(built):
    built.gold()
    names = built.names
    # On the local stage the secret is the stage's, generated in the emulator.
    secret = ResourceNames(names.stage, names.account_id, names.region).pii_hmac_secret
    key = boto3.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    alice, bob = built.table("user_analytics", "user_id")
    assert alice["email"] == hmac_hex(key.encode(), "alice@example.com")
    assert alice["name"] == hmac_hex(key.encode(), "Alice A")
    assert bob["name"] == hmac_hex(key.encode(), "Bob")
    assert "Alice" not in repr(built.table("user_analytics", "user_id"))


def test_an_explicit_secret_is_used_and_a_missing_one_fails_the_run(built):
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="pii-test-explicit", SecretString="another-key")["ARN"]
    built.gold(pii_hmac_secret_id=arn)
    [alice, _] = built.table("user_analytics", "user_id")
    assert alice["email"] == hmac_hex(b"another-key", "alice@example.com")
    with pytest.raises(PiiKeyUnavailable, match="cannot read"):
        built.gold(pii_hmac_secret_id="no-such-secret")
    # Outside the local stage nothing is generated: the argument is required.
    with pytest.raises(PiiKeyUnavailable, match="PII_HMAC_SECRET_ID is required"):
        hmac_key(None, "prod")


def test_silver_users_are_in_their_own_database(built):
    glue = boto3.client("glue")
    db = built.names.glue_database
    tables = {t["Name"] for t in glue.get_tables(DatabaseName=db)["TableList"]}
    assert "users" not in tables
    assert "tasks" in tables
    pii_tables = {t["Name"] for t in glue.get_tables(DatabaseName=pii_database(db))["TableList"]}
    assert pii_tables == {"users"}


def test_athena_computes_the_pseudonyms_itself():
    """Every statement Athena runs that reads e-mail or name HMACs them: the
    result CSVs Athena writes hold no clear text."""
    statements = []
    athena = AthenaEngine("todo_db", execute=lambda sql, rows: statements.append(sql))
    moment = dt.datetime(2025, 3, 3, tzinfo=dt.timezone.utc)
    params = {
        **queries.parameters(moment, dt.date(1970, 1, 1)),
        **athena.table_parameters(),
        **sql_parameters("hmac", b"key", athena.dialect),
    }
    athena.create_views(params)
    athena.query(queries.render(queries.load("tables", "user_analytics"), params))
    _, users_view, table = statements
    assert users_view.startswith("CREATE OR REPLACE VIEW live_users")
    assert "todo_db_pii.users" in users_view
    assert table.count("HMAC_SHA256") == 2
    assert "p.email AS email" not in table
