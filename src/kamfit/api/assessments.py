"""REST endpoints for assessing people: people, cycles, rating forms, results and plans.

Thin wrappers around :mod:`kamfit.orgs.access`, the assessment and development services
and :func:`kamfit.assessments.queries.load_cycle`, as the pages are. Those who manage
people (owner, HR, director, consultant) keep people, cycles, raters and plans and read
every result; only owner and HR release results. The assessed person and their line
manager read a result and its plan once it is released, and update the plan's progress.
A rater opens only their own forms. Anything out of reach answers 404.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kamfit.api.audits import Extends, _problems
from kamfit.api.concurrency import etagged, if_match
from kamfit.api.fields import Choice, Flag, Number, Text, Whole
from kamfit.api.jobs import JobSerializer, import_later
from kamfit.assessments import exchange, services
from kamfit.assessments.models import (
    Assessee,
    Background,
    Cycle,
    CycleStatus,
    FormStatus,
    Person,
    PersonKind,
    PsychometricResult,
    PsychometricScale,
    QuickCheck,
    Rater,
    RatingForm,
    Source,
)
from kamfit.assessments.queries import (
    MERGED_LABEL,
    CycleData,
    Evidence,
    bench_strength,
    evidence_for,
    load_cycle,
    person_lines,
)
from kamfit.auditlog.services import record as audit
from kamfit.development import services as plans
from kamfit.development.models import Action, ActionStatus, Plan, PlanStatus
from kamfit.development.queries import plan_progress
from kamfit.domain import development, scoring
from kamfit.domain.errors import Problem, ValidationError
from kamfit.domain.framework import SOURCE_CREDIT
from kamfit.frameworks.models import FrameworkVersion
from kamfit.frameworks.queries import get_scale
from kamfit.jobs.models import JobKind
from kamfit.orgs.access import (
    access_assessee,
    access_cycle,
    access_membership,
    access_person,
    access_plan,
    access_rater,
    list_cycles,
    list_my_raters,
    list_people,
    list_profiles,
    list_visible_people,
    list_visible_plans,
)
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_PEOPLE, may
from kamfit.profiles.models import ProfileVersion, Requirement
from kamfit.uploads import read_upload, rejections

PEOPLE_TAGS = ["people"]
CYCLE_TAGS = ["assessments"]
FORM_TAGS = ["rating forms"]
PLAN_TAGS = ["development plans"]
KIND_HELP = "C (competency), A (attribute) or C/A (either)"
SOURCE_HELP = "Where the framework content (requirement names) comes from"
STALE_HELP = "The form changed since the ETag named in If-Match: read it again, then save"
NOT_STARTED = "not_started"
FORM_STATES = [(NOT_STARTED, "Not started"), *FormStatus.choices]
PROGRESS_FIELDS = frozenset({"status", "progress_note"})


# --- Named enums -------------------------------------------------------------------------------


# --- Serializers: people -----------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    id = Whole()
    reference = Text(help_text="The company's own identifier")
    name = Text()


class PersonSerializer(serializers.Serializer):
    id = Whole()
    reference = Text(help_text="The company's own identifier")
    name = Text()
    email = Text(allow_blank=True)
    kind = Choice(enum="PersonKindEnum", choices=PersonKind.choices)
    job_title = Text(allow_blank=True)
    unit = Text(allow_blank=True)
    manager = PersonRefSerializer(allow_null=True, help_text="The line manager; null if none")
    username = Text(
        source="user.username",
        allow_null=True,
        help_text="The member who sees this person's released results; null if none",
    )
    profile = Text(
        source="profile.key",
        allow_null=True,
        help_text="Key of the role profile of the position held or considered for",
    )
    background = Choice(enum="BackgroundEnum", choices=Background.choices)
    background_note = Text(allow_blank=True)
    accounts = serializers.SerializerMethodField(help_text="Names of the key accounts held")
    active = Flag()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_accounts(self, obj: Person) -> list[str]:
        return [a.name for a in obj.accounts.all()]


class PersonChangeSerializer(serializers.Serializer):
    name = Text(trim_whitespace=False, allow_blank=True)
    email = Text(required=False, allow_blank=True)
    kind = Choice(enum="PersonKindEnum", choices=PersonKind.choices, required=False)
    job_title = Text(required=False, allow_blank=True)
    unit = Text(required=False, allow_blank=True)
    manager = Text(
        required=False, allow_blank=True, help_text="The line manager's reference; empty: none"
    )
    background = Choice(enum="BackgroundEnum", choices=Background.choices, required=False)
    background_note = Text(required=False, allow_blank=True)
    profile = Text(required=False, allow_blank=True, help_text="A role profile's key; empty: none")
    username = Text(
        required=False,
        allow_blank=True,
        help_text="A member who then sees this person's released results; empty: nobody",
    )
    accounts = serializers.ListField(
        child=Text(), required=False, help_text="Names of the key accounts held"
    )
    active = Flag(required=False)


class PersonCreateSerializer(PersonChangeSerializer):
    reference = Text(
        help_text="The company's own identifier: 1–64 letters, digits, - or _; never changes"
    )


class QuickQuestionSerializer(serializers.Serializer):
    key = Text()
    text = Text()
    hints = serializers.ListField(
        child=Text(),
        help_text="Keys of the Warwick competencies a “no” points to (kamfit's reading)",
    )


class QuickCheckSerializer(serializers.Serializer):
    id = Whole()
    answers = serializers.DictField(
        child=Flag(allow_null=True),
        help_text="By question key: true (yes), false (no) or null (not answered)",
    )
    yes_count = Whole()
    answered_count = Whole()
    note = Text(allow_blank=True)
    answered_at = serializers.DateTimeField()
    answered_by = Text(source="answered_by.username", allow_null=True)


class QuickChecksSerializer(serializers.Serializer):
    prompt = Text()
    framing = Text(allow_blank=True)
    questions = QuickQuestionSerializer(many=True)
    checks = QuickCheckSerializer(many=True, help_text="Newest first")
    source = Text(help_text="Where the questions come from")  # type: ignore[assignment]


class RecordQuickCheckSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=Flag(allow_null=True),
        help_text="By question key: true (yes), false (no) or null (not answered)",
    )
    note = Text(required=False, allow_blank=True, default="")


class PsychometricSerializer(serializers.Serializer):
    id = Whole()
    attribute = Text(source="attribute_key", help_text="A competency key")
    provider = Text()
    instrument = Text(allow_blank=True)
    provider_scale = Text(allow_blank=True)
    scale = Choice(enum="PsychometricScaleEnum", choices=PsychometricScale.choices)
    value = Number(help_text="As the provider reported it")
    sten = Number(help_text="The value as a sten (1–10), to compare providers")
    assessed_on = serializers.DateField()
    imported_at = serializers.DateTimeField()


class PsychometricInputSerializer(serializers.Serializer):
    attribute = Text(
        help_text="Key of an attribute (A or C/A) of a framework your role profiles use"
    )
    provider = Text(allow_blank=True)
    instrument = Text(required=False, allow_blank=True, default="")
    provider_scale = Text(required=False, allow_blank=True, default="")
    scale = Choice(enum="PsychometricScaleEnum", choices=PsychometricScale.choices)
    value = Number()
    assessed_on = serializers.DateField()


class ImportFileSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A CSV (UTF-8) or XLSX file, at most 10 MB (KAMFIT_IMPORT_MAX_BYTES)"
    )


class PeopleImportedSerializer(serializers.Serializer):
    created = Whole()
    updated = Whole()


class StoredSerializer(serializers.Serializer):
    stored = Whole(help_text="How many rows or forms were stored")


# --- Serializers: cycles -----------------------------------------------------------------------


class CycleVersionSerializer(serializers.Serializer):
    id = Whole(help_text="The profile version's ID")
    profile = Whole(source="profile_id", help_text="The profile's ID")
    number = Whole()
    title = Text()


class CycleSerializer(serializers.Serializer):
    id = Whole()
    title = Text()
    status = Choice(
        enum="CycleStatusEnum",
        choices=CycleStatus.choices,
        help_text="draft: being prepared; open: takes ratings; closed: results only",
    )
    profile_version = CycleVersionSerializer(help_text="The published version assessed against")
    due_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    people = Whole(help_text="People assessed")


class CycleAssesseeSerializer(serializers.Serializer):
    person = PersonRefSerializer()
    invited = Whole(help_text="Raters asked")
    submitted = Whole(help_text="Raters who submitted a form")
    released_at = serializers.DateTimeField(
        allow_null=True, help_text="When the results were released to the person; null: not yet"
    )


class CycleDetailSerializer(Extends, CycleSerializer):
    extends = CycleSerializer
    rules = serializers.JSONField(
        help_text="source_weights, min_peers, include_self and blind_spot_threshold"
    )
    note = Text(allow_blank=True)
    assessees = serializers.SerializerMethodField(help_text="Each person's progress")

    @extend_schema_field(CycleAssesseeSerializer(many=True))
    def get_assessees(self, obj: Cycle) -> list[dict[str, Any]]:
        submitted = Q(raters__forms__status=FormStatus.SUBMITTED)
        rows = (
            Assessee.objects.filter(cycle=obj)
            .select_related("person")
            .annotate(
                invited=Count("raters", distinct=True),
                submitted=Count("raters", filter=submitted, distinct=True),
            )
            .order_by("person__name", "person_id")
        )
        return list(CycleAssesseeSerializer(rows, many=True).data)


class CreateCycleSerializer(serializers.Serializer):
    title = Text(trim_whitespace=False, allow_blank=True)
    profile = Whole(help_text="ID of a role profile of your organisation")
    version = Whole(help_text="A published version number of that profile")
    rules = serializers.DictField(
        required=False, help_text="Scoring rules; default: every source weighs 1, 3 peers"
    )
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    note = Text(required=False, allow_blank=True, default="")
    people = serializers.ListField(
        child=Text(), default=list, help_text="References of the people to assess"
    )


class ChangeCycleSerializer(serializers.Serializer):
    title = Text(required=False, trim_whitespace=False, allow_blank=True)
    rules = serializers.DictField(required=False)
    due_on = serializers.DateField(required=False)
    note = Text(required=False, allow_blank=True)


class PeopleRefsSerializer(serializers.Serializer):
    people = serializers.ListField(child=Text(), min_length=1, help_text="References of people")


class ReleaseSerializer(serializers.Serializer):
    people = serializers.ListField(child=Text(), required=False, help_text="References of people")
    all = Flag(default=False, help_text="true: everyone in the cycle")


class ReleasedSerializer(serializers.Serializer):
    released = Whole(help_text="Results released now (not before)")


class RaterSerializer(serializers.Serializer):
    id = Whole()
    person = PersonRefSerializer(help_text="The person rated")
    username = Text()
    source = Choice(enum="RaterSourceEnum", choices=Source.choices)  # type: ignore[assignment]
    status = Choice(
        enum="RatingFormStatusEnum", choices=FORM_STATES, help_text="Where their latest form stands"
    )
    invited_at = serializers.DateTimeField()


class AddRaterSerializer(serializers.Serializer):
    person = Text(help_text="Reference of a person in the cycle")
    username = Text(help_text="A member of your organisation")
    source = Choice(enum="RaterSourceEnum", choices=Source.choices)  # type: ignore[assignment]


# --- Serializers: results ----------------------------------------------------------------------


class ColumnSerializer(serializers.Serializer):
    key = Text()
    name = Text()
    kind = Text(help_text=KIND_HELP)
    required = Whole(help_text="The required level")  # type: ignore[assignment]
    weight = Number(help_text="Percent")


class BandSerializer(serializers.Serializer):
    code = Whole(help_text="2 ready now, 1 with development, 0 not yet, -1 n/a")
    label = Text()  # type: ignore[assignment]


class TeamRowSerializer(serializers.Serializer):
    person = PersonRefSerializer()
    fit = Number(allow_null=True, help_text="0–100; null without ratings")
    coverage = Number(help_text="Share of the profile's weight rated, 0–1")
    percentile = Number(
        allow_null=True,
        help_text="Fit's rank in the cycle; null without a fit, or while fewer than the "
        "organisation's min_group_size people have one",
    )
    band = BandSerializer()
    invited = Whole()
    submitted = Whole()
    released = Flag()
    combined = serializers.ListField(
        child=Number(allow_null=True), help_text="Combined level per column"
    )
    gaps = serializers.ListField(
        child=Number(allow_null=True),
        help_text="Combined minus required level per column; negative: short",
    )


class AdviceSerializer(serializers.Serializer):
    competency = Text()
    name = Text()
    kind = Text(help_text=KIND_HELP)
    short = Whole(help_text="People short of the required level")
    assessed = Whole()
    share = Number(help_text="short / assessed")
    mean_gap = Number()
    advice = Choice(
        enum="MakeOrBuyAdviceEnum",
        choices=[("develop", "Develop"), ("select", "Select"), ("both", "Both")],
    )
    text = Text()
    widespread = Flag()


class MakeOrBuySerializer(serializers.Serializer):
    lines = AdviceSerializer(many=True)
    develop_share = Number()
    select_share = Number()
    headline = Text()


class BenchPersonSerializer(serializers.Serializer):
    person = PersonRefSerializer()
    fit = Number()


class BenchProfileSerializer(serializers.Serializer):
    id = Whole()
    key = Text()
    title = Text()
    version = Whole(help_text="Its latest published version")


class BenchLineSerializer(serializers.Serializer):
    profile = BenchProfileSerializer()
    counts = serializers.DictField(child=Whole(), help_text="People per band")
    ready = BenchPersonSerializer(many=True, help_text="Ready now, best fit first")
    developing = BenchPersonSerializer(many=True, help_text="Ready with development")


class CycleRefSerializer(serializers.Serializer):
    id = Whole()
    title = Text()
    status = Choice(enum="CycleStatusEnum", choices=CycleStatus.choices)


class TeamResultsSerializer(serializers.Serializer):
    cycle = CycleRefSerializer()
    columns = ColumnSerializer(many=True)
    people = TeamRowSerializer(many=True, help_text="Best fit first")
    make_or_buy = MakeOrBuySerializer()
    bench_strength = BenchLineSerializer(many=True)
    source = Text(help_text=SOURCE_HELP)  # type: ignore[assignment]


class SourceCellSerializer(serializers.Serializer):
    source = Choice(  # type: ignore[assignment]
        enum="ResultSourceEnum",
        choices=[*Source.choices, ("psychometric", "Psychometric test")],
    )
    label = Text()  # type: ignore[assignment]
    mean = Number(
        allow_null=True,
        help_text="null below the peer minimum. To the person and their manager, peers and "
        "others appear only as groups of at least 3: smaller groups are pooled (label "
        "'Peers and others') or left out, and the combined level is computed from the "
        "groups shown (for HR too)",
    )
    count = Whole()
    counted = Flag(help_text="Part of the combined score")


class WeakElementSerializer(serializers.Serializer):
    element = Text()
    score = Number(help_text="Company-side readiness, 0–100")


class EvidenceSerializer(serializers.Serializer):
    source = Choice(enum="RaterSourceEnum", choices=Source.choices)  # type: ignore[assignment]
    rater = Text(allow_blank=True, help_text="Self and manager by name to HR; empty otherwise")
    level = Whole(allow_null=True, help_text="null: not given; peers' and others' only to HR")
    text = Text()


class ResultLineSerializer(serializers.Serializer):
    key = Text()
    name = Text()
    kind = Text(help_text=KIND_HELP)
    required = Whole()  # type: ignore[assignment]
    weight = Number()
    combined = Number(allow_null=True)
    gap = Number(allow_null=True)
    self_rating = Number(allow_null=True)
    others = Number(allow_null=True, help_text="Combined without self")
    blind_spot = Flag(help_text="Self well above others")
    hidden_strength = Flag(help_text="Others well above self")
    psychometric = Flag(help_text="A psychometric result counts here")
    sources = SourceCellSerializer(many=True)
    weak_elements = WeakElementSerializer(
        many=True, help_text="Role elements citing it whose company side scored weak"
    )
    evidence = EvidenceSerializer(many=True, help_text="Peers and others stay anonymous")


class ScaleLevelSerializer(serializers.Serializer):
    level = Whole()
    name = Text()
    description = Text(allow_blank=True)


class PersonResultSerializer(serializers.Serializer):
    cycle = CycleRefSerializer()
    person = PersonRefSerializer()
    released_at = serializers.DateTimeField(allow_null=True)
    fit = Number(allow_null=True)
    coverage = Number()
    percentile = Number(allow_null=True, help_text="Only for those who manage people")
    band = BandSerializer()
    blind_spots = serializers.ListField(child=Text())
    hidden_strengths = serializers.ListField(child=Text())
    lines = ResultLineSerializer(many=True)
    scale = ScaleLevelSerializer(many=True)
    source = Text(help_text=SOURCE_HELP)  # type: ignore[assignment]


# --- Serializers: rating forms -----------------------------------------------------------------


class AssignmentSerializer(serializers.Serializer):
    id = Whole(help_text="The rating form's ID in rating-forms/{id}/")
    person = PersonRefSerializer(help_text="The person you rate")
    cycle = CycleRefSerializer()
    source = Choice(enum="RaterSourceEnum", choices=Source.choices)  # type: ignore[assignment]
    status = Choice(enum="RatingFormStatusEnum", choices=FORM_STATES)


class FormRequirementSerializer(serializers.Serializer):
    key = Text()
    name = Text()
    kind = Text(help_text=KIND_HELP)
    required_level = Whole()
    level = Whole(allow_null=True, help_text="Your level; null: not given")
    evidence = Text(allow_blank=True)


class RatingFormSerializer(serializers.Serializer):
    rater = AssignmentSerializer()
    number = Whole(
        allow_null=True, help_text="Version of the form (amendments count up); null: none yet"
    )
    reason = Text(allow_blank=True, help_text="Why it was amended")
    tag = Text(
        help_text="Version tag (number.saves), also sent as the ETag: PUT with If-Match to "
        "make sure nobody saved it meanwhile"
    )
    submitted_at = serializers.DateTimeField(allow_null=True)
    editable = Flag(help_text="Whether PUT may change it now")
    may_amend = Flag(help_text="Whether amend/ may start a new version")
    scale = ScaleLevelSerializer(many=True)
    requirements = FormRequirementSerializer(many=True)
    source = Text(help_text=SOURCE_HELP)  # type: ignore[assignment]


class FormAnswerSerializer(serializers.Serializer):
    level = Whole(allow_null=True, help_text="null: cannot judge")
    evidence = Text(required=False, allow_blank=True, default="")


class SaveFormSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=FormAnswerSerializer(),
        required=False,
        help_text="Every answer, by requirement key; replaces the saved ones; omit to keep them",
    )
    submit = Flag(default=False, help_text="Make the form final")


class AmendSerializer(serializers.Serializer):
    reason = Text(allow_blank=True, help_text="Why the ratings need amending")


# --- Serializers: plans ------------------------------------------------------------------------


class PlanSerializer(serializers.Serializer):
    id = Whole()
    title = Text()
    status = Choice(enum="PlanStatusEnum", choices=PlanStatus.choices)
    person = PersonRefSerializer()
    cycle = CycleRefSerializer(allow_null=True, help_text="The cycle whose gaps it addresses")
    created_at = serializers.DateTimeField()
    total = Whole(help_text="Actions")
    done = Whole(help_text="Actions done")


class ActionSerializer(serializers.Serializer):
    id = Whole()
    position = Whole()
    competency = Text(help_text="The requirement's key")
    competency_name = Text()
    kind = Text(help_text=KIND_HELP)
    action_type = Text(help_text="course, coaching, mentoring, stretch, …")
    catalogue_key = Text(allow_blank=True)
    title = Text()
    description = Text(allow_blank=True)
    owner = Text(allow_null=True, help_text="The owner's username")
    due_on = serializers.DateField(allow_null=True)
    status = Choice(enum="ActionStatusEnum", choices=ActionStatus.choices)
    baseline = Number(allow_null=True, help_text="Combined score when planned")
    required_level = Number(allow_null=True)
    progress_note = Text(allow_blank=True)
    updated_at = serializers.DateTimeField()


class ActionProgressSerializer(Extends, ActionSerializer):
    extends = ActionSerializer
    latest = Number(allow_null=True, help_text="Score in a later cycle")
    change = Number(allow_null=True, help_text="latest − baseline")
    reached = Flag(help_text="latest reaches the required level")


class PlanDetailSerializer(Extends, PlanSerializer):
    extends = PlanSerializer
    actions = ActionProgressSerializer(many=True)
    later = CycleRefSerializer(allow_null=True, help_text="The later cycle measuring the change")
    source = Text(help_text=SOURCE_HELP)  # type: ignore[assignment]


class CreatePlanSerializer(serializers.Serializer):
    cycle = Whole(help_text="ID of a cycle of your organisation")
    person = Text(help_text="Reference of a person assessed in it")
    title = Text(required=False, allow_blank=True, default="")


class ActionInputSerializer(serializers.Serializer):
    competency = Text(help_text="Key of a requirement in use")
    title = Text(allow_blank=True)
    action_type = Text(help_text="A type of the shipped action catalogue")
    description = Text(required=False, allow_blank=True, default="")
    owner = Text(required=False, allow_blank=True, default="", help_text="A member's username")
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    status = Choice(
        enum="ActionStatusEnum",
        choices=ActionStatus.choices,
        required=False,
        default=ActionStatus.PLANNED,
    )


class ChangeActionSerializer(serializers.Serializer):
    competency = Text(required=False)
    title = Text(required=False, allow_blank=True)
    action_type = Text(required=False)
    description = Text(required=False, allow_blank=True)
    owner = Text(required=False, allow_blank=True)
    due_on = serializers.DateField(required=False, allow_null=True)
    status = Choice(enum="ActionStatusEnum", choices=ActionStatus.choices, required=False)
    progress_note = Text(required=False, allow_blank=True)


# --- Helpers -----------------------------------------------------------------------------------


def _membership(request: Request, org: str) -> Membership:
    return access_membership(request.user, org)


def _require(m: Membership, what: str) -> None:
    if not may(m.role, MANAGE_PEOPLE):
        raise ApiPermissionDenied(f"Your role ({m.get_role_display()}) may not {what}.")


def _valid(
    serializer: type[serializers.Serializer], data: object, *, partial: bool = False
) -> dict[str, Any]:
    """Return the body's validated data, or raise every problem as a 400 with ``problems``."""
    body = serializer(data=data, partial=partial)
    if not body.is_valid():
        raise ValidationError(list(_problems(body.errors)))
    return dict(body.validated_data)


