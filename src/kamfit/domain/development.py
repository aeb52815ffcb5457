"""Development rules: the action catalogue, make-or-buy advice, plan suggestions, quick checks.

Woodburn (2006, section 2.4) separates competencies, which "can be taught and learned",
from attributes, which are "less easy to change", with a litmus test: "Are courses readily
available?". Two rules follow from it here. A team's gaps in competencies call for
developing the people it has ("make"); gaps in attributes call for selecting for them when
recruiting ("buy"), since the supplier's "requirement for attributes should affect its
'make or buy' decisions". And a development action suits a kind: courses and practice for a
competency, coaching, mentoring and stretch assignments for an attribute, both for a
competency/attribute (C/A). The catalogue of actions is kamfit's own (see
``content/development-actions.yaml``).

The module also holds the nine yes/no questions SBI asks about an existing key account
manager (Staples), and the paper's point about selling (section 2.5): directors want key
account managers to spend only 5–10% of their time selling, yet recruit them from sales.

References
----------
Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
taskforce. Warwick Business School, Strategic Sales and Customer Management Network,
October 2006.

Staples, J. Untitled SBI article on selecting key account managers the Topgrading way. SBI.
https://salesbenchmarkindex.com/insights/key-account-management-how-to-select-key-account-managers/
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import yaml

from kamfit.domain import framework
from kamfit.domain.errors import Problem, ValidationError

__all__ = [
    "ADVICE",
    "CATALOGUE_SCHEMA",
    "KINDS",
    "QUICK_CHECK_SCHEMA",
    "SELLING_BACKGROUNDS",
    "ActionType",
    "Advice",
    "Catalogue",
    "CatalogueAction",
    "MakeOrBuy",
    "QuickCheck",
    "QuickQuestion",
    "Suggestion",
    "load_catalogue",
    "load_quick_check",
    "make_or_buy",
    "quick_check_score",
    "selling_background",
    "selling_note",
    "shipped_catalogue",
    "shipped_quick_check",
    "suggest_plan",
]

CATALOGUE_SCHEMA = "kamfit-development-actions/1"
QUICK_CHECK_SCHEMA = "kamfit-sbi-quick-check/1"
KINDS: tuple[str, ...] = ("C", "A", "C/A")
ADVICE: Mapping[str, str] = MappingProxyType({"C": "develop", "A": "select", "C/A": "both"})
SELLING_BACKGROUNDS: tuple[str, ...] = ("sales", "other", "unknown")

# The families of action types a kind takes: a C/A requirement takes both.
_FAMILIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {"C": frozenset({"C"}), "A": frozenset({"A"}), "C/A": frozenset({"C", "A"})}
)
# The share of a short cell that counts towards "develop"; the rest counts towards "select".
_DEVELOP_WEIGHT: Mapping[str, float] = MappingProxyType({"C": 1.0, "A": 0.0, "C/A": 0.5})
_ADVICE_TEXT: Mapping[str, str] = MappingProxyType(
    {
        "C": "a competency — train and develop the people you have",
        "A": "an attribute — hard to change, so select for it when recruiting",
        "C/A": "a competency and an attribute — develop the people you have, "
        "and select for it when recruiting",
    }
)
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SELLING_QUESTION = (
    "Woodburn (2006, section 2.5) asks: “Is it logical to select 100% of people with a "
    "background that corresponds to only 5-10% of the job?”"
)

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ActionType:
    """A type of development action (a course, coaching…) and the kinds it suits (C, A)."""

    key: str
    label: str
    suits: frozenset[str]


@dataclass(frozen=True)
class CatalogueAction:
    """One action of the catalogue, for one competency or, when generic, for a kind."""

    key: str
    competency: str | None
    kind: str | None
    type: str
    title: str
    description: str
    duration: str


@dataclass(frozen=True)
class Catalogue:
    """The action types and the actions, in file order; ``note`` credits the source."""

    types: Mapping[str, ActionType]
    actions: tuple[CatalogueAction, ...]
    note: str = ""

    def for_competency(self, key: str, kind: str) -> tuple[CatalogueAction, ...]:
        """Return the actions that suit a competency of this kind, specific ones first.

        Specific actions whose type suits the kind come first, then generic actions of the
        same kind, then (for C/A) the generic actions of kinds C and A, each in file order.
        """
        if kind not in _FAMILIES:
            raise _invalid("kind", f"wrong kind {kind!r}: use C, A or C/A")
        families = _FAMILIES[kind]
        specific = [
            a
            for a in self.actions
            if a.competency == key and a.type in self.types and self.types[a.type].suits & families
        ]
        generic = [
            a
            for a in self.actions
            if a.competency is None
            and a.kind is not None
            and a.kind in _FAMILIES
            and _FAMILIES[a.kind] <= families
        ]
        generic.sort(key=lambda a: a.kind != kind)
        return tuple(specific + generic)


@dataclass(frozen=True)
class Advice:
    """The make-or-buy advice for one competency with at least one person short."""

    competency: str
    name: str
    kind: str
    short: int
    assessed: int
    share: float
    mean_gap: float
    advice: str
    text: str
    widespread: bool


@dataclass(frozen=True)
class MakeOrBuy:
    """Make-or-buy advice for a team: one line per competency someone is short in."""

    lines: tuple[Advice, ...]
    develop_share: float
    select_share: float
    headline: str


@dataclass(frozen=True)
class Suggestion:
    """One suggested development action, with the gap it addresses and its priority."""

    competency: str
    name: str
    kind: str
    gap: float
    action: CatalogueAction
    priority: int


@dataclass(frozen=True)
class QuickQuestion:
    """One yes/no question of the quick check, and the competencies it bears on."""

    key: str
    text: str
    hints: tuple[str, ...]


@dataclass(frozen=True)
class QuickCheck:
    """The quick check: its source, its questions, and the words around them."""

    source: str
    questions: tuple[QuickQuestion, ...]
    prompt: str = ""
    framing: str = ""
    options: tuple[str, ...] = ("yes", "no")


def _invalid(location: str, message: str) -> ValidationError:
    return ValidationError([Problem(location, message)])


def _content(name: str) -> object:
    return yaml.safe_load(resources.files("kamfit.content").joinpath(name).read_text("utf-8"))


def _items(
    data: Mapping[str, object], name: str, problems: list[Problem]
) -> list[Mapping[str, object]]:
    value = data.get(name)
    if not isinstance(value, list) or not value:
        problems.append(Problem(name, "expected a non-empty list"))
        return []
    out: list[Mapping[str, object]] = []
    for i, item in enumerate(value):
        if isinstance(item, Mapping):
            out.append(item)
        else:
            problems.append(Problem(f"{name}[{i}]", "expected a mapping"))
            out.append({})
    return out


def _text(item: Mapping[str, object], name: str, where: str, problems: list[Problem]) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        problems.append(
            Problem(f"{where}.{name}", "missing text" if value is None else "empty text")
        )
        return ""
    return value.strip()


def _key(item: Mapping[str, object], where: str, seen: set[str], problems: list[Problem]) -> str:
    key = _text(item, "key", where, problems)
    if key and not _KEY.match(key):
        message = f"bad key {key!r}: use lowercase letters, digits and hyphens"
        problems.append(Problem(f"{where}.key", message))
    elif key and key in seen:
        problems.append(Problem(f"{where}.key", f"duplicate key {key!r}"))
    seen.add(key)
    return key


def _check_schema(data: Mapping[str, object], schema: str, problems: list[Problem]) -> None:
    if "schema" in data and data["schema"] != schema:
        problems.append(Problem("schema", f"expected {schema!r}, not {data['schema']!r}"))


def _parse_types(data: Mapping[str, object], problems: list[Problem]) -> dict[str, ActionType]:
    types: dict[str, ActionType] = {}
    seen: set[str] = set()
    for i, item in enumerate(_items(data, "types", problems)):
        where, before = f"types[{i}]", len(problems)
        key = _key(item, where, seen, problems)
        label = _text(item, "label", where, problems)
        suits = item.get("suits")
        if not isinstance(suits, list) or not suits:
            problems.append(Problem(f"{where}.suits", "expected a non-empty list of C and/or A"))
            suits = []
        for k, kind in enumerate(suits):
            if not (isinstance(kind, str) and kind in {"C", "A"}):
                problems.append(Problem(f"{where}.suits[{k}]", f"wrong kind {kind!r}: use C or A"))
        if len(problems) == before:
            types[key] = ActionType(key, label, frozenset(str(s) for s in suits))
    return types


def _field(item: Mapping[str, object], name: str) -> str | None:
    """Return a field as text (non-text shown as its repr, so it reads as unknown), or None."""
    value = item.get(name)
    return value if value is None or isinstance(value, str) else repr(value)


def _parse_action(
    item: Mapping[str, object],
    where: str,
    types: Mapping[str, ActionType],
    kinds: Mapping[str, str],
    problems: list[Problem],
) -> tuple[str | None, str | None, str]:
    """Check an action's competency or kind and its type; return (competency, kind, type)."""
    competency, kind, type_ = (_field(item, name) for name in ("competency", "kind", "type"))
    if type_ is None:
        problems.append(Problem(f"{where}.type", "missing text"))
    elif type_ not in types:
        problems.append(Problem(f"{where}.type", f"unknown action type {type_!r}"))
    type_ = type_ or ""
    if (competency is None) == (kind is None):
        problems.append(Problem(where, "give a competency, or a kind for a generic action"))
        return None, None, type_
    if competency is not None and competency not in kinds:
        problems.append(Problem(f"{where}.competency", f"unknown competency {competency!r}"))
    if kind is not None and kind not in _FAMILIES:
        problems.append(Problem(f"{where}.kind", f"wrong kind {kind!r}: use C, A or C/A"))
    target = kinds.get(competency) if competency is not None else kind
    if type_ in types and target in _FAMILIES:
        families = _FAMILIES[str(target)]
        if not types[type_].suits & families:
            suited = ", ".join(t.key for t in types.values() if t.suits & families)
            what = f"competency {competency!r}" if competency is not None else "a generic action"
            message = f"type {type_!r} does not suit {what} of kind {target}"
            message += f": use {suited}" if suited else ""
            problems.append(Problem(f"{where}.type", message))
    return competency, kind, type_


