"""REST endpoints for readiness audits: open, invite, answer, close, repeat and read results.

Thin wrappers around the same access helpers and services as the audit pages. Nobody
reads another person's answers here: managers see who was asked and whether they
submitted, results viewers see :class:`~kamfit.audits.queries.AuditResults` (aggregated
and anonymity-safe), and a respondent reads and writes only their own answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kamfit.api.concurrency import etagged, if_match
from kamfit.api.fields import Flag, Number, Text, Whole
from kamfit.audits import services
from kamfit.audits.models import (
    Answer,
    Audit,
    AuditItem,
    AuditStatus,
    Department,
    ItemKind,
    Rating,
    Respondent,
    RespondentStatus,
    Scope,
)
from kamfit.audits.queries import AuditResults, ItemResult, get_audit_results
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.domain.readiness import DEFAULT_MIN_GROUP, MIN_GROUP_CEILING, MIN_GROUP_FLOOR
from kamfit.frameworks.models import FrameworkVersion
from kamfit.orgs.access import (
    access_audit,
    access_membership,
    access_own_response,
    list_audits,
    list_frameworks,
)
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_AUDIT, VIEW_AUDIT_RESULTS, may

TAGS = ["audits"]
HOW = [("member", "Member"), ("link", "Private link"), ("paper", "Paper")]


# --- Serializers -------------------------------------------------------------------------------


class Extends(serializers.Serializer):
    """A serializer documented as ``allOf`` its parent's component plus its own fields.

    Each choice set (an audit's status, a respondent's status) then lives in one
    component only: drf-spectacular warns when a field name such as ``status`` holds
    several choice sets and one of them appears in several components.
    """

    extends: type[serializers.Serializer]


class ExtendsSchema(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    target_class = Extends
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        parent = self.target.extends
        full = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        inherited = set(parent().fields)
        own = {k: v for k, v in full["properties"].items() if k not in inherited}
        required = [k for k in full.get("required", []) if k in own]
        part: dict[str, Any] = {"type": "object", "properties": own}
        if required:
            part["required"] = required
        return {"allOf": [auto_schema.resolve_serializer(parent, direction).ref, part]}


class AuditVersionSerializer(serializers.Serializer):
    framework = Whole(source="framework_id", help_text="The framework's ID")
    number = Whole(help_text="The published version number the audit uses")


class AuditSerializer(serializers.ModelSerializer):
    version = AuditVersionSerializer(read_only=True, help_text="The framework version asked about")
    previous = Whole(
        source="previous_id",
        allow_null=True,
        read_only=True,
        help_text="The audit this one repeats; its results show the change per item",
    )
    invited = Whole(read_only=True, help_text="Respondents asked to answer")
    submitted = Whole(read_only=True, help_text="Respondents who submitted")

    class Meta:
        model = Audit
        fields = [
            "id",
            "title",
            "version",
            "scope",
            "status",
            "min_group_size",
            "created_at",
            "previous",
            "invited",
            "submitted",
        ]
        read_only_fields = fields
        extra_kwargs: dict[str, dict[str, Any]] = {
            "scope": {"help_text": "litmus: the litmus test only; full: plus role elements"},
            "status": {"help_text": "open: takes answers; closed: results only"},
            "min_group_size": {"help_text": "The smallest department group results show"},
        }


class RespondentSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="The member's username, or the name given")
    how = serializers.SerializerMethodField(
        help_text="member: answers signed in; link: by a private link; paper: imported"
    )

    class Meta:
        model = Respondent
        fields = ["id", "name", "department", "how", "status"]
        read_only_fields = fields
        extra_kwargs = {"status": {"help_text": "invited, started (answers saved) or submitted"}}

    def get_name(self, obj: Respondent) -> str:
        return str(obj)

    @extend_schema_field(serializers.ChoiceField(choices=HOW))
    def get_how(self, obj: Respondent) -> str:
        return "member" if obj.user_id else "paper" if obj.on_paper else "link"


class AuditDetailSerializer(Extends, AuditSerializer):
    extends = AuditSerializer
    elements = serializers.SerializerMethodField(help_text="Keys of the chosen role elements")
    questions = serializers.SerializerMethodField(help_text="How many items respondents answer")
    respondents = serializers.SerializerMethodField(
        help_text="Who was asked, and whether they submitted (never their answers); "
        "null for roles that may read results but not manage audits"
    )

    class Meta(AuditSerializer.Meta):
        fields = [*AuditSerializer.Meta.fields, "closed_at", "elements", "questions", "respondents"]
        read_only_fields = fields
        extra_kwargs = {**AuditSerializer.Meta.extra_kwargs, "closed_at": {"allow_null": True}}

    def get_elements(self, obj: Audit) -> list[str]:
        return list(obj.elements.order_by("position").values_list("key", flat=True))

    def get_questions(self, obj: Audit) -> int:
        return AuditItem.objects.filter(audit=obj).count()

    @extend_schema_field(RespondentSerializer(many=True, allow_null=True))
    def get_respondents(self, obj: Audit) -> list[dict[str, Any]] | None:
        if not self.context.get("show_respondents"):
            return None
        rows = Respondent.objects.filter(audit=obj).select_related("user")
        return list(RespondentSerializer(rows, many=True).data)


class OpenAuditSerializer(serializers.Serializer):
    title = Text(max_length=200, allow_blank=True, trim_whitespace=False)
    framework = Whole(help_text="ID of a framework your organisation sees")
    version = Whole(help_text="A published version number of that framework")
    scope = serializers.ChoiceField(choices=Scope.choices, default=Scope.FULL)
    elements = serializers.ListField(
        child=Text(max_length=64),
        default=list,
        help_text="Keys of the role elements whose company responsibilities are asked (full scope)",
    )
    min_group_size = Whole(
        default=DEFAULT_MIN_GROUP,
        help_text=f"The smallest department group results show, {MIN_GROUP_FLOOR} to "
        f"{MIN_GROUP_CEILING}",
    )


class RepeatSerializer(serializers.Serializer):
    title = Text(
        max_length=200, required=False, allow_blank=True, help_text="Default: “… (repeat)”"
    )


class InviteSerializer(serializers.Serializer):
    user = Whole(required=False, help_text="A member's user ID; or give name instead")
    name = Text(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Someone without an account, who answers by a private link",
    )
    department = serializers.ChoiceField(choices=Department.choices)


class InvitedSerializer(Extends, RespondentSerializer):
    extends = RespondentSerializer
    link = Text(
        allow_null=True,
        read_only=True,
        help_text="The private answer link, shown this once (kamfit keeps only a hash); "
        "null for a member",
    )

    class Meta(RespondentSerializer.Meta):
        fields = [*RespondentSerializer.Meta.fields, "link"]
        read_only_fields = fields


class CountsSerializer(serializers.Serializer):
    poor = Whole()
    fair = Whole()
    good = Whole()


class ItemResultSerializer(serializers.Serializer):
    key = Text(help_text="Stable across repeated audits")
    text = Text()
    element = Text(
        allow_null=True, help_text="Key of the item's role element; null for the litmus test"
    )
    score = Number(
        allow_null=True, help_text="0 (all Poor) to 100 (all Good); null without ratings"
    )
    answered = Whole(help_text="Poor, Fair and Good answers")
    dont_know = Whole(help_text="“Don't know” answers, which are not a score")
    counts = CountsSerializer()
    spread = Number(
        allow_null=True, help_text="Standard deviation of the scores; null under 2 answers"
    )
    change = Number(allow_null=True, help_text="Points since the previous audit; null without one")


class ElementScoreSerializer(serializers.Serializer):
    key = Text()
    title = Text()
    role = Text(help_text="Title of the role of KAM it belongs to")
    score = Number(allow_null=True, help_text="Mean of its items' scores")


class RoleScoreSerializer(serializers.Serializer):
    title = Text()
    score = Number(allow_null=True, help_text="Mean of its elements' scores")


class DisagreementSerializer(serializers.Serializer):
    item = Text(help_text="The item's key")
    spread = Number(allow_null=True)
    department_range = Number(
        allow_null=True, help_text="Highest minus lowest group mean; null under 2 groups"
    )


class BreakdownRowSerializer(serializers.Serializer):
    item = Text(help_text="The item's key")
    means = serializers.ListField(
        child=Number(allow_null=True),
        help_text="One per label, in order; null where suppressed",
    )
    suppressed = serializers.ListField(
        child=Flag(),
        help_text="One per label: true where the mean rests on fewer than min_group_size "
        "answers, or would let a smaller group be worked out by subtraction (the mean is "
        "then null, shown as “fewer than k”)",
    )


class BreakdownSerializer(serializers.Serializer):
    labels = serializers.ListField(
        child=Text(),
        help_text="Departments shown, then “Other departments”; empty when withheld",
    )
    sizes = serializers.ListField(child=Whole(), help_text="One per label")
    note = Text(help_text="What was pooled or withheld, and why")
    min_group_size = Whole(
        help_text="k: the larger of the audit's and the organisation's minimum group size"
    )
    means = BreakdownRowSerializer(many=True)


class ResultsSerializer(serializers.Serializer):
    invited = Whole()
    submitted = Whole(help_text="Only submitted answers are counted")
    response_rate = Number(help_text="submitted / invited, 0 to 1")
    withheld = Flag(
        help_text="True while fewer than min_group_size have submitted: every list is then "
        "empty and breakdown.note says why"
    )
    litmus = ItemResultSerializer(many=True)
    responsibilities = ItemResultSerializer(many=True)
    elements = ElementScoreSerializer(many=True)
    roles = RoleScoreSerializer(many=True)
    weakest = serializers.ListField(child=Text(), help_text="Keys of the lowest-scored items")
    disagreements = DisagreementSerializer(many=True)
    breakdown = BreakdownSerializer()


class MyAuditSerializer(serializers.Serializer):
    id = Whole()
    title = Text()
    open = Flag(help_text="Whether the audit still takes answers")


class MyItemSerializer(serializers.Serializer):
    id = Whole(help_text="Use as item when answering")
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    text = Text()
    role = Text(allow_null=True, help_text="Role of KAM; null for the litmus")
    element = Text(allow_null=True, help_text="Role element; null for the litmus")
    rating = serializers.ChoiceField(
        choices=Rating.choices, allow_null=True, help_text="Your answer; null until you give one"
    )
    comment = Text(allow_blank=True)


class MyResponseSerializer(Extends, RespondentSerializer):
    extends = RespondentSerializer
    audit = serializers.SerializerMethodField(help_text="The audit you were asked to answer")
    items = serializers.SerializerMethodField(help_text="Every question, with your answer")

    class Meta(RespondentSerializer.Meta):
        fields = [*RespondentSerializer.Meta.fields, "audit", "items"]
        read_only_fields = fields

    @extend_schema_field(MyAuditSerializer)
    def get_audit(self, obj: Respondent) -> dict[str, Any]:
        return {"id": obj.audit_id, "title": obj.audit.title, "open": obj.audit.is_open}

    @extend_schema_field(MyItemSerializer(many=True))
    def get_items(self, obj: Respondent) -> list[dict[str, Any]]:
        answers = {a.item_id: a for a in Answer.objects.filter(respondent=obj)}
        rows = []
        for item in AuditItem.objects.filter(audit_id=obj.audit_id):
            answer = answers.get(item.pk)
            rows.append(
                {
                    "id": item.pk,
                    "kind": item.kind,
                    "text": item.text,
                    "role": item.role_title or None,
                    "element": item.element_title or None,
                    "rating": answer.rating if answer else None,
                    "comment": answer.comment if answer else "",
                }
            )
        return rows


class AnswerSerializer(serializers.Serializer):
    item = Whole(help_text="An item's id from GET my-response")
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = Text(required=False, allow_blank=True, default="")


class SaveAnswersSerializer(serializers.Serializer):
    answers = AnswerSerializer(
        many=True, required=False, help_text="New or changed answers; others are kept"
    )
    submit = Flag(default=False, help_text="Make the answers final; needs an answer to every item")


# --- Helpers -----------------------------------------------------------------------------------


def _problems(errors: object, location: str = "") -> Iterator[Problem]:
    """Flatten DRF's nested field errors into located problems (``answers[1].rating``)."""
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            if key == "non_field_errors":
                yield from _problems(value, location)
            elif isinstance(key, int):
                yield from _problems(value, f"{location}[{key}]")
            else:
                yield from _problems(value, f"{location}.{key}" if location else str(key))
    elif isinstance(errors, list):
        for n, value in enumerate(errors):
            if isinstance(value, str):
                yield Problem(location, value)
            else:
                yield from _problems(value, f"{location}[{n}]")


