"""The Arrow transform must give exactly the rows the SQL gives, or decline."""

import json
import random

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_lake_testing import synthetic
from todo_silver import arrow_transform, tables
from todo_silver.parse import parse_change_events
from todo_silver.sql_transform import (
    drop_empty_columns,
    latest_sql,
    task_events_sql,
    task_state_sql,
    users_sql,
)
from todo_silver.workspace import Workspace

START = 1735689600000
KEY = ("user_id", "task_id", "sequence_number")


def _table(events_):
    return parse_change_events(synthetic.encode(events_)).table


def _sql_rows(table):
    with Workspace(128) as ws:
        ws.register("ev", table)
        sql, extras = task_events_sql(table)
        return drop_empty_columns(ws.query(sql), extras)


def _normal(table):
    table = table.set_column(
        table.column_names.index("changed_fields"),
        "changed_fields",
        table.column("changed_fields").cast(pa.list_(pa.string())),
    )
    return table


def _same(by_arrow, by_sql):
    assert by_arrow is not None
    by_arrow, by_sql = _normal(by_arrow), _normal(by_sql)
    assert by_arrow.schema == by_sql.schema
    key = lambda r: tuple(str(r[k]) for k in KEY)  # noqa: E731
    assert sorted(by_arrow.to_pylist(), key=key) == sorted(by_sql.to_pylist(), key=key)


def _history(seed, users=3, tasks=4, updates=3, **fields):
    rng = random.Random(seed)
    factory = synthetic.EventFactory(rng=random.Random(seed + 1))
    out = []
    clock = START
    for u in range(users):
        user = {
            "user_id": f"u#{u}%",
            "email": f"{u}@example.com",
            "created_at": synthetic.iso(clock),
        }
        out.append(factory.user_insert(user, clock))
        for t in range(tasks):
            clock += rng.randint(1, 10**8)
            task = synthetic.new_task(
                user["user_id"],
                f"t%{u}#{t}",
                clock,
                rng,
                **fields,
                description=rng.choice([None, "d"]),
                due_date=rng.choice([None, "2025-03-01"]),
            )
            task = {k: v for k, v in task.items() if v is not None}
            out.append(factory.task_insert(task, clock))
            for _ in range(updates):
                clock += rng.randint(1, 10**7)
                changes = rng.choice(
                    [
                        {"status": rng.choice(synthetic.TASK_STATUSES)},
                        {"title": "x" + str(rng.random())},
                        {"category": rng.choice(["work", "home"])},
                        {},
                    ]
                )
                after = synthetic.updated(task, changes, clock)
                out.append(factory.task_modify(task, after, clock))
                task = after
            if rng.random() < 0.4:
                out.append(factory.task_remove(task, clock + 1))
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 4), st.integers(0, 4))
def test_arrow_rows_equal_the_sql_rows(seed, tasks, updates):
    events_ = _history(seed, tasks=tasks, updates=updates)
    rng = random.Random(seed)
    rng.shuffle(events_)
    table = _table(events_)
    _same(arrow_transform.task_events(table), _sql_rows(table))


def test_the_benchmark_shape_is_transformed_by_arrow():
    table = _table(list(synthetic.workload(3, 5, 3, START, delete_every=4)))
    _same(arrow_transform.task_events(table), _sql_rows(table))


def test_only_inserts_and_only_removes():
    events_ = _history(1, updates=0)
    inserts = [e for e in events_ if e["event_name"] == "INSERT"]
    removes = [e for e in events_ if e["event_name"] == "REMOVE"]
    for subset in (inserts, removes):
        table = _table(subset)
        _same(arrow_transform.task_events(table), _sql_rows(table))


def _mutated(mutate):
    events_ = _history(2, users=1, tasks=2, updates=1)
    lines = [json.loads(json.dumps(e)) for e in events_]
    for e in lines:
        if e["entity_type"] == "task" and e["new_image"]:
            mutate(e["new_image"])
    return _table(lines)


def test_unusual_images_are_declined_for_the_sql():
    cases = [
        lambda image: image.update(estimate=3),  # unknown attribute
        lambda image: image.update(version=1.5),  # a number of another type
        lambda image: image.update(created_at="2025-01-01T00:00:00+02:00"),  # not UTC text
        lambda image: image.update(created_at="yesterday"),
        lambda image: image.update(due_date="soon"),
        lambda image: image.update(email="task@example.com"),  # a user attribute on a task
    ]
    for mutate in cases:
        assert arrow_transform.task_events(_mutated(mutate)) is None


def test_latest_equals_the_sql():
    events_ = _history(5, tasks=3, updates=3)
    events_ += events_[:5]  # duplicates
    random.Random(5).shuffle(events_)
    rows = _sql_rows(_table(events_))
    state = arrow_transform.task_state_rows(rows)
    with Workspace(128) as ws:
        ws.register("rows", rows)
        expected = ws.query(latest_sql(f"({task_state_sql('rows')})", ("user_id", "task_id")))
    got = arrow_transform.latest(state, ("user_id", "task_id"))
    assert got.schema == expected.schema
    key = lambda r: (r["user_id"], r["task_id"])  # noqa: E731
    assert sorted(got.to_pylist(), key=key) == sorted(expected.to_pylist(), key=key)


def test_user_states_equal_the_sql():
    events_ = _history(7, users=4, tasks=2, updates=1)
    rng = random.Random(7)
    for e in [e for e in events_ if e["entity_type"] == "user"]:
        later = dict(e, event_name="MODIFY", old_image=e["new_image"])
        later["sequence_number"] = str(int(e["sequence_number"]) + rng.randint(1, 5))
        later["new_image"] = dict(e["new_image"], last_seen_at=synthetic.iso(START + 10**6))
        events_.append(later)
    rng.shuffle(events_)
    table = _table(events_)
    got = arrow_transform.user_states(table)
    users = table.filter(pa.compute.equal(table.column("entity_type"), "user"))
    with Workspace(128) as ws:
        ws.register("ev", users)
        sql, extras = users_sql(users)
        expected = drop_empty_columns(ws.query(latest_sql(f"({sql})", ("user_id",))), extras)
    assert got.schema == expected.schema
    key = lambda r: r["user_id"]  # noqa: E731
    assert sorted(got.to_pylist(), key=key) == sorted(expected.to_pylist(), key=key)
    assert (
        arrow_transform.user_states(
            _table([e for e in events_ if e["entity_type"] == "task"])
        ).num_rows
        == 0
    )


def test_split_by_slices_runs_and_filters_the_rest():
    table = pa.table({"p": ["a", "a", "b", "a", "c", "c"], "x": [1, 2, 3, 4, 5, 6]})
    got = {v: t.column("x").to_pylist() for v, t in tables.split_by(table, "p")}
    assert got == {"a": [1, 2, 4], "b": [3], "c": [5, 6]}
    many = pa.table({"p": [str(i % 2) for i in range(1000)], "x": list(range(1000))})
    got = {v: t.num_rows for v, t in tables.split_by(many, "p")}
    assert got == {"0": 500, "1": 500}


def test_first_per_key_keeps_the_lowest_order():
    table = pa.table({"k": ["a", "b", "a", "a"], "o": ["2", "1", "1", "1"], "i": [0, 1, 2, 3]})
    assert tables.first_per_key(table.slice(0, 2), ["k"], ["o", "i"]) is None
    got = tables.first_per_key(table, ["k"], ["o", "i"])
    assert sorted(got.column("i").to_pylist()) == [1, 2]
