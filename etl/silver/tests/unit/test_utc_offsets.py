"""Timestamps with a UTC offset mean the instant they name: silver stores it in UTC,
whichever transform (Arrow or SQL) handles the event."""

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from todo_lake_testing import synthetic
from todo_silver.parse import parse_change_events
from todo_silver.transform import transform_declined, transform_events
from todo_silver.workspace import Workspace

START = 1735689600000


def _created_at(text: str) -> dt.datetime:
    rng = random.Random(1)
    factory = synthetic.EventFactory(rng=rng)
    task = synthetic.new_task("u1", "t1", START, rng)
    task["created_at"] = text
    table = parse_change_events(synthetic.encode([factory.task_insert(task, START)])).table
    rows = transform_events(table)
    if rows.declined:
        with Workspace(128) as ws:
            [rows] = transform_declined(ws, [rows])
    [value] = rows.events.column("created_at").to_pylist()
    return value


def test_an_offset_is_honoured():
    assert _created_at("2025-03-01T10:00:00+02:00") == dt.datetime(2025, 3, 1, 8, 0)
    assert _created_at("2025-03-01T10:00:00Z") == dt.datetime(2025, 3, 1, 10, 0)
    assert _created_at("2025-03-01T10:00:00.250-05:30") == dt.datetime(
        2025, 3, 1, 15, 30, 0, 250000
    )


@settings(max_examples=40, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    minutes=st.integers(-14 * 60, 14 * 60),
    style=st.sampled_from(["+HH:MM", "+HHMM", "Z"]),
)
def test_any_offset_gives_the_same_utc_instant(moment, minutes, style):
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if style == "Z":
        minutes = 0
    offset = dt.timezone(dt.timedelta(minutes=minutes))
    local = moment.replace(tzinfo=offset)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    suffix = {"+HH:MM": f"{sign}{hours:02d}:{mins:02d}", "+HHMM": f"{sign}{hours:02d}{mins:02d}"}
    text = local.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + suffix.get(style, "Z")
    expected = local.astimezone(dt.timezone.utc).replace(tzinfo=None)
    assert _created_at(text) == expected
