"""Weight a role profile's competencies: points, ranking or AHP, then consensus and agreement.

Section 2.5 of the Warwick paper: companies use unweighted competency lists while opinions on
importance differ from person to person, so the company should express a consistent view by
weighting. Stakeholders allocate points, rank, or compare pairs (AHP); this module turns each
answer into weights, checks AHP consistency, forms consensus weights, measures agreement
(Kendall's W) and shows where opinion splits. Input that breaks a function's rules raises
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from kamfit.domain.errors import Problem, ValidationError

__all__ = [
    "CR_THRESHOLD",
    "SAATY_RI",
    "AgreementResult",
    "AhpResult",
    "Consensus",
    "aggregate_ahp",
    "ahp_priorities",
    "chi2_sf",
    "consensus",
    "kendalls_w",
    "pairwise_matrix",
    "points_weights",
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
