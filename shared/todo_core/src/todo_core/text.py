"""What user-supplied text may contain (titles, descriptions, categories).

Text is normalised to NFC (one spelling per visible string, so equal-looking
categories are equal keys) and must not contain control or format
characters (Unicode ``Cc``, ``Cf``: NUL, escape sequences, zero-width and
bidirectional overrides that make text display differently from what it
is), nor lone surrogates (``Cs``), which cannot be stored. Tab and newline
are allowed where a caller says so (descriptions). Text made only of
invisible characters counts as blank. Emoji joined with U+200D (a format
character) are refused too: the rule is simple and the same everywhere.
"""

from __future__ import annotations

import unicodedata

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
#: Characters that render as nothing although they are letters or symbols.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_LAYOUT = "\t\n"
_WITHOUT_LAYOUT = str.maketrans("", "", _LAYOUT)

# Printable ASCII (U+0020-U+007E) is already NFC and holds no control,
# format or surrogate character: two C-level string tests answer for it
# instead of a Python loop over every character (most titles, descriptions
# and categories are such text; the loops were about a tenth of a warm
# create in the API).


def _printable_ascii(value: str, allow_layout: bool = False) -> bool:
    return value.isascii() and (
        value.isprintable() or (allow_layout and value.translate(_WITHOUT_LAYOUT).isprintable())
    )


def is_invisible(value: str) -> bool:
    """True when ``value`` shows nothing to a person (empty, spaces, zero-width...)."""
    if _printable_ascii(value):
        return not value.strip(" ")
    return all(
        ch.isspace()
        or ch in _BLANK_LOOKING
        or unicodedata.category(ch) in _REFUSED_CATEGORIES
        or unicodedata.category(ch) in ("Mn", "Me")
        for ch in value
    )


def clean_text(value: str, allow_layout: bool = False) -> str:
    """``value`` in NFC; ValueError if it holds a refused character.

    ``allow_layout`` admits tab and newline (descriptions).
    """
    if _printable_ascii(value, allow_layout):
        return value
    value = unicodedata.normalize("NFC", value)
    for ch in value:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES and not (allow_layout and ch in _LAYOUT):
            raise ValueError(f"must not contain control or format characters (U+{ord(ch):04X})")
    return value
