"""The hot path's short cuts give exactly what the general definitions give.

* ``encode_line`` (orjson) == ``to_json_line(...).encode()`` byte for byte;
* ``todo_core.attributes.plain_image`` (strings short-cut) == the general
  ``plain_from_attribute`` applied attribute by attribute.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any, Dict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdc_processor.encoding import encode_line
from todo_core import attributes
from todo_core.events import to_json_line

# Every code point except lone surrogates (which no UTF-8 line can carry).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
NUMBERS = st.one_of(
    st.integers(),  # beyond 64 bits too
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
)
SCALARS = st.one_of(st.none(), st.booleans(), TEXT, NUMBERS)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5)),
    max_leaves=20,
)


@settings(max_examples=60)
@given(st.dictionaries(TEXT, DOCUMENTS, max_size=8))
def test_encode_line_is_to_json_line_byte_for_byte(document: Dict[str, Any]) -> None:
    assert encode_line(document) == to_json_line(document).encode("utf-8")


@pytest.mark.parametrize(
    "text",
    ["\x00\x01\x1f\x7f", '"quoted" \\ back', "\b\f\n\r\t", "\u2028\u2029", "é 中文 🎉", ""],
)
def test_escapes_match(text: str) -> None:
    document = {"k": text, text: [text]}
    assert encode_line(document) == to_json_line(document).encode("utf-8")


def test_documents_orjson_refuses_take_the_exact_writer() -> None:
    document = {"big": 2**70, "decimal": Decimal("0.1"), "neg": -(2**64)}
    assert (
        encode_line(document)
        == b'{"big":1180591620717411303424,"decimal":0.1,"neg":-18446744073709551616}\n'
    )


def test_a_lone_surrogate_fails_either_way() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_line({"k": "\ud800"})
    with pytest.raises(UnicodeEncodeError):
        to_json_line({"k": "\ud800"}).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(10**38), max_value=10**38).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.sampled_from(["1.0", "1E+2", "-0", "0.000", "1E+125", "-7.50"]),
)
ATTRIBUTE = st.recursive(
    st.one_of(
        TEXT.map(lambda s: {"S": s}),
        NUMBER_TEXT.map(lambda n: {"N": n}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.binary(max_size=10).map(lambda b: {"B": _b64(b)}),
        st.lists(TEXT, min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
        st.lists(st.integers(-1000, 1000), min_size=1, max_size=4, unique=True).map(
            lambda v: {"NS": [str(n) for n in v]}
        ),
        st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=3, unique=True).map(
            lambda v: {"BS": [_b64(b) for b in v]}
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: {"L": v}),
        st.dictionaries(TEXT, inner, max_size=4).map(lambda v: {"M": v}),
    ),
    max_leaves=12,
)


@settings(max_examples=80)
@given(st.dictionaries(TEXT, ATTRIBUTE, max_size=10))
def test_plain_image_equals_the_general_conversion(image: Dict[str, Any]) -> None:
    general = {name: attributes.plain_from_attribute(av) for name, av in image.items()}
    fast = attributes.plain_image(image)
    assert fast == general
    assert [type(v) for v in fast.values()] == [type(v) for v in general.values()]
    assert to_json_line(fast) == to_json_line(general)


@pytest.mark.parametrize("bad", [{}, {"S": "a", "N": "1"}, {"Q": "x"}, {"S": b"raw"}, {"N": "x1"}])
def test_plain_image_fails_like_the_general_conversion(bad: Dict[str, Any]) -> None:
    def outcome(fn: Any) -> Any:
        try:
            return ("ok", fn())
        except Exception as exc:
            return ("error", type(exc))

    assert outcome(lambda: attributes.plain_image({"a": bad})) == outcome(
        lambda: {"a": attributes.plain_from_attribute(bad)}
    )
