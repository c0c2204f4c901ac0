"""The DynamoDB value codec and the exact-number JSON, over all inputs."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Dict

import pytest
from dynamodb_values import (
    ATTRIBUTE_VALUES,
    NUMBER_TEXT,
    TEXT,
    as_lambda_json,
    expected_plain,
    same,
)
from hypothesis import given
from hypothesis import strategies as st

from todo_core import attributes


def _typed_canonical(av: Dict[str, Any]) -> Any:
    """A typed value with numbers and sets in a comparable form."""
    ((kind, value),) = av.items()
    if kind == "N":
        return ("N", Decimal(value))
    if kind == "NS":
        return ("NS", frozenset(Decimal(v) for v in value))
    if kind in ("SS", "BS"):
        return (kind, frozenset(value))
    if kind == "L":
        return ("L", [_typed_canonical(v) for v in value])
    if kind == "M":
        return ("M", {k: _typed_canonical(v) for k, v in value.items()})
    return (kind, value)


@given(ATTRIBUTE_VALUES)
def test_typed_value_round_trips_through_python(av: Dict[str, Any]) -> None:
    python = attributes.from_attribute(av)
    assert _typed_canonical(attributes.to_attribute(python)) == _typed_canonical(av)


@given(ATTRIBUTE_VALUES)
def test_lambda_base64_binary_decodes_like_boto3_bytes(av: Dict[str, Any]) -> None:
    assert same(
        attributes.plain_from_attribute(as_lambda_json(av)),
        attributes.plain_from_attribute(av),
    )


@given(ATTRIBUTE_VALUES)
def test_plain_form_follows_the_contract(av: Dict[str, Any]) -> None:
    assert same(attributes.plain_from_attribute(av), expected_plain(av))


@given(NUMBER_TEXT)
def test_numbers_are_exact_and_integers_stay_int(text: str) -> None:
    value = attributes.from_attribute({"N": text})
    assert not isinstance(value, float)
    assert Decimal(value) == Decimal(text)
    if isinstance(value, Decimal):
        assert value != value.to_integral_value() or value.copy_abs() >= Decimal("1E+38")
    assert Decimal(attributes.to_attribute(value)["N"]) == Decimal(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.0", 1), ("1E+2", 100), ("-0", 0), ("100.00", 100), ("1.5", Decimal("1.5"))],
)
def test_integral_numbers_become_int(text: str, expected: Any) -> None:
    value = attributes.from_attribute({"N": text})
    assert value == expected
    assert type(value) is type(expected)


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        NUMBER_TEXT.map(Decimal),
        TEXT,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(TEXT, children, max_size=4),
    ),
    max_leaves=25,
)


@given(JSON_VALUES)
def test_dumps_loads_round_trip_exactly(value: Any) -> None:
    text = attributes.dumps(value)
    assert same(attributes.loads(text), value)
    json.loads(text)  # standard JSON, readable by any parser


def test_dumps_writes_decimals_digit_for_digit() -> None:
    value = {"n": Decimal("0.12345678901234567890123456789012345678"), "i": 10**37}
    text = attributes.dumps(value)
    assert text == (
        '{"n":0.12345678901234567890123456789012345678,"i":10000000000000000000000000000000000000}'
    )
    assert attributes.loads(text) == value


@pytest.mark.parametrize(
    "bad", [Decimal("NaN"), Decimal("Infinity"), float("nan"), {1: Decimal(1)}]
)
def test_dumps_refuses_what_is_not_json(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        attributes.dumps({"x": bad} if not isinstance(bad, dict) else bad)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"x": -Infinity}'])
def test_loads_refuses_non_json_constants(text: str) -> None:
    with pytest.raises(ValueError, match="not a JSON number"):
        attributes.loads(text)


@pytest.mark.parametrize(
    "value",
    [1.5, True and float("inf"), {1, "a"}, set(), object(), Decimal("NaN")],
)
def test_to_attribute_refuses_inexact_or_unknown_values(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        attributes.to_attribute(value)


def test_unknown_type_descriptor_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown DynamoDB type"):
        attributes.from_attribute({"X": "1"})
