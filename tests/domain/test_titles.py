"""Derived titles ("… (repeat)") fit the column they are stored in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kamfit.domain.titles import derived_title


def test_a_title_that_fits_is_kept_whole() -> None:
    assert derived_title("Readiness 2026", " (repeat)", 200) == "Readiness 2026 (repeat)"


def test_a_full_title_is_shortened_with_an_ellipsis_and_keeps_the_added_part() -> None:
    assert derived_title("x" * 200, " (repeat)", 200) == "x" * 190 + "… (repeat)"
    assert derived_title("ab  cd", "!", 5) == "ab…!"  # no space before the ellipsis


@given(st.text(max_size=300), st.text(max_size=40), st.integers(min_value=1, max_value=300))
def test_the_result_never_exceeds_the_limit_and_ends_with_the_suffix_when_it_can(
    base: str, suffix: str, limit: int
) -> None:
    title = derived_title(base, suffix, limit)
    assert len(title) <= limit
    if len(base) + len(suffix) <= limit:
        assert title == base + suffix
    elif len(suffix) + 2 <= limit:
        assert title.endswith("…" + suffix)
