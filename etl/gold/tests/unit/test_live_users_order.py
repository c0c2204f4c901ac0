"""Which row of a user profile is its current state: version first (a missing
version ranks as 0), then sequence number, as for tasks.

Sequence numbers compare only within one stream: after a restore into a new
table, the new stream's numbers start lower, so a newer change of a profile
can carry a smaller number than an older one.
"""

from __future__ import annotations

import duckdb

from todo_gold import queries


def _live(rows: list) -> list:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE users (user_id VARCHAR, version BIGINT, sequence_number VARCHAR,"
        " is_deleted BOOLEAN, email VARCHAR)"
    )
    con.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", rows)
    sql = queries.render(queries.load("views", "live_users"), {"users_table": "users"})
    return [(r[0], r[4]) for r in con.execute(sql).fetchall()]


def test_a_newer_version_from_a_second_stream_wins_over_a_higher_sequence_number() -> None:
    rows = [
        ("u", 2, "0900", False, "old@example.com"),  # old stream, high number
        ("u", 3, "0100", False, "new@example.com"),  # restored table's stream, low number
    ]
    assert _live(rows) == [("u", "new@example.com")]


def test_a_profile_without_a_version_ranks_below_every_versioned_one() -> None:
    rows = [
        ("u", None, "0900", False, "before-versions@example.com"),
        ("u", 1, "0100", False, "versioned@example.com"),
    ]
    assert _live(rows) == [("u", "versioned@example.com")]


def test_without_versions_the_higher_sequence_number_wins() -> None:
    rows = [
        ("u", None, "0100", False, "first@example.com"),
        ("u", None, "0200", False, "second@example.com"),
    ]
    assert _live(rows) == [("u", "second@example.com")]


def test_the_view_reads_in_athena_too() -> None:
    sql = queries.render(queries.load("views", "live_users"), {"users_table": "pii.users"})
    assert "COALESCE(u.version, 0) DESC" in queries.to_dialect(sql, queries.ATHENA_DIALECT)
