"""Scoped reads of role profiles and weighting exercises, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kamfit.domain import profiles as dp
from kamfit.domain import weighting
from kamfit.domain.errors import ValidationError
from kamfit.domain.framework import Kind, ProficiencyLevel
from kamfit.frameworks.models import Competency
from kamfit.frameworks.queries import ElementRows, VersionRows, get_scale, get_version_rows
from kamfit.profiles.models import (
    Method,
    Participant,
    ProfileElement,
    ProfileVersion,
    Requirement,
    WeightingExercise,
    WeightsOrigin,
)

__all__ = [
    "ExerciseResults",
    "ProfileDetail",
    "build_job_description",
    "get_exercise_results",
    "get_profile_detail",
    "paper_lines",
    "profile_lines",
    "weights_source",
]


@dataclass
class ProfileDetail:
    """A profile version with everything its pages show."""

    version: ProfileVersion
    rows: VersionRows
    scope: list[ElementRows]
    requirements: list[Requirement]  # included and removed, in position order
    scale: tuple[ProficiencyLevel, ...]
    available: list[Competency] = field(default_factory=list)  # catalogue entries not required

    @property
    def included(self) -> list[Requirement]:
        return [r for r in self.requirements if r.included]

    @property
    def removed(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.included]

    @property
    def scope_keys(self) -> set[str]:
        return {e.element.key for e in self.scope}

    @property
    def weight_total(self) -> float:
        return sum(r.weight for r in self.included)

    def level(self, number: int) -> ProficiencyLevel | None:
        return next((lvl for lvl in self.scale if lvl.level == number), None)

    @cached_property
    def _wordings(self) -> dict[int, list[str]]:
        found: dict[int, dict[str, None]] = {}
        for e in self.scope:
            for citation, competencies in e.citations:
                for c in competencies:
                    found.setdefault(c.pk, {})[citation.wording] = None
        return {pk: list(wordings) for pk, wordings in found.items()}

    def wordings(self, competency_id: int) -> list[str]:
        """The paper's wordings citing this competency at the elements in scope, each once."""
        return self._wordings.get(competency_id, [])


def get_profile_detail(version: ProfileVersion) -> ProfileDetail:
    """Load a profile version with its framework content: 8 queries whatever the size."""
    rows = get_version_rows(version.framework_version)
    in_scope = set(
        ProfileElement.objects.filter(version=version).values_list("element_id", flat=True)
    )
    scope = [e for e in rows.elements if e.element.pk in in_scope]
    by_id = {c.pk: c for c in rows.competencies}
    requirements = list(Requirement.objects.filter(version=version))
    for r in requirements:
        r.competency = by_id[r.competency_id]  # reuse the loaded catalogue: no extra query
    required = {r.competency_id for r in requirements}
    available = [c for c in rows.competencies if c.pk not in required]
    return ProfileDetail(
        version, rows, scope, requirements, get_scale(version.framework_version), available
    )


def weights_source(version: ProfileVersion) -> str:
    """Say in words where a version's weights came from."""
    note: dict[str, Any] = version.weights_note or {}
    if version.weights_origin == WeightsOrigin.EXERCISE:
        when = str(note.get("adopted_at", ""))[:10]
        who = note.get("adopted_by") or "someone"
        n = note.get("respondents", 0)
        w = note.get("kendalls_w")
        agreement = "" if w is None else f", Kendall's W {w:.2f}"
        return (
            f"Adopted from the weighting exercise “{note.get('exercise_title', '?')}” "
            f"({Method(note.get('method', 'points')).label}, {n} stakeholders{agreement}) "
            f"by {who} on {when}"
        )
    if version.weights_origin == WeightsOrigin.MANUAL:
        if note.get("exercise_title"):
            return (
                f"Adopted from the weighting exercise “{note['exercise_title']}”, "
                "then adjusted by hand"
            )
        return "Set by hand"
    return "Equal weights (the paper's unweighted list)"


