"""Privacy pages: downloads of a person's data, erasure requests and approval, settings."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.domain.errors import NotPermitted, StaleVersion, ValidationError
from kamfit.orgs.access import (
    access_erasure,
    access_person,
    access_person_export,
    access_privacy_admin,
    list_erasures,
    list_visible_people,
)
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership, Organisation
from kamfit.privacy import export, services
from kamfit.privacy.models import ErasureReason, ErasureState
from kamfit.versions import check_version, record_tag
from kamfit.web.export_limit import export_limited
from kamfit.web.pages import org_url, show_problems

REQUESTABLE = [(v, label) for v, label in ErasureReason.choices if v != ErasureReason.RETENTION]


def _page(
    request: HttpRequest, m: Membership, template: str, context: dict[str, Any]
) -> HttpResponse:
    return render(request, template, {"membership": m, "org": m.organisation, **context})


def _download(document: dict[str, Any], filename: str) -> HttpResponse:
    """A JSON attachment with a server-chosen name that no cache keeps."""
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@export_limited()
@org_view
def my_export(request: HttpRequest, m: Membership) -> HttpResponse:
    """The member's own person record as JSON: nobody else's, whatever the role."""
    own = list_visible_people(m).filter(user_id=m.user_id).select_related("organisation").first()
    if own is None:
        raise Http404("No person record is linked to your account in this organisation.")
    document = services.export_person(person=own, actor=m.user, named=False)
    return _download(document, export.export_filename(own))


@require_GET
@export_limited()
@org_view
def person_export(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    """A person's data as JSON, for owner and HR (or the person themself)."""
    person, own = access_person_export(m, pk)
    document = services.export_person(person=person, actor=m.user, named=not own)
    return _download(document, export.export_filename(person))


@require_GET
@org_view
def overview(request: HttpRequest, m: Membership) -> HttpResponse:
    access_privacy_admin(m)
    return redirect(org_url("privacy:erasures", m))


@require_GET
@org_view
def erasures(request: HttpRequest, m: Membership) -> HttpResponse:
    """Pending and past erasure requests, and who is due under the retention rules."""
    access_privacy_admin(m)
    rows = list(list_erasures(m.organisation).select_related("requested_by", "approved_by")[:200])
    return _page(
        request,
        m,
        "privacy/erasures.html",
        {
            "pending": [e for e in rows if e.state == ErasureState.PENDING],
            "past": [e for e in rows if e.state != ErasureState.PENDING],
            "due": services.list_retention_due(m.organisation, timezone.now()),
        },
    )


@require_http_methods(["GET", "POST"])
@org_view
def erasure_request(request: HttpRequest, m: Membership, person: int) -> HttpResponse:
    """Ask for a person's erasure; a different owner or HR member approves it."""
    subject = access_person(m, person)
    access_privacy_admin(m)
    if request.method == "POST":
        try:
            services.request_erasure(
                person=subject,
                actor=request.user,  # type: ignore[arg-type]
                reason=request.POST.get("reason", ""),
            )
        except (ValidationError, NotPermitted) as exc:
            show_problems(request, exc)
        else:
            messages.success(request, "Erasure requested: another owner or HR member must approve.")
            return redirect(org_url("privacy:erasures", m))
    return _page(
        request, m, "privacy/erasure_request.html", {"person": subject, "reasons": REQUESTABLE}
    )


@require_POST
@org_view
def erasure_approve(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    erasure = access_erasure(m, pk)
    try:
        services.approve_erasure(erasure=erasure, actor=request.user)  # type: ignore[arg-type]
    except NotPermitted as exc:
        show_problems(request, exc)
    else:
        messages.success(request, f"Person {erasure.person_id} was erased.")
    return redirect(org_url("privacy:erasures", m))


@require_POST
@org_view
def erasure_reject(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    erasure = access_erasure(m, pk)
    try:
        services.reject_erasure(erasure=erasure, actor=request.user)  # type: ignore[arg-type]
    except NotPermitted as exc:
        show_problems(request, exc)
    else:
        messages.success(request, "Erasure request rejected.")
    return redirect(org_url("privacy:erasures", m))


def settings_version(org: Organisation) -> str:
    """The tag of the privacy settings the page shows (A25)."""
    return record_tag(
        org.retention_candidate_months, org.retention_leaver_months, org.min_group_size
    )


@require_http_methods(["GET", "POST"])
@org_view
def settings_page(request: HttpRequest, m: Membership) -> HttpResponse:
    """Retention periods and the minimum group size of the organisation."""
    access_privacy_admin(m)
    org = m.organisation
    values = {
        "retention_candidate_months": str(org.retention_candidate_months),
        "retention_leaver_months": str(org.retention_leaver_months),
        "min_group_size": str(org.min_group_size),
    }
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in values}
        try:
            with transaction.atomic():  # the version check and the save it guards (A25)
                org = Organisation.objects.select_for_update(of=("self",)).get(pk=org.pk)
                check_version(request.POST.get("version"), settings_version(org))
                services.update_privacy_settings(
                    org=org,
                    actor=request.user,  # type: ignore[arg-type]
                    values=values,
                )
        except StaleVersion as exc:
            messages.error(request, str(exc))
            status = 409
        except ValidationError as exc:
            show_problems(request, exc)
            status = 400
        else:
            messages.success(request, "Privacy settings saved.")
            return redirect(org_url("privacy:settings", m))
    response = _page(
        request,
        m,
        "privacy/settings.html",
        {
            "values": values,
            "group_range": services.GROUP_SIZE_RANGE,
            "months_range": services.RETENTION_MONTHS_RANGE,
            "version": settings_version(org),
        },
    )
    response.status_code = status
    return response
