"""Hypothesis strategies for DynamoDB attribute values, and an independent
statement of the plain-JSON contract to check the codec against."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any, Dict

from hypothesis import strategies as st

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)

_COEFFICIENTS = st.integers(-(10**38) + 1, 10**38 - 1)


def _in_dynamodb_range(text: str) -> bool:
    value = Decimal(text).copy_abs()  # exact, unlike abs()
    return value == 0 or Decimal("1E-130") <= value < Decimal("1E+126")


#: Number texts DynamoDB accepts: up to 38 significant digits, magnitude
#: 1E-130 to below 1E+126. Built from strings, so nothing is rounded.
NUMBER_TEXT = st.one_of(
    _COEFFICIENTS.map(str),
    st.builds(lambda c, e: f"{c}E{e}", _COEFFICIENTS, st.integers(-167, 125)).filter(
        _in_dynamodb_range
    ),
    st.sampled_from(
        [
            "0.1",
            "-0.000",
            "12345678901234567890123456789012345678",
            "0.12345678901234567890123456789012345678",
            "-9.9999999999999999999999999999999999999E+125",
            "1E-130",
            "1E+125",
            "100.00",
        ]
    ),
)

_scalars = st.one_of(
    TEXT.map(lambda s: {"S": s}),
    NUMBER_TEXT.map(lambda n: {"N": n}),
    st.binary(max_size=20).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(TEXT, min_size=1, max_size=5, unique=True).map(lambda v: {"SS": v}),
    st.lists(NUMBER_TEXT, min_size=1, max_size=5, unique_by=Decimal).map(lambda v: {"NS": v}),
    st.lists(st.binary(max_size=8), min_size=1, max_size=5, unique=True).map(lambda v: {"BS": v}),
)

#: Any typed attribute value, nested lists and maps included (binary as bytes,
#: as boto3 returns it).
ATTRIBUTE_VALUES = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda v: {"L": v}),
        st.dictionaries(NAMES, children, max_size=4).map(lambda v: {"M": v}),
    ),
    max_leaves=25,
)

ITEMS = st.dictionaries(NAMES, ATTRIBUTE_VALUES, max_size=8)


def as_lambda_json(value: Any) -> Any:
    """The same attribute value as a Lambda event carries it: binary as base64 text.

    Walks the typed structure (``{"M": {name: value}}``, ``{"L": [...]}``), so a
    map whose attribute happens to be named ``B`` is not taken for binary.
    """
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "M":
        return {"M": {name: as_lambda_json(v) for name, v in inner.items()}}
    if kind == "L":
        return {"L": [as_lambda_json(v) for v in inner]}
    return {kind: inner}


def record_as_lambda_json(record: Dict[str, Any]) -> Dict[str, Any]:
    """A whole stream record as a Lambda event carries it (its images' binary as base64)."""
    out = dict(record)
    out["dynamodb"] = {
        part: (
            {name: as_lambda_json(v) for name, v in value.items()}
            if part in ("Keys", "NewImage", "OldImage") and value is not None
            else value
        )
        for part, value in record["dynamodb"].items()
    }
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def expected_plain(av: Dict[str, Any]) -> Any:
    """The contract, written independently of the codec: no type descriptors,
    numbers as exact decimals, sets as sorted lists, binary as base64."""
    ((kind, value),) = av.items()
    if kind in ("S", "BOOL"):
        return value
    if kind == "NULL":
        return None
    if kind == "N":
        return Decimal(value)
    if kind == "B":
        return _b64(value)
    if kind == "SS":
        return sorted(value)
    if kind == "NS":
        return sorted(Decimal(v) for v in value)
    if kind == "BS":
        return sorted(_b64(v) for v in value)
    if kind == "L":
        return [expected_plain(v) for v in value]
    if kind == "M":
        return {k: expected_plain(v) for k, v in value.items()}
    raise AssertionError(kind)


def same(actual: Any, expected: Any) -> bool:
    """Exact equality, numbers compared by value; a float anywhere is a failure
    (it would mean a number went through binary floating point)."""
    if isinstance(actual, float) or isinstance(expected, float):
        return False
    if isinstance(expected, (Decimal, int)) and not isinstance(expected, bool):
        return (
            isinstance(actual, (Decimal, int))
            and not isinstance(actual, bool)
            and Decimal(actual) == Decimal(expected)
        )
    if isinstance(expected, bool) or expected is None or isinstance(expected, (str, bytes)):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k]) for k in expected)
        )
    if isinstance(expected, (set, frozenset)):
        return isinstance(actual, (set, frozenset)) and _canonical(actual) == _canonical(expected)
    raise AssertionError(type(expected))


def _canonical(values: Any) -> Any:
    return frozenset(
        Decimal(v) if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else v
        for v in values
    )
