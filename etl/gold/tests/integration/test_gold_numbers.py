"""Gold numbers for the fixed workload, computed by hand (see conftest)."""

import awswrangler as wr
import pytest

from tests.conftest import AS_OF, at, fixed_workload
from todo_gold.pii import hmac_hex
from todo_local.stack import glue_job_arguments

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(local_stack):
    """One pipeline run shared by the read-only tests of this module."""
    from tests.conftest import Pipeline, empty_lake

    empty_lake(local_stack)
    pipeline = Pipeline(local_stack)
    pipeline.put(fixed_workload())
    pipeline.silver()
    pipeline.gold()
    return pipeline


@pytest.fixture
def gold(pipeline):
    pipeline.put(fixed_workload())
    pipeline.silver()
    pipeline.gold()
    return pipeline


def test_kpi_snapshot(built):
    [kpi] = built.table("kpi_snapshot", "snapshot_date")
    # Tasks a1, a2, b1 exist (a3 was deleted); a1 and b1 are completed; only
    # Bob changed a task in the 24 hours before as_of (day 3, 09:00).
    assert kpi["total_users"] == 2
    assert kpi["active_users"] == 1
    assert kpi["total_tasks"] == 3
    assert kpi["completed_tasks"] == 2
    assert kpi["completion_rate"] == pytest.approx(2 / 3)
    assert kpi["avg_tasks_per_user"] == pytest.approx(1.5)
    assert kpi["snapshot_date"] == "2025-03-03"
    assert kpi["as_of"] == AS_OF.replace(tzinfo=None)


def test_daily_task_metrics(built):
    rows = {r["metric_date"]: r for r in built.table("daily_task_metrics", "metric_date")}
    assert set(rows) == {"2025-03-01", "2025-03-02", "2025-03-03"}
    one, two, three = rows["2025-03-01"], rows["2025-03-02"], rows["2025-03-03"]
    assert (
        one["tasks_created"],
        one["tasks_completed"],
        one["tasks_deleted"],
        one["task_updates"],
    ) == (2, 1, 0, 1)
    assert one["daily_active_users"] == 1
    assert one["events"] == 3
    assert one["completions_per_creation"] == 0.5
    assert (
        two["tasks_created"],
        two["tasks_completed"],
        two["tasks_deleted"],
        two["task_updates"],
    ) == (2, 0, 1, 1)
    assert two["daily_active_users"] == 2
    assert two["events"] == 4
    assert two["completions_per_creation"] == 0.0
    assert (three["tasks_created"], three["tasks_completed"], three["events"]) == (0, 1, 1)
    assert three["completions_per_creation"] is None


def test_category_analytics(built):
    rows = {r["category"]: r for r in built.table("category_analytics", "category")}
    assert set(rows) == {"work", "home", "uncategorized"}
    assert (rows["work"]["total_tasks"], rows["work"]["completed_tasks"]) == (1, 1)
    assert rows["work"]["avg_hours_to_complete"] == pytest.approx(2.0)
    assert rows["home"]["completion_rate"] == 0.0
    assert rows["home"]["avg_hours_to_complete"] is None
    assert rows["uncategorized"]["avg_hours_to_complete"] == pytest.approx(25.0)


def test_user_analytics_with_hashed_email(built):
    alice, bob = built.table("user_analytics", "user_id")
    assert alice["user_id"] == "u-alice"
    key = built.pii_key()
    assert alice["name"] == hmac_hex(key, "Alice A")
    assert alice["email"] == hmac_hex(key, "alice@example.com")
    assert (alice["total_events"], alice["max_event_types"], alice["tasks_created"]) == (5, 3, 3)
    assert (alice["current_tasks"], alice["tasks_completed"], alice["completion_rate"]) == (
        2,
        1,
        0.5,
    )
    assert alice["first_seen"] == at(1, 9)
    assert alice["last_updated"] == at(2, 10)
    assert bob["name"] == hmac_hex(key, "Bob")
    assert bob["first_seen"] == at(2, 7)
    assert (bob["total_events"], bob["max_event_types"], bob["tasks_completed"]) == (3, 2, 1)
    types = wr.catalog.get_table_types(database=built.names.glue_database, table="user_analytics")
    assert types["first_seen"] == "bigint"
    assert types["last_updated"] == "bigint"


def test_email_and_name_in_clear_only_by_explicit_configuration(gold):
    gold.gold(pii_mode="clear")
    alice = gold.table("user_analytics", "user_id")[0]
    assert (alice["email"], alice["name"]) == ("Alice@Example.com", "Alice A")


def test_rerun_changes_nothing_and_new_data_only_adds(gold):
    tables = ("user_analytics", "daily_task_metrics", "category_analytics", "kpi_snapshot")
    keys = {
        "user_analytics": "user_id",
        "daily_task_metrics": "metric_date",
        "category_analytics": "category",
        "kpi_snapshot": "snapshot_date",
    }
    before = {t: gold.table(t, keys[t]) for t in tables}
    gold.gold()
    assert {t: gold.table(t, keys[t]) for t in tables} == before

    import random

    from todo_lake_testing import synthetic

    f = synthetic.EventFactory(first_sequence=10**30, rng=random.Random(3))
    b2 = synthetic.new_task("u-bob", "b2", at(3, 10), random.Random(3), category="home")
    gold.put([f.task_insert(b2, at(3, 10))], number=1)
    gold.silver()
    gold.gold()
    after = {t: gold.table(t, keys[t]) for t in tables}
    assert after["daily_task_metrics"][:2] == before["daily_task_metrics"][:2]
    assert after["daily_task_metrics"][2]["tasks_created"] == 1
    assert after["kpi_snapshot"][0]["total_tasks"] == 4
    assert {r["category"]: r["total_tasks"] for r in after["category_analytics"]}["home"] == 2


def test_the_module_runs_like_glue_runs_it(gold):
    import json
    import os
    import subprocess
    import sys

    names = gold.names
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "todo_gold.job",
            *glue_job_arguments(names, AS_OF="2025-03-03T12:00:00Z"),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [summary] = [
        json.loads(line) for line in result.stdout.splitlines() if "gold run complete" in line
    ]
    assert summary["kpis"]["total_tasks"] == 3
