"""Gold refuses to publish when its input collapses.

A silver that lost its tables (an interrupted refresh, a wrong bucket, a bad
deploy) still computes: gold would publish ``total_tasks 0`` as if it were
true. Before anything is written, the run's totals are compared with the last
published snapshot (``kpi_snapshot``, the latest at or before this run's
``as_of``), allowing for the deletes silver recorded since then:

    expected = previous total - deletes since the previous snapshot
    refuse when  total < expected * (1 - max_drop)

for ``total_tasks`` (deletes: ``REMOVE`` task events) and ``total_users``
(deletes: user profiles deleted since). ``max_drop`` is ``--MAX_INPUT_DROP``,
0.5 by default: more than half of what should still be there is missing.
A refused run raises :class:`InputCollapsed`: an ERROR log line, a failed
Glue run, the job-failure alarm. A deliberate reset (a test stage emptied on
purpose) passes ``--ALLOW_INPUT_COLLAPSE true`` for one run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional

from todo_gold import queries

DEFAULT_MAX_DROP = 0.5
#: Each guarded total, with the SQL counting its deletes between two moments.
GUARDED = {
    "total_tasks": (
        "SELECT COUNT(*) AS n FROM task_events WHERE event_name = 'REMOVE'"
        " AND event_time > {since} AND event_time <= {as_of}"
    ),
    "total_users": (
        "SELECT COUNT(DISTINCT user_id) AS n FROM users WHERE is_deleted"
        " AND last_event_time > {since} AND last_event_time <= {as_of}"
    ),
}


class InputCollapsed(RuntimeError):
    """The run's input fell against the last snapshot without matching deletes."""


@dataclass(frozen=True)
class Verdict:
    total: str
    previous: int
    deletes: int
    now: int
    floor: float

    @property
    def collapsed(self) -> bool:
        return self.now < self.floor


def previous_snapshot(snapshots: List[Mapping[str, Any]], as_of: dt.datetime) -> Optional[Mapping]:
    """The latest snapshot at or before ``as_of`` (naive UTC, as gold stores it)."""
    moment = as_of.astimezone(dt.timezone.utc).replace(tzinfo=None)
    earlier = [s for s in snapshots if s.get("as_of") is not None and s["as_of"] <= moment]
    return max(earlier, key=lambda s: s["as_of"]) if earlier else None


def judge(
    kpis: Mapping[str, Any],
    previous: Mapping[str, Any],
    count_deletes: Callable[[str], int],
    max_drop: float = DEFAULT_MAX_DROP,
) -> List[Verdict]:
    """One verdict per guarded total; ``count_deletes(sql)`` runs a delete count."""
    verdicts = []
    for total, sql in GUARDED.items():
        before = int(previous.get(total) or 0)
        deletes = count_deletes(sql)
        expected = max(0, before - deletes)
        verdicts.append(
            Verdict(total, before, deletes, int(kpis.get(total) or 0), expected * (1 - max_drop))
        )
    return verdicts


def check(
    kpis: Mapping[str, Any],
    snapshots: List[Mapping[str, Any]],
    as_of: dt.datetime,
    run_query: Callable[[str], Any],
    max_drop: float = DEFAULT_MAX_DROP,
    allow: bool = False,
) -> List[Verdict]:
    """Raise :class:`InputCollapsed` unless the totals are plausible (or ``allow``)."""
    previous = previous_snapshot(snapshots, as_of)
    if previous is None:
        return []  # the first snapshot: nothing to compare with
    params: Dict[str, str] = {
        "since": queries.timestamp_literal(previous["as_of"]),
        "as_of": queries.timestamp_literal(as_of),
    }

    def count_deletes(sql: str) -> int:
        table = run_query(queries.render(sql, params))
        return int(table.column(0)[0].as_py() or 0)

    verdicts = judge(kpis, previous, count_deletes, max_drop)
    collapsed = [v for v in verdicts if v.collapsed]
    if collapsed and not allow:
        detail = "; ".join(
            f"{v.total} {v.now} < {v.floor:g} (was {v.previous} at {previous['as_of']},"
            f" {v.deletes} deleted since)"
            for v in collapsed
        )
        raise InputCollapsed(
            f"gold refuses to publish: input collapsed against the last snapshot: {detail}."
            " If this is a deliberate reset, run once with --ALLOW_INPUT_COLLAPSE true"
        )
    return verdicts
