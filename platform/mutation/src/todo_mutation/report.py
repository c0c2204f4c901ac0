"""MUTATION.md: one row per module (score against the goal), then every survivor and equivalent."""

from __future__ import annotations

from typing import Dict, List

from todo_mutation.results import Mutant, score
from todo_mutation.targets import Target

GOAL = 0.90

HEADER = """\
# Mutation testing

Written by `python3 noxfile.py -s mutation` (all targets) or
`python3 noxfile.py -s mutation -- <target> ...` (some; the others keep their
last figures). Each module that guards data or security is mutated one change
at a time by mutmut (an operator, a constant, a string, a condition, a
statement), and the tests that guard it run against every mutant. A mutant the
tests fail on is **killed**; one they pass on **survived**: a behaviour change
no test notices. A survivor that changes no behaviour at all is argued
**equivalent** in `mutation.toml` (each with its reason) and left out of the
score. Goal: a score of at least {goal:.0%} for every module.

Score = killed / (mutants - equivalent). Not-run mutants count as survivors.
"""


def _row(target: Target, mutants: List[Mutant]) -> str:
    s = score(mutants)
    verdict = "met" if s.ratio >= GOAL and not s.not_run else "**not met**"
    return (
        f"| {target.name} | `{target.module}` | {s.total} | {s.killed} | {s.survived} | "
        f"{s.equivalent} | {s.not_run} | {s.ratio:.1%} | {verdict} |"
    )


def _quote(text: str) -> str:
    return text.strip().replace("`", "'").replace("\n", " / ") or "(nothing)"


def render(targets: List[Target], results: Dict[str, List[Mutant]]) -> str:
    lines = [
        HEADER.format(goal=GOAL),
        "| target | module | mutants | killed | survived | equivalent | not run | score | goal |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for target in targets:
        if target.name in results:
            lines.append(_row(target, results[target.name]))
        else:
            lines.append(f"| {target.name} | `{target.module}` | not run yet | | | | | | |")
    for target in targets:
        mutants = results.get(target.name, [])
        survivors = [m for m in mutants if m.outcome in ("survived", "not run")]
        equivalents = [m for m in mutants if m.outcome == "equivalent"]
        if not survivors and not equivalents:
            continue
        lines += ["", f"## {target.name}", ""]
        if survivors:
            lines += ["Survivors (line: original -> mutant):", ""]
            lines += [
                f"- {m.line}: `{_quote(m.original)}` -> `{_quote(m.mutated)}`"
                + (" (not run)" if m.outcome == "not run" else "")
                for m in survivors
            ]
            lines.append("")
        if equivalents:
            lines += ["Equivalent (line: original -> mutant: why):", ""]
            for m in equivalents:
                (why,) = [
                    e.why
                    for e in target.equivalents
                    if e.original.strip() == m.original.strip()
                    and e.mutant.strip() == m.mutated.strip()
                ][:1] or ["(see mutation.toml)"]
                lines.append(f"- {m.line}: `{_quote(m.original)}` -> `{_quote(m.mutated)}`: {why}")
    return "\n".join(lines).rstrip() + "\n"


def goal_met(targets: List[Target], results: Dict[str, List[Mutant]]) -> bool:
    return all(
        target.name in results
        and score(results[target.name]).ratio >= GOAL
        and not score(results[target.name]).not_run
        for target in targets
    )