def _validated(serializer_class: type[serializers.Serializer], data: object) -> dict[str, Any]:
    """Return the body's validated data, or raise every problem as a 400 with ``problems``."""
    body = serializer_class(data=data)
    if not body.is_valid():
        raise ValidationError(list(_problems(body.errors)))
    return dict(body.validated_data)


def _membership(request: Request, org: str) -> Membership:
    return access_membership(request.user, org)


def _audit(request: Request, org: str, pk: int, action: str) -> tuple[Membership, Audit]:
    """The member and an audit of their organisation: 404 for others' before any 403."""
    m = _membership(request, org)
    try:
        return m, access_audit(m, pk, action=action)
    except PermissionDenied as exc:
        raise ApiPermissionDenied(str(exc)) from exc


def _counted(audits: QuerySet[Audit]) -> QuerySet[Audit]:
    submitted = Q(respondents__status=RespondentStatus.SUBMITTED)
    return audits.select_related("version").annotate(
        invited=Count("respondents", distinct=True),
        submitted=Count("respondents", filter=submitted, distinct=True),
    )


def _detail(m: Membership, audit: Audit, code: int = status.HTTP_200_OK) -> Response:
    audit = _counted(list_audits(m.organisation)).get(pk=audit.pk)
    context = {"show_respondents": may(m.role, MANAGE_AUDIT)}
    return Response(AuditDetailSerializer(audit, context=context).data, status=code)


