"""Score an organisation readiness audit: item means, group means and anonymous breakdowns.

Respondents rate items (the litmus test for KAM-effective organisations and the
"Role of company" responsibilities of each role element) on the paper's scale
Poor / Fair / Good, or say "don't know". Answers arrive as a matrix of small
integer codes, one row per respondent and one column per item.

References
----------
Woodburn, D. (2006). Competencies for key account managers: a view from a
practitioner taskforce. Warwick Business School, Strategic Sales and Customer
Management Network, October 2006.

Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt, E.,
Spicer, K. and de Wolf, P.-P. (2012). Statistical Disclosure Control. Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kamfit.domain.errors import Problem, ValidationError

__all__ = [
    "DEFAULT_MIN_GROUP",
    "DONT_KNOW",
    "FAIR",
    "GOOD",
    "LEVELS",
    "MIN_GROUP_CEILING",
    "MIN_GROUP_FLOOR",
    "NO_ANSWER",
    "OTHER_DEPARTMENTS",
    "POOR",
    "SCORE_OF",
    "Breakdown",
    "Disagreement",
    "ItemStats",
    "change",
    "department_breakdown",
    "disagreements",
    "group_means",
    "item_stats",
    "response_rate",
    "weakest",
]

DONT_KNOW = 0
POOR = 1
FAIR = 2
GOOD = 3
NO_ANSWER = -1
LEVELS: tuple[str, ...] = ("Poor", "Fair", "Good")
SCORE_OF: Mapping[int, float] = {POOR: 0.0, FAIR: 50.0, GOOD: 100.0}
DEFAULT_MIN_GROUP = 5
MIN_GROUP_FLOOR = 3
MIN_GROUP_CEILING = 10
OTHER_DEPARTMENTS = "Other departments"

# Indexed by code + 1, so that NO_ANSWER (-1) and DONT_KNOW (0) map to nan.
_SCORE_BY_INDEX = np.array(
    [math.nan, math.nan, SCORE_OF[POOR], SCORE_OF[FAIR], SCORE_OF[GOOD]], dtype=np.float64
)

Ratings = npt.NDArray[np.int8]
Floats = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]


@dataclass(frozen=True)
class ItemStats:
    """The answers to one item: its readiness on 0–100, the counts behind it and their spread."""

    mean: float
    answered: int
    dont_know: int
    counts: tuple[int, int, int]
    spread: float


@dataclass(frozen=True, eq=False)
class Breakdown:
    """Item means per department, with small departments pooled or the whole breakdown withheld.

    ``means`` is read-only. Equality is identity: arrays have no single truth value.
    """

    labels: tuple[str, ...]
    sizes: tuple[int, ...]
    means: Floats
    hidden: int
    note: str


@dataclass(frozen=True)
class Disagreement:
    """How much respondents, and departments, disagree about one item."""

    item: int
    spread: float
    department_range: float


def _invalid(location: str, message: str) -> ValidationError:
    return ValidationError([Problem(location, message)])


def _checked_ratings(ratings: Ratings) -> npt.NDArray[np.int8]:
    codes = np.asarray(ratings)
    if codes.ndim != 2:
        raise _invalid("ratings", f"expected a 2-D respondents × items matrix, got {codes.ndim}-D")
    if not np.issubdtype(codes.dtype, np.integer):
        raise _invalid("ratings", f"expected integer codes, got {codes.dtype}")
    if codes.size and (codes.min() < NO_ANSWER or codes.max() > GOOD):
        raise _invalid("ratings", f"codes must be between {NO_ANSWER} and {GOOD}")
    return codes.astype(np.int8, copy=False)


def _mean_and_spread(counts: npt.NDArray[np.int64]) -> tuple[Floats, Floats]:
    """Return mean and population std per column from Poor/Fair/Good counts (shape 3 × I)."""
    scores = np.array([SCORE_OF[POOR], SCORE_OF[FAIR], SCORE_OF[GOOD]])[:, np.newaxis]
    n = counts.sum(axis=0)
    safe_n = np.maximum(n, 1)
    mean = (counts * scores).sum(axis=0) / safe_n
    variance = (counts * (scores - mean) ** 2).sum(axis=0) / safe_n
    return np.where(n > 0, mean, np.nan), np.where(n > 1, np.sqrt(variance), np.nan)


def item_stats(ratings: Ratings) -> tuple[ItemStats, ...]:
    """Summarise each item (column) of a ratings matrix.

    Parameters
    ----------
    ratings : ndarray of int, shape (R, I)
        One row per respondent, one column per item, holding ``POOR`` (1), ``FAIR`` (2),
        ``GOOD`` (3), ``DONT_KNOW`` (0) or ``NO_ANSWER`` (-1).

    Returns
    -------
    tuple of ItemStats
        One per item, in column order.

    Raises
    ------
    ValidationError
        If ``ratings`` is not a 2-D integer matrix of the codes above.

    Notes
    -----
    With :math:`n_P, n_F, n_G` the Poor, Fair and Good answers to an item and
    :math:`n = n_P + n_F + n_G`, readiness is the mean of the scores Poor = 0, Fair = 50,
    Good = 100 over the answered ratings:

    .. math:: \\bar{x} = (0 \\cdot n_P + 50 \\cdot n_F + 100 \\cdot n_G) / n

    and the spread is the population standard deviation
    :math:`\\sqrt{\\sum_k n_k (s_k - \\bar{x})^2 / n}` (nan when :math:`n < 2`; the mean is nan
    when :math:`n = 0`). "Don't know" is neither a score nor a zero: it is counted in
    ``dont_know`` and lowers nothing. ``NO_ANSWER`` is ignored altogether. The counts
    come from whole-matrix comparisons, so there is no Python loop over respondents.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (The Poor / Fair / Good scale of the litmus test.)

    Examples
    --------
    >>> import numpy as np
    >>> s = item_stats(np.array([[GOOD, DONT_KNOW], [FAIR, NO_ANSWER]], dtype=np.int8))
    >>> s[0].mean, s[0].answered, s[0].counts, s[0].spread
    (75.0, 2, (0, 1, 1), 25.0)
    >>> s[1].answered, s[1].dont_know
    (0, 1)
    """
    codes = _checked_ratings(ratings)
    counts = np.stack(
        [np.count_nonzero(codes == code, axis=0) for code in (POOR, FAIR, GOOD)]
    ).astype(np.int64)
    dont_know = np.count_nonzero(codes == DONT_KNOW, axis=0)
    mean, spread = _mean_and_spread(counts)
    return tuple(
        ItemStats(
            mean=float(mean[i]),
            answered=int(counts[:, i].sum()),
            dont_know=int(dont_know[i]),
            counts=(int(counts[0, i]), int(counts[1, i]), int(counts[2, i])),
            spread=float(spread[i]),
        )
        for i in range(codes.shape[1])
    )


def group_means(item_means: Floats, membership: Indices, n_groups: int) -> Floats:
    """Average item means into groups (items into role elements, elements into roles).

    Parameters
    ----------
    item_means : ndarray of float, shape (I,)
        One mean per item; nan for an item nobody scored.
    membership : ndarray of int, shape (I,)
        The group index of each item, or -1 for an item in no group.
    n_groups : int
        The number of groups.

    Returns
    -------
    ndarray of float, shape (n_groups,)
        The mean of each group's non-nan item means; nan for a group with no scored item.

    Raises
    ------
    ValidationError
        If the shapes differ, ``n_groups`` is negative or a membership is out of range.

    Notes
    -----
    For group :math:`g` with scored items :math:`S_g = \\{i : m_i = g, \\bar{x}_i \\ne nan\\}`,
    the result is :math:`\\sum_{i \\in S_g} \\bar{x}_i / |S_g|`: each item weighs the same,
    whatever its number of answers. Computed with ``np.bincount``.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Roles of KAM, split into role elements.)

    Examples
    --------
    >>> import numpy as np
    >>> group_means(np.array([50.0, 100.0, np.nan, 0.0]), np.array([0, 0, 1, -1]), 2).tolist()
    [75.0, nan]
    """
    means = np.asarray(item_means, dtype=np.float64)
    groups = np.asarray(membership)
    if means.ndim != 1 or groups.shape != means.shape:
        raise _invalid("membership", "item_means and membership must be 1-D and the same length")
    if n_groups < 0:
        raise _invalid("n_groups", "must not be negative")
    if groups.size and not np.issubdtype(groups.dtype, np.integer):
        raise _invalid("membership", f"expected integer group indices, got {groups.dtype}")
    if groups.size and (groups.min() < -1 or groups.max() >= n_groups):
        raise _invalid("membership", f"group indices must be -1 or between 0 and {n_groups - 1}")
    scored = ~np.isnan(means) & (groups >= 0)
    index = groups[scored].astype(np.intp)
    sums = np.bincount(index, weights=means[scored], minlength=n_groups)
    n = np.bincount(index, minlength=n_groups)
    out: Floats = np.where(n > 0, sums / np.maximum(n, 1), np.nan)
    return out


def _withheld(n_items: int, respondents: int, note: str) -> Breakdown:
    return Breakdown((), (), _frozen(np.empty((0, n_items))), respondents, note)


def _frozen(array: Floats) -> Floats:
    array.setflags(write=False)
    return array


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _visible_departments(
    sizes: npt.NDArray[np.int64], untagged: int, k: int
) -> tuple[Indices, int, int]:
    """Return the departments to show, the pool size and how many were added to the pool."""
    visible = sizes >= k
    pool = int(sizes[~visible].sum()) + untagged
    added = 0
    while 0 < pool < k and visible.any():
        candidates = np.flatnonzero(visible)
        smallest = candidates[np.argmin(sizes[candidates])]
        visible[smallest] = False
        pool += int(sizes[smallest])
        added += 1
    return np.flatnonzero(visible), pool, added


def department_breakdown(
    ratings: Ratings,
    groups: Indices,
    labels: Sequence[str],
    min_group: int = DEFAULT_MIN_GROUP,
) -> Breakdown:
    """Break item means down by department without exposing any group smaller than ``min_group``.

    Parameters
    ----------
    ratings : ndarray of int, shape (R, I)
        The codes of :func:`item_stats`.
    groups : ndarray of int, shape (R,)
        Each respondent's department, an index into ``labels``; -1 for a respondent with no
        department (counted with "Other departments").
    labels : sequence of str
        Department names.
    min_group : int, default 5
        The smallest number of respondents a shown group may have (k), from
        ``MIN_GROUP_FLOOR`` (3) to ``MIN_GROUP_CEILING`` (10).

    Returns
    -------
    Breakdown
        The visible groups in label order, then "Other departments" if anything was pooled;
        their sizes; their item means (shape ``(len(labels), I)``, nan where nobody in the
        group answered); how many respondents are in no visible group; and a note in plain
        English on what was pooled or withheld and why.

    Raises
    ------
    ValidationError
        If ``min_group`` is outside 3–10, or the inputs have the wrong shape or codes.

    Notes
    -----
    Only respondents with at least one answer other than ``NO_ANSWER`` count. Then:

    1. A department with fewer than k respondents is never shown; it is pooled into
       "Other departments", with respondents who have no department.
    2. If the pool holds 1 to k−1 respondents, the smallest shown department joins it
       (complementary suppression), until the pool is empty or has at least k.
    3. If fewer than 2 groups would then be shown (counting "Other departments"), no
       breakdown is shown: a single group would repeat the overall result.

    So every shown group has at least k respondents, the shown groups cover everyone
    whenever anything is shown, and the overall result minus any set of shown groups leaves
    either nobody or at least k people: no subtraction of shown figures isolates fewer
    than k respondents. The threshold is on respondents, not on the answers to one item,
    so a group's mean on an item can rest on fewer than k answers from its k or more
    members. Item means per group follow :func:`item_stats`.

    References
    ----------
    Minimum response threshold: industry practice for anonymous surveys shows no group of
    fewer than 5 respondents by default, configurable from 3 to 10 (e.g. Quantum Workplace,
    "Minimum response threshold"; Lattice, "Adjust the anonymity threshold in surveys").

    Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley. (Primary and
    complementary cell suppression against differencing.)

    Examples
    --------
    >>> import numpy as np
    >>> ratings = np.full((12, 1), GOOD, dtype=np.int8)
    >>> ratings[:6, 0] = POOR
    >>> groups = np.array([0] * 6 + [1] * 5 + [2])
    >>> b = department_breakdown(ratings, groups, ["Sales", "Marketing", "Finance"])
    >>> b.labels, b.sizes, b.hidden
    (('Sales', 'Other departments'), (6, 6), 0)
    >>> b.means[:, 0].tolist()
    [0.0, 100.0]
    """
    if not MIN_GROUP_FLOOR <= min_group <= MIN_GROUP_CEILING:
        raise _invalid(
            "min_group",
            f"must be between {MIN_GROUP_FLOOR} and {MIN_GROUP_CEILING}, not {min_group}",
        )
    codes = _checked_ratings(ratings)
    dept = np.asarray(groups)
    if dept.shape != (codes.shape[0],) or (dept.size and not np.issubdtype(dept.dtype, np.integer)):
        raise _invalid("groups", "expected one integer department index per respondent")
    if dept.size and (dept.min() < -1 or dept.max() >= len(labels)):
        raise _invalid(
            "groups", f"department indices must be -1 or between 0 and {len(labels) - 1}"
        )

    active = (codes != NO_ANSWER).any(axis=1)
    counted = dept[active].astype(np.intp)
    total = int(active.sum())
    sizes = np.bincount(counted[counted >= 0], minlength=len(labels)).astype(np.int64)
    untagged = int(np.count_nonzero(counted < 0))
    shown, pool, added = _visible_departments(sizes, untagged, min_group)
    if len(shown) + (pool > 0) < 2:
        return _withheld(
            codes.shape[1],
            total,
            "No breakdown by department is shown: it needs at least two groups of "
            f"{min_group} or more respondents, and a single group would repeat the overall result.",
        )

    row_of = np.full(len(labels), len(shown), dtype=np.intp)  # pooled departments: last row
    row_of[shown] = np.arange(len(shown))
    n_rows = len(shown) + (pool > 0)
    member_row = np.where(dept >= 0, row_of[np.maximum(dept, 0)], len(shown))
    member_row[~active] = n_rows  # a row beyond the output, dropped below
    one_hot = (member_row[np.newaxis, :] == np.arange(n_rows)[:, np.newaxis]).astype(np.float64)
    answered = (codes >= POOR).astype(np.float64)
    scores = np.where(codes >= POOR, _SCORE_BY_INDEX[codes.astype(np.intp) + 1], 0.0)
    n = one_hot @ answered
    means = np.where(n > 0, (one_hot @ scores) / np.maximum(n, 1.0), np.nan)

    out_labels = tuple(labels[i] for i in shown) + ((OTHER_DEPARTMENTS,) if pool else ())
    out_sizes = tuple(int(sizes[i]) for i in shown) + ((pool,) if pool else ())
    small = int(np.count_nonzero((sizes > 0) & (sizes < min_group)))
    notes = []
    if small:
        notes.append(
            f"{_plural(small, 'department', 'departments')} with fewer than {min_group} "
            f"respondents {'is' if small == 1 else 'are'} pooled as {OTHER_DEPARTMENTS}."
        )
    if untagged:
        notes.append(f"Respondents without a department are counted in {OTHER_DEPARTMENTS}.")
    if added:
        notes.append(
            f"{_plural(added, 'larger department is', 'larger departments are')} pooled as well, "
            f"so that no group of fewer than {min_group} can be worked out by subtraction."
        )
    note = " ".join(notes) or f"Every department shown has at least {min_group} respondents."
    return Breakdown(out_labels, out_sizes, _frozen(means), 0, note)


def disagreements(
    stats: Sequence[ItemStats], breakdown: Breakdown, top: int = 10
) -> tuple[Disagreement, ...]:
    """Rank the items respondents and departments disagree on most.

    Parameters
    ----------
    stats : sequence of ItemStats
        From :func:`item_stats`, one per item.
    breakdown : Breakdown
        From :func:`department_breakdown` over the same items.
    top : int, default 10
        How many items to return at most.

    Returns
    -------
    tuple of Disagreement
        Items with at least 2 answers, by department range (nan last), then spread, both
        descending, then item index.

    Raises
    ------
    ValidationError
        If ``top`` is negative or ``breakdown`` covers a different number of items.

    Notes
    -----
    The department range of item :math:`i` is :math:`\\max_g \\bar{x}_{gi} - \\min_g \\bar{x}_{gi}`
    over the visible groups with a mean for it (nan with fewer than 2). The spread is the
    population standard deviation of the 0–100 scores (see :func:`item_stats`).

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School.

    Examples
    --------
    >>> import numpy as np
    >>> ratings = np.array([[POOR, GOOD]] * 5 + [[GOOD, GOOD]] * 5, dtype=np.int8)
    >>> b = department_breakdown(ratings, np.array([0] * 5 + [1] * 5), ["Sales", "Finance"])
    >>> [(d.item, d.department_range) for d in disagreements(item_stats(ratings), b)]
    [(0, 100.0), (1, 0.0)]
    """
    if top < 0:
        raise _invalid("top", "must not be negative")
    means = breakdown.means
    if means.shape[1] != len(stats):
        raise _invalid("breakdown", f"covers {means.shape[1]} items, not {len(stats)}")
    has_mean = ~np.isnan(means)
    enough = has_mean.sum(axis=0) >= 2
    high = np.where(has_mean, means, -np.inf).max(axis=0, initial=-np.inf)
    low = np.where(has_mean, means, np.inf).min(axis=0, initial=np.inf)
    ranges = np.where(enough, high - low, np.nan)
    items = [i for i, s in enumerate(stats) if s.answered >= 2]
    items.sort(
        key=lambda i: (math.isnan(ranges[i]), -np.nan_to_num(ranges[i]), -stats[i].spread, i)
    )
    return tuple(Disagreement(i, stats[i].spread, float(ranges[i])) for i in items[:top])


def weakest(means: Floats, top: int = 5) -> tuple[int, ...]:
    """Return the indices of the lowest means.

    Parameters
    ----------
    means : ndarray of float, shape (I,)
        Item (or element, or role) means; nan is skipped.
    top : int, default 5
        How many indices to return at most.

    Returns
    -------
    tuple of int
        Indices ordered by mean ascending, ties by index.

    Raises
    ------
    ValidationError
        If ``top`` is negative or ``means`` is not 1-D.

    Notes
    -----
    A stable sort of the non-nan means: :math:`i` precedes :math:`j` when
    :math:`\\bar{x}_i < \\bar{x}_j`, or when they are equal and :math:`i < j`.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School.

    Examples
    --------
    >>> import numpy as np
    >>> weakest(np.array([50.0, np.nan, 0.0, 50.0, 100.0]), top=3)
    (2, 0, 3)
    """
    values = np.asarray(means, dtype=np.float64)
    if values.ndim != 1:
        raise _invalid("means", "expected a 1-D array")
    if top < 0:
        raise _invalid("top", "must not be negative")
    scored = np.flatnonzero(~np.isnan(values))
    order = scored[np.argsort(values[scored], kind="stable")]
    return tuple(int(i) for i in order[:top])


def change(previous: Mapping[str, float], current: Mapping[str, float]) -> dict[str, float]:
    """Return the change in each score between two audits, in percentage points.

    Parameters
    ----------
    previous, current : mapping of str to float
        Scores on 0–100 by key (item, role element or role).

    Returns
    -------
    dict of str to float
        ``current[key] - previous[key]`` for each key in both with finite values, in the
        order of ``current``.

    Notes
    -----
    :math:`\\Delta_k = \\bar{x}^{\\,current}_k - \\bar{x}^{\\,previous}_k`. A key missing from
    either audit, or unscored (nan) in either, has no change rather than a change to or from 0.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School.

    Examples
    --------
    >>> change({"trust": 50.0, "risk": 25.0}, {"trust": 75.0, "new": 10.0})
    {'trust': 25.0}
    """
    return {
        key: float(value) - float(previous[key])
        for key, value in current.items()
        if key in previous and math.isfinite(value) and math.isfinite(previous[key])
    }


def response_rate(submitted: int, invited: int) -> float:
    """Return the share of invited respondents who submitted, from 0 to 1.

    Parameters
    ----------
    submitted : int
        Respondents who submitted.
    invited : int
        Respondents invited.

    Returns
    -------
    float
        ``submitted / invited``; 0 when nobody was invited.

    Raises
    ------
    ValidationError
        If either count is negative or more submitted than were invited.

    Notes
    -----
    :math:`r = n_{submitted} / n_{invited}`, with :math:`r = 0` when :math:`n_{invited} = 0`.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School.

    Examples
    --------
    >>> response_rate(3, 4)
    0.75
    """
    problems = [
        Problem(name, "must not be negative")
        for name, value in (("submitted", submitted), ("invited", invited))
        if value < 0
    ]
    if not problems and submitted > invited:
        problems.append(Problem("submitted", f"{submitted} is more than the {invited} invited"))
    if problems:
        raise ValidationError(problems)
    return submitted / invited if invited else 0.0
