"""Tests of the minimum group size rules (kamfit.domain.anonymity)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamfit.domain.anonymity import (
    HIDDEN,
    MERGED,
    SHOWN,
    check_k,
    fewer_than,
    rater_groups,
    suppress_partition,
)
from kamfit.domain.errors import ValidationError


@pytest.mark.parametrize("k", [2, 11, 3.0, True, "5"])
def test_k_outside_three_to_ten_is_refused_naming_the_field(k: object) -> None:
    with pytest.raises(ValidationError, match="k: must be a whole number from 3 to 10"):
        check_k(k)


def test_suppressed_figures_read_as_words_not_numbers() -> None:
    assert fewer_than(5) == "fewer than 5"


def test_a_small_part_is_hidden_and_the_next_smallest_with_it() -> None:
    s = suppress_partition([6, 5, 1], 5)
    assert s.parts.tolist() == [True, False, False]  # total 12 − 6 leaves 6, not 1
    assert bool(s.total)


def test_no_part_is_shown_when_the_total_is_below_k() -> None:
    s = suppress_partition([2, 2], 5)
    assert s.parts.tolist() == [False, False]
    assert not bool(s.total)


def test_people_in_no_part_count_in_the_total_and_are_protected() -> None:
    # 10 people, 8 in a department, 2 in none: showing the 8 would expose the 2.
    assert suppress_partition([8], 5, total=10).parts.tolist() == [False]
    assert suppress_partition([8], 5, total=13).parts.tolist() == [True]


def test_tables_are_decided_independently_in_one_call() -> None:
    s = suppress_partition([[5, 5, 0], [5, 5, 2], [3, 3, 3]], 5)
    # A tie for the smallest hides the first of them.
    assert s.parts.tolist() == [[True, True, False], [False, True, False], [False] * 3]


@pytest.mark.parametrize(
    ("parts", "total", "field"),
    [([-1, 5], None, "parts"), ([1.5, 5], None, "parts"), ([5, 5], 9, "total"), (5, None, "parts")],
)
def test_bad_sizes_are_refused_naming_the_field(parts: object, total: object, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        suppress_partition(parts, 5, total=total)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("peers", "others", "expected"),
    [
        (3, 3, (SHOWN, SHOWN)),
        (4, 0, (SHOWN, HIDDEN)),
        (2, 5, (MERGED, MERGED)),  # peers pooled into others
        (5, 2, (MERGED, MERGED)),  # others too few: peers join them, never shown alone
        (2, 1, (MERGED, MERGED)),  # 3 together
        (1, 1, (HIDDEN, HIDDEN)),
        (2, 0, (HIDDEN, HIDDEN)),
        (0, 0, (HIDDEN, HIDDEN)),
    ],
)
def test_rater_groups_are_shown_merged_or_hidden(
    peers: int, others: int, expected: tuple[int, int]
) -> None:
    assert tuple(rater_groups([peers, others]).tolist()) == expected


def attack_partition(parts: list[int], total: int, k: int) -> list[str]:
    """Every figure an attacker can form from a shown table; say which isolate < k people.

    People are numbered; part g holds its own block, the rest are in no part. The
    attacker reads every shown cell, subtracts every set of shown parts from the total
    and every shown cell from every other cell that contains it.
    """
    members, start = [], 0
    for n in parts:
        members.append(frozenset(range(start, start + n)))
        start += n
    everyone = frozenset(range(total))
    s = suppress_partition(parts, k, total=total)
    cells = [m for m, shown in zip(members, s.parts.tolist(), strict=True) if shown]
    found = []
    if bool(s.total):
        cells_with_total = [*cells, everyone]
    else:
        cells_with_total = cells
        if cells:
            found.append("a part is shown under a hidden total")
    found += [f"cell of {len(c)}" for c in cells_with_total if len(c) < k]
    for a, b in combinations(cells_with_total, 2):
        for small, big in ((a, b), (b, a)):
            if small <= big and 0 < len(big - small) < k:
                found.append(f"difference of {len(big - small)}")
    if bool(s.total):
        for r in range(1, len(cells) + 1):
            for chosen in combinations(cells, r):
                rest = everyone - frozenset().union(*chosen)
                if 0 < len(rest) < k:
                    found.append(f"total minus {r} parts leaves {len(rest)}")
    return found


@settings(max_examples=500, deadline=None, derandomize=True)
@given(
    parts=st.lists(st.integers(0, 15), min_size=1, max_size=7),
    unplaced=st.integers(0, 6),
    k=st.integers(3, 10),
)
def test_t27_no_shown_cell_or_difference_isolates_fewer_than_k(
    parts: list[int], unplaced: int, k: int
) -> None:
    assert attack_partition(parts, sum(parts) + unplaced, k) == []


@settings(max_examples=500, deadline=None, derandomize=True)
@given(counts=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=12))
def test_t27_every_shown_rater_group_has_three_and_none_nests_in_another(
    counts: list[tuple[int, int]],
) -> None:
    n = np.array(counts, dtype=np.int64).T  # (2 groups, cells)
    placed = rater_groups(n)
    for cell in range(n.shape[1]):
        peers, others = (int(x) for x in n[:, cell])
        where = tuple(int(x) for x in placed[:, cell])
        shown = [size for size, p in zip((peers, others), where, strict=True) if p == SHOWN]
        pooled = sum(size for size, p in zip((peers, others), where, strict=True) if p == MERGED)
        assert all(size >= 3 for size in shown)
        assert pooled == 0 or pooled >= 3
        # A pooled cell holds every group it draws on: no shown group is part of it.
        assert not (shown and pooled)
        # Nothing with ratings is lost unless showing it would break k.
        if peers + others >= 3:
            assert HIDDEN not in [p for size, p in zip((peers, others), where, strict=True) if size]