def _valid_list(serializer: type[serializers.Serializer], data: object) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise ValidationError([Problem("", "send a JSON list")])
    body = serializer(data=data, many=True)
    if not body.is_valid():
        raise ValidationError(list(_problems(body.errors)))
    return [dict(row) for row in body.validated_data]


def _relocated(exc: ValidationError, prefix: str, names: dict[str, str]) -> ValidationError:
    """The same problems with locations renamed (``names``) or put under ``prefix``."""
    return ValidationError(
        [
            Problem(
                names.get(p.location, f"{prefix}{p.location}" if prefix else p.location), p.message
            )
            for p in exc.problems
        ]
    )


def _check_rules(body: dict[str, Any]) -> None:
    """Refuse bad scoring rules with locations under ``rules`` (the service checks again)."""
    if "rules" in body:
        try:
            scoring.rules_from_dict(body["rules"])
        except ValidationError as exc:
            raise _relocated(exc, "rules.", {}) from None


def _refused(exc: PermissionDenied) -> ApiPermissionDenied:
    return ApiPermissionDenied(str(exc))


def _cycle(request: Request, org: str, pk: int, action: str = "manage") -> tuple[Membership, Cycle]:
    """The member and a cycle of their organisation: 404 for others' before any 403."""
    m = _membership(request, org)
    try:
        return m, access_cycle(m, pk, action=action)
    except PermissionDenied as exc:
        raise _refused(exc) from exc


