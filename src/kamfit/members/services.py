"""Inviting people, joining, changing roles and removing members.

Guards every entry point (page, API, CLI) shares: nobody changes their own role or
removes themselves; an organisation keeps at least one owner; only an owner grants or
takes away the owner role. Removing a member deletes the membership (which ends the
user's sessions, see :mod:`kamfit.accounts`) and revokes their API tokens there.

An invitation link carries a random token of 256 bits; only its SHA-256 is stored. It
is single-use, expires after ``KAMFIT_INVITATION_HOURS`` (72 by default), can be
revoked, and re-sending it issues a new token, so the old link stops working.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core import exceptions as django_exceptions
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from kamfit.auditlog.services import record
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.members.models import Invitation, InvitationState
from kamfit.members.tokens import revoke_tokens
from kamfit.orgs.models import Membership, Role
from kamfit.orgs.permissions import MANAGE_MEMBERS, may

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

__all__ = [
    "accept_invitation",
    "change_role",
    "find_invitation",
    "hash_invitation_token",
    "invitation_hours",
    "invite_member",
    "join_with_new_account",
    "remove_member",
    "resend_invitation",
    "revoke_invitation",
]

DEFAULT_INVITATION_HOURS = 72
logger = logging.getLogger(__name__)
Link = Callable[[str], str]  # the accept page's absolute URL for a plain token


def invitation_hours() -> int:
    """Return how long an invitation link stays valid, in hours."""
    return int(getattr(settings, "KAMFIT_INVITATION_HOURS", DEFAULT_INVITATION_HOURS))


def hash_invitation_token(token: str) -> str:
    """Return the hex SHA-256 stored for an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_invitation_token(token)


def _send(invitation: Invitation, link: str) -> None:
    """E-mail the link; a mail server that fails is logged (HR may then send it again)."""
    org = invitation.organisation.name
    try:
        _mail(invitation, org, link)
    except (OSError, smtplib.SMTPException):
        logger.exception("invitation %s: the e-mail could not be sent", invitation.pk)


