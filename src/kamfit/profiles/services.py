"""Changes to role profiles and weighting exercises: every write goes through here.

Views, the API and the CLI call these functions with objects they obtained through
:mod:`kamfit.orgs.access`; bad input raises :class:`~kamfit.domain.errors.ValidationError`
naming the field, and an action the state forbids raises
:class:`~kamfit.domain.errors.NotPermitted`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kamfit.domain import weighting
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.domain.profiles import ACTIVITY_AREAS, check_time_allocation
from kamfit.frameworks.models import Competency, FrameworkVersion, RoleElement
from kamfit.frameworks.queries import get_scale, get_version_rows
from kamfit.frameworks.services import unique_key
from kamfit.orgs.models import Organisation
from kamfit.profiles.models import (
    ExerciseStatus,
    Function,
    Method,
    Origin,
    Participant,
    ParticipantStatus,
    Profile,
    ProfileElement,
    ProfileStatus,
    ProfileVersion,
    Requirement,
    WeightingExercise,
    WeightsOrigin,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "WEIGHT_TOLERANCE",
    "add_requirement",
    "adopt_consensus",
    "close_exercise",
    "create_profile",
    "equalise_weights",
    "invite_participants",
    "move_to_framework_version",
    "open_exercise",
    "publish_version",
    "remove_participant",
    "remove_requirement",
    "save_answers",
    "set_scope",
    "set_time_allocation",
    "start_new_draft",
    "update_details",
    "update_requirements",
]

# Weights are percentages; a hand-entered set may be off by rounding this much.
WEIGHT_TOLERANCE = 0.05
MAX_TITLE = 200


def _invalid(location: str, message: str) -> ValidationError:
    return ValidationError([Problem(location, message)])


def _require_draft(version: ProfileVersion) -> None:
    if version.status != ProfileStatus.DRAFT:
        raise NotPermitted("A published profile version never changes: start a new draft.")


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise _invalid("title", "a title is needed")
    if len(title) > MAX_TITLE:
        raise _invalid("title", f"at most {MAX_TITLE} characters, not {len(title)}")
    return title


def _elements_by_key(version: FrameworkVersion, keys: Iterable[str]) -> list[RoleElement]:
    wanted = list(dict.fromkeys(k.strip() for k in keys if k.strip()))
    if not wanted:
        raise _invalid("elements", "choose at least one role element in scope")
    found = {
        e.key: e
        for e in RoleElement.objects.filter(version=version, key__in=wanted).select_related("role")
    }
    unknown = [k for k in wanted if k not in found]
    if unknown:
        raise _invalid(
            "elements", f"not role elements of {version.title} v{version.number}: {unknown}"
        )
    return sorted(found.values(), key=lambda e: (e.role.position, e.position, e.pk))


def _cited_competencies(version: FrameworkVersion, element_ids: set[int]) -> list[Competency]:
    """Competencies cited at the given elements, in catalogue order, each once."""
    rows = get_version_rows(version)
    cited: set[int] = set()
    for e in rows.elements:
        if e.element.pk in element_ids:
            for _, competencies in e.citations:
                cited.update(c.pk for c in competencies)
    return [c for c in rows.competencies if c.pk in cited]


def _equal_weights(n: int) -> list[float]:
    """n percentages summing to exactly 100 when rounded to 2 decimals."""
    if n == 0:
        return []
    base = math.floor(10000 / n) / 100
    weights = [base] * n
    weights[0] = round(100 - base * (n - 1), 2)
    return weights


def _reweigh(version: ProfileVersion, requirements: list[Requirement]) -> None:
    """Keep included weights summing to 100 after the set of requirements changed."""
    included = [r for r in requirements if r.included]
    before = {r.pk: r.weight for r in included}
    if version.weights_origin == WeightsOrigin.EQUAL or not included:
        for r, w in zip(included, _equal_weights(len(included)), strict=True):
            r.weight = w
    else:
        total = sum(r.weight for r in included)
        if total <= 0:
            for r, w in zip(included, _equal_weights(len(included)), strict=True):
                r.weight = w
        else:
            for r in included:
                r.weight = round(r.weight * 100 / total, 4)
        changed = any(abs(r.weight - before.get(r.pk, -1.0)) > 1e-6 for r in included)
        if changed and version.weights_origin == WeightsOrigin.EXERCISE:
            version.weights_note = {**version.weights_note, "adjusted": True}
            version.weights_origin = WeightsOrigin.MANUAL
            version.save(update_fields=["weights_origin", "weights_note"])
    for r in requirements:
        if not r.included:
            r.weight = 0.0
    Requirement.objects.bulk_update(requirements, ["weight"])


def _default_level(version: FrameworkVersion) -> int:
    scale = get_scale(version)
    return scale[len(scale) // 2].level


@transaction.atomic
def create_profile(
    *,
    organisation: Organisation,
    user: User | None,
    framework_version: FrameworkVersion,
    title: str,
    element_keys: Iterable[str],
    summary: str = "",
) -> ProfileVersion:
    """Create a profile and its draft version 1 on a published framework version.

    The competencies cited at the chosen elements become the requirements, at the
    middle level of the framework's scale, with equal weights; the time allocation
    starts from kamfit's default split (10% selling).
    """
    if not framework_version.is_published:
        raise _invalid("framework_version", "a profile is built on a published framework version")
    org_id = framework_version.framework.organisation_id
    if org_id not in (None, organisation.pk):
        raise _invalid("framework_version", "not a framework of this organisation")
    title = _clean_title(title)
    elements = _elements_by_key(framework_version, element_keys)
    profile = Profile.objects.create(
        organisation=organisation,
        key=unique_key(
            title,
            set(Profile.objects.filter(organisation=organisation).values_list("key", flat=True)),
            fallback="profile",
        ),
        title=title,
        created_by=user,
    )
    version = ProfileVersion.objects.create(
        profile=profile,
        number=1,
        framework_version=framework_version,
        title=title,
        summary=summary.strip(),
        time_allocation={a.key: a.default_percent for a in ACTIVITY_AREAS},
        created_by=user,
    )
    ProfileElement.objects.bulk_create(ProfileElement(version=version, element=e) for e in elements)
    level = _default_level(framework_version)
    competencies = _cited_competencies(framework_version, {e.pk for e in elements})
    requirements = [
        Requirement(version=version, competency=c, position=i, required_level=level)
        for i, c in enumerate(competencies)
    ]
    Requirement.objects.bulk_create(requirements)
    _reweigh(version, requirements)
    return version


@transaction.atomic
def set_scope(version: ProfileVersion, element_keys: Iterable[str]) -> list[str]:
    """Change the role elements in scope; requirements follow. Return messages on the change.

    Competencies newly cited join (at the middle level); those no longer cited at any
    element in scope leave unless they were added by hand; ones removed by hand stay
    removed.
    """
    _require_draft(version)
    fv = version.framework_version
    elements = _elements_by_key(fv, element_keys)
    ProfileElement.objects.filter(version=version).delete()
    ProfileElement.objects.bulk_create(ProfileElement(version=version, element=e) for e in elements)
    cited = _cited_competencies(fv, {e.pk for e in elements})
    cited_ids = {c.pk for c in cited}
    existing = {r.competency_id: r for r in Requirement.objects.filter(version=version)}
    gone = [
        r
        for r in existing.values()
        if r.origin == Origin.ELEMENT and r.competency_id not in cited_ids
    ]
    Requirement.objects.filter(pk__in=[r.pk for r in gone]).delete()
    level = _default_level(fv)
    start = max((r.position for r in existing.values()), default=-1) + 1
    new = [
        Requirement(version=version, competency=c, position=start + i, required_level=level)
        for i, c in enumerate(c for c in cited if c.pk not in existing)
    ]
    Requirement.objects.bulk_create(new)
    requirements = list(Requirement.objects.filter(version=version))
    _reweigh(version, requirements)
    notes = []
    if new:
        notes.append(
            f"{len(new)} requirement(s) joined: " + ", ".join(c.competency.name for c in new)
        )
    if gone:
        notes.append(f"{len(gone)} requirement(s) left as no element in scope cites them")
    if (new or gone) and version.weights_origin != WeightsOrigin.EQUAL:
        notes.append("weights were rescaled to sum to 100: review them")
    return notes


def _requirement(version: ProfileVersion, competency_key: str) -> Requirement | None:
    return (
        Requirement.objects.filter(version=version, competency__key=competency_key)
        .select_related("competency")
        .first()
    )


@transaction.atomic
def add_requirement(version: ProfileVersion, competency_key: str) -> Requirement:
    """Add a catalogue competency the elements in scope do not cite (or restore a removed one)."""
    _require_draft(version)
    existing = _requirement(version, competency_key)
    if existing is not None and existing.included:
        raise _invalid("competency", f"{existing.competency.name} is already required")
    if existing is None:
        competency = Competency.objects.filter(
            version=version.framework_version, key=competency_key
        ).first()
        if competency is None:
            raise _invalid("competency", f"no competency {competency_key!r} in this framework")
        position = (
            max(
                Requirement.objects.filter(version=version).values_list("position", flat=True),
                default=-1,
            )
            + 1
        )
        existing = Requirement.objects.create(
            version=version,
            competency=competency,
            position=position,
            origin=Origin.ADDED,
            required_level=_default_level(version.framework_version),
        )
    else:
        existing.included = True
        existing.save(update_fields=["included"])
    _reweigh(version, list(Requirement.objects.filter(version=version)))
    return existing


@transaction.atomic
def remove_requirement(version: ProfileVersion, competency_key: str) -> None:
    """Remove a requirement; one that follows from the elements stays removed."""
    _require_draft(version)
    requirement = _requirement(version, competency_key)
    if requirement is None or not requirement.included:
        raise _invalid("competency", f"{competency_key!r} is not a requirement of this profile")
    if Requirement.objects.filter(version=version, included=True).count() == 1:
        raise _invalid("competency", "a profile needs at least one requirement")
    if requirement.origin == Origin.ADDED:
        requirement.delete()
    else:
        requirement.included = False
        requirement.save(update_fields=["included"])
    _reweigh(version, list(Requirement.objects.filter(version=version)))


def _number(value: object, location: str) -> float:
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise _invalid(location, f"a number is needed, not {value!r}") from None
    if not math.isfinite(number):
        raise _invalid(location, f"a finite number is needed, not {value!r}")
    return number


@transaction.atomic
def update_requirements(
    version: ProfileVersion, changes: Mapping[str, tuple[object, object]]
) -> None:
    """Set required level and weight (percent) per competency key, all at once.

    Every included requirement must be given; the weights must sum to 100 and every
    level must be on the framework's scale. Nothing is saved unless all of it holds.
    """
    _require_draft(version)
    requirements = list(
        Requirement.objects.filter(version=version, included=True).select_related("competency")
    )
    levels = {lvl.level for lvl in get_scale(version.framework_version)}
    problems: list[Problem] = []
    missing = [r.competency.key for r in requirements if r.competency.key not in changes]
    if missing:
        problems.append(Problem("requirements", f"level and weight missing for {missing}"))
    known = {r.competency.key for r in requirements}
    problems += [
        Problem(f"requirements.{k}", "not a requirement of this profile")
        for k in changes
        if k not in known
    ]
    total = 0.0
    before = {r.pk: r.weight for r in requirements}
    for r in requirements:
        if r.competency.key not in changes:
            continue
        raw_level, raw_weight = changes[r.competency.key]
        try:
            level = int(str(raw_level))
            if level not in levels:
                raise ValueError
            r.required_level = level
        except ValueError:
            problems.append(
                Problem(
                    f"requirements.{r.competency.key}.level",
                    f"must be one of {sorted(levels)}, not {raw_level!r}",
                )
            )
        try:
            weight = _number(raw_weight, f"requirements.{r.competency.key}.weight")
        except ValidationError as exc:
            problems += exc.problems
            continue
        if not 0 <= weight <= 100:
            problems.append(
                Problem(
                    f"requirements.{r.competency.key}.weight",
                    f"must be between 0 and 100, not {weight:g}",
                )
            )
        r.weight = weight
        total += weight
    if not problems and abs(total - 100) > WEIGHT_TOLERANCE:
        problems.append(Problem("weights", f"weights sum to {total:g}, not 100"))
    if problems:
        raise ValidationError(problems)
    Requirement.objects.bulk_update(requirements, ["required_level", "weight"])
    if any(abs(r.weight - before[r.pk]) > 1e-9 for r in requirements):
        # Weights changed by hand: say so, but keep the record of an adopted exercise.
        if version.weights_origin == WeightsOrigin.EXERCISE:
            version.weights_note = {**version.weights_note, "adjusted": True}
        elif version.weights_origin == WeightsOrigin.EQUAL:
            version.weights_note = {}
        version.weights_origin = WeightsOrigin.MANUAL
        version.save(update_fields=["weights_origin", "weights_note"])


@transaction.atomic
def equalise_weights(version: ProfileVersion) -> None:
    """Give every included requirement the same weight (the paper's unweighted list)."""
    _require_draft(version)
    version.weights_origin = WeightsOrigin.EQUAL
    version.weights_note = {}
    version.save(update_fields=["weights_origin", "weights_note"])
    _reweigh(version, list(Requirement.objects.filter(version=version)))


def update_details(
    version: ProfileVersion, *, title: str, summary: str = "", note: str = ""
) -> None:
    """Rename a draft and change its summary and change note."""
    _require_draft(version)
    version.title = _clean_title(title)
    summary = summary.strip()
    if len(summary) > 4000:
        raise _invalid("summary", f"at most 4000 characters, not {len(summary)}")
    if len(note) > 300:
        raise _invalid("note", f"at most 300 characters, not {len(note)}")
    version.summary, version.note = summary, note.strip()
    version.save(update_fields=["title", "summary", "note"])


def set_time_allocation(
    version: ProfileVersion, shares: Mapping[str, object], *, selling_limit: object = None
) -> list[str]:
    """Record the intended split of the role's time; return warnings (selling above limit)."""
    _require_draft(version)
    numbers = {key: _number(v, f"time_allocation.{key}") for key, v in shares.items()}
    limit = (
        version.selling_limit
        if selling_limit in (None, "")
        else _number(selling_limit, "selling_limit")
    )
    if not 0 <= limit <= 100:
        raise _invalid("selling_limit", f"must be between 0 and 100, not {limit:g}")
    check = check_time_allocation(numbers, selling_limit=limit)
    version.time_allocation = dict(check.shares)
    version.selling_limit = limit
    version.save(update_fields=["time_allocation", "selling_limit"])
    return list(check.warnings)


def _check_publishable(version: ProfileVersion) -> None:
    included = list(Requirement.objects.filter(version=version, included=True))
    problems = []
    if not included:
        problems.append(Problem("requirements", "a profile needs at least one requirement"))
    total = sum(r.weight for r in included)
    if included and abs(total - 100) > WEIGHT_TOLERANCE:
        problems.append(Problem("weights", f"weights sum to {total:g}, not 100"))
    if not ProfileElement.objects.filter(version=version).exists():
        problems.append(Problem("elements", "choose at least one role element in scope"))
    if version.time_allocation:
        try:
            check_time_allocation(version.time_allocation, selling_limit=version.selling_limit)
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def publish_version(version: ProfileVersion, user: User | None) -> None:
    """Publish a draft: from now on it never changes and assessments may use it."""
    version = ProfileVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    _check_publishable(version)
    version.status = ProfileStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = user
    version.save(update_fields=["status", "published_at", "published_by"])
    Profile.objects.filter(pk=version.profile_id).update(title=version.title)


@transaction.atomic
def start_new_draft(profile: Profile, user: User | None) -> ProfileVersion:
    """Start draft n+1 from the latest version; return the existing draft if there is one."""
    draft = ProfileVersion.objects.filter(profile=profile, status=ProfileStatus.DRAFT).first()
    if draft is not None:
        return draft
    latest = ProfileVersion.objects.filter(profile=profile).order_by("-number").first()
    if latest is None:
        raise NotPermitted("This profile has no version to start from.")
    try:
        with transaction.atomic():
            new = ProfileVersion.objects.create(
                profile=profile,
                number=latest.number + 1,
                framework_version=latest.framework_version,
                title=latest.title,
                summary=latest.summary,
                time_allocation=latest.time_allocation,
                selling_limit=latest.selling_limit,
                weights_origin=latest.weights_origin,
                weights_note=latest.weights_note,
                created_by=user,
            )
    except IntegrityError:  # another request started the draft meanwhile
        return ProfileVersion.objects.get(profile=profile, status=ProfileStatus.DRAFT)
    ProfileElement.objects.bulk_create(
        ProfileElement(version=new, element_id=pe.element_id)
        for pe in ProfileElement.objects.filter(version=latest)
    )
    Requirement.objects.bulk_create(
        Requirement(
            version=new,
            competency_id=r.competency_id,
            position=r.position,
            origin=r.origin,
            included=r.included,
            required_level=r.required_level,
            weight=r.weight,
        )
        for r in Requirement.objects.filter(version=latest)
    )
    return new


@transaction.atomic
def move_to_framework_version(version: ProfileVersion, target: FrameworkVersion) -> list[str]:
    """Move a draft onto a newer published version of its framework; return what changed.

    Elements and competencies are matched by key. Elements the new version lacks leave
    the scope; requirements whose competency it lacks leave the profile; levels and
    weights of the others stay (weights rescaled to 100 if some left).
    """
    _require_draft(version)
    current = version.framework_version
    if target.framework_id != current.framework_id or not target.is_published:
        raise _invalid("framework_version", "choose a published version of the same framework")
    if target.number <= current.number:
        raise _invalid("framework_version", f"v{target.number} is not newer than v{current.number}")
    scope_keys = list(
        ProfileElement.objects.filter(version=version).values_list("element__key", flat=True)
    )
    elements = {e.key: e for e in RoleElement.objects.filter(version=target, key__in=scope_keys)}
    if not elements:
        raise _invalid("elements", f"none of the elements in scope exists in v{target.number}")
    requirements = list(Requirement.objects.filter(version=version).select_related("competency"))
    competencies = {
        c.key: c
        for c in Competency.objects.filter(
            version=target, key__in=[r.competency.key for r in requirements]
        )
    }
    gone_elements = [k for k in scope_keys if k not in elements]
    gone = [r for r in requirements if r.competency.key not in competencies]
    ProfileElement.objects.filter(version=version).delete()
    ProfileElement.objects.bulk_create(
        ProfileElement(version=version, element=e) for e in elements.values()
    )
    Requirement.objects.filter(pk__in=[r.pk for r in gone]).delete()
    kept = [r for r in requirements if r.competency.key in competencies]
    top = max(lvl.level for lvl in get_scale(target))
    for r in kept:
        r.competency = competencies[r.competency.key]
        r.required_level = min(r.required_level, top)
    Requirement.objects.bulk_update(kept, ["competency", "required_level"])
    version.framework_version = target
    version.save(update_fields=["framework_version"])
    notes = [f"now on {target.title} v{target.number}"]
    if gone_elements:
        notes.append(f"elements no longer in the framework left the scope: {gone_elements}")
    if gone:
        names = [r.competency.name for r in gone]
        notes.append(f"requirements no longer in the catalogue left the profile: {names}")
    # Competencies the new version cites at the same elements join, as with a scope change.
    notes += set_scope(version, list(elements))
    return notes


# Weighting exercises -------------------------------------------------------------------


@transaction.atomic
def open_exercise(
    *,
    organisation: Organisation,
    user: User | None,
    version: ProfileVersion,
    title: str,
    method: str,
    total_points: object = 100,
) -> WeightingExercise:
    """Open a weighting exercise on a profile version's included requirements.

    The items are frozen now; for AHP they are grouped (by kind, at most seven per
    group) so that nobody faces hundreds of pairs.
    """
    if version.profile.organisation_id != organisation.pk:
        raise _invalid("profile_version", "not a profile of this organisation")
    title = _clean_title(title)
    if method not in Method.values:
        raise _invalid("method", f"must be one of {Method.values}, not {method!r}")
    try:
        total = int(str(total_points))
    except ValueError:
        raise _invalid("total_points", f"a whole number is needed, not {total_points!r}") from None
    if not 10 <= total <= 1000:
        raise _invalid("total_points", f"must be between 10 and 1000, not {total}")
    requirements = list(
        Requirement.objects.filter(version=version, included=True).select_related("competency")
    )
    if len(requirements) < 2:
        raise _invalid("profile_version", "weighting needs at least two requirements")
    items = [
        {"key": r.competency.key, "name": r.competency.name, "kind": r.competency.kind}
        for r in requirements
    ]
    groups = (
        [
            {"key": g.key, "label": g.label, "members": list(g.members)}
            for g in weighting.ahp_groups([i["kind"] for i in items])
        ]
        if method == Method.AHP
        else []
    )
    return WeightingExercise.objects.create(
        organisation=organisation,
        profile_version=version,
        title=title,
        method=method,
        total_points=total,
        items=items,
        groups=groups,
        created_by=user,
    )


def _require_open(exercise: WeightingExercise) -> None:
    if not exercise.is_open:
        raise NotPermitted("This exercise is closed.")


@transaction.atomic
def invite_participants(
    exercise: WeightingExercise, invitations: Sequence[tuple[Any, str]]
) -> list[Participant]:
    """Invite members of the exercise's organisation, each with their function.

    ``invitations`` are (user, function) pairs; members already invited are skipped.
    """
    _require_open(exercise)
    from kamfit.orgs.models import Membership  # noqa: PLC0415 - model of another app

    problems = []
    members = set(
        Membership.objects.filter(organisation=exercise.organisation).values_list(
            "user_id", flat=True
        )
    )
    already = set(exercise.participants.values_list("user_id", flat=True))
    new = []
    for i, (user, function) in enumerate(invitations):
        if function not in Function.values:
            problems.append(Problem(f"invitations[{i}].function", f"unknown function {function!r}"))
        elif user.pk not in members:
            problems.append(Problem(f"invitations[{i}].user", "not a member of this organisation"))
        elif user.pk not in already:
            already.add(user.pk)
            new.append(Participant(exercise=exercise, user=user, function=function))
    if problems:
        raise ValidationError(problems)
    return Participant.objects.bulk_create(new)


def remove_participant(exercise: WeightingExercise, participant_pk: int | str) -> None:
    """Withdraw an invitation that has not been answered yet."""
    _require_open(exercise)
    participant = exercise.participants.filter(pk=int(participant_pk)).first()
    if participant is None:
        raise _invalid("participant", "no such participant in this exercise")
    if participant.is_submitted:
        raise NotPermitted("Submitted weights stay: they are part of the result.")
    participant.delete()


def _pair_key(i: int, j: int) -> str:
    return f"{i}-{j}"


def exercise_groups(exercise: WeightingExercise) -> list[weighting.AhpGroup]:
    """The exercise's frozen AHP groups as domain objects."""
    return [weighting.AhpGroup(g["key"], g["label"], tuple(g["members"])) for g in exercise.groups]


def _parse_pairs(raw: object, location: str) -> dict[tuple[int, int], float]:
    if not isinstance(raw, Mapping):
        raise _invalid(location, "expected pairs such as {'0-1': 3}")
    pairs: dict[tuple[int, int], float] = {}
    problems = []
    for key, value in raw.items():
        try:
            i, j = (int(x) for x in str(key).split("-"))
        except ValueError:
            problems.append(Problem(f"{location}.{key}", "pair keys look like '0-1'"))
            continue
        try:
            pairs[(i, j)] = _number(value, f"{location}.{key}")
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)
    return pairs