def _person(request: Request, org: str, pk: int, action: str = "view") -> tuple[Membership, Person]:
    m = _membership(request, org)
    try:
        return m, access_person(m, pk, action=action)
    except PermissionDenied as exc:
        raise _refused(exc) from exc


def _plan(request: Request, org: str, pk: int, action: str = "view") -> tuple[Membership, Plan]:
    m = _membership(request, org)
    try:
        return m, access_plan(m, pk, action=action)
    except PermissionDenied as exc:
        raise _refused(exc) from exc


def _credit(version: FrameworkVersion | None) -> str:
    """The citation of the framework the content comes from (the Warwick paper by default)."""
    return (version.citation if version is not None else "") or SOURCE_CREDIT


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _people_by_reference(m: Membership, references: Sequence[str], field: str) -> list[Person]:
    """The organisation's people with these references, in order; 400 naming unknown ones."""
    found = {p.reference: p for p in list_people(m.organisation).filter(reference__in=references)}
    problems = [
        Problem(f"{field}[{i}]", f"no person with reference {ref!r}")
        for i, ref in enumerate(references)
        if ref not in found
    ]
    if problems:
        raise ValidationError(problems)
    return [found[ref] for ref in dict.fromkeys(references)]


def _with_details(people: QuerySet[Person]) -> QuerySet[Person]:
    return people.select_related("manager", "profile", "user").prefetch_related("accounts")