def _mail(invitation: Invitation, org: str, link: str) -> None:
    send_mail(
        subject=f"You are invited to {org} on kamfit",
        message=(
            f"Hello,\n\nYou are invited to join {org} on kamfit as "
            f"{invitation.get_role_display()}.\n\nOpen this link within "
            f"{invitation_hours()} hours to accept; it works once:\n\n{link}\n\n"
            "If you did not expect this e-mail, ignore it: nothing happens without the link."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def _check_grant(manager: Membership, role: str, location: str) -> None:
    if role not in Role.values:
        choices = ", ".join(Role.values)
        raise ValidationError([Problem(location, f"{role!r} is not a role; choose {choices}")])
    if role == Role.OWNER and manager.role != Role.OWNER:
        raise PermissionDenied("Only an owner may grant the owner role.")


def invite_member(
    *,
    manager: Membership,
    email: str,
    role: str,
    link: Link,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite an e-mail address to the manager's organisation with a role, and send the link.

    A pending invitation to the same address is replaced: its link stops working.
    """
    email = email.strip()
    try:
        validate_email(email)
    except django_exceptions.ValidationError:
        raise ValidationError([Problem("email", "not a valid e-mail address")]) from None
    _check_grant(manager, role, "role")
    org = manager.organisation
    if Membership.objects.filter(organisation=org, user__email__iexact=email).exists():
        raise ValidationError([Problem("email", "this address belongs to a member already")])
    token, digest = _new_token()
    now = timezone.now()
    with transaction.atomic():
        pending = Invitation.objects.filter(organisation=org, email__iexact=email).filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        )
        pending.update(revoked_at=now)
        invitation = Invitation.objects.create(
            organisation=org,
            email=email,
            role=role,
            token_hash=digest,
            invited_by=manager.user,
            sent_at=now,
            expires_at=now + timedelta(hours=invitation_hours()),
        )
        record(
            "member.invited",
            request=request,
            actor=manager.user,
            organisation=org,
            target=invitation,
            data={"invitation_id": invitation.pk, "role": role},
        )
        transaction.on_commit(lambda: _send(invitation, link(token)))
    return invitation


def resend_invitation(
    *,
    manager: Membership,
    invitation: Invitation,
    link: Link,
    request: HttpRequest | None = None,
) -> Invitation:
    """Send a pending or expired invitation again with a new token; the old link dies."""
    if invitation.state in {InvitationState.ACCEPTED, InvitationState.REVOKED}:
        raise NotPermitted(f"This invitation is {invitation.state.label.lower()}: invite again.")
    _check_grant(manager, invitation.role, "role")
    token, digest = _new_token()
    now = timezone.now()
    with transaction.atomic():
        invitation.token_hash = digest
        invitation.sent_at = now
        invitation.expires_at = now + timedelta(hours=invitation_hours())
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        record(
            "member.invited",
            request=request,
            actor=manager.user,
            organisation=invitation.organisation,
            target=invitation,
            data={"invitation_id": invitation.pk, "role": invitation.role, "resent": True},
        )
        transaction.on_commit(lambda: _send(invitation, link(token)))
    return invitation


def revoke_invitation(
    *, manager: Membership, invitation: Invitation, request: HttpRequest | None = None
) -> Invitation:
    """Revoke a pending invitation so its link no longer works."""
    if invitation.state in {InvitationState.ACCEPTED, InvitationState.REVOKED}:
        raise NotPermitted(f"This invitation is {invitation.state.label.lower()} already.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(
            "invitation.revoked",
            request=request,
            actor=manager.user,
            organisation=invitation.organisation,
            target=invitation,
            data={"invitation_id": invitation.pk},
        )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """Return the pending invitation a link's token opens, or None (used, expired, unknown)."""
    invitation = (
        Invitation.objects.filter(token_hash=hash_invitation_token(token))
        .select_related("organisation")
        .first()
    )
    if invitation is None or invitation.state != InvitationState.PENDING:
        return None
    return invitation


def accept_invitation(
    *, invitation: Invitation, user: AbstractBaseUser, request: HttpRequest | None = None
) -> Membership:
    """Make ``user`` a member with the invitation's role; the invitation is then used up.

    The signed-in user's e-mail address must be the invited one: a forwarded link does
    not let someone else in.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.state != InvitationState.PENDING:
            raise NotPermitted("This invitation link is no longer valid.")
        if (getattr(user, "email", "") or "").casefold() != locked.email.casefold():
            raise PermissionDenied(
                "This invitation is for another e-mail address: sign out, then open the "
                "link again to create an account, or sign in with the invited address."
            )
        org = locked.organisation
        if Membership.objects.filter(organisation=org, user_id=user.pk).exists():
            raise NotPermitted(f"You are a member of {org.name} already.")
        membership = Membership.objects.create(user_id=user.pk, organisation=org, role=locked.role)
        locked.accepted_at = timezone.now()
        locked.accepted_by_id = user.pk
        locked.save(update_fields=["accepted_at", "accepted_by"])
        record(
            "member.joined",
            request=request,
            actor=user,
            organisation=org,
            target=membership,
            data={"invitation_id": locked.pk, "role": locked.role, "user_id": user.pk},
        )
    return membership


def join_with_new_account(
    *,
    invitation: Invitation,
    username: str,
    password: str,
    request: HttpRequest | None = None,
) -> Membership:
    """Create an account for the invited address and accept the invitation with it."""
    user_model: Any = get_user_model()
    username = username.strip()
    problems = []
    if not username:
        problems.append(Problem("username", "choose a username"))
    elif user_model.objects.filter(username__iexact=username).exists():
        problems.append(Problem("username", "this username is taken: choose another"))
    candidate = user_model(username=username, email=invitation.email)
    try:
        password_validation.validate_password(password, candidate)
    except django_exceptions.ValidationError as exc:
        problems.extend(Problem("password", message) for message in exc.messages)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        user = user_model.objects.create_user(
            username=username, email=invitation.email, password=password
        )
        return accept_invitation(invitation=invitation, user=user, request=request)


def _guard(manager: Membership, member: Membership, role: str | None) -> None:
    """Apply the rules shared by role changes (``role``) and removals (``role`` None).

    The owners' rows are locked first and the manager's role is read again under the
    lock: two owners demoting each other at the same moment leave one owner, not none.
    """
    what = "change your own role" if role is not None else "remove yourself"
    if member.user_id == manager.user_id:
        raise PermissionDenied(f"You cannot {what}: ask another owner or HR.")
    owners = Membership.objects.select_for_update().filter(
        organisation_id=member.organisation_id, role=Role.OWNER
    )
    owner_count = len(owners)
    fresh = Membership.objects.filter(pk=manager.pk, organisation_id=member.organisation_id)
    manager_role = fresh.values_list("role", flat=True).first()
    if not may(manager_role, MANAGE_MEMBERS):
        raise PermissionDenied("Your role no longer allows managing members.")
    if Role.OWNER in {member.role, role} and manager_role != Role.OWNER:
        raise PermissionDenied("Only an owner may grant or take away the owner role.")
    if member.role == Role.OWNER and role != Role.OWNER and owner_count <= 1:
        raise NotPermitted("An organisation keeps at least one owner: appoint another first.")


def change_role(
    *,
    manager: Membership,
    member: Membership,
    role: str,
    request: HttpRequest | None = None,
) -> Membership:
    """Give a member another role."""
    _check_grant(manager, role, "role")
    with transaction.atomic():
        member = Membership.objects.select_for_update().get(pk=member.pk)
        _guard(manager, member, role)
        before = member.role
        if before == role:
            return member
        member.role = role
        member.save(update_fields=["role"])
        record(
            "member.role_changed",
            request=request,
            actor=manager.user,
            organisation=member.organisation,
            target=member,
            data={"user_id": member.user_id, "from": before, "to": role},
        )
    return member


def remove_member(
    *, manager: Membership, member: Membership, request: HttpRequest | None = None
) -> int:
    """Remove a member from the organisation and revoke their API tokens there.

    Returns the number of tokens revoked.
    """
    with transaction.atomic():
        member = (
            Membership.objects.select_for_update().select_related("organisation").get(pk=member.pk)
        )
        _guard(manager, member, None)
        user, org = member.user, member.organisation
        record(
            "member.removed",
            request=request,
            actor=manager.user,
            organisation=org,
            target=member,
            data={"user_id": user.pk, "role": member.role},
        )
        member.delete()
        return revoke_tokens(user, org, actor=manager.user, request=request)
