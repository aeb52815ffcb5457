"""Decide which aggregates over people may be shown: a minimum group size k, against differencing.

An aggregate (a mean, a share, a distribution) over fewer than k people tells too much about
each of them; so does the difference of two aggregates shown side by side when the groups
behind them differ by fewer than k people (a total and all but one of its parts, or a group
and a sub-group). kamfit therefore shows a cell only when it rests on at least k people
(primary suppression) and hides more cells when the hidden ones could otherwise be worked
out by subtraction (complementary suppression).

* :func:`check_k`: k is a whole number from 3 to 10 (``Organisation.min_group_size``,
  default 5).
* :func:`suppress_partition`: a total and its breakdown into disjoint parts, vectorised over
  any number of such tables (e.g. one per question).
* :func:`rater_groups`: the anonymous groups of a 360 (peers, others) of each person and
  requirement, with k = 3: a group shown alone, merged into "others", or hidden.

Notation: parts :math:`n_1 … n_G` of a total :math:`T \\ge \\sum_g n_g` (people in no part
count in the total only), visible parts :math:`V`, hidden people
:math:`H = T - \\sum_{g \\in V} n_g`.

References
----------
Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt, E.,
Spicer, K. and de Wolf, P.-P. (2012). Statistical Disclosure Control. Wiley. (Primary and
secondary, or complementary, cell suppression; the differencing attack.)

Sweeney, L. (2002). k-anonymity: a model for protecting privacy. International Journal of
Uncertainty, Fuzziness and Knowledge-Based Systems, 10(5), 557–570.

Bracken, D. W., Timmreck, C. W. and Church, A. H. (eds.) (2001). The Handbook of Multisource
Feedback. Jossey-Bass. (At least three raters per anonymous rater group.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kamfit.domain.errors import Problem, ValidationError

__all__ = [
    "DEFAULT_K",
    "HIDDEN",
    "K_CEILING",
    "K_FLOOR",
    "MERGED",
    "RATER_GROUP_K",
    "SHOWN",
    "Suppression",
    "check_k",
    "fewer_than",
    "rater_groups",
    "suppress_partition",
]

DEFAULT_K = 5
K_FLOOR = 3
K_CEILING = 10
RATER_GROUP_K = 3
SHOWN, MERGED, HIDDEN = 0, 1, 2

Sizes = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int8]


def check_k(k: object, location: str = "k") -> int:
    """Return ``k`` if it is a whole number from 3 to 10, else raise a ValidationError.

    Examples
    --------
    >>> check_k(5)
    5
    >>> check_k(2)
    Traceback (most recent call last):
    ...
    kamfit.domain.errors.ValidationError: k: must be a whole number from 3 to 10, not 2
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not K_FLOOR <= k <= K_CEILING:
        raise ValidationError(
            [Problem(location, f"must be a whole number from {K_FLOOR} to {K_CEILING}, not {k}")]
        )
    return int(k)


def fewer_than(k: int) -> str:
    """The words shown in place of a suppressed figure: never a number, never a blank."""
    return f"fewer than {k}"


def _sizes(values: npt.ArrayLike, location: str) -> Sizes:
    sizes = np.asarray(values)
    if sizes.size and not np.issubdtype(sizes.dtype, np.integer):
        raise ValidationError([Problem(location, "expected whole numbers of people")])
    sizes = sizes.astype(np.int64)
    if sizes.size and sizes.min() < 0:
        raise ValidationError([Problem(location, "a number of people cannot be negative")])
    return sizes


@dataclass(frozen=True, eq=False)
class Suppression:
    """Which cells of total-and-parts tables may be shown; arrays are read-only."""

    parts: Flags  # (..., G) each part shown
    total: Flags  # (...) the total shown


