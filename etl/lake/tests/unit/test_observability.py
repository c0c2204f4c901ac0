"""Run reporting: one JSON log line, best-effort metrics, failures logged then raised."""

import json

import pytest

from todo_lake.observability import ETL_METRICS_NAMESPACE, log, publish_metrics, run_logged


class Recorder:
    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def put_metric_data(self, **kwargs):
        if self.fail:
            raise RuntimeError("throttled")
        self.calls.append(kwargs)


def test_a_log_line_is_one_json_object(capsys):
    log("INFO", "hello", n=3)
    record = json.loads(capsys.readouterr().out)
    assert (record["level"], record["message"], record["n"]) == ("INFO", "hello", 3)


def test_metrics_carry_job_and_stage_and_go_in_batches_of_500():
    client = Recorder()
    values = {f"M{i}": i for i in range(501)}
    assert publish_metrics("silver", values, "prod", units={"M1": "Seconds"}, client=client)
    assert [len(c["MetricData"]) for c in client.calls] == [500, 1]
    assert {c["Namespace"] for c in client.calls} == {ETL_METRICS_NAMESPACE}
    first = client.calls[0]["MetricData"]
    assert first[0]["Dimensions"] == [
        {"Name": "Job", "Value": "silver"},
        {"Name": "Stage", "Value": "prod"},
    ]
    assert (first[0]["Unit"], first[1]["Unit"]) == ("Count", "Seconds")


def test_a_metric_failure_is_logged_not_raised(capsys):
    assert not publish_metrics("gold", {"M": 1}, None, client=Recorder(fail=True))
    assert "could not publish run metrics" in capsys.readouterr().out


def test_a_failed_run_is_logged_then_raised(capsys):
    def broken():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_logged("gold", broken)
    record = json.loads(capsys.readouterr().out)
    assert record["level"] == "ERROR"
    assert record["message"] == "gold run failed"
    assert "boom" in record["error"]
    assert run_logged("gold", lambda: None) == 0
