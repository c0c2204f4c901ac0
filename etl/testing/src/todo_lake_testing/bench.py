"""Benchmark plumbing shared by the silver and gold benchmarks: generated
bronze on local disk, child processes measured with os.wait4 (wall time and the
child's own peak RSS), and the markdown fragment ``nox -s bench`` collects."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from todo_core import events as contract
from todo_lake_testing import synthetic

START_MS = 1735689600000  # 2025-01-01


def generate_bronze(root: str, total_events: int, per_object: int = 5000) -> int:
    """Write about ``total_events`` change events as emulator-layout bronze files."""
    users = max(1, total_events // 500)
    tasks_per_user = 100
    updates = max(0, round(total_events / (users * tasks_per_user)) - 1)
    written = 0
    batch: List[str] = []
    number = 0

    def flush() -> None:
        nonlocal batch, number
        if not batch:
            return
        key = synthetic.object_key(START_MS + number * 60_000, number)
        path = os.path.join(root, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("".join(batch))
        batch, number = [], number + 1

    for event in synthetic.workload(
        users, tasks_per_user, updates, START_MS, span_ms=30 * 86_400_000, delete_every=20
    ):
        batch.append(contract.to_json_line(event))
        written += 1
        if len(batch) >= per_object:
            flush()
        if written >= total_events:
            break
    flush()
    return written


def bronze_directory(directory: Optional[str], total_events: int, prefix: str) -> str:
    """A directory holding about ``total_events`` generated bronze events:
    ``directory`` (generated once, reused by later runs), or a new temporary one."""
    data = directory or tempfile.mkdtemp(prefix=prefix)
    marker = os.path.join(data, f".generated-{total_events}")
    if not os.path.exists(marker):
        print(f"generating {total_events:,} bronze events in {data} ...", flush=True)
        generate_bronze(data, total_events)
        open(marker, "w").close()
    return data


@dataclass
class Measured:
    seconds: float
    peak_rss_mib: float
    stdout: str


def run_child(
    args: Sequence[str], env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None
) -> Measured:
    """Run a child process; its wall time and its own peak RSS (not the emulator's,
    nor this process's: it is started through ``todo_lake_testing.peak_rss``)."""
    with tempfile.TemporaryDirectory(prefix="peak-rss-") as scratch:
        report = os.path.join(scratch, "report.json")
        proc = subprocess.Popen(
            [sys.executable, "-m", "todo_lake_testing.peak_rss", report, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{err.decode()[-3000:]}")
        with open(report, encoding="utf-8") as handle:
            measured = json.load(handle)
    return Measured(measured["seconds"], measured["peak_rss_kib"] / 1024, out.decode())


@dataclass
class Row:
    what: str
    values: List[float]
    unit: str
    baseline: Optional[float] = None
    goal: str = ""
    met: Optional[bool] = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)


def fmt(value: float, unit: str) -> str:
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if value >= 1000:
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}"


def fragment(package: str, rows: Sequence[Row], notes: Sequence[str]) -> str:
    lines = [
        f"## {package}",
        "",
        "| what | median | spread (min-max) | ratio vs baseline | goal | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        spread = f"{fmt(min(r.values), r.unit)} - {fmt(max(r.values), r.unit)}"
        ratio = "-" if not r.baseline else f"{r.median / r.baseline:.2f}x"
        met = "-" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.what} | {fmt(r.median, r.unit)} | {spread} | {ratio} | {r.goal or '-'} | {met} |"
        )
    lines.append("")
    lines.extend(notes)
    lines.append("")
    lines.append(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average at start "
        f"{os.getloadavg()[0]:.2f} (the machine is shared)."
    )
    return "\n".join(lines) + "\n"


def write_fragment(path: str, package: str, rows: Sequence[Row], notes: Sequence[str]) -> str:
    """Write the package's BENCHMARKS.md fragment to ``path`` and return its text."""
    text = fragment(package, rows, notes)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return text


def empty_gold(bucket: str, database: str) -> None:
    """Delete the gold tables' files and catalog entries (a first run's starting point)."""
    import boto3

    from todo_core import lake

    s3, glue = boto3.client("s3"), boto3.client("glue")
    for table in lake.GOLD_TABLES:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{table}/"):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if objects:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):
            glue.delete_table(DatabaseName=database, Name=table)