def load_catalogue(
    doc: Mapping[str, object] | None = None, *, kinds: Mapping[str, str] | None = None
) -> Catalogue:
    """Build the development action catalogue from a document, or raise :class:`ValidationError`.

    Parameters
    ----------
    doc : mapping, optional
        The catalogue as loaded from YAML or JSON; None reads the shipped
        ``development-actions.yaml``.
    kinds : mapping of str to str, optional
        The kind (C, A or C/A) of every competency key an action may name; None takes the
        shipped Warwick framework's.

    Returns
    -------
    Catalogue

    Raises
    ------
    ValidationError
        Listing every problem with its location, such as ``actions[3].type``: a missing or
        empty field, a bad or duplicate key, an unknown competency, kind or action type, an
        action with both or neither of a competency and a kind, or an action whose type does
        not suit the kind of its competency (a course for an attribute).

    Notes
    -----
    An action of type :math:`t` fits a requirement of kind :math:`k` when
    :math:`suits(t) \\cap F(k) \\ne \\emptyset`, with :math:`F(C) = \\{C\\}`,
    :math:`F(A) = \\{A\\}` and :math:`F(C/A) = \\{C, A\\}`.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Section 2.4: "Are courses readily available?")

    Examples
    --------
    >>> doc = {"types": [{"key": "course", "label": "Course", "suits": ["C"]},
    ...                  {"key": "coaching", "label": "Coaching", "suits": ["A"]}],
    ...        "actions": [{"key": "x", "competency": "tenacious", "type": "course",
    ...                     "title": "T", "description": "D", "duration": "1 day"}]}
    >>> try:
    ...     load_catalogue(doc)
    ... except ValidationError as e:
    ...     print(e)
    actions[0].type: type 'course' does not suit competency 'tenacious' of kind A: use coaching
    >>> [a.key for a in shipped_catalogue().for_competency("negotiation", "C")][:3]
    ['negotiation-course', 'negotiation-practice', 'generic-c-course']
    """
    data: object = _content("development-actions.yaml") if doc is None else doc
    if not isinstance(data, Mapping):
        raise _invalid("(document)", "expected a mapping with types and actions")
    known = (
        {c.key: c.kind.value for c in framework.shipped().competencies} if kinds is None else kinds
    )
    problems: list[Problem] = []
    _check_schema(data, CATALOGUE_SCHEMA, problems)
    types = _parse_types(data, problems)
    actions: list[CatalogueAction] = []
    seen: set[str] = set()
    for i, item in enumerate(_items(data, "actions", problems)):
        where = f"actions[{i}]"
        key = _key(item, where, seen, problems)
        competency, kind, type_ = _parse_action(item, where, types, known, problems)
        fields = [
            _text(item, name, where, problems) for name in ("title", "description", "duration")
        ]
        actions.append(CatalogueAction(key, competency, kind, type_, *fields))
    note = data.get("note", "")
    if problems:
        raise ValidationError(problems)
    return Catalogue(MappingProxyType(types), tuple(actions), str(note or "").strip())


