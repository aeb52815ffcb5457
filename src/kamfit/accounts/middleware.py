"""Two server-side gates on every request: session lifetime, then two-factor authentication.

``SessionLifetimeMiddleware`` ends a session idle for 30 minutes or signed in for more
than 12 hours (``SESSION_IDLE_TIMEOUT``, ``SESSION_ABSOLUTE_TIMEOUT``). A page redirects
to the login with a message; the API answers 401.

``MfaRequiredMiddleware`` lets a signed-in user who has not passed two-factor
authentication reach only enrolment, verification, logout and static files: pages
redirect to enrolment or verification, the API answers 403 ``mfa_required``. It applies
to whoever has an authenticator app, and, when ``MFA_REQUIRED`` is on, to whoever must
have one (``kamfit.accounts.mfa.requires_mfa``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from kamfit.accounts import mfa
from kamfit.accounts.audit import record
from kamfit.accounts.sessions import expiry_reason, touch

__all__ = ["MfaRequiredMiddleware", "SessionLifetimeMiddleware", "is_api"]

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    """Say whether the request is for the JSON API."""
    return request.path.startswith(API_PREFIX)


class SessionLifetimeMiddleware:
    """End sessions that were idle too long or are older than the absolute lifetime."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            reason = expiry_reason(request.session, now)
            if reason is not None:
                return self._expire(request, reason)
            touch(request, now)
        return self.get_response(request)

    @staticmethod
    def _expire(request: HttpRequest, reason: str) -> HttpResponse:
        user = request.user
        record(
            "session.expired",
            request=request,
            actor=user if user.is_authenticated else None,
            data={"reason": reason},
        )
        logout(request)  # flushes the session and deletes its row (signal)
        text = "Your session has expired. Please sign in again."
        if is_api(request):
            return JsonResponse({"detail": text, "code": "session_expired"}, status=401)
        messages.info(request, text)
        return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': request.path})}")


class MfaRequiredMiddleware:
    """Keep users who have not passed two-factor authentication out of everything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not getattr(user, "is_verified", lambda: False)()  # set by OTPMiddleware
            and not _allowed(request.path)
        ):
            enrolled = mfa.session_has_mfa(request)
            if enrolled or (settings.MFA_REQUIRED and mfa.requires_mfa(user)):
                return _refuse(request, enrolled=enrolled)
        return self.get_response(request)


def _allowed(path: str) -> bool:
    """The few paths an unverified user may reach."""
    names = ("accounts:mfa_enrol", "accounts:mfa_verify", "logout", "login")
    return path in {reverse(name) for name in names} or path.startswith(
        ("/" + settings.STATIC_URL.lstrip("/"), "/healthz")
    )


def _refuse(request: HttpRequest, *, enrolled: bool) -> HttpResponse:
    if is_api(request):
        return JsonResponse(
            {
                "detail": "This account needs two-factor authentication: "
                "sign in with your authenticator app first.",
                "code": "mfa_required",
            },
            status=403,
        )
    target = reverse("accounts:mfa_verify" if enrolled else "accounts:mfa_enrol")
    return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
