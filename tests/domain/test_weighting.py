"""Tests of competency weighting, consensus and agreement (kamfit.domain.weighting)."""

from __future__ import annotations

import dataclasses
import math
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamfit.domain.errors import ValidationError
from kamfit.domain.weighting import (
    CR_THRESHOLD,
    SAATY_RI,
    AgreementResult,
    aggregate_ahp,
    ahp_priorities,
    chi2_sf,
    consensus,
    kendalls_w,
    pairwise_matrix,
    points_weights,
    ranking_weights,
    weights_to_ranks,
)

positive_weights = st.lists(
    st.floats(min_value=0.01, max_value=100.0, allow_nan=False), min_size=2, max_size=10
)


def consistent_matrix(w: list[float] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Return the perfectly consistent matrix a_ij = w_i / w_j."""
    v = np.asarray(w, dtype=np.float64)
    return v[:, np.newaxis] / v[np.newaxis, :]


def problems_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# chi2_sf ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "df", "p"),
    [
        (3.841, 1, 0.05),
        (6.635, 1, 0.01),
        (5.991, 2, 0.05),
        (11.070, 5, 0.05),
        (15.086, 5, 0.01),
        (18.307, 10, 0.05),
        (23.209, 10, 0.01),
        (30.144, 19, 0.05),
        (43.773, 30, 0.05),
    ],
)
def test_chi2_sf_matches_published_critical_values(x, df, p):
    # Upper-tail critical values: NIST/SEMATECH e-Handbook of Statistical Methods (2012),
    # §1.3.6.7.4 "Critical values of the chi-square distribution"; tabled to 3 decimals.
    assert chi2_sf(x, df) == pytest.approx(p, abs=2e-5)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.0, max_value=300.0), st.integers(min_value=1, max_value=40))
def test_chi2_sf_agrees_with_the_closed_forms_for_integer_df(x, k):
    # Abramowitz & Stegun (1964) 26.4.4-5: for even df = 2k, Q = e^(-x/2) Σ_{i<k} (x/2)^i / i!;
    # for odd df = 2k - 1, Q = erfc(√(x/2)) + e^(-x/2) Σ_{i=1}^{k-1} (x/2)^(i-1/2) / Γ(i + 1/2).
    z = x / 2
    even = sum(math.exp(-z + i * math.log(z) - math.lgamma(i + 1)) for i in range(k)) if z else 1
    odd = math.erfc(math.sqrt(z)) + sum(
        math.exp(-z + (i - 0.5) * math.log(z) - math.lgamma(i + 0.5)) for i in range(1, k) if z
    )
    assert chi2_sf(x, 2 * k) == pytest.approx(even, rel=1e-10, abs=1e-300)
    assert chi2_sf(x, 2 * k - 1) == pytest.approx(odd, rel=1e-10, abs=1e-300)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=500.0),
    st.floats(min_value=0.0, max_value=500.0),
    st.floats(min_value=0.1, max_value=200.0),
)
def test_chi2_sf_is_a_decreasing_probability(x1, x2, df):
    low, high = sorted((x1, x2))
    assert 0.0 <= chi2_sf(high, df) <= chi2_sf(low, df) <= 1.0


def test_chi2_sf_ends_and_refusals():
    assert chi2_sf(0.0, 3) == chi2_sf(-1.0, 3) == 1.0
    assert chi2_sf(math.inf, 3) == 0.0
    with pytest.raises(ValidationError):
        chi2_sf(math.nan, 3)
    for df in (0, -1, math.inf, math.nan):
        with pytest.raises(ValidationError):
            chi2_sf(1.0, df)


# weights_to_ranks ---------------------------------------------------------------------------


def test_weights_to_ranks_gives_average_ranks_with_one_for_the_heaviest():
    assert weights_to_ranks([0.1, 0.4, 0.2, 0.1, 0.2]) == (4.5, 1.0, 2.5, 4.5, 2.5)
    assert weights_to_ranks([0.25] * 4) == (2.5, 2.5, 2.5, 2.5)


def test_weights_to_ranks_ignores_eigenvector_rounding_between_equal_items():
    # Items 0 and 1 judged equal: their AHP weights can differ in the last bits.
    assert weights_to_ranks([0.3, 0.3 + 1e-16, 0.4]) == (2.5, 2.5, 1.0)


@pytest.mark.parametrize("bad", [[], [0.5, math.nan], [[0.5, 0.5]]])
def test_weights_to_ranks_refuses_empty_non_finite_or_nested(bad):
    with pytest.raises(ValidationError):
        weights_to_ranks(bad)


# kendalls_w ---------------------------------------------------------------------------------

# The anxiety ratings of 20 subjects by 3 raters shipped with the R package irr (Gamer, M.,
# Lemon, J., Fellows, I. and Singh, P., irr: Various Coefficients of Interrater Reliability
# and Agreement, CRAN), also printed in DescTools::KendallW's examples.
ANXIETY = [
    [3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3],
    [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4],
    [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2],
]


def test_kendalls_w_reproduces_irr_anxiety_example_with_tie_correction():
    # irr documentation, kendall(anxiety, correct = TRUE): Wt = 0.54, Chisq(19) = 30.8,
    # p-value = 0.0429 (the same numbers are asserted by pyirr's port of the example).
    # Ranking a rater's scores high-to-low instead of low-to-high leaves W unchanged.
    result = kendalls_w([weights_to_ranks(rater) for rater in ANXIETY])
    assert (result.raters, result.items, result.df) == (3, 20, 19)
    assert round(result.w, 2) == 0.54
    assert round(result.chi2, 1) == 30.8
    assert round(result.p_value, 4) == 0.0429


def friedman_chi2(ranks: npt.NDArray[np.float64]) -> float:
    """Return Friedman's statistic with ties, computed independently of W.

    Conover, W. J. (1999). Practical Nonparametric Statistics, 3rd ed. Wiley, §5.8:
    T1 = (n - 1) Σ_i (R_i - m(n + 1)/2)² / (A1 - C1), A1 = Σ r², C1 = m n (n + 1)² / 4.
    """
    m, n = ranks.shape
    r = ranks.sum(axis=0)
    a1 = float((ranks**2).sum())
    c1 = m * n * (n + 1) ** 2 / 4
    return float((n - 1) * ((r - m * (n + 1) / 2) ** 2).sum() / (a1 - c1))


def test_kendalls_w_with_ties_matches_a_hand_computation_and_friedman():
    ranks = np.array([[1, 2, 3, 4], [1, 2.5, 2.5, 4], [2, 1, 3.5, 3.5]])
    # By hand (Siegel & Castellan 1988, §9.4, formula 9.16), m = 3, n = 4:
    #   R = (4, 5.5, 9, 11.5), mean m(n + 1)/2 = 7.5
    #   S = 3.5² + 2² + 1.5² + 4² = 12.25 + 4 + 2.25 + 16 = 34.5
    #   T_1 = 0, T_2 = 2³ - 2 = 6, T_3 = 6; Σ T_j = 12
    #   W = 12 S / (m²(n³ - n) - m Σ T_j) = 414 / (540 - 36) = 414 / 504 = 23/28 ≈ 0.8214
    #   χ² = m (n - 1) W = 207/28 ≈ 7.3929, df = 3
    result = kendalls_w(ranks)
    assert result.w == pytest.approx(23 / 28)
    assert result.chi2 == pytest.approx(207 / 28)
    assert result.df == 3
    # Friedman: A1 = 30 + 29.5 + 29.5 = 89, C1 = 75, T1 = 3 × 34.5 / 14 = 207/28 as well.
    assert friedman_chi2(ranks) == pytest.approx(207 / 28)
    assert result.w == pytest.approx(friedman_chi2(ranks) / (3 * (4 - 1)))
    assert result.p_value == pytest.approx(chi2_sf(207 / 28, 3))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_kendalls_w_equals_friedman_over_m_times_n_minus_1_and_lies_in_0_1(data):
    m = data.draw(st.integers(min_value=2, max_value=6))
    n = data.draw(st.integers(min_value=2, max_value=8))
    scores = data.draw(
        st.lists(
            st.lists(st.integers(min_value=0, max_value=3), min_size=n, max_size=n),
            min_size=m,
            max_size=m,
        )
    )
    ranks = np.array([weights_to_ranks(row) for row in scores])
    if all(len(set(row)) == 1 for row in scores):
        with pytest.raises(ValidationError):
            kendalls_w(ranks)
        return
    result = kendalls_w(ranks)
    assert 0.0 <= result.w <= 1.0
    assert result.w == pytest.approx(friedman_chi2(ranks) / (m * (n - 1)), abs=1e-12)
    assert 0.0 <= result.p_value <= 1.0
    shuffled = kendalls_w(ranks[::-1, ::-1])
    assert shuffled.w == pytest.approx(result.w, abs=1e-12)


def test_kendalls_w_is_one_for_perfect_agreement():
    result = kendalls_w([[1, 2, 3, 4, 5]] * 4)
    assert result == AgreementResult(
        w=1.0, chi2=16.0, df=4, p_value=result.p_value, raters=4, items=5
    )
    assert result.p_value == pytest.approx(math.exp(-8) * (1 + 8))  # df 4: e^(-x/2)(1 + x/2)


def test_kendalls_w_is_zero_for_a_reversed_pair():
    result = kendalls_w([[1, 2, 3, 4], [4, 3, 2, 1]])
    assert (result.w, result.chi2, result.p_value) == (0.0, 0.0, 1.0)


def test_kendalls_w_names_a_rater_whose_ranks_are_not_a_ranking():
    with pytest.raises(ValidationError) as caught:
        kendalls_w([[1, 2, 3], [1, 2, 4]])
    assert problems_of(caught) == [
        "ranks[1]: ranks 1, 2, 4: a ranking of 3 items needs 1 to 3 — 3 is missing "
        "(in this order: 1, 2, 3)"
    ]


@pytest.mark.parametrize(
    "bad",
    [
        [[1, 2, 3]],
        [[1], [1]],
        [1, 2, 3],
        [[1, 2, math.nan], [1, 2, 3]],
        [[1, 1, 3], [1, 2, 3]],
        [[1.2, 1.8, 3], [1, 2, 3]],
        [[2, 2, 2], [2, 2, 2]],
    ],
    ids=["one-rater", "one-item", "one-dimensional", "nan", "tie-not-averaged", "fractions",
         "all-tied"],
)  # fmt: skip
def test_kendalls_w_refuses_unusable_rankings(bad):
    with pytest.raises(ValidationError):
        kendalls_w(bad)


def test_kendalls_w_on_ahp_priorities_via_weights_to_ranks():
    a = ahp_priorities(consistent_matrix([4, 2, 1])).priorities
    b = ahp_priorities(consistent_matrix([1, 2, 4])).priorities
    assert kendalls_w([weights_to_ranks(a), weights_to_ranks(a)]).w == pytest.approx(1.0)
    assert kendalls_w([weights_to_ranks(a), weights_to_ranks(b)]).w == pytest.approx(0.0)


# ahp_priorities -----------------------------------------------------------------------------

# Saaty, T. L. (2008). Decision making with the analytic hierarchy process. International
# Journal of Services Sciences, 1(1), 83–98, Table 2: "Which drink is consumed more in the
# U.S.?" Items: coffee, wine, tea, beer, sodas, milk, water; judgements above the diagonal.
DRINKS = {
    (0, 1): 9, (0, 2): 5, (0, 3): 2, (0, 4): 1, (0, 5): 1, (0, 6): 1 / 2,
    (1, 2): 1 / 3, (1, 3): 1 / 9, (1, 4): 1 / 9, (1, 5): 1 / 9, (1, 6): 1 / 9,
    (2, 3): 1 / 3, (2, 4): 1 / 4, (2, 5): 1 / 3, (2, 6): 1 / 9,
    (3, 4): 1 / 2, (3, 5): 1, (3, 6): 1 / 3,
    (4, 5): 2, (4, 6): 1 / 2,
    (5, 6): 1 / 3,
}  # fmt: skip


def test_ahp_reproduces_saatys_drink_consumption_example():
    # Saaty (2008), Table 2: derived priorities .177 .019 .042 .116 .190 .129 .327, C.R. = .022
    # (the same values are asserted in AHPy's test suite with Saaty's random index).
    result = ahp_priorities(pairwise_matrix(7, DRINKS))
    assert tuple(round(p, 3) for p in result.priorities) == (
        0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327
    )  # fmt: skip
    assert round(result.cr, 3) == 0.022
    assert result.ci == pytest.approx((result.lambda_max - 7) / 6)
    assert result.cr == pytest.approx(result.ci / 1.32)
    assert result.consistent


def test_ahp_flags_an_inconsistent_matrix():
    # a > b (9), b > c (9) yet c > a (9): a cycle, as far from consistent as the scale allows.
    result = ahp_priorities(pairwise_matrix(3, {(0, 1): 9, (0, 2): 1 / 9, (1, 2): 9}))
    assert result.cr > CR_THRESHOLD
    assert not result.consistent
    assert result.priorities == pytest.approx((1 / 3, 1 / 3, 1 / 3))


@settings(max_examples=150, deadline=None)
@given(positive_weights)
def test_ahp_of_a_consistent_matrix_returns_its_weights_with_cr_zero(w):
    # Saaty (1980): for a_ij = w_i / w_j, A w = n w, so λmax = n and CI = CR = 0.
    result = ahp_priorities(consistent_matrix(w))
    assert result.priorities == pytest.approx(np.array(w) / sum(w), abs=1e-9)
    assert result.lambda_max == pytest.approx(len(w), abs=1e-9)
    assert result.cr == pytest.approx(0.0, abs=1e-9)
    assert result.consistent
    assert math.fsum(result.priorities) == pytest.approx(1.0)


def test_ahp_two_items_are_always_consistent():
    result = ahp_priorities([[1.0, 9.0], [1 / 9, 1.0]])
    assert result.priorities == pytest.approx((0.9, 0.1))
    assert (result.cr, result.consistent) == (0.0, True)


def test_ahp_names_a_cell_that_is_not_reciprocal():
    a = np.ones((4, 4))
    a[1][3], a[3][1] = 3.0, 0.5
    with pytest.raises(ValidationError) as caught:
        ahp_priorities(a)
    assert problems_of(caught) == [
        "matrix[1][3]: not reciprocal: a[1][3] × a[3][1] = 1.5, should be 1"
    ]


def test_ahp_names_a_diagonal_cell_that_is_not_one():
    a = np.ones((3, 3))
    a[2][2] = 2.0
    with pytest.raises(ValidationError) as caught:
        ahp_priorities(a)
    assert problems_of(caught) == ["matrix[2][2]: diagonal must be 1, not 2"]


@pytest.mark.parametrize(
    ("value", "shown"), [(0.0, "0"), (-3.0, "-3"), (math.nan, "nan"), (math.inf, "inf")]
)
def test_ahp_names_a_cell_that_is_not_positive_and_finite(value, shown):
    a = np.ones((3, 3))
    a[0][2] = value
    with pytest.raises(ValidationError) as caught:
        ahp_priorities(a)
    assert problems_of(caught) == [f"matrix[0][2]: must be positive, not {shown}"]


@pytest.mark.parametrize(
    "bad",
    [np.ones((16, 16)), np.ones((1, 1)), np.ones((2, 3)), np.ones(3), [[1, "x"], [1, 1]]],
    ids=["sixteen", "one", "not-square", "one-dimensional", "text"],
)
def test_ahp_refuses_matrices_of_the_wrong_shape_or_size(bad):
    with pytest.raises(ValidationError) as caught:
        ahp_priorities(bad)
    assert caught.value.problems[0].location == "matrix"


def test_ahp_refuses_sixteen_items_saying_why():
    with pytest.raises(ValidationError, match="2 to 15 items"):
        ahp_priorities(np.ones((16, 16)))


def test_saaty_random_index_table_and_threshold():
    # The table kamfit uses: n ≤ 10 as in Saaty (1980); n = 11–15 the commonly reproduced extension.
    assert [SAATY_RI[n] for n in range(1, 16)] == [
        0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59
    ]  # fmt: skip
    assert CR_THRESHOLD == 0.10
    with pytest.raises(TypeError):
        SAATY_RI[16] = 1.6  # type: ignore[index]


def test_results_are_frozen():
    result = ahp_priorities([[1.0, 2.0], [0.5, 1.0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.cr = 1.0  # type: ignore[misc]


# pairwise_matrix ----------------------------------------------------------------------------


def test_pairwise_matrix_fills_reciprocals_and_the_diagonal():
    a = pairwise_matrix(3, {(0, 1): 3, (0, 2): 1 / 5, (1, 2): 2.5})
    np.testing.assert_allclose(a, [[1, 3, 0.2], [1 / 3, 1, 2.5], [5, 0.4, 1]])


@pytest.mark.parametrize(
    ("judgements", "expected"),
    [
        ({(0, 1): 10, (0, 2): 1, (1, 2): 1}, "judgements[(0, 1)]: 10 is outside Saaty's scale"),
        ({(0, 1): 0.1, (0, 2): 1, (1, 2): 1}, "judgements[(0, 1)]: 0.1 is outside Saaty's scale"),
        ({(0, 1): 1, (0, 2): 1}, "judgements: missing pairs: (1, 2)"),
        ({(0, 1): 1, (0, 2): 1, (1, 2): 1, (1, 1): 1}, "judgements[(1, 1)]: give each pair once"),
        ({(0, 1): 1, (0, 2): 1, (2, 1): 1}, "judgements[(2, 1)]: give each pair once"),
        ({(0, 1): 1, (0, 2): 1, (1, 2): 1, (0, 3): 1}, "judgements[(0, 3)]: items are numbered"),
    ],
    ids=["above-9", "below-1/9", "missing", "i-equals-j", "lower-triangle", "out-of-range"],
)
def test_pairwise_matrix_refuses_bad_judgements(judgements, expected):
    with pytest.raises(ValidationError) as caught:
        pairwise_matrix(3, judgements)
    assert any(p.startswith(expected) for p in problems_of(caught)), problems_of(caught)


def test_pairwise_matrix_accepts_the_ends_of_the_scale_and_refuses_sixteen_items():
    a = pairwise_matrix(2, {(0, 1): 1 / 9})
    assert a[1][0] == pytest.approx(9.0)
    with pytest.raises(ValidationError):
        pairwise_matrix(16, {})


# aggregate_ahp ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_aggregate_of_two_consistent_matrices_is_reciprocal_with_geometric_mean_weights(data):
    # Forman & Peniwati (1998): AIJ by the geometric mean keeps reciprocity; for consistent
    # matrices w_i/w_j and v_i/v_j the mean is √(w_i v_i) / √(w_j v_j), itself consistent.
    w = data.draw(positive_weights)
    v = data.draw(st.lists(st.floats(0.01, 100.0), min_size=len(w), max_size=len(w)))
    group = aggregate_ahp([consistent_matrix(w), consistent_matrix(v)])
    np.testing.assert_allclose(group * group.T, np.ones_like(group), rtol=1e-12)
    assert np.all(np.diag(group) == 1.0)
    expected = np.sqrt(np.array(w) * np.array(v))
    result = ahp_priorities(group)
    assert result.priorities == pytest.approx(expected / expected.sum(), abs=1e-9)
    assert result.cr == pytest.approx(0.0, abs=1e-9)


def test_aggregate_of_one_matrix_is_that_matrix():
    a = pairwise_matrix(7, DRINKS)
    np.testing.assert_allclose(aggregate_ahp([a]), a, rtol=1e-12)


def test_aggregate_names_the_respondent_and_cell_at_fault():
    good = np.ones((3, 3))
    bad = np.ones((3, 3))
    bad[0][1] = 2.0
    with pytest.raises(ValidationError) as caught:
        aggregate_ahp([good, bad])
    assert problems_of(caught) == [
        "matrices[1][0][1]: not reciprocal: a[0][1] × a[1][0] = 2, should be 1"
    ]


def test_aggregate_refuses_no_matrices_or_mixed_sizes():
    with pytest.raises(ValidationError):
        aggregate_ahp([])
    with pytest.raises(ValidationError, match="same size"):
        aggregate_ahp([np.ones((3, 3)), np.ones((4, 4))])


# points_weights and ranking_weights ---------------------------------------------------------


def test_points_weights_are_shares_of_the_total():
    assert points_weights([40, 30, 20, 10]) == pytest.approx((0.4, 0.3, 0.2, 0.1))
    assert points_weights([0, 7, 3], total=10) == pytest.approx((0.0, 0.7, 0.3))


def test_points_weights_say_the_actual_sum():
    with pytest.raises(ValidationError) as caught:
        points_weights([40, 30, 20])
    assert problems_of(caught) == ["points: points sum to 90, not 100"]


def test_points_weights_name_negative_and_non_finite_points():
    with pytest.raises(ValidationError) as caught:
        points_weights([110, -10])
    assert problems_of(caught) == ["points[1]: must not be negative, not -10"]
    with pytest.raises(ValidationError) as caught:
        points_weights([50, math.nan, 50])
    assert caught.value.problems[0].location == "points[1]"
    for bad_total in (0, -100, math.inf):
        with pytest.raises(ValidationError):
            points_weights([100], total=bad_total)


def test_ranking_weights_are_rank_sum_weights():
    # Stillwell, Seaver & Edwards (1981): w_i = (n + 1 - r_i) / Σ_j (n + 1 - r_j); n = 4:
    # (4, 3, 2, 1) / 10.
    assert ranking_weights([1, 2, 3, 4]) == pytest.approx((0.4, 0.3, 0.2, 0.1))
    assert ranking_weights([3, 1, 2]) == pytest.approx((1 / 6, 3 / 6, 2 / 6))


def test_ranking_weights_give_tied_items_equal_weight():
    # n = 3, ranks (1.5, 1.5, 3): scores (2.5, 2.5, 1) over 6.
    assert ranking_weights([1.5, 1.5, 3]) == pytest.approx((2.5 / 6, 2.5 / 6, 1 / 6))
    # Rounding noise in a tie (e.g. ranks from a spreadsheet) is tolerated and cleaned.
    noisy = ranking_weights([1.5 + 1e-12, 1.5, 3])
    assert noisy[0] == noisy[1]


def test_kendalls_w_counts_a_tie_despite_rounding_noise():
    exact = kendalls_w([[1.0, 2.5, 2.5, 4.0], [1.0, 2.0, 3.0, 4.0]])
    noisy = kendalls_w([[1.0, 2.5 + 1e-12, 2.5 - 1e-12, 4.0], [1.0, 2.0, 3.0, 4.0]])
    assert noisy == exact


def test_ranking_weights_say_which_rank_is_missing():
    with pytest.raises(ValidationError) as caught:
        ranking_weights([1, 2, 4])
    assert problems_of(caught) == [
        "ranks: ranks 1, 2, 4: a ranking of 3 items needs 1 to 3 — 3 is missing "
        "(in this order: 1, 2, 3)"
    ]


def test_ranking_weights_explain_unaveraged_ties():
    with pytest.raises(ValidationError) as caught:
        ranking_weights([1, 1, 3])
    assert problems_of(caught) == [
        "ranks: ranks 1, 1, 3: a ranking of 3 items needs 1 to 3 — 2 is missing; "
        "tied items share the average of their places (in this order: 1.5, 1.5, 3)"
    ]


@pytest.mark.parametrize("bad", [[], [0, 1, 2], [1.2, 1.8, 3], [1, 2, math.inf]])
def test_ranking_weights_refuse_non_rankings(bad):
    with pytest.raises(ValidationError):
        ranking_weights(bad)


@settings(max_examples=100, deadline=None)
@given(st.permutations(range(1, 11)))
def test_ranking_weights_sum_to_one_and_fall_with_rank(ranks):
    weights = ranking_weights(ranks)
    assert math.fsum(weights) == pytest.approx(1.0)
    by_rank = [w for _, w in sorted(zip(ranks, weights, strict=True))]
    assert by_rank == sorted(by_rank, reverse=True)


# consensus ----------------------------------------------------------------------------------


def test_consensus_is_the_mean_with_population_spread_and_widest_split_first():
    individual = [
        [0.5, 0.3, 0.2],
        [0.3, 0.3, 0.4],
        [0.4, 0.3, 0.3],
    ]
    result = consensus(individual)
    # Means (0.4, 0.3, 0.3). Population SDs: item 0 √((0.01 + 0.01 + 0) / 3) ≈ 0.0816,
    # item 1 0, item 2 √((0.01 + 0.01 + 0) / 3) ≈ 0.0816: items 0 and 2 tie, index decides.
    assert result.weights == pytest.approx((0.4, 0.3, 0.3))
    assert result.spread == pytest.approx((math.sqrt(0.02 / 3), 0.0, math.sqrt(0.02 / 3)))
    assert result.split_order == (0, 2, 1)


def test_consensus_of_one_respondent_has_no_spread():
    result = consensus([points_weights([60, 25, 15])])
    assert result.weights == pytest.approx((0.6, 0.25, 0.15))
    assert result.spread == (0.0, 0.0, 0.0)
    assert result.split_order == (0, 1, 2)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.floats(0.01, 100.0), min_size=5, max_size=5), min_size=1, max_size=8))
def test_consensus_weights_sum_to_one_and_spread_matches_numpy(rows):
    individual = np.array([np.array(r) / sum(r) for r in rows])
    result = consensus(individual)
    assert math.fsum(result.weights) == pytest.approx(1.0)
    assert result.spread == pytest.approx(tuple(individual.std(axis=0, ddof=0)), abs=1e-12)
    assert sorted(result.split_order) == list(range(5))
    spreads = [result.spread[i] for i in result.split_order]
    assert all(a >= b - 1e-12 for a, b in pairwise(spreads))


def test_consensus_says_which_respondent_does_not_sum_to_one():
    with pytest.raises(ValidationError) as caught:
        consensus([[0.5, 0.5], [0.5, 0.4]])
    assert problems_of(caught) == ["individual[1]: weights sum to 0.9, not 1"]


@pytest.mark.parametrize("bad", [[0.5, 0.5], [[]], [[1.5, -0.5]], [[math.nan, 1.0]]])
def test_consensus_refuses_malformed_weights(bad):
    with pytest.raises(ValidationError):
        consensus(bad)
