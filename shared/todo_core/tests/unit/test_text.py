"""User text: NFC, no control or format characters, invisible-only is blank."""

from __future__ import annotations

import unicodedata
from typing import Any, Callable, Tuple
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_core import text as text_rules
from todo_core.text import clean_text, is_invisible


@pytest.mark.parametrize(
    "text", ["a\u0000b", "a\u001bb", "\u202etxt.exe", "x\u200by", "\ufeffbom", "a\u2066b"]
)
def test_control_and_format_characters_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="control or format"):
        clean_text(text)


def test_tab_and_newline_only_where_allowed() -> None:
    assert clean_text("line 1\n\tline 2", allow_layout=True) == "line 1\n\tline 2"
    with pytest.raises(ValueError, match=r"U\+000A"):
        clean_text("line 1\nline 2")
    with pytest.raises(ValueError, match=r"U\+000D"):
        clean_text("a\rb", allow_layout=True)


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b", "\u3164", " \u2800 ", "\u0301"])
def test_invisible_only_text_is_blank(text: str) -> None:
    assert is_invisible(text)


@given(st.text())
def test_cleaned_text_is_nfc_and_printable(text: str) -> None:
    try:
        cleaned = clean_text(text)
    except ValueError:
        return
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in cleaned)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs"))))
def test_ordinary_text_is_kept_as_nfc(text: str) -> None:
    assert clean_text(text) == unicodedata.normalize("NFC", text)


def _outcome(function: Callable[..., Any], *args: Any) -> Tuple[str, Any]:
    try:
        return ("ok", function(*args))
    except ValueError as exc:
        return ("refused", str(exc))


@settings(max_examples=400)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40),
        st.text(alphabet=" \t\n\x00\x7fab", max_size=10),
    ),
    st.booleans(),
)
def test_the_printable_ascii_shortcut_answers_as_the_full_rule(
    value: str, allow_layout: bool
) -> None:
    fast = (_outcome(clean_text, value, allow_layout), is_invisible(value))
    with mock.patch.object(text_rules, "_printable_ascii", return_value=False):
        full = (_outcome(clean_text, value, allow_layout), is_invisible(value))
    assert fast == full
