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


def test_a_secret_of_31_bytes_is_refused_for_either_key() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        CursorCodec(b"s" * 31)
    with pytest.raises(ValueError, match="32 bytes"):
        CursorCodec(SECRET, previous=b"p" * 31)
    assert CursorCodec(b"s" * 32, previous=b"p" * 32).key_id == CODEC.key_id


# --- length cap, and signed content of the wrong shape ---------------------------------------


def _cursor_of_length(length: int) -> str:
    """A correctly signed cursor exactly ``length`` characters long."""
    codec = CursorCodec(SECRET, clock=lambda: 1_800_000_000)
    for size in range(length):
        cursor = codec.encode("scope", {"PK": "x" * size})
        if len(cursor) == length:
            return cursor
    raise AssertionError(f"no cursor of length {length}")


def test_the_longest_cursor_accepted_is_the_cap() -> None:
    """Cursors are read from a query string: one longer than the cap is refused
    before any decoding or signature work, even when correctly signed."""
    codec = CursorCodec(SECRET, clock=lambda: 1_800_000_000)
    at_cap = _cursor_of_length(MAX_CURSOR_LENGTH)
    assert codec.decode("scope", at_cap)["PK"].startswith("x")
    over = codec.encode("scope", {"PK": "x" * 2 * MAX_CURSOR_LENGTH})
    assert len(over) > MAX_CURSOR_LENGTH
    with pytest.raises(InvalidCursor, match=r"^malformed cursor$"):
        codec.decode("scope", over)
    # The next length a cursor can have (a base64url text is never one
    # character more than a multiple of four).
    next_longer = _cursor_of_length(MAX_CURSOR_LENGTH + 2)
    with pytest.raises(InvalidCursor, match=r"^malformed cursor$"):
        codec.decode("scope", next_longer)


def _signed(body: object, scope: str = "scope") -> str:
    """A cursor whose payload is ``body``, signed as the module docstring describes
    (HMAC-SHA256 over scope, NUL, payload): what someone holding the key could mint."""
    import base64
    import hashlib
    import hmac
    import json

    payload = json.dumps(body).encode("utf-8")
    mac = hmac.new(SECRET, scope.encode("utf-8") + b"\x00" + payload, hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    return f"{b64(payload)}.{b64(mac)}"


NOW = 1_800_000_000


def test_the_signing_format_is_the_documented_one() -> None:
    """The helper below mints exactly what the codec mints (so its cursors differ
    from real ones only in the content under test)."""
    codec = CursorCodec(SECRET, clock=lambda: NOW)
    body = {"k": codec.key_id, "t": NOW, "p": {"PK": "TASK#u"}}
    assert codec.decode("scope", _signed(body)) == {"PK": "TASK#u"}


@pytest.mark.parametrize("body", [["not", "an", "object"], "text", 7])
def test_signed_content_that_is_not_an_object_names_no_key(body: object) -> None:
    codec = CursorCodec(SECRET, clock=lambda: NOW)
    with pytest.raises(InvalidCursor, match=r"^cursor is not valid for this query$"):
        codec.decode("scope", _signed(body))


@pytest.mark.parametrize(
    "body",
    [
        {"k": CODEC.key_id, "t": NOW, "p": ["PK", "x"]},
        {"k": CODEC.key_id, "t": NOW, "p": "PK=x"},
        {"k": CODEC.key_id, "t": str(NOW), "p": {"PK": "x"}},
        {"k": CODEC.key_id, "t": float(NOW), "p": {"PK": "x"}},
        {"k": CODEC.key_id, "p": {"PK": "x"}},
        {"k": CODEC.key_id, "t": NOW},
        {"k": CODEC.key_id, "t": NOW, "p": {"PK": 1}},
        {"k": CODEC.key_id, "t": NOW, "p": {"PK": None}},
        {"k": CODEC.key_id, "t": NOW, "p": {"PK": "x", "SK": {"S": "y"}}},
    ],
)
def test_signed_content_that_is_not_a_position_of_strings_is_malformed(body: object) -> None:
    """A correctly signed cursor whose content is not ``{"k", "t", "p": {str: str}}``
    (a future format, a bug in an older container) is a client error, never a
    position handed to the store."""
    codec = CursorCodec(SECRET, clock=lambda: NOW)
    with pytest.raises(InvalidCursor, match=r"^malformed cursor$"):
        codec.decode("scope", _signed(body))


@pytest.mark.parametrize("kid", [["a"], {"a": 1}, 7, None])
def test_a_key_id_that_is_not_text_is_refused_like_an_unknown_key(kid: object) -> None:
    """An unhashable key id must not reach the key lookup (a TypeError there is a 500)."""
    codec = CursorCodec(SECRET, clock=lambda: NOW)
    with pytest.raises(InvalidCursor, match=r"^cursor is not valid for this query$"):
        codec.decode("scope", _signed({"k": kid, "t": NOW, "p": {"PK": "x"}}))


def test_what_the_client_is_told() -> None:
    """The messages reach the client as the problem's detail."""
    with pytest.raises(InvalidCursor, match=r"^malformed cursor$"):
        CODEC.decode("scope", "a.b.c")
    with pytest.raises(InvalidCursor, match=r"^malformed cursor$"):
        CODEC.decode("scope", "!!.!!")
    with pytest.raises(InvalidCursor, match=r"^cursor is not valid for this query$"):
        CODEC.decode("other", CODEC.encode("scope", {"PK": "x"}))
