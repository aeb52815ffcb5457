"""REST endpoints: thin wrappers around the same access helpers and services as the pages."""

from __future__ import annotations

import dataclasses

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kamfit.api import serializers as s
from kamfit.api.concurrency import etagged, if_match
from kamfit.domain import framework as fw
from kamfit.domain.errors import FrameworkInvalid, Problem, ValidationError
from kamfit.frameworks import services
from kamfit.frameworks.models import Framework, FrameworkVersion, VersionStatus
from kamfit.frameworks.queries import get_version_document
from kamfit.orgs.access import (
    access_framework,
    access_membership,
    access_version,
    list_frameworks,
    list_memberships,
)
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import EDIT_FRAMEWORK, may
from kamfit.uploads import rejections
from kamfit.web.export_limit import ExportLimitedView

FORMAT_PARAM = OpenApiParameter(
    "as", str, enum=["json", "yaml", "case"], description="Export format (default json)"
)


def _membership(request: Request, org: str) -> Membership:
    return access_membership(request.user, org)


def _require(m: Membership, permission: frozenset[str], what: str) -> None:
    if not may(m.role, permission):  # type: ignore[arg-type]
        raise ApiPermissionDenied(f"Your role may not {what}.")


def _visible_version(m: Membership, pk: int, number: int, action: str = "view") -> FrameworkVersion:
    try:
        return access_version(m, pk, number, action=action)
    except PermissionDenied as exc:
        raise ApiPermissionDenied(str(exc)) from exc


class MembershipList(generics.ListAPIView):
    """The organisations you belong to, with your role in each.

    An API token is scoped to one organisation: with one, the list holds that one only.
    """

    serializer_class = s.MembershipSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        memberships = list_memberships(self.request.user)
        token_org = getattr(self.request.auth, "organisation_id", None)
        if token_org is not None:
            memberships = memberships.filter(organisation_id=token_org)
        return memberships.order_by("organisation__name")


class FrameworkList(generics.ListAPIView):
    """Frameworks your organisation sees (its own and the shipped library); POST imports one."""

    serializer_class = s.FrameworkSerializer

    def get_serializer_context(self):  # type: ignore[no-untyped-def]
        m = _membership(self.request, self.kwargs["org"])
        return super().get_serializer_context() | {"show_drafts": may(m.role, EDIT_FRAMEWORK)}

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = _membership(self.request, self.kwargs["org"])
        return (
            list_frameworks(m.organisation)
            .select_related("parent")
            .prefetch_related("versions")
            .order_by("id")
        )

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: s.FrameworkSerializer})
    def post(self, request: Request, org: str) -> Response:
        """Import a framework document (kamfit JSON schema or CASE 1.0) as a new draft."""
        m = _membership(request, org)
        _require(m, EDIT_FRAMEWORK, "import frameworks")
        data = request.data
        with rejections("framework", request=request, organisation=m.organisation):
            doc = fw.loads(_json_text(data), "auto")
        framework = services.import_framework(organisation=m.organisation, user=m.user, doc=doc)
        return Response(s.FrameworkSerializer(framework).data, status=status.HTTP_201_CREATED)


def _json_text(data: object) -> str:
    import json  # noqa: PLC0415 - only this path needs it

    return json.dumps(data)


class FrameworkDetail(APIView):
    @etagged
    @extend_schema(responses=s.FrameworkSerializer)
    def get(self, request: Request, org: str, pk: int) -> Response:
        """One framework with its versions."""
        m = _membership(request, org)
        framework = access_framework(m, pk)
        context = {"show_drafts": may(m.role, EDIT_FRAMEWORK)}
        return Response(s.FrameworkSerializer(framework, context=context).data)


