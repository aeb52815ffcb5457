"""REST endpoints for role profiles and the weighting exercises that set their weights.

Thin wrappers around the same access helpers, services and queries as the profile pages.
Every member reads published profiles; editors (owner, HR, director, consultant) also
read and change drafts and run weighting exercises; an invited member reads and writes
only their own answers to an exercise, never anybody else's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kamfit.api.audits import Extends, _validated
from kamfit.api.concurrency import etagged, if_match
from kamfit.api.fields import Flag, Number, Text, Whole
from kamfit.domain import profiles as dp
from kamfit.domain import weighting
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.frameworks.models import FrameworkVersion
from kamfit.orgs.access import (
    access_exercise,
    access_membership,
    access_own_participation,
    access_profile,
    access_profile_version,
    list_exercises,
    list_frameworks,
    list_profiles,
)
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import EDIT_PROFILE, MANAGE_WEIGHTING, may
from kamfit.profiles import documents, services
from kamfit.profiles.models import (
    Function,
    Method,
    Participant,
    ParticipantStatus,
    Profile,
    ProfileStatus,
    ProfileVersion,
    Requirement,
    WeightingExercise,
)
from kamfit.profiles.queries import (
    ExerciseResults,
    ProfileDetail,
    build_job_description,
    get_exercise_results,
    get_profile_detail,
    paper_lines,
    profile_lines,
    weights_source,
)
from kamfit.web.export_limit import ExportLimitedView

TAGS = ["profiles"]
KIND_HELP = "C (competency), A (attribute) or C/A (either)"
DOCUMENT_FORMATS = ("json", "md", "pdf", "docx")
EXPORT_DOCUMENTS = {"md", "pdf", "docx"}  # counted against KAMFIT_EXPORT_RATE
MARKDOWN_MEDIA_TYPE = "text/markdown; charset=utf-8"


# --- Serializers: profiles ---------------------------------------------------------------------


class FrameworkVersionRefSerializer(serializers.Serializer):
    id = Whole(help_text="The framework version's ID")
    framework = Whole(source="framework_id", help_text="The framework's ID")
    number = Whole()
    title = Text()


class ProfileVersionSerializer(serializers.ModelSerializer):
    framework_version = FrameworkVersionRefSerializer(
        read_only=True, help_text="The published framework version the profile is built on"
    )

    class Meta:
        model = ProfileVersion
        fields = [
            "id",
            "profile",
            "number",
            "title",
            "status",
            "framework_version",
            "weights_origin",
            "created_at",
            "published_at",
        ]
        read_only_fields = fields
        extra_kwargs: dict[str, dict[str, Any]] = {
            "profile": {"help_text": "The profile's ID"},
            "status": {"help_text": "draft: editors only, may change; published: never changes"},
            "weights_origin": {
                "help_text": "equal, manual (set by hand) or exercise (adopted from one)"
            },
            "published_at": {"allow_null": True},
        }


class ProfileSerializer(serializers.ModelSerializer):
    latest = serializers.SerializerMethodField(
        help_text="The latest version you may see (drafts only for editors)"
    )
    published = serializers.SerializerMethodField(
        help_text="Number of the latest published version; null if none"
    )

    class Meta:
        model = Profile
        fields = ["id", "key", "title", "created_at", "latest", "published"]
        read_only_fields = fields
        extra_kwargs: dict[str, dict[str, Any]] = {
            "title": {"help_text": "That of the latest published version"}
        }

    @extend_schema_field(ProfileVersionSerializer)
    def get_latest(self, obj: Profile) -> dict[str, Any]:
        return dict(ProfileVersionSerializer(obj.visible[-1]).data)  # type: ignore[attr-defined]

    @extend_schema_field(Whole(allow_null=True))
    def get_published(self, obj: Profile) -> int | None:
        numbers = [v.number for v in obj.visible if v.is_published]  # type: ignore[attr-defined]
        return numbers[-1] if numbers else None


class ProfileDetailSerializer(Extends, ProfileSerializer):
    extends = ProfileSerializer
    versions = serializers.SerializerMethodField(
        help_text="Every version you may see, oldest first"
    )

    class Meta(ProfileSerializer.Meta):
        fields = [*ProfileSerializer.Meta.fields, "versions"]
        read_only_fields = fields

    @extend_schema_field(ProfileVersionSerializer(many=True))
    def get_versions(self, obj: Profile) -> list[dict[str, Any]]:
        return list(ProfileVersionSerializer(obj.visible, many=True).data)  # type: ignore[attr-defined]


class RequirementSerializer(serializers.ModelSerializer):
    key = Text(source="competency.key", help_text="The competency's key")
    name = Text(source="competency.name")
    kind = Text(source="competency.kind", help_text=KIND_HELP)

    class Meta:
        model = Requirement
        fields = ["key", "name", "kind", "required_level", "weight", "origin", "included"]
        read_only_fields = fields
        extra_kwargs: dict[str, dict[str, Any]] = {
            "weight": {"help_text": "Percent; included requirements sum to 100"},
            "origin": {"help_text": "element: cited at an element in scope; added: by hand"},
            "included": {"help_text": "False for a cited requirement removed by hand (weight 0)"},
        }


class ProfileVersionDetailSerializer(Extends, ProfileVersionSerializer):
    extends = ProfileVersionSerializer
    elements = serializers.SerializerMethodField(help_text="Keys of the role elements in scope")
    requirements = serializers.SerializerMethodField(
        help_text="Included and removed requirements, in order"
    )
    time_allocation = serializers.DictField(
        child=Number(),
        read_only=True,
        help_text="Percent of the role's time per activity area key, summing to 100",
    )
    weights_source = serializers.SerializerMethodField(
        help_text="Where the weights came from, in words"
    )

    class Meta(ProfileVersionSerializer.Meta):
        fields = [
            *ProfileVersionSerializer.Meta.fields,
            "summary",
            "note",
            "elements",
            "requirements",
            "time_allocation",
            "selling_limit",
            "weights_source",
            "weights_note",
        ]
        read_only_fields = fields
        extra_kwargs = {
            **ProfileVersionSerializer.Meta.extra_kwargs,
            "note": {"help_text": "What changed in this version"},
            "selling_limit": {"help_text": "Percent of time selling above which a warning shows"},
            "weights_note": {"help_text": "The adopted exercise's details (when adopted)"},
        }

    def _detail(self) -> ProfileDetail:
        detail: ProfileDetail = self.context["detail"]
        return detail

    def get_elements(self, obj: ProfileVersion) -> list[str]:
        return [e.element.key for e in self._detail().scope]

    @extend_schema_field(RequirementSerializer(many=True))
    def get_requirements(self, obj: ProfileVersion) -> list[dict[str, Any]]:
        return list(RequirementSerializer(self._detail().requirements, many=True).data)

    def get_weights_source(self, obj: ProfileVersion) -> str:
        return weights_source(obj)


class ChangedVersionSerializer(ProfileVersionDetailSerializer):
    extends = ProfileVersionDetailSerializer
    notes = serializers.ListField(
        child=Text(),
        read_only=True,
        help_text="What the change also did (requirements that joined or left) and warnings",
    )

    class Meta(ProfileVersionDetailSerializer.Meta):
        fields = [*ProfileVersionDetailSerializer.Meta.fields, "notes"]
        read_only_fields = fields


class CreateProfileSerializer(serializers.Serializer):
    framework_version = Whole(
        help_text="ID of a published framework version your organisation sees"
    )
    title = Text(allow_blank=True, trim_whitespace=False)
    elements = serializers.ListField(
        child=Text(max_length=64), help_text="Keys of the role elements in scope"
    )
    summary = Text(allow_blank=True, default="")


class RequirementChangeSerializer(serializers.Serializer):
    level = Whole(help_text="A level of the framework's proficiency scale")
    weight = Number(help_text="Percent")


class ChangeVersionSerializer(serializers.Serializer):
    title = Text(required=False, allow_blank=True)
    summary = Text(required=False, allow_blank=True)
    note = Text(required=False, allow_blank=True, help_text="What changed")
    elements = serializers.ListField(
        child=Text(max_length=64),
        required=False,
        help_text="Keys of the role elements in scope; requirements follow",
    )
    add = Text(required=False, help_text="Key of a catalogue competency to require (or restore)")
    remove = Text(required=False, help_text="Key of a requirement to remove")
    requirements = serializers.DictField(
        child=RequirementChangeSerializer(),
        required=False,
        help_text="Level and weight of every included requirement, by key; weights sum to 100",
    )
    equalise = Flag(
        required=False, help_text="true: give every included requirement the same weight"
    )
    time_allocation = serializers.DictField(
        child=Number(),
        required=False,
        help_text="Percent of the role's time per activity area key, summing to 100",
    )
    selling_limit = Number(
        required=False, help_text="Percent of time selling above which a warning shows"
    )


class ComparisonRowSerializer(serializers.Serializer):
    key = Text()
    name = Text()
    kind = Text(help_text=KIND_HELP)
    left_level = Whole(allow_null=True)
    right_level = Whole(allow_null=True, help_text="null for the paper")
    left_weight = Number(allow_null=True, help_text="Percent; null if absent")
    right_weight = Number(allow_null=True, help_text="Percent; null if absent")
    weight_difference = Number(help_text="Right minus left, absent counting 0")


class ComparisonSerializer(serializers.Serializer):
    left = ProfileVersionSerializer()
    right = ProfileVersionSerializer(allow_null=True, help_text="null for the paper's view")
    rows = ComparisonRowSerializer(many=True)


class JdItemSerializer(serializers.Serializer):
    text = Text()
    children = serializers.ListField(child=Text())


class JdRoleSerializer(serializers.Serializer):
    title = Text()
    description = Text(allow_blank=True)
    aims = serializers.ListField(child=Text())


class JdElementSerializer(serializers.Serializer):
    label = Text()  # type: ignore[assignment]
    title = Text()
    role_title = Text()
    kam = JdItemSerializer(many=True, help_text="The key account manager's responsibilities")
    company = JdItemSerializer(many=True, help_text="What the company commits to")


class JdRequirementSerializer(serializers.Serializer):
    key = Text()
    name = Text()
    kind = Text(help_text=KIND_HELP)
    required_level = Whole()
    level_name = Text(allow_blank=True)
    level_description = Text(allow_blank=True)
    weight = Number(help_text="Percent")
    wordings = serializers.ListField(
        child=Text(), help_text="The paper's wording at each element in scope"
    )


class JobDescriptionSerializer(serializers.Serializer):
    title = Text()
    profile_key = Text()
    version = Whole()
    status = Text(help_text="draft or published")
    framework_title = Text()
    framework_version = Whole()
    citation = Text(allow_blank=True, help_text="The source framework's citation")
    summary = Text(allow_blank=True)
    roles = JdRoleSerializer(many=True)
    elements = JdElementSerializer(many=True)
    requirements = JdRequirementSerializer(many=True)
    time_allocation = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        help_text="[activity label, percent] pairs; empty if not recorded",
    )
    selling_limit = Number()
    weights_source = Text()


# --- Serializers: weighting exercises ----------------------------------------------------------


class ExerciseVersionSerializer(serializers.Serializer):
    id = Whole(help_text="The profile version's ID")
    profile = Whole(source="profile_id", help_text="The profile's ID")
    number = Whole()


class ExerciseSerializer(serializers.ModelSerializer):
    profile_version = ExerciseVersionSerializer(read_only=True, help_text="The version weighed")
    adopted_into = ExerciseVersionSerializer(
        read_only=True, allow_null=True, help_text="The draft its consensus went into; or null"
    )
    invited = Whole(read_only=True, help_text="Participants asked to weigh")
    submitted = Whole(read_only=True, help_text="Participants who submitted")

    class Meta:
        model = WeightingExercise
        fields = [
            "id",
            "title",
            "method",
            "total_points",
            "status",
            "profile_version",
            "created_at",
            "closed_at",
            "adopted_at",
            "adopted_into",
            "invited",
            "submitted",
        ]
        read_only_fields = fields
        extra_kwargs: dict[str, dict[str, Any]] = {
            "method": {"help_text": "points, ranking or ahp (pairwise comparison)"},
            "total_points": {"help_text": "The points each participant allocates (points)"},
            "status": {"help_text": "open: takes answers; closed: results only"},
            "closed_at": {"allow_null": True},
            "adopted_at": {"allow_null": True},
        }


class ItemSerializer(serializers.Serializer):
    key = Text(help_text="The competency's key")
    name = Text()
    kind = Text(help_text=KIND_HELP)


class GroupSerializer(serializers.Serializer):
    key = Text(help_text="Key of the group's judgements in AHP answers")
    label = Text()  # type: ignore[assignment]
    members = serializers.ListField(
        child=Whole(), help_text="Positions in items; pairs use local positions"
    )


class ParticipantSerializer(serializers.ModelSerializer):
    username = Text(source="user.username", read_only=True)

    class Meta:
        model = Participant
        fields = ["id", "user", "username", "function", "status", "submitted_at"]
        read_only_fields = fields
        extra_kwargs: dict[str, dict[str, Any]] = {
            "user": {"help_text": "The member's user ID"},
            "status": {"help_text": "invited, started (answers saved) or submitted"},
            "submitted_at": {"allow_null": True},
        }


class ExerciseDetailSerializer(Extends, ExerciseSerializer):
    extends = ExerciseSerializer
    items = ItemSerializer(many=True, read_only=True, help_text="Frozen when the exercise opened")
    groups = GroupSerializer(many=True, read_only=True, help_text="AHP only: empty otherwise")
    participants = serializers.SerializerMethodField(
        help_text="Who was asked and where they stand (never their answers)"
    )

    class Meta(ExerciseSerializer.Meta):
        fields = [*ExerciseSerializer.Meta.fields, "items", "groups", "participants"]
        read_only_fields = fields

    @extend_schema_field(ParticipantSerializer(many=True))
    def get_participants(self, obj: WeightingExercise) -> list[dict[str, Any]]:
        rows = Participant.objects.filter(exercise=obj).select_related("user")
        return list(ParticipantSerializer(rows, many=True).data)


class OpenExerciseSerializer(serializers.Serializer):
    profile_version = Whole(help_text="ID of a profile version of your organisation")
    title = Text(allow_blank=True, trim_whitespace=False)
    method = serializers.ChoiceField(choices=Method.choices)
    total_points = Whole(default=100, help_text="10 to 1000 (points only)")


class ExerciseInviteSerializer(serializers.Serializer):
    user = Whole(help_text="A member's user ID")
    function = serializers.ChoiceField(
        choices=Function.choices, help_text="Whose view their weights represent"
    )


class AgreementSerializer(serializers.Serializer):
    w = Number(help_text="Kendall's W, 0 (none) to 1 (complete agreement)")
    chi2 = Number(help_text="Friedman's chi-square, m(n − 1)W")
    df = Whole(help_text="n − 1")
    p_value = Number()
    raters = Whole()
    items = Whole()


class ResultItemSerializer(ItemSerializer):
    consensus = Number(
        allow_null=True, help_text="Consensus weight, percent; null until someone submits"
    )
    spread = Number(
        allow_null=True, help_text="How far respondents' weights differ, percentage points"
    )


class RespondentWeightsSerializer(serializers.Serializer):
    participant = Whole(help_text="The participant's ID")
    username = Text()
    function = serializers.ChoiceField(choices=Function.choices)
    weights = serializers.DictField(
        child=Number(), help_text="Percent per item key, summing to 100"
    )
    cr = Number(
        allow_null=True, help_text="AHP: largest consistency ratio of their matrices; else null"
    )
    inconsistent = Flag(help_text="AHP: cr above cr_threshold")


class ExerciseResultsSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Method.choices)
    invited = Whole()
    submitted = Whole(help_text="Only submitted answers are counted")
    items = ResultItemSerializer(many=True)
    split_order = serializers.ListField(child=Text(), help_text="Item keys, widest spread first")
    agreement = AgreementSerializer(
        allow_null=True, help_text="Kendall's W; null under 2 respondents or 2 items"
    )
    cr_threshold = Number(help_text="Saaty's limit of an acceptable CR")
    respondents = RespondentWeightsSerializer(many=True)


class MyExerciseSerializer(serializers.Serializer):
    id = Whole()
    title = Text()
    method = serializers.ChoiceField(choices=Method.choices)
    open = Flag(help_text="Whether the exercise still takes answers")


class MyExerciseInvitationSerializer(serializers.Serializer):
    exercise = MyExerciseSerializer()
    function = serializers.ChoiceField(choices=Function.choices)
    status = serializers.ChoiceField(
        choices=ParticipantStatus.choices, help_text="Where your own answers stand"
    )


class MyExerciseDetailSerializer(MyExerciseSerializer):
    total_points = Whole(help_text="The points to allocate (points)")
    items = ItemSerializer(many=True)
    groups = GroupSerializer(many=True, help_text="AHP only: the judgements to give per group")


class MyAnswersSerializer(serializers.Serializer):
    id = Whole(help_text="Your participation's ID")
    function = serializers.ChoiceField(choices=Function.choices)
    status = serializers.ChoiceField(choices=ParticipantStatus.choices)
    submitted_at = serializers.DateTimeField(allow_null=True)
    exercise = MyExerciseDetailSerializer()
    answers = serializers.JSONField(
        help_text='points/ranking: {"key": number}; ahp: {"group key": {"i-j": value}}'
    )


class SaveExerciseAnswersSerializer(serializers.Serializer):
    answers = serializers.JSONField(
        required=False,
        help_text="Replace your saved answers; omit to keep them (e.g. to submit them)",
    )
    submit = Flag(default=False, help_text="Make the answers final; needs a complete, valid set")


# --- Helpers -----------------------------------------------------------------------------------


def _membership(request: Request, org: str) -> Membership:
    return access_membership(request.user, org)


def _refused(exc: PermissionDenied) -> ApiPermissionDenied:
    return ApiPermissionDenied(str(exc))


def _version(
    request: Request, org: str, pk: int, number: int, action: str = "view"
) -> tuple[Membership, ProfileVersion]:
    """The member and a profile version: 404 for others' (and hidden drafts) before any 403."""
    m = _membership(request, org)
    try:
        return m, access_profile_version(m, pk, number, action=action)
    except PermissionDenied as exc:
        raise _refused(exc) from exc


