"""Read an assessment cycle as arrays, score it, and shape the results for pages.

:func:`load_cycle` reads a cycle in a fixed number of queries, whatever the number
of people, raters or ratings, lays the latest submitted ratings out rater-major
(slots × people × requirements) and hands them to :func:`kamfit.domain.scoring.score`.
Pages, the API, the CLI and reports all read results through here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery

from kamfit.assessments.models import (
    Assessee,
    Cycle,
    FormStatus,
    Person,
    PsychometricResult,
    Rater,
    Rating,
    RatingForm,
    Source,
)
from kamfit.audits.queries import ElementReadiness, get_element_readiness
from kamfit.domain import anonymity, development, scoring
from kamfit.domain.framework import ProficiencyLevel
from kamfit.frameworks.models import Citation
from kamfit.frameworks.queries import get_scale
from kamfit.profiles.models import Profile, ProfileElement, ProfileStatus, ProfileVersion
from kamfit.profiles.models import Requirement as ProfileRequirement

__all__ = [
    "WEAK_READINESS",
    "BenchLine",
    "Column",
    "CycleData",
    "Evidence",
    "PersonLine",
    "SourceCell",
    "bench_strength",
    "evidence_for",
    "latest_forms",
    "load_cycle",
    "person_lines",
    "rater_view",
]

SOURCE_CODE = {
    Source.SELF: scoring.SELF,
    Source.MANAGER: scoring.MANAGER,
    Source.PEER: scoring.PEER,
    Source.OTHER: scoring.OTHER,
}
ASSESSEE_FIELDS = (
    "cycle_id",
    "person_id",
    "released_at",
    "person__organisation_id",
    "person__reference",
    "person__name",
    "person__kind",
    "person__user_id",
    "person__manager_id",
    "person__profile_id",
    "person__background",
    "person__active",
)
# A role element whose company side scores below this in the latest readiness audit
# (0 = all Poor, 50 = all Fair, 100 = all Good) is shown beside a gap it may explain.
WEAK_READINESS = 50.0

Floats = npt.NDArray[np.float64]
# The label of peers and others pooled because one of the groups has fewer than 3 raters.
MERGED_LABEL = "Peers and others"


@dataclass(frozen=True)
class Column:
    """A requirement of the cycle's profile version: one column of every grid."""

    competency_id: int
    key: str
    name: str
    kind: str
    required: int
    weight: float
    elements: tuple[tuple[str, str], ...]  # (key, label) of role elements in scope citing it


@dataclass(frozen=True)
class CycleData:
    """A cycle's people, requirements, ratings as arrays, and their scores."""

    cycle: Cycle
    columns: tuple[Column, ...]
    assessees: tuple[Assessee, ...]
    scale: tuple[ProficiencyLevel, ...]
    rules: scoring.ScoringRules
    ratings: Floats  # (K, N, C)
    sources: npt.NDArray[np.int8]  # (K, N)
    invited: npt.NDArray[np.int32]  # (N,) raters asked
    submitted: npt.NDArray[np.int32]  # (N,) raters whose latest form is submitted
    psychometric: npt.NDArray[np.bool_]  # (N, C) the value came from a psychometric test
    scores: scoring.Scores
    readiness: dict[str, ElementReadiness]
    # (2, N, C) where the peer and other groups went (anonymity.SHOWN/MERGED/HIDDEN) in
    # ``ratings``; None: raw ratings, not yet through :func:`rater_view`.
    placement: npt.NDArray[np.int8] | None = None

    @cached_property
    def index(self) -> dict[int, int]:
        """Row of each person (by person id)."""
        return {a.person_id: i for i, a in enumerate(self.assessees)}

    @cached_property
    def bands(self) -> npt.NDArray[np.int8]:
        return scoring.band(self.scores, [c.kind for c in self.columns])

    def weak_elements(self, column: Column) -> tuple[tuple[str, float], ...]:
        """Role elements citing ``column`` whose company side is weak: (label, score)."""
        weak = []
        for key, label in column.elements:
            found = self.readiness.get(key)
            if found is not None and found.score is not None and found.score < WEAK_READINESS:
                weak.append((label, found.score))
        return tuple(weak)

    def make_or_buy(self) -> development.MakeOrBuy:
        return development.make_or_buy(
            self.scores.gaps,
            [c.key for c in self.columns],
            [c.name for c in self.columns],
            [c.kind for c in self.columns],
        )