class FrameworkCopy(APIView):
    @extend_schema(request=s.CopySerializer, responses={201: s.FrameworkSerializer})
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Copy the latest published version of a framework into your organisation, as a draft."""
        m = _membership(request, org)
        source = access_framework(m, pk)  # 404 for another organisation's, before any 403
        _require(m, EDIT_FRAMEWORK, "create frameworks")
        version = source.versions.filter(status=VersionStatus.PUBLISHED).order_by("number").last()
        if version is None:
            raise Http404
        body = s.CopySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        framework = services.copy_framework(
            organisation=m.organisation,
            user=m.user,
            source=version,
            title=body.validated_data.get("title") or None,
        )
        return Response(s.FrameworkSerializer(framework).data, status=status.HTTP_201_CREATED)


class FrameworkDrafts(APIView):
    @if_match(FrameworkDetail.get, lock=Framework, same=False)
    @extend_schema(request=None, responses={201: s.VersionSerializer})
    def post(self, request: Request, org: str, pk: int) -> Response:
        """Start the next version as a draft, copied from the latest one."""
        m = _membership(request, org)
        try:
            framework = access_framework(m, pk, action="edit")
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        version = services.start_new_draft(framework=framework, user=m.user)
        return Response(s.VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDocument(ExportLimitedView):
    def is_export(self, request: Request) -> bool:
        """A YAML or CASE conversion counts as an export; the JSON document does not.

        The JSON document is the version's ordinary read, which an API client fetches
        (for its ETag) before each ``PUT``; the conversions exist to take the framework
        elsewhere, like the page's download.
        """
        return request.method == "GET" and request.query_params.get("as") in {"yaml", "case"}

    @etagged
    @extend_schema(
        parameters=[FORMAT_PARAM],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "application/yaml"): OpenApiTypes.OBJECT,  # the same document, as YAML
        },
    )
    def get(self, request: Request, org: str, pk: int, number: int) -> HttpResponse:
        """The version's full content in the kamfit schema (or YAML / CASE 1.0 with ``as``)."""
        version = _visible_version(_membership(request, org), pk, number)
        fmt = request.query_params.get("as", "json")
        if fmt not in {"json", "yaml", "case"}:
            raise ValidationError([Problem("as", f"use json, yaml or case, not {fmt!r}")])
        body = fw.dumps(get_version_document(version), fmt)
        content_type = "application/yaml" if fmt == "yaml" else "application/json"
        return HttpResponse(body, content_type=f"{content_type}; charset=utf-8")

    @if_match(get, lock=Framework, same=False)
    @extend_schema(request=OpenApiTypes.OBJECT, responses=s.VersionSerializer)
    def put(self, request: Request, org: str, pk: int, number: int) -> Response:
        """Replace a draft's whole content with a document; a published version answers 403."""
        version = _visible_version(_membership(request, org), pk, number, action="edit")
        doc = fw.loads(_json_text(request.data), "auto")
        services.replace_draft_content(version=version, doc=doc)
        return Response(s.VersionSerializer(version).data)


class VersionPublish(APIView):
    @if_match(VersionDocument.get, lock=Framework, same=False)
    @extend_schema(request=s.PublishSerializer, responses=s.VersionSerializer)
    def post(self, request: Request, org: str, pk: int, number: int) -> Response:
        """Publish a draft. From then on it never changes."""
        m = _membership(request, org)
        version = _visible_version(m, pk, number, action="publish")
        body = s.PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = body.validated_data.get("note", "")
        version = services.publish_version(version=version, user=m.user, note=note)
        return Response(s.VersionSerializer(version).data)


class VersionDiff(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "against",
                {"type": "integer", "minimum": 1},
                description="Version number to compare with",
            )
        ],
        responses=s.ChangeSerializer(many=True),
    )
    def get(self, request: Request, org: str, pk: int, number: int) -> Response:
        """What changed from an earlier version (default: the previous one, or the parent)."""
        m = _membership(request, org)
        version = _visible_version(m, pk, number)
        against = request.query_params.get("against")
        if against is not None and not (against.isdecimal()):
            raise ValidationError(
                [Problem("against", f"a version number is needed, not {against!r}")]
            )
        if against is not None:
            base: FrameworkVersion | None = _visible_version(m, pk, int(against))
        else:
            earlier = version.framework.versions.filter(number__lt=number, status="published")
            base = earlier.order_by("number").last() or version.framework.parent
        if base is None:
            return Response([])
        changes = fw.diff(get_version_document(base), get_version_document(version))
        return Response([dataclasses.asdict(c) for c in changes])


class Validate(APIView):
    @extend_schema(request=OpenApiTypes.OBJECT, responses=s.ValidationResultSerializer)
    def post(self, request: Request) -> Response:
        """Check a framework document without storing anything; lists every problem."""
        data = request.data
        if not isinstance(data, dict):
            problem = {"location": "(document)", "message": "send the document as a JSON object"}
            return Response({"detail": "invalid", "problems": [problem]}, status=400)
        if "CFDocument" in data:
            try:
                fw.loads(_json_text(data), "case")
            except FrameworkInvalid as exc:
                problems = list(exc.problems)
            else:
                problems = []
        else:
            problems = fw.validate(data)
        return Response(
            {
                "valid": not problems,
                "problems": [{"location": p.location, "message": p.message} for p in problems],
            }
        )