def _person_detail(m: Membership, reference: str, code: int = status.HTTP_200_OK) -> Response:
    person = _with_details(list_people(m.organisation)).get(reference=reference)
    return Response(PersonSerializer(person).data, status=code)


def _person_input(base: services.PersonInput, body: dict[str, Any]) -> services.PersonInput:
    """``base`` with the fields of ``body``; key accounts as sent, else as in ``base``."""
    accounts = body.pop("accounts", base.accounts)
    changed = dataclasses.replace(base, **body)
    return dataclasses.replace(changed, accounts=None if accounts is None else tuple(accounts))


def _form_statuses() -> Subquery:
    """A subquery: the status of a rater's latest form (null if none)."""
    return Subquery(
        RatingForm.objects.filter(rater=OuterRef("pk")).order_by("-number").values("status")[:1]
    )


def _raters(cycle: Cycle) -> QuerySet[Rater]:
    return (
        Rater.objects.filter(assessee__cycle=cycle)
        .select_related("assessee__person", "user")
        .annotate(form_status=_form_statuses())
        .order_by("assessee__person__name", "assessee__person_id", "source", "id")
    )


def _cycle_detail(m: Membership, cycle: Cycle, code: int = status.HTTP_200_OK) -> Response:
    counted = _counted(list_cycles(m.organisation)).get(pk=cycle.pk)
    return Response(CycleDetailSerializer(counted).data, status=code)


def _counted(cycles: QuerySet[Cycle]) -> QuerySet[Cycle]:
    return cycles.select_related("profile_version").annotate(
        people=Count("assessees", distinct=True)
    )


def _cycle_ref(cycle: Cycle) -> dict[str, Any]:
    return {"id": cycle.pk, "title": cycle.title, "status": cycle.status}


def _person_ref(person: Person) -> dict[str, Any]:
    return {"id": person.pk, "reference": person.reference, "name": person.name}


def _band(code: int) -> dict[str, Any]:
    return {"code": code, "label": scoring.BANDS[code]}


def _values(row: Any) -> list[float | None]:
    return [None if math.isnan(x) else round(float(x), 4) for x in row]


def _team(data: CycleData) -> dict[str, Any]:
    """What :class:`CycleData` holds about the team, as JSON: best fit first."""
    s = data.scores
    order = sorted(
        range(len(data.assessees)),
        key=lambda i: (-(s.fit[i] if not math.isnan(s.fit[i]) else -1.0), i),
    )
    # A rank among fewer than k people is not shown (issue 5, minimum group size).
    ranked = np.isfinite(s.fit).sum() >= data.cycle.organisation.min_group_size
    people = [
        {
            "person": _person_ref(data.assessees[i].person),
            "fit": _number(float(s.fit[i])),
            "coverage": float(s.coverage[i]),
            "percentile": _number(float(s.percentile[i])) if ranked else None,
            "band": _band(int(data.bands[i])),
            "invited": int(data.invited[i]),
            "submitted": int(data.submitted[i]),
            "released": data.assessees[i].is_released,
            "combined": _values(s.combined[i]),
            "gaps": _values(s.gaps[i]),
        }
        for i in order
    ]
    advice = data.make_or_buy()
    return {
        "cycle": _cycle_ref(data.cycle),
        "columns": [
            {
                "key": c.key,
                "name": c.name,
                "kind": c.kind,
                "required": c.required,
                "weight": c.weight,
            }
            for c in data.columns
        ],
        "people": people,
        "make_or_buy": dataclasses.asdict(advice),
        "bench_strength": [
            {
                "profile": {
                    "id": line.profile.pk,
                    "key": line.profile.key,
                    "title": line.profile.title,
                    "version": line.version.number,
                },
                "counts": {scoring.BANDS[b]: n for b, n in line.counts.items()},
                "ready": [{"person": _person_ref(p), "fit": f} for p, f in line.ready],
                "developing": [{"person": _person_ref(p), "fit": f} for p, f in line.developing],
            }
            for line in bench_strength(data)
        ],
        "source": _credit(data.cycle.profile_version.framework_version),
    }


def _evidence(e: Evidence, *, manage: bool) -> dict[str, Any]:
    """One rater's evidence; a peer's or other's level only for those who manage people.

    The peer mean is withheld below the cycle's minimum number of peers; one peer's
    level beside their words would give it away to the person and their manager.
    """
    anonymous = e.source in {Source.PEER, Source.OTHER}
    level = None if anonymous and not manage else e.level
    # Pooled peers and others read as one group: which of them wrote it stays unknown.
    pooled = anonymous and not manage and e.source_label == MERGED_LABEL
    source = Source.OTHER if pooled else e.source
    return {"source": source, "rater": e.rater, "level": level, "text": e.text}


