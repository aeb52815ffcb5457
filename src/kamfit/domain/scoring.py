"""Score multi-rater competency assessments against a role profile, vectorised over people.

Raters of several sources (self, line manager, peers, others, and a psychometric test for
attributes) rate each person on each competency of a role profile, on the proficiency scale
(levels 1 to L). :func:`score` turns a rater-major ratings array into, per person and
competency, a mean per source, a combined score, the gap to the required level, self-other
blind spots and hidden strengths; and per person a weighted fit to the profile, the share of
the profile it rests on (coverage) and a percentile rank within a peer group. :func:`band`
turns those into bench strength: ready now, ready with development, not yet, or not enough
evidence.

Notation: ratings :math:`x_{knc}` (slot :math:`k`, person :math:`n`, competency :math:`c`),
slot sources :math:`s_{kn}`, source weights :math:`w_s`, required levels :math:`r_c`,
competency weights :math:`v_c`, threshold :math:`t`.

* Source mean: :math:`m_{snc} = \\sum_{k: s_{kn}=s} x_{knc} / n_{snc}` over the ratings that
  are not nan, with :math:`n_{snc}` their number; nan when :math:`n_{snc} = 0`, and for peers
  also when :math:`n_{snc}` is below ``min_peers`` (anonymity: one peer's rating must not be
  readable from the result).
* Combined score: :math:`y_{nc} = \\sum_{s \\in A} w_s m_{snc} / \\sum_{s \\in A} w_s`, both sums
  over the sources :math:`A` with :math:`w_s > 0` and a mean for the cell, so weights are
  renormalised over the sources present. Self counts only with ``include_self``. The "others"
  score :math:`o_{nc}` is the same mean without self.
* Gap: :math:`g_{nc} = y_{nc} - r_c` (negative: short of the required level).
* Fit: :math:`F_n = 100 \\sum_{c \\in V_n} v_c \\min(y_{nc}/r_c, 1) / \\sum_{c \\in V_n} v_c`
  with :math:`V_n` the competencies scored for person :math:`n`; exceeding a requirement earns
  nothing more. Coverage: :math:`\\sum_{c \\in V_n} v_c / \\sum_c v_c`.
* Blind spot: :math:`m_{self,nc} - o_{nc} \\ge t`; hidden strength: :math:`o_{nc} - m_{self,nc}
  \\ge t` (Yammarino & Atwater's over- and under-raters, per competency).
* Percentile rank in the person's group: :math:`100 (B_n + E_n / 2) / M_g`, with :math:`B_n`
  people of the group with a lower fit, :math:`E_n` with the same fit (including :math:`n`)
  and :math:`M_g` people of the group with a fit.

Threshold comparisons allow 1e-9 for rounding, and fits are ranked on a grid of
:math:`2^{-30}` (about 1e-9), so that floating-point noise in mathematically equal
scores neither breaks a tie nor flips a threshold.

References
----------
Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
taskforce. Warwick Business School, Strategic Sales and Customer Management Network,
October 2006. (Competencies and attributes; attributes measured by psychometric tests.)

Bracken, D. W., Timmreck, C. W. and Church, A. H. (eds.) (2001). The Handbook of
Multisource Feedback. San Francisco: Jossey-Bass. (Rater groups, a minimum of three raters
per group for anonymity.)

Yammarino, F. J. and Atwater, L. E. (1997). Do managers see themselves as others see them?
Implications of self-other rating agreement for human resource management. Organizational
Dynamics, 25(4), 35–44.

Byham, W. C., Smith, A. B. and Paese, M. J. (2002). Grow Your Own Leaders. Upper Saddle
River, NJ: Prentice Hall. ("Ready now" and "ready with development" bench strength.)

Canfield, A. A. (1951). The "sten" scale — a modified C-scale. Educational and
Psychological Measurement, 11(2), 295–297.

Crocker, L. and Algina, J. (1986). Introduction to Classical and Modern Test Theory. New
York: Holt, Rinehart and Winston. (Percentile ranks with the mid-point rule for ties.)
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from statistics import NormalDist
from types import MappingProxyType
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from kamfit.domain.errors import Problem, ValidationError
from kamfit.domain.framework import MAX_SCALE_LEVELS, MIN_SCALE_LEVELS

__all__ = [
    "BANDS",
    "DEFAULT_RULES",
    "EMPTY",
    "MANAGER",
    "OTHER",
    "PEER",
    "PSYCHOMETRIC",
    "PSYCHOMETRIC_SCALES",
    "SELF",
    "SOURCES",
    "Scores",
    "ScoringRules",
    "band",
    "psychometric_level",
    "rules_from_dict",
    "rules_to_dict",
    "score",
    "sten_from",
]

SOURCES: tuple[str, ...] = ("self", "manager", "peer", "other", "psychometric")
SELF, MANAGER, PEER, OTHER, PSYCHOMETRIC = 0, 1, 2, 3, 4
EMPTY = -1
PSYCHOMETRIC_SCALES: tuple[str, ...] = ("sten", "stanine", "percentile", "level")
BANDS: Mapping[int, str] = MappingProxyType(
    {2: "Ready now", 1: "Ready with development", 0: "Not yet", -1: "Not enough evidence"}
)

MAX_SOURCE_WEIGHT = 10.0
MIN_PEERS_RANGE = (1, 20)
MAX_THRESHOLD = float(MAX_SCALE_LEVELS - 1)
_EPS = 1e-9  # rounding allowance for threshold comparisons
_FIT_GRID = 2.0**30  # fits are ranked as round(fit * 2**30): below 2**37 for fit <= 100
_FIT_BITS = 37
_GROUP_LIMIT = 2**26  # group << 37 must stay inside int64
_BLOCK_CELLS = 2**17  # cells per block: a block's temporaries stay in the CPU cache
_PARALLEL_CELLS = 2**18  # from this many cells up, blocks are shared between threads
_MAX_THREADS = 4

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.int32]
Flags = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.integer]
_A = TypeVar("_A", Floats, Counts, Flags)


def _invalid(location: str, message: str) -> ValidationError:
    return ValidationError([Problem(location, message)])


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


@dataclass(frozen=True)
class ScoringRules:
    """How ratings combine: weight per source, the peer minimum, self and the blind-spot gap.

    ``source_weights`` may name only some sources; the others weigh 1.0. After construction it
    holds every source, read-only. Invalid rules raise :class:`ValidationError`.
    """

    source_weights: Mapping[str, float] = field(default_factory=dict, hash=False)
    min_peers: int = 3
    include_self: bool = False
    blind_spot_threshold: float = 1.0

    def __post_init__(self) -> None:
        weights = dict.fromkeys(SOURCES, 1.0)
        problems = []
        for name, weight in self.source_weights.items():
            location = f"source_weights.{name}"
            if name not in SOURCES:
                problems.append(
                    Problem(location, f"unknown source; expected one of {', '.join(SOURCES)}")
                )
            elif not _is_number(weight) or not 0 <= weight <= MAX_SOURCE_WEIGHT:
                problems.append(
                    Problem(location, f"must be a number between 0 and {MAX_SOURCE_WEIGHT:g}")
                )
            else:
                weights[name] = float(weight)
        if not problems and not any(weights[name] > 0 for name in SOURCES if name != "self"):
            problems.append(
                Problem("source_weights", "at least one source other than self must weigh > 0")
            )
        low, high = MIN_PEERS_RANGE
        peers = self.min_peers
        if not (isinstance(peers, int) and not isinstance(peers, bool) and low <= peers <= high):
            problems.append(Problem("min_peers", f"must be a whole number from {low} to {high}"))
        if not isinstance(self.include_self, bool):
            problems.append(Problem("include_self", "must be true or false"))
        threshold = self.blind_spot_threshold
        if not _is_number(threshold) or not 0 < threshold <= MAX_THRESHOLD:
            problems.append(
                Problem(
                    "blind_spot_threshold", f"must be a number above 0, at most {MAX_THRESHOLD:g}"
                )
            )
        if problems:
            raise ValidationError(problems)
        object.__setattr__(self, "source_weights", MappingProxyType(weights))
        object.__setattr__(self, "blind_spot_threshold", float(threshold))


DEFAULT_RULES = ScoringRules()


def rules_from_dict(data: Mapping[str, object]) -> ScoringRules:
    """Build scoring rules from plain data (e.g. JSON stored on a cycle), checking every value.

    Parameters
    ----------
    data : mapping
        Any of ``source_weights`` (a mapping of source name to weight, 0 to 10),
        ``min_peers`` (1 to 20), ``include_self`` (bool) and ``blind_spot_threshold``
        (above 0, at most 8 levels). Missing keys take the defaults.

    Returns
    -------
    ScoringRules

    Raises
    ------
    ValidationError
        Naming each wrong value, e.g. ``source_weights.peer``, or an unknown key.

    Notes
    -----
    The inverse of :func:`rules_to_dict`: ``rules_from_dict(rules_to_dict(r)) == r``.

    References
    ----------
    Bracken, D. W., Timmreck, C. W. and Church, A. H. (2001). The Handbook of Multisource
    Feedback. Jossey-Bass.

    Examples
    --------
    >>> rules = rules_from_dict({"source_weights": {"manager": 2}, "min_peers": 2})
    >>> rules.source_weights["manager"], rules.source_weights["peer"], rules.min_peers
    (2.0, 1.0, 2)
    >>> rules_from_dict({"min_peers": 0})
    Traceback (most recent call last):
    ...
    kamfit.domain.errors.ValidationError: min_peers: must be a whole number from 1 to 20
    """
    known = {"source_weights", "min_peers", "include_self", "blind_spot_threshold"}
    unknown = [Problem(str(key), "unknown setting") for key in data if key not in known]
    if unknown:
        raise ValidationError(unknown)
    weights = data.get("source_weights", {})
    if not isinstance(weights, Mapping):
        raise _invalid("source_weights", "must be a mapping of source name to weight")
    settings = {**rules_to_dict(DEFAULT_RULES), **data, "source_weights": dict(weights)}
    return ScoringRules(**settings)  # type: ignore[arg-type]  # __post_init__ checks the types


def rules_to_dict(rules: ScoringRules) -> dict[str, object]:
    """Return the rules as plain, JSON-ready data, every source weight spelt out."""
    return {
        "source_weights": dict(rules.source_weights),
        "min_peers": rules.min_peers,
        "include_self": rules.include_self,
        "blind_spot_threshold": rules.blind_spot_threshold,
    }


@dataclass(frozen=True, eq=False)
class Scores:
    """The result of :func:`score`; every array is read-only.

    Shapes: S sources (``SOURCES`` order), N people, C competencies. ``combined`` is the same
    array as ``others`` when self is excluded. Equality is identity: arrays have no single
    truth value.
    """

    source_means: Floats  # (S, N, C)
    source_counts: Counts  # (S, N, C), before the min_peers rule
    combined: Floats  # (N, C)
    others: Floats  # (N, C)
    gaps: Floats  # (N, C)
    fit: Floats  # (N,) 0..100
    coverage: Floats  # (N,) 0..1
    blind_spots: Flags  # (N, C)
    hidden_strengths: Flags  # (N, C)
    percentile: Floats  # (N,) 0..100


def score(  # noqa: PLR0917 -- the agreed API takes rules and groups positionally too
    ratings: npt.ArrayLike,
    sources: npt.ArrayLike,
    required: npt.ArrayLike,
    weights: npt.ArrayLike,
    rules: ScoringRules = DEFAULT_RULES,
    groups: npt.ArrayLike | None = None,
) -> Scores:
    """Score every person against a role profile from multi-source ratings.

    Parameters
    ----------
    ratings : ndarray of float, shape (K, N, C)
        Rater-major: slot ``k`` of person ``n`` rated competency ``c`` at this level (1 or
        more); nan where the slot gave no rating. Empty slots' values are ignored, but like
        every value they must be nan or a finite level of at least 1.
    sources : ndarray of int, shape (K, N)
        The source code (``SELF`` … ``PSYCHOMETRIC``) of each slot of each person, or
        ``EMPTY`` (-1) for an unused slot.
    required : ndarray of float, shape (C,)
        Required level per competency, above 0.
    weights : ndarray of float, shape (C,)
        Competency weights, at least 0, not all 0 (percentages or any scale).
    rules : ScoringRules, default DEFAULT_RULES
        Source weights, the peer minimum, whether self counts, the blind-spot threshold.
    groups : ndarray of int, shape (N,), optional
        Peer group of each person (0 to 2**26 - 1) for the percentile; default one group.

    Returns
    -------
    Scores
        Per source, cell, person; see the module docstring for every formula.

    Raises
    ------
    ValidationError
        Naming ``ratings``, ``sources``, ``required``, ``weights`` or ``groups``.

    Notes
    -----
    The formulas are those of the module docstring. Work is O(K·N·C) in numpy loops over
    blocks of people small enough for the CPU cache, shared between threads for large
    inputs; there is no Python loop over people, competencies or ratings.

    References
    ----------
    Bracken, D. W., Timmreck, C. W. and Church, A. H. (2001). The Handbook of Multisource
    Feedback. Jossey-Bass.

    Yammarino, F. J. and Atwater, L. E. (1997). Do managers see themselves as others see
    them? Organizational Dynamics, 25(4), 35–44.

    Examples
    --------
    >>> import numpy as np
    >>> ratings = np.array([[[5.0, 2.0]], [[3.0, 4.0]]])  # self, then manager, of one person
    >>> s = score(ratings, np.array([[SELF], [MANAGER]]), np.array([4.0, 4.0]), np.ones(2))
    >>> s.combined.tolist(), s.gaps.tolist(), s.fit.tolist()
    ([[3.0, 4.0]], [[-1.0, 0.0]], [87.5])
    >>> s.blind_spots.tolist(), s.hidden_strengths.tolist()
    ([[True, False]], [[False, True]])
    """
    p = _plan(ratings, sources, required, weights, rules)
    group_of = _checked_groups(groups, p.others.shape[0])
    _run_blocks(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = 100.0 * p.fit_sum / p.covered  # 0 / 0 is nan: nothing scored
    coverage = p.covered / p.weights.sum()
    return Scores(
        source_means=_frozen(p.means),
        source_counts=_frozen(p.counts),
        combined=_frozen(p.combined),
        others=_frozen(p.others),
        gaps=_frozen(p.gaps),
        fit=_frozen(fit),
        coverage=_frozen(coverage),
        blind_spots=_frozen(p.blind),
        hidden_strengths=_frozen(p.hidden),
        percentile=_frozen(_percentile(fit, group_of)),
    )


def band(
    scores: Scores,
    kinds: Sequence[str],
    *,
    ready_fit: float = 85.0,
    develop_fit: float = 70.0,
    min_coverage: float = 0.8,
    tolerance: float = 1.0,
) -> npt.NDArray[np.int8]:
    """Place each person in a bench-strength band (keys of ``BANDS``).

    Parameters
    ----------
    scores : Scores
        From :func:`score`.
    kinds : sequence of str
        Kind of each competency: ``"C"``, ``"A"`` (attribute) or ``"C/A"``.
    ready_fit, develop_fit : float, default 85 and 70
        The fits (0–100) for "ready now" and "ready with development".
    min_coverage : float, default 0.8
        The share of the profile's weight that must be scored for any verdict.
    tolerance : float, default 1.0
        How many levels short of a requirement a person may be.

    Returns
    -------
    ndarray of int8, shape (N,)
        2 "Ready now", 1 "Ready with development", 0 "Not yet", -1 "Not enough evidence".

    Raises
    ------
    ValidationError
        If a threshold is out of range or ``kinds`` does not match the competencies.

    Notes
    -----
    With coverage :math:`v_n`, fit :math:`F_n` and gaps :math:`g_{nc}` (unscored cells
    ignored): -1 when :math:`v_n <` ``min_coverage`` or :math:`F_n` is nan; else 2 when
    :math:`F_n \\ge` ``ready_fit`` and no :math:`g_{nc} < -`\\ ``tolerance``; else 1 when
    :math:`F_n \\ge` ``develop_fit`` and no attribute (kind "A") has
    :math:`g_{nc} < -`\\ ``tolerance``, attributes being hard to develop while competencies
    (and "C/A") can be trained; else 0. Comparisons allow 1e-9 for rounding.

    References
    ----------
    Byham, W. C., Smith, A. B. and Paese, M. J. (2002). Grow Your Own Leaders. Prentice Hall.

    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Competencies versus attributes.)

    Examples
    --------
    >>> import numpy as np
    >>> s = score(np.array([[[4.0, 2.0]]]), np.array([[MANAGER]]), np.array([4.0, 4.0]),
    ...           np.array([90.0, 10.0]))
    >>> float(s.fit[0]), band(s, ["C", "C"]).tolist(), band(s, ["C", "A"]).tolist()
    (95.0, [1], [0])
    """
    n, c = scores.gaps.shape
    problems = []
    if len(kinds) != c or any(kind not in ("C", "A", "C/A") for kind in kinds):
        problems.append(Problem("kinds", f'expected {c} kinds, each "C", "A" or "C/A"'))
    if not 0 <= ready_fit <= 100:
        problems.append(Problem("ready_fit", "must be from 0 to 100"))
    elif not 0 <= develop_fit <= ready_fit:
        problems.append(Problem("develop_fit", f"must be from 0 to ready_fit ({ready_fit:g})"))
    if not 0 <= min_coverage <= 1:
        problems.append(Problem("min_coverage", "must be from 0 to 1"))
    if not 0 <= tolerance <= MAX_THRESHOLD:
        problems.append(Problem("tolerance", f"must be from 0 to {MAX_THRESHOLD:g} levels"))
    if problems:
        raise ValidationError(problems)
    short = scores.gaps < -tolerance - _EPS  # nan (unscored) is never short
    attribute = np.array([kind == "A" for kind in kinds], dtype=np.bool_)
    any_short = short.any(axis=1)
    attribute_short = short[:, attribute].any(axis=1)
    fit = scores.fit
    out = np.zeros(n, dtype=np.int8)
    out[(fit >= develop_fit - _EPS) & ~attribute_short] = 1
    out[(fit >= ready_fit - _EPS) & ~any_short] = 2
    out[~(scores.coverage >= min_coverage - _EPS) | np.isnan(fit)] = -1
    return out


def sten_from(value: float, scale: str, levels: int = 5) -> float:
    """Convert a psychometric score to a sten (1–10, mean 5.5, SD 2).

    Parameters
    ----------
    value : float
        The score on ``scale``.
    scale : str
        ``"sten"`` (1–10), ``"stanine"`` (1–9), ``"percentile"`` (strictly between 0 and
        100) or ``"level"`` (1 to ``levels``).
    levels : int, default 5
        Levels of the proficiency scale, for ``"level"``.

    Returns
    -------
    float
        The sten, from 1 to 10.

    Raises
    ------
    ValidationError
        ``Problem("value", …)`` for a value outside its scale, ``"scale"`` for an unknown
        scale, ``"levels"`` for a scale size other than 3 to 9.

    Notes
    -----
    Percentile :math:`p`: :math:`z = \\Phi^{-1}(p/100)`; stanine :math:`s`: :math:`z = (s-5)/2`;
    then sten :math:`= \\min(\\max(5.5 + 2z, 1), 10)`. Level :math:`l` on an L-level scale:
    sten :math:`= 1 + 9 (l - 1)/(L - 1)`, the inverse of :func:`psychometric_level`.

    References
    ----------
    Canfield, A. A. (1951). The "sten" scale — a modified C-scale. Educational and
    Psychological Measurement, 11(2), 295–297.

    Examples
    --------
    >>> sten_from(50, "percentile"), sten_from(5, "stanine"), sten_from(3, "level")
    (5.5, 5.5, 5.5)
    """
    _check_levels_count(levels)
    ranges = {"sten": (1, 10), "stanine": (1, 9), "percentile": (0, 100), "level": (1, levels)}
    if scale not in ranges:
        expected = ", ".join(PSYCHOMETRIC_SCALES)
        raise _invalid("scale", f"unknown scale {scale!r}; expected one of {expected}")
    low, high = ranges[scale]
    number = _is_number(value) and math.isfinite(value)
    if scale == "percentile":
        if not (number and low < value < high):
            raise _invalid("value", "a percentile must be above 0 and below 100")
        z = NormalDist().inv_cdf(value / 100)
    elif not (number and low <= value <= high):
        raise _invalid("value", f"a {scale} must be from {low} to {high}")
    elif scale == "sten":
        return float(value)
    elif scale == "level":
        return 1 + (value - 1) * 9 / (levels - 1)
    else:
        z = (value - 5) / 2
    return min(max(5.5 + 2 * z, 1.0), 10.0)


def psychometric_level(value: float, scale: str, levels: int = 5) -> float:
    """Convert a psychometric score to a level of the proficiency scale (the psychometric source).

    Parameters
    ----------
    value : float
        The score on ``scale``.
    scale : str
        ``"sten"``, ``"stanine"``, ``"percentile"`` or ``"level"`` (see :func:`sten_from`).
    levels : int, default 5
        Levels of the proficiency scale (3 to 9).

    Returns
    -------
    float
        A level from 1 to ``levels``.

    Raises
    ------
    ValidationError
        As :func:`sten_from`.

    Notes
    -----
    :math:`l = 1 + (\\text{sten} - 1)(L - 1)/9`: sten 1 is level 1, sten 10 is level L, and
    the average (sten 5.5, the 50th percentile) is the middle of the scale.

    References
    ----------
    Canfield, A. A. (1951). The "sten" scale — a modified C-scale. Educational and
    Psychological Measurement, 11(2), 295–297.

    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Attributes measured by psychometric tests.)

    Examples
    --------
    >>> psychometric_level(1, "sten"), psychometric_level(10, "sten")
    (1.0, 5.0)
    >>> psychometric_level(50, "percentile"), psychometric_level(7, "sten", levels=4)
    (3.0, 3.0)
    """
    sten = sten_from(value, scale, levels)
    if scale == "level":
        return float(value)
    return 1 + (sten - 1) * (levels - 1) / 9


@dataclass(frozen=True)
class _Plan:
    """The checked inputs, the output arrays and which slots feed which source."""

    ratings: Floats
    sources: Codes
    required: Floats
    weights: Floats
    weight_per_level: Floats  # weights / required
    feeds: tuple[tuple[tuple[int, bool], ...], ...]  # per source: (slot, slot is all this source)
    others_from: tuple[tuple[int, float], ...]  # (source, weight) counted in "others"
    combined_from: tuple[tuple[int, float], ...]
    min_peers: int
    threshold: float
    means: Floats
    counts: Counts
    others: Floats
    combined: Floats
    gaps: Floats
    fit_sum: Floats
    covered: Floats
    blind: Flags
    hidden: Flags


def _checked_arrays(
    ratings: npt.ArrayLike, sources: npt.ArrayLike, required: npt.ArrayLike, weights: npt.ArrayLike
) -> tuple[Floats, Codes, Floats, Floats]:
    """Return the inputs as arrays after the checks that cost O(K*N + C)."""
    x = np.asarray(ratings)
    if x.ndim != 3 or not np.issubdtype(x.dtype, np.number):
        raise _invalid("ratings", "expected a 3-D numeric array: rater slots × people × items")
    x = x.astype(np.float64, copy=False)
    k, n, c = x.shape
    codes = np.asarray(sources)
    if codes.shape != (k, n) or not np.issubdtype(codes.dtype, np.integer):
        raise _invalid("sources", f"expected integer source codes of shape ({k}, {n})")
    if codes.size and (codes.min() < EMPTY or codes.max() >= len(SOURCES)):
        raise _invalid("sources", f"codes must be from {EMPTY} (empty slot) to {len(SOURCES) - 1}")
    req = np.asarray(required, dtype=np.float64)
    if req.shape != (c,) or not (np.isfinite(req).all() and (req > 0).all()):
        raise _invalid("required", f"expected {c} finite required levels above 0")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (c,) or not (np.isfinite(w).all() and (w >= 0).all()):
        raise _invalid("weights", f"expected {c} finite weights of at least 0")
    if not w.sum() > 0:
        raise _invalid("weights", "at least one weight must be above 0")
    return x, codes, req, w


def _feeds(codes: Codes, n_slots: int) -> tuple[tuple[tuple[int, bool], ...], ...]:
    feeds: list[list[tuple[int, bool]]] = [[] for _ in SOURCES]
    for k in range(n_slots):
        present = np.bincount(codes[k].astype(np.intp) + 1, minlength=len(SOURCES) + 1)[1:]
        for s in np.flatnonzero(present):
            feeds[s].append((k, bool(present[s] == codes.shape[1])))
    return tuple(tuple(f) for f in feeds)


def _plan(
    ratings: npt.ArrayLike,
    sources: npt.ArrayLike,
    required: npt.ArrayLike,
    weights: npt.ArrayLike,
    rules: ScoringRules,
) -> _Plan:
    x, codes, req, w = _checked_arrays(ratings, sources, required, weights)
    k, n, c = x.shape
    feeds = _feeds(codes, k)
    source_weight = [rules.source_weights[name] for name in SOURCES]
    counted = [(s, source_weight[s]) for s in range(len(SOURCES)) if feeds[s] and source_weight[s]]
    others_from = tuple(p for p in counted if p[0] != SELF)
    combined_from = tuple(counted) if rules.include_self else others_from
    others = np.empty((n, c))
    return _Plan(
        ratings=x,
        sources=codes,
        required=req,
        weights=w,
        weight_per_level=w / req,
        feeds=feeds,
        others_from=others_from,
        combined_from=combined_from,
        min_peers=rules.min_peers,
        threshold=rules.blind_spot_threshold,
        means=np.empty((len(SOURCES), n, c)),
        counts=np.zeros((len(SOURCES), n, c), dtype=np.int32),
        others=others,
        combined=others if combined_from == others_from else np.empty((n, c)),
        gaps=np.empty((n, c)),
        fit_sum=np.empty(n),
        covered=np.empty(n),
        blind=np.zeros((n, c), dtype=np.bool_),
        hidden=np.zeros((n, c), dtype=np.bool_),
    )


@dataclass(frozen=True)
class _Workspace:
    """One thread's scratch and constant blocks, each (rows, C).

    Constants are full blocks because numpy's loops are several times slower on a scalar or a
    broadcast (C,) row than on two arrays of the same shape.
    """

    t: Floats
    num: Floats
    den: Floats
    flags: Flags
    tally: Counts
    zeros: Floats
    required: Floats
    weight: Mapping[float, Floats]

    @classmethod
    def of(cls, p: _Plan, rows: int) -> _Workspace:
        shape = (rows, p.required.shape[0])
        weights = {w for _, w in p.others_from + p.combined_from if w != 1.0}
        return cls(
            t=np.empty(shape),
            num=np.empty(shape),
            den=np.empty(shape),
            flags=np.empty(shape, dtype=np.bool_),
            tally=np.empty(shape, dtype=np.int32),
            zeros=np.zeros(shape),
            required=np.tile(p.required, (rows, 1)),
            weight={w: np.full(shape, w) for w in weights},
        )

    def first(self, rows: int) -> _Workspace:
        """Return views of the first ``rows`` rows, for the last block (it may be shorter)."""
        arrays = {f.name: getattr(self, f.name)[:rows] for f in fields(self) if f.name != "weight"}
        return _Workspace(**arrays, weight={w: a[:rows] for w, a in self.weight.items()})


def _check_levels(block: Floats) -> None:
    if not block.size:
        return
    low, high = np.fmin.reduce(block, axis=None), np.fmax.reduce(block, axis=None)
    if low < 1 or high == math.inf:
        raise _invalid("ratings", "levels must be nan or finite numbers of at least 1")


def _source_block(p: _Plan, s: int, rows: slice, ws: _Workspace) -> None:
    """Fill one source's means and counts for a block of people."""
    mean, count = p.means[s, rows], p.counts[s, rows]
    feeds = p.feeds[s]
    too_few = s == PEER and len(feeds) < p.min_peers  # never enough peers: counts only
    if len(feeds) == 1 and feeds[0][1]:  # a single whole slot: its ratings are the means
        x = p.ratings[feeds[0][0], rows]
        np.copyto(mean, x)
        np.equal(x, x, out=ws.flags)
        np.copyto(count, ws.flags)
    elif feeds:
        _add_slots(p, s, rows, ws, sums=not too_few)
        divisor = count
        if s == PEER and p.min_peers > 1:
            # Zero the sum and the divisor of cells with too few peers: 0 / 0 gives nan, at a
            # quarter of the cost of a masked assignment.
            np.greater_equal(count, p.min_peers, out=ws.flags)
            np.multiply(mean, ws.flags, out=mean)
            divisor = np.multiply(count, ws.flags, out=ws.tally)
        np.divide(mean, divisor, out=mean)  # 0 / 0 is nan: no rating
    if not feeds or too_few:
        mean.fill(math.nan)


