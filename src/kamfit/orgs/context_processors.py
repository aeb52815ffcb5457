"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest

from kamfit.domain.framework import SOURCE_CREDIT
from kamfit.orgs.access import list_memberships


def organisations(request: HttpRequest) -> dict[str, object]:
    """Offer the organisation switcher and the source credit to every template."""
    memberships = list_memberships(request.user) if hasattr(request, "user") else []
    return {"my_memberships": memberships, "source_credit": SOURCE_CREDIT}