@cache
def shipped_catalogue() -> Catalogue:
    """Return the shipped development action catalogue, checked against the Warwick framework."""
    return load_catalogue()


def _checked_gaps(
    gaps: Floats, keys: Sequence[str], names: Sequence[str], kinds: Sequence[str]
) -> Floats:
    try:
        values = np.asarray(gaps, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _invalid("gaps", "expected numbers (nan where not assessed)") from exc
    if values.ndim != 2:
        raise _invalid("gaps", f"expected a 2-D people × competencies matrix, got {values.ndim}-D")
    problems = [
        Problem(name, f"has {len(seq)} entries for {values.shape[1]} columns of gaps")
        for name, seq in (("keys", keys), ("names", names), ("kinds", kinds))
        if len(seq) != values.shape[1]
    ]
    problems += [
        Problem(f"kinds[{i}]", f"wrong kind {kind!r}: use C, A or C/A")
        for i, kind in enumerate(kinds)
        if kind not in _FAMILIES
    ]
    if np.isinf(values).any():
        problems.append(Problem("gaps", "must be finite, or nan where not assessed"))
    if problems:
        raise ValidationError(problems)
    return values


def _headline(widespread: bool, develop: float, select: float) -> str:
    if not widespread:
        return "No widespread gaps"
    if math.isclose(develop, select):
        return "Both make and buy: the gaps are split evenly between competencies and attributes"
    if develop > select:
        return "Mostly a make decision: the gaps are in competencies that can be taught"
    return "Mostly a buy decision: the gaps are in attributes; select for them when recruiting"


def make_or_buy(
    gaps: Floats,
    keys: Sequence[str],
    names: Sequence[str],
    kinds: Sequence[str],
    *,
    threshold: float = 0.5,
    widespread: float = 0.3,
) -> MakeOrBuy:
    """Advise whether a team's gaps call for developing people (make) or selecting them (buy).

    Parameters
    ----------
    gaps : ndarray of float, shape (N, C)
        Each person's gap per competency, actual minus required level; nan where the person
        was not assessed on it.
    keys, names, kinds : sequence of str
        The key, name and kind (C, A or C/A) of each column.
    threshold : float, default 0.5
        A person is short in a competency when the gap is below ``-threshold``.
    widespread : float, default 0.3
        A competency's gap is widespread when at least this share of those assessed is short.

    Returns
    -------
    MakeOrBuy
        A line per competency with at least one person short, by share short (descending),
        then mean gap (ascending), then column order; the shares of short cells that call
        for development and for selection; and a headline.

    Raises
    ------
    ValidationError
        If ``gaps`` is not a 2-D matrix of numbers or nan, the keys, names or kinds do not
        match its columns, a kind is unknown, ``threshold`` is negative or ``widespread`` is
        outside (0, 1].

    Notes
    -----
    With :math:`s_{pc} = 1` when :math:`g_{pc} < -\\theta` (nan counts as not short) and
    :math:`n_c` the people assessed on :math:`c`, the share short is
    :math:`\\sum_p s_{pc} / n_c` and the mean gap :math:`\\sum_p g_{pc} / n_c` over the
    assessed. Each short cell counts towards "develop" with weight :math:`w_c = 1` for C,
    0 for A and 1/2 for C/A:

    .. math:: develop = \\sum_{p,c} s_{pc} w_c / \\sum_{p,c} s_{pc}, \\quad select = 1 - develop

    (both 0 when nobody is short). The headline is "No widespread gaps" unless some
    competency's share short reaches ``widespread``; then the larger share decides.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Section 2.4: attributes "should affect its 'make or
    buy' decisions when recruiting", as "competencies can be more readily developed".)

    Examples
    --------
    >>> import numpy as np
    >>> gaps = np.array([[-1.0, 0.0], [-2.0, -1.0], [0.0, np.nan]])
    >>> r = make_or_buy(gaps, ["negotiation", "tenacious"], ["Negotiation", "Tenacious"],
    ...                 ["C", "A"])
    >>> [(a.competency, a.short, a.assessed, a.advice) for a in r.lines]
    [('negotiation', 2, 3, 'develop'), ('tenacious', 1, 2, 'select')]
    >>> r.lines[0].text
    '2 of 3 are short: a competency — train and develop the people you have'
    >>> round(r.develop_share, 3), r.headline
    (0.667, 'Mostly a make decision: the gaps are in competencies that can be taught')
    """
    problems = []
    if not threshold >= 0:
        problems.append(Problem("threshold", "must not be negative"))
    if not 0 < widespread <= 1:
        problems.append(Problem("widespread", "must be more than 0 and at most 1"))
    if problems:
        raise ValidationError(problems)
    values = _checked_gaps(gaps, keys, names, kinds)
    assessed_cells = ~np.isnan(values)
    short_cells = values < -threshold  # nan compares False: not assessed is not short
    assessed = assessed_cells.sum(axis=0)
    short = short_cells.sum(axis=0)
    n = np.maximum(assessed, 1)
    share = short / n
    mean_gap = np.where(assessed > 0, np.where(assessed_cells, values, 0.0).sum(axis=0) / n, np.nan)
    weight = np.array([_DEVELOP_WEIGHT[k] for k in kinds], dtype=np.float64)
    total = int(short.sum())
    develop = float((short * weight).sum() / total) if total else 0.0
    select = float((short * (1.0 - weight)).sum() / total) if total else 0.0
    order = sorted(
        (int(c) for c in np.flatnonzero(short > 0)), key=lambda c: (-share[c], mean_gap[c], c)
    )
    lines = tuple(
        Advice(
            competency=keys[c],
            name=names[c],
            kind=str(kinds[c]),
            short=int(short[c]),
            assessed=int(assessed[c]),
            share=float(share[c]),
            mean_gap=float(mean_gap[c]),
            advice=ADVICE[kinds[c]],
            text=f"{short[c]} of {assessed[c]} {'is' if short[c] == 1 else 'are'} short: "
            + _ADVICE_TEXT[kinds[c]],
            widespread=bool(share[c] >= widespread),
        )
        for c in order
    )
    headline = _headline(any(a.widespread for a in lines), develop, select)
    return MakeOrBuy(lines, develop, select, headline)


def _plan_problems(
    gaps: Mapping[str, float],
    weights: Mapping[str, float],
    names: Mapping[str, str],
    kinds: Mapping[str, str],
) -> list[Problem]:
    problems = []
    for key, gap in gaps.items():
        if math.isinf(gap):
            problems.append(Problem(f"gaps.{key}", "must be finite, or nan where not assessed"))
        if key not in weights:
            problems.append(Problem(f"weights.{key}", "missing"))
        elif not (math.isfinite(weights[key]) and weights[key] >= 0):
            problems.append(Problem(f"weights.{key}", "must be a number of at least 0"))
        if key not in names:
            problems.append(Problem(f"names.{key}", "missing"))
        if kinds.get(key) not in _FAMILIES:
            problems.append(
                Problem(f"kinds.{key}", f"wrong kind {kinds.get(key)!r}: use C, A or C/A")
            )
    return problems


def suggest_plan(
    gaps: Mapping[str, float],
    weights: Mapping[str, float],
    names: Mapping[str, str],
    kinds: Mapping[str, str],
    catalogue: Catalogue,
    *,
    threshold: float = 0.5,
    per_competency: int = 1,
    limit: int = 8,
) -> tuple[Suggestion, ...]:
    """Suggest development actions for one person's largest weighted gaps.

    Parameters
    ----------
    gaps : mapping of str to float
        The person's gap per competency key, actual minus required; nan where not assessed.
    weights, names, kinds : mapping
        The weight, name and kind (C, A or C/A) of every competency in ``gaps``.
    catalogue : Catalogue
        Where the actions come from (see :meth:`Catalogue.for_competency`).
    threshold : float, default 0.5
        Only gaps below ``-threshold`` get an action.
    per_competency : int, default 1
        How many actions each competency gets at most.
    limit : int, default 8
        How many suggestions to return at most.

    Returns
    -------
    tuple of Suggestion
        By priority: 1 for the competency with the largest weighted gap, 2 for the next, and
        so on; the actions of one competency share its priority. A competency the catalogue
        has no suitable action for is skipped without using up a priority.

    Raises
    ------
    ValidationError
        If a competency's weight, name or kind is missing or wrong, a gap is infinite,
        ``threshold`` is negative, ``per_competency`` is below 1 or ``limit`` is negative.

    Notes
    -----
    The competencies with :math:`g_c < -\\theta` are ordered by :math:`|g_c| \\cdot w_c`
    descending, then :math:`|g_c|` descending, then their order in ``gaps``.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Section 2.4: competencies are "Enhanced by training
    and development", attributes "by exhortation and personal choice".)

    Examples
    --------
    >>> plan = suggest_plan({"negotiation": -1.0, "tenacious": -2.0, "drive": 0.0},
    ...                     {"negotiation": 3.0, "tenacious": 1.0, "drive": 1.0},
    ...                     {"negotiation": "Negotiation", "tenacious": "Tenacious",
    ...                      "drive": "Drive"},
    ...                     {"negotiation": "C", "tenacious": "A", "drive": "A"},
    ...                     shipped_catalogue())
    >>> [(s.priority, s.competency, s.action.type) for s in plan]
    [(1, 'negotiation', 'course'), (2, 'tenacious', 'stretch-assignment')]
    """
    problems = _plan_problems(gaps, weights, names, kinds)
    if not threshold >= 0:
        problems.append(Problem("threshold", "must not be negative"))
    if per_competency < 1:
        problems.append(Problem("per_competency", "must be at least 1"))
    if limit < 0:
        problems.append(Problem("limit", "must not be negative"))
    if problems:
        raise ValidationError(problems)
    short = [(i, key) for i, (key, gap) in enumerate(gaps.items()) if gap < -threshold]
    short.sort(key=lambda ik: (-abs(gaps[ik[1]]) * weights[ik[1]], -abs(gaps[ik[1]]), ik[0]))
    out: list[Suggestion] = []
    priority = 0
    for _, key in short:
        actions = catalogue.for_competency(key, kinds[key])[:per_competency]
        if not actions:
            continue
        priority += 1
        kind, gap = str(kinds[key]), float(gaps[key])
        out.extend(Suggestion(key, names[key], kind, gap, a, priority) for a in actions)
        if len(out) >= limit:
            break
    return tuple(out[:limit])


def _quick_questions(
    data: Mapping[str, object], known: Collection[str], problems: list[Problem]
) -> tuple[QuickQuestion, ...]:
    questions = []
    seen: set[str] = set()
    for i, item in enumerate(_items(data, "questions", problems)):
        where = f"questions[{i}]"
        key = _key(item, where, seen, problems)
        text = _text(item, "text", where, problems)
        hints = item.get("hints", [])
        if not isinstance(hints, list):
            problems.append(Problem(f"{where}.hints", "expected a list of competency keys"))
            hints = []
        for k, hint in enumerate(hints):
            if not (isinstance(hint, str) and hint in known):
                problems.append(Problem(f"{where}.hints[{k}]", f"unknown competency {hint!r}"))
        questions.append(QuickQuestion(key, text, tuple(str(h) for h in hints)))
    return tuple(questions)


def load_quick_check(
    doc: Mapping[str, object] | None = None, *, competencies: Collection[str] | None = None
) -> QuickCheck:
    """Build a quick check from a document, or raise :class:`ValidationError`.

    Parameters
    ----------
    doc : mapping, optional
        The quick check as loaded from YAML or JSON; None reads the shipped
        ``sbi-quick-check.yaml``.
    competencies : collection of str, optional
        The competency keys a hint may name; None takes the shipped Warwick framework's.

    Returns
    -------
    QuickCheck

    Raises
    ------
    ValidationError
        Listing every problem with its location, such as ``questions[2].hints[0]``.

    Examples
    --------
    >>> check = load_quick_check({"source": {"citation": "S"}, "questions": [
    ...     {"key": "goals", "text": "Set realistic goals?", "hints": ["strategic"]}]})
    >>> check.questions[0].hints, check.options
    (('strategic',), ('yes', 'no'))
    """
    data: object = _content("sbi-quick-check.yaml") if doc is None else doc
    if not isinstance(data, Mapping):
        raise _invalid("(document)", "expected a mapping with source and questions")
    known = (
        {c.key for c in framework.shipped().competencies} if competencies is None else competencies
    )
    problems: list[Problem] = []
    _check_schema(data, QUICK_CHECK_SCHEMA, problems)
    source = data.get("source")
    citation = _text(source if isinstance(source, Mapping) else {}, "citation", "source", problems)
    options = data.get("options", ["yes", "no"])
    if not (isinstance(options, list) and options and all(isinstance(o, str) for o in options)):
        problems.append(Problem("options", "expected a list of answer labels"))
        options = []
    questions = _quick_questions(data, known, problems)
    if problems:
        raise ValidationError(problems)
    return QuickCheck(
        source=citation,
        questions=questions,
        prompt=str(data.get("prompt") or "").strip(),
        framing=str(data.get("framing") or "").strip(),
        options=tuple(str(o) for o in options),
    )


@cache
def shipped_quick_check() -> QuickCheck:
    """Return the SBI quick check shipped with kamfit, its hints checked against Warwick."""
    return load_quick_check()


def quick_check_score(answers: Mapping[str, bool | None], check: QuickCheck) -> tuple[int, int]:
    """Count the "yes" answers and the answered questions of a quick check.

    Parameters
    ----------
    answers : mapping of str to bool or None
        Answers by question key: True for yes, False for no, None for not answered. A
        question missing from ``answers`` is not answered.
    check : QuickCheck
        The questions answered.

    Returns
    -------
    tuple of (int, int)
        The number of yes answers and the number of answered questions.

    Raises
    ------
    ValidationError
        If a key is not a question of ``check`` (the location names it) or an answer is
        neither a bool nor None.

    Notes
    -----
    :math:`yes = |\\{q : a_q = True\\}|`, :math:`answered = |\\{q : a_q \\ne None\\}|`. The
    article reads the result as a screen, not a score: "Answering “yes” to the above
    questions is a great start."

    References
    ----------
    Staples, J. Untitled SBI article on selecting key account managers the Topgrading way.
    SBI.

    Examples
    --------
    >>> check = shipped_quick_check()
    >>> quick_check_score({"realistic-goals": True, "communicates-value": False,
    ...                    "first-in-last-out": None}, check)
    (1, 2)
    """
    keys = {q.key for q in check.questions}
    problems = []
    for key, answer in answers.items():
        if key not in keys:
            problems.append(Problem(f"answers.{key}", f"unknown question {key!r}"))
        elif answer is not None and not isinstance(answer, bool):
            message = "expected yes (true), no (false) or no answer (null)"
            problems.append(Problem(f"answers.{key}", message))
    if problems:
        raise ValidationError(problems)
    return (
        sum(answer is True for answer in answers.values()),
        sum(answer is not None for answer in answers.values()),
    )


def selling_background(backgrounds: Sequence[str]) -> tuple[int, int, float | None]:
    """Count the key account managers with a sales background.

    Parameters
    ----------
    backgrounds : sequence of str
        Each KAM's background: ``sales``, ``other`` or ``unknown``.

    Returns
    -------
    tuple of (int, int, float or None)
        The number from sales, the number whose background is known, and the share of the
        known who come from sales (None when none is known).

    Raises
    ------
    ValidationError
        If a background is not one of the three (the location gives its index).

    Notes
    -----
    :math:`share = n_{sales} / (n_{sales} + n_{other})`; unknown backgrounds are left out.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Section 2.5: "In most companies key account
    managers are recruited from within their own salesforce".)

    Examples
    --------
    >>> selling_background(["sales", "sales", "other", "unknown"])
    (2, 3, 0.6666666666666666)
    """
    problems = [
        Problem(f"backgrounds[{i}]", f"unknown background {b!r}: use sales, other or unknown")
        for i, b in enumerate(backgrounds)
        if b not in SELLING_BACKGROUNDS
    ]
    if problems:
        raise ValidationError(problems)
    sales = sum(b == "sales" for b in backgrounds)
    known = sum(b != "unknown" for b in backgrounds)
    return sales, known, (sales / known if known else None)


def _selling_problems(
    sales_share: float | None, intended: float | None, sales: int | None, known: int | None
) -> list[Problem]:
    problems = []
    if sales_share is not None and not 0 <= sales_share <= 1:
        problems.append(Problem("sales_share", "must be between 0 and 1"))
    if intended is not None and not 0 <= intended <= 100:
        problems.append(Problem("intended_selling_percent", "must be between 0 and 100"))
    if (sales is None) != (known is None):
        problems.append(Problem("sales", "give both sales and known, or neither"))
    elif sales is not None and known is not None:
        if not 0 <= sales <= known:
            problems.append(Problem("sales", f"must be between 0 and known ({known})"))
        elif known and (sales_share is None or not math.isclose(sales / known, sales_share)):
            problems.append(Problem("sales_share", f"does not match {sales} of {known}"))
    return problems


def selling_note(
    sales_share: float | None,
    intended_selling_percent: float | None,
    *,
    sales: int | None = None,
    known: int | None = None,
) -> str:
    """Set a team's sales backgrounds beside the share of time its role should spend selling.

    Parameters
    ----------
    sales_share : float or None
        The share (0–1) of KAMs with a known background who come from sales; None when no
        background is known (see :func:`selling_background`).
    intended_selling_percent : float or None
        The percentage of time the role profile gives to selling; None when not set.
    sales, known : int, optional
        The counts behind ``sales_share``, to say "9 of 10" rather than "90%".

    Returns
    -------
    str
        One or two plain sentences. The paper's question follows whenever the share from
        sales exceeds the share of time the role should spend selling, or that is not set.

    Raises
    ------
    ValidationError
        If a share or percentage is out of range, or the counts do not match the share.

    Notes
    -----
    The comparison is :math:`100 \\cdot share_{sales} > p_{selling}`.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Section 2.5, "Positioning selling in KAM".)

    Examples
    --------
    >>> selling_note(0.9, 10, sales=9, known=10).split(". ")[0]
    '9 of 10 KAMs (90%) come from sales, for a role that should spend 10% of its time selling'
    """
    problems = _selling_problems(sales_share, intended_selling_percent, sales, known)
    if problems:
        raise ValidationError(problems)
    if sales_share is None:
        return (
            "No KAM's background is recorded yet, so it cannot be set beside the share of "
            "time the role should spend selling."
        )
    percent = f"{sales_share:.0%}"
    if sales is not None and known is not None:
        who, verb = f"{sales} of {known} KAMs ({percent})", "comes" if sales == 1 else "come"
    else:
        who, verb = f"{percent} of KAMs", "come"
    role = (
        ""
        if intended_selling_percent is None
        else f", for a role that should spend {intended_selling_percent:g}% of its time selling"
    )
    first = f"{who} {verb} from sales{role}."
    if intended_selling_percent is None or 100 * sales_share > intended_selling_percent:
        return f"{first} {_SELLING_QUESTION}"
    return (
        f"{first} Sales backgrounds are not over-represented for the selling the role "
        "involves (Woodburn 2006, section 2.5)."
    )
