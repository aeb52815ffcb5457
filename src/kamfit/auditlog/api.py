"""REST endpoint for the audit trail: ``GET …/organisations/<org>/audit-log/``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from kamfit.api.fields import Choice, Text, Whole
from kamfit.auditlog.models import AuditEvent, Via
from kamfit.auditlog.queries import actor_label, filter_events, parse_filter, with_actor_names
from kamfit.orgs.access import access_membership, list_audit_events

TAGS = ["audit trail"]
FILTERS = [
    OpenApiParameter("action", str, description="An action (auth.login) or a family (auth)"),
    OpenApiParameter("actor", str, description="A username or a user id"),
    OpenApiParameter("since", str, description="From this UTC date (YYYY-MM-DD)"),
    OpenApiParameter("until", str, description="Up to and including this UTC date"),
]


class AuditEventSerializer(serializers.Serializer[AuditEvent]):
    seq = Whole(help_text="Position in the hash chain")
    at = serializers.DateTimeField(help_text="When, in UTC")
    actor_id = Whole(allow_null=True)
    actor = serializers.SerializerMethodField(
        help_text="The actor's current username, 'user #id' if deleted, else the channel"
    )
    via = Choice(enum="AuditViaEnum", choices=Via.choices)
    action = Text()
    object_type = Text()
    object_id = Text()
    request_id = Text()
    ip = Text()
    details = serializers.DictField(source="data", help_text="Ids, codes and counts only")
    hash = Text()

    def get_actor(self, event: AuditEvent) -> str:
        return actor_label(event)


class AuditEventList(generics.ListAPIView):  # type: ignore[type-arg]
    """The organisation's audit trail, newest first: owner and HR only."""

    serializer_class = AuditEventSerializer

    @extend_schema(tags=TAGS, parameters=FILTERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        events = list_audit_events(access_membership(self.request.user, self.kwargs["org"]))
        return with_actor_names(filter_events(events, parse_filter(self.request.query_params)))
