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


def test_the_longest_version_tag_is_18_digits() -> None:
    """A version is at most 18 digits (DynamoDB numbers and Python ints agree on
    it); a longer run of digits is a valid tag that matches no task."""
    longest = "9" * 18
    condition = parse_if_match(f'"{longest}"')
    assert condition == IfMatch(versions=frozenset({int(longest)}))
    assert parse_if_match('"1' + "0" * 18 + '"') == IfMatch(versions=frozenset())


def test_a_tag_of_thousands_of_digits_is_a_tag_that_matches_nothing() -> None:
    """Turning it into an int would raise a plain ValueError (Python refuses to
    convert more than 4,300 digits): a 500 instead of a failed precondition."""
    assert parse_if_match('"' + "7" * 5000 + '"') == IfMatch(versions=frozenset())


@pytest.mark.parametrize("header", ['"03"', '"+3"', '"3.0"', '"0"', '"-3"'])
def test_other_spellings_of_a_version_match_nothing(header: str) -> None:
    assert parse_if_match(header) == IfMatch(versions=frozenset())


def test_what_the_client_is_told_about_a_malformed_header() -> None:
    """The messages are the problem's detail."""
    with pytest.raises(MalformedIfMatch, match=r"^If-Match is empty$"):
        parse_if_match("   ")
    with pytest.raises(
        MalformedIfMatch, match=r"^If-Match must be '\*' or a list of quoted entity tags$"
    ):
        parse_if_match("3")


def test_a_parsed_condition_cannot_be_changed() -> None:
    import dataclasses

    condition = parse_if_match('"3"')
    assert condition is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        condition.any = True  # type: ignore[misc]
    assert not IfMatch().matches(1), "an empty condition matches nothing"
