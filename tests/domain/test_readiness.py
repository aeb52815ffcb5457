"""Tests of the organisation readiness scores (kamfit.domain.readiness)."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamfit.domain.errors import ValidationError
from kamfit.domain.readiness import (
    DONT_KNOW,
    FAIR,
    GOOD,
    MIN_GROUP_CEILING,
    MIN_GROUP_FLOOR,
    NO_ANSWER,
    OTHER_DEPARTMENTS,
    POOR,
    SCORE_OF,
    Breakdown,
    ItemStats,
    change,
    department_breakdown,
    disagreements,
    group_means,
    item_stats,
    response_rate,
    weakest,
)

P, F, G, DK, NA = POOR, FAIR, GOOD, DONT_KNOW, NO_ANSWER
DEPARTMENTS = ["Sales", "Marketing", "Finance", "Operations", "Legal", "IT", "HR", "Service"]


def matrix(rows: list[list[int]]) -> npt.NDArray[np.int8]:
    return np.array(rows, dtype=np.int8)


def audit(sizes: list[int], item: int = GOOD) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.intp]]:
    """Return one-item ratings and departments: sizes[d] respondents in department d."""
    groups = np.repeat(np.arange(len(sizes)), sizes).astype(np.intp)
    return np.full((len(groups), 1), item, dtype=np.int8), groups


# item_stats ---------------------------------------------------------------------------------


def test_item_stats_matches_hand_computed_means_counts_and_spreads():
    stats = item_stats(
        matrix(
            [
                [P, G, DK],
                [F, G, NA],
                [G, DK, NA],
                [NA, NA, NA],
            ]
        )
    )
    first, second, third = stats
    # (0 + 50 + 100) / 3 = 50; population variance (2500 + 0 + 2500) / 3.
    assert (first.mean, first.answered, first.dont_know, first.counts) == (50.0, 3, 0, (1, 1, 1))
    assert first.spread == pytest.approx(math.sqrt(5000 / 3))
    assert second == ItemStats(100.0, 2, 1, (0, 0, 2), 0.0)
    assert (third.answered, third.dont_know, third.counts) == (0, 1, (0, 0, 0))
    assert math.isnan(third.mean)
    assert math.isnan(third.spread)


def test_dont_know_and_no_answer_lower_nothing():
    answered = item_stats(matrix([[G], [F]]))[0]
    with_gaps = item_stats(matrix([[G], [F], [DK], [DK], [NA]]))[0]
    assert with_gaps.mean == answered.mean == 75.0
    assert with_gaps.spread == answered.spread == 25.0
    assert (with_gaps.answered, with_gaps.dont_know) == (2, 2)


def test_item_stats_spread_needs_two_answers():
    only = item_stats(matrix([[F], [DK]]))[0]
    assert only.mean == SCORE_OF[FAIR]
    assert math.isnan(only.spread)


def test_item_stats_of_no_respondents_is_all_nan():
    stats = item_stats(np.empty((0, 2), dtype=np.int8))
    assert len(stats) == 2
    assert all(s.answered == 0 and math.isnan(s.mean) for s in stats)


@pytest.mark.parametrize(
    "bad",
    [np.array([1, 2], dtype=np.int8), matrix([[4]]), matrix([[-2]]), np.array([[1.0]])],
    ids=["one-dimensional", "code-above-good", "code-below-no-answer", "floats"],
)
def test_item_stats_rejects_malformed_ratings(bad):
    with pytest.raises(ValidationError) as caught:
        item_stats(bad)
    assert caught.value.problems[0].location == "ratings"


def test_item_stats_handles_a_hundred_thousand_respondents_in_whole_matrix_operations():
    rng = np.random.default_rng(2006)
    ratings = rng.integers(NO_ANSWER, GOOD + 1, size=(100_000, 40), dtype=np.int8)
    stats = item_stats(ratings)
    assert len(stats) == 40
    column = ratings[:, 7]
    assert stats[7].counts == tuple(int(np.count_nonzero(column == c)) for c in (P, F, G))
    assert stats[7].dont_know == int(np.count_nonzero(column == DK))
    scores = np.array([SCORE_OF[c] for c in column[column >= P]])
    assert stats[7].mean == pytest.approx(scores.mean())
    assert stats[7].spread == pytest.approx(scores.std())


# group_means --------------------------------------------------------------------------------


def test_group_means_average_scored_items_and_skip_the_unscored():
    means = np.array([0.0, 50.0, 100.0, np.nan, 30.0, np.nan])
    membership = np.array([0, 0, 1, 1, -1, 2], dtype=np.intp)
    result = group_means(means, membership, 4)
    # Group 0: (0 + 50) / 2; group 1: 100 (nan skipped); group 2 only nan; group 3 empty.
    np.testing.assert_array_equal(result, [25.0, 100.0, np.nan, np.nan])


@pytest.mark.parametrize(
    ("membership", "n_groups"),
    [([0, 1], 2), ([0, 2, 0], 2), ([0, -2, 0], 2), ([0, 0, 0], -1)],
    ids=["length", "above-range", "below-range", "negative-count"],
)
def test_group_means_rejects_bad_membership(membership, n_groups):
    with pytest.raises(ValidationError):
        group_means(np.zeros(3), np.array(membership, dtype=np.intp), n_groups)


# department_breakdown -----------------------------------------------------------------------


def test_breakdown_shows_every_department_of_at_least_k():
    ratings, groups = audit([5, 6])
    ratings[5:, 0] = POOR
    b = department_breakdown(ratings, groups, ["Sales", "Finance"])
    assert (b.labels, b.sizes, b.hidden) == (("Sales", "Finance"), (5, 6), 0)
    np.testing.assert_array_equal(b.means, [[100.0], [0.0]])
    assert b.note == "Every department shown has at least 5 respondents."


def test_two_small_departments_are_pooled_once_the_pool_reaches_k():
    ratings, groups = audit([6, 7, 3, 2])
    ratings[13:, 0] = FAIR  # the 5 respondents of Finance and Operations
    b = department_breakdown(ratings, groups, DEPARTMENTS[:4])
    assert b.labels == ("Sales", "Marketing", OTHER_DEPARTMENTS)
    assert b.sizes == (6, 7, 5)
    np.testing.assert_array_equal(b.means[:, 0], [100.0, 100.0, 50.0])
    assert b.note == "2 departments with fewer than 5 respondents are pooled as Other departments."


def test_a_department_of_two_never_appears_and_forces_complementary_suppression():
    # Pool of 2 (< k): the smallest shown department (Marketing, 5) joins it, else
    # Finance's 2 answers could be worked out as total minus Sales minus Marketing.
    ratings, groups = audit([6, 5, 2])
    ratings[11:, 0] = POOR
    b = department_breakdown(ratings, groups, DEPARTMENTS[:3])
    assert "Finance" not in b.labels
    assert b.labels == ("Sales", OTHER_DEPARTMENTS)
    assert b.sizes == (6, 7)
    # Other departments: 5 Good from Marketing and 2 Poor from Finance.
    np.testing.assert_allclose(b.means[:, 0], [100.0, 500 / 7])
    assert b.hidden == 0
    assert "1 department with fewer than 5 respondents is pooled" in b.note
    assert "1 larger department is pooled as well" in b.note


def test_complementary_suppression_takes_the_smallest_department_first():
    b = department_breakdown(*audit([9, 6, 7, 1]), DEPARTMENTS[:4])
    assert b.labels == ("Sales", "Finance", OTHER_DEPARTMENTS)
    assert b.sizes == (9, 7, 7)


@pytest.mark.parametrize(
    "sizes",
    [[8], [8, 0, 0], [8, 2], [3, 4], [2, 2, 2]],
    ids=["one", "empties", "one+2", "small", "3x2"],
)
def test_no_breakdown_when_fewer_than_two_groups_could_be_shown(sizes):
    b = department_breakdown(*audit(sizes), DEPARTMENTS[: len(sizes)])
    assert (b.labels, b.sizes) == ((), ())
    assert b.hidden == sum(sizes)
    assert b.means.shape == (0, 1)
    assert b.note.startswith("No breakdown by department is shown")


def test_respondents_who_answered_nothing_do_not_count_towards_k():
    ratings, groups = audit([5, 5])
    ratings[0, 0] = NO_ANSWER
    ratings[5, 0] = DONT_KNOW  # "don't know" is an answer: this respondent counts
    b = department_breakdown(ratings, groups, ["Sales", "Finance"])
    assert (b.labels, b.hidden) == ((), 9)


def test_group_means_are_nan_where_nobody_in_the_group_answered_the_item():
    ratings = np.array([[GOOD, DONT_KNOW]] * 5 + [[POOR, FAIR]] * 5, dtype=np.int8)
    b = department_breakdown(ratings, np.repeat([0, 1], 5).astype(np.intp), ["Sales", "Finance"])
    np.testing.assert_array_equal(b.means, [[100.0, np.nan], [0.0, 50.0]])


def test_respondents_without_a_department_are_counted_in_other_departments():
    ratings, groups = audit([5, 3])
    groups = np.concatenate([groups, [-1, -1]]).astype(np.intp)
    ratings = np.concatenate([ratings, ratings[:2]])
    b = department_breakdown(ratings, groups, ["Sales", "Finance"])
    assert (b.labels, b.sizes) == (("Sales", OTHER_DEPARTMENTS), (5, 5))
    assert "without a department" in b.note


def test_breakdown_means_cannot_be_overwritten():
    b = department_breakdown(*audit([5, 5]), ["Sales", "Finance"])
    with pytest.raises(ValueError, match="read-only"):
        b.means[0, 0] = 0.0


@pytest.mark.parametrize("k", [MIN_GROUP_FLOOR - 1, MIN_GROUP_CEILING + 1, 0, -5])
def test_min_group_outside_three_to_ten_is_refused(k):
    with pytest.raises(ValidationError) as caught:
        department_breakdown(*audit([5, 5]), ["Sales", "Finance"], min_group=k)
    assert caught.value.problems[0].location == "min_group"


def test_breakdown_rejects_departments_that_do_not_match():
    ratings, groups = audit([5, 5])
    with pytest.raises(ValidationError):
        department_breakdown(ratings, groups[:-1], ["Sales", "Finance"])
    with pytest.raises(ValidationError):
        department_breakdown(ratings, groups, ["Sales"])


@st.composite
def organisations(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[str], int]:
    n_departments = draw(st.integers(1, 8))
    n_respondents = draw(st.integers(1, 60))
    n_items = draw(st.integers(1, 4))
    groups = draw(
        st.lists(st.integers(0, n_departments - 1), min_size=n_respondents, max_size=n_respondents)
    )
    answers = draw(
        st.lists(
            st.lists(st.integers(NO_ANSWER, GOOD), min_size=n_items, max_size=n_items),
            min_size=n_respondents,
            max_size=n_respondents,
        )
    )
    k = draw(st.integers(MIN_GROUP_FLOOR, MIN_GROUP_CEILING))
    return (
        np.array(answers, dtype=np.int8),
        np.array(groups, dtype=np.intp),
        DEPARTMENTS[:n_departments],
        k,
    )


def reference_means(ratings: np.ndarray, members: list[int]) -> list[float]:
    """Average each item over the given respondents with plain Python (the slow, obvious way)."""
    out = []
    for item in range(ratings.shape[1]):
        scores = [SCORE_OF[int(ratings[r, item])] for r in members if ratings[r, item] >= POOR]
        out.append(sum(scores) / len(scores) if scores else math.nan)
    return out


@settings(max_examples=300, deadline=None)
@given(organisations())
def test_no_subtraction_of_visible_groups_isolates_fewer_than_k_respondents(org):
    ratings, groups, labels, k = org
    b = department_breakdown(ratings, groups, labels, min_group=k)
    active = [r for r in range(len(groups)) if (ratings[r] != NO_ANSWER).any()]
    total = len(active)

    assert sum(b.sizes) + b.hidden == total
    assert len(b.labels) != 1
    assert all(size >= k for size in b.sizes)
    # Every union of visible groups (one group, all groups, anything between) leaves 0 or ≥ k.
    for n in range(1, len(b.sizes) + 1):
        for chosen in combinations(b.sizes, n):
            assert total - sum(chosen) == 0 or total - sum(chosen) >= k

    # The figures are the real ones: departments in label order, the pool last.
    shown = [label for label in b.labels if label != OTHER_DEPARTMENTS]
    assert shown == [label for label in labels if label in shown]
    assert OTHER_DEPARTMENTS not in b.labels[:-1]
    members = {label: [r for r in active if labels[groups[r]] == label] for label in shown}
    if OTHER_DEPARTMENTS in b.labels:
        members[OTHER_DEPARTMENTS] = [r for r in active if labels[groups[r]] not in shown]
    assert b.sizes == tuple(len(members[label]) for label in b.labels)
    for row, label in enumerate(b.labels):
        np.testing.assert_allclose(b.means[row], reference_means(ratings, members[label]))


# disagreements ------------------------------------------------------------------------------


def stats_with(spread: float, answered: int) -> ItemStats:
    return ItemStats(50.0, answered, 0, (0, answered, 0), spread)


def test_disagreements_rank_by_department_range_then_spread_with_nan_last():
    nan = math.nan
    breakdown = Breakdown(
        labels=("Sales", "Finance"),
        sizes=(5, 5),
        means=np.array([[100.0, 50, 50, nan, 20, 40], [0.0, 50, 70, 60, nan, 60]]),
        hidden=0,
        note="",
    )
    stats = [
        stats_with(50.0, 10),  # range 100
        stats_with(40.0, 10),  # range 0
        stats_with(10.0, 10),  # range 20, lower spread
        stats_with(30.0, 5),  # range nan: one department only
        stats_with(nan, 1),  # one answer: left out
        stats_with(30.0, 10),  # range 20, higher spread
    ]
    ranked = disagreements(stats, breakdown)
    assert [d.item for d in ranked] == [0, 5, 2, 1, 3]
    assert [d.department_range for d in ranked[:4]] == [100.0, 20.0, 20.0, 0.0]
    assert math.isnan(ranked[-1].department_range)
    assert ranked[1].spread == 30.0
    assert [d.item for d in disagreements(stats, breakdown, top=2)] == [0, 5]


def test_disagreements_without_a_breakdown_rank_by_spread():
    ratings = matrix([[P, G, F], [G, G, G], [F, P, G]])
    b = department_breakdown(ratings, np.zeros(3, dtype=np.intp), ["Sales"])
    ranked = disagreements(item_stats(ratings), b)
    assert [d.item for d in ranked] == [1, 0, 2]
    assert all(math.isnan(d.department_range) for d in ranked)


def test_disagreements_refuse_a_breakdown_of_other_items():
    b = department_breakdown(*audit([5, 5]), ["Sales", "Finance"])
    with pytest.raises(ValidationError):
        disagreements(item_stats(matrix([[P, G]])), b)


# weakest, change, response_rate -------------------------------------------------------------


def test_weakest_orders_by_mean_then_index_and_skips_nan():
    means = np.array([50.0, np.nan, 0.0, 50.0, 100.0, 0.0])
    assert weakest(means) == (2, 5, 0, 3, 4)
    assert weakest(means, top=3) == (2, 5, 0)
    assert weakest(means, top=0) == ()
    assert weakest(np.array([np.nan])) == ()


def test_change_is_in_percentage_points_for_keys_scored_in_both_audits():
    previous = {"trust": 50.0, "risk": 20.0, "value": math.nan, "reach": 10.0}
    current = {"trust": 75.0, "risk": 10.0, "value": 50.0, "reach": math.inf, "new": 5.0}
    assert change(previous, current) == {"trust": 25.0, "risk": -10.0}


def test_response_rate_is_a_share_and_zero_when_nobody_was_invited():
    assert response_rate(3, 4) == 0.75
    assert response_rate(0, 0) == 0.0
    assert response_rate(4, 4) == 1.0


@pytest.mark.parametrize(
    ("submitted", "invited", "locations"),
    [
        (5, 4, ["submitted"]),
        (-1, 4, ["submitted"]),
        (1, -1, ["invited"]),
        (-1, -1, ["submitted", "invited"]),
    ],
)
def test_response_rate_refuses_impossible_counts(submitted, invited, locations):
    with pytest.raises(ValidationError) as caught:
        response_rate(submitted, invited)
    assert [p.location for p in caught.value.problems] == locations
