"""API: a person's subject-access export, ``GET …/people/<pk>/export/``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from kamfit.orgs.access import access_membership, access_person_export
from kamfit.privacy import export, services
from kamfit.web.export_limit import ExportLimitedView

__all__ = ["PersonExport"]


class PersonExport(ExportLimitedView):
    @extend_schema(
        tags=["People"],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The kamfit-person-export/1 document (docs/reference/"
                "person-export.schema.json)",
            )
        },
    )
    def get(self, request: Request, org: str, pk: int) -> Response:
        """Everything kamfit holds about one person (owner, HR, or the person themself)."""
        m = access_membership(request.user, org)
        try:
            person, own = access_person_export(m, pk)
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        document = services.export_person(person=person, actor=m.user, named=not own)
        response = Response(document)
        response["Content-Disposition"] = f'attachment; filename="{export.export_filename(person)}"'
        response["Cache-Control"] = "no-store"
        return response
