"""Record every 403 answer as ``access.denied``, whichever layer refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kamfit.auditlog.services import as_code, record
from kamfit.orgs.models import Organisation

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


class AccessDeniedMiddleware:
    """Record a 403 with the URL's name and method, never its path or query string.

    Install it after the authentication middleware, so the actor is known. A 403 is
    only ever given inside the actor's own organisation (another's answers 404), so
    the organisation named by the URL is the one the event belongs to.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 403:
            self._record(request)
        return response

    @staticmethod
    def _record(request: HttpRequest) -> None:
        match = request.resolver_match
        slug = match.kwargs.get("org") if match is not None else None
        organisation = (
            Organisation.objects.filter(slug=slug).first() if isinstance(slug, str) else None
        )
        record(
            "access.denied",
            request=request,
            organisation=organisation,
            data={
                "url_name": as_code(match.view_name if match is not None else ""),
                "method": as_code(request.method or ""),
            },
        )