def _columns(version: ProfileVersion) -> tuple[Column, ...]:
    requirements = list(
        ProfileRequirement.objects.filter(version=version, included=True)
        .select_related("competency")
        .order_by("position", "id")
    )
    scope = ProfileElement.objects.filter(version=version).values("element_id")
    cited: dict[int, dict[str, str]] = defaultdict(dict)
    links = (
        Citation.competencies.through.objects.filter(citation__element_id__in=scope)
        .order_by("citation__element__role__position", "citation__element__position")
        .values_list("competency_id", "citation__element__key", "citation__element__label")
    )
    for competency_id, key, label in links:
        cited[competency_id][key] = label
    return tuple(
        Column(
            competency_id=r.competency_id,
            key=r.competency.key,
            name=r.competency.name,
            kind=r.competency.kind,
            required=r.required_level,
            weight=r.weight,
            elements=tuple(cited[r.competency_id].items()),
        )
        for r in requirements
    )


def _array(rows: QuerySet[Any, tuple[Any, ...]], width: int) -> npt.NDArray[Any]:
    """The rows of a ``values_list`` query as a 2-D array, without building model rows."""
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # e.g. ``people=[]``: the ORM answers none without asking
        return np.empty((0, width), dtype=object)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return np.array(fetched, dtype=object).reshape(len(fetched), width)


def _slots(rows: npt.NDArray[np.intp], n: int) -> npt.NDArray[np.intp]:
    """Number each rater within their person: 0, 1, 2, … in rater order."""
    if not len(rows):
        return rows
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.searchsorted(sorted_rows, np.arange(n))
    slots = np.empty_like(rows)
    slots[order] = np.arange(len(rows)) - starts[sorted_rows]
    return slots


def latest_forms(cycle: Cycle, as_of: dt.datetime | None = None) -> Subquery:
    """A subquery: the number of each rater's latest form submitted (by ``as_of``)."""
    return Subquery(
        RatingForm.objects.filter(rater=OuterRef("form__rater"), status=FormStatus.SUBMITTED)
        .filter(**({"submitted_at__lte": as_of} if as_of else {}))
        .order_by("-number")
        .values("number")[:1]
    )


def _place_ratings(
    cycle: Cycle,
    raters_qs: QuerySet[Rater],
    rater_ids: npt.NDArray[np.int64],
    places: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]],
    *,
    columns: Sequence[Column],
    ratings: Floats,
    as_of: dt.datetime | None = None,
) -> npt.NDArray[np.int32]:
    """Put each rater's latest submitted levels into ``ratings``; count raters per person."""
    slot_of_rater, row_of_rater = places
    n, c = ratings.shape[1], ratings.shape[2]
    submitted = np.zeros(n, dtype=np.int32)
    found = _array(
        Rating.objects.filter(form__rater__assessee__cycle=cycle, form__status=FormStatus.SUBMITTED)
        .filter(**({"form__submitted_at__lte": as_of} if as_of else {}))
        .filter(form__rater_id__in=raters_qs.values("id"))
        .exclude(level__isnull=True)
        .order_by()  # the models' default orderings would sort 100,000s of rows for nothing
        .values_list("form__rater_id", "form__number", "competency_id", "level"),
        4,
    ).astype(np.int64)
    if len(found) and len(rater_ids):
        at = np.searchsorted(rater_ids, found[:, 0])  # rater ids are sorted
        latest = np.zeros(len(rater_ids), dtype=np.int64)
        np.maximum.at(latest, at, found[:, 1])
        keep = found[:, 1] == latest[at]  # only each rater's latest submitted version
        at, found = at[keep], found[keep]
        competency_ids = np.array([col.competency_id for col in columns], dtype=np.int64)
        corder = np.argsort(competency_ids)
        pos = np.searchsorted(competency_ids, found[:, 2], sorter=corder).clip(0, max(c - 1, 0))
        column = corder[pos] if c else pos
        known = competency_ids[column] == found[:, 2] if c else np.zeros(len(found), bool)
        ratings[slot_of_rater[at[known]], row_of_rater[at[known]], column[known]] = found[known, 3]
        answered = np.zeros(len(rater_ids), dtype=bool)
        answered[at] = True
        submitted = np.bincount(row_of_rater[answered], minlength=n).astype(np.int32)
    return submitted


