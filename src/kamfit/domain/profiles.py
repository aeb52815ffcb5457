"""KAM role profiles as plain data: job description, time allocation and comparison.

Section 2.4 of the Warwick paper: the roles of KAM the company wants drive the competency
requirement, and the company should express one consistent view of what matters. A role
profile is a position ("Global account manager") on a published framework version: the
role elements in scope, the competencies they call for (added to or removed from), a
required level and weight for each, and the intended split of the role's time, where the
paper notes that directors want key account managers to spend only 5–10% of their time
selling.

References
----------
Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
taskforce. Warwick Business School, Strategic Sales and Customer Management Network,
October 2006. (Sections 2.4 and 2.5.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kamfit.domain.errors import Problem, ValidationError
from kamfit.domain.framework import Kind

__all__ = [
    "ACTIVITY_AREAS",
    "SELLING_LIMIT",
    "ActivityArea",
    "ComparisonRow",
    "JdElement",
    "JdItem",
    "JdRequirement",
    "JdRole",
    "JobDescription",
    "ProfileLine",
    "TimeCheck",
    "check_time_allocation",
    "compare_profiles",
    "paper_view",
    "render_markdown",
]

# The paper (section 2.5): directors want KAMs to spend only 5-10% of their time selling.
SELLING_LIMIT = 10.0
_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ActivityArea:
    """An area of a key account manager's time, with the share a new profile starts with."""

    key: str
    label: str
    default_percent: int


# Keys are stable (stored in profiles); labels are what pages and documents show.
ACTIVITY_AREAS: tuple[ActivityArea, ...] = (
    ActivityArea("selling", "Selling: prospecting, proposals, negotiating deals", 10),
    ActivityArea("strategy", "Strategy and account planning", 20),
    ActivityArea("relationships", "Customer relationships and joint value creation", 25),
    ActivityArea("orchestration", "Internal orchestration of the supplier's resources", 25),
    ActivityArea("reporting", "Reporting, forecasting and administration", 10),
    ActivityArea("development", "Developing self, team and KAM practice", 10),
)


@dataclass(frozen=True)
class TimeCheck:
    """A validated time allocation: shares per area key (summing to 100) and warnings."""

    shares: tuple[tuple[str, float], ...]
    selling: float
    selling_limit: float
    warnings: tuple[str, ...]


def _number(value: float) -> str:
    """Show a percentage without float noise but without hiding a real difference."""
    return f"{value:.12g}"


def _selling_warning(selling: float, limit: float) -> str:
    return (
        f"Selling takes {_number(selling)}% of the time, above the limit of {_number(limit)}%: "
        "the Warwick paper (Woodburn 2006, section 2.5) says directors want key account "
        "managers to spend only 5–10% of their time selling."
    )


