from __future__ import annotations

import datetime as dt
import logging

import pytest
from fakes import FakeCloudWatch, FakeSource

from metrics_collector.collector import collect
from metrics_collector.errors import InconsistentCounters, KpiSourceUnavailable, PublishFailed
from metrics_collector.publisher import MetricsPublisher, metric_data
from todo_core.errors import StoreUnavailable
from todo_core.repository import KpiCounts

NOW = dt.datetime(2025, 1, 27, 10, 30, tzinfo=dt.timezone.utc)


def test_publishes_every_defined_kpi_in_one_call_with_the_stage() -> None:
    cloudwatch = FakeCloudWatch()
    source = FakeSource(KpiCounts(3, 1, 6, 2))

    kpis = collect(source, MetricsPublisher(cloudwatch, "TodoApi/CustomMetrics"), "prod", NOW)

    assert source.asked_at == [NOW]
    [call] = cloudwatch.calls
    assert call["Namespace"] == "TodoApi/CustomMetrics"
    data = {d["MetricName"]: d for d in call["MetricData"]}
    assert {n: d["Value"] for n, d in data.items()} == pytest.approx(kpis.publishable())
    assert data["CompletionRate"]["Value"] == pytest.approx(100 / 3)
    assert data["CompletionRate"]["Unit"] == "Percent"
    assert data["AvgTasksPerUser"]["Unit"] == "None"
    assert data["TotalTasks"]["Unit"] == "Count"
    for datum in data.values():
        assert datum["Dimensions"] == [{"Name": "Stage", "Value": "prod"}]
        assert datum["Timestamp"] == NOW


def test_undefined_ratios_are_left_out_not_zeroed() -> None:
    cloudwatch = FakeCloudWatch()
    collect(FakeSource(KpiCounts(0, 0, 0, 0)), MetricsPublisher(cloudwatch, "N"), "dev", NOW)
    names = [d["MetricName"] for d in cloudwatch.calls[0]["MetricData"]]
    assert names == ["TotalUsers", "ActiveUsers", "TotalTasks", "CompletedTasks"]


@pytest.mark.parametrize(
    "error", [StoreUnavailable("throttled"), RuntimeError("boom"), OSError("unreachable")]
)
def test_an_unreadable_source_publishes_nothing_and_logs_an_error(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    cloudwatch = FakeCloudWatch()
    with pytest.raises(KpiSourceUnavailable) as failure:
        collect(FakeSource(error=error), MetricsPublisher(cloudwatch, "N"), "dev", NOW)
    assert failure.value.__cause__ is error
    assert cloudwatch.calls == []
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


def test_inconsistent_counters_publish_nothing() -> None:
    cloudwatch = FakeCloudWatch()
    with pytest.raises(InconsistentCounters):
        collect(FakeSource(KpiCounts(1, 1, 2, 3)), MetricsPublisher(cloudwatch, "N"), "dev", NOW)
    assert cloudwatch.calls == []


def test_a_failed_publication_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    cloudwatch = FakeCloudWatch(error=ConnectionError("refused"))
    with pytest.raises(PublishFailed):
        collect(FakeSource(KpiCounts(1, 1, 2, 1)), MetricsPublisher(cloudwatch, "N"), "dev", NOW)
    assert caplog.records[-1].levelno == logging.ERROR


def test_more_active_users_than_profiles_is_published_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cloudwatch = FakeCloudWatch()
    collect(FakeSource(KpiCounts(1, 2, 2, 0)), MetricsPublisher(cloudwatch, "N"), "dev", NOW)
    assert cloudwatch.calls
    assert any(r.levelno == logging.WARNING for r in caplog.records)


def test_metric_data_values_are_floats() -> None:
    [datum] = metric_data({"TotalUsers": 3}, "dev", NOW)
    assert datum["Value"] == 3.0
    assert isinstance(datum["Value"], float)


def test_the_collector_uses_the_kpi_role_only() -> None:
    """No cursor key, no task or profile access: the KPI source is all it gets."""
    import subprocess
    import sys

    from metrics_collector.collector import kpi_source_for
    from metrics_collector.settings import Settings
    from todo_core.kpi_repository import KpiRepository

    source = kpi_source_for(Settings(stage="unit", table_name="todo-app-data-unit"), object())
    assert type(source) is KpiRepository
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, metrics_collector.handler; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for module in ("todo_core.cursor", "todo_core.task_repository", "metrics_collector.readback"):
        assert f"'{module}'" not in loaded