@dataclass(frozen=True)
class _Arrays:
    ratings: Floats
    sources: npt.NDArray[np.int8]
    invited: npt.NDArray[np.int32]
    submitted: npt.NDArray[np.int32]
    psychometric: npt.NDArray[np.bool_]


def _read_arrays(
    cycle: Cycle,
    assessees: Sequence[Assessee],
    columns: Sequence[Column],
    scale: Sequence[ProficiencyLevel],
    *,
    people: Sequence[int] | None,
    as_of: dt.datetime | None = None,
) -> _Arrays:
    """Read the latest submitted ratings and psychometric levels, rater-major (3 queries).

    ``as_of`` leaves out forms submitted and psychometric results imported after it.
    """
    n, c = len(assessees), len(columns)
    raters_qs = Rater.objects.filter(assessee__cycle=cycle)
    if people is not None:
        raters_qs = raters_qs.filter(assessee__person_id__in=list(people))
    rater_rows = _array(raters_qs.order_by("id").values_list("id", "assessee_id", "source"), 3)
    rater_ids = rater_rows[:, 0].astype(np.int64)
    assessee_ids = np.array([a.pk for a in assessees], dtype=np.int64)
    order = np.argsort(assessee_ids)
    row_of_rater = order[
        np.searchsorted(assessee_ids, rater_rows[:, 1].astype(np.int64), sorter=order)
    ]
    slot_of_rater = _slots(row_of_rater, n)
    used = np.bincount(row_of_rater, minlength=n).astype(np.int32)
    psychometrics = _latest_psychometrics(cycle, assessees, columns, scale, as_of)
    k = int(used.max(initial=0)) + (1 if psychometrics else 0)
    ratings = np.full((k, n, c), np.nan)
    sources = np.full((k, n), scoring.EMPTY, dtype=np.int8)
    codes = np.array([SOURCE_CODE[Source(str(x))] for x in rater_rows[:, 2]], dtype=np.int8)
    sources[slot_of_rater, row_of_rater] = codes
    submitted = _place_ratings(
        cycle,
        raters_qs,
        rater_ids,
        (slot_of_rater, row_of_rater),
        columns=columns,
        ratings=ratings,
        as_of=as_of,
    )
    psychometric = np.zeros((n, c), dtype=bool)
    if psychometrics:
        sources[k - 1, :] = scoring.PSYCHOMETRIC
        index = {a.person_id: i for i, a in enumerate(assessees)}
        col_of_key = {col.key: j for j, col in enumerate(columns)}
        for (person_id, key), value in psychometrics.items():
            column = col_of_key.get(key)
            if column is not None and person_id in index:
                ratings[k - 1, index[person_id], column] = value
                psychometric[index[person_id], column] = True
    return _Arrays(ratings, sources, used, submitted, psychometric)


def _stamp(cycle: Cycle) -> str:
    """What a cycle's arrays were read from: changes whenever any of it changes (4 queries)."""
    parts = [
        Assessee.objects.filter(cycle=cycle).aggregate(n=Count("id"), m=Max("id")),
        Rater.objects.filter(assessee__cycle=cycle).aggregate(n=Count("id"), m=Max("id")),
        RatingForm.objects.filter(
            rater__assessee__cycle=cycle, status=FormStatus.SUBMITTED
        ).aggregate(n=Count("id"), m=Max("id"), t=Max("submitted_at")),
        PsychometricResult.objects.filter(person__assessments__cycle=cycle).aggregate(
            n=Count("id"), m=Max("id"), t=Max("imported_at")
        ),
    ]
    text = f"{cycle.pk}|{cycle.created_at.isoformat()}|" + "|".join(
        ":".join(str(v) for v in p.values()) for p in parts
    )
    return hashlib.sha256(text.encode()).hexdigest()