def _version_by_id(m: Membership, pk: int) -> ProfileVersion | None:
    """A profile version of the member's organisation they may see, by its ID; else None."""
    found = (
        ProfileVersion.objects.filter(profile__in=list_profiles(m.organisation))
        .filter(pk=pk)
        .values_list("profile_id", "number")
        .first()
    )
    if found is None:
        return None
    try:
        return access_profile_version(m, *found)
    except Http404:
        return None


def _exercise(request: Request, org: str, pk: int) -> tuple[Membership, WeightingExercise]:
    """The member and an exercise they may manage: 404 for others' before any 403."""
    m = _membership(request, org)
    try:
        return m, access_exercise(m, pk)
    except PermissionDenied as exc:
        raise _refused(exc) from exc


def _visible_versions(m: Membership) -> QuerySet[ProfileVersion]:
    versions = ProfileVersion.objects.select_related("framework_version").order_by("number")
    if may(m.role, EDIT_PROFILE):
        return versions
    return versions.filter(status=ProfileStatus.PUBLISHED)


def _profiles(m: Membership) -> QuerySet[Profile]:
    """The profiles the member sees, each with ``visible`` versions (two queries in all)."""
    profiles = list_profiles(m.organisation)
    if not may(m.role, EDIT_PROFILE):
        profiles = profiles.filter(versions__status=ProfileStatus.PUBLISHED).distinct()
    return profiles.prefetch_related(
        Prefetch("versions", queryset=_visible_versions(m), to_attr="visible")
    )


