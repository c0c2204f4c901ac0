"""Glue-style job arguments and the settings every lake job reads alike."""

import pytest

from todo_lake.args import as_bool, common_settings, parse_glue_args, require


def test_options_take_a_value_an_equals_value_or_mean_true():
    argv = ["stray", "--A", "x", "--B=y=z", "--C", "--D", "", "--", "--E"]
    assert parse_glue_args(argv) == {"A": "x", "B": "y=z", "C": "true", "D": "", "E": "true"}


@pytest.mark.parametrize(
    ("word", "value"), [("true", True), ("1", True), ("False", False), ("no", False)]
)
def test_booleans(word, value):
    assert as_bool(word) is value


def test_a_missing_boolean_takes_its_default():
    assert as_bool(None) is False
    assert as_bool(None, True) is True


def test_a_non_boolean_is_refused():
    with pytest.raises(ValueError, match="boolean"):
        as_bool("maybe")


def test_missing_required_arguments_are_all_named():
    require({"A": "1"}, ("A",))
    with pytest.raises(SystemExit, match="missing job arguments: --B, --C"):
        require({"A": "1"}, ("A", "B", "C"))


def test_common_settings_by_field_name():
    assert common_settings({}) == {"stage": None, "publish_metrics": True}
    got = common_settings(
        {
            "STAGE": "prod",
            "PUBLISH_METRICS": "false",
            "DUCKDB_MEMORY_MB": "300",
            "METRICS_NAMESPACE": "X/Y",
            "OTHER": "ignored",
        }
    )
    assert got == {
        "stage": "prod",
        "publish_metrics": False,
        "duckdb_memory_mb": 300,
        "metrics_namespace": "X/Y",
    }
