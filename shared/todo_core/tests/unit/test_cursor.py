"""Cursors are opaque and tamper-evident: any alteration is InvalidCursor."""

from __future__ import annotations

from typing import Dict

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from todo_core.cursor import MAX_CURSOR_LENGTH, CursorCodec
from todo_core.errors import InvalidCursor

SECRET = b"s" * 32
CODEC = CursorCodec(SECRET)

SCOPES = st.text(max_size=60)
POSITIONS = st.dictionaries(
    st.sampled_from(["PK", "SK", "GSI1PK", "GSI1SK", "GSI3PK", "GSI3SK"]),
    st.text(max_size=80),
    min_size=1,
)


@given(scope=SCOPES, position=POSITIONS)
def test_round_trip(scope: str, position: Dict[str, str]) -> None:
    cursor = CODEC.encode(scope, position)
    assert CODEC.decode(scope, cursor) == position
    assert cursor.isascii()


@given(
    scope=SCOPES,
    position=POSITIONS,
    data=st.data(),
)
def test_any_changed_character_is_rejected(
    scope: str, position: Dict[str, str], data: st.DataObject
) -> None:
    cursor = CODEC.encode(scope, position)
    index = data.draw(st.integers(0, len(cursor) - 1), label="index")
    replacement = data.draw(
        st.one_of(
            st.sampled_from("AQgw_-.=+/ !A0aZz"),
            st.characters(blacklist_categories=("Cs",)),
        ),
        label="replacement",
    )
    assume(replacement != cursor[index])
    tampered = cursor[:index] + replacement + cursor[index + 1 :]
    with pytest.raises(InvalidCursor):
        CODEC.decode(scope, tampered)


@given(scope=SCOPES, position=POSITIONS, data=st.data())
def test_inserted_or_removed_characters_are_rejected(
    scope: str, position: Dict[str, str], data: st.DataObject
) -> None:
    cursor = CODEC.encode(scope, position)
    index = data.draw(st.integers(0, len(cursor)), label="index")
    extra = data.draw(st.text(min_size=1, max_size=3), label="extra")
    with pytest.raises(InvalidCursor):
        CODEC.decode(scope, cursor[:index] + extra + cursor[index:])
    if index < len(cursor):
        with pytest.raises(InvalidCursor):
            CODEC.decode(scope, cursor[:index] + cursor[index + 1 :])


@given(scope=SCOPES, other=SCOPES, position=POSITIONS)
def test_a_cursor_is_bound_to_its_scope(scope: str, other: str, position: Dict[str, str]) -> None:
    assume(scope != other)
    with pytest.raises(InvalidCursor):
        CODEC.decode(other, CODEC.encode(scope, position))


@given(position=POSITIONS, forged=POSITIONS)
def test_swapping_in_another_payload_is_rejected(
    position: Dict[str, str], forged: Dict[str, str]
) -> None:
    assume(position != forged)
    real = CODEC.encode("scope", position)
    other = CODEC.encode("scope", forged)
    spliced = other.split(".")[0] + "." + real.split(".")[1]
    with pytest.raises(InvalidCursor):
        CODEC.decode("scope", spliced)


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("part", [0, 1])
def test_non_canonical_encodings_of_the_same_bytes_are_rejected(part: int) -> None:
    """The last base64 character carries unused low bits; setting them gives
    another text for the same bytes, which a lax decoder would accept."""
    cursor = CODEC.encode("scope", {"PK": "TASK#u", "SK": "TASK#t1"})
    parts = cursor.split(".")
    text = parts[part]
    assert len(text) % 4 != 0, "the example needs a part with unused bits"
    last = ALPHABET.index(text[-1])
    for low_bits in (1, 2, 3):
        parts_changed = list(parts)
        parts_changed[part] = text[:-1] + ALPHABET[last | low_bits]
        if parts_changed[part] == text:
            continue
        with pytest.raises(InvalidCursor):
            CODEC.decode("scope", ".".join(parts_changed))


@pytest.mark.parametrize("noise", ["!!!!", "\n\n\n\n", "    ", "====", "+/+/"])
@pytest.mark.parametrize("where", [0, 5, -1])
def test_characters_a_lax_decoder_would_skip_are_rejected(noise: str, where: int) -> None:
    cursor = CODEC.encode("scope", {"PK": "TASK#u", "SK": "TASK#t"})
    payload, mac = cursor.split(".")
    index = len(payload) if where == -1 else where
    with pytest.raises(InvalidCursor):
        CODEC.decode("scope", payload[:index] + noise + payload[index:] + "." + mac)
    with pytest.raises(InvalidCursor):
        CODEC.decode("scope", payload + "." + mac + noise)


def test_another_secret_cannot_verify() -> None:
    cursor = CursorCodec(b"t" * 32).encode("scope", {"PK": "x"})
    with pytest.raises(InvalidCursor):
        CODEC.decode("scope", cursor)


@pytest.mark.parametrize(
    "cursor",
    ["", ".", "abc", "a.b.c", "####.####", "é.é", "x" * (MAX_CURSOR_LENGTH + 1), "e30.", ".e30"],
)
def test_malformed_cursors_are_rejected(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        CODEC.decode("scope", cursor)


def test_secret_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CursorCodec(b"short")
