"""The bulk validator must agree with the contract model on every record."""

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_core import events
from todo_lake_testing import synthetic
from todo_silver.bronze import decompress
from todo_silver.parse import parse_change_events, reader_threads

VALID = list(synthetic.workload(2, 2, 2, 1735689600000, delete_every=2))

MUTATIONS = [
    lambda e: e.pop("event_id"),
    lambda e: e.update(event_id=""),
    lambda e: e.update(event_id=7),
    lambda e: e.update(event_name="UPSERT"),
    lambda e: e.update(entity_type="idempotency"),
    lambda e: e.update(user_id="someone-else"),
    lambda e: e.update(user_id=""),
    lambda e: e.update(sequence_number="12a"),
    lambda e: e.update(sequence_number="1" * 41),
    lambda e: e.update(sequence_number=123),
    lambda e: e.update(approximate_creation_time=-1),
    lambda e: e.update(approximate_creation_time="soon"),
    lambda e: e.update(schema_version=2),
    lambda e: e.pop("schema_version"),  # defaulted by the model: still valid
    lambda e: e.update(extra_field=1),
    lambda e: e.update(keys={**e["keys"], "GSI1PK": "x"}),
    lambda e: e.update(keys={"PK": "STATS#01", "SK": "COUNTERS"}),
    lambda e: e.update(new_image=None),
    lambda e: e.update(old_image=None),
    lambda e: e.update(keys="TASK#x"),
    lambda e: e["keys"].update(PK=e["keys"]["PK"] + "x"),
    lambda e: None,
]


def _line(event, mutation):
    event = json.loads(json.dumps(event))
    mutation(event)
    return json.dumps(event)


def _model_accepts(line):
    try:
        events.parse_json_line(line)
        return True
    except ValueError:
        return False


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(VALID) - 1), st.integers(0, len(MUTATIONS) - 1), st.booleans()
        ),
        min_size=1,
        max_size=12,
    )
)
def test_bulk_validation_agrees_with_the_model(picks):
    lines = []
    for index, mutation, garbage in picks:
        line = _line(VALID[index], MUTATIONS[mutation])
        lines.append("{not json" if garbage and mutation % 5 == 0 else line)
    data = ("\n".join(lines) + "\n").encode()
    result = parse_change_events(data)
    accepted = [json.loads(line)["event_id"] for line in lines if _model_accepts(line)]
    kept = [] if result.table is None else result.table.column("event_id").to_pylist()
    assert sorted(kept) == sorted(accepted)
    assert len(kept) + len(result.rejected) == len(lines)
    assert all(r.reason for r in result.rejected)


def test_rejected_records_keep_their_line_number_and_text():
    good = events.to_json_line(VALID[0])
    data = ("\n" + good + '{"event_id": "x"}\n\n' + good).encode()
    result = parse_change_events(data)
    assert result.table.num_rows == 2
    [bad] = result.rejected
    assert bad.line_number == 3
    assert bad.record == '{"event_id": "x"}'
    assert bad.reason.startswith("contract:")
    assert "event_name" in bad.reason


def test_invalid_json_is_quarantined_not_fatal():
    good = events.to_json_line(VALID[1])
    result = parse_change_events((good + "}{\n" + good).encode())
    assert result.table.num_rows == 2
    assert result.rejected[0].reason.startswith("invalid JSON")


def test_images_that_disagree_on_a_type_are_kept_apart():
    first = json.loads(json.dumps(VALID[1]))
    second = json.loads(json.dumps(VALID[2]))
    first["new_image"]["estimate"] = 3
    second["new_image"]["estimate"] = {"hours": 3}
    result = parse_change_events((json.dumps(first) + "\n" + json.dumps(second) + "\n").encode())
    assert (0 if result.table is None else result.table.num_rows) + len(result.rejected) == 2
    assert result.table is not None


def test_gzip_is_detected_by_magic_bytes():
    body = synthetic.encode(VALID[:3])
    assert decompress(gzip.compress(body)) == body
    assert decompress(body) == body
    assert parse_change_events(decompress(gzip.compress(body))).table.num_rows == 3


def test_empty_objects_have_no_events():
    assert parse_change_events(b"\n\n").table is None


@pytest.mark.parametrize(
    "body",
    [
        synthetic.encode(VALID),
        # The line-by-line path: a record pyarrow cannot read makes the object's bulk read fail.
        synthetic.encode(VALID[:2]) + b"}{\n" + synthetic.encode(VALID[2:]),
    ],
)
def test_the_readers_threading_does_not_change_the_rows(body):
    pooled, alone = parse_change_events(body, True), parse_change_events(body, False)
    assert alone.table is not None
    assert alone.table.equals(pooled.table)
    assert alone.rejected == pooled.rejected


def test_the_reader_uses_arrows_pool_only_when_parse_threads_leave_cores_idle():
    assert reader_threads(2, cores=2) is False  # a parse thread per core: the pool only competes
    assert reader_threads(4, cores=2) is False
    assert reader_threads(1, cores=2) is True
    assert reader_threads(2, cores=4) is True
