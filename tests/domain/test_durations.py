"""Durations as written on a command line, and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentstatus.domain.durations import parse_duration, written


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("12h", 43200),
        ("7d", 604800),
        ("1h30m", 5400),
        ("3600", 3600),
        (" 2H ", 7200),
        ("0s", 0),
        ("1d2h3m4s", 93784),
    ],
)
def test_durations_people_write(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "h", "1.5h", "-1h", "1h1h", "1w", "1 h", "soon", "1h 30m", "\uff11h"]
)
def test_anything_else_is_refused_saying_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="such as 90s, 15m"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**8))
def test_written_reads_back(seconds: int) -> None:
    assert parse_duration(written(seconds)) == seconds
