"""Weight a role profile's competencies: points, ranking or AHP, then consensus and agreement.

Section 2.5 of the Warwick paper: companies use unweighted competency lists while opinions on
importance differ from person to person, so the company should express a consistent view by
weighting. Stakeholders allocate points, rank, or compare pairs (AHP); this module turns each
answer into weights, checks AHP consistency, forms consensus weights, measures agreement
(Kendall's W) and shows where opinion splits. Many requirements are compared in a two-level
AHP hierarchy (groups of at most seven, then the groups), and a weighting exercise turns all
respondents' answers into one result. Input that breaks a function's rules raises
:class:`~kamfit.domain.errors.ValidationError`, each problem naming its location and the
actual values.

References
----------
Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
taskforce. Warwick Business School, Strategic Sales and Customer Management Network,
October 2006. (Section 2.5, weighting.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from kamfit.domain.errors import Problem, ValidationError

__all__ = [
    "CR_THRESHOLD",
    "GROUPS_KEY",
    "SAATY_RI",
    "AgreementResult",
    "AhpGroup",
    "AhpResult",
    "Consensus",
    "ExerciseResult",
    "HierarchyResult",
    "Judgements",
    "aggregate_ahp",
    "aggregate_hierarchy",
    "ahp_exercise",
    "ahp_groups",
    "ahp_pair_count",
    "ahp_priorities",
    "chi2_sf",
    "consensus",
    "hierarchy_priorities",
    "kendalls_w",
    "pairwise_matrix",
    "points_exercise",
    "points_weights",
    "ranking_exercise",
    "ranking_weights",
    "weights_to_ranks",
]

# Saaty's random index by matrix size: n <= 10 from Saaty (1980); n = 11-15 the extension
# commonly reproduced with it (its dip at n = 12 is in that table).
SAATY_RI: Mapping[int, float] = MappingProxyType(
    {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45,
     10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
)  # fmt: skip
CR_THRESHOLD = 0.10
# Key of the matrix that compares the groups of a hierarchy with each other.
GROUPS_KEY = "groups"
# The kinds of Table 3 (kamfit.domain.framework.Kind values) in the order groups are formed.
_KIND_GROUPS = (("C", "Competencies"), ("A", "Attributes"), ("C/A", "Competencies or attributes"))
_MAX_AHP_SIZE = max(SAATY_RI)
_RECIPROCITY_TOLERANCE = 1e-6
_SAATY_MIN, _SAATY_MAX = 1 / 9, 9.0

_EPS, _TINY, _MAX_TERMS = 1e-15, 1e-300, 100_000
# Weights this close (relative to the largest) count as tied: AHP eigenvectors of items
# judged equal differ in the last bits, and such noise must not decide a rank.
_TIE_TOLERANCE = 1e-9

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AgreementResult:
    """Kendall's W over ``raters`` rankings of ``items``, with its chi-square test."""

    w: float
    chi2: float
    df: int
    p_value: float
    raters: int
    items: int


@dataclass(frozen=True)
class AhpResult:
    """One AHP matrix's priorities (summing to 1) and its consistency."""

    priorities: tuple[float, ...]
    lambda_max: float
    ci: float
    cr: float
    consistent: bool


@dataclass(frozen=True)
class Consensus:
    """Consensus weights, the spread of opinion per item and the items by spread, widest first."""

    weights: tuple[float, ...]
    spread: tuple[float, ...]
    split_order: tuple[int, ...]


def _invalid(location: str, message: str) -> ValidationError:
    return ValidationError([Problem(location, message)])


def _fmt(values: Sequence[float] | Floats) -> str:
    return ", ".join(f"{float(v):g}" for v in values)


def _array(values: npt.ArrayLike, location: str) -> Floats:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _invalid(location, f"expected numbers: {exc}") from exc


def _vector(values: npt.ArrayLike, location: str) -> Floats:
    """Return a non-empty, finite 1-D float array or raise."""
    array = _array(values, location)
    if array.ndim != 1 or array.size == 0:
        raise _invalid(location, "expected a non-empty list of numbers")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValidationError(
            [Problem(f"{location}[{i}]", f"must be a finite number, not {array[i]}") for i in bad]
        )
    return array


def _average_ranks(values: Floats, *, descending: bool, tolerance: float = 0.0) -> Floats:
    """Rank ``values`` from 1, giving tied values the mean of the places they share."""
    order = np.argsort(-values if descending else values, kind="stable")
    ordered = values[order]
    starts = np.r_[True, np.abs(np.diff(ordered)) > tolerance]
    group = np.cumsum(starts) - 1
    places = np.arange(1, values.size + 1, dtype=np.float64)
    mean_place = np.bincount(group, weights=places) / np.bincount(group)
    ranks = np.empty_like(values)
    ranks[order] = mean_place[group]
    return ranks


def _ranking(ranks: Floats, location: str) -> tuple[Floats, Problem | None]:
    """Return ``ranks`` without rounding noise, or say how they fail to rank n items from 1."""
    n = ranks.size
    expected = _average_ranks(ranks, descending=False, tolerance=1e-9)
    if np.allclose(ranks, expected, rtol=0.0, atol=1e-9):
        return expected, None
    message = f"ranks {_fmt(ranks)}: a ranking of {n} items needs 1 to {n}"
    if np.all(ranks == np.round(ranks)):
        present = set(ranks.tolist())
        missing = [k for k in range(1, n + 1) if k not in present]
        if missing:
            message += f" — {_fmt(missing)} {'is' if len(missing) == 1 else 'are'} missing"
    if np.unique(ranks).size < n:
        message += "; tied items share the average of their places"
    message += f" (in this order: {_fmt(expected)})"
    return expected, Problem(location, message)


