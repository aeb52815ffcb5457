"""REST endpoints for an organisation's members and invitations (owner and HR only).

Thin wrappers around :mod:`kamfit.orgs.access` and :mod:`kamfit.members.services`, as the
pages are: the same guards apply (nobody changes their own role or removes themself, an
organisation keeps an owner, only an owner grants or removes the owner role). Other
roles get 403, another organisation's members and invitations 404. Only ``email`` and
``role`` (invite) and ``role`` (change) are read from a body: an ``organisation`` or
``user`` sent along is ignored, never applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kamfit.api.fields import Choice, Email, Text, Whole
from kamfit.domain.errors import Problem, ValidationError
from kamfit.members import services
from kamfit.members.models import Invitation, InvitationState
from kamfit.members.views import invitation_link, two_factor_users
from kamfit.orgs.access import (
    access_invitation,
    access_member,
    access_member_admin,
    access_membership,
    list_invitations,
    list_members,
)
from kamfit.orgs.models import Membership, Role

TAGS = ["members"]
ROLE_ENUM = "MemberRoleEnum"


class MemberSerializer(serializers.Serializer):
    id = Whole(help_text="The membership's id (used in this API's URLs)")
    user = Whole(source="user_id", help_text="The user's id")
    username = Text(source="user.username")
    email = Text(source="user.email", allow_blank=True)
    role = Choice(enum=ROLE_ENUM, choices=Role.choices)
    two_factor = serializers.SerializerMethodField(
        help_text="Whether the user confirmed a TOTP device; null where 2FA is not installed"
    )
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True)
    joined_at = serializers.DateTimeField(source="created_at")

    def get_two_factor(self, member: Membership) -> bool | None:
        enrolled = self.context.get("two_factor")
        return None if enrolled is None else member.user_id in enrolled


class MemberRoleSerializer(serializers.Serializer):
    role = Choice(enum=ROLE_ENUM, choices=Role.choices, help_text="The member's new role")


class MemberInviteSerializer(serializers.Serializer):
    email = Email(help_text="Where the single-use link is sent")
    role = Choice(enum=ROLE_ENUM, choices=Role.choices, help_text="The role on joining")


class MemberInvitationSerializer(serializers.Serializer):
    id = Whole()
    email = Email()
    role = Choice(enum=ROLE_ENUM, choices=Role.choices)
    state = Choice(enum="InvitationStateEnum", choices=InvitationState.choices)
    invited_by = Text(source="invited_by.username", default=None)
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


def _validated(serializer_class: type[serializers.Serializer], data: object) -> Mapping[str, Any]:
    """Return the body's fields, or raise every problem (field and reason) as a 400."""
    body = serializer_class(data=data)
    if not body.is_valid():
        problems = [
            Problem(str(field), str(message))
            for field, messages in body.errors.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
        raise ValidationError(problems)
    return dict(body.validated_data)


def _member_data(member: Membership) -> dict[str, Any]:
    context = {"two_factor": two_factor_users(member.organisation)}
    return dict(MemberSerializer(member, context=context).data)


class MemberList(generics.ListAPIView):
    serializer_class = MemberSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        m = access_member_admin(self.request.user, self.kwargs["org"])
        return list_members(m.organisation).order_by("user__username", "pk")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        m = access_member_admin(self.request.user, self.kwargs["org"])
        context["two_factor"] = two_factor_users(m.organisation)
        return context

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The organisation's members: user, e-mail, role, two-factor status, last sign-in."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS, request=MemberInviteSerializer, responses={201: MemberInvitationSerializer}
    )
    def post(self, request: Request, org: str) -> Response:
        """Invite an e-mail address with a role; the single-use link goes out by e-mail."""
        m = access_member_admin(request.user, org)
        body = _validated(MemberInviteSerializer, request.data)
        invitation = services.invite_member(
            manager=m,
            email=body["email"],
            role=body["role"],
            link=invitation_link(request._request),
            request=request._request,
        )
        data = MemberInvitationSerializer(invitation).data
        return Response(data, status=status.HTTP_201_CREATED)


class MemberDetail(APIView):
    @extend_schema(tags=TAGS, request=MemberRoleSerializer, responses=MemberSerializer)
    def patch(self, request: Request, org: str, pk: int) -> Response:
        """Change a member's role (not your own; owner granted or removed by an owner only)."""
        m = access_membership(request.user, org)
        member = access_member(m, pk)
        body = _validated(MemberRoleSerializer, request.data)
        member = services.change_role(
            manager=m, member=member, role=body["role"], request=request._request
        )
        return Response(_member_data(member))

    @extend_schema(tags=TAGS, responses={204: None})
    def delete(self, request: Request, org: str, pk: int) -> Response:
        """Remove a member: their sessions end and their API tokens here are revoked."""
        m = access_membership(request.user, org)
        member = access_member(m, pk)
        services.remove_member(manager=m, member=member, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationList(generics.ListAPIView):
    serializer_class = MemberInvitationSerializer

    def get_queryset(self) -> Any:
        m = access_member_admin(self.request.user, self.kwargs["org"])
        return list_invitations(m.organisation)

    @extend_schema(tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Invitations of the organisation, newest first, with their state."""
        return super().get(request, *args, **kwargs)


class InvitationDetail(APIView):
    @extend_schema(tags=TAGS, responses={204: None})
    def delete(self, request: Request, org: str, pk: int) -> Response:
        """Revoke a pending invitation: its link stops working. Used or revoked: 409."""
        m = access_membership(request.user, org)
        invitation: Invitation = access_invitation(m, pk)
        services.revoke_invitation(manager=m, invitation=invitation, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
