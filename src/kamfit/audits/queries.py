"""Scoped reads of audits: results computed by kamfit.domain.readiness in fixed queries."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from kamfit.audits.models import (
    Answer,
    Audit,
    AuditItem,
    Department,
    ItemKind,
    Rating,
    Respondent,
    RespondentStatus,
)
from kamfit.domain import anonymity, readiness
from kamfit.orgs.models import Organisation

__all__ = [
    "AuditResults",
    "ElementReadiness",
    "ItemResult",
    "ScoreLine",
    "get_audit_results",
    "get_element_readiness",
    "min_group_size",
    "ratings_matrix",
]

CODE: dict[str, int] = {
    Rating.DONT_KNOW: readiness.DONT_KNOW,
    Rating.POOR: readiness.POOR,
    Rating.FAIR: readiness.FAIR,
    Rating.GOOD: readiness.GOOD,
}


@dataclass(frozen=True)
class ItemResult:
    """An item with its statistics and the change since the previous audit."""

    item: AuditItem
    stats: readiness.ItemStats
    change: float | None

    @property
    def score(self) -> float | None:
        return None if math.isnan(self.stats.mean) else self.stats.mean


@dataclass(frozen=True)
class ScoreLine:
    """A role element or a role of KAM with its readiness score."""

    key: str
    title: str
    score: float | None
    role_title: str = ""


@dataclass(frozen=True)
class AuditResults:
    """Everything the results page, the exports and the API show."""

    audit: Audit
    invited: int
    submitted: int
    response_rate: float
    litmus: tuple[ItemResult, ...]
    responsibilities: tuple[ItemResult, ...]
    elements: tuple[ScoreLine, ...]
    roles: tuple[ScoreLine, ...]
    weakest: tuple[ItemResult, ...]
    disagreements: tuple[tuple[ItemResult, readiness.Disagreement], ...]
    breakdown: readiness.Breakdown
    # Department × item means; None: fewer than ``k`` answers behind it (or a difference
    # with the overall answers would isolate fewer than k), shown as "fewer than k".
    breakdown_rows: tuple[tuple[ItemResult, tuple[float | None, ...]], ...]
    withheld: bool = False
    k: int = readiness.DEFAULT_MIN_GROUP

    @property
    def items(self) -> tuple[ItemResult, ...]:
        return self.litmus + self.responsibilities

    @property
    def response_percent(self) -> int:
        return round(100 * self.response_rate)

    @property
    def groups(self) -> tuple[tuple[str, int], ...]:
        """The department groups shown, with their sizes."""
        return tuple(zip(self.breakdown.labels, self.breakdown.sizes, strict=True))


def ratings_matrix(
    items: list[AuditItem], respondents: list[Respondent], answers: list[tuple[int, int, str]]
) -> np.ndarray:
    """Build the (respondents × items) code matrix the domain scores."""
    column = {item.pk: i for i, item in enumerate(items)}
    row = {r.pk: i for i, r in enumerate(respondents)}
    matrix = np.full((len(respondents), len(items)), readiness.NO_ANSWER, dtype=np.int8)
    if answers:
        rows = np.fromiter((row[a[0]] for a in answers), dtype=np.intp, count=len(answers))
        cols = np.fromiter((column[a[1]] for a in answers), dtype=np.intp, count=len(answers))
        codes = np.fromiter((CODE[a[2]] for a in answers), dtype=np.int8, count=len(answers))
        matrix[rows, cols] = codes
    return matrix


def _means_by_key(audit: Audit) -> dict[str, float]:
    items = list(AuditItem.objects.filter(audit=audit))
    respondents = list(Respondent.objects.filter(audit=audit, status=RespondentStatus.SUBMITTED))
    answers = list(
        Answer.objects.filter(respondent__in=respondents).values_list(
            "respondent_id", "item_id", "rating"
        )
    )
    stats = readiness.item_stats(ratings_matrix(items, respondents, answers))
    return {item.key: s.mean for item, s in zip(items, stats, strict=True)}


def get_audit_results(audit: Audit) -> AuditResults:
    """Score a whole audit (submitted responses only) in a fixed number of queries."""
    items = list(AuditItem.objects.filter(audit=audit))
    respondents = list(Respondent.objects.filter(audit=audit))
    submitted = [r for r in respondents if r.status == RespondentStatus.SUBMITTED]
    answers = list(
        Answer.objects.filter(
            respondent__audit=audit, respondent__status=RespondentStatus.SUBMITTED
        ).values_list("respondent_id", "item_id", "rating")
    )
    k = min_group_size(audit)
    if len(submitted) < k:
        return _withheld(audit, len(respondents), len(submitted))
    matrix = ratings_matrix(items, submitted, answers)
    stats = readiness.item_stats(matrix)
    previous = _means_by_key(audit.previous) if audit.previous is not None else {}
    current = {item.key: s.mean for item, s in zip(items, stats, strict=True)}
    changes = readiness.change(previous, current)
    results = [ItemResult(i, s, changes.get(i.key)) for i, s in zip(items, stats, strict=True)]
    means = np.array([s.mean for s in stats], dtype=np.float64)

    element_keys = list(dict.fromkeys(i.element_key for i in items if i.element_key))
    role_titles = list(dict.fromkeys(i.role_title for i in items if i.role_title))
    element_index = {k: n for n, k in enumerate(element_keys)}
    membership = np.array([element_index.get(i.element_key, -1) for i in items], dtype=np.intp)
    element_means = readiness.group_means(means, membership, len(element_keys))
    first = {i.element_key: i for i in reversed(items) if i.element_key}
    elements = tuple(
        ScoreLine(k, first[k].element_title, _score(element_means[n]), first[k].role_title)
        for n, k in enumerate(element_keys)
    )
    role_of_element = np.array(
        [role_titles.index(first[k].role_title) for k in element_keys], dtype=np.intp
    )
    role_means = readiness.group_means(element_means, role_of_element, len(role_titles))
    roles = tuple(ScoreLine(t, t, _score(role_means[n])) for n, t in enumerate(role_titles))

    departments = {value: n for n, value in enumerate(Department.values)}
    groups = np.array([departments.get(r.department, -1) for r in submitted], dtype=np.intp)
    labels = [str(label) for label in Department.labels]
    breakdown = readiness.department_breakdown(matrix, groups, labels, k)
    breakdown = _suppressed_cells(breakdown, matrix, groups, labels, k)
    breakdown_rows = (
        tuple(
            (result, tuple(_score(v) for v in breakdown.means[:, n]))
            for n, result in enumerate(results)
        )
        if breakdown.labels
        else ()
    )
    return AuditResults(
        audit=audit,
        invited=len(respondents),
        submitted=len(submitted),
        response_rate=readiness.response_rate(len(submitted), len(respondents)),
        litmus=tuple(r for r in results if r.item.kind == ItemKind.LITMUS),
        responsibilities=tuple(r for r in results if r.item.kind == ItemKind.RESPONSIBILITY),
        elements=elements,
        roles=roles,
        weakest=tuple(results[i] for i in readiness.weakest(means, top=5)),
        disagreements=tuple(
            (results[d.item], d) for d in readiness.disagreements(stats, breakdown, top=5)
        ),
        breakdown=breakdown,
        breakdown_rows=breakdown_rows,
        k=k,
    )


def min_group_size(audit: Audit) -> int:
    """The audit's k: its own setting, never below its organisation's ``min_group_size``."""
    return max(audit.min_group_size, audit.organisation.min_group_size)


def _suppressed_cells(
    breakdown: readiness.Breakdown,
    matrix: np.ndarray,
    groups: np.ndarray,
    labels: list[str],
    k: int,
) -> readiness.Breakdown:
    """Blank (nan) each department × item mean resting on fewer than k answers, and more.

    The groups have k respondents or more, but "Don't know" can leave a group's mean on
    one item resting on fewer answers. Per item, the answers of the shown groups are
    the parts of the item's overall answers: :func:`anonymity.suppress_partition` hides
    the small cells and, where the hidden answers would number 1 to k - 1, the next
    smallest too, so that overall minus the shown groups never isolates fewer than k.
    """
    if not breakdown.labels:
        return breakdown
    row_of = {label: n for n, label in enumerate(breakdown.labels)}
    pooled = row_of.get(readiness.OTHER_DEPARTMENTS, len(breakdown.labels))
    member_row = np.array(
        [row_of.get(labels[g], pooled) if g >= 0 else pooled for g in groups], dtype=np.intp
    )
    answered = matrix >= readiness.POOR  # (R, I)
    one_hot = member_row[np.newaxis, :] == np.arange(len(breakdown.labels))[:, np.newaxis]
    parts = (one_hot.astype(np.int64) @ answered.astype(np.int64)).T  # (I, G)
    shown = anonymity.suppress_partition(parts, k, total=answered.sum(axis=0)).parts
    means = np.where(shown.T, breakdown.means, np.nan)
    means.setflags(write=False)
    return replace(breakdown, means=means)


def _withheld(audit: Audit, invited: int, submitted: int) -> AuditResults:
    """Show no score at all until at least k people have submitted: fewer could be named."""
    note = (
        f"Results appear once at least {min_group_size(audit)} respondents have submitted "
        f"({submitted} so far), so that no one's answers can be recognised."
    )
    empty = readiness.Breakdown((), (), np.empty((0, 0)), submitted, note)
    return AuditResults(
        audit=audit,
        invited=invited,
        submitted=submitted,
        response_rate=readiness.response_rate(submitted, invited),
        litmus=(),
        responsibilities=(),
        elements=(),
        roles=(),
        weakest=(),
        disagreements=(),
        breakdown=empty,
        breakdown_rows=(),
        withheld=True,
        k=min_group_size(audit),
    )


def _score(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class ElementReadiness:
    """How ready the company's side of a role element is, by its latest audit."""

    element_key: str
    score: float | None
    audit: Audit


def get_element_readiness(organisation: Organisation) -> dict[str, ElementReadiness]:
    """Readiness of each role element from the organisation's latest audit that covers it.

    Later capabilities show it beside a key account manager's gap: the gap may be
    the organisation's, not the person's.
    """
    found: dict[str, ElementReadiness] = {}
    audits = (
        Audit.objects.filter(organisation=organisation, scope="full")
        .select_related("organisation")
        .order_by("-created_at")
    )
    for audit in audits[:10]:
        results = get_audit_results(audit)
        if results.withheld:
            continue
        for line in results.elements:
            found.setdefault(line.key, ElementReadiness(line.key, line.score, audit))
    return found