def suppress_partition(
    parts: npt.ArrayLike, k: int, total: npt.ArrayLike | None = None
) -> Suppression:
    """Choose the cells of totals and their breakdowns that may be shown with minimum size k.

    Parameters
    ----------
    parts : ndarray of int, shape (..., G)
        People in each of the G disjoint parts of each table (e.g. the respondents of each
        department who answered one question).
    k : int
        The minimum group size, 3 to 10.
    total : ndarray of int, shape (...), optional
        People behind each table's total, at least the sum of its parts (people in no part
        count here only); default the sum of the parts.

    Returns
    -------
    Suppression
        ``parts`` (..., G) and ``total`` (...): True where the cell may be shown.

    Raises
    ------
    ValidationError
        If k is not 3 to 10, a size is negative or not whole, the shapes disagree or a total
        is smaller than the sum of its parts.

    Notes
    -----
    1. Primary suppression: a part is shown only if :math:`n_g \\ge k`, the total only if
       :math:`T \\ge k`; an empty part (:math:`n_g = 0`) is never shown.
    2. Complementary suppression: while the total is shown and :math:`0 < H < k`, the
       smallest shown part is hidden too (ties: the first). Each step adds at least k to
       H, so it ends with :math:`H = 0` or :math:`H \\ge k` after at most G steps.

    Then no shown cell rests on fewer than k people, and neither does any difference an
    attacker can form: the total minus any set of shown parts leaves the hidden people
    (0 or at least k) plus whole shown parts (each at least k); two parts are disjoint,
    and a part taken from the total leaves the others. The loop runs over G, never over
    tables.

    References
    ----------
    Hundepool, A. et al. (2012). Statistical Disclosure Control. Wiley. (Section 4.2,
    secondary cell suppression.)

    Examples
    --------
    >>> s = suppress_partition([6, 5, 1], k=5)  # Finance (1) hidden, then Marketing too
    >>> s.parts.tolist(), bool(s.total)
    ([True, False, False], True)
    >>> suppress_partition([[3, 3], [5, 5]], k=5).parts.tolist()
    [[False, False], [True, True]]
    """
    k = check_k(k)
    n = _sizes(parts, "parts")
    if n.ndim < 1:
        raise ValidationError([Problem("parts", "expected at least one axis of parts")])
    t = n.sum(axis=-1) if total is None else _sizes(total, "total")
    if t.shape != n.shape[:-1]:
        raise ValidationError([Problem("total", f"expected shape {n.shape[:-1]}, not {t.shape}")])
    if (t < n.sum(axis=-1)).any():
        raise ValidationError([Problem("total", "is smaller than the sum of its parts")])
    shown = n >= k
    total_shown = t >= k
    shown &= total_shown[..., np.newaxis]
    big = np.iinfo(np.int64).max
    for _ in range(n.shape[-1]):
        hidden = t - np.where(shown, n, 0).sum(axis=-1)
        risky = total_shown & (hidden > 0) & (hidden < k) & shown.any(axis=-1)
        if not risky.any():
            break
        smallest = np.argmin(np.where(shown, n, big), axis=-1)
        drop = np.zeros_like(shown)
        np.put_along_axis(drop, smallest[..., np.newaxis], risky[..., np.newaxis], axis=-1)
        shown &= ~drop
    shown.setflags(write=False)
    total_shown.setflags(write=False)
    return Suppression(shown, total_shown)


def rater_groups(counts: npt.ArrayLike, k: int = RATER_GROUP_K) -> Codes:
    """Place each anonymous rater group of a 360: shown alone, merged into "others", hidden.

    Parameters
    ----------
    counts : ndarray of int, shape (G, ...)
        Raters of each anonymous group (e.g. peers, others) behind each cell (e.g. each
        person and requirement). The line manager and self are attributed, not anonymous,
        and are not passed.
    k : int, default 3
        The minimum size of an anonymous group; 3 to 10.

    Returns
    -------
    ndarray of int8, shape (G, ...)
        ``SHOWN`` (0): the group is shown on its own; ``MERGED`` (1): its ratings are
        pooled into one "others" group that is shown; ``HIDDEN`` (2): its ratings are not
        shown and must not count in anything derived from the shown groups (a combined
        level, a fit, a band).

    Raises
    ------
    ValidationError
        If k is not 3 to 10 or a count is negative or not whole.

    Notes
    -----
    Per cell: the groups with :math:`1 \\le n_g < k` form a pool :math:`P`. If
    :math:`P = 0` nothing is merged. If :math:`P \\ge k` the pool is shown as "others".
    If :math:`0 < P < k`, the smallest group shown alone joins the pool (which then has at
    least k), or, when no group is shown alone, the pool is hidden. Groups with
    :math:`n_g = 0` are ``HIDDEN`` (nothing to show).

    Every shown cell, alone or merged, rests on at least k raters, and no shown cell is a
    subset of another: a merged group is never shown alone, so subtracting the pooled mean
    from a group mean isolates nobody. The combined level shown beside them must be
    computed from the shown cells only (merged ratings counted as "others", hidden ones
    left out); otherwise combined minus the shown groups would give a hidden group away.

    References
    ----------
    Bracken, D. W., Timmreck, C. W. and Church, A. H. (2001). The Handbook of Multisource
    Feedback. Jossey-Bass. (Three raters per anonymous group.)

    DecisionWise, "Rater anonymity in 360 feedback" (a group with one respondent is merged
    into another group).

    Examples
    --------
    >>> rater_groups([[2, 4, 2, 1], [5, 4, 1, 0]]).tolist()  # peers, then others
    [[1, 0, 1, 2], [1, 0, 1, 2]]
    """
    k = check_k(k)
    n = _sizes(counts, "counts")
    if n.ndim < 1:
        raise ValidationError([Problem("counts", "expected one row of counts per group")])
    small = (n > 0) & (n < k)
    alone = n >= k
    pool = np.where(small, n, 0).sum(axis=0)
    short = (pool > 0) & (pool < k)
    big = np.iinfo(np.int64).max
    smallest = np.argmin(np.where(alone, n, big), axis=0)
    joins = np.zeros_like(alone)
    rescue = short & alone.any(axis=0)
    np.put_along_axis(joins, smallest[np.newaxis], rescue[np.newaxis], axis=0)
    merged = (small & ~(short & ~rescue)) | joins
    out = np.full(n.shape, HIDDEN, dtype=np.int8)
    out[alone & ~joins] = SHOWN
    out[merged] = MERGED
    out.setflags(write=False)
    return out