def _require_open(audit: Audit) -> None:
    """Answer 409 for a closed audit before looking at the body (the service checks again)."""
    if audit.status != AuditStatus.OPEN:
        raise NotPermitted("This audit is closed.")


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _item(result: ItemResult) -> dict[str, Any]:
    item, stats = result.item, result.stats
    poor, fair, good = stats.counts
    return {
        "key": item.key,
        "text": item.text,
        "element": item.element_key or None,
        "score": result.score,
        "answered": stats.answered,
        "dont_know": stats.dont_know,
        "counts": {"poor": poor, "fair": fair, "good": good},
        "spread": _number(stats.spread),
        "change": _number(result.change),
    }


def _results(r: AuditResults) -> dict[str, Any]:
    """What :class:`AuditResults` holds, as JSON: aggregates only, no respondent's answers."""
    return {
        "invited": r.invited,
        "submitted": r.submitted,
        "response_rate": r.response_rate,
        "withheld": r.withheld,
        "litmus": [_item(x) for x in r.litmus],
        "responsibilities": [_item(x) for x in r.responsibilities],
        "elements": [
            {"key": e.key, "title": e.title, "role": e.role_title, "score": _number(e.score)}
            for e in r.elements
        ],
        "roles": [{"title": x.title, "score": _number(x.score)} for x in r.roles],
        "weakest": [x.item.key for x in r.weakest],
        "disagreements": [
            {
                "item": x.item.key,
                "spread": _number(d.spread),
                "department_range": _number(d.department_range),
            }
            for x, d in r.disagreements
        ],
        "breakdown": {
            "labels": list(r.breakdown.labels),
            "sizes": list(r.breakdown.sizes),
            "note": r.breakdown.note,
            "min_group_size": r.k,
            "means": [
                {
                    "item": x.item.key,
                    "means": [_number(v) for v in means],
                    "suppressed": [v is None for v in means],
                }
                for x, means in r.breakdown_rows
            ],
        },
    }