SNAPSHOT_SECONDS = 3600


def _cached_arrays(
    cycle: Cycle,
    assessees: Sequence[Assessee],
    columns: Sequence[Column],
    scale: Sequence[ProficiencyLevel],
) -> _Arrays:
    """The arrays from the cache if nothing changed since they were read, else read them.

    The cache (Django's, in memory by default) is keyed by :func:`_stamp`: any submitted
    form, rater, person or psychometric result added or removed gives a new key, so a
    stale entry is never read, only left to expire. A page view never writes to the
    database.
    """
    key = f"kamfit:cycle-arrays:{_stamp(cycle)}"
    ids = np.array([a.pk for a in assessees], dtype=np.int64)
    stored = cache.get(key)
    if stored is not None:
        with np.load(io.BytesIO(stored)) as found:
            if np.array_equal(found["ids"], ids) and found["ratings"].shape[2] == len(columns):
                return _Arrays(
                    found["ratings"],
                    found["sources"],
                    found["invited"],
                    found["submitted"],
                    found["psychometric"],
                )
    arrays = _read_arrays(cycle, assessees, columns, scale, people=None, as_of=cycle.closed_at)
    buffer = io.BytesIO()
    np.savez(buffer, ids=ids, **arrays.__dict__)
    cache.set(key, buffer.getvalue(), SNAPSHOT_SECONDS)
    return arrays


def load_cycle(
    cycle: Cycle, *, people: Sequence[int] | None = None, as_of: dt.datetime | None = None
) -> CycleData:
    """Read and score a cycle (optionally only some people, by person id).

    A fixed number of queries whatever the size: the whole cycle's arrays come from
    the cache while nothing changed (:func:`_cached_arrays`), else are read in three
    queries. Scores are always computed afresh (numpy) with the cycle's rules.

    ``as_of`` reads the cycle as it stood then: forms submitted and psychometric results
    imported later are left out. A released result is shown to the person as at its
    release; a closed cycle is always read as at its closing.
    """
    version = cycle.profile_version
    columns = _columns(version)
    scale = get_scale(version.framework_version)
    rules = scoring.rules_from_dict(cycle.rules) if cycle.rules else scoring.DEFAULT_RULES
    assessees_qs = (
        Assessee.objects.filter(cycle=cycle)
        .select_related("person")
        .only(*ASSESSEE_FIELDS)  # thousands of rows: no timestamps to convert
    )
    if people is not None:
        assessees_qs = assessees_qs.filter(person_id__in=list(people))
    assessees = tuple(assessees_qs.order_by("person__name", "person_id"))
    if cycle.closed_at is not None:  # a closed cycle's results never change
        as_of = min(as_of, cycle.closed_at) if as_of else cycle.closed_at
    if people is None and (as_of is None or as_of == cycle.closed_at):
        arrays = _cached_arrays(cycle, assessees, columns, scale)
    else:
        arrays = _read_arrays(cycle, assessees, columns, scale, people=people, as_of=as_of)
    # Only rater groups of 3 or more count, for everyone: see :func:`_anonymise`.
    ratings, sources, placement = _anonymise(arrays.ratings, arrays.sources.astype(np.int8))
    scores = scoring.score(
        ratings,
        sources,
        np.array([col.required for col in columns], dtype=np.float64),
        np.array([col.weight for col in columns], dtype=np.float64),
        rules,
    )
    return CycleData(
        cycle=cycle,
        columns=columns,
        assessees=assessees,
        scale=scale,
        rules=rules,
        ratings=ratings,
        sources=sources,
        invited=arrays.invited,
        submitted=arrays.submitted,
        psychometric=arrays.psychometric,
        scores=scores,
        readiness=get_element_readiness(cycle.organisation),
        placement=placement,
    )


