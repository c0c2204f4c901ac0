import pytest

from todo_silver.args import as_bool, parse_glue_args
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


@pytest.mark.parametrize(
    ("word", "value"), [("true", True), ("1", True), ("False", False), ("no", False)]
)
def test_booleans(word, value):
    assert as_bool(word) is value


def test_a_non_boolean_is_refused():
    with pytest.raises(ValueError, match="boolean"):
        as_bool("maybe")
