"""API authentication by personal token: ``Authorization: Bearer kf_<secret>``, nothing else.

HTTP Basic authentication is not offered: a password alone would bypass two-factor
authentication. A token is never read from the query string or a cookie (A21): URLs end
up in logs and browser histories. A token acts for its user in its own organisation
only: a request to another organisation's URL answers 404, exactly as a foreign object
does, so a token does not even reveal which other organisations exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from kamfit.members.models import ApiToken
from kamfit.members.tokens import find_token
from kamfit.orgs.models import Membership

if TYPE_CHECKING:
    from rest_framework.request import Request

__all__ = ["TokenAuthentication"]

KEYWORD = "Bearer"
# Writing last_used_at on every call would make each API read a write: once a minute will do.
TOUCH_EVERY = timedelta(minutes=1)
REFUSED = "Invalid, expired or revoked token."


class TokenAuthentication(BaseAuthentication):
    """Authenticate a request by a personal API token scoped to one organisation."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        """Return (user, token) for a valid Bearer token, None without one; refuse the rest."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # no token offered: another class (the session) may answer
        if len(parts) != 2:  # "Bearer" and the secret
            raise exceptions.AuthenticationFailed("Write the header as: Authorization: Bearer kf_…")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(REFUSED) from None
        token = self._check(find_token(secret))
        org = (getattr(request, "parser_context", None) or {}).get("kwargs", {}).get("org")
        if org is not None and org != token.organisation.slug:
            raise exceptions.NotFound()  # like any object out of reach
        self._touch(token)
        request._request.auth = token  # type: ignore[attr-defined] # the audit log flags token use
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        """Answer 401 with ``WWW-Authenticate: Bearer`` to clients that sent no credentials."""
        return f'{KEYWORD} realm="api"'

    @staticmethod
    def _check(token: ApiToken | None) -> ApiToken:
        if token is None or not token.is_live:
            raise exceptions.AuthenticationFailed(REFUSED)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is deactivated.")
        member = Membership.objects.filter(user_id=token.user_id).filter(
            organisation_id=token.organisation_id
        )
        if not member.exists():
            raise exceptions.AuthenticationFailed(REFUSED)
        return token

    @staticmethod
    def _touch(token: ApiToken) -> None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now


class TokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describe the Bearer token in the OpenAPI schema."""

    target_class = "kamfit.members.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "kf_<secret>",
            "description": "A personal API token from /account/tokens/ or `kamfit token create`.",
        }
