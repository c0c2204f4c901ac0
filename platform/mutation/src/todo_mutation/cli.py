"""``todo-mutation run`` (one target into a results file) and ``todo-mutation report``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional

from todo_mutation.report import goal_met, render
from todo_mutation.results import Mutant, dump, load, score, with_equivalents
from todo_mutation.runner import run_target
from todo_mutation.targets import load_targets


def _results(folder: Path) -> Dict[str, List[Mutant]]:
    return {p.stem: load(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="todo-mutation", description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("mutation.toml"))
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("mutation-results"),
        help="folder of per-target results (JSON), kept between runs",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="mutate one target and record its mutants")
    run.add_argument("target")
    run.add_argument("--root", type=Path, default=Path("."))
    run.add_argument("--package-path", required=True)
    run.add_argument("--test-python", required=True)
    report = commands.add_parser("report", help="write the report from the recorded results")
    report.add_argument("--out", type=Path, required=True)
    report.add_argument("--check", action="store_true", help="exit 1 unless every goal is met")
    args = parser.parse_args(argv)

    targets = load_targets(args.config)
    if args.command == "run":
        (target,) = [t for t in targets if t.name == args.target] or [None]
        if target is None:
            parser.error(f"unknown target {args.target!r}; known: {[t.name for t in targets]}")
        mutants = run_target(target, args.root.resolve(), args.package_path, args.test_python)
        args.results.mkdir(parents=True, exist_ok=True)
        (args.results / f"{target.name}.json").write_text(dump(mutants), encoding="utf-8")
        s = score(mutants)
        print(
            f"{target.name}: {s.killed}/{s.total - s.equivalent} killed ({s.ratio:.1%}), "
            f"{s.survived} survived, {s.equivalent} equivalent, {s.not_run} not run"
        )
        return 0
    by_name = {t.name: t for t in targets}
    results = {
        name: with_equivalents(mutants, by_name[name]) if name in by_name else mutants
        for name, mutants in _results(args.results).items()
    }
    args.out.write_text(render(targets, results), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0 if not args.check or goal_met(targets, results) else 1


if __name__ == "__main__":
    sys.exit(main())