def _anonymise(
    x: Floats, codes: npt.NDArray[np.int8]
) -> tuple[Floats, npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Rearrange ratings so that only rater groups of 3 or more count: ratings, sources, placement.

    Per person and requirement, :func:`kamfit.domain.anonymity.rater_groups` places the
    peer and "other" groups (k = 3, whatever the cycle's ``min_peers``): shown alone,
    pooled as "others", or hidden. Pooled peers' ratings move to extra "other" slots,
    hidden ratings are dropped; the line manager (attributed), self and psychometric
    results do not move.
    """
    anonymous = (scoring.PEER, scoring.OTHER)
    rated = ~np.isnan(x)
    counts = np.stack([(rated & (codes == g)[:, :, np.newaxis]).sum(axis=0) for g in anonymous])
    placement = anonymity.rater_groups(counts, anonymity.RATER_GROUP_K)
    peer_slot = (codes == scoring.PEER)[:, :, np.newaxis]
    other_slot = (codes == scoring.OTHER)[:, :, np.newaxis]
    peer_at, other_at = placement[0][np.newaxis], placement[1][np.newaxis]
    keep = ~(peer_slot | other_slot) | (peer_slot & (peer_at == anonymity.SHOWN))
    keep |= other_slot & (other_at != anonymity.HIDDEN)
    moved = peer_slot & (peer_at == anonymity.MERGED) & rated
    extra = np.flatnonzero(moved.any(axis=(1, 2)))  # only slots with pooled peer ratings
    ratings = np.concatenate([np.where(keep, x, np.nan), np.where(moved, x, np.nan)[extra]])
    pooled = np.where(codes[extra] == scoring.PEER, scoring.OTHER, scoring.EMPTY)
    sources = np.concatenate([codes, pooled.astype(np.int8)])
    return ratings, sources, placement


def rater_view(data: CycleData) -> CycleData:
    """The cycle with only rater groups of 3 or more counting (as :func:`load_cycle` reads it).

    The combined level, the gaps, the fit and the band are computed from the shown groups
    only, so nothing shown can be subtracted from another figure to give a hidden group
    away, and HR, the person and their manager read the same level. Data that is
    already so (``placement`` set) is returned as it is.
    """
    if data.placement is not None:
        return data
    ratings, sources, placement = _anonymise(data.ratings, data.sources.astype(np.int8))
    scores = scoring.score(
        ratings,
        sources,
        np.array([col.required for col in data.columns], dtype=np.float64),
        np.array([col.weight for col in data.columns], dtype=np.float64),
        data.rules,
    )
    return replace(data, ratings=ratings, sources=sources, scores=scores, placement=placement)


def _latest_psychometrics(
    cycle: Cycle,
    assessees: Sequence[Assessee],
    columns: Sequence[Column],
    scale: Sequence[ProficiencyLevel],
    as_of: dt.datetime | None,
) -> dict[tuple[int, str], float]:
    """The latest psychometric result per (person, attribute) imported by ``as_of``, as a level."""
    keys = [c.key for c in columns if c.kind in {"A", "C/A"}]
    if not keys or not assessees:
        return {}
    found: dict[tuple[int, str], float] = {}
    people = [a.person_id for a in assessees]
    results = (
        PsychometricResult.objects.filter(attribute_key__in=keys)
        .filter(
            person__assessments__cycle=cycle,
            **({"person_id__in": people} if len(people) < 100 else {}),
        )
        .filter(**({"imported_at__lte": as_of} if as_of else {}))
        .order_by("person_id", "attribute_key", "-assessed_on", "-id")
        .values_list("person_id", "attribute_key", "sten")
    )
    for person_id, key, sten in results:
        if (person_id, key) not in found:
            found[person_id, key] = scoring.psychometric_level(sten, "sten", len(scale))
    return found


# --- one person -------------------------------------------------------------------


@dataclass(frozen=True)
class SourceCell:
    """What one source said about one requirement."""

    source: str
    label: str
    mean: float | None
    count: int
    counted: bool  # part of the combined score


@dataclass(frozen=True)
class PersonLine:
    """One requirement of one person's result."""

    column: Column
    combined: float | None
    gap: float | None
    self_rating: float | None
    others: float | None
    blind_spot: bool
    hidden_strength: bool
    psychometric: bool
    sources: tuple[SourceCell, ...]
    weak_elements: tuple[tuple[str, float], ...]

    @property
    def short(self) -> bool:
        return self.gap is not None and self.gap < 0


def _value(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def person_lines(data: CycleData, row: int, *, private: bool = False) -> tuple[PersonLine, ...]:
    """The per-requirement lines of the person in ``row`` of ``data``.

    ``private`` (the person and their manager reading): the data must come from
    :func:`rater_view` (it is made so if not): peers and others are shown only as groups
    of at least 3, a pooled group is labelled "Peers and others", and a hidden group is
    not listed at all.
    """
    if private and data.placement is None:
        data = rater_view(data)
    s = data.scores
    names = dict(Source.choices) | {"psychometric": "Psychometric test"}
    k = anonymity.RATER_GROUP_K
    lines = []
    for j, column in enumerate(data.columns):
        cells = []
        for code, source in enumerate(scoring.SOURCES):
            count = int(s.source_counts[code, row, j])
            mean = _value(s.source_means[code, row, j])
            if count == 0:
                continue
            counted = mean is not None and (code != scoring.SELF or data.rules.include_self)
            if data.rules.source_weights.get(source, 1.0) == 0:
                counted = False
            label = names[source]
            if private and code in {scoring.PEER, scoring.OTHER} and count < k:
                continue  # never shown: rater_view pools or drops such a group
            pooled = data.placement is not None and data.placement[0, row, j] == anonymity.MERGED
            if code == scoring.OTHER and pooled:
                label = MERGED_LABEL
            cells.append(SourceCell(source, label, mean, count, counted))
        lines.append(
            PersonLine(
                column=column,
                combined=_value(s.combined[row, j]),
                gap=_value(s.gaps[row, j]),
                self_rating=_value(s.source_means[scoring.SELF, row, j]),
                others=_value(s.others[row, j]),
                blind_spot=bool(s.blind_spots[row, j]),
                hidden_strength=bool(s.hidden_strengths[row, j]),
                psychometric=bool(data.psychometric[row, j]),
                sources=tuple(cells),
                weak_elements=data.weak_elements(column),
            )
        )
    return tuple(lines)


@dataclass(frozen=True)
class Evidence:
    """A rater's evidence for one requirement; peers and others stay anonymous."""

    competency_id: int
    source: str
    source_label: str
    rater: str  # empty for peers and others
    level: int | None
    text: str


def evidence_for(
    assessee: Assessee,
    *,
    named: bool,
    as_of: dt.datetime | None = None,
    view: CycleData | None = None,
) -> dict[int, list[Evidence]]:
    """Evidence of the latest submitted forms about one person, by competency id.

    ``named`` shows self and manager raters by name (peers and others never are).
    Without ``named``, a peer's or other's evidence is shown only under a group the
    person may see: ``view`` (from :func:`rater_view`) says per requirement which groups
    are shown, pooled ("Peers and others") or hidden; without it, a group rated by
    fewer than 3 (or the cycle's ``min_peers``, if higher) is left out. One rater's
    words must not be readable as theirs. ``as_of`` as in :func:`load_cycle`.
    """
    labels = dict(Source.choices)
    cycle = assessee.cycle
    if cycle.closed_at is not None:
        as_of = min(as_of, cycle.closed_at) if as_of else cycle.closed_at
    min_peers = (
        scoring.rules_from_dict(cycle.rules) if cycle.rules else scoring.DEFAULT_RULES
    ).min_peers
    rows = list(
        Rating.objects.filter(form__rater__assessee=assessee)
        .filter(form__status=FormStatus.SUBMITTED, form__number=latest_forms(cycle, as_of))
        .exclude(evidence="")
        .order_by("form__rater__source", "form__rater_id")
        .values_list(
            "competency_id",
            "form__rater__source",
            "form__rater__user__username",
            "level",
            "evidence",
        )
    )
    least = max(min_peers, anonymity.RATER_GROUP_K)
    rated = Counter((r[0], r[1]) for r in rows if r[3] is not None)
    found: dict[int, list[Evidence]] = defaultdict(list)
    for competency_id, source, username, level, text in rows:
        label = labels[source]
        if not named and source in {Source.PEER, Source.OTHER}:
            place = _placement(view, assessee.person_id, competency_id, source)
            if place is None and rated[competency_id, source] < least:
                continue
            if place == anonymity.HIDDEN:
                continue
            if place == anonymity.MERGED:
                label = MERGED_LABEL
        show = named and source in {Source.SELF, Source.MANAGER}
        # A peer's or other's level beside their words could give their rating away.
        anonymous = not named and source in {Source.PEER, Source.OTHER}
        found[competency_id].append(
            Evidence(
                competency_id,
                source,
                label,
                username if show else "",
                None if anonymous else level,
                text,
            )
        )
    return found


def _placement(
    view: CycleData | None, person_id: int, competency_id: int, source: str
) -> int | None:
    """Where :func:`rater_view` put a group of one person and requirement; None: unknown."""
    if view is None or view.placement is None or person_id not in view.index:
        return None
    columns = [j for j, c in enumerate(view.columns) if c.competency_id == competency_id]
    if not columns:
        return int(anonymity.HIDDEN)  # not a requirement of the profile: nothing to show
    group = 0 if source == Source.PEER else 1
    return int(view.placement[group, view.index[person_id], columns[0]])


# --- bench strength -----------------------------------------------------------------


@dataclass(frozen=True)
class BenchLine:
    """How ready the cycle's people are for one published role profile."""

    profile: Profile
    version: ProfileVersion
    counts: dict[int, int]  # band -> people
    ready: tuple[tuple[Person, float], ...]  # "ready now", best fit first
    developing: tuple[tuple[Person, float], ...]
    fits: Floats
    bands: npt.NDArray[np.int8]

    @property
    def too_little_evidence(self) -> int:
        return self.counts.get(-1, 0)


def bench_strength(data: CycleData) -> tuple[BenchLine, ...]:
    """Each published profile of the organisation scored from this cycle's results.

    A person's combined level per competency (matched by key) is scored against the
    other profile's required levels and weights; requirements this cycle did not
    assess count as missing evidence (coverage), never as zero.
    """
    versions = list(
        ProfileVersion.objects.filter(
            profile__organisation=data.cycle.organisation, status=ProfileStatus.PUBLISHED
        )
        .select_related("profile")
        .order_by("profile_id", "-number")
    )
    latest: dict[int, ProfileVersion] = {}
    for version in versions:
        latest.setdefault(version.profile_id, version)
    requirements: dict[int, list[tuple[str, str, int, float]]] = defaultdict(list)
    for version_id, key, kind, level, weight in (
        ProfileRequirement.objects.filter(version__in=list(latest.values()), included=True)
        .order_by("position", "id")
        .values_list(
            "version_id", "competency__key", "competency__kind", "required_level", "weight"
        )
    ):
        requirements[version_id].append((key, kind, level, weight))
    combined = data.scores.combined
    col_of = {c.key: j for j, c in enumerate(data.columns)}
    lines = []
    for version in sorted(latest.values(), key=lambda v: v.profile.title):
        reqs = requirements[version.pk]
        if not reqs or not data.assessees:
            continue
        ratings = np.full((1, len(data.assessees), len(reqs)), np.nan)
        for j, (key, _kind, _level, _weight) in enumerate(reqs):
            if key in col_of:
                ratings[0, :, j] = combined[:, col_of[key]]
        scores = scoring.score(
            ratings,
            np.full((1, len(data.assessees)), scoring.MANAGER, dtype=np.int8),
            np.array([r[2] for r in reqs], dtype=np.float64),
            np.array([r[3] for r in reqs], dtype=np.float64),
            scoring.DEFAULT_RULES,
        )
        bands = scoring.band(scores, [r[1] for r in reqs])
        order = np.argsort(-np.nan_to_num(scores.fit, nan=-1.0), kind="stable")
        # Only the people of the two lists in Python: everyone would be 100,000s of rows.
        ranked = {
            band: tuple(
                (data.assessees[i].person, float(scores.fit[i]))
                for i in order[bands[order] == band]
            )
            for band in (1, 2)
        }
        lines.append(
            BenchLine(
                profile=version.profile,
                version=version,
                counts={b: int((bands == b).sum()) for b in scoring.BANDS},
                ready=ranked[2],
                developing=ranked[1],
                fits=scores.fit,
                bands=bands,
            )
        )
    return tuple(lines)