def _version_detail(
    version: ProfileVersion, code: int = status.HTTP_200_OK, notes: list[str] | None = None
) -> Response:
    version.refresh_from_db()
    context = {"detail": get_profile_detail(version)}
    if notes is None:
        return Response(ProfileVersionDetailSerializer(version, context=context).data, status=code)
    data = dict(ProfileVersionDetailSerializer(version, context=context).data) | {"notes": notes}
    return Response(data, status=code)


def _counted(exercises: QuerySet[WeightingExercise]) -> QuerySet[WeightingExercise]:
    submitted = Q(participants__status=ParticipantStatus.SUBMITTED)
    return exercises.select_related("profile_version", "adopted_into").annotate(
        invited=Count("participants", distinct=True),
        submitted=Count("participants", filter=submitted, distinct=True),
    )


def _exercise_detail(
    m: Membership, exercise: WeightingExercise, code: int = status.HTTP_200_OK
) -> Response:
    exercise = _counted(list_exercises(m.organisation)).get(pk=exercise.pk)
    return Response(ExerciseDetailSerializer(exercise).data, status=code)


def _percent(values: tuple[float, ...]) -> list[float | None]:
    return [v * 100 for v in values]


def _results(r: ExerciseResults) -> dict[str, Any]:
    """What :class:`ExerciseResults` holds, as JSON; weights in percent."""
    outcome, keys = r.outcome, r.keys
    nothing: list[float | None] = [None] * len(keys)
    consensus = _percent(outcome.consensus) if outcome else nothing
    spread = _percent(outcome.spread) if outcome else nothing
    respondents = []
    if outcome is not None:
        for n, (p, weights) in enumerate(zip(r.submitted, outcome.individual, strict=True)):
            respondents.append(
                {
                    "participant": p.pk,
                    "username": p.user.get_username(),
                    "function": p.function,
                    "weights": dict(zip(keys, _percent(weights), strict=True)),
                    "cr": outcome.consistency[n],
                    "inconsistent": n in outcome.inconsistent,
                }
            )
    agreement = outcome.agreement if outcome else None
    return {
        "method": r.exercise.method,
        "invited": len(r.participants),
        "submitted": len(r.submitted),
        "items": [
            item | {"consensus": c, "spread": s}
            for item, c, s in zip(r.exercise.items, consensus, spread, strict=True)
        ],
        "split_order": [keys[i] for i in outcome.split_order] if outcome else [],
        "agreement": dataclasses.asdict(agreement) if agreement else None,
        "cr_threshold": weighting.CR_THRESHOLD,
        "respondents": respondents,
    }


