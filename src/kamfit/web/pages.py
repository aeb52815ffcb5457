"""Small helpers every organisation page shares: URLs under /o/<org>/ and refusal messages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.orgs.models import Membership, Role
from kamfit.orgs.permissions import may

__all__ = ["org_url", "require", "show_problems"]


def org_url(name: str, m: Membership, *args: object) -> str:
    """Reverse a page of the member's organisation."""
    return reverse(name, args=[m.organisation.slug, *args])


def show_problems(request: HttpRequest, exc: ValidationError | NotPermitted) -> None:
    """Show a refused change as error messages, one per problem."""
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            messages.error(request, str(problem))
    else:
        messages.error(request, str(exc))


def require(m: Membership, permission: frozenset[Role], what: str) -> None:
    """Refuse (403) a member whose role does not hold ``permission``; ``what`` says what."""
    if not may(m.role, permission):
        raise PermissionDenied(f"Your role ({m.get_role_display()}) may not {what}.")
