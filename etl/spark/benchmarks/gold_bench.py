"""Gold on Spark against gold on DuckDB, in the same run, over the same silver.

    python benchmarks/run.py --gold-events 1000000 ...     (with silver's rows)
    python benchmarks/gold_bench.py --out benchmarks/RESULTS.md --events 1000000 ...

Setup (not measured): generated bronze (local files) -> the Python-shell
silver job -> silver in the local emulator's S3, then mirrored into a local
lake root for Spark (locally Spark has no S3). Measured, alternating
(DuckDB, Spark, Spark, DuckDB, ...), each into an emptied gold:

* ``python -m todo_gold.job`` (DuckDB engine): silver fetched from the
  emulator's S3, the SQL, gold and its catalog written;
* ``python -m todo_lake_spark.gold_job --LAKE_ROOT file://...``: a local
  Spark (2 cores, as the machine has) reading the same silver from local
  files, the same SQL transpiled, the same writer.

Each run's rate is silver rows over the job's own run time (``seconds`` in
its log line); the whole process (interpreter, imports, and for Spark the
JVM's start) is a row of its own, and so is the peak memory of the process
with its children (the JVM), sampled every 50 ms from /proc.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Sequence, Tuple

from todo_lake_testing.bench import Row, bronze_directory, empty_gold, run_child, write_fragment
from todo_local.emulator import Emulator, client_environment
from todo_local.stack import glue_job_arguments, provision

AS_OF = "2025-02-01T00:00:00+00:00"


def _children(pid: int) -> List[int]:
    found: List[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(p) for p in handle.read().split()]
    return found


def _rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tree_rss_mib(pid: int) -> float:
    """The resident memory of ``pid`` and all its descendants (the JVM of a Spark job)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_kib(current)
        todo += _children(current)
    return total / 1024


def run_tree(args: Sequence[str], env: Dict[str, str]) -> Tuple[float, float, str]:
    """Run a job; its wall time, the peak RSS of its process tree, its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env}
    )
    out: List[bytes] = []
    err: List[bytes] = []
    readers = [
        threading.Thread(target=lambda: out.append(proc.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.append(proc.stderr.read())),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mib(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    for reader in readers:
        reader.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{b''.join(err).decode()[-3000:]}")
    return elapsed, peak, b"".join(out).decode()


def rows(
    sizes: Sequence[int], repeat: int, data_dir: str = "", driver_memory: str = "2g"
) -> Tuple[List[Row], List[str]]:
    """The gold rows at each size (each size in an emulator of its own)."""
    out: List[Row] = []
    for events in sizes:
        data = bronze_directory(
            os.path.join(data_dir, f"bronze-{events}") if data_dir else None,
            events,
            "spark-gold-bench-",
        )
        lake_dir = tempfile.mkdtemp(prefix="spark-gold-bench-lake-")
        with Emulator() as emulator:
            env = client_environment(emulator.endpoint_url)
            os.environ.update(env)
            names = provision(emulator.endpoint_url).names
            print(f"{events:,} events: building silver (not measured) ...", flush=True)
            run_child(
                [
                    sys.executable,
                    "-m",
                    "todo_silver.job",
                    *glue_job_arguments(
                        names, BRONZE_BUCKET=f"file://{data}", PUBLISH_METRICS="false"
                    ),
                ],
                env=env,
            )
            import boto3

            from todo_lake_spark.gold_lake import mirror_bucket
            from todo_lake_spark.lake_root import LakeRoot

            mirror_bucket(boto3.client("s3"), names.silver_bucket, LakeRoot(lake_dir))
            common = glue_job_arguments(names, PUBLISH_METRICS="false", AS_OF=AS_OF)
            jobs = {
                "duckdb": [sys.executable, "-m", "todo_gold.job", *common],
                "spark": [
                    sys.executable,
                    "-m",
                    "todo_lake_spark.gold_job",
                    *common,
                    "--LAKE_ROOT",
                    f"file://{lake_dir}",
                    "--SPARK_DRIVER_MEMORY",
                    driver_memory,
                ],
            }
            rate: Dict[str, List[float]] = {"duckdb": [], "spark": []}
            process: Dict[str, List[float]] = {"duckdb": [], "spark": []}
            rss: Dict[str, List[float]] = {"duckdb": [], "spark": []}
            input_rows = 0
            for attempt in range(repeat):
                order = ("duckdb", "spark") if attempt % 2 == 0 else ("spark", "duckdb")
                for engine in order:
                    empty_gold(names.gold_bucket, names.glue_database)
                    seconds, peak, stdout = run_tree(jobs[engine], env)
                    summary = next(
                        json.loads(line)
                        for line in stdout.splitlines()
                        if '"gold run complete"' in line
                    )
                    input_rows = summary["input_rows"]
                    rate[engine].append(input_rows / summary["seconds"])
                    process[engine].append(seconds)
                    rss[engine].append(peak)
                    print(
                        f"{events:,} events, run {attempt + 1}, {engine}: {input_rows:,} rows, "
                        f"job {summary['seconds']:.2f}s, process {seconds:.2f}s, "
                        f"peak RSS {peak:,.0f} MiB",
                        flush=True,
                    )
        shutil.rmtree(lake_dir, ignore_errors=True)
        if not data_dir:
            shutil.rmtree(data, ignore_errors=True)
        baseline = statistics.median(rate["duckdb"])
        size = f"{events:,} events ({input_rows:,} silver rows)"
        out += [
            Row(f"gold, DuckDB engine, {size}: silver rows/s", rate["duckdb"], "rows/s", baseline),
            Row(
                f"gold, local Spark (local[2], {driver_memory} driver), {size}: silver rows/s",
                rate["spark"],
                "rows/s",
                baseline,
            ),
            Row(f"gold, DuckDB engine, {size}: whole process", process["duckdb"], "s"),
            Row(
                f"gold, local Spark, {size}: whole process (JVM start included)",
                process["spark"],
                "s",
            ),
            Row(f"gold, DuckDB engine, {size}: peak RSS", rss["duckdb"], "MiB"),
            Row(
                f"gold, local Spark, {size}: peak RSS of the process tree (job + JVM)",
                rss["spark"],
                "MiB",
            ),
        ]
    notes = [
        "Gold on Spark (`todo_lake_spark.gold_job`) against the DuckDB engine (`todo_gold.job`) "
        "in the same run, over the same silver (built by the Python-shell silver job from the "
        f"silver benchmark's generated events); {repeat} runs per engine, alternating, each "
        "into an emptied gold, as_of fixed. The DuckDB engine fetches silver from the local "
        "emulator's S3; Spark reads the same files from a local lake root (locally Spark has no "
        "S3). Both write gold to the emulator through gold's writer. Rows/s use the job's own "
        "run time (its log line); the ratio column is against the DuckDB engine's median at the "
        "same size; whole-process rows add interpreter (and JVM) start-up. Peak RSS is the job's "
        "process tree (the JVM included), sampled every 50 ms.",
    ]
    return out, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="benchmarks/RESULTS.md")
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--data-dir", default="", help="reuse generated bronze here")
    args = parser.parse_args()
    rows_, notes = rows(args.events, args.repeat, args.data_dir, args.driver_memory)
    print(write_fragment(args.out, "todo-lake-spark: gold", rows_, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
