"""todo-lake-spark benchmarks: silver and gold on local Spark against the
single-worker engine in the same run.

    python benchmarks/run.py --out benchmarks/RESULTS.md \\
        [--silver-events 250000 1000000] [--gold-events 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gold_bench import rows as gold_rows
from silver_bench import rows as silver_rows

from todo_lake_testing.bench import write_fragment
from todo_local.emulator import Emulator, client_environment
from todo_local.stack import provision


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="benchmarks/RESULTS.md")
    parser.add_argument("--silver-events", type=int, nargs="*", default=[250_000, 1_000_000])
    parser.add_argument(
        "--repeat",
        type=int,
        nargs="*",
        default=[2],
        help="runs per engine, per size (the last repeats)",
    )
    parser.add_argument("--gold-events", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--gold-repeat", type=int, default=3, help="gold runs per engine")
    parser.add_argument("--data-dir", default="", help="reuse generated bronze here")
    args = parser.parse_args()
    rows, notes = [], []
    if args.silver_events:
        with Emulator() as emulator:
            env = client_environment(emulator.endpoint_url)
            os.environ.update(env)
            names = provision(emulator.endpoint_url).names
            rows, notes = silver_rows(args.silver_events, args.repeat, args.data_dir, names, env)
    if args.gold_events:
        # Gold's silver is built in an emulator of its own, per size.
        more_rows, more_notes = gold_rows(args.gold_events, args.gold_repeat, args.data_dir)
        rows, notes = rows + more_rows, notes + more_notes
    print(write_fragment(args.out, "todo-lake-spark", rows, notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
