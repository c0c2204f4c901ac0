"""mutmut's JUnit report -> one outcome per mutant, and a module's score."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, replace
from typing import Dict, List, Tuple

from todo_mutation.targets import Target

#: mutmut's outcome names: which count as "the tests noticed".
_KILLED = {"ok_killed", "ok_suspicious", "bad_timeout"}
_SURVIVED = {"bad_survived"}


@dataclass(frozen=True)
class Mutant:
    number: int
    line: int
    original: str
    mutated: str
    #: "killed", "survived", "equivalent" or "not run"
    outcome: str

    @property
    def change(self) -> str:
        return f"{self.original.strip()}  ->  {self.mutated.strip()}"


def _changed_lines(diff: str) -> Tuple[str, str]:
    """The removed and the added source lines of a unified diff (headers left out)."""
    lines = diff.splitlines()

    def side(mark: str) -> str:
        return "\n".join(
            line[1:] for line in lines if line.startswith(mark) and not line.startswith(mark * 3)
        )

    return side("-"), side("+")


def parse_junit(xml_text: str, target: Target) -> List[Mutant]:
    """Every mutant of mutmut's ``junitxml`` output, with equivalents applied."""
    root = ET.fromstring(xml_text)  # noqa: S314 - mutmut's own output
    mutants = []
    for case in root.iter("testcase"):
        number = int(case.get("name", "").rsplit("#", 1)[-1])
        failure = case.find("failure")
        skipped = case.find("skipped")
        original = case.findtext("system-out") or ""
        if failure is None and skipped is None:
            outcome, mutated = "killed", ""
        elif skipped is not None:
            outcome, mutated = "not run", ""
        else:
            status = failure.get("message", "")
            original_line, mutated = _changed_lines(failure.text or "")
            original = original_line or original
            if status in _SURVIVED:
                outcome = "equivalent" if target.is_equivalent(original, mutated) else "survived"
            elif status in _KILLED:
                outcome = "killed"
            else:
                outcome = "not run"
        mutants.append(Mutant(number, int(case.get("line", 0)), original, mutated, outcome))
    return mutants


def with_equivalents(mutants: List[Mutant], target: Target) -> List[Mutant]:
    """The recorded mutants, classified by the equivalents ``target`` lists now.

    Arguing a survivor equivalent (or withdrawing the argument) in
    ``mutation.toml`` changes the report without a new mutation run.
    """
    out = []
    for m in mutants:
        if m.outcome in ("survived", "equivalent"):
            equivalent = target.is_equivalent(m.original, m.mutated)
            m = replace(m, outcome="equivalent" if equivalent else "survived")
        out.append(m)
    return out


@dataclass(frozen=True)
class Score:
    total: int
    killed: int
    survived: int
    equivalent: int
    not_run: int

    @property
    def ratio(self) -> float:
        """Killed over every mutant that is not equivalent (not-run ones count as survivors)."""
        considered = self.total - self.equivalent
        return self.killed / considered if considered else 1.0


def score(mutants: List[Mutant]) -> Score:
    counts: Dict[str, int] = {}
    for mutant in mutants:
        counts[mutant.outcome] = counts.get(mutant.outcome, 0) + 1
    return Score(
        total=len(mutants),
        killed=counts.get("killed", 0),
        survived=counts.get("survived", 0),
        equivalent=counts.get("equivalent", 0),
        not_run=counts.get("not run", 0),
    )


def dump(mutants: List[Mutant]) -> str:
    return json.dumps([asdict(m) for m in mutants], indent=1)


def load(text: str) -> List[Mutant]:
    return [Mutant(**m) for m in json.loads(text)]
