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


# --- the header's edges, and what the client is told -------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('""', "the Idempotency-Key header is empty"),
        ("   ", "the Idempotency-Key header is empty"),
        ('abc"', "the Idempotency-Key must be visible ASCII characters"),
        ('"abc', "the Idempotency-Key must be visible ASCII characters"),
        ('"', "the Idempotency-Key must be visible ASCII characters"),
        ("a" * 256, "the Idempotency-Key is longer than 255 characters"),
        (f'"{"a" * 256}"', "the Idempotency-Key is longer than 255 characters"),
    ],
)
def test_malformed_keys_are_refused_with_their_reason(value: str, reason: str) -> None:
    with pytest.raises(MalformedIdempotencyKey) as info:
        parse_idempotency_key(value)
    assert str(info.value) == reason


def test_the_longest_key_is_255_characters() -> None:
    assert parse_idempotency_key("a" * 255) == "a" * 255
    assert parse_idempotency_key('"a"') == "a"


# --- what an idempotency record keeps ---------------------------------------------------------


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome(201, {"Location": "/tasks/t1"}, task_id="t1"),
        Outcome(412, problem="precondition-failed"),
        Outcome(204),
    ],
)
def test_an_outcome_survives_its_record(outcome: Outcome) -> None:
    assert Outcome.from_record(outcome.to_record()) == outcome


def test_a_record_holds_only_what_was_decided() -> None:
    assert Outcome(204).to_record() == {"status": 204, "headers": {}}
    assert Outcome(201, {"Location": "/tasks/t1"}, task_id="t1").to_record() == {
        "status": 201,
        "headers": {"Location": "/tasks/t1"},
        "task_id": "t1",
    }
    assert Outcome(404, problem="task-not-found").to_record() == {
        "status": 404,
        "headers": {},
        "problem": "task-not-found",
    }


def test_a_record_read_back_from_the_table_is_normalised() -> None:
    """DynamoDB gives numbers back as Decimal; a damaged field is dropped, not trusted."""
    from decimal import Decimal

    outcome = Outcome.from_record(
        {"status": Decimal("201"), "headers": {"Location": 5}, "task_id": 7, "problem": ["x"]}
    )
    assert outcome == Outcome(201, {"Location": "5"})
    assert Outcome.from_record({"status": "204"}) == Outcome(204)


def test_the_request_fingerprint_ignores_key_order_and_sees_every_part() -> None:
    from todo_api.idempotency import request_fingerprint

    a = {"method": "POST", "path": "/tasks", "if_match": None, "body": {"title": "é", "x": 1}}
    b = {"body": {"x": 1, "title": "é"}, "if_match": None, "path": "/tasks", "method": "POST"}
    assert request_fingerprint(a) == request_fingerprint(b)
    for part, other in [("method", "PUT"), ("path", "/tasks/1"), ("if_match", '"2"')]:
        assert request_fingerprint({**a, part: other}) != request_fingerprint(a)
    assert request_fingerprint({**a, "body": {"title": "e", "x": 1}}) != request_fingerprint(a)


#: The digest releases so far give for ``a`` below (sorted keys, compact JSON, UTF-8).
FINGERPRINT_OF_A = "a68b5b2e8d87d852b94eded75a1418e4c686cdcf90ec1b594f4e7ac74a3efd6d"


def test_the_request_fingerprint_is_the_same_in_every_release() -> None:
    """A retry that reaches a container of the next release must match the
    record the previous one wrote (else it is refused as a reused key)."""
    from todo_api.idempotency import request_fingerprint

    a = {"method": "POST", "path": "/tasks", "if_match": None, "body": {"title": "é", "x": 1}}
    assert request_fingerprint(a) == FINGERPRINT_OF_A


def test_a_create_claim_lasts_the_ttl_24_hours_by_default(monkeypatch: Any) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.5)
    claim = in_memory_idempotency().claim("u#1", "k", {"method": "POST"})
    assert claim.request_id == record_id("u#1", "k")
    assert claim.expires_at == 1_800_000_000 + 86_400
    assert in_memory_idempotency(ttl_seconds=60).claim("u", "k", {}).expires_at == (
        1_800_000_000 + 60
    )


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.mark.parametrize(
    ("context", "held_ms"),
    [(None, 30_000), (_Context(2_000), 2_000), (_Context(600_000), 30_000)],
)
def test_a_key_is_held_for_the_shorter_of_the_window_and_the_invocations_time(
    context: Any, held_ms: int
) -> None:
    """A request that dies holds its key no longer than it could have run."""
    import time

    idempotency = in_memory_idempotency()
    store = idempotency._store
    seen: list = []

    def operation() -> Outcome:
        (record,) = store.records.values()
        now = time.time()
        seen.append(
            (record.in_progress_expiry_timestamp - now * 1000, record.expiry_timestamp - now)
        )
        return Outcome(201, task_id="t")

    idempotency.run("u", "k", {"method": "POST"}, operation, lambda_context=context)

    held, kept = seen[0]
    assert held_ms - 1_000 < held <= held_ms
    assert 86_400 - 5 < kept <= 86_400, "the record itself lasts the TTL (24 h)"


