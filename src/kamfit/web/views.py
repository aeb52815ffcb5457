"""Pages that belong to no capability: the landing redirect and the health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kamfit.orgs.access import list_memberships


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the organisation they last used, or their first one."""
    memberships = list(list_memberships(request.user))
    if not memberships:
        return render(request, "web/no_organisation.html", status=200)
    last = request.session.get("kamfit_org")
    chosen = next((m for m in memberships if m.organisation.slug == last), memberships[0])
    return redirect(reverse("frameworks:list", args=[chosen.organisation.slug]))


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
