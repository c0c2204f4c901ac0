"""The largest current state a 1 GiB worker merges: one creation-day partition
of ``tasks`` holding N tasks, and one change to one of them. The job merges
the whole partition (read, reduce, write), so its peak RSS grows with N; the
largest N under 1 GiB is the limit the package README states.

    python benchmarks/state_limit.py --tasks 500000 1000000 2000000

Used by ``run.py``; each size is measured in a fresh silver (the emulator's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
from typing import Any, Dict, List, Sequence, Tuple

import pyarrow as pa

from todo_core import lake
from todo_lake.silver_schema import STATE_PARTITION, arrow_schema, table_columns
from todo_lake.store import LakeStore
from todo_lake_testing import synthetic
from todo_lake_testing.bench import run_child

DAY = dt.datetime(2025, 1, 15, tzinfo=dt.timezone.utc)


def state_rows(n: int) -> pa.Table:
    """``n`` task state rows created on :data:`DAY`, typed as silver's ``tasks``."""
    columns = {k: v for k, v in table_columns(lake.SILVER_TASKS).items() if k != STATE_PARTITION}
    schema = arrow_schema(columns)
    created = [DAY.replace(tzinfo=None) + dt.timedelta(seconds=i % 86_400) for i in range(n)]
    values: Dict[str, Any] = {
        "user_id": [f"user-{i // 25:07d}" for i in range(n)],
        "task_id": [f"0190d2c4-{i:012d}-7000-8000-{i * 7919 % 10**12:012d}" for i in range(n)],
        "sequence_number": [str(10**20 + i).zfill(40) for i in range(n)],
        "last_event_time": created,
        "is_deleted": [False] * n,
        "deleted_at": [None] * n,
        "title": [f"Task number {i} to do" for i in range(n)],
        "description": [f"Something that task {i} is about, in a sentence" for i in range(n)],
        "status": [("pending", "in_progress", "completed")[i % 3] for i in range(n)],
        "priority": [("low", "medium", "high")[i % 3] for i in range(n)],
        "category": [("work", "home", "learning", "health")[i % 4] for i in range(n)],
        "due_date": [None] * n,
        "created_at": created,
        "updated_at": created,
        "completed_at": [c if i % 3 == 2 else None for i, c in enumerate(created)],
        "version": [1] * n,
    }
    return pa.table(
        {name: pa.array(values[name], schema.field(name).type) for name in schema.names}
    )


def one_change(root: str) -> None:
    """Bronze with one MODIFY of the partition's first task."""
    rng = random.Random(1)
    at = int(DAY.timestamp() * 1000)
    task = synthetic.new_task(
        "user-0000000", "0190d2c4-000000000000-7000-8000-000000000000", at, rng
    )
    after = synthetic.updated(task, {"status": "completed"}, at + 3_600_000)
    event = synthetic.EventFactory(first_sequence=10**21, rng=rng).task_modify(
        task, after, at + 3_600_000
    )
    key = synthetic.object_key(at + 3_600_000, 0)
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(synthetic.encode([event]))


def measure(
    job: Sequence[str], env: Dict[str, str], silver: LakeStore, n: int
) -> Tuple[float, int]:
    """Peak RSS (MiB) of a run merging one change into a partition of ``n`` tasks; its bytes."""
    for table in lake.SILVER_TABLES:
        silver.drop_table(table)
    silver.delete_keys(silver.list_keys(lake.STATE_PREFIX))
    silver.write_partitions(
        lake.SILVER_TASKS, STATE_PARTITION, [(f"{DAY:%Y-%m-%d}", state_rows(n))]
    )
    size = sum(silver.file_size(k) for k in silver.data_files(lake.SILVER_TASKS))
    measured = run_child(job, env=env)
    summary = next(
        json.loads(line) for line in measured.stdout.splitlines() if '"silver run complete"' in line
    )
    assert summary["counts"]["tasks_written"] == 1, summary
    return measured.peak_rss_mib, size


def limit_rows(
    sizes: Sequence[int], names: Any, env: Dict[str, str]
) -> List[Tuple[int, float, int]]:
    """``[(tasks, peak RSS MiB, Parquet bytes)]`` per size."""
    from todo_local.stack import glue_job_arguments

    silver = LakeStore(names.silver_bucket, names.glue_database)
    out = []
    with tempfile.TemporaryDirectory(prefix="silver-state-") as root:
        one_change(root)
        job = [
            sys.executable,
            "-m",
            "todo_silver.job",
            *glue_job_arguments(names, BRONZE_BUCKET=f"file://{root}", PUBLISH_METRICS="false"),
        ]
        for n in sizes:
            rss, size = measure(job, env, silver, n)
            print(
                f"state limit: {n:,} tasks in one partition "
                f"({size / 2**20:,.0f} MiB Parquet): peak RSS {rss:,.0f} MiB",
                flush=True,
            )
            out.append((n, rss, size))
    return out


def main() -> int:
    from todo_local.emulator import Emulator, client_environment
    from todo_local.stack import provision

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, nargs="+", default=[500_000, 1_000_000, 2_000_000])
    args = parser.parse_args()
    with Emulator() as emulator:
        env = client_environment(emulator.endpoint_url)
        os.environ.update(env)
        names = provision(emulator.endpoint_url).names
        limit_rows(args.tasks, names, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
