"""Silver on Spark against silver on the single worker, in the same run.

Both engines run as child processes on the same generated bronze and write
the same kind of lake: a ``file://`` directory of buckets (the Spark job's
``--LAKE_ROOT``; the single-worker job is given the same directory through
its bronze source and lake store), with the catalog in the local emulator.
So neither pays for the emulator's S3 and the two write the same bytes.
Runs alternate (single worker, Spark, Spark, single worker, ...) so both see
the same machine. Measured per run: the job's own run time (from its
``silver run complete`` line, the interpreter's and the JVM's start-up
excluded), the process tree's peak RSS (the sum over the job, the JVM and
Spark's Python workers, sampled every 0.2 s) and the largest single process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from todo_lake_testing.bench import Row, bronze_directory

SINGLE_WORKER = r"""
import sys
from todo_lake.store import LakeStore
from todo_lake.observability import run_logged
from todo_lake_spark.lake_root import LocalBucketClient
from todo_silver.bronze import LocalSource
from todo_silver.job import SilverJob
from todo_silver.settings import SilverSettings
root, argv = sys.argv[1], sys.argv[2:]
settings = SilverSettings.from_argv(argv)
store = LakeStore(settings.silver_bucket, settings.database_name, s3_client=LocalBucketClient(root))
job = SilverJob(settings, source=LocalSource(root + "/" + settings.bronze_bucket), store=store)
sys.exit(run_logged("silver", job.run))
"""


def _tree(pid: int) -> List[int]:
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Run:
    seconds: float
    events: int
    tree_mib: float
    largest_mib: float
    phases: Dict[str, float]


def run_job(args: Sequence[str], env: Dict[str, str]) -> Run:
    proc = subprocess.Popen(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env}
    )
    peak = {"tree": 0.0, "largest": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            sizes = [_rss_mib(p) for p in _tree(proc.pid)]
            peak["tree"] = max(peak["tree"], sum(sizes))
            peak["largest"] = max(peak["largest"], max(sizes, default=0.0))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} failed:\n{err.decode()[-3000:]}")
    summary = next(
        json.loads(line) for line in out.decode().splitlines() if '"silver run complete"' in line
    )
    return Run(
        summary["seconds"],
        summary["counts"]["events_read"],
        peak["tree"],
        peak["largest"],
        summary["phase_seconds"],
    )


def measure(
    events: int, repeat: int, data_dir: str, names: object, env: Dict[str, str]
) -> Dict[str, List[Run]]:
    """``repeat`` runs of each engine over ``events`` generated events (full refreshes)."""
    from todo_local.stack import glue_job_arguments

    data = bronze_directory(
        os.path.join(data_dir, f"bronze-{events}") if data_dir else None,
        events,
        "silver-spark-bench-",
    )
    root = tempfile.mkdtemp(prefix="silver-spark-lake-")
    try:
        os.symlink(data, os.path.join(root, names.bronze_bucket))  # type: ignore[attr-defined]
        arguments = glue_job_arguments(names, PUBLISH_METRICS="false", FULL_REFRESH="true")  # type: ignore[arg-type]
        single = [sys.executable, "-c", SINGLE_WORKER, root, *arguments]
        spark = [
            sys.executable,
            "-m",
            "todo_lake_spark.silver_job",
            *arguments,
            "--LAKE_ROOT",
            f"file://{root}",
        ]
        runs: Dict[str, List[Run]] = {"single": [], "spark": []}
        order: List[Tuple[str, List[str]]] = []
        for attempt in range(repeat):
            pair = [("single", single), ("spark", spark)]
            order += pair if attempt % 2 == 0 else pair[::-1]
        for engine, command in order:
            run = run_job(command, env)
            runs[engine].append(run)
            rate = run.events / run.seconds
            print(
                f"{events:,} events, {engine}: {run.seconds:.1f}s ({rate:,.0f} ev/s), tree "
                f"{run.tree_mib:,.0f} MiB, largest process {run.largest_mib:,.0f} MiB; "
                f"{run.phases}",
                flush=True,
            )
        return runs
    finally:
        shutil.rmtree(root, ignore_errors=True)


def rows(
    sizes: Sequence[int], repeat: Sequence[int], data_dir: str, names: object, env: Dict[str, str]
) -> Tuple[List[Row], List[str]]:
    import statistics

    out: List[Row] = []
    slopes: List[Tuple[int, float, float, float]] = []
    for number, events in enumerate(sizes):
        runs = measure(events, repeat[min(number, len(repeat) - 1)], data_dir, names, env)
        single = [r.events / r.seconds for r in runs["single"]]
        spark = [r.events / r.seconds for r in runs["spark"]]
        base = statistics.median(single)
        label = f"{events:,} events"
        out += [
            Row(f"silver, single worker (DuckDB/Arrow), {label}: events/s", single, "ev/s", base),
            Row(
                f"silver, local Spark (local[2], 1 GiB driver), {label}: events/s",
                spark,
                "ev/s",
                base,
            ),
            Row(
                f"silver, single worker, {label}: peak RSS",
                [r.tree_mib for r in runs["single"]],
                "MiB",
            ),
            Row(
                f"silver, local Spark, {label}: peak RSS of the process tree "
                "(job + JVM + Python workers)",
                [r.tree_mib for r in runs["spark"]],
                "MiB",
            ),
            Row(
                f"silver, local Spark, {label}: peak RSS of the largest process",
                [r.largest_mib for r in runs["spark"]],
                "MiB",
            ),
        ]
        slopes.append(
            (
                events,
                statistics.median(r.seconds for r in runs["single"]),
                statistics.median(r.seconds for r in runs["spark"]),
                statistics.median(r.tree_mib for r in runs["spark"]),
            )
        )
    notes = [
        "Silver on Spark (`todo_lake_spark.silver_job`) against the single-worker job "
        "(`todo_silver.job`) in the same run, alternating, on the same generated bronze (the "
        "silver benchmark's events), both writing a `file://` lake with the catalog in the local "
        "emulator; full refreshes. Events/s use the job's own run time (interpreter and JVM "
        "start-up excluded); the ratio column is against the single worker's median at the same "
        "size. Peak RSS is sampled over the job's process tree every 0.2 s.",
    ]
    if len(slopes) >= 2:
        (n0, s0, k0, m0), (n1, s1, k1, m1) = slopes[0], slopes[-1]
        per_million = 1e6 / (n1 - n0)
        notes.append(
            f"Slope from {n0:,} to {n1:,} events: single worker {(s1 - s0) * per_million:.1f} s "
            f"per million more events, local Spark {(k1 - k0) * per_million:.1f} s per million; "
            f"Spark's process tree {(m1 - m0) * per_million:,.0f} MiB more per million events "
            f"(from {m0:,.0f} MiB)."
        )
    return out, notes
