from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todo_api.preconditions import IfMatch, MalformedIfMatch, etag_for, parse_if_match


@given(st.integers(min_value=1, max_value=10**12))
def test_a_tasks_etag_matches_itself(version: int) -> None:
    condition = parse_if_match(etag_for(version))
    assert condition is not None
    assert condition.matches(version)
    assert not condition.matches(version + 1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("*", IfMatch(any=True)),
        ('"3"', IfMatch(versions=frozenset({3}))),
        ('"3", "5"', IfMatch(versions=frozenset({3, 5}))),
        (' "3" ,"5" ', IfMatch(versions=frozenset({3, 5}))),
        ('W/"3"', IfMatch(versions=frozenset())),
        ('"abc"', IfMatch(versions=frozenset())),
        ('""', IfMatch(versions=frozenset())),
    ],
)
def test_parsing(header: str, expected: IfMatch) -> None:
    assert parse_if_match(header) == expected


@pytest.mark.parametrize("header", ["", "3", '"3', "W/3", '"3" "4"', '*, "3"'])
def test_malformed(header: str) -> None:
    with pytest.raises(MalformedIfMatch):
        parse_if_match(header)