def _person_result(data: CycleData, assessee: Assessee, *, manage: bool) -> dict[str, Any]:
    """One person's result as JSON; the percentile and raters' names only for HR.

    The person and their manager read it as it was released (``data`` is loaded so).
    """
    row = data.index[assessee.person_id]
    s = data.scores
    as_of = None if manage else assessee.released_at
    evidence = evidence_for(assessee, named=manage, as_of=as_of, view=data)
    lines = person_lines(data, row, private=not manage)
    return {
        "cycle": _cycle_ref(data.cycle),
        "person": _person_ref(assessee.person),
        "released_at": assessee.released_at,
        "fit": _number(float(s.fit[row])),
        "coverage": float(s.coverage[row]),
        "percentile": _number(float(s.percentile[row]))
        if manage and np.isfinite(s.fit).sum() >= data.cycle.organisation.min_group_size
        else None,
        "band": _band(int(data.bands[row])),
        "blind_spots": [line.column.key for line in lines if line.blind_spot],
        "hidden_strengths": [line.column.key for line in lines if line.hidden_strength],
        "lines": [
            {
                "key": line.column.key,
                "name": line.column.name,
                "kind": line.column.kind,
                "required": line.column.required,
                "weight": line.column.weight,
                "combined": line.combined,
                "gap": line.gap,
                "self_rating": line.self_rating,
                "others": line.others,
                "blind_spot": line.blind_spot,
                "hidden_strength": line.hidden_strength,
                "psychometric": line.psychometric,
                "sources": [dataclasses.asdict(cell) for cell in line.sources],
                "weak_elements": [
                    {"element": label, "score": score} for label, score in line.weak_elements
                ],
                "evidence": [
                    _evidence(e, manage=manage) for e in evidence.get(line.column.competency_id, [])
                ],
            }
            for line in lines
        ],
        "scale": [dataclasses.asdict(level) for level in data.scale],
        "source": _credit(data.cycle.profile_version.framework_version),
    }


def _assignment(rater: Rater, form_status: str | None) -> dict[str, Any]:
    cycle = rater.assessee.cycle
    return {
        "id": rater.pk,
        "person": _person_ref(rater.assessee.person),
        "cycle": _cycle_ref(cycle),
        "source": rater.source,
        "status": form_status or NOT_STARTED,
    }


def _rating_form(rater: Rater) -> dict[str, Any]:
    """A rater's latest form with the requirements, the scale and the saved answers."""
    cycle = rater.assessee.cycle
    version = cycle.profile_version
    latest = RatingForm.objects.filter(rater=rater).order_by("-number").first()
    answers = {}
    if latest is not None:
        answers = {r.competency_id: r for r in latest.ratings.all()}
    requirements = Requirement.objects.filter(version=version, included=True).select_related(
        "competency"
    )
    is_open = cycle.status == CycleStatus.OPEN
    draft = latest is None or latest.status == FormStatus.DRAFT
    return {
        "rater": _assignment(rater, latest.status if latest else None),
        "number": latest.number if latest else None,
        "reason": latest.reason if latest else "",
        "tag": services.form_tag(latest),
        "submitted_at": latest.submitted_at if latest else None,
        "editable": is_open and draft,
        "may_amend": is_open and not draft,
        "scale": [dataclasses.asdict(level) for level in get_scale(version.framework_version)],
        "requirements": [
            {
                "key": r.competency.key,
                "name": r.competency.name,
                "kind": r.competency.kind,
                "required_level": r.required_level,
                "level": answers[r.competency_id].level if r.competency_id in answers else None,
                "evidence": answers[r.competency_id].evidence if r.competency_id in answers else "",
            }
            for r in requirements.order_by("position", "id")
        ],
        "source": _credit(version.framework_version),
    }


def _plans(plans_qs: QuerySet[Plan]) -> QuerySet[Plan]:
    return plans_qs.select_related("person", "cycle").annotate(
        total=Count("actions", distinct=True),
        done=Count("actions", filter=Q(actions__status=ActionStatus.DONE), distinct=True),
    )


def _action(action: Action) -> dict[str, Any]:
    return {
        "id": action.pk,
        "position": action.position,
        "competency": action.competency_key,
        "competency_name": action.competency_name,
        "kind": action.kind,
        "action_type": action.action_type,
        "catalogue_key": action.catalogue_key,
        "title": action.title,
        "description": action.description,
        "owner": action.owner.get_username() if action.owner else None,
        "due_on": action.due_on,
        "status": action.status,
        "baseline": action.baseline,
        "required_level": action.required_level,
        "progress_note": action.progress_note,
        "updated_at": action.updated_at,
    }


def _plan_detail(m: Membership, plan: Plan, code: int = status.HTTP_200_OK) -> Response:
    counted = _plans(list_visible_plans(m)).get(pk=plan.pk)
    progress = plan_progress(plan, released_only=not may(m.role, MANAGE_PEOPLE))
    version = plan.cycle.profile_version.framework_version if plan.cycle else None
    data = {
        **PlanSerializer(counted).data,
        "actions": [
            _action(p.action) | {"latest": p.latest, "change": p.change, "reached": p.closed}
            for p in progress.actions
        ],
        "later": _cycle_ref(progress.later.cycle) if progress.later else None,
        "source": _credit(version),
    }
    return Response(PlanDetailSerializer(data).data, status=code)


def _action_input(action: Action, body: dict[str, Any]) -> plans.ActionInput:
    """The action as it is, with the changes in ``body``."""
    return plans.ActionInput(
        competency=body.get("competency", action.competency_key),
        title=body.get("title", action.title),
        action_type=body.get("action_type", action.action_type),
        description=body.get("description", action.description),
        owner=body.get("owner", action.owner.get_username() if action.owner else ""),
        due_on=body.get("due_on", action.due_on),
        status=body.get("status", action.status),
    )


def _answers(body: dict[str, Any]) -> dict[str, services.RatingInput] | None:
    """The answers sent; None (keep the draft's) without ``answers``."""
    if "answers" not in body:
        return None
    return {
        key: services.RatingInput(a["level"], a["evidence"]) for key, a in body["answers"].items()
    }


def _form_response(rater: Rater) -> Response:
    data = _rating_form(rater)
    return Response(RatingFormSerializer(data).data, headers={"ETag": f'"{data["tag"]}"'})


def _if_match(request: Request) -> str | None:
    """The tag named by If-Match (quotes and a weak prefix allowed), if any."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw or raw == "*":
        return None
    return raw.removeprefix("W/").strip('"')


def _upload(request: Request) -> tuple[bytes, str]:
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError([Problem("file", "send a CSV or XLSX file in the field “file”")])
    return read_upload(upload), upload.name or ""  # TooLarge (413) past the size limit


IMPORT_REQUEST = {"multipart/form-data": ImportFileSerializer}
TOO_LARGE = OpenApiResponse(
    description="The file is over the import size limit (KAMFIT_IMPORT_MAX_BYTES, 10 MB)"
)
JOB_ACCEPTED = OpenApiResponse(
    response=JobSerializer,
    description="A large file: queued as a background job (its URL is also in Location)",
)


# --- Views: people -----------------------------------------------------------------------------

PEOPLE_FILTERS = [
    OpenApiParameter("kind", str, enum=PersonKind.values, description="kam or candidate"),
    OpenApiParameter("unit", str, description="Only this unit (exact)"),
    OpenApiParameter("q", str, description="Part of the name or reference"),
]


class PeopleList(generics.ListAPIView):
    """The people you may see: everyone for those who manage people, else yourself and reports."""

    serializer_class = PersonSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = _membership(self.request, self.kwargs["org"])
        people = _with_details(list_visible_people(m))
        params = self.request.query_params
        kind = params.get("kind")
        if kind is not None:
            if kind not in PersonKind.values:
                raise ValidationError([Problem("kind", f"use {' or '.join(PersonKind.values)}")])
            people = people.filter(kind=kind)
        if "unit" in params:
            people = people.filter(unit=params["unit"])
        query = params.get("q", "").strip()[:100]
        if query:
            people = people.filter(Q(name__icontains=query) | Q(reference__icontains=query))
        return people.order_by("name", "id")

    @extend_schema(tags=PEOPLE_TAGS, parameters=PEOPLE_FILTERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The people you may see, by name, in pages of 50."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=PEOPLE_TAGS, request=PersonCreateSerializer, responses={201: PersonSerializer}
    )
    def post(self, request: Request, org: str) -> Response:
        """Add a person; their reference is the company's own identifier and never changes."""
        m = _membership(request, org)
        _require(m, "add people")
        body = _valid(PersonCreateSerializer, request.data)
        reference = body.pop("reference").strip()
        if list_people(m.organisation).filter(reference=reference).exists():
            raise ValidationError([Problem("reference", f"{reference!r} is already in use")])
        row = _person_input(services.PersonInput(reference=reference, name=""), body)
        services.upsert_people(m.organisation, m.user, [row])
        return _person_detail(m, reference, status.HTTP_201_CREATED)