# --- Views -------------------------------------------------------------------------------------


class AuditList(generics.ListAPIView):
    """Your organisation's readiness audits, newest first (roles that may read results)."""

    serializer_class = AuditSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = _membership(self.request, self.kwargs["org"])
        if not may(m.role, VIEW_AUDIT_RESULTS):
            raise ApiPermissionDenied(
                f"Your role ({m.get_role_display()}) may not read audit results."
            )
        return _counted(list_audits(m.organisation)).order_by("-created_at", "-id")

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Your organisation's readiness audits, newest first (roles that may read results)."""
        return super().get(request, *args, **kwargs)

    @extend_schema(tags=TAGS, request=OpenAuditSerializer, responses={201: AuditDetailSerializer})
    def post(self, request: Request, org: str) -> Response:
        """Open an audit on a published framework version; its questions are frozen now."""
        m = _membership(request, org)
        if not may(m.role, MANAGE_AUDIT):
            raise ApiPermissionDenied(f"Your role ({m.get_role_display()}) may not open audits.")
        body = _validated(OpenAuditSerializer, request.data)
        framework = list_frameworks(m.organisation).filter(pk=body["framework"]).first()
        if framework is None:
            raise ValidationError([Problem("framework", "unknown framework")])
        version = FrameworkVersion.objects.filter(framework=framework, number=body["version"])
        chosen = version.select_related("framework").first()
        if chosen is None:
            raise ValidationError([Problem("version", "unknown version of this framework")])
        audit = services.open_audit(
            organisation=m.organisation,
            user=m.user,
            version=chosen,
            title=body["title"],
            scope=body["scope"],
            element_keys=body["elements"],
            min_group_size=body["min_group_size"],
        )
        return _detail(m, audit, status.HTTP_201_CREATED)


