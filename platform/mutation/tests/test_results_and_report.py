"""Reading mutmut's report, scoring with equivalents left out, and the Markdown report."""

from __future__ import annotations

from xml.sax.saxutils import escape

from todo_mutation.report import goal_met, render
from todo_mutation.results import Mutant, dump, load, parse_junit, score, with_equivalents
from todo_mutation.targets import Equivalent, Target


def _case(number: int, status: str, original: str, mutated: str) -> str:
    if status == "ok_killed":
        return f'<testcase name="Mutant #{number}" file="m.py" line="{number}"/>'
    diff = f"--- m.py\n+++ m.py\n@@ -1 +1 @@\n-{original}\n+{mutated}\n"
    return (
        f'<testcase name="Mutant #{number}" file="m.py" line="{number}">'
        f'<failure type="failure" message="{status}">{escape(diff)}</failure>'
        f"<system-out>{escape(original)}</system-out></testcase>"
    )


def _junit(*cases: str) -> str:
    return (
        f'<?xml version="1.0" ?><testsuites><testsuite name="mutmut">{"".join(cases)}'
        "</testsuite></testsuites>"
    )


TARGET = Target(
    name="guard",
    package="p",
    module="src/m.py",
    tests=("tests",),
    equivalents=(Equivalent("LIMIT = 10", "LIMIT = 11", "any limit above 9 behaves alike"),),
)


def test_outcomes_and_the_changed_lines_are_read_from_the_report() -> None:
    mutants = parse_junit(
        _junit(
            _case(1, "ok_killed", "", ""),
            _case(2, "bad_survived", "if a and b:", "if a or b:"),
            _case(3, "bad_timeout", "while x:", "while not x:"),
            _case(4, "bad_survived", "LIMIT = 10", "LIMIT = 11"),
            _case(5, "untested", "y = 1", "y = 2"),
        ),
        TARGET,
    )
    assert [m.outcome for m in mutants] == ["killed", "survived", "killed", "equivalent", "not run"]
    assert mutants[1].original == "if a and b:"
    assert mutants[1].mutated == "if a or b:"
    assert load(dump(mutants)) == mutants


def test_the_score_leaves_equivalents_out_and_counts_not_run_as_survivors() -> None:
    mutants = parse_junit(
        _junit(
            _case(1, "ok_killed", "", ""),
            _case(2, "ok_killed", "", ""),
            _case(3, "bad_survived", "LIMIT = 10", "LIMIT = 11"),
            _case(4, "untested", "y = 1", "y = 2"),
        ),
        TARGET,
    )
    s = score(mutants)
    assert (s.total, s.killed, s.equivalent, s.not_run) == (4, 2, 1, 1)
    assert s.ratio == 2 / 3


def test_the_report_names_every_survivor_and_says_when_the_goal_is_missed() -> None:
    weak = parse_junit(
        _junit(_case(1, "ok_killed", "", ""), _case(2, "bad_survived", "a < b", "a <= b")),
        TARGET,
    )
    text = render([TARGET], {"guard": weak})
    assert "| guard | `src/m.py` | 2 | 1 | 1 | 0 | 0 | 50.0% | **not met** |" in text
    assert "- 2: `a < b` -> `a <= b`" in text
    assert not goal_met([TARGET], {"guard": weak})


def test_a_target_never_run_fails_the_goal_and_shows_in_the_report() -> None:
    text = render([TARGET], {})
    assert "| guard | `src/m.py` | not run yet |" in text
    assert not goal_met([TARGET], {})


def test_the_goal_is_met_at_ninety_percent() -> None:
    cases = [_case(i, "ok_killed", "", "") for i in range(1, 10)]
    cases.append(_case(10, "bad_survived", "a", "b"))
    mutants = parse_junit(_junit(*cases), TARGET)
    assert score(mutants).ratio == 0.9
    assert goal_met([TARGET], {"guard": mutants})
    assert "| 90.0% | met |" in render([TARGET], {"guard": mutants})


def test_an_equivalent_argued_after_the_run_counts_without_a_new_run() -> None:
    recorded = [
        Mutant(1, 1, "LIMIT = 10", "LIMIT = 11", "survived"),
        Mutant(2, 2, "if a and b:", "if a or b:", "equivalent"),  # argument withdrawn
        Mutant(3, 3, "x = 1", "x = 2", "killed"),
        Mutant(4, 4, "y = 1", "y = 2", "not run"),
    ]
    assert [m.outcome for m in with_equivalents(recorded, TARGET)] == [
        "equivalent",
        "survived",
        "killed",
        "not run",
    ]
