"""The audit trail page: owner and HR read their organisation's events, filtered, paged."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kamfit.auditlog.models import Via
from kamfit.auditlog.queries import actor_label, filter_events, parse_filter, with_actor_names
from kamfit.domain.errors import ValidationError
from kamfit.orgs.access import list_audit_events
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership

PAGE_SIZE = 50


@require_GET
@org_view
def event_list(request: HttpRequest, m: Membership) -> HttpResponse:
    """Newest first; a bad filter value is shown next to the form, not as an error page."""
    events = list_audit_events(m)
    problems: list[str] = []
    try:
        wanted = parse_filter(request.GET)
    except ValidationError as exc:
        problems = [str(p) for p in exc.problems]
        wanted = parse_filter({})
    page = Paginator(with_actor_names(filter_events(events, wanted)), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for event in page:
        event.actor_label = actor_label(event)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "membership": m,
        "org": m.organisation,
        "page": page,
        "wanted": wanted,
        "problems": problems,
        "query": query.urlencode(),
        "token_via": Via.TOKEN,
    }
    return render(request, "auditlog/list.html", context)