def check_time_allocation(
    shares: Mapping[str, float], *, selling_limit: float = SELLING_LIMIT
) -> TimeCheck:
    """Validate a time allocation (percent per area key) and warn about selling above the limit.

    Parameters
    ----------
    shares : mapping of str to float
        Percent of the role's time per :data:`ACTIVITY_AREAS` key; an area left out counts
        as 0. Every share is finite and non-negative, and together they make 100.
    selling_limit : float, default ``SELLING_LIMIT`` (10)
        The share of selling above which the check warns, a percentage from 0 to 100.

    Returns
    -------
    TimeCheck
        Every area's share in :data:`ACTIVITY_AREAS` order, the selling share, the limit and
        the warnings (one when selling exceeds the limit).

    Notes
    -----
    The shares must satisfy :math:`|\\sum_a s_a - 100| \\le 10^{-6}`. Each unknown key or bad
    share is its own problem at ``time_allocation.<key>``; the sum is checked once every
    share is valid, so a typo is not also reported as a wrong total.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School, Strategic Sales and Customer Management Network.
    (Section 2.5: directors want key account managers to spend only 5–10% of their time
    selling.)

    Examples
    --------
    >>> check = check_time_allocation({"selling": 30, "strategy": 30, "relationships": 40})
    >>> check.shares[:3], check.selling
    ((('selling', 30.0), ('strategy', 30.0), ('relationships', 40.0)), 30.0)
    >>> print(check.warnings[0])  # doctest: +ELLIPSIS
    Selling takes 30% of the time, above the limit of 10%: the Warwick paper ... selling.
    """
    if not (math.isfinite(selling_limit) and 0 <= selling_limit <= 100):
        message = f"must be a percentage from 0 to 100, not {selling_limit:g}"
        raise ValidationError([Problem("selling_limit", message)])
    if not shares:
        message = "record the time allocation as percentages summing to 100"
        raise ValidationError([Problem("time_allocation", message)])
    known = [area.key for area in ACTIVITY_AREAS]
    problems: list[Problem] = []
    values: dict[str, float] = {}
    for key, value in shares.items():
        where = f"time_allocation.{key}"
        if key not in known:
            message = f"unknown activity area {key!r}: expected one of {', '.join(known)}"
            problems.append(Problem(where, message))
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(Problem(where, f"expected a percentage, not {value!r}"))
            continue
        if math.isfinite(number) and number >= 0:
            values[key] = number
        else:
            message = f"must be a finite percentage of at least 0, not {value}"
            problems.append(Problem(where, message))
    total = math.fsum(values.values())
    if not problems and abs(total - 100) > _SUM_TOLERANCE:
        message = f"the shares sum to {_number(total)}%, not 100%"
        problems.append(Problem("time_allocation", message))
    if problems:
        raise ValidationError(problems)
    selling = values.get("selling", 0.0)
    return TimeCheck(
        shares=tuple((key, values.get(key, 0.0)) for key in known),
        selling=selling,
        selling_limit=float(selling_limit),
        warnings=(_selling_warning(selling, selling_limit),) if selling > selling_limit else (),
    )


@dataclass(frozen=True)
class JdItem:
    """A responsibility bullet, with its sub-bullets."""

    text: str
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class JdRole:
    """A role of KAM in scope: the purpose of the position."""

    title: str
    description: str
    aims: tuple[str, ...] = ()


@dataclass(frozen=True)
class JdElement:
    """A role element in scope with both sides of it."""

    label: str
    title: str
    role_title: str
    kam: tuple[JdItem, ...]
    company: tuple[JdItem, ...]


@dataclass(frozen=True)
class JdRequirement:
    """A competency or attribute the position requires."""

    key: str
    name: str
    kind: Kind
    required_level: int
    level_name: str
    level_description: str
    weight: float  # percent of the profile, all requirements summing to 100
    wordings: tuple[str, ...] = ()  # the paper's wording at each element in scope


@dataclass(frozen=True)
class JobDescription:
    """Everything a job description shows, in the order it shows it."""

    title: str
    profile_key: str
    version: int
    status: str  # "draft" or "published"
    framework_title: str
    framework_version: int
    citation: str  # names the Warwick 2006 paper when the framework derives from it
    summary: str
    roles: tuple[JdRole, ...]
    elements: tuple[JdElement, ...]
    requirements: tuple[JdRequirement, ...]
    time_allocation: tuple[tuple[str, float], ...]  # (label, percent); empty if not recorded
    selling_limit: float
    weights_source: str  # in words: "Equal weights", "Set by hand", "Adopted from …"

    @property
    def competencies(self) -> tuple[JdRequirement, ...]:
        """Requirements that can be developed (kind C)."""
        return tuple(r for r in self.requirements if r.kind == Kind.COMPETENCY)

    @property
    def attributes(self) -> tuple[JdRequirement, ...]:
        """Requirements to select for (kind A)."""
        return tuple(r for r in self.requirements if r.kind == Kind.ATTRIBUTE)

    @property
    def either(self) -> tuple[JdRequirement, ...]:
        """Requirements the paper classes as competency or attribute (kind C/A)."""
        return tuple(r for r in self.requirements if r.kind == Kind.BOTH)