def _my_answers(p: Participant) -> dict[str, Any]:
    exercise = p.exercise
    return {
        "id": p.pk,
        "function": p.function,
        "status": p.status,
        "submitted_at": p.submitted_at,
        "answers": p.answers,
        "exercise": {
            "id": exercise.pk,
            "title": exercise.title,
            "method": exercise.method,
            "open": exercise.is_open,
            "total_points": exercise.total_points,
            "items": exercise.items,
            "groups": exercise.groups,
        },
    }


# --- Views: profiles ---------------------------------------------------------------------------


class ProfileList(generics.ListAPIView):
    """Your organisation's role profiles with their latest version you may see."""

    serializer_class = ProfileSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return _profiles(_membership(self.request, self.kwargs["org"])).order_by("title", "id")

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Your organisation's role profiles; drafts only for editors."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS, request=CreateProfileSerializer, responses={201: ProfileVersionDetailSerializer}
    )
    def post(self, request: Request, org: str) -> Response:
        """Create a profile and its draft version 1 from role elements of a framework version."""
        m = _membership(request, org)
        if not may(m.role, EDIT_PROFILE):
            raise ApiPermissionDenied(
                f"Your role ({m.get_role_display()}) may not create role profiles."
            )
        body = _validated(CreateProfileSerializer, request.data)
        fv = (
            FrameworkVersion.objects.filter(framework__in=list_frameworks(m.organisation))
            .filter(pk=body["framework_version"])
            .select_related("framework")
            .first()
        )
        if fv is None:
            raise ValidationError([Problem("framework_version", "unknown framework version")])
        version = services.create_profile(
            organisation=m.organisation,
            user=m.user,
            framework_version=fv,
            title=body["title"],
            element_keys=body["elements"],
            summary=body["summary"],
        )
        return _version_detail(version, status.HTTP_201_CREATED)


