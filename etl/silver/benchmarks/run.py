"""Silver benchmark: events/s and peak RSS of the real job on generated bronze,
against a naive pandas implementation and a hand-written DuckDB query.

    python benchmarks/run.py --out benchmarks/RESULTS.md [--events 1000000]

Bronze is generated as local files in the emulator's layout (the job reads
them through ``--BRONZE_BUCKET file:///...``, so S3 reads are not measured);
silver is written to the local emulator's S3 and Glue catalog. Every
measurement is a child process: wall time and that process's own peak RSS.
"""

# ruff: noqa: E501 - the baselines are scripts in strings; long SQL lines stay readable
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from state_limit import limit_rows

from todo_lake_testing.bench import Row, bronze_directory, run_child, write_fragment
from todo_local.emulator import Emulator, client_environment
from todo_local.stack import glue_job_arguments, provision

PANDAS_NAIVE = r"""
import glob, sys, time
import pandas as pd
files = sorted(glob.glob(sys.argv[1] + "/cdc/**/*", recursive=True))
files = [f for f in files if not f.endswith("/")][: int(sys.argv[2])]
import os
files = [f for f in files if os.path.isfile(f)]
start = time.perf_counter()
frame = pd.concat([pd.read_json(f, lines=True, dtype=False) for f in files], ignore_index=True)
frame["pk"] = frame["keys"].map(lambda k: k["PK"])
frame["sk"] = frame["keys"].map(lambda k: k["SK"])
frame = frame.drop_duplicates(subset=["pk", "sk", "sequence_number"])
frame["seq"] = frame["sequence_number"].str.zfill(40)
latest = frame.sort_values("seq").groupby(["pk", "sk"], as_index=False).last()
live = latest[latest["event_name"] != "REMOVE"]
print(len(frame), time.perf_counter() - start)
"""

PARSE_CEILING = r"""
import glob, os, sys, time
from concurrent.futures import ThreadPoolExecutor
import pyarrow as pa, pyarrow.json as pj
from todo_silver.parse import reader_threads  # the job's rule (the faster setting on two cores)
files = sorted(f for f in glob.glob(sys.argv[1] + "/cdc/**/*", recursive=True) if os.path.isfile(f))
threads = int(sys.argv[2])
use_threads = reader_threads(threads)
def parse(path):
    with open(path, "rb") as handle:
        data = handle.read()
    # One block: the whole object.
    options = pj.ReadOptions(block_size=len(data) + 1, use_threads=use_threads)
    return pj.read_json(pa.BufferReader(data), read_options=options).num_rows
start, cpu = time.perf_counter(), time.process_time()
with ThreadPoolExecutor(threads) as pool:
    rows = sum(pool.map(parse, files))
print(rows, time.perf_counter() - start, time.process_time() - cpu)
"""

# The work no design of this job can skip, done by the job's own functions
# and nothing else: each object parsed and checked against the contract,
# transformed into its silver rows, and its task_events rows encoded as one
# Parquet file as silver stores them (the job writes one per partition: more
# files, never less work), in memory. No staging, de-duplication, state merge,
# catalog or uploads. Whatever the rest of the job costs, its share of the
# ceiling cannot beat this one's.
WORK_FLOOR = r"""
import glob, os, sys, time
from concurrent.futures import ThreadPoolExecutor
from todo_lake.store import encode_parquet
from todo_silver.parse import parse_change_events, reader_threads
from todo_silver.transform import transform_events
files = sorted(f for f in glob.glob(sys.argv[1] + "/cdc/**/*", recursive=True) if os.path.isfile(f))
use_threads = reader_threads(int(sys.argv[2]))
def work(path):
    with open(path, "rb") as handle:
        parsed = parse_change_events(handle.read(), use_threads)
    encode_parquet(transform_events(parsed.table).events)
    return parsed.table.num_rows
# First use imports what the job imports at start-up (pandas among them): not timed.
work(files[0])
start, cpu = time.perf_counter(), time.process_time()
with ThreadPoolExecutor(int(sys.argv[2])) as pool:
    rows = sum(pool.map(work, files))
print(rows, time.perf_counter() - start, time.process_time() - cpu)
"""