def chi2_sf(x: float, df: float) -> float:
    """Return the chi-square survival function P(X ≥ x) for ``df`` degrees of freedom.

    Parameters
    ----------
    x : float
        The statistic; values ≤ 0 give 1 and ``inf`` gives 0.
    df : float
        Degrees of freedom, positive (need not be an integer).

    Returns
    -------
    float
        The upper-tail probability.

    Notes
    -----
    :math:`P(\\chi^2_k \\ge x) = Q(k/2, x/2)`, the regularized upper incomplete gamma
    function :math:`Q(a, z) = \\Gamma(a, z) / \\Gamma(a)`. For :math:`z < a + 1` the series
    :math:`P(a, z) = e^{-z} z^a \\sum_{i \\ge 0} z^i / \\Gamma(a + i + 1)` gives
    :math:`Q = 1 - P`; otherwise Legendre's continued fraction for :math:`Q`, evaluated by
    the modified Lentz method, converges fast. Both stop at a relative change below
    :math:`10^{-15}`; for :math:`k = 2` this is the closed form :math:`e^{-x/2}`.

    References
    ----------
    Press, W. H., Teukolsky, S. A., Vetterling, W. T. and Flannery, B. P. (2007). Numerical
    Recipes: The Art of Scientific Computing, 3rd ed. Cambridge University Press, §6.2.

    Examples
    --------
    >>> round(chi2_sf(3.841, 1), 4), round(chi2_sf(11.07, 5), 4)
    (0.05, 0.05)
    """
    if math.isnan(x):
        raise _invalid("x", "must be a number, not nan")
    if not (math.isfinite(df) and df > 0):
        raise _invalid("df", f"must be positive and finite, not {df}")
    a, z = df / 2, x / 2
    if z <= 0:  # also a subnormal x whose half underflows to 0
        return 1.0
    if math.isinf(z):
        return 0.0
    log_prefactor = -z + a * math.log(z) - math.lgamma(a)
    if z < a + 1:
        term = total = 1 / a
        for i in range(1, _MAX_TERMS):
            term *= z / (a + i)
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(1.0, max(0.0, 1.0 - total * math.exp(log_prefactor)))
    b = z + 1 - a
    c, d = 1 / _TINY, 1 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        if abs(d * c - 1) < _EPS:
            break
    return min(1.0, max(0.0, math.exp(log_prefactor) * h))


def weights_to_ranks(weights: npt.ArrayLike) -> tuple[float, ...]:
    """Rank items by weight, 1 = most important, ties sharing their average rank.

    Parameters
    ----------
    weights : array_like of float, shape (n,)
        One weight (or score) per item, finite.

    Returns
    -------
    tuple of float
        Each item's rank, ready for :func:`kendalls_w`.

    Notes
    -----
    Items are sorted by weight, descending; a run of :math:`t` tied items over places
    :math:`p, \\dots, p + t - 1` each get :math:`p + (t - 1)/2`. Weights within
    :math:`10^{-9} \\max_i |w_i|` of their neighbour in that order count as tied, so the
    rounding in an AHP eigenvector does not break a tie.

    References
    ----------
    Kendall, M. G. and Gibbons, J. D. (1990). Rank Correlation Methods, 5th ed. Edward
    Arnold. (Mid-ranks for ties.)

    Examples
    --------
    >>> weights_to_ranks([0.4, 0.2, 0.2, 0.1, 0.1])
    (1.0, 2.5, 2.5, 4.5, 4.5)
    """
    values = _vector(weights, "weights")
    tolerance = _TIE_TOLERANCE * float(np.abs(values).max())
    return tuple(float(r) for r in _average_ranks(values, descending=True, tolerance=tolerance))


def kendalls_w(ranks: npt.ArrayLike) -> AgreementResult:
    """Measure how far raters agree on the order of items: Kendall's W, tie-corrected.

    Parameters
    ----------
    ranks : array_like of float, shape (m, n)
        One row per rater, one column per item: each row a ranking of the n items from 1,
        tied items sharing the average of their places (e.g. 1.5, 1.5, 3).

    Returns
    -------
    AgreementResult
        W from 0 (no agreement) to 1 (identical rankings), the chi-square statistic, its
        degrees of freedom, the p-value of the test of no agreement, m and n.

    Notes
    -----
    With :math:`R_i` the sum of item :math:`i`'s ranks over the :math:`m` raters,
    :math:`S = \\sum_i (R_i - m(n + 1)/2)^2` and, for rater :math:`j` with tie groups of
    sizes :math:`t`, :math:`T_j = \\sum (t^3 - t)`:

    .. math:: W = \\frac{12 S}{m^2 (n^3 - n) - m \\sum_j T_j}

    The test statistic :math:`\\chi^2 = m (n - 1) W` (Friedman's, corrected for ties) is
    referred to :math:`\\chi^2` with :math:`n - 1` degrees of freedom; the approximation
    suits :math:`n > 7` (Siegel & Castellan), smaller tables want exact values.

    References
    ----------
    Kendall, M. G. and Babington Smith, B. (1939). The problem of m rankings. Annals of
    Mathematical Statistics, 10(3), 275–287.

    Siegel, S. and Castellan, N. J. (1988). Nonparametric Statistics for the Behavioral
    Sciences, 2nd ed. McGraw-Hill, §9.4.

    Examples
    --------
    >>> r = kendalls_w([[1, 2, 3, 4], [1, 2, 3, 4], [2, 1, 3, 4]])
    >>> round(r.w, 4), r.df
    (0.9111, 3)
    """
    matrix = _array(ranks, "ranks")
    if matrix.ndim != 2:
        raise _invalid("ranks", f"expected a 2-D raters × items matrix, got {matrix.ndim}-D")
    m, n = matrix.shape
    if m < 2 or n < 2:
        raise _invalid("ranks", f"needs at least 2 raters and 2 items, got {m} and {n}")
    if not np.isfinite(matrix).all():
        raise _invalid("ranks", "every rank must be a finite number")
    checked = [_ranking(row, f"ranks[{j}]") for j, row in enumerate(matrix)]
    found = [problem for _, problem in checked if problem is not None]
    if found:
        raise ValidationError(found)
    matrix = np.stack([clean for clean, _ in checked])

    rank_sums = matrix.sum(axis=0)
    s = float(((rank_sums - m * (n + 1) / 2) ** 2).sum())
    ties = 0.0
    for row in matrix:
        t = np.unique(row, return_counts=True)[1].astype(np.float64)
        ties += float((t**3 - t).sum())
    denominator = m * m * (n**3 - n) - m * ties
    if denominator <= 0:
        raise _invalid("ranks", f"every rater tied all {n} items: there is no order to agree on")
    w = min(1.0, 12 * s / denominator)
    chi2 = m * (n - 1) * w
    return AgreementResult(w, chi2, n - 1, chi2_sf(chi2, n - 1), m, n)


def _matrix_problems(a: Floats, prefix: str) -> list[Problem]:
    """List what stops ``a`` being a positive reciprocal matrix, cell by cell."""
    n = a.shape[0]
    problems = []
    for i, j in zip(*np.nonzero(~np.isfinite(a) | (a <= 0)), strict=True):
        problems.append(Problem(f"{prefix}[{i}][{j}]", f"must be positive, not {a[i, j]:g}"))
    if problems:
        return problems
    for i in range(n):
        if abs(a[i, i] - 1) > _RECIPROCITY_TOLERANCE:
            problems.append(Problem(f"{prefix}[{i}][{i}]", f"diagonal must be 1, not {a[i, i]:g}"))
    for i, j in zip(*np.triu_indices(n, k=1), strict=True):
        product = a[i, j] * a[j, i]
        if abs(product - 1) > _RECIPROCITY_TOLERANCE:
            message = f"not reciprocal: a[{i}][{j}] × a[{j}][{i}] = {product:g}, should be 1"
            problems.append(Problem(f"{prefix}[{i}][{j}]", message))
    return problems


