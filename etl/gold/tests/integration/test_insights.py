"""The insights CLI and report over real gold tables."""

import json
import os

import pytest

from tests.conftest import fixed_workload
from todo_gold.insights import cli

pytestmark = pytest.mark.integration


def _gold_and_outputs(pipeline, tmp_path, **extra):
    """Gold built from the fixed workload, and an outputs file naming it."""
    pipeline.put(fixed_workload())
    pipeline.silver()
    pipeline.gold()
    outputs = tmp_path / "outputs.json"
    names = {
        "GoldBucketName": pipeline.names.gold_bucket,
        "GlueDatabaseName": pipeline.names.glue_database,
    }
    outputs.write_text(json.dumps({**names, **extra}))
    return outputs


def test_named_queries_and_report(pipeline, tmp_path, capsys):
    outputs = _gold_and_outputs(pipeline, tmp_path)
    assert cli.main(["all", "--outputs", str(outputs)]) == 0
    text = capsys.readouterr().out
    for name in (
        "== kpis ==",
        "== completion-trend ==",
        "== top-categories ==",
        "== user-engagement ==",
    ):
        assert name in text
    assert cli.main(["kpis", "--json", "--outputs", str(outputs)]) == 0
    [kpis] = json.loads(capsys.readouterr().out)["kpis"]
    assert kpis["total_tasks"] == 3
    assert kpis["completed_tasks"] == 2
    report = tmp_path / "report.html"
    assert cli.main(["report", "--outputs", str(outputs), "--out", str(report)]) == 0
    page = report.read_text()
    assert "TotalTasks" in page
    assert "Completion trend" in page
    assert os.path.getsize(report) > 1_000_000

    # `all --report` prints every insight and writes the same report, in one process.
    combined = tmp_path / "combined.html"
    assert cli.main(["all", "--report", "--outputs", str(outputs), "--out", str(combined)]) == 0
    text = capsys.readouterr().out
    assert "== user-engagement ==" in text
    assert f"report written to {combined}" in text
    assert "Completion trend" in combined.read_text()
    with pytest.raises(SystemExit, match="--report goes with `all`"):
        cli.main(["kpis", "--report", "--outputs", str(outputs)])


def test_missing_location_is_explained(tmp_path):
    with pytest.raises(SystemExit, match="--gold-bucket"):
        cli.main(["kpis", "--outputs", str(tmp_path / "none.json")])


def test_the_local_stack_is_reached_without_touching_the_environment(
    pipeline, tmp_path, capsys, monkeypatch
):
    """With only the outputs file to go on (no AWS variables, no credentials),
    the CLI aims its own client at the emulator and leaves os.environ alone."""
    outputs = _gold_and_outputs(
        pipeline, tmp_path, AwsEndpointUrl=pipeline.stack.endpoint_url, Region="us-east-1"
    )
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    before = dict(os.environ)
    capsys.readouterr()  # the jobs' log lines
    assert cli.main(["kpis", "--json", "--outputs", str(outputs)]) == 0
    assert dict(os.environ) == before
    [kpis] = json.loads(capsys.readouterr().out)["kpis"]
    assert kpis["total_tasks"] == 3