def test_a_context_that_cannot_tell_its_remaining_time_holds_the_key_for_the_window() -> None:
    """Only a Lambda-like context shortens the hold; anything else is ignored."""
    import time

    idempotency = in_memory_idempotency(in_flight_seconds=5)
    store = idempotency._store
    held: list = []

    def operation() -> Outcome:
        (record,) = store.records.values()
        held.append(record.in_progress_expiry_timestamp - time.time() * 1000)
        return Outcome(204)

    idempotency.run("u", "k", {"method": "DELETE"}, operation, lambda_context=object())

    assert 4_000 < held[0] <= 5_000


def test_an_in_flight_window_counts_down_to_zero(monkeypatch: Any) -> None:
    """What Powertools asks the window for: the milliseconds left, never negative."""
    import time

    from todo_api.idempotency import InFlightWindow

    now = [1_000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    window = InFlightWindow(2_500)
    assert window.get_remaining_time_in_millis() == 2_500
    now[0] += 1.0
    assert window.get_remaining_time_in_millis() == 1_500
    now[0] += 1.5
    assert window.get_remaining_time_in_millis() == 0
    now[0] += 60.0
    assert window.get_remaining_time_in_millis() == 0


def test_record_ids_keep_their_layout() -> None:
    """A retry that reaches a container of the next release must find the record
    (and the create claim) the previous one wrote under this id."""
    assert record_id("u#1", "k%2") == "u%231#k%252"
    assert keys.idempotency_key(record_id("alice", "task-creation-123")) == {
        keys.PK: "IDEMPOTENCY#alice%23task-creation-123",
        keys.SK: "IDEMPOTENCY",
    }


def test_an_outcome_cannot_be_changed_once_decided() -> None:
    """The outcome a record keeps is the one the first response was built from."""
    import dataclasses

    outcome = Outcome(201, {"Location": "/tasks/t1"}, task_id="t1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.status = 500  # type: ignore[misc]


def _read_logs(capfd: Any) -> list:
    import json

    return [
        json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")
    ]


def test_a_failed_completion_write_answers_the_result_and_frees_the_key(capfd: Any) -> None:
    """The change was made: the caller gets its result, the in-progress marker is
    removed so a retry runs again, and the failure is logged for operators."""
    idempotency = in_memory_idempotency()
    store = idempotency._store
    store.fail_completions = 1
    fingerprint = {"method": "POST", "path": "/x", "body": None, "if_match": None}
    capfd.readouterr()

    outcome, replayed = idempotency.run("u", "k", fingerprint, lambda: Outcome(201, task_id="1"))

    assert (outcome, replayed) == (Outcome(201, task_id="1"), False)
    assert store.records == {}, "no marker left to answer 409 to the retry"
    (warning,) = [r for r in _read_logs(capfd) if r.get("level") == "WARNING"]
    assert warning["message"] == "could not store the outcome of an idempotent request"
    assert warning["component"] == "lambda-sync"
    assert "throttled" in warning["exception"]
    again, replayed = idempotency.run("u", "k", fingerprint, lambda: Outcome(201, task_id="2"))
    assert (again.task_id, replayed) == ("2", False)


def test_a_marker_that_cannot_be_removed_either_is_left_to_expire(capfd: Any) -> None:
    idempotency = in_memory_idempotency()
    store = idempotency._store
    store.fail_completions = 1

    def cannot_delete(data_record: Any) -> None:
        raise RuntimeError("still throttled")

    store._delete_record = cannot_delete
    capfd.readouterr()

    outcome, replayed = idempotency.run("u", "k", {"method": "POST"}, lambda: Outcome(204))

    assert (outcome, replayed) == (Outcome(204), False)
    (record,) = store.records.values()
    assert record.status == "INPROGRESS", "it expires with its in-flight window"
    warnings = [r for r in _read_logs(capfd) if r.get("level") == "WARNING"]
    assert [w["message"] for w in warnings] == [
        "could not store the outcome of an idempotent request",
        "could not remove the in-progress marker; it expires on its own",
    ]
    assert {w["component"] for w in warnings} == {"lambda-sync"}
    assert "still throttled" in warnings[1]["exception"]


def test_a_store_that_cannot_be_reached_is_a_store_error() -> None:
    """Told apart from the operation's own errors: the API answers 503 and the
    operation never ran."""
    from todo_api.idempotency import IdempotencyStoreError

    idempotency = in_memory_idempotency()

    def unreachable(data_record: Any) -> None:
        raise ConnectionError("endpoint unreachable")

    idempotency._store._put_record = unreachable
    with pytest.raises(IdempotencyStoreError):
        idempotency.run("u", "k", {"method": "POST"}, lambda: pytest.fail("must not run"))


def test_the_table_backed_idempotency_is_built_from_a_client_as_the_container_does(
    monkeypatch: Any,
) -> None:
    """The container's call, without touching AWS (building it makes no request)."""
    import time

    import boto3

    from todo_api.idempotency import Idempotency
    from todo_api.idempotency_store import TodoIdempotencyStore

    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="unit",
        aws_secret_access_key="unit",
    )
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.5)
    idempotency = Idempotency.dynamodb(
        client, "todo-app-data-unit", ttl_seconds=90_000, in_flight_seconds=10
    )
    assert isinstance(idempotency._store, TodoIdempotencyStore)
    assert idempotency._store.table_name == "todo-app-data-unit"
    assert idempotency.claim("u", "k", {}).expires_at == 1_800_000_000 + 90_000
