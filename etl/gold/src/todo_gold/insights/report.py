"""The insights report: one self-contained HTML file with charts.

Plotly draws the charts; its JavaScript is inlined once into the page, so the
report opens offline, from a file, with nothing fetched from the network.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
from typing import Any, Dict, List

from todo_gold.insights.cli import format_value

#: The KPI tiles: (name, column, what it counts, shown as a percent). The
#: names are the KPIs' names (METRICS.md, CloudWatch); rates are 0-1 ratios
#: in data and the percent is formatting only.
TILES = (
    ("TotalUsers", "total_users", "user profiles", False),
    ("ActiveUsers", "active_users", "changed a task in the last 24 h", False),
    ("WeeklyActiveUsers", "weekly_active_users", "changed a task in the last 7 days", False),
    ("MonthlyActiveUsers", "monthly_active_users", "changed a task in the last 30 days", False),
    ("WauPerMau", "wau_per_mau", "weekly / monthly active users", True),
    ("TotalTasks", "total_tasks", "existing tasks", False),
    ("CompletedTasks", "completed_tasks", "existing tasks now completed", False),
    ("CompletionRate", "completion_rate", "completed / existing tasks", True),
    ("AvgTasksPerUser", "avg_tasks_per_user", "existing tasks / users", False),
)


def _tiles(kpis: dict) -> str:
    tiles = []
    for name, key, meaning, percent in TILES:
        value = kpis.get(key)
        shown = (
            "-" if value is None else (f"{value * 100:.1f}%" if percent else format_value(value))
        )
        tiles.append(
            f'<div class="tile"><div class="value">{html.escape(shown)}</div>'
            f'<div class="label">{name}</div><div class="hint">{html.escape(meaning)}</div></div>'
        )
    return '<div class="tiles">' + "".join(tiles) + "</div>"


DAY_MS = 86_400_000
#: Each of a day's two bars: 0.4 day wide, side by side around the day.
BAR_MS = int(DAY_MS * 0.4)
#: At most about this many day labels on a time axis (then every n-th day).
MAX_DAY_TICKS = 12


def day_axis(days: List[str]) -> Dict[str, Any]:
    """A date axis that shows whole days, for one day as for ninety.

    Left to itself plotly zooms a single day down to sub-millisecond ticks
    (``23:59:59.9996 ... 00:00:00.0004``); here the range is padded by half a
    day on each side and ticks fall on midnights, every ``step`` days.
    """
    if not days:
        return {"type": "date"}
    parsed = sorted(dt.date.fromisoformat(d) for d in days)
    first, last = parsed[0], parsed[-1]
    step = max(1, math.ceil(((last - first).days + 1) / MAX_DAY_TICKS))
    half_day = dt.timedelta(hours=12)
    start = dt.datetime.combine(first, dt.time()) - half_day
    end = dt.datetime.combine(last, dt.time()) + half_day
    return {
        "type": "date",
        "range": [start.isoformat(), end.isoformat()],
        "tick0": first.isoformat(),
        "dtick": step * DAY_MS,
        "tickformat": "%Y-%m-%d",
        "hoverformat": "%Y-%m-%d",
    }


def _table(rows: List[dict]) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_value(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_html(
    kpis: dict, trend: List[dict], categories: List[dict], engagement: List[dict]
) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    days = [r["metric_date"] for r in trend]
    # The current day is not over: its bars are drawn faded and labelled.
    partial = [bool(r.get("is_partial_day")) for r in trend]
    opacity = [0.35 if p else 1.0 for p in partial]
    fig_trend = make_subplots(specs=[[{"secondary_y": True}]])
    fig_trend.add_trace(
        go.Bar(
            x=days,
            y=[r["tasks_created"] for r in trend],
            name="tasks created",
            marker={"opacity": opacity},
            # Widths in axis units (ms on a date axis): plotly would size a
            # lone day's bars from the spacing of the data, i.e. to nothing.
            width=BAR_MS,
            offset=-BAR_MS,
        )
    )
    fig_trend.add_trace(
        go.Bar(
            x=days,
            y=[r["tasks_completed"] for r in trend],
            name="completions (tasks moved to completed)",
            marker={"opacity": opacity},
            width=BAR_MS,
            offset=0,
        )
    )
    fig_trend.add_trace(
        go.Scatter(
            x=days,
            y=[r["completions_per_creation"] for r in trend],
            name="completions per creation",
            mode="lines+markers",
        ),
        secondary_y=True,
    )
    fig_trend.update_layout(
        title="Completion trend: changes per UTC day (faded: the current day, not over yet)",
        barmode="group",
        height=380,
    )
    fig_trend.update_xaxes(**day_axis(days))
    fig_trend.update_yaxes(title_text="tasks", secondary_y=False)
    fig_trend.update_yaxes(title_text="completions per creation", secondary_y=True)

    names = [r["category"] for r in categories]
    fig_categories = go.Figure()
    fig_categories.add_trace(
        go.Bar(x=names, y=[r["total_tasks"] for r in categories], name="tasks")
    )
    fig_categories.add_trace(
        go.Bar(x=names, y=[r["completed_tasks"] for r in categories], name="completed")
    )
    fig_categories.update_layout(
        title="Top categories (existing tasks)", barmode="group", height=380
    )

    charts = [
        fig_trend.to_html(full_html=False, include_plotlyjs=True),
        fig_categories.to_html(full_html=False, include_plotlyjs=False),
    ]
    as_of = kpis.get("as_of")
    stamp = as_of.isoformat(sep=" ", timespec="seconds") if isinstance(as_of, dt.datetime) else "-"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Todo insights</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
.tiles {{ display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0 2rem; }}
.tile {{ border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.5rem; min-width: 9rem; }}
.tile .value {{ font-size: 1.8rem; font-weight: 600; }}
.tile .label {{ color: #666; }}
.tile .hint {{ color: #888; font-size: .8rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }}
</style></head><body>
<h1>Todo API with Insights</h1>
<p>KPIs as of {html.escape(stamp)} UTC (gold <code>kpi_snapshot</code>): the state at
that moment. The chart below counts changes per day, so its completions are
not the tiles' completed tasks (a task completed and deleted counts there, not here).</p>
{_tiles(kpis)}
{charts[0]}
{charts[1]}
<h2>Most active users (task changes in the last 30 days)</h2>
{_table(engagement)}
</body></html>
"""


def write_report(insights: Any, path: str) -> str:
    kpis = insights.run("kpis").to_pylist()
    page = build_html(
        kpis[0] if kpis else {},
        insights.run("completion-trend").to_pylist(),
        insights.run("top-categories").to_pylist(),
        insights.run("user-engagement").to_pylist(),
    )
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(page)
    return path