def _checked_matrix(matrix: npt.ArrayLike, prefix: str) -> Floats:
    a = _array(matrix, prefix)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise _invalid(prefix, f"expected a square matrix, got shape {a.shape}")
    if not 2 <= a.shape[0] <= max(SAATY_RI):
        raise _invalid(prefix, f"AHP compares 2 to 15 items (Saaty's RI), not {a.shape[0]}")
    problems = _matrix_problems(a, prefix)
    if problems:
        raise ValidationError(problems)
    return a


def ahp_priorities(matrix: npt.ArrayLike) -> AhpResult:
    """Derive priorities and the consistency ratio from an AHP pairwise comparison matrix.

    Parameters
    ----------
    matrix : array_like of float, shape (n, n)
        A positive reciprocal matrix, 2 ≤ n ≤ 15: ``a[i][j]`` says how many times more
        important item i is than item j, ``a[j][i] = 1 / a[i][j]`` and the diagonal is 1.

    Returns
    -------
    AhpResult
        The priorities (summing to 1), :math:`\\lambda_{max}`, CI, CR and whether
        CR ≤ ``CR_THRESHOLD`` (0.10).

    Notes
    -----
    The priorities are the principal right eigenvector :math:`w` of :math:`A`
    (:math:`A w = \\lambda_{max} w`), normalised to sum to 1. Then

    .. math:: CI = \\frac{\\lambda_{max} - n}{n - 1}, \\qquad CR = \\frac{CI}{RI(n)}

    with RI from ``SAATY_RI``; CR = 0 for n ≤ 2, where every reciprocal matrix is
    consistent. Since :math:`\\lambda_{max} \\ge n` for a positive reciprocal matrix, a
    negative CI is rounding and is reported as 0.

    References
    ----------
    Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill, New York.

    Saaty, T. L. (2008). Decision making with the analytic hierarchy process. International
    Journal of Services Sciences, 1(1), 83–98.

    Examples
    --------
    >>> r = ahp_priorities([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    >>> [round(p, 4) for p in r.priorities], round(r.cr, 6), r.consistent
    ([0.5714, 0.2857, 0.1429], 0.0, True)
    """
    a = _checked_matrix(matrix, "matrix")
    n = a.shape[0]
    eigenvalues, eigenvectors = np.linalg.eig(a)
    k = int(np.argmax(eigenvalues.real))
    vector = eigenvectors[:, k].real
    priorities = vector / vector.sum()
    lambda_max = float(eigenvalues[k].real)
    ci = max(0.0, (lambda_max - n) / (n - 1))
    cr = ci / SAATY_RI[n] if n > 2 else 0.0
    return AhpResult(tuple(float(p) for p in priorities), lambda_max, ci, cr, cr <= CR_THRESHOLD)


def pairwise_matrix(n: int, judgements: Mapping[tuple[int, int], float]) -> Floats:
    """Build a reciprocal comparison matrix from one judgement per pair of items.

    Parameters
    ----------
    n : int
        The number of items, 2 to 15.
    judgements : mapping of (i, j) to float
        For every pair with ``0 ≤ i < j < n``, how many times more important item i is than
        item j, on Saaty's scale from 1/9 to 9 (intermediate values such as 2.5 allowed).

    Returns
    -------
    ndarray of float, shape (n, n)
        ``a[i][j]`` = the judgement, ``a[j][i]`` = its reciprocal, diagonal 1.

    Notes
    -----
    :math:`a_{ij} = x_{ij}`, :math:`a_{ji} = 1 / x_{ij}`, :math:`a_{ii} = 1`.

    References
    ----------
    Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill, New York. (The
    fundamental 1–9 scale.)

    Examples
    --------
    >>> pairwise_matrix(3, {(0, 1): 3, (0, 2): 5, (1, 2): 2}).round(3).tolist()
    [[1.0, 3.0, 5.0], [0.333, 1.0, 2.0], [0.2, 0.5, 1.0]]
    """
    if not 2 <= n <= max(SAATY_RI):
        raise _invalid("n", f"AHP compares 2 to 15 items, not {n}")
    a = np.ones((n, n), dtype=np.float64)
    problems = []
    for (i, j), value in judgements.items():
        where = f"judgements[({i}, {j})]"
        if not (0 <= i < n and 0 <= j < n):
            problems.append(Problem(where, f"items are numbered 0 to {n - 1}"))
        elif i >= j:
            problems.append(Problem(where, "give each pair once as (i, j) with i < j"))
        elif not (_SAATY_MIN - 1e-9 <= value <= _SAATY_MAX + 1e-9):
            problems.append(Problem(where, f"{value:g} is outside Saaty's scale 1/9 to 9"))
        else:
            a[i, j], a[j, i] = value, 1 / value
    missing = [pair for pair in combinations(range(n), 2) if pair not in judgements]
    if missing:
        pairs = ", ".join(f"({i}, {j})" for i, j in missing)
        problems.append(Problem("judgements", f"missing pairs: {pairs}"))
    if problems:
        raise ValidationError(problems)
    return a


def aggregate_ahp(matrices: Sequence[npt.ArrayLike]) -> Floats:
    """Combine respondents' comparison matrices into one group matrix (AIJ).

    Parameters
    ----------
    matrices : sequence of array_like, each shape (n, n)
        Each respondent's positive reciprocal matrix, all the same size.

    Returns
    -------
    ndarray of float, shape (n, n)
        The element-wise geometric mean, itself reciprocal; pass it to
        :func:`ahp_priorities` for the group's priorities.

    Notes
    -----
    :math:`\\bar{a}_{ij} = (\\prod_{k=1}^{K} a^{(k)}_{ij})^{1/K}`. The geometric mean is the
    only mean that keeps :math:`\\bar{a}_{ji} = 1 / \\bar{a}_{ij}`, so the group matrix is
    again reciprocal; the lower triangle is set to the exact reciprocals of the upper one.

    References
    ----------
    Forman, E. and Peniwati, K. (1998). Aggregating individual judgments and priorities
    with the analytic hierarchy process. European Journal of Operational Research, 108(1),
    165–169.

    Examples
    --------
    >>> aggregate_ahp([[[1, 4], [1 / 4, 1]], [[1, 1], [1, 1]]]).tolist()
    [[1.0, 2.0], [0.5, 1.0]]
    """
    if len(matrices) == 0:
        raise _invalid("matrices", "needs at least one respondent's matrix")
    checked = [_checked_matrix(m, f"matrices[{k}]") for k, m in enumerate(matrices)]
    shapes = {a.shape for a in checked}
    if len(shapes) > 1:
        raise _invalid("matrices", f"all matrices must be the same size, got {sorted(shapes)}")
    mean = np.exp(np.log(np.stack(checked)).mean(axis=0))
    upper = np.triu(mean, k=1)
    out: Floats = upper + np.triu(1 / mean, k=1).T + np.eye(mean.shape[0])
    return out


