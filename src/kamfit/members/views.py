"""Pages: the organisation's members and invitations, joining by link, personal API tokens.

Views parse the form, call one service and render; the rules (who may grant which role,
the last owner, nobody changes their own role) live in :mod:`kamfit.members.services`,
so the API applies exactly the same ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.domain.errors import NotPermitted, StaleVersion, ValidationError
from kamfit.members import services, tokens
from kamfit.members.models import ApiToken, InvitationState
from kamfit.orgs.access import (
    access_invitation,
    access_member,
    access_member_admin,
    access_membership,
    list_invitations,
    list_members,
    list_memberships,
)
from kamfit.orgs.models import Role
from kamfit.versions import check_version, record_tag

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from kamfit.orgs.models import Membership, Organisation

LIST_SIZE = 500
TOTP_APP = "django_otp.plugins.otp_totp"


def two_factor_users(org: Organisation) -> set[int] | None:
    """Return the members' user ids with a confirmed TOTP device; None without 2FA installed."""
    if not apps.is_installed(TOTP_APP):
        return None
    devices = apps.get_model("otp_totp", "TOTPDevice")._default_manager
    rows = devices.filter(user__memberships__organisation=org).filter(confirmed=True)
    return set(rows.values_list("user_id", flat=True))


def invitation_link(request: HttpRequest) -> services.Link:
    """Return the function that turns a plain token into the accept page's absolute URL."""
    return lambda token: request.build_absolute_uri(reverse("invitation", args=[token]))