class PersonDetail(APIView):
    @etagged
    @extend_schema(tags=PEOPLE_TAGS, responses=PersonSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """One person: manager, key accounts, background and role profile."""
        m, person = _person(request, org, pk)
        return _person_detail(m, person.reference)

    @if_match(get, lock=Person)
    @extend_schema(tags=PEOPLE_TAGS, request=PersonChangeSerializer, responses=PersonSerializer)
    def put(self, request: Request, org: str, pk: int) -> Response:
        """Replace a person's details; a field left out takes its default (or none)."""
        m, person = _person(request, org, pk, action="manage")
        body = _valid(PersonChangeSerializer, request.data)
        base = services.PersonInput(reference=person.reference, name="", accounts=())
        services.upsert_people(m.organisation, m.user, [_person_input(base, body)])
        return _person_detail(m, person.reference)

    @if_match(get, lock=Person)
    @extend_schema(tags=PEOPLE_TAGS, request=PersonChangeSerializer, responses=PersonSerializer)
    def patch(self, request: Request, org: str, pk: int) -> Response:
        """Change some of a person's details; the others stay as they are."""
        m, person = _person(request, org, pk, action="manage")
        body = _valid(PersonChangeSerializer, request.data, partial=True)
        services.upsert_people(
            m.organisation, m.user, [_person_input(services.current_input(person), body)]
        )
        return _person_detail(m, person.reference)


def _quick_check_person(request: Request, org: str, pk: int) -> tuple[Membership, Person]:
    """A person whose quick checks the member keeps: their line manager, or who manages people."""
    m, person = _person(request, org, pk)
    return m, access_person(m, person.pk, action="quick_check")


def _quick_checks(person: Person, code: int = status.HTTP_200_OK) -> Response:
    check = development.shipped_quick_check()
    checks = QuickCheck.objects.filter(person=person).select_related("answered_by")
    data = {
        "prompt": check.prompt,
        "framing": check.framing,
        "questions": [dataclasses.asdict(q) for q in check.questions],
        "checks": checks.order_by("-answered_at", "-id"),
        "source": check.source,
    }
    return Response(QuickChecksSerializer(data).data, status=code)


class PersonQuickChecks(APIView):
    @extend_schema(tags=PEOPLE_TAGS, responses=QuickChecksSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """The SBI quick check's questions and the checks recorded for this person."""
        _, person = _quick_check_person(request, org, pk)
        return _quick_checks(person)

    @extend_schema(
        tags=PEOPLE_TAGS,
        request=RecordQuickCheckSerializer,
        responses={201: QuickChecksSerializer},
    )
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Record a quick check (the person's line manager, or those who manage people)."""
        m, person = _quick_check_person(request, org, pk)
        body = _valid(RecordQuickCheckSerializer, request.data)
        services.record_quick_check(person, m.user, body["answers"], note=body["note"])
        return _quick_checks(person, status.HTTP_201_CREATED)


def _psychometrics(person: Person, code: int = status.HTTP_200_OK) -> Response:
    results = PsychometricResult.objects.filter(person=person).order_by(
        "attribute_key", "-assessed_on", "-id"
    )
    return Response(PsychometricSerializer(results, many=True).data, status=code)


class PersonPsychometrics(APIView):
    @extend_schema(tags=PEOPLE_TAGS, responses=PsychometricSerializer(many=True))
    def get(self, request: Request, org: str, pk: int) -> Response:
        """The person's psychometric results, latest first per attribute."""
        m, person = _person(request, org, pk, action="manage")
        response = _psychometrics(person)
        if response.data:
            audit(
                "psychometrics.read",
                request=request,
                organisation=m.organisation,
                target=person,
                data={"results": len(response.data)},
            )
        return response

    @extend_schema(
        tags=PEOPLE_TAGS,
        request=PsychometricInputSerializer(many=True),
        responses={201: PsychometricSerializer(many=True)},
    )
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Store results from a test provider, all or nothing; answers all the person's."""
        m, person = _person(request, org, pk, action="manage")
        rows = _valid_list(PsychometricInputSerializer, request.data)
        inputs = [services.PsychometricInput(person=person.reference, **row) for row in rows]
        services.save_psychometrics(m.organisation, m.user, inputs)
        return _psychometrics(person, status.HTTP_201_CREATED)


class PeopleImport(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=PEOPLE_TAGS,
        request=IMPORT_REQUEST,
        responses={200: PeopleImportedSerializer, 202: JOB_ACCEPTED, 413: TOO_LARGE},
    )
    def post(self, request: Request, org: str) -> Response:
        """Create or update people from a CSV or XLSX file, all or nothing.

        A large file (over 1 MB as CSV) is imported by a background job: the answer is
        202 with the job, whose URL (also in ``Location``) tells how it went.
        """
        m = _membership(request, org)
        _require(m, "import people")
        with rejections("people", request=request, organisation=m.organisation):
            data, name = _upload(request)
            if (later := import_later(request, m, JobKind.IMPORT_PEOPLE)) is not None:
                return later
            created, updated = exchange.read_people(m.organisation, m.user, data, name)
        return Response({"created": created, "updated": updated})


class PsychometricsImport(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=PEOPLE_TAGS,
        request=IMPORT_REQUEST,
        responses={200: StoredSerializer, 202: JOB_ACCEPTED, 413: TOO_LARGE},
    )
    def post(self, request: Request, org: str) -> Response:
        """Store psychometric results from a CSV or XLSX file, all or nothing.

        A large file is imported by a background job: 202 with the job.
        """
        m = _membership(request, org)
        _require(m, "import psychometric results")
        with rejections("psychometrics", request=request, organisation=m.organisation):
            data, name = _upload(request)
            if (later := import_later(request, m, JobKind.IMPORT_PSYCHOMETRICS)) is not None:
                return later
            stored = exchange.read_psychometrics(m.organisation, m.user, data, name)
        return Response({"stored": stored})


# --- Views: cycles -----------------------------------------------------------------------------


class CycleList(generics.ListAPIView):
    """Your organisation's assessment cycles, newest first (those who manage people)."""

    serializer_class = CycleSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = _membership(self.request, self.kwargs["org"])
        _require(m, "manage assessment cycles")
        return _counted(list_cycles(m.organisation)).order_by("-created_at", "-id")

    @extend_schema(tags=CYCLE_TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Your organisation's assessment cycles, newest first, in pages of 50."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=CYCLE_TAGS, request=CreateCycleSerializer, responses={201: CycleDetailSerializer}
    )
    def post(self, request: Request, org: str) -> Response:
        """Prepare a cycle against a published profile version, with the people to assess."""
        m = _membership(request, org)
        _require(m, "manage assessment cycles")
        body = _valid(CreateCycleSerializer, request.data)
        _check_rules(body)
        profile = list_profiles(m.organisation).filter(pk=body["profile"]).first()
        if profile is None:
            raise ValidationError([Problem("profile", "unknown role profile")])
        version = ProfileVersion.objects.filter(profile=profile, number=body["version"]).first()
        if version is None:
            raise ValidationError([Problem("version", "unknown version of this profile")])
        people = _people_by_reference(m, body["people"], "people")
        try:
            with transaction.atomic():
                cycle = services.create_cycle(
                    m.organisation,
                    m.user,
                    title=body["title"],
                    profile_version=version,
                    rules=body.get("rules"),
                    due_on=body["due_on"],
                    note=body["note"],
                )
                services.add_people(cycle, m.user, people)
        except ValidationError as exc:
            raise _relocated(exc, "", {"profile_version": "version"}) from None
        return _cycle_detail(m, cycle, status.HTTP_201_CREATED)


class CycleDetail(APIView):
    @etagged
    @extend_schema(tags=CYCLE_TAGS, responses=CycleDetailSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """One cycle: its rules and each person's progress (raters asked and submitted)."""
        m, cycle = _cycle(request, org, pk)
        return _cycle_detail(m, cycle)

    @if_match(get, lock=Cycle)
    @extend_schema(tags=CYCLE_TAGS, request=ChangeCycleSerializer, responses=CycleDetailSerializer)
    def patch(self, request: Request, org: str, pk: int) -> Response:
        """Change the title, scoring rules, due date or note (not once closed: 409)."""
        m, cycle = _cycle(request, org, pk)
        body = _valid(ChangeCycleSerializer, request.data)
        if not body:
            raise ValidationError([Problem("", "nothing to change")])
        _check_rules(body)
        services.update_cycle(cycle, **body)
        return _cycle_detail(m, cycle)


class CycleOpen(APIView):
    @if_match(CycleDetail.get, lock=Cycle)
    @extend_schema(tags=CYCLE_TAGS, request=None, responses=CycleDetailSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Open a prepared cycle for ratings; only a cycle being prepared (else 409)."""
        m, cycle = _cycle(request, org, pk)
        services.open_cycle(cycle)
        return _cycle_detail(m, cycle)


class CycleClose(APIView):
    @if_match(CycleDetail.get, lock=Cycle)
    @extend_schema(tags=CYCLE_TAGS, request=None, responses=CycleDetailSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Close an open cycle: no more forms; unsubmitted drafts do not count."""
        m, cycle = _cycle(request, org, pk)
        services.close_cycle(cycle)
        return _cycle_detail(m, cycle)


class CyclePeople(APIView):
    @if_match(CycleDetail.get, lock=Cycle)
    @extend_schema(tags=CYCLE_TAGS, request=PeopleRefsSerializer, responses=CycleDetailSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Add people, each with a self rater and their line manager where they have accounts."""
        m, cycle = _cycle(request, org, pk)
        body = _valid(PeopleRefsSerializer, request.data)
        services.add_people(cycle, m.user, _people_by_reference(m, body["people"], "people"))
        return _cycle_detail(m, cycle)

    @if_match(CycleDetail.get, lock=Cycle, same=False)
    @extend_schema(
        tags=CYCLE_TAGS,
        parameters=[OpenApiParameter("person", str, required=True, description="A reference")],
        responses={204: None},
    )
    def delete(self, request: Request, org: str, pk: int) -> Response:
        """Take a person out of the cycle; not once a rater has submitted (409)."""
        _, cycle = _cycle(request, org, pk)
        reference = request.query_params.get("person", "")
        if not reference:
            raise ValidationError([Problem("person", "give the person's reference")])
        assessee = Assessee.objects.filter(cycle=cycle, person__reference=reference).first()
        if assessee is None:
            raise Http404("No such person in this cycle")
        services.remove_assessee(assessee)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _rater_data(rater: Rater) -> dict[str, Any]:
    return {
        "id": rater.pk,
        "person": _person_ref(rater.assessee.person),
        "username": rater.user.get_username(),
        "source": rater.source,
        "status": getattr(rater, "form_status", None) or NOT_STARTED,
        "invited_at": rater.invited_at,
    }


class CycleRaters(APIView):
    @extend_schema(tags=CYCLE_TAGS, responses=RaterSerializer(many=True))
    def get(self, request: Request, org: str, pk: int) -> Response:
        """Everyone asked to rate in this cycle, with where their form stands (not its content)."""
        _, cycle = _cycle(request, org, pk)
        rows = [_rater_data(r) for r in _raters(cycle)]
        return Response(RaterSerializer(rows, many=True).data)

    @if_match(CycleDetail.get, lock=Cycle, same=False)
    @extend_schema(tags=CYCLE_TAGS, request=AddRaterSerializer, responses={201: RaterSerializer})
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Ask a member to rate a person of the cycle as a source (self: the person only)."""
        m, cycle = _cycle(request, org, pk)
        body = _valid(AddRaterSerializer, request.data)
        assessee = Assessee.objects.filter(cycle=cycle, person__reference=body["person"]).first()
        if assessee is None:
            raise ValidationError([Problem("person", "not assessed in this cycle")])
        rater = services.add_rater(
            assessee, m.user, username=body["username"], source=body["source"]
        )
        row = _raters(cycle).get(pk=rater.pk)
        return Response(RaterSerializer(_rater_data(row)).data, status=status.HTTP_201_CREATED)


class CycleRater(APIView):
    @if_match(CycleDetail.get, lock=Cycle, same=False)
    @extend_schema(tags=CYCLE_TAGS, responses={204: None})
    def delete(self, request: Request, org: str, pk: int, rater: int) -> Response:
        """Withdraw a rater who has not submitted (409 once they have)."""
        _, cycle = _cycle(request, org, pk)
        found = Rater.objects.filter(assessee__cycle=cycle, pk=rater).first()
        if found is None:
            raise Http404("No such rater")
        services.remove_rater(found)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CycleResults(APIView):
    @extend_schema(tags=CYCLE_TAGS, responses=TeamResultsSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """The team: each person's fit, coverage, band and gaps; make-or-buy; bench strength."""
        _, cycle = _cycle(request, org, pk)
        return Response(TeamResultsSerializer(_team(load_cycle(cycle))).data)


class PersonResult(APIView):
    @extend_schema(
        tags=CYCLE_TAGS,
        responses=PersonResultSerializer,
        operation_id="organisations_cycles_results_person_retrieve",
    )
    def get(self, request: Request, org: str, pk: int, person: int) -> Response:
        """One person's result; the person and their manager only once it is released."""
        m = _membership(request, org)
        assessee = access_assessee(m, pk, person)
        manage = may(m.role, MANAGE_PEOPLE)
        data = (
            load_cycle(assessee.cycle)
            if manage
            else load_cycle(assessee.cycle, people=[person], as_of=assessee.released_at)
        )
        result = _person_result(data, assessee, manage=manage)
        if notes := sum(len(line["evidence"]) for line in result["lines"]):
            audit(
                "notes.read",
                request=request,
                organisation=m.organisation,
                target=assessee,
                data={"notes": notes, "person_id": assessee.person_id},
            )
        return Response(PersonResultSerializer(result).data)


class CycleRelease(APIView):
    @if_match(CycleDetail.get, lock=Cycle, same=False)
    @extend_schema(tags=CYCLE_TAGS, request=ReleaseSerializer, responses=ReleasedSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Release results to the people named (or all) and their line managers (owner, HR)."""
        m, cycle = _cycle(request, org, pk, action="release")
        body = _valid(ReleaseSerializer, request.data)
        references = body.get("people")
        if body["all"] == (references is not None):
            raise ValidationError([Problem("people", "give either people or all: true")])
        assessees = Assessee.objects.filter(cycle=cycle)
        if references is not None:
            people = _people_by_reference(m, references, "people")
            assessees = assessees.filter(person__in=people)
            missing = {p.pk for p in people} - set(assessees.values_list("person_id", flat=True))
            problems = [
                Problem(f"people[{i}]", "not assessed in this cycle")
                for i, p in enumerate(people)
                if p.pk in missing
            ]
            if problems:
                raise ValidationError(problems)
        released = services.release_results(cycle, m.user, list(assessees))
        return Response({"released": released})


class RatingsImport(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=CYCLE_TAGS,
        request=IMPORT_REQUEST,
        responses={200: StoredSerializer, 202: JOB_ACCEPTED, 413: TOO_LARGE},
    )
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Store ratings collected outside kamfit as submitted forms, all or nothing.

        A large file is imported by a background job: 202 with the job.
        """
        m, cycle = _cycle(request, org, pk)
        with rejections("ratings", request=request, organisation=m.organisation):
            data, name = _upload(request)
            if (later := import_later(request, m, JobKind.IMPORT_RATINGS, cycle)) is not None:
                return later
            stored = exchange.read_ratings(cycle, m.user, data, name)
        return Response({"stored": stored})


# --- Views: rating forms -----------------------------------------------------------------------


class MyRatingForms(APIView):
    @extend_schema(tags=FORM_TAGS, responses=AssignmentSerializer(many=True))
    def get(self, request: Request, org: str) -> Response:
        """The people you were asked to rate, with where your form stands."""
        m = _membership(request, org)
        mine = (
            list_my_raters(m)
            .select_related("assessee__person", "assessee__cycle")
            .annotate(form_status=_form_statuses())
            .order_by("-assessee__cycle__created_at", "assessee__person__name", "id")
        )
        rows = [_assignment(r, r.form_status) for r in mine]
        return Response(AssignmentSerializer(rows, many=True).data)


class RatingFormDetail(APIView):
    @extend_schema(tags=FORM_TAGS, responses=RatingFormSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """Your form: the requirements, the scale's levels and your saved answers."""
        rater = access_rater(_membership(request, org), pk)
        return _form_response(rater)

    @extend_schema(
        tags=FORM_TAGS,
        request=SaveFormSerializer,
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description="The ETag you read: the save is refused with 412 if the form "
                "changed since (recommended; without it the last save wins)",
            )
        ],
        responses={200: RatingFormSerializer, 412: OpenApiResponse(description=STALE_HELP)},
    )
    def put(self, request: Request, org: str, pk: int) -> Response:
        """Save your answers; with submit they become final (later changes: amend)."""
        m = _membership(request, org)
        rater = access_rater(m, pk)
        body = _valid(SaveFormSerializer, request.data)
        try:
            services.save_answers(
                rater,
                m.user,
                _answers(body),
                submit=body["submit"],
                expected_tag=_if_match(request),
            )
        except ValidationError as exc:
            raise _relocated(exc, "answers.", {"ratings": "answers"}) from None
        return _form_response(rater)


class RatingFormAmend(APIView):
    @extend_schema(tags=FORM_TAGS, request=AmendSerializer, responses={201: RatingFormSerializer})
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Start version n + 1 of a submitted form, saying why; the old one stays."""
        m = _membership(request, org)
        rater = access_rater(m, pk)
        body = _valid(AmendSerializer, request.data)
        services.amend_form(rater, m.user, reason=body["reason"])
        response = _form_response(rater)
        response.status_code = status.HTTP_201_CREATED
        return response


# --- Views: development plans ------------------------------------------------------------------


class PlanList(generics.ListAPIView):
    """The development plans you may see: all, or yours and your reports' once released."""

    serializer_class = PlanSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = _membership(self.request, self.kwargs["org"])
        return _plans(list_visible_plans(m)).order_by("-created_at", "-id")

    @extend_schema(tags=PLAN_TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The development plans you may see, newest first, in pages of 50."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=PLAN_TAGS, request=CreatePlanSerializer, responses={201: PlanDetailSerializer}
    )
    def post(self, request: Request, org: str) -> Response:
        """Make a plan from a person's gaps in a cycle: one suited action per main gap."""
        m = _membership(request, org)
        _require(m, "make development plans")
        body = _valid(CreatePlanSerializer, request.data)
        cycle = list_cycles(m.organisation).filter(pk=body["cycle"]).first()
        if cycle is None:
            raise ValidationError([Problem("cycle", "unknown assessment cycle")])
        person = list_people(m.organisation).filter(reference=body["person"]).first()
        if person is None:
            raise ValidationError([Problem("person", "not assessed in this cycle")])
        try:
            assessee = access_assessee(m, cycle.pk, person.pk)
        except Http404:
            raise ValidationError([Problem("person", "not assessed in this cycle")]) from None
        plan = plans.create_plan(assessee, m.user, title=body["title"])
        return _plan_detail(m, plan, status.HTTP_201_CREATED)


class PlanDetail(APIView):
    @etagged
    @extend_schema(tags=PLAN_TAGS, responses=PlanDetailSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """A plan's actions beside the person's latest scores since it was made."""
        m, plan = _plan(request, org, pk)
        return _plan_detail(m, plan)


class PlanActions(APIView):
    @if_match(PlanDetail.get, lock=Plan, same=False)
    @extend_schema(tags=PLAN_TAGS, request=ActionInputSerializer, responses={201: ActionSerializer})
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Add an action to an active plan (those who manage people)."""
        m, plan = _plan(request, org, pk, action="manage")
        body = _valid(ActionInputSerializer, request.data)
        action = plans.add_action(plan, m.user, plans.ActionInput(**body))
        return Response(ActionSerializer(_action(action)).data, status=status.HTTP_201_CREATED)


class PlanAction(APIView):
    @if_match(PlanDetail.get, lock=Plan, same=False)
    @extend_schema(tags=PLAN_TAGS, request=ChangeActionSerializer, responses=ActionSerializer)
    def patch(self, request: Request, org: str, pk: int, action: int) -> Response:
        """Change an action; the person and their manager change only status and progress_note."""
        m, plan = _plan(request, org, pk, action="update")
        found = Action.objects.filter(plan=plan, pk=action).select_related("owner", "plan").first()
        if found is None:
            raise Http404("No such action")
        body = _valid(ChangeActionSerializer, request.data)
        if not body:
            raise ValidationError([Problem("", "nothing to change")])
        fields = set(body) - PROGRESS_FIELDS
        if fields and not may(m.role, MANAGE_PEOPLE):
            raise ApiPermissionDenied(
                f"You may change only status and progress_note, not {', '.join(sorted(fields))}."
            )
        with transaction.atomic():
            if fields:
                plans.update_action(found, m.user, _action_input(found, body))
            if body.keys() & PROGRESS_FIELDS:
                plans.update_progress(
                    found,
                    m.user,
                    status=body.get("status", found.status),
                    progress_note=body.get("progress_note"),
                )
        found.refresh_from_db()
        return Response(ActionSerializer(_action(found)).data)


class PlanClose(APIView):
    @if_match(PlanDetail.get, lock=Plan)
    @extend_schema(tags=PLAN_TAGS, request=None, responses=PlanDetailSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Close a plan: it stays readable with its history (409 if already closed)."""
        m, plan = _plan(request, org, pk, action="manage")
        plans.close_plan(plan)
        return _plan_detail(m, plan)
