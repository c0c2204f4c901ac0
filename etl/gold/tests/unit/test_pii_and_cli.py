import datetime as dt

import pyarrow as pa
import pytest

from todo_gold.insights.cli import format_value, render_table
from todo_gold.insights.report import build_html
from todo_gold.job import make_engine
from todo_gold.settings import GoldSettings


def test_personal_data_is_pseudonymised_by_default():
    settings = GoldSettings(silver_bucket="s", gold_bucket="g", database_name="d")
    assert settings.pii_mode == "hmac"
    with pytest.raises(ValueError, match="PII mode"):
        GoldSettings(silver_bucket="s", gold_bucket="g", database_name="d", pii_mode="hash")


def test_gold_arguments():
    s = GoldSettings.from_argv(
        [
            "--SILVER_BUCKET",
            "s",
            "--GOLD_BUCKET",
            "g",
            "--DATABASE_NAME",
            "d",
            "--ENGINE",
            "ATHENA",
            "--AS_OF",
            "2025-01-01T00:00:00Z",
            "--PII_MODE",
            "CLEAR",
            "--PII_HMAC_SECRET_ID",
            "arn:aws:secretsmanager:us-east-1:1:secret:k",
        ]
    )
    assert s.engine == "athena"
    assert s.pii_mode == "clear"
    assert s.pii_hmac_secret_id == "arn:aws:secretsmanager:us-east-1:1:secret:k"
    assert s.as_of == dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(ValueError, match="engine"):
        GoldSettings(silver_bucket="s", gold_bucket="g", database_name="d", engine="presto")
    # Spark is an engine of gold, run by the Glue Spark job, not by this one.
    spark = GoldSettings(silver_bucket="s", gold_bucket="g", database_name="d", engine="spark")
    with pytest.raises(ValueError, match=r"todo_lake_spark\.gold_job"):
        make_engine(spark)


def test_tables_print_aligned():
    text = render_table(
        pa.table(
            {"category": ["work", "home"], "total_tasks": [1200, 3], "completion_rate": [0.5, None]}
        ),
        title="== top ==",
    )
    lines = text.splitlines()
    assert lines[0] == "== top =="
    assert "1,200" in text
    assert lines[3].endswith("0.5")
    assert format_value(dt.datetime(2025, 1, 1, 12)) == "2025-01-01 12:00:00"


def test_report_is_self_contained_html():
    page = build_html(
        {
            "as_of": dt.datetime(2025, 1, 1),
            "total_users": 2,
            "active_users": 1,
            "total_tasks": 3,
            "completed_tasks": 2,
            "completion_rate": 2 / 3,
            "avg_tasks_per_user": 1.5,
        },
        [
            {
                "metric_date": "2025-01-01",
                "tasks_created": 2,
                "tasks_completed": 1,
                "completions_per_creation": 0.5,
            }
        ],
        [{"category": "work", "total_tasks": 2, "completed_tasks": 1}],
        [{"user_id": "u-1", "changes_last_30_days": 2}],
    )
    assert "66.7%" in page
    assert "CompletionRate" in page
    assert "completed / existing tasks" in page
    assert '<script src="http' not in page
    assert "plotly" in page.lower()
    assert len(page) > 1_000_000  # plotly.js is inlined: the file works offline