def _problems(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            messages.error(request, str(problem))
    else:
        messages.error(request, str(exc) if str(exc) else "This is not allowed.")


def _back(m: Membership) -> HttpResponse:
    return redirect("members:list", m.organisation.slug)


@require_GET
@login_required
def member_list(request: HttpRequest, org: str) -> HttpResponse:
    """The organisation's members with role, two-factor status and last sign-in; invitations."""
    m = access_member_admin(request.user, org)
    members = list(list_members(m.organisation).order_by("user__username")[:LIST_SIZE])
    invitations = list(list_invitations(m.organisation)[:LIST_SIZE])
    context = {
        "membership": m,
        "org": m.organisation,
        "members": members,
        "two_factor": two_factor_users(m.organisation),
        "invitations": invitations,
        "roles": _grantable(m),
        "hours": services.invitation_hours(),
        "pending": InvitationState.PENDING,
        "expired": InvitationState.EXPIRED,
    }
    return render(request, "members/list.html", context)


def _grantable(m: Membership) -> list[tuple[str, str]]:
    """The roles this member may give: HR may give every role but owner."""
    return [(v, label) for v, label in Role.choices if v != Role.OWNER or m.role == Role.OWNER]


@require_POST
@login_required
def invite(request: HttpRequest, org: str) -> HttpResponse:
    m = access_member_admin(request.user, org)
    try:
        invitation = services.invite_member(
            manager=m,
            email=request.POST.get("email", ""),
            role=request.POST.get("role", ""),
            link=invitation_link(request),
            request=request,
        )
    except (ValidationError, NotPermitted, PermissionDenied) as exc:
        _problems(request, exc)
    else:
        messages.success(request, f"Invitation sent to {invitation.email}.")
    return _back(m)


@require_POST
@login_required
def change_role(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    m = access_membership(request.user, org)
    member = access_member(m, pk)
    try:
        with transaction.atomic():  # the version check and the change it guards (A25)
            locked = list_members(m.organisation).select_for_update(of=("self",)).get(pk=member.pk)
            check_version(request.POST.get("version"), record_tag(locked.role))
            member = services.change_role(
                manager=m, member=locked, role=request.POST.get("role", ""), request=request
            )
    except StaleVersion as exc:
        messages.error(request, str(exc))
    except (ValidationError, NotPermitted, PermissionDenied) as exc:
        _problems(request, exc)
    else:
        name = member.user.get_username()
        messages.success(request, f"{name} is now {member.get_role_display()}.")
    return _back(m)


@require_POST
@login_required
def remove(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    m = access_membership(request.user, org)
    member = access_member(m, pk)
    name = member.user.get_username()
    try:
        revoked = services.remove_member(manager=m, member=member, request=request)
    except (NotPermitted, PermissionDenied) as exc:
        _problems(request, exc)
    else:
        messages.success(
            request, f"Removed {name} from {m.organisation.name}; {revoked} API token(s) revoked."
        )
    return _back(m)


@require_POST
@login_required
def revoke_invitation(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    m = access_membership(request.user, org)
    invitation = access_invitation(m, pk)
    try:
        services.revoke_invitation(manager=m, invitation=invitation, request=request)
    except NotPermitted as exc:
        _problems(request, exc)
    else:
        messages.success(request, f"Revoked the invitation of {invitation.email}.")
    return _back(m)


@require_POST
@login_required
def resend_invitation(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    m = access_membership(request.user, org)
    invitation = access_invitation(m, pk)
    try:
        services.resend_invitation(
            manager=m, invitation=invitation, link=invitation_link(request), request=request
        )
    except (NotPermitted, PermissionDenied) as exc:
        _problems(request, exc)
    else:
        messages.success(request, f"Sent a new link to {invitation.email}; the old one is void.")
    return _back(m)


# --- Joining by invitation ----------------------------------------------------------------------


def _gone(request: HttpRequest) -> HttpResponse:
    """The one answer for unknown, used, expired and revoked links: they look alike."""
    return render(request, "members/invitation_gone.html", status=410)


@never_cache
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join an organisation: a signed-in invitee accepts; a visitor creates an account."""
    invitation = services.find_invitation(token)
    if invitation is None:
        return _gone(request)
    context: dict[str, object] = {"invitation": invitation, "problems": []}
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = services.accept_invitation(
                    invitation=invitation, user=request.user, request=request
                )
                messages.success(request, f"Welcome to {membership.organisation.name}.")
                return redirect("home")
            services.join_with_new_account(
                invitation=invitation,
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
                request=request,
            )
        except ValidationError as exc:
            context["problems"] = [str(p) for p in exc.problems]
            context["username"] = request.POST.get("username", "")
        except (NotPermitted, PermissionDenied) as exc:
            context["problems"] = [str(exc)]
        else:
            messages.success(request, "Your account is ready: sign in to continue.")
            return redirect("login")
    if request.user.is_authenticated:
        email = getattr(request.user, "email", "") or ""
        context["mismatch"] = email.casefold() != invitation.email.casefold()
    return render(request, "members/accept.html", context)


# --- Personal API tokens ------------------------------------------------------------------------


def _signed_in(request: HttpRequest) -> AbstractBaseUser:
    """Return the signed-in user (the views are behind ``login_required``)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user


def _token_page(
    request: HttpRequest, *, secret: str = "", created: ApiToken | None = None
) -> HttpResponse:
    context = {
        "tokens": list(tokens.list_tokens(_signed_in(request))[:LIST_SIZE]),
        "memberships": list(list_memberships(request.user)),
        "secret": secret,
        "created": created,
        "now": timezone.now(),
        "default_days": tokens.DEFAULT_DAYS,
        "max_days": tokens.MAX_DAYS,
    }
    response = render(request, "members/tokens.html", context)
    response["Cache-Control"] = "no-store"  # the secret is shown once and never cached
    return response


@require_http_methods(["GET", "POST"])
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """Your API tokens; POST creates one and shows its secret this once."""
    if request.method == "GET":
        return _token_page(request)
    slug = request.POST.get("org", "")
    membership = list_memberships(request.user).filter(organisation__slug=slug).first()
    if membership is None:
        messages.error(request, "org: choose one of your organisations")
        return redirect("tokens:list")
    try:
        days = int(request.POST.get("days") or tokens.DEFAULT_DAYS)
        token, secret = tokens.issue_token(
            _signed_in(request),
            membership.organisation,
            request.POST.get("name", ""),
            days,
            request=request,
        )
    except ValueError:
        messages.error(request, "days: a whole number of days is needed")
    except ValidationError as exc:
        _problems(request, exc)
    else:
        return _token_page(request, secret=secret, created=token)
    return redirect("tokens:list")


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your own tokens (someone else's answers 404)."""
    user = _signed_in(request)
    token = tokens.list_tokens(user).filter(pk=pk).first()
    if token is None:
        raise Http404("No such token")
    tokens.revoke_token(token, actor=user, request=request)
    messages.success(request, f"Revoked the token “{token.name}”.")
    return redirect("tokens:list")