def _add_slots(p: _Plan, s: int, rows: slice, ws: _Workspace, *, sums: bool) -> None:
    """Add up one source's ratings (nan as 0) into its means, and count them."""
    mean, count = p.means[s, rows], p.counts[s, rows]
    for i, (k, whole) in enumerate(p.feeds[s]):
        x = p.ratings[k, rows]
        total = mean if i == 0 else ws.t
        if sums:
            # Levels are >= 1, so fmax(x, 0) turns nan into 0 and keeps every level.
            np.fmax(x, ws.zeros, out=total)
        np.equal(x, x, out=ws.flags)
        if not whole:  # the slot feeds other sources too: keep this source's people
            np.logical_and(ws.flags, (p.sources[k, rows] == s)[:, np.newaxis], out=ws.flags)
            if sums:
                np.multiply(total, ws.flags, out=total)
        if i == 0:
            np.copyto(count, ws.flags)
            continue
        np.add(count, ws.flags, out=count)
        if sums:
            np.add(mean, ws.t, out=mean)


def _weighted_mean(
    p: _Plan, parts: tuple[tuple[int, float], ...], rows: slice, out: Floats, ws: _Workspace
) -> None:
    """Write the weighted mean of the given sources' means, renormalised per cell, to out."""
    if not parts:
        out.fill(math.nan)
        return
    if len(parts) == 1:
        np.copyto(out, p.means[parts[0][0], rows])
        return
    equal = len({w for _, w in parts}) == 1  # then the mean is unweighted: count the sources
    for i, (s, w) in enumerate(parts):
        m = p.means[s, rows]
        value = ws.num if i == 0 else ws.t
        np.fmax(m, ws.zeros, out=value)  # nan (no mean) adds nothing
        np.equal(m, m, out=ws.flags)
        if not equal and w != 1.0:
            np.multiply(value, ws.weight[w], out=value)
        if i:
            np.add(ws.num, value, out=ws.num)
        if equal:
            if i == 0:
                np.copyto(ws.tally, ws.flags)
            else:
                np.add(ws.tally, ws.flags, out=ws.tally)
            continue
        present = ws.den if i == 0 else ws.t
        np.copyto(present, ws.flags)
        if w != 1.0:
            np.multiply(present, ws.weight[w], out=present)
        if i:
            np.add(ws.den, present, out=ws.den)
    np.divide(ws.num, ws.tally if equal else ws.den, out=out)  # 0 / 0 is nan: no source


