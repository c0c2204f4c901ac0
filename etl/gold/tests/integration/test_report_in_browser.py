"""The HTML report in a real headless Chromium: no console errors, and the
trend chart's time axis shows days, for a one-day and a ninety-day gold."""

import datetime as dt
import random
import re

import pytest

from tests.browser.chromium import chromium_or_skip, render
from tests.conftest import DAY1, ms
from todo_gold.insights.cli import Insights
from todo_gold.insights.report import write_report
from todo_lake_testing import synthetic

pytestmark = pytest.mark.integration

DAY_LABEL = re.compile(r"^(\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2} \d{1,2}(, \d{4})?|\d{4})$")


def activity(days: int):
    """A user with one task created per day for ``days`` days; every other
    task completed an hour later."""
    rng = random.Random(days)
    f = synthetic.EventFactory(rng=rng)
    user = {"user_id": "u-1", "email": "u1@example.com", "created_at": synthetic.iso(ms(DAY1))}
    events = [f.user_insert(user, ms(DAY1))]
    for day in range(days):
        moment = DAY1 + dt.timedelta(days=day, hours=9)
        task = synthetic.new_task("u-1", f"t{day}", ms(moment), rng, category="work")
        events.append(f.task_insert(task, ms(moment)))
        if day % 2 == 0:
            done = synthetic.updated(task, {"status": "completed"}, ms(moment) + 3_600_000)
            events.append(f.task_modify(task, done, ms(moment) + 3_600_000))
    return events


@pytest.mark.parametrize("days", [1, 90])
def test_the_report_renders_in_chromium_with_days_on_the_time_axis(pipeline, tmp_path, days):
    chromium_or_skip()
    pipeline.put(activity(days))
    pipeline.silver()
    last = DAY1 + dt.timedelta(days=days - 1)
    pipeline.gold(as_of=last + dt.timedelta(hours=23))
    path = write_report(
        Insights(pipeline.names.gold_bucket, pipeline.names.glue_database), str(tmp_path / "r.html")
    )
    page = render(path)
    assert page.console_errors == []
    trend, categories = page.x_ticks
    assert trend, "the trend chart drew no x axis ticks"
    # Days as days: every label a date, never a time of day.
    assert all(DAY_LABEL.match(label) for label in trend), trend
    assert not any(":" in label for label in trend), trend
    if days == 1:
        assert trend == [last.date().isoformat()]
    else:
        assert 2 <= len(trend) <= 16, trend
    assert categories == ["work"]
    # Every bar is drawn wide enough to see (a lone day's bars once were not).
    trend_bars = page.bar_widths[0]
    assert len(trend_bars) >= 2, trend_bars
    assert all(w >= 3 for w in trend_bars), trend_bars
