"""Personal API tokens: issue, find, revoke.

A token is ``kf_`` followed by 43 URL-safe characters (256 random bits). Only its
SHA-256 is stored; the plain secret is shown once, when the token is issued. A token
acts for its user in one organisation only, so a leaked token of one customer never
opens another's data, and it expires (90 days by default, 365 at most).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kamfit.auditlog.services import record
from kamfit.domain.errors import Problem, ValidationError
from kamfit.members.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest

    from kamfit.orgs.models import Organisation

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "SCHEME_PREFIX",
    "find_token",
    "hash_secret",
    "issue_token",
    "list_tokens",
    "revoke_token",
    "revoke_tokens",
]

SCHEME_PREFIX = "kf_"
DEFAULT_DAYS = 90
MAX_DAYS = 365
NAME_MAX = 100


def hash_secret(secret: str) -> str:
    """Return the hex SHA-256 stored for a secret (the secret itself never is)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _check(name: str, days: int) -> tuple[str, int]:
    problems = []
    name = name.strip()
    if not name:
        problems.append(Problem("name", "give the token a name, e.g. the script that uses it"))
    elif len(name) > NAME_MAX:
        problems.append(Problem("name", f"at most {NAME_MAX} characters"))
    if not 1 <= days <= MAX_DAYS:
        problems.append(Problem("days", f"a token lives 1 to {MAX_DAYS} days, not {days}"))
    if problems:
        raise ValidationError(problems)
    return name, days


def issue_token(
    user: AbstractBaseUser,
    organisation: Organisation,
    name: str,
    days: int = DEFAULT_DAYS,
    *,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``user`` in ``organisation``; return it and its plain secret.

    The caller must have checked that the user is a member of the organisation; the
    authentication class checks it again on every request.
    """
    name, days = _check(name, days)
    random_part = secrets.token_urlsafe(32)
    secret = SCHEME_PREFIX + random_part
    with transaction.atomic():
        token = ApiToken.objects.create(
            user_id=user.pk,
            organisation=organisation,
            name=name,
            prefix=random_part[:8],
            secret_hash=hash_secret(secret),
            expires_at=timezone.now() + timedelta(days=days),
        )
        record(
            "token.created",
            request=request,
            actor=user,
            organisation=organisation,
            target=token,
            data={"token_id": token.pk, "days": days},
        )
    return token, secret


def find_token(secret: str) -> ApiToken | None:
    """Return the token a presented secret belongs to (live or not), or None."""
    if not secret.startswith(SCHEME_PREFIX):
        return None
    return (
        ApiToken.objects.filter(secret_hash=hash_secret(secret))
        .select_related("user", "organisation")
        .first()
    )


def list_tokens(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """Return the user's own tokens, newest first."""
    return ApiToken.objects.filter(user_id=user.pk).select_related("organisation")


def revoke_token(
    token: ApiToken,
    *,
    actor: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
) -> ApiToken:
    """Revoke one token at once; revoking a revoked token changes nothing."""
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            "token.revoked",
            request=request,
            actor=actor,
            organisation=token.organisation,
            target=token,
            data={"token_id": token.pk, "user_id": token.user_id},
        )
    return token


def revoke_tokens(
    user: AbstractBaseUser,
    organisation: Organisation,
    *,
    actor: AbstractBaseUser | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Revoke every live token of a user in one organisation (on removal); return the count."""
    live = ApiToken.objects.filter(user_id=user.pk, organisation=organisation).filter(
        revoked_at__isnull=True
    )
    count = 0
    for token in live.select_related("organisation"):
        revoke_token(token, actor=actor, request=request)
        count += 1
    return count
