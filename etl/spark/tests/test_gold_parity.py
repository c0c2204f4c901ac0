"""For any event log, gold computed on Spark is gold computed on DuckDB: the
same catalog entries, the same files (gold names them after their content)
and the same rows, from the same silver.

Both engines run gold's one SQL (Spark after sqlglot transpiled it) and
write through gold's one writer; the event logs are generated so that what
the engines used to disagree on is exercised (seconds between timestamps
with millisecond fractions, mixed-case e-mails hashed, empty categories,
changes after ``as_of``, deletes)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from gold_support import AS_OF, GoldLake
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration

START_MS = int((AS_OF - dt.timedelta(days=40)).timestamp() * 1000)
#: Up to a few hours past as_of: changes the windows must leave out.
SPAN_MS = 41 * 86_400_000


@st.composite
def event_logs(draw):
    """Users signing up, and their tasks created, changed and deleted, in time order."""
    rng = random.Random(draw(st.integers(0, 10**6)))
    factory = synthetic.EventFactory(rng=rng)
    users = draw(st.integers(1, 3))
    times = sorted(draw(st.lists(st.integers(0, SPAN_MS), min_size=users + 1, max_size=25)))
    log, tasks, profiles = [], {}, set()
    for number, offset in enumerate(times):
        clock = START_MS + offset
        user_id = f"user-{draw(st.integers(0, users - 1))}"
        if user_id not in profiles and draw(st.booleans()):
            profile = {
                "user_id": user_id,
                "email": draw(
                    st.sampled_from([f" {user_id.upper()}@Example.COM", f"{user_id}@x.io"])
                ),
                "given_name": draw(st.sampled_from(["Ann", "José", None])),
                "family_name": draw(st.sampled_from(["Ö", None])),
                "created_at": synthetic.iso(clock),
                "last_seen_at": synthetic.iso(clock),
            }
            log.append(factory.user_insert(profile, clock))
            profiles.add(user_id)
            continue
        mine = [key for key in tasks if key[0] == user_id]
        action = (
            draw(st.sampled_from(["create", "modify", "modify", "remove"])) if mine else "create"
        )
        if action == "create":
            task = synthetic.new_task(
                user_id,
                f"task-{number}",
                clock,
                rng,
                category=draw(st.sampled_from(["work", "home", None])),
                status=draw(st.sampled_from(["pending", "completed"])),
            )
            log.append(factory.task_insert(task, clock))
            tasks[(user_id, task["task_id"])] = task
            continue
        key = draw(st.sampled_from(sorted(mine)))
        before = tasks[key]
        if action == "modify":
            after = synthetic.updated(
                before, {"status": draw(st.sampled_from(synthetic.TASK_STATUSES))}, clock
            )
            log.append(factory.task_modify(before, after, clock))
            tasks[key] = after
        else:
            log.append(factory.task_remove(before, clock))
            del tasks[key]
    return log


@pytest.fixture(scope="module")
def gold_lake(local_stack, spark, tmp_path_factory):
    return GoldLake(local_stack, spark, str(tmp_path_factory.mktemp("lake")))


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(log=event_logs())
def test_spark_gold_equals_duckdb_gold(gold_lake, log):
    gold_lake.empty()
    gold_lake.put(log)
    gold_lake.silver()

    gold_lake.gold("duckdb")
    duckdb = gold_lake.gold_state()
    gold_lake.empty_gold()
    gold_lake.gold("spark")
    spark = gold_lake.gold_state()

    assert spark.rows == duckdb.rows
    assert spark.catalog == duckdb.catalog
    assert spark.keys == duckdb.keys
    assert duckdb.rows["kpi_snapshot"]  # something was computed
