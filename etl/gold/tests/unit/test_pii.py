"""Keyed pseudonyms computed in SQL equal HMAC-SHA256, for any text and key."""

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_gold import pii, queries


@settings(max_examples=80, deadline=None)
@given(value=st.text(max_size=80), key=st.binary(min_size=1, max_size=100))
def test_the_duckdb_sql_is_hmac_sha256(value, key):
    con = duckdb.connect()
    sql = pii.hmac_sql("CAST(? AS VARCHAR)", key, "duckdb")
    [(got,)] = con.execute(f"SELECT {sql}", [value]).fetchall()
    assert got == pii.hmac_hex(key, value)
    [(null,)] = con.execute(
        f"SELECT {pii.hmac_sql('CAST(NULL AS VARCHAR)', key, 'duckdb')}"
    ).fetchall()
    assert null is None


def test_athena_gets_its_own_hmac_function_with_the_key():
    key = b"secret-key"
    sql = pii.hmac_sql("x", key, queries.ATHENA_DIALECT)
    assert f"HMAC_SHA256(TO_UTF8(x), FROM_HEX('{key.hex()}'))" in sql
    assert sqlglot.parse_one(f"SELECT {sql}", read="trino")


def test_pseudonyms_unless_clear_is_asked_for_and_never_without_a_key():
    hashed = pii.sql_parameters("hmac", b"k", "duckdb")
    assert all("SHA256" in v for v in hashed.values())
    assert pii.sql_parameters("clear", None, "duckdb") == {
        "email_value": "p.email",
        "name_value": "p.full_name",
    }
    with pytest.raises(ValueError, match="needs a key"):
        pii.sql_parameters("hmac", None, "duckdb")
    with pytest.raises(ValueError, match="PII mode"):
        pii.sql_parameters("sha256", b"k", "duckdb")


def test_a_different_key_gives_different_pseudonyms():
    assert pii.hmac_hex(b"a", "alice@example.com") != pii.hmac_hex(b"b", "alice@example.com")