class ProfileDetailView(APIView):
    @etagged
    @extend_schema(tags=TAGS, responses=ProfileDetailSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """One profile with the versions you may see."""
        m = _membership(request, org)
        access_profile(m, pk)
        profile = _profiles(m).filter(pk=pk).first()
        if profile is None:  # no published version yet, and drafts are hidden from this role
            raise Http404("No such profile")
        return Response(ProfileDetailSerializer(profile).data)


class ProfileDrafts(APIView):
    @if_match(ProfileDetailView.get, lock=Profile, same=False)
    @extend_schema(
        tags=TAGS,
        request=None,
        responses={201: ProfileVersionDetailSerializer, 200: ProfileVersionDetailSerializer},
    )
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Start the next version as a draft copied from the latest; 200 with the open draft."""
        m = _membership(request, org)
        try:
            profile = access_profile(m, pk, action="edit")
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        drafts = ProfileVersion.objects.filter(profile=profile, status=ProfileStatus.DRAFT)
        existed = drafts.exists()
        draft = services.start_new_draft(profile, m.user)
        return _version_detail(draft, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class VersionDetail(APIView):
    @etagged
    @extend_schema(tags=TAGS, responses=ProfileVersionDetailSerializer)
    def get(self, request: Request, org: str, pk: int, number: int) -> Response:
        """A profile version: scope, requirements, weights and time allocation."""
        _, version = _version(request, org, pk, number)
        return _version_detail(version)

    @if_match(get, lock=Profile, same=False)
    @extend_schema(tags=TAGS, request=ChangeVersionSerializer, responses=ChangedVersionSerializer)
    def patch(self, request: Request, org: str, pk: int, number: int) -> Response:
        """Change a draft: details, scope, requirements, weights, time; all or nothing."""
        _, version = _version(request, org, pk, number, action="edit")
        body = _validated(ChangeVersionSerializer, request.data)
        if not body:
            raise ValidationError([Problem("", "nothing to change")])
        if "requirements" in body and body.get("equalise"):
            raise ValidationError([Problem("equalise", "give either requirements or equalise")])
        with transaction.atomic():
            notes = _apply_changes(version, body)
        return _version_detail(version, notes=notes)


def _apply_changes(version: ProfileVersion, body: dict[str, Any]) -> list[str]:
    """Call the service for each change in the body, in a fixed order; return their notes."""
    notes: list[str] = []
    if {"title", "summary", "note"} & body.keys():
        services.update_details(
            version,
            title=body.get("title", version.title),
            summary=body.get("summary", version.summary),
            note=body.get("note", version.note),
        )
    if "elements" in body:
        notes += services.set_scope(version, body["elements"])
    if "add" in body:
        services.add_requirement(version, body["add"])
    if "remove" in body:
        services.remove_requirement(version, body["remove"])
    if "requirements" in body:
        changes = {k: (v["level"], v["weight"]) for k, v in body["requirements"].items()}
        services.update_requirements(version, changes)
    if body.get("equalise"):
        services.equalise_weights(version)
    if {"time_allocation", "selling_limit"} & body.keys():
        shares = body.get("time_allocation", version.time_allocation)
        notes += services.set_time_allocation(
            version, shares, selling_limit=body.get("selling_limit")
        )
    return notes


class VersionPublish(APIView):
    @if_match(VersionDetail.get, lock=Profile)
    @extend_schema(tags=TAGS, request=None, responses=ProfileVersionDetailSerializer)
    def post(self, request: Request, org: str, pk: int, number: int) -> Response:
        """Publish a draft: from now on it never changes and assessments may use it."""
        m, version = _version(request, org, pk, number, action="publish")
        services.publish_version(version, m.user)
        return _version_detail(version)


FORMAT_PARAM = OpenApiParameter(
    "format",
    str,
    enum=list(DOCUMENT_FORMATS),
    description="json (default), md (Markdown), pdf or docx",
)


class JobDescription(ExportLimitedView):
    def is_export(self, request: Request) -> bool:
        """The documents count as exports; the JSON is the version's ordinary read."""
        return request.query_params.get("format", "json") in EXPORT_DOCUMENTS

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        """Read ``?format=`` as the document asked for, not as a renderer; errors answer JSON."""
        if "format" in request.query_params:
            return JSONRenderer(), JSONRenderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(
        tags=TAGS,
        parameters=[FORMAT_PARAM],
        responses={
            (200, "application/json"): JobDescriptionSerializer,
            (200, "text/markdown"): OpenApiTypes.STR,
            (200, documents.PDF_MEDIA_TYPE): OpenApiTypes.BINARY,
            (200, documents.DOCX_MEDIA_TYPE): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request, org: str, pk: int, number: int) -> HttpResponse:
        """The version's job description as JSON, or as a Markdown, PDF or Word document."""
        fmt = request.query_params.get("format", "json")
        if fmt not in DOCUMENT_FORMATS:
            raise ValidationError([Problem("format", f"use json, md, pdf or docx, not {fmt!r}")])
        _, version = _version(request, org, pk, number)
        jd = build_job_description(get_profile_detail(version))
        if fmt == "json":
            return Response(JobDescriptionSerializer(dataclasses.asdict(jd)).data)
        if fmt == "md":
            body, media = dp.render_markdown(jd).encode(), MARKDOWN_MEDIA_TYPE
        elif fmt == "pdf":
            body, media = documents.render_pdf(jd), documents.PDF_MEDIA_TYPE
        else:
            body, media = documents.render_docx(jd), documents.DOCX_MEDIA_TYPE
        response = HttpResponse(body, content_type=media)
        filename = documents.document_filename(jd, fmt)
        response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
        return response


class ProfileCompare(APIView):
    @extend_schema(
        tags=TAGS,
        parameters=[
            OpenApiParameter("left", int, required=True, description="A profile version's ID"),
            OpenApiParameter(
                "right",
                str,
                description="Another version's ID, or paper (default): the paper's unweighted "
                "list for the left version's elements",
            ),
        ],
        responses=ComparisonSerializer,
    )
    def get(self, request: Request, org: str) -> Response:
        """Two profile versions side by side, or one against the paper's unweighted view."""
        m = _membership(request, org)
        raw = {side: request.query_params.get(side, "") for side in ("left", "right")}
        raw["right"] = raw["right"] or "paper"
        problems = [
            Problem(side, f"a profile version's ID is needed, not {value!r}")
            for side, value in raw.items()
            if not value.isdecimal() and (side, value) != ("right", "paper")
        ]
        if problems:
            raise ValidationError(problems)
        left = _version_by_id(m, int(raw["left"]))
        right = None if raw["right"] == "paper" else _version_by_id(m, int(raw["right"]))
        if left is None or (raw["right"] != "paper" and right is None):
            raise Http404("No such profile version")
        left_detail = get_profile_detail(left)
        right_lines = (
            paper_lines(left_detail) if right is None else profile_lines(get_profile_detail(right))
        )
        rows = dp.compare_profiles(profile_lines(left_detail), right_lines)
        data = {
            "left": left,
            "right": right,
            "rows": [
                dataclasses.asdict(r) | {"weight_difference": r.weight_difference} for r in rows
            ],
        }
        return Response(ComparisonSerializer(data).data)


# --- Views: weighting exercises ----------------------------------------------------------------


class ExerciseList(generics.ListAPIView):
    """Your organisation's weighting exercises, newest first (roles that shape profiles)."""

    serializer_class = ExerciseSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = _membership(self.request, self.kwargs["org"])
        if not may(m.role, MANAGE_WEIGHTING):
            raise ApiPermissionDenied(
                f"Your role ({m.get_role_display()}) may not manage weighting exercises."
            )
        return _counted(list_exercises(m.organisation)).order_by("-created_at", "-id")

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Your organisation's weighting exercises, newest first (roles that shape profiles)."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS, request=OpenExerciseSerializer, responses={201: ExerciseDetailSerializer}
    )
    def post(self, request: Request, org: str) -> Response:
        """Open an exercise on a profile version's requirements; its items are frozen now."""
        m = _membership(request, org)
        if not may(m.role, MANAGE_WEIGHTING):
            raise ApiPermissionDenied(
                f"Your role ({m.get_role_display()}) may not manage weighting exercises."
            )
        body = _validated(OpenExerciseSerializer, request.data)
        version = _version_by_id(m, body["profile_version"])
        if version is None:
            raise ValidationError([Problem("profile_version", "unknown profile version")])
        exercise = services.open_exercise(
            organisation=m.organisation,
            user=m.user,
            version=version,
            title=body["title"],
            method=body["method"],
            total_points=body["total_points"],
        )
        return _exercise_detail(m, exercise, status.HTTP_201_CREATED)


class ExerciseDetail(APIView):
    @etagged
    @extend_schema(tags=TAGS, responses=ExerciseDetailSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """One exercise: its frozen items, AHP groups and who was asked (never their answers)."""
        m, exercise = _exercise(request, org, pk)
        return _exercise_detail(m, exercise)


class ExerciseParticipants(APIView):
    @if_match(ExerciseDetail.get, lock=WeightingExercise, same=False)
    @extend_schema(
        tags=TAGS,
        request=ExerciseInviteSerializer,
        responses={201: ParticipantSerializer, 200: ParticipantSerializer},
    )
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Invite a member with their function; 200 with the invitation if already invited."""
        m, exercise = _exercise(request, org, pk)
        if not exercise.is_open:
            raise NotPermitted("This exercise is closed.")
        body = _validated(ExerciseInviteSerializer, request.data)
        members = get_user_model().objects.filter(memberships__organisation=m.organisation)
        user = members.filter(pk=body["user"]).first()
        if user is None:
            raise ValidationError([Problem("user", "not a member of this organisation")])
        created = services.invite_participants(exercise, [(user, body["function"])])
        participant = exercise.participants.select_related("user").get(user=user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ParticipantSerializer(participant).data, status=code)


class ExerciseClose(APIView):
    @if_match(ExerciseDetail.get, lock=WeightingExercise)
    @extend_schema(tags=TAGS, request=None, responses=ExerciseDetailSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Stop taking answers; results stay. A closed exercise answers 409."""
        m, exercise = _exercise(request, org, pk)
        services.close_exercise(exercise)
        return _exercise_detail(m, exercise)


class ExerciseResultsView(APIView):
    @extend_schema(tags=TAGS, responses=ExerciseResultsSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """Each respondent's weights, the consensus, where people disagree, Kendall's W, AHP CR."""
        _, exercise = _exercise(request, org, pk)
        return Response(ExerciseResultsSerializer(_results(get_exercise_results(exercise))).data)


class ExerciseAdopt(APIView):
    @if_match(ExerciseDetail.get, lock=WeightingExercise, same=False)
    @extend_schema(tags=TAGS, request=None, responses=ProfileVersionDetailSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Write the consensus weights into the profile's draft (started if needed); close."""
        m, exercise = _exercise(request, org, pk)
        try:
            access_profile(m, exercise.profile_version.profile_id, action="edit")
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        draft = services.adopt_consensus(exercise, m.user)
        return _version_detail(draft)


class MyExercises(APIView):
    @extend_schema(tags=TAGS, responses=MyExerciseInvitationSerializer(many=True))
    def get(self, request: Request, org: str) -> Response:
        """The weighting exercises of this organisation you were asked to answer."""
        m = _membership(request, org)
        mine = Participant.objects.filter(
            exercise__organisation=m.organisation, user_id=m.user_id
        ).select_related("exercise")
        data = [
            {
                "exercise": {
                    "id": p.exercise_id,
                    "title": p.exercise.title,
                    "method": p.exercise.method,
                    "open": p.exercise.is_open,
                },
                "function": p.function,
                "status": p.status,
            }
            for p in mine.order_by("-exercise__created_at", "-exercise_id")
        ]
        return Response(MyExerciseInvitationSerializer(data, many=True).data)


class MyAnswers(APIView):
    @etagged
    @extend_schema(tags=TAGS, responses=MyAnswersSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """Your own answers to an exercise you were asked to answer (404 if you were not)."""
        participant = access_own_participation(_membership(request, org), pk)
        return Response(MyAnswersSerializer(_my_answers(participant)).data)

    @if_match(get, lock=WeightingExercise)
    @extend_schema(tags=TAGS, request=SaveExerciseAnswersSerializer, responses=MyAnswersSerializer)
    def put(self, request: Request, org: str, pk: int) -> Response:
        """Save your answers; with submit they become final and later changes answer 409."""
        participant = access_own_participation(_membership(request, org), pk)
        if participant.is_submitted:
            raise NotPermitted("Your weights are submitted and final.")
        if not participant.exercise.is_open:
            raise NotPermitted("This exercise is closed.")
        body = _validated(SaveExerciseAnswersSerializer, request.data)
        answers = body.get("answers", participant.answers)
        services.save_answers(participant, answers, submit=body["submit"])
        participant.refresh_from_db()
        return Response(MyAnswersSerializer(_my_answers(participant)).data)