def build_job_description(detail: ProfileDetail) -> dp.JobDescription:
    """The generated job description of a profile version (no query)."""
    version = detail.version
    fv = version.framework_version
    in_scope = {s.element.pk for s in detail.scope}
    roles_in_scope = [
        dp.JdRole(role.title, role.description, tuple(str(a) for a in role.aims))
        for role, elements in detail.rows.roles
        if any(e.element.pk in in_scope for e in elements)
    ]
    role_titles = {
        e.element.pk: role.title for role, elements in detail.rows.roles for e in elements
    }

    def items(bullets: list[Any]) -> tuple[dp.JdItem, ...]:
        return tuple(dp.JdItem(b.row.text, tuple(c.text for c in b.children)) for b in bullets)

    elements = tuple(
        dp.JdElement(
            e.element.label,
            e.element.title,
            role_titles[e.element.pk],
            items(e.kam),
            items(e.company),
        )
        for e in detail.scope
    )
    requirements = []
    for r in detail.included:
        level = detail.level(r.required_level)
        requirements.append(
            dp.JdRequirement(
                key=r.competency.key,
                name=r.competency.name,
                kind=Kind(r.competency.kind),
                required_level=r.required_level,
                level_name=level.name if level else "",
                level_description=level.description if level else "",
                weight=r.weight,
                wordings=tuple(detail.wordings(r.competency_id)),
            )
        )
    labels = {a.key: a.label for a in dp.ACTIVITY_AREAS}
    time = tuple((labels.get(k, k), float(v)) for k, v in (version.time_allocation or {}).items())
    return dp.JobDescription(
        title=version.title,
        profile_key=version.profile.key,
        version=version.number,
        status=version.status,
        framework_title=fv.title,
        framework_version=fv.number,
        citation=fv.citation,
        summary=version.summary,
        roles=tuple(roles_in_scope),
        elements=elements,
        requirements=tuple(requirements),
        time_allocation=time,
        selling_limit=version.selling_limit,
        weights_source=weights_source(version),
    )


def profile_lines(detail: ProfileDetail) -> tuple[dp.ProfileLine, ...]:
    """A profile's requirements as comparison sees them."""
    return tuple(
        dp.ProfileLine(
            r.competency.key, r.competency.name, Kind(r.competency.kind), r.required_level, r.weight
        )
        for r in detail.included
    )


def paper_lines(detail: ProfileDetail) -> tuple[dp.ProfileLine, ...]:
    """The paper's unweighted view of the same elements: every cited competency, equal."""
    cited = [
        (c.key, c.name, Kind(c.kind))
        for e in detail.scope
        for _, competencies in e.citations
        for c in competencies
    ]
    order = {c.pk: i for i, c in enumerate(detail.rows.competencies)}
    by_key = {c.key: c for c in detail.rows.competencies}
    cited.sort(key=lambda t: order[by_key[t[0]].pk])
    return dp.paper_view(cited)


@dataclass
class ExerciseResults:
    """An exercise's participants and, once someone submitted, its outcome."""

    exercise: WeightingExercise
    participants: list[Participant]
    submitted: list[Participant]
    outcome: weighting.ExerciseResult | None
    problems: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [item["key"] for item in self.exercise.items]

    @property
    def names(self) -> list[str]:
        return [item["name"] for item in self.exercise.items]

    @property
    def pair_count(self) -> int:
        if self.exercise.method != Method.AHP:
            return 0
        from kamfit.profiles.services import exercise_groups  # noqa: PLC0415 - cycle

        return weighting.ahp_pair_count(exercise_groups(self.exercise))


def get_exercise_results(exercise: WeightingExercise) -> ExerciseResults:
    """Compute an exercise's individual and consensus weights: one query for its answers."""
    from kamfit.profiles.services import answers_to_domain, exercise_groups  # noqa: PLC0415

    participants = list(
        Participant.objects.filter(exercise=exercise).select_related("user").order_by("id")
    )
    submitted = [p for p in participants if p.is_submitted]
    if not submitted:
        return ExerciseResults(exercise, participants, submitted, None)
    answers = [answers_to_domain(exercise, p.answers, check=False) for p in submitted]
    try:
        if exercise.method == Method.POINTS:
            outcome = weighting.points_exercise(answers, total=exercise.total_points)
        elif exercise.method == Method.RANKING:
            outcome = weighting.ranking_exercise(answers)
        else:
            outcome = weighting.ahp_exercise(
                len(exercise.items), exercise_groups(exercise), answers
            )
    except ValidationError as exc:  # pragma: no cover - answers were validated on submit
        return ExerciseResults(
            exercise, participants, submitted, None, [str(p) for p in exc.problems]
        )
    return ExerciseResults(exercise, participants, submitted, outcome)