def points_weights(points: Sequence[float], total: float = 100) -> tuple[float, ...]:
    """Turn a points allocation (e.g. 100 points over the competencies) into weights.

    Parameters
    ----------
    points : sequence of float
        Points given to each item, non-negative.
    total : float, default 100
        The points each respondent must allocate.

    Returns
    -------
    tuple of float
        :math:`w_i = p_i / \\sum_j p_j`, summing to 1.

    Notes
    -----
    Direct point allocation: the share of the budget is the weight.

    References
    ----------
    Bottomley, P. A., Doyle, J. R. and Green, R. H. (2000). Testing the reliability of
    weight elicitation methods: direct rating versus point allocation. Journal of Marketing
    Research, 37(4), 508–513.

    Examples
    --------
    >>> points_weights([50, 30, 20])
    (0.5, 0.3, 0.2)
    """
    if not (math.isfinite(total) and total > 0):
        raise _invalid("total", f"must be positive and finite, not {total}")
    values = _vector(points, "points")
    negative = np.flatnonzero(values < 0)
    if negative.size:
        raise ValidationError(
            [Problem(f"points[{i}]", f"must not be negative, not {values[i]:g}") for i in negative]
        )
    given = float(values.sum())
    if abs(given - total) > 1e-9 * total:
        raise _invalid("points", f"points sum to {given:g}, not {total:g}")
    return tuple(float(v) for v in values / given)


def ranking_weights(ranks: Sequence[float]) -> tuple[float, ...]:
    """Turn a ranking (1 = most important) into rank-sum weights.

    Parameters
    ----------
    ranks : sequence of float
        Each item's rank from 1 to n, tied items sharing their average rank.

    Returns
    -------
    tuple of float
        :math:`w_i = (n + 1 - r_i) / \\sum_j (n + 1 - r_j)`, summing to 1.

    Notes
    -----
    Rank-sum weights are linear in rank; the denominator is :math:`n(n + 1)/2`. Ties keep
    equal weights because tied items share their average rank.

    References
    ----------
    Stillwell, W. G., Seaver, D. A. and Edwards, W. (1981). A comparison of weight
    approximation techniques in multiattribute utility decision making. Organizational
    Behavior and Human Performance, 28(1), 62–77.

    Examples
    --------
    >>> [round(w, 4) for w in ranking_weights([1, 2, 3])]
    [0.5, 0.3333, 0.1667]
    """
    values, problem = _ranking(_vector(ranks, "ranks"), "ranks")
    if problem is not None:
        raise ValidationError([problem])
    scores = values.size + 1 - values
    return tuple(float(w) for w in scores / scores.sum())


def consensus(individual: npt.ArrayLike) -> Consensus:
    """Combine respondents' weights and show where they disagree most.

    Parameters
    ----------
    individual : array_like of float, shape (m, n)
        One row per respondent: non-negative weights over the n items summing to 1 (from
        :func:`points_weights`, :func:`ranking_weights` or AHP priorities).

    Returns
    -------
    Consensus
        The consensus weights (summing to 1), each item's spread, and the item indices by
        spread, widest first (ties by index).

    Notes
    -----
    Consensus: :math:`\\bar{w}_i = \\frac{1}{m}\\sum_k w_{ki}`, renormalised to sum to 1
    (the arithmetic mean of priorities). For AHP respondents the group's weights come
    from :func:`aggregate_ahp` then :func:`ahp_priorities`; use this for the spread.

    Spread: the population standard deviation across respondents,
    :math:`s_i = \\sqrt{\\frac{1}{m}\\sum_k (w_{ki} - \\bar{w}_i)^2}` (0 for one respondent),
    in weight units rather than the coefficient of variation, which would magnify small
    absolute differences on the least important items.

    References
    ----------
    Forman, E. and Peniwati, K. (1998). Aggregating individual judgments and priorities
    with the analytic hierarchy process. European Journal of Operational Research, 108(1),
    165–169.

    Examples
    --------
    >>> c = consensus([[0.5, 0.3, 0.2], [0.5, 0.1, 0.4]])
    >>> [round(w, 3) for w in c.weights], [round(s, 3) for s in c.spread], c.split_order
    ([0.5, 0.2, 0.3], [0.0, 0.1, 0.1], (1, 2, 0))
    """
    w = _array(individual, "individual")
    if w.ndim != 2 or 0 in w.shape:
        raise _invalid("individual", "expected a non-empty respondents × items matrix")
    if not np.isfinite(w).all() or (w < 0).any():
        raise _invalid("individual", "weights must be finite and non-negative")
    sums = w.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > 1e-6)
    if off.size:
        raise ValidationError(
            [Problem(f"individual[{k}]", f"weights sum to {sums[k]:g}, not 1") for k in off]
        )
    mean = w.mean(axis=0)
    spread = w.std(axis=0)
    # Rounded so that spreads equal but for rounding fall back to index order.
    split_order = np.lexsort((np.arange(w.shape[1]), -np.round(spread, 12)))
    return Consensus(
        tuple(float(v) for v in mean / mean.sum()),
        tuple(float(s) for s in spread),
        tuple(int(i) for i in split_order),
    )


# Hierarchical AHP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AhpGroup:
    """Items compared with each other in one AHP matrix; ``members`` index the item list."""

    key: str
    label: str
    members: tuple[int, ...]


@dataclass(frozen=True)
class HierarchyResult:
    """Global priorities of a two-level AHP hierarchy and each matrix's own result."""

    weights: tuple[float, ...]
    local: Mapping[str, AhpResult]  # per group key with 2+ members, and GROUPS_KEY
    max_cr: float
    consistent: bool


# judgements[group key][(i, j)]: how many times more important local item i is than j.
Judgements = Mapping[str, Mapping[tuple[int, int], float]]


def _balanced(members: Sequence[int], parts: int) -> list[tuple[int, ...]]:
    """Split ``members`` in order into ``parts`` chunks whose sizes differ by at most 1."""
    size, larger = divmod(len(members), parts)
    chunks, start = [], 0
    for part in range(parts):
        end = start + size + (part < larger)
        chunks.append(tuple(members[start:end]))
        start = end
    return chunks