def answers_to_domain(
    exercise: WeightingExercise, answers: Mapping[str, Any], *, check: bool = True
) -> Any:
    """Turn stored answers into what :mod:`kamfit.domain.weighting` takes.

    With ``check`` (on submit) the answers are solved once to prove them complete and
    valid; results skip that, as the exercise functions check them again in bulk.
    """
    keys = [item["key"] for item in exercise.items]
    if exercise.method in (Method.POINTS, Method.RANKING):
        unknown = [k for k in answers if k not in keys]
        missing = [k for k in keys if k not in answers or answers[k] in (None, "")]
        problems = [Problem(f"answers.{k}", "not an item of this exercise") for k in unknown]
        problems += [Problem(f"answers.{k}", "no value given") for k in missing]
        values = []
        for k in keys:
            if k in missing:
                continue
            try:
                values.append(_number(answers[k], f"answers.{k}"))
            except ValidationError as exc:
                problems += exc.problems
        if problems:
            raise ValidationError(problems)
        try:
            if check and exercise.method == Method.POINTS:
                weighting.points_weights(values, total=exercise.total_points)
            elif check:
                weighting.ranking_weights(values)
        except ValidationError as exc:
            raise _as_answers(exc, keys) from None
        return values
    groups = exercise_groups(exercise)
    judgements = {key: _parse_pairs(value, f"answers.{key}") for key, value in answers.items()}
    if check:
        try:
            weighting.hierarchy_priorities(len(keys), groups, judgements)
        except ValidationError as exc:
            raise _as_answers(exc, keys) from None
    return judgements


