"""Gold refuses to publish when its input collapses against the last snapshot
without matching deletes; deletes explain a fall; an override allows a reset."""

import random

import boto3
import pytest

from tests.conftest import AS_OF, at, fixed_workload
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration


def empty_silver(names):
    """What an interrupted refresh or a wrong bucket looks like to gold."""
    s3 = boto3.resource("s3")
    s3.Bucket(names.silver_bucket).objects.all().delete()


@pytest.fixture
def published(pipeline):
    pipeline.put(fixed_workload())
    pipeline.silver()
    pipeline.gold()
    return pipeline


def test_a_collapsed_input_fails_the_run_and_publishes_nothing(published, capsys):
    from todo_gold.collapse_guard import InputCollapsed
    from todo_gold.job import main

    before = published.table("kpi_snapshot", "snapshot_date")
    users = published.table("user_analytics", "user_id")
    empty_silver(published.names)
    with pytest.raises(InputCollapsed, match=r"total_tasks 0 < 1\.5 .*ALLOW_INPUT_COLLAPSE"):
        published.gold()
    # Through the job's entry point too: an ERROR line, and the run fails.
    args = [
        "--SILVER_BUCKET", published.names.silver_bucket,
        "--GOLD_BUCKET", published.names.gold_bucket,
        "--DATABASE_NAME", published.names.glue_database,
        "--AS_OF", AS_OF.isoformat(),
        "--PUBLISH_METRICS", "false",
        "--STAGE", published.names.stage,
        "--PII_HMAC_SECRET_ID", published.names.pii_hmac_secret,
    ]  # fmt: skip
    with pytest.raises(InputCollapsed):
        main(args)
    assert '"level": "ERROR"' in capsys.readouterr().out
    assert published.table("kpi_snapshot", "snapshot_date") == before
    assert published.table("user_analytics", "user_id") == users


def test_the_override_publishes_a_deliberate_reset(published):
    empty_silver(published.names)
    published.gold(allow_input_collapse=True)
    [kpi] = published.table("kpi_snapshot", "snapshot_date")
    assert (kpi["total_tasks"], kpi["total_users"]) == (0, 0)


def test_deletes_since_the_last_snapshot_explain_a_fall(pipeline):
    """Two of three tasks deleted after the snapshot: not a collapse."""
    rng = random.Random(5)
    f = synthetic.EventFactory(rng=rng)
    user = {"user_id": "u-z", "email": "z@example.com", "created_at": synthetic.iso(at(1, 1))}
    tasks = [synthetic.new_task("u-z", f"t{i}", at(1, 2), rng) for i in range(3)]
    pipeline.put([f.user_insert(user, at(1, 1))] + [f.task_insert(t, at(1, 2)) for t in tasks])
    pipeline.silver()
    pipeline.gold(as_of=AS_OF.replace(day=1, hour=12))
    pipeline.put([f.task_remove(t, at(2, 3)) for t in tasks[:2]], number=1)
    pipeline.silver()
    pipeline.gold()
    kpis = pipeline.table("kpi_snapshot", "snapshot_date")
    assert [k["total_tasks"] for k in kpis] == [3, 1]
