"""Small helpers every organisation page shares: URLs under /o/<org>/ and refusal messages."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse

from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.orgs.models import Membership

__all__ = ["org_url", "show_problems"]


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