def ahp_groups(kinds: Sequence[str], *, max_size: int = 7) -> tuple[AhpGroup, ...]:
    """Group items for AHP by kind, so that no one compares more than ``max_size`` at once.

    Parameters
    ----------
    kinds : sequence of str
        Each item's kind: ``"C"``, ``"A"`` or ``"C/A"`` (the values of
        :class:`kamfit.domain.framework.Kind`), in item order.
    max_size : int, default 7
        The most items in one group, 2 to 15.

    Returns
    -------
    tuple of AhpGroup
        Keys ``"g1"``, ``"g2"``, … in order. All items in one group labelled "All
        requirements" when there are at most ``max_size``; otherwise one group per kind in
        the order C, A, C/A, a kind with more than ``max_size`` items split in input order
        into the fewest chunks of balanced size ("Attributes (1 of 2)", …).

    Notes
    -----
    A kind of :math:`m` items becomes :math:`k = \\lceil m / s \\rceil` groups for
    ``max_size`` :math:`s`; the first :math:`m \\bmod k` hold :math:`\\lfloor m/k \\rfloor + 1`
    items, the rest :math:`\\lfloor m/k \\rfloor`. Comparing :math:`n` items in one matrix
    takes :math:`n(n - 1)/2` judgements (210 for 21 items); groups of about seven keep
    each matrix within what people judge consistently, and :func:`ahp_pair_count` counts
    what remains. At most 15 groups are allowed, since the groups are compared in one
    matrix too.

    References
    ----------
    Saaty, T. L. and Ozdemir, M. S. (2003). Why the magic number seven plus or minus two.
    Mathematical and Computer Modelling, 38(3–4), 233–244.

    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Table 3: competency, attribute or both.)

    Examples
    --------
    >>> groups = ahp_groups(["C", "C", "C", "A", "A", "A", "A", "A"], max_size=4)
    >>> [(g.key, g.label, g.members) for g in groups]  # doctest: +NORMALIZE_WHITESPACE
    [('g1', 'Competencies', (0, 1, 2)), ('g2', 'Attributes (1 of 2)', (3, 4, 5)),
     ('g3', 'Attributes (2 of 2)', (6, 7))]
    """
    if not 2 <= max_size <= _MAX_AHP_SIZE:
        raise _invalid("max_size", f"must be 2 to {_MAX_AHP_SIZE} (Saaty's RI), not {max_size}")
    if len(kinds) == 0:
        raise _invalid("kinds", "needs at least one item")
    known = tuple(kind for kind, _ in _KIND_GROUPS)
    unknown = [
        Problem(f"kinds[{i}]", f"unknown kind {kind!r}: expected C, A or C/A")
        for i, kind in enumerate(kinds)
        if kind not in known
    ]
    if unknown:
        raise ValidationError(unknown)
    if len(kinds) <= max_size:
        return (AhpGroup("g1", "All requirements", tuple(range(len(kinds)))),)
    labelled: list[tuple[str, tuple[int, ...]]] = []
    for kind, label in _KIND_GROUPS:
        members = [i for i, k in enumerate(kinds) if k == kind]
        if not members:
            continue
        parts = -(-len(members) // max_size)
        for part, chunk in enumerate(_balanced(members, parts), start=1):
            labelled.append((label if parts == 1 else f"{label} ({part} of {parts})", chunk))
    if len(labelled) > _MAX_AHP_SIZE:
        message = (
            f"{len(kinds)} items make {len(labelled)} groups of at most {max_size}, and AHP "
            f"compares at most {_MAX_AHP_SIZE} groups: raise max_size"
        )
        raise _invalid("kinds", message)
    return tuple(
        AhpGroup(f"g{k}", label, members) for k, (label, members) in enumerate(labelled, start=1)
    )


def ahp_pair_count(groups: Sequence[AhpGroup]) -> int:
    """Count the judgements a respondent makes in a grouped AHP.

    Parameters
    ----------
    groups : sequence of AhpGroup
        The groups, e.g. from :func:`ahp_groups`.

    Returns
    -------
    int
        The pairs within each group plus, with more than one group, the pairs of groups.

    Notes
    -----
    With group sizes :math:`n_1, \\dots, n_G`:
    :math:`\\sum_g n_g (n_g - 1)/2 + [G > 1]\\, G (G - 1)/2`.

    References
    ----------
    Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill, New York.

    Examples
    --------
    >>> ahp_pair_count(ahp_groups(["C"] * 5 + ["A"] * 9 + ["C/A"] * 7))  # vs 210 ungrouped
    53
    """
    within = sum(len(g.members) * (len(g.members) - 1) // 2 for g in groups)
    between = len(groups) * (len(groups) - 1) // 2 if len(groups) > 1 else 0
    return within + between


def _structure_problems(n: int, groups: Sequence[AhpGroup]) -> list[Problem]:
    """Say how ``groups`` fail to split items 0 to n - 1 into comparable groups."""
    if n < 1:
        return [Problem("n", f"needs at least one item, not {n}")]
    if len(groups) == 0:
        return [Problem("groups", "needs at least one group")]
    problems = []
    if len(groups) > _MAX_AHP_SIZE:
        message = f"AHP compares at most {_MAX_AHP_SIZE} groups, not {len(groups)}"
        problems.append(Problem("groups", message))
    keys: set[str] = set()
    owner: dict[int, str] = {}
    for k, group in enumerate(groups):
        where = f"groups[{k}]"
        if group.key == GROUPS_KEY or group.key in keys:
            taken = "is reserved" if group.key == GROUPS_KEY else "is used by an earlier group"
            problems.append(Problem(f"{where}.key", f"{group.key!r} {taken}"))
        keys.add(group.key)
        if not 1 <= len(group.members) <= _MAX_AHP_SIZE:
            message = f"a group holds 1 to {_MAX_AHP_SIZE} items, not {len(group.members)}"
            problems.append(Problem(f"{where}.members", message))
        for i in group.members:
            if not 0 <= i < n:
                problems.append(Problem(f"{where}.members", f"item {i} is not in 0 to {n - 1}"))
            elif i in owner:
                message = f"item {i} is already in group {owner[i]}"
                problems.append(Problem(f"{where}.members", message))
            else:
                owner[i] = group.key
    loose = [i for i in range(n) if i not in owner]
    if loose:
        message = f"items {_fmt(loose)} are in no group: the groups must split all {n} items"
        problems.append(Problem("groups", message))
    return problems


def _matrix_sizes(groups: Sequence[AhpGroup]) -> dict[str, int]:
    """Return the size of each matrix a hierarchy needs, by judgements key."""
    sizes = {g.key: len(g.members) for g in groups if len(g.members) > 1}
    if len(groups) > 1:
        sizes[GROUPS_KEY] = len(groups)
    return sizes


def _pair_problems(pairs: Mapping[tuple[int, int], float], size: int, where: str) -> list[Problem]:
    """List the judgements of one matrix that are out of place, off the scale or missing."""
    problems = []
    for (i, j), value in pairs.items():
        location = f"{where}[{i},{j}]"
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(Problem(location, f"expected a number, not {value!r}"))
            continue
        if not (0 <= i < size and 0 <= j < size):
            problems.append(Problem(location, f"positions are 0 to {size - 1}"))
        elif i >= j:
            problems.append(Problem(location, "give each pair once, as [i,j] with i < j"))
        elif not _SAATY_MIN - 1e-9 <= number <= _SAATY_MAX + 1e-9:
            problems.append(Problem(location, f"{number:g} is outside Saaty's scale 1/9 to 9"))
    problems += [
        Problem(f"{where}[{i},{j}]", "missing: no judgement for this pair")
        for i, j in combinations(range(size), 2)
        if (i, j) not in pairs
    ]
    return problems


def _judgement_problems(
    groups: Sequence[AhpGroup], judgements: Judgements, prefix: str
) -> list[Problem]:
    """List what is missing, extra or wrong in one respondent's judgements."""
    sizes = _matrix_sizes(groups)
    labels = {g.key: g.label for g in groups}
    problems = []
    for key in judgements:
        if key not in sizes:
            if key == GROUPS_KEY:
                reason = "there is one group: no groups to compare"
            elif key in labels:
                reason = f"{labels[key]} has one item: nothing to compare"
            else:
                reason = f"no such group: expected {', '.join(sizes) or 'none'}"
            problems.append(Problem(f"{prefix}.{key}", reason))
    for key, size in sizes.items():
        if key in judgements:
            problems += _pair_problems(judgements[key], size, f"{prefix}.{key}")
        else:
            what = "the groups" if key == GROUPS_KEY else f"the items of {labels[key]}"
            message = f"missing: compare {what} ({size * (size - 1) // 2} pairs)"
            problems.append(Problem(f"{prefix}.{key}", message))
    return problems


def _hierarchy_matrices(groups: Sequence[AhpGroup], judgements: Judgements) -> dict[str, Floats]:
    """Build every matrix of a checked hierarchy, groups first and GROUPS_KEY last."""
    return {
        key: pairwise_matrix(size, judgements[key]) for key, size in _matrix_sizes(groups).items()
    }


def _compose(n: int, groups: Sequence[AhpGroup], matrices: Mapping[str, Floats]) -> HierarchyResult:
    """Derive each matrix's priorities and multiply down the hierarchy."""
    local = {key: ahp_priorities(a) for key, a in matrices.items()}
    group_weights = local[GROUPS_KEY].priorities if len(groups) > 1 else (1.0,)
    weights = np.zeros(n, dtype=np.float64)
    for group, group_weight in zip(groups, group_weights, strict=True):
        within = local[group.key].priorities if len(group.members) > 1 else (1.0,)
        weights[list(group.members)] = group_weight * np.asarray(within)
    weights /= weights.sum()
    max_cr = max((r.cr for r in local.values()), default=0.0)
    return HierarchyResult(
        tuple(float(w) for w in weights),
        MappingProxyType(local),
        max_cr,
        max_cr <= CR_THRESHOLD,
    )


def hierarchy_priorities(
    n: int, groups: Sequence[AhpGroup], judgements: Judgements
) -> HierarchyResult:
    """Derive global priorities from one respondent's judgements in a two-level AHP.

    Parameters
    ----------
    n : int
        The number of items.
    groups : sequence of AhpGroup
        Groups that split items 0 to n - 1, each item in exactly one (e.g. from
        :func:`ahp_groups`); 1 to 15 groups of 1 to 15 items.
    judgements : mapping of str to mapping of (i, j) to float
        ``judgements[group.key][(i, j)]``, for every pair ``i < j`` of *positions* in
        ``group.members``: how many times more important the item at position i is than
        the one at j, on Saaty's scale 1/9 to 9. With more than one group,
        ``judgements[GROUPS_KEY][(g, h)]`` compares the groups by their index in ``groups``.
        A group of one item has no entry.

    Returns
    -------
    HierarchyResult
        The global weights (summing to 1), each matrix's :class:`AhpResult`, the largest
        consistency ratio and whether it is within ``CR_THRESHOLD``.

    Notes
    -----
    Each matrix is built with :func:`pairwise_matrix` and solved with
    :func:`ahp_priorities`. The global weight of item :math:`i` in group :math:`g` is
    Saaty's hierarchic composition :math:`w_i = v_g\\, u^{(g)}_i`, with :math:`v` the
    priorities of the groups (1 for a single group) and :math:`u^{(g)}` the priorities
    within :math:`g` (1 for a group of one). The hierarchy counts as consistent when
    every matrix is: :math:`\\max CR \\le 0.10`.

    References
    ----------
    Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill, New York.
    (Hierarchic composition.)

    Saaty, T. L. (2008). Decision making with the analytic hierarchy process. International
    Journal of Services Sciences, 1(1), 83–98.

    Examples
    --------
    >>> groups = [AhpGroup("g1", "Competencies", (0, 1)), AhpGroup("g2", "Attributes", (2,))]
    >>> r = hierarchy_priorities(3, groups, {"g1": {(0, 1): 3}, GROUPS_KEY: {(0, 1): 4}})
    >>> [round(w, 4) for w in r.weights], sorted(r.local), r.consistent
    ([0.6, 0.2, 0.2], ['g1', 'groups'], True)
    """
    problems = _structure_problems(n, groups) or _judgement_problems(
        groups, judgements, "judgements"
    )
    if problems:
        raise ValidationError(problems)
    return _compose(n, groups, _hierarchy_matrices(groups, judgements))


def aggregate_hierarchy(
    n: int, groups: Sequence[AhpGroup], judgements: Sequence[Judgements]
) -> HierarchyResult:
    """Combine respondents' hierarchy judgements into the group's priorities (AIJ).

    Parameters
    ----------
    n : int
        The number of items.
    groups : sequence of AhpGroup
        The groups all respondents answered, as for :func:`hierarchy_priorities`.
    judgements : sequence of Judgements
        Each respondent's complete judgements.

    Returns
    -------
    HierarchyResult
        The group's global weights from the aggregated matrices, and their consistency.

    Notes
    -----
    Aggregation of individual judgements: each matrix is replaced by the element-wise
    geometric mean over the :math:`K` respondents (:func:`aggregate_ahp`),
    :math:`\\bar{a}_{ij} = (\\prod_k a^{(k)}_{ij})^{1/K}`, and the hierarchy is solved
    once. The geometric mean is the only averaging of ratio judgements that keeps the
    reciprocal property and treats every respondent alike, so the result does not depend
    on which of two items is asked about first.

    References
    ----------
    Aczél, J. and Saaty, T. L. (1983). Procedures for synthesizing ratio judgements.
    Journal of Mathematical Psychology, 27(1), 93–102.

    Forman, E. and Peniwati, K. (1998). Aggregating individual judgments and priorities
    with the analytic hierarchy process. European Journal of Operational Research, 108(1),
    165–169.

    Examples
    --------
    >>> groups = [AhpGroup("g1", "Competencies", (0, 1)), AhpGroup("g2", "Attributes", (2,))]
    >>> one = {"g1": {(0, 1): 4}, GROUPS_KEY: {(0, 1): 1}}
    >>> two = {"g1": {(0, 1): 1}, GROUPS_KEY: {(0, 1): 1}}
    >>> [round(w, 4) for w in aggregate_hierarchy(3, groups, [one, two]).weights]
    [0.3333, 0.1667, 0.5]
    """
    problems = _structure_problems(n, groups)
    if problems:
        raise ValidationError(problems)
    if len(judgements) == 0:
        raise _invalid("judgements", "no submitted answers yet")
    for k, answers in enumerate(judgements):
        problems += _judgement_problems(groups, answers, f"judgements[{k}]")
    if problems:
        raise ValidationError(problems)
    each = [_hierarchy_matrices(groups, answers) for answers in judgements]
    matrices = {key: aggregate_ahp([m[key] for m in each]) for key in each[0]}
    return _compose(n, groups, matrices)


# Weighting exercises --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseResult:
    """All respondents' weights, the consensus, where opinion splits and how far it agrees."""

    method: str  # "points", "ranking" or "ahp"
    individual: tuple[tuple[float, ...], ...]  # respondents × items, rows summing to 1
    consensus: tuple[float, ...]  # summing to 1
    spread: tuple[float, ...]
    split_order: tuple[int, ...]  # widest spread first
    agreement: AgreementResult | None  # None with < 2 respondents or items, or all tied
    consistency: tuple[float | None, ...]  # per respondent: max CR for AHP, else None
    inconsistent: tuple[int, ...]  # respondents whose CR exceeds CR_THRESHOLD


def _no_answers() -> ValidationError:
    return _invalid("respondents", "no submitted answers yet")


def _prefixed(exc: ValidationError, prefix: str) -> list[Problem]:
    """Return ``exc``'s problems located under ``prefix`` (e.g. ``respondents[2]``)."""
    return [
        Problem(f"{prefix}.{p.location}" if p.location else prefix, p.message) for p in exc.problems
    ]


def _agreement(ranks: Sequence[Sequence[float]]) -> AgreementResult | None:
    """Kendall's W of the rankings, or None where it is undefined."""
    if len(ranks) < 2 or len(ranks[0]) < 2:
        return None
    if all(max(row) - min(row) <= 1e-9 for row in ranks):
        return None  # every respondent tied every item: W is 0 / 0
    return kendalls_w(ranks)


def _rows(
    answers: Sequence[Sequence[float]], weigh: Callable[[Sequence[float]], tuple[float, ...]]
) -> list[tuple[float, ...]]:
    """Weigh each respondent's answer, naming the respondent in every problem."""
    if len(answers) == 0:
        raise _no_answers()
    problems: list[Problem] = []
    rows = []
    for k, answer in enumerate(answers):
        try:
            rows.append(weigh(answer))
        except ValidationError as exc:
            problems += _prefixed(exc, f"respondents[{k}]")
    if not problems:
        n = len(rows[0])
        problems = [
            Problem(f"respondents[{k}]", f"answers {len(row)} items where respondents[0] has {n}")
            for k, row in enumerate(rows)
            if len(row) != n
        ]
    if problems:
        raise ValidationError(problems)
    return rows


def _result(
    method: str,
    individual: Sequence[tuple[float, ...]],
    ranks: Sequence[Sequence[float]],
    *,
    weights: tuple[float, ...] | None = None,
    consistency: Sequence[float] | None = None,
) -> ExerciseResult:
    summary = consensus(individual)
    crs = tuple(consistency) if consistency is not None else (None,) * len(individual)
    return ExerciseResult(
        method=method,
        individual=tuple(individual),
        consensus=summary.weights if weights is None else weights,
        spread=summary.spread,
        split_order=summary.split_order,
        agreement=_agreement(ranks),
        consistency=crs,
        inconsistent=tuple(k for k, cr in enumerate(crs) if cr is not None and cr > CR_THRESHOLD),
    )


def points_exercise(points: Sequence[Sequence[float]], *, total: float = 100) -> ExerciseResult:
    """Turn every respondent's points allocation into weights, a consensus and agreement.

    Parameters
    ----------
    points : sequence of sequence of float
        One row per respondent: the points given to each item, non-negative, summing to
        ``total``; every row covers the same items.
    total : float, default 100
        The points each respondent allocates.

    Returns
    -------
    ExerciseResult
        ``method="points"``; each row's :func:`points_weights`, their mean as the
        consensus with spread and split order (:func:`consensus`), and Kendall's W of the
        rows' rankings (:func:`weights_to_ranks`, ties sharing their average rank).

    Notes
    -----
    :math:`w_{ki} = p_{ki} / T` and :math:`\\bar{w}_i = \\frac{1}{m} \\sum_k w_{ki}`. W is
    left out (``None``) with fewer than two respondents or items, or when every respondent
    gave every item the same points, since then there is no order to agree on.

    References
    ----------
    Bottomley, P. A., Doyle, J. R. and Green, R. H. (2000). Testing the reliability of
    weight elicitation methods: direct rating versus point allocation. Journal of Marketing
    Research, 37(4), 508–513.

    Kendall, M. G. and Babington Smith, B. (1939). The problem of m rankings. Annals of
    Mathematical Statistics, 10(3), 275–287.

    Examples
    --------
    >>> r = points_exercise([[50, 30, 20], [50, 10, 40]])
    >>> [round(w, 3) for w in r.consensus], r.split_order, r.agreement.w
    ([0.5, 0.2, 0.3], (1, 2, 0), 0.75)
    """
    if not (math.isfinite(total) and total > 0):
        raise _invalid("total", f"must be positive and finite, not {total}")
    individual = _rows(points, lambda row: points_weights(row, total))
    return _result("points", individual, [weights_to_ranks(w) for w in individual])


def ranking_exercise(ranks: Sequence[Sequence[float]]) -> ExerciseResult:
    """Turn every respondent's ranking into rank-sum weights, a consensus and agreement.

    Parameters
    ----------
    ranks : sequence of sequence of float
        One row per respondent: each item's rank from 1 (most important), tied items
        sharing the average of their places; every row covers the same items.

    Returns
    -------
    ExerciseResult
        ``method="ranking"``; each row's :func:`ranking_weights`, their mean as the
        consensus with spread and split order, and Kendall's W of the ranks as given.

    Notes
    -----
    :math:`w_{ki} = (n + 1 - r_{ki}) / \\sum_j (n + 1 - r_{kj})`, averaged over the
    :math:`m` respondents. W (:func:`kendalls_w`) is ``None`` with fewer than two
    respondents or items, or when every respondent tied all items.

    References
    ----------
    Stillwell, W. G., Seaver, D. A. and Edwards, W. (1981). A comparison of weight
    approximation techniques in multiattribute utility decision making. Organizational
    Behavior and Human Performance, 28(1), 62–77.

    Kendall, M. G. and Babington Smith, B. (1939). The problem of m rankings. Annals of
    Mathematical Statistics, 10(3), 275–287.

    Examples
    --------
    >>> r = ranking_exercise([[1, 2, 3], [1, 3, 2]])
    >>> [round(w, 3) for w in r.consensus], r.split_order, r.agreement.w
    ([0.5, 0.25, 0.25], (1, 2, 0), 0.75)
    """
    individual = _rows(ranks, ranking_weights)
    return _result("ranking", individual, [[float(r) for r in row] for row in ranks])


def ahp_exercise(
    n: int, groups: Sequence[AhpGroup], judgements: Sequence[Judgements]
) -> ExerciseResult:
    """Turn every respondent's AHP judgements into weights, a consensus and agreement.

    Parameters
    ----------
    n : int
        The number of items.
    groups : sequence of AhpGroup
        The groups every respondent compared (see :func:`hierarchy_priorities`).
    judgements : sequence of Judgements
        Each respondent's complete judgements.

    Returns
    -------
    ExerciseResult
        ``method="ahp"``; each respondent's global priorities
        (:func:`hierarchy_priorities`) and largest consistency ratio, the respondents
        above ``CR_THRESHOLD``, the consensus from the aggregated judgements
        (:func:`aggregate_hierarchy`), the spread and split order of the individual
        priorities (:func:`consensus`) and Kendall's W of their rankings.

    Notes
    -----
    The consensus is the hierarchy solved on the element-wise geometric mean of the
    respondents' matrices (AIJ), not the mean of their priorities: the group acts as one
    decision maker. An inconsistent respondent is flagged, not dropped; whether to ask
    them to revisit their judgements is for the facilitator.

    References
    ----------
    Forman, E. and Peniwati, K. (1998). Aggregating individual judgments and priorities
    with the analytic hierarchy process. European Journal of Operational Research, 108(1),
    165–169.

    Saaty, T. L. (2008). Decision making with the analytic hierarchy process. International
    Journal of Services Sciences, 1(1), 83–98.

    Examples
    --------
    >>> groups = [AhpGroup("g1", "Competencies", (0, 1)), AhpGroup("g2", "Attributes", (2,))]
    >>> one = {"g1": {(0, 1): 4}, GROUPS_KEY: {(0, 1): 1}}
    >>> two = {"g1": {(0, 1): 1}, GROUPS_KEY: {(0, 1): 1}}
    >>> r = ahp_exercise(3, groups, [one, two])
    >>> [round(w, 4) for w in r.consensus], r.consistency, r.inconsistent
    ([0.3333, 0.1667, 0.5], (0.0, 0.0), ())
    """
    problems = _structure_problems(n, groups)
    if problems:
        raise ValidationError(problems)
    if len(judgements) == 0:
        raise _no_answers()
    for k, answers in enumerate(judgements):
        problems += _judgement_problems(groups, answers, f"respondents[{k}].judgements")
    if problems:
        raise ValidationError(problems)
    # Vectorised over respondents: one stack of matrices per group, solved in one call.
    stacks = {
        key: np.stack([pairwise_matrix(size, answers[key]) for answers in judgements])
        for key, size in _matrix_sizes(groups).items()
    }
    solved = {key: _stack_priorities(stack) for key, stack in stacks.items()}
    m = len(judgements)
    group_weights = solved[GROUPS_KEY][0] if len(groups) > 1 else np.ones((m, 1))
    weights = np.zeros((m, n), dtype=np.float64)
    for g, group in enumerate(groups):
        within = solved[group.key][0] if len(group.members) > 1 else np.ones((m, 1))
        weights[:, list(group.members)] = group_weights[:, [g]] * within
    weights /= weights.sum(axis=1, keepdims=True)
    crs = np.max(np.stack([cr for _, cr in solved.values()]), axis=0) if solved else np.zeros(m)
    # AIJ: the element-wise geometric mean of each stack, made exactly reciprocal.
    group_matrices = {}
    for key, stack in stacks.items():
        mean = np.exp(np.log(stack).mean(axis=0))
        upper = np.triu(mean, k=1)
        group_matrices[key] = upper + np.triu(1 / mean, k=1).T + np.eye(mean.shape[0])
    individual = [tuple(float(w) for w in row) for row in weights]
    return _result(
        "ahp",
        individual,
        [weights_to_ranks(w) for w in individual],
        weights=_compose(n, groups, group_matrices).weights,
        consistency=[float(cr) for cr in crs],
    )


def _stack_priorities(stack: Floats) -> tuple[Floats, Floats]:
    """Priorities (rows summing to 1) and consistency ratios of a stack of AHP matrices.

    The same arithmetic as :func:`ahp_priorities`, for matrices already built by
    :func:`pairwise_matrix` (so reciprocal by construction), solved in one batched call.
    """
    m, n, _ = stack.shape
    eigenvalues, eigenvectors = np.linalg.eig(stack)
    k = np.argmax(eigenvalues.real, axis=1)
    rows = np.arange(m)
    vectors = eigenvectors[rows, :, k].real
    priorities: Floats = vectors / vectors.sum(axis=1, keepdims=True)
    lambda_max = eigenvalues[rows, k].real
    ci = np.maximum(0.0, (lambda_max - n) / (n - 1))
    cr: Floats = ci / SAATY_RI[n] if n > 2 else np.zeros(m)
    return priorities, cr