def _score_block(p: _Plan, rows: slice, workspace: _Workspace) -> None:
    """Compute every per-cell output, and the fit sums, for a block of people."""
    size = rows.stop - rows.start
    ws = workspace if workspace.t.shape[0] == size else workspace.first(size)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(p.ratings.shape[0]):
            _check_levels(p.ratings[k, rows])
        for s in range(len(SOURCES)):
            _source_block(p, s, rows, ws)
        others, combined = p.others[rows], p.combined[rows]
        _weighted_mean(p, p.others_from, rows, others, ws)
        if combined is not others:
            _weighted_mean(p, p.combined_from, rows, combined, ws)
        np.subtract(combined, ws.required, out=p.gaps[rows])
        # v min(y / r, 1) == (v / r) min(y, r): one division per competency, not per cell.
        np.minimum(combined, ws.required, out=ws.t)
        np.fmax(ws.t, ws.zeros, out=ws.t)  # nan (unscored) counts 0 in the numerator
        np.dot(ws.t, p.weight_per_level, out=p.fit_sum[rows])
        np.sign(ws.t, out=ws.t)  # 1 where scored (min(y, r) is above 0), else 0
        np.dot(ws.t, p.weights, out=p.covered[rows])
        if p.feeds[SELF] and p.others_from:
            np.subtract(p.means[SELF, rows], others, out=ws.t)
            np.greater_equal(ws.t, p.threshold - _EPS, out=p.blind[rows])
            np.less_equal(ws.t, _EPS - p.threshold, out=p.hidden[rows])