def _as_answers(exc: ValidationError, keys: Sequence[str]) -> ValidationError:
    """Name the domain's problems as the fields of the answer form / API ("answers.…")."""
    problems = []
    for p in exc.problems:
        location = p.location
        if m := re.fullmatch(r"(?:points|ranks)\[(\d+)\]", location):
            location = f"answers.{keys[int(m.group(1))]}"
        elif location in {"points", "ranks"}:
            location = "answers"
        elif m := re.fullmatch(r"judgements\.([\w-]+)\[(\d+), ?(\d+)\]", location):
            location = f"answers.{m.group(1)}.{m.group(2)}-{m.group(3)}"
        elif location.startswith("judgements"):
            location = "answers" + location.removeprefix("judgements")
        problems.append(Problem(location, p.message))
    return ValidationError(problems)


def _validate_partial(exercise: WeightingExercise, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check saved-but-unsubmitted answers enough to store them safely."""
    if not isinstance(answers, Mapping):
        raise _invalid("answers", "expected an object")
    keys = {item["key"] for item in exercise.items}
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    if exercise.method in (Method.POINTS, Method.RANKING):
        for k, v in answers.items():
            if k not in keys:
                problems.append(Problem(f"answers.{k}", "not an item of this exercise"))
            elif v not in (None, ""):
                try:
                    clean[k] = _number(v, f"answers.{k}")
                except ValidationError as exc:
                    problems += exc.problems
    else:
        group_keys = {g["key"] for g in exercise.groups} | {weighting.GROUPS_KEY}
        for g, pairs in answers.items():
            if g not in group_keys:
                problems.append(Problem(f"answers.{g}", "not a group of this exercise"))
                continue
            try:
                parsed = _parse_pairs(pairs, f"answers.{g}")
            except ValidationError as exc:
                problems += exc.problems
                continue
            bad = [p for p, v in parsed.items() if not 1 / 9 - 1e-9 <= v <= 9 + 1e-9]
            problems += [
                Problem(
                    f"answers.{g}.{_pair_key(*p)}", f"must be between 1/9 and 9, not {parsed[p]:g}"
                )
                for p in bad
            ]
            clean[g] = {_pair_key(*p): v for p, v in parsed.items()}
    if problems:
        raise ValidationError(problems)
    return clean


def save_answers(participant: Participant, answers: Mapping[str, Any], *, submit: bool) -> None:
    """Save a participant's answers; with ``submit`` check them fully and make them final.

    Saving and submitting are two transactions, so a refused submit still keeps what
    was saved and nobody loses their work.
    """
    with transaction.atomic():
        participant = (
            Participant.objects.select_for_update()
            .select_related("exercise")
            .get(pk=participant.pk)
        )
        exercise = participant.exercise
        _require_open(exercise)
        if participant.is_submitted:
            raise NotPermitted("Your weights are submitted and final.")
        participant.answers = _validate_partial(exercise, answers)
        participant.status = ParticipantStatus.STARTED
        participant.save(update_fields=["answers", "status"])
    if not submit:
        return
    answers_to_domain(exercise, participant.answers)
    with transaction.atomic():
        updated = Participant.objects.filter(
            pk=participant.pk, status=ParticipantStatus.STARTED, exercise__status="open"
        ).update(status=ParticipantStatus.SUBMITTED, submitted_at=timezone.now())
    if not updated:
        raise NotPermitted("These weights were submitted, or the exercise closed, meanwhile.")


def close_exercise(exercise: WeightingExercise) -> None:
    """Close an exercise: no more answers."""
    _require_open(exercise)
    exercise.status = ExerciseStatus.CLOSED
    exercise.closed_at = timezone.now()
    exercise.save(update_fields=["status", "closed_at"])


@transaction.atomic
def adopt_consensus(exercise: WeightingExercise, user: User | None) -> ProfileVersion:
    """Write the exercise's consensus weights into the profile's draft; close the exercise.

    The draft (started from the latest version when there is none) records where its
    weights came from. Requirements of the draft that the exercise did not weigh get 0
    and are named in the note.
    """
    from kamfit.profiles.queries import get_exercise_results  # noqa: PLC0415 - cycle

    exercise = WeightingExercise.objects.select_for_update().get(pk=exercise.pk)
    if exercise.adopted_at is not None:
        raise NotPermitted("This exercise's consensus has already been adopted.")
    results = get_exercise_results(exercise)
    if results.outcome is None:
        raise NotPermitted("Nobody has submitted weights yet: there is no consensus to adopt.")
    profile = exercise.profile_version.profile
    draft = start_new_draft(profile, user)
    weights = dict(zip(results.keys, results.outcome.consensus, strict=True))
    requirements = list(
        Requirement.objects.filter(version=draft, included=True).select_related("competency")
    )
    unweighted = [r.competency.name for r in requirements if r.competency.key not in weights]
    covered = sum(weights.get(r.competency.key, 0.0) for r in requirements)
    if covered <= 0:
        raise NotPermitted("The draft shares no requirement with this exercise.")
    for r in requirements:
        r.weight = round(weights.get(r.competency.key, 0.0) * 100 / covered, 4)
    Requirement.objects.bulk_update(requirements, ["weight"])
    now = timezone.now()
    agreement = results.outcome.agreement
    draft.weights_origin = WeightsOrigin.EXERCISE
    draft.weights_note = {
        "exercise_id": exercise.pk,
        "exercise_title": exercise.title,
        "method": exercise.method,
        "respondents": len(results.submitted),
        "kendalls_w": None if agreement is None else round(agreement.w, 4),
        "p_value": None if agreement is None else agreement.p_value,
        "adopted_at": now.isoformat(),
        "adopted_by": getattr(user, "username", ""),
        "unweighted": unweighted,
    }
    draft.save(update_fields=["weights_origin", "weights_note"])
    exercise.adopted_at, exercise.adopted_by, exercise.adopted_into = now, user, draft
    if exercise.is_open:
        exercise.status, exercise.closed_at = ExerciseStatus.CLOSED, now
    exercise.save(update_fields=["adopted_at", "adopted_by", "adopted_into", "status", "closed_at"])
    return draft
