"""Which row of a task is its current state: version first, then sequence number.

Sequence numbers compare only within one stream: after a point-in-time
restore (or a stream re-enable) the new stream's numbers start lower, so a
newer change can carry a smaller number than an older one.
"""

from __future__ import annotations

import duckdb

from todo_gold import queries


def _live(rows: list) -> list:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE tasks (user_id VARCHAR, task_id VARCHAR, version BIGINT,"
        " sequence_number VARCHAR, is_deleted BOOLEAN, status VARCHAR, category VARCHAR,"
        " created_at TIMESTAMP, completed_at TIMESTAMP)"
    )
    con.executemany(
        "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, NULL, TIMESTAMP '2030-01-01', NULL)", rows
    )
    return con.execute(queries.load("views", "live_tasks")).fetchall()


def test_a_newer_version_from_a_second_stream_wins_over_a_higher_sequence_number() -> None:
    rows = [
        ("u", "t", 3, "0900", False, "pending"),  # old stream, high number
        ("u", "t", 4, "0100", False, "completed"),  # restored table's stream, low number
    ]
    assert [(r[0], r[1], r[2]) for r in _live(rows)] == [("u", "t", "completed")]


def test_a_delete_of_the_last_version_removes_the_task() -> None:
    rows = [
        ("u", "t", 2, "0100", False, "pending"),
        ("u", "t", 2, "0050", True, "pending"),  # the delete's old image: same version
    ]
    assert _live(rows) == []


def test_within_one_version_the_higher_sequence_number_wins() -> None:
    rows = [
        ("u", "t", 1, "0100", False, "pending"),
        ("u", "t", 1, "0200", False, "in_progress"),
    ]
    assert [r[2] for r in _live(rows)] == ["in_progress"]