def _run_blocks(p: _Plan) -> None:
    """Score blocks of equal size, shared between threads for large inputs."""
    n, c = p.others.shape
    blocks = max(1, -(-n * c // _BLOCK_CELLS))
    threads = min(_MAX_THREADS, _cpus(), blocks) if n * c >= _PARALLEL_CELLS else 1
    blocks = -(-blocks // threads) * threads  # every thread gets the same number of blocks
    rows = max(1, -(-n // blocks))
    starts = range(0, n, rows)

    def work(first: int) -> None:
        ws = _Workspace.of(p, min(rows, n))
        for a in starts[first::threads]:
            _score_block(p, slice(a, min(a + rows, n)), ws)

    if threads == 1:
        work(0)
        return
    # numpy releases the GIL inside its loops, so the threads share the cores.
    with ThreadPoolExecutor(max_workers=threads - 1) as pool:
        helpers = [pool.submit(work, i) for i in range(1, threads)]
        work(0)
        for helper in helpers:
            helper.result()


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _checked_groups(groups: npt.ArrayLike | None, n: int) -> npt.NDArray[np.int64]:
    if groups is None:
        return np.zeros(n, dtype=np.int64)
    g = np.asarray(groups)
    if g.shape != (n,) or (g.size and not np.issubdtype(g.dtype, np.integer)):
        raise _invalid("groups", f"expected {n} integer group indices")
    if g.size and (g.min() < 0 or g.max() >= _GROUP_LIMIT):
        raise _invalid("groups", f"group indices must be from 0 to {_GROUP_LIMIT - 1}")
    return g.astype(np.int64, copy=False)


def _percentile(fit: Floats, groups: npt.NDArray[np.int64]) -> Floats:
    """Rank fits within groups by one sort of (group, fit) keys; nan fits are not ranked."""
    out = np.full(fit.shape, math.nan)
    scored = ~np.isnan(fit)
    index = None if scored.all() else np.flatnonzero(scored)  # skip copies when all have a fit
    f, g = (fit, groups) if index is None else (fit[index], groups[index])
    m = len(f)
    if not m:
        return out
    grid = np.multiply(f, _FIT_GRID)
    key = np.rint(grid, out=grid).astype(np.int64)
    key |= g << _FIT_BITS
    index_bits = max(m - 1, 1).bit_length()
    if _FIT_BITS + int(g.max()).bit_length() + index_bits <= 63:
        # Sorting packed (key, position) integers is several times faster than argsort.
        key <<= index_bits
        key |= np.arange(m, dtype=np.int64)
        key.sort()
        order = key & ((1 << index_bits) - 1)
        key >>= index_bits
    else:
        order = np.argsort(key)
        key = key[order]
    tie_start, tie_size = _runs(key)
    group_start, group_size = _runs(key >> _FIT_BITS)
    # 100 (below + equal / 2) / n, with below = tie start - group start in sorted order.
    ranked = np.repeat(tie_start + 0.5 * tie_size, tie_size) - np.repeat(group_start, group_size)
    ranked *= 100.0
    ranked /= np.repeat(group_size, group_size)
    out[order if index is None else index[order]] = ranked
    return out


def _runs(sorted_keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Return the start and length of each run of equal values in a sorted array."""
    new = np.empty(len(sorted_keys), dtype=np.bool_)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return starts, np.diff(starts, append=len(sorted_keys))


def _frozen(array: _A) -> _A:
    array.setflags(write=False)
    return array


def _check_levels_count(levels: int) -> None:
    if (
        not isinstance(levels, int)
        or isinstance(levels, bool)
        or not MIN_SCALE_LEVELS <= levels <= MAX_SCALE_LEVELS
    ):
        raise _invalid(
            "levels", f"a scale has {MIN_SCALE_LEVELS} to {MAX_SCALE_LEVELS} levels, not {levels}"
        )