class AuditDetail(APIView):
    @etagged
    @extend_schema(tags=TAGS, responses=AuditDetailSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """One audit; roles that manage audits also see who was asked (never their answers)."""
        m, audit = _audit(request, org, pk, "results")
        return _detail(m, audit)


class AuditResultsView(APIView):
    @extend_schema(tags=TAGS, responses=ResultsSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """Aggregated results of submitted answers; small departments are pooled or withheld."""
        _, audit = _audit(request, org, pk, "results")
        return Response(ResultsSerializer(_results(get_audit_results(audit))).data)


class AuditRespondents(APIView):
    @if_match(AuditDetail.get, lock=Audit, same=False)
    @extend_schema(tags=TAGS, request=InviteSerializer, responses={201: InvitedSerializer})
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Ask a member (user) or someone without an account (name, by a private link)."""
        m, audit = _audit(request, org, pk, "manage")
        _require_open(audit)
        body = _validated(InviteSerializer, request.data)
        user_id, name = body.get("user"), body.get("name")
        if (user_id is None) == (name is None):
            raise ValidationError(
                [Problem("user", "give either user (a member's ID) or name (for a private link)")]
            )
        link = None
        if user_id is not None:
            members = get_user_model().objects.filter(memberships__organisation=m.organisation)
            user = members.filter(pk=user_id).first()
            if user is None:
                raise ValidationError([Problem("user", "not a member of this organisation")])
            respondent = services.invite_member(
                audit=audit, user=user, department=body["department"]
            )
        else:
            respondent, token = services.invite_by_link(
                audit=audit, name=name or "", department=body["department"]
            )
            link = request.build_absolute_uri(reverse("audit_link", args=[token]))
        data = dict(RespondentSerializer(respondent).data) | {"link": link}
        return Response(data, status=status.HTTP_201_CREATED)


class AuditClose(APIView):
    @if_match(AuditDetail.get, lock=Audit)
    @extend_schema(tags=TAGS, request=None, responses=AuditDetailSerializer)
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Stop taking answers; results stay. A closed audit answers 409."""
        m, audit = _audit(request, org, pk, "manage")
        services.close_audit(audit=audit)
        return _detail(m, audit)


class AuditRepeat(APIView):
    @extend_schema(tags=TAGS, request=RepeatSerializer, responses={201: AuditDetailSerializer})
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Open the same audit again; the new one's results show the change per item."""
        m, audit = _audit(request, org, pk, "manage")
        body = _validated(RepeatSerializer, request.data)
        new = services.repeat_audit(audit=audit, user=m.user, title=body.get("title") or None)
        return _detail(m, new, status.HTTP_201_CREATED)


class MyResponse(APIView):
    @etagged
    @extend_schema(tags=TAGS, responses=MyResponseSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """Your own answers to an audit you were asked to answer (404 if you were not)."""
        respondent = access_own_response(_membership(request, org), pk)
        return Response(MyResponseSerializer(respondent).data)

    @if_match(get, lock=Audit)
    @extend_schema(tags=TAGS, request=SaveAnswersSerializer, responses=MyResponseSerializer)
    def put(self, request: Request, org: str, pk: int) -> Response:
        """Save your answers; with submit they become final and later changes answer 409."""
        respondent = access_own_response(_membership(request, org), pk)
        if respondent.is_submitted:
            raise NotPermitted("These answers were submitted and are final.")
        _require_open(respondent.audit)
        body = _validated(SaveAnswersSerializer, request.data)
        answers: dict[int, services.AnswerInput] = {}
        problems = []
        for n, answer in enumerate(body.get("answers", [])):
            if answer["item"] in answers:
                problems.append(Problem(f"answers[{n}].item", "the same item twice"))
            answers[answer["item"]] = services.AnswerInput(answer["rating"], answer["comment"])
        if problems:
            raise ValidationError(problems)
        services.save_answers(respondent=respondent, answers=answers, submit=body["submit"])
        respondent.refresh_from_db()
        return Response(MyResponseSerializer(respondent).data)


class MyInvitationSerializer(serializers.Serializer):
    audit = MyAuditSerializer()
    status = serializers.ChoiceField(
        choices=RespondentStatus.choices, help_text="Where your own response stands"
    )


class MyAudits(APIView):
    @extend_schema(tags=TAGS, responses=MyInvitationSerializer(many=True))
    def get(self, request: Request, org: str) -> Response:
        """The audits of this organisation you were asked to answer, with your status."""
        m = _membership(request, org)
        mine = Respondent.objects.filter(
            audit__organisation=m.organisation, user_id=m.user_id
        ).select_related("audit")
        data = [
            {
                "audit": {"id": r.audit_id, "title": r.audit.title, "open": r.audit.is_open},
                "status": r.status,
            }
            for r in mine.order_by("-audit__created_at")
        ]
        return Response(MyInvitationSerializer(data, many=True).data)
