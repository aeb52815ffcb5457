"""Account pages: overview, two-factor authentication, password, e-mail, password reset.

Views parse input and call ``kamfit.accounts.mfa`` / ``sessions``; the rules live there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from kamfit.accounts import mfa
from kamfit.accounts.audit import record
from kamfit.accounts.forms import (
    CodeForm,
    EmailChangeForm,
    KamfitPasswordChangeForm,
    ReauthenticateForm,
)
from kamfit.accounts.models import RecoveryCode, UserSession
from kamfit.accounts.sessions import end_sessions, rehash_other_sessions

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind ``login_required``)."""
    return cast("User", request.user)


def _next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return str(reverse_lazy(default))


@never_cache
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The account page: two-factor status, sessions, links to each change."""
    context = {
        "has_mfa": mfa.has_mfa(request.user),
        "requires_mfa": mfa.requires_mfa(request.user),
        "sessions": UserSession.objects.filter(user_id=_user(request).pk),
        "current_key": request.session.session_key,
        "codes_left": _codes_left(request),
    }
    return render(request, "accounts/overview.html", context)


def _codes_left(request: HttpRequest) -> int:
    return RecoveryCode.objects.filter(
        device__user_id=_user(request).pk, used_at__isnull=True
    ).count()


@never_cache
@sensitive_post_parameters("code")
@login_required
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Show the QR code and the secret; confirm with a first code; show recovery codes once."""
    if mfa.has_mfa(request.user):
        messages.info(request, "Two-factor authentication is already on.")
        return redirect("accounts:overview")
    enrolment = mfa.start_enrolment(_user(request), request.session)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_enrolment(
            request=request,
            user=_user(request),
            code=form.cleaned_data["code"],
        )
        if codes is not None:
            messages.success(request, "Two-factor authentication is on.")
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)}
            )
        form.add_error("code", "Code: wrong or expired; enter the code the app shows now.")
    context = {
        "form": form,
        "secret": enrolment.secret,
        "qr": mfa.qr_code(enrolment.uri),
        "next": request.GET.get("next", ""),
    }
    return render(request, "accounts/mfa_enrol.html", context)


@never_cache
@sensitive_post_parameters("code")
@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, or a recovery code."""
    if getattr(request.user, "is_verified", lambda: False)():  # set by OTPMiddleware
        return redirect(_next(request))
    if not mfa.has_mfa(request.user):
        return redirect("accounts:mfa_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify_code(
            request=request,
            user=_user(request),
            code=form.cleaned_data["code"],
        ):
            return redirect(_next(request))
        form.add_error("code", "Code: wrong, expired or already used.")
    return render(
        request, "accounts/mfa_verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


@never_cache
@sensitive_post_parameters("password")
@login_required
def mfa_disable(request: HttpRequest) -> HttpResponse:
    """Turn two-factor authentication off (to re-enrol), after the current password."""
    form = ReauthenticateForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        mfa.disable_mfa(request=request, user=_user(request))
        messages.success(request, "Two-factor authentication is off.")
        return redirect(
            "accounts:mfa_enrol" if request.POST.get("reenrol") else "accounts:overview"
        )
    return render(
        request,
        "accounts/reauthenticate.html",
        {"form": form, "title": "Turn off two-factor authentication", "button": "Turn off"},
    )


@never_cache
@sensitive_post_parameters("password")
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Replace the recovery codes after the current password; the new ones are shown once."""
    if not mfa.has_mfa(request.user):
        return redirect("accounts:mfa_enrol")
    form = ReauthenticateForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.new_recovery_codes(_user(request))
        record("mfa.recovery_codes_replaced", request=request, actor=_user(request))
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": ""})
    return render(
        request,
        "accounts/reauthenticate.html",
        {"form": form, "title": "New recovery codes", "button": "Replace my recovery codes"},
    )


@never_cache
@sensitive_post_parameters("password")
@login_required
def email_change(request: HttpRequest) -> HttpResponse:
    """Change the e-mail address (where reset links go), after the current password."""
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        me = _user(request)
        me.email = form.cleaned_data["email"]
        me.save(update_fields=["email"])
        record("account.email_changed", request=request, actor=me)
        messages.success(request, "Your e-mail address is changed.")
        return redirect("accounts:overview")
    return render(request, "accounts/email_change.html", {"form": form})


@require_POST
@login_required
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    """Sign out every other session of this user."""
    ended = end_sessions(_user(request), keep=request.session.session_key)
    messages.success(request, f"Signed out {ended} other session(s).")
    return redirect("accounts:overview")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, keeping this session, optionally ending the others."""

    form_class = KamfitPasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:overview")

    def form_valid(self, form: Any) -> HttpResponse:
        old_key = self.request.session.session_key
        response = super().form_valid(form)  # saves, then cycles this session's key
        new_key = self.request.session.session_key
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)
        user = form.user
        if form.cleaned_data["sign_out_others"]:
            ended = end_sessions(user, keep=new_key)
        else:
            rehash_other_sessions(user, keep=new_key)
            ended = 0
        record("password.changed", request=self.request, actor=user, data={"sessions_ended": ended})
        messages.success(self.request, "Your password is changed.")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset confirmation; the reset ends every session and does not sign in."""

    template_name = "accounts/reset_confirm.html"
    success_url = reverse_lazy("accounts:reset_complete")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        end_sessions(form.user)
        record("password.reset", request=self.request, target=form.user)
        return response


password_reset = auth_views.PasswordResetView.as_view(
    template_name="accounts/reset_form.html",
    email_template_name="accounts/reset_email.txt",
    subject_template_name="accounts/reset_subject.txt",
    success_url=reverse_lazy("accounts:reset_sent"),
)
password_reset_sent = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/reset_sent.html"
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/reset_complete.html"
)
