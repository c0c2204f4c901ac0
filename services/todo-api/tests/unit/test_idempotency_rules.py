"""Idempotency-Key parsing, caller scoping, and the in-flight rule."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes import in_memory_idempotency
from todo_api.idempotency import (
    IdempotencyConflict,
    IdempotencyKeyReused,
    MalformedIdempotencyKey,
    Outcome,
    parse_idempotency_key,
    record_id,
)
from todo_core import keys

VISIBLE = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='"\\'),
    min_size=1,
    max_size=255,
)


@given(VISIBLE)
def test_bare_and_quoted_keys_parse_to_the_same_key(key: str) -> None:
    assert parse_idempotency_key(key) == key
    assert parse_idempotency_key(f'"{key}"') == key
    assert parse_idempotency_key(f"  {key}\t") == key


@given(st.text(min_size=1, max_size=300))
def test_any_header_value_parses_or_is_malformed(value: str) -> None:
    try:
        key = parse_idempotency_key(value)
    except MalformedIdempotencyKey:
        return
    assert key is not None
    assert 1 <= len(key) <= 255
    assert key.isascii()


def test_absent_header_means_no_idempotency() -> None:
    assert parse_idempotency_key(None) is None


@given(st.text(min_size=1), st.text(min_size=1), st.text(min_size=1), st.text(min_size=1))
def test_record_ids_never_collide_across_users(
    user_a: str, key_a: str, user_b: str, key_b: str
) -> None:
    if (user_a, key_a) != (user_b, key_b):
        assert keys.idempotency_key(record_id(user_a, key_a)) != keys.idempotency_key(
            record_id(user_b, key_b)
        )


def test_records_use_the_single_table_key_format() -> None:
    item_key = keys.idempotency_key(record_id("user#1", "task-creation-123"))
    assert item_key[keys.PK].startswith(keys.IDEMPOTENCY_PREFIX)
    assert keys.entity_of(item_key) is None  # bookkeeping, never a lake entity


def test_second_request_while_the_first_is_in_flight_is_a_conflict() -> None:
    idempotency = in_memory_idempotency()
    started, release = threading.Event(), threading.Event()
    results: list = []

    def slow() -> Outcome:
        started.set()
        release.wait(5)
        return Outcome(201, {"location": "/x/1"}, task_id="1")

    fingerprint = {"method": "POST", "path": "/x", "body": {"title": "a"}, "if_match": None}
    first = threading.Thread(
        target=lambda: results.append(idempotency.run("u", "k", fingerprint, slow))
    )
    first.start()
    assert started.wait(5)
    with pytest.raises(IdempotencyConflict):
        idempotency.run("u", "k", fingerprint, lambda: Outcome(201, task_id="2"))
    # A different payload under the same key, even in flight, is a misuse (422).
    with pytest.raises(IdempotencyKeyReused):
        idempotency.run("u", "k", {**fingerprint, "body": {"title": "b"}}, slow)
    release.set()
    first.join(5)
    outcome, replayed = results[0]
    assert outcome.status == 201
    assert not replayed
    again, replayed = idempotency.run(
        "u", "k", fingerprint, lambda: pytest.fail("must not run again")
    )  # type: ignore[no-any-return]
    assert replayed
    assert again == outcome


def test_in_flight_marker_of_a_dead_request_expires(monkeypatch: Any) -> None:
    idempotency = in_memory_idempotency(in_flight_seconds=1)
    store = idempotency._store
    fingerprint = {"method": "POST", "path": "/x", "body": None, "if_match": None}

    class Crash(BaseException):
        """Like a Lambda timeout: the process dies, nothing is cleaned up."""

    def die() -> Outcome:
        raise Crash()

    with pytest.raises(Crash):
        idempotency.run("u", "dead", fingerprint, die)
    record = next(iter(store.records.values()))
    assert record.status == "INPROGRESS"
    record.in_progress_expiry_timestamp = 0  # its deadline has passed
    result, replayed = idempotency.run("u", "dead", fingerprint, lambda: Outcome(201, task_id="3"))
    assert result.status == 201
    assert not replayed