DUCKDB_HAND = r"""
import sys, time
import duckdb
start = time.perf_counter()
con = duckdb.connect(config={"threads": 2})
columns = ("{'schema_version': 'BIGINT', 'event_id': 'VARCHAR', 'event_name': 'VARCHAR', "
           "'entity_type': 'VARCHAR', 'user_id': 'VARCHAR', 'keys': 'STRUCT(PK VARCHAR, SK VARCHAR)', "
           "'new_image': 'JSON', 'old_image': 'JSON', 'sequence_number': 'VARCHAR', "
           "'approximate_creation_time': 'BIGINT'}")
con.execute(f"CREATE TABLE ev AS SELECT * FROM read_json('{sys.argv[1]}/cdc/**/*', format='newline_delimited', columns={columns})")
rows = con.execute("SELECT count(*) FROM ev").fetchone()[0]
con.execute('''
  CREATE TABLE latest AS SELECT "keys".PK AS pk, "keys".SK AS sk, event_name,
         json_extract_string(coalesce(new_image, old_image), '$.status') AS status
  FROM (SELECT DISTINCT ON ("keys".PK, "keys".SK, sequence_number) * FROM ev)
  QUALIFY row_number() OVER (PARTITION BY "keys".PK, "keys".SK ORDER BY lpad(sequence_number, 40, '0') DESC) = 1''')
con.execute("SELECT count(*) FROM latest WHERE event_name <> 'REMOVE'").fetchone()
print(rows, time.perf_counter() - start)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="benchmarks/RESULTS.md")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pandas-objects",
        type=int,
        default=40,
        help="bronze objects the naive pandas baseline reads (it is slow)",
    )
    parser.add_argument("--threads", type=int, default=2, help="parse threads (job and ceiling)")
    parser.add_argument("--data-dir", help="reuse generated bronze here (default: a temporary dir)")
    parser.add_argument(
        "--state-tasks",
        type=int,
        nargs="*",
        default=[400_000, 800_000, 1_000_000],
        help="tasks in one creation-day partition, for the largest-state rows (state_limit.py)",
    )
    args = parser.parse_args()

    data = bronze_directory(args.data_dir, args.events, "silver-bench-")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(data) for f in fs)

    with Emulator() as emulator:
        env = client_environment(emulator.endpoint_url)
        os.environ.update(env)
        names = provision(emulator.endpoint_url).names
        job = [
            sys.executable,
            "-m",
            "todo_silver.job",
            *glue_job_arguments(
                names,
                BRONZE_BUCKET=f"file://{data}",
                PUBLISH_METRICS="false",
                FULL_REFRESH="true",
                PARSE_THREADS=str(args.threads),
            ),
        ]
        rates, rss, ceilings, shares, cpu_multiples = [], [], [], [], []
        floor_shares, floor_multiples = [], []
        for attempt in range(args.repeat):
            measured = run_child(job, env=env)
            summary = next(
                json.loads(line)
                for line in measured.stdout.splitlines()
                if '"silver run complete"' in line
            )
            read = summary["counts"]["events_read"]
            rates.append(read / summary["seconds"])
            rss.append(measured.peak_rss_mib)
            # The parse ceiling right after each job run, so both see the same machine load.
            m = run_child([sys.executable, "-c", PARSE_CEILING, data, str(args.threads)])
            n, seconds, cpu = m.stdout.split()[-3:]
            ceilings.append(int(n) / float(seconds))
            shares.append(rates[-1] / ceilings[-1])
            # CPU per event against the ceiling's: what the job does beyond
            # parsing, whatever the machine's load (wall time depends on it).
            cpu_multiples.append(summary["cpu_seconds"] / read / (float(cpu) / int(n)))
            m = run_child([sys.executable, "-c", WORK_FLOOR, data, str(args.threads)])
            f_n, f_seconds, f_cpu = m.stdout.split()[-3:]
            floor_shares.append(int(f_n) / float(f_seconds) / ceilings[-1])
            floor_multiples.append(float(f_cpu) / int(f_n) / (float(cpu) / int(n)))
            print(
                f"silver job run {attempt + 1}: {read:,} events in {summary['seconds']:.1f}s "
                f"({rates[-1]:,.0f}/s), peak RSS {measured.peak_rss_mib:,.0f} MiB; "
                f"parse ceiling {ceilings[-1]:,.0f}/s ({shares[-1]:.0%}); "
                f"CPU {summary['cpu_seconds']:.1f}s ({cpu_multiples[-1]:.2f}x the ceiling's); "
                f"work floor {floor_shares[-1]:.0%} of the ceiling, "
                f"CPU {floor_multiples[-1]:.2f}x the ceiling's; "
                f"phases {summary.get('phase_seconds')}",
                flush=True,
            )

        state = limit_rows(args.state_tasks, names, env)

    pandas_rates, pandas_rss = [], []
    duck_rates, duck_rss = [], []
    for _ in range(args.repeat):
        m = run_child([sys.executable, "-c", PANDAS_NAIVE, data, str(args.pandas_objects)])
        n, seconds = m.stdout.split()[-2:]
        pandas_rates.append(int(n) / float(seconds))
        pandas_rss.append(m.peak_rss_mib)
        m = run_child([sys.executable, "-c", DUCKDB_HAND, data])
        n, seconds = m.stdout.split()[-2:]
        duck_rates.append(int(n) / float(seconds))
        duck_rss.append(m.peak_rss_mib)
        print(f"pandas {pandas_rates[-1]:,.0f}/s, duckdb {duck_rates[-1]:,.0f}/s", flush=True)

    baseline = sorted(pandas_rates)[len(pandas_rates) // 2]
    rows = [
        Row(
            "silver job: events/s (parse, validate, dedup, state merge, write)",
            rates,
            "ev/s",
            baseline,
            ">= 500,000 ev/s",
            sorted(rates)[len(rates) // 2] >= 500_000,
        ),
        Row("silver job: peak RSS", rss, "MiB", None, "<= 1,024 MiB", max(rss) <= 1024),
        Row(
            f"parse ceiling: pyarrow read_json of the same objects, {args.threads} threads, "
            "nothing else (events/s)",
            ceilings,
            "ev/s",
            baseline,
        ),
        Row(
            "silver job events/s as a share of the parse ceiling (paired runs)",
            shares,
            "x",
            None,
            ">= 0.60",
            statistics.median(shares) >= 0.60,
        ),
        Row(
            "silver job CPU seconds per event as a multiple of the parse ceiling's (paired runs; "
            "<= 1.67 is needed for 0.60 on two fully busy cores)",
            cpu_multiples,
            "x",
        ),
        Row(
            "work floor: the job's own parse, contract checks, transforms and Parquet encoding "
            "of the same objects, nothing else, as a share of the parse ceiling (paired runs)",
            floor_shares,
            "x",
        ),
        Row(
            "work floor: CPU seconds per event as a multiple of the parse ceiling's (paired runs)",
            floor_multiples,
            "x",
        ),
        Row(
            "silver job events/s as a share of the work floor's (paired runs: what the job's "
            "design adds to the required work)",
            [share / floor for share, floor in zip(shares, floor_shares)],
            "x",
        ),
        Row(
            "baseline: naive pandas (read_json + groupby), events/s", pandas_rates, "ev/s", baseline
        ),
        Row("baseline: naive pandas, peak RSS", pandas_rss, "MiB"),
        Row(
            "reference: hand-written DuckDB query (read_json + QUALIFY), events/s",
            duck_rates,
            "ev/s",
            baseline,
        ),
        Row("reference: hand-written DuckDB query, peak RSS", duck_rss, "MiB"),
    ]
    for tasks, peak, parquet in state:
        rows.append(
            Row(
                f"current state: peak RSS merging one change into one creation-day partition of "
                f"{tasks:,} tasks ({parquet / 2**20:,.0f} MiB of Parquet)",
                [peak],
                "MiB",
                None,
                "<= 1,024 MiB",
                peak <= 1024,
            )
        )
    held = [tasks for tasks, peak, _ in state if peak <= 1024]
    if state:
        rows.append(
            Row(
                "largest creation-day partition a 1 GiB worker merges (measured sizes)",
                [float(max(held)) if held else 0.0],
                "tasks",
            )
        )
    notes = [
        f"Input: {args.events:,} generated change events ({size / 2**20:,.0f} MiB of JSON lines, "
        f"{size / max(1, args.events):,.0f} bytes per event; images without the table's key and index "
        "attributes, as the CDC processor writes them), local files in "
        "the emulator's bronze layout; output to the local emulator's S3 and Glue catalog. "
        f"The pandas baseline reads the first {args.pandas_objects} objects only (it needs several GiB "
        "for all); the DuckDB reference reads everything but only computes the current state "
        "(no validation, changed fields, or writes). Job throughput uses the job's own run time "
        "(interpreter start-up excluded); RSS is the child process's peak. The parse ceiling "
        "is what parsing alone reaches on this machine at that moment (with the reader's own "
        "thread pool only when the parse threads leave cores idle, the faster setting and the "
        "job's rule): the 500,000 events/s goal "
        "is above it (see the package README). The work floor runs the job's own parse, "
        "contract checks, transforms and Parquet encoding on the same objects and threads, in "
        "memory, and nothing else (no staging, de-duplication, state merge, catalog or "
        "uploads): no design that does this work can reach a larger share of the ceiling.",
        "The current-state rows (state_limit.py) write one creation-day partition of N tasks to "
        "silver and run the job on one change to one of them: the job merges the whole "
        "partition, so its peak RSS gives the largest state a 1 GiB worker holds.",
    ]
    print(write_fragment(args.out, "todo-etl-silver", rows, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