# Backslash-escaped anywhere in user text: inline markup, HTML, GFM strikethrough, a
# heading's closing #, | so that a cell never splits a table row, and & only where it would
# start an entity reference ("R&D" stays as typed).
_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]<>#|~]|&(?=#?[0-9A-Za-z]+;)")
# Escaped at the start of a line only: list items, thematic breaks, setext underlines.
_LEADING_MARKER = re.compile(r"^(?:([-+=])|(\d+)([.)]))")
_SECTIONS = (
    ("competencies", "Competencies (can be developed)"),
    ("attributes", "Attributes (select for them)"),
    ("either", "Competencies or attributes (C/A)"),
)


def _inline(text: str) -> str:
    """Return user text as one line of Markdown that shows exactly that text."""
    escaped = _INLINE_SPECIAL.sub(lambda m: f"\\{m[0]}", " ".join(text.split()))
    return _LEADING_MARKER.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", escaped)


def _percent(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0") + "%"


def _bullets(items: Sequence[JdItem]) -> str:
    lines = []
    for item in items:
        lines.append(f"- {_inline(item.text)}")
        lines += [f"  - {_inline(child)}" for child in item.children]
    return "\n".join(lines)


def _table(header: Sequence[str], align: str, rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", align]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _element_blocks(elements: Sequence[JdElement], *, company: bool) -> list[str]:
    blocks = []
    for element in elements:
        items = element.company if company else element.kam
        if items:
            blocks.append(f"### {_inline(element.label)} — {_inline(element.title)}")
            blocks.append(_bullets(items))
    return blocks


def _requirement_blocks(requirements: Sequence[JdRequirement]) -> list[str]:
    rows = []
    for r in requirements:
        level = f"{r.required_level} — {_inline(r.level_name)}" if r.level_name.strip() else ""
        rows.append([_inline(r.name), level or str(r.required_level), f"{r.weight:.1f}%"])
    blocks = [_table(("Requirement", "Required level", "Weight"), "| --- | --- | --: |", rows)]
    worded = [
        f"- {_inline(r.name)}: " + "; ".join(_inline(w) for w in dict.fromkeys(r.wordings))
        for r in requirements
        if any(w.strip() for w in r.wordings)
    ]
    if worded:
        blocks += ["In the paper's words at the role elements in scope:", "\n".join(worded)]
    return blocks


def _selling_share(time_allocation: Sequence[tuple[str, float]]) -> float:
    """Find the selling share among (label, percent) rows."""
    selling = ACTIVITY_AREAS[0]
    for label, percent in time_allocation:
        if label == selling.label or label.strip().lower().startswith(selling.key):
            return percent
    return 0.0


def render_markdown(jd: JobDescription) -> str:
    """Render a job description as Markdown (CommonMark), crediting the source framework.

    Parameters
    ----------
    jd : JobDescription
        Everything the document shows.

    Returns
    -------
    str
        The document, ending in a newline: the title; the profile's version and status and
        the framework; the summary; ``## Purpose`` (the roles of KAM in scope);
        ``## Responsibilities of the key account manager`` and ``## What the company
        commits to`` (per role element in scope); ``## Requirements`` (one table per kind,
        with the paper's wording at the elements in scope, then where the weights came
        from); ``## Time allocation``; and last ``Source:`` with the citation. Sections with
        nothing to show are left out.

    Notes
    -----
    The output is deterministic. User text is escaped so that it shows as typed: inline
    markup characters (``\\ ` * _ [ ] < > # | ~``) are backslash-escaped everywhere, which
    also keeps a ``|`` from splitting a table cell, as is ``&`` where it would start an
    entity; a block marker at the start (``-``, ``+``, ``=``, ``1.``) is escaped; and runs of
    whitespace, line breaks included, become one space within a heading, paragraph, bullet
    or cell. Tables use the GitHub Flavored Markdown extension.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School, Strategic Sales and Customer Management Network.
    (Sections 2.4 and 2.5: the role drives the requirement; weighting; time selling.)

    MacFarlane, J. (2024). CommonMark Spec, version 0.31.2; GitHub Flavored Markdown Spec,
    version 0.29-gfm (tables extension).

    Examples
    --------
    >>> need = JdRequirement("trust", "Trust | integrity", Kind.ATTRIBUTE, 4, "Advanced",
    ...                      "", 100.0, ("Integrity",))
    >>> jd = JobDescription("Global account manager", "gam", 2, "published", "KAM framework",
    ...                     1, "Woodburn (2006).", "", (), (), (need,), (), 10.0, "Set by hand")
    >>> print(render_markdown(jd))
    # Global account manager
    <BLANKLINE>
    Profile version 2, published · Framework: KAM framework, version 1
    <BLANKLINE>
    ## Requirements
    <BLANKLINE>
    ### Attributes (select for them)
    <BLANKLINE>
    | Requirement | Required level | Weight |
    | --- | --- | --: |
    | Trust \\| integrity | 4 — Advanced | 100.0% |
    <BLANKLINE>
    In the paper's words at the role elements in scope:
    <BLANKLINE>
    - Trust \\| integrity: Integrity
    <BLANKLINE>
    Weights: Set by hand
    <BLANKLINE>
    Source: Woodburn (2006).
    <BLANKLINE>
    """
    blocks = [
        f"# {_inline(jd.title)}",
        f"Profile version {jd.version}, {_inline(jd.status)} · Framework: "
        f"{_inline(jd.framework_title)}, version {jd.framework_version}",
    ]
    blocks += [_inline(p) for p in re.split(r"\n\s*\n", jd.summary) if p.strip()]
    if jd.roles:
        blocks.append("## Purpose")
        for role in jd.roles:
            about = f" — {_inline(role.description)}" if role.description.strip() else ""
            blocks.append(f"**{_inline(role.title)}**{about}")
            if role.aims:
                blocks.append("\n".join(f"- {_inline(aim)}" for aim in role.aims))
    kam = _element_blocks(jd.elements, company=False)
    if kam:
        blocks += ["## Responsibilities of the key account manager", *kam]
    company = _element_blocks(jd.elements, company=True)
    if company:
        intro = (
            "The role only works when the company does its part; for each role element in "
            "scope, the company commits to the following."
        )
        blocks += ["## What the company commits to", intro, *company]
    if jd.requirements:
        blocks.append("## Requirements")
        for attribute, heading in _SECTIONS:
            requirements: tuple[JdRequirement, ...] = getattr(jd, attribute)
            if requirements:
                blocks += [f"### {heading}", *_requirement_blocks(requirements)]
        if jd.weights_source.strip():
            blocks.append(f"Weights: {_inline(jd.weights_source)}")
    if jd.time_allocation:
        rows = [[_inline(label), _percent(percent)] for label, percent in jd.time_allocation]
        blocks += ["## Time allocation", _table(("Activity", "Share"), "| --- | --: |", rows)]
        selling = _selling_share(jd.time_allocation)
        if selling > jd.selling_limit:
            blocks.append(f"**Warning:** {_selling_warning(selling, jd.selling_limit)}")
    if jd.citation.strip():
        blocks.append(f"Source: {_inline(jd.citation)}")
    return "\n\n".join(blocks) + "\n"


@dataclass(frozen=True)
class ProfileLine:
    """One requirement of a profile as comparison sees it; weight in percent."""

    key: str
    name: str
    kind: Kind
    required_level: int | None
    weight: float


@dataclass(frozen=True)
class ComparisonRow:
    """One requirement across two profiles; ``None`` where a side lacks it."""

    key: str
    name: str
    kind: Kind
    left_level: int | None
    right_level: int | None
    left_weight: float | None
    right_weight: float | None

    @property
    def weight_difference(self) -> float:
        """Right minus left weight, a missing side counting as 0."""
        return (self.right_weight or 0.0) - (self.left_weight or 0.0)


def _by_key(lines: Sequence[ProfileLine], side: str) -> dict[str, ProfileLine]:
    """Index a profile's lines by key, refusing a key that appears twice."""
    index: dict[str, ProfileLine] = {}
    first: dict[str, int] = {}
    problems = []
    for i, line in enumerate(lines):
        if line.key in index:
            message = f"duplicate key {line.key!r} (first at {side}[{first[line.key]}])"
            problems.append(Problem(f"{side}[{i}].key", message))
        else:
            index[line.key], first[line.key] = line, i
    if problems:
        raise ValidationError(problems)
    return index


def compare_profiles(
    left: Sequence[ProfileLine], right: Sequence[ProfileLine]
) -> tuple[ComparisonRow, ...]:
    """Line up two profiles' requirements: left's order first, then right-only ones.

    Parameters
    ----------
    left, right : sequence of ProfileLine
        Each profile's requirements, keys unique within a profile.

    Returns
    -------
    tuple of ComparisonRow
        One row per key in either profile: left's keys in left's order, then the keys
        only right has in right's order; level and weight ``None`` on the side that lacks
        the requirement. Name and kind come from left where both have it.

    Notes
    -----
    The rows cover :math:`K_L \\cup K_R` exactly once; ``weight_difference`` is
    :math:`w_R - w_L`, a missing side counting as 0.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Section 2.4: the roles of KAM a company wants
    drive its competency requirement, so two positions differ in what they need.)

    Examples
    --------
    >>> a = [ProfileLine("trust", "Trust", Kind.ATTRIBUTE, 4, 60.0),
    ...      ProfileLine("plan", "Planning", Kind.COMPETENCY, 3, 40.0)]
    >>> b = [ProfileLine("plan", "Planning", Kind.COMPETENCY, 4, 70.0),
    ...      ProfileLine("sell", "Selling", Kind.COMPETENCY, 2, 30.0)]
    >>> [(r.key, r.left_level, r.right_level, r.weight_difference)
    ...  for r in compare_profiles(a, b)]
    [('trust', 4, None, -60.0), ('plan', 3, 4, 30.0), ('sell', None, 2, 30.0)]
    """
    on_left, on_right = _by_key(left, "left"), _by_key(right, "right")
    rows = []
    for line in on_left.values():
        other = on_right.get(line.key)
        rows.append(
            ComparisonRow(
                key=line.key,
                name=line.name,
                kind=line.kind,
                left_level=line.required_level,
                right_level=other.required_level if other else None,
                left_weight=line.weight,
                right_weight=other.weight if other else None,
            )
        )
    rows += [
        ComparisonRow(line.key, line.name, line.kind, None, line.required_level, None, line.weight)
        for key, line in on_right.items()
        if key not in on_left
    ]
    return tuple(rows)


def paper_view(cited: Sequence[tuple[str, str, Kind]]) -> tuple[ProfileLine, ...]:
    """The paper's unweighted view: every cited competency, equal weights, no level.

    Parameters
    ----------
    cited : sequence of (key, name, kind)
        The catalogue entries cited at the role elements in scope, in citation order;
        an entry cited at several elements may appear several times.

    Returns
    -------
    tuple of ProfileLine
        Each key once, where it first appears, with no required level and weight
        :math:`100 / n` percent; empty for no citations.

    Notes
    -----
    With :math:`n` distinct keys every weight is :math:`100/n`, so the weights sum to 100
    up to rounding: the unweighted list section 2.5 of the paper says companies use.

    References
    ----------
    Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner
    taskforce. Warwick Business School. (Section 2.5: unweighted competency lists.)

    Examples
    --------
    >>> cited = [("trust", "Trust", Kind.ATTRIBUTE), ("plan", "Planning", Kind.COMPETENCY),
    ...          ("trust", "Integrity", Kind.ATTRIBUTE), ("sell", "Selling", Kind.BOTH)]
    >>> [(line.key, line.required_level, round(line.weight, 2)) for line in paper_view(cited)]
    [('trust', None, 33.33), ('plan', None, 33.33), ('sell', None, 33.33)]
    """
    first: dict[str, tuple[str, Kind]] = {}
    for key, name, kind in cited:
        first.setdefault(key, (name, Kind(kind)))
    if not first:
        return ()
    weight = 100 / len(first)
    return tuple(ProfileLine(key, name, kind, None, weight) for key, (name, kind) in first.items())
