import pytest

from todo_lake.args import parse_glue_args
from todo_silver.settings import SilverSettings


def test_glue_style_arguments_are_parsed_and_glue_extras_ignored():
    argv = [
        "--JOB_ID",
        "j_1",
        "--BRONZE_BUCKET",
        "b",
        "--SILVER_BUCKET=s",
        "--DATABASE_NAME",
        "db",
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--FULL_REFRESH",
        "--CHUNK_MB",
        "8",
    ]
    args = parse_glue_args(argv)
    assert args["BRONZE_BUCKET"] == "b"
    assert args["SILVER_BUCKET"] == "s"
    assert args["FULL_REFRESH"] == "true"
    settings = SilverSettings.from_argv(argv)
    assert settings.full_refresh
    assert settings.chunk_mb == 8
    assert settings.database_name == "db"


def test_missing_required_arguments_name_them():
    with pytest.raises(SystemExit, match="--SILVER_BUCKET"):
        SilverSettings.from_argv(["--BRONZE_BUCKET", "b", "--DATABASE_NAME", "d"])
