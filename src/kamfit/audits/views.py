"""Pages to open, answer and read readiness audits."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.audits import services
from kamfit.audits.models import (
    AuditItem,
    AuditStatus,
    Department,
    ItemKind,
    Rating,
    Respondent,
    RespondentStatus,
    Scope,
)
from kamfit.audits.queries import get_audit_results
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.frameworks.models import FrameworkVersion, VersionStatus
from kamfit.frameworks.queries import get_version_rows
from kamfit.orgs.access import (
    access_audit,
    access_own_response,
    access_response_by_token,
    list_audits,
    list_frameworks,
)
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_AUDIT, VIEW_AUDIT_RESULTS, may
from kamfit.web.pages import org_url, show_problems


@require_GET
@org_view
def audit_list(request: HttpRequest, m: Membership) -> HttpResponse:
    audits = (
        list(list_audits(m.organisation).select_related("version__framework"))
        if may(m.role, VIEW_AUDIT_RESULTS)
        else []
    )
    mine = Respondent.objects.filter(
        audit__organisation=m.organisation, user_id=m.user_id
    ).select_related("audit")
    return render(
        request,
        "audits/list.html",
        {
            "membership": m,
            "org": m.organisation,
            "audits": audits,
            "mine": list(mine),
            "can_manage": may(m.role, MANAGE_AUDIT),
        },
    )


def _published_versions(m: Membership) -> list[FrameworkVersion]:
    frameworks = list_frameworks(m.organisation)
    return list(
        FrameworkVersion.objects.filter(framework__in=frameworks, status=VersionStatus.PUBLISHED)
        .select_related("framework")
        .order_by("framework__organisation_id", "framework__title", "-number")
    )


@require_http_methods(["GET", "POST"])
@org_view
def audit_new(request: HttpRequest, m: Membership) -> HttpResponse:
    if not may(m.role, MANAGE_AUDIT):
        raise PermissionDenied("Your role may not open audits.")
    versions = _published_versions(m)
    chosen_id = request.POST.get("version") or request.GET.get("version")
    version = next((v for v in versions if str(v.pk) == chosen_id), None)
    if chosen_id and version is None:
        raise Http404("No such framework version")
    version = version or (versions[0] if versions else None)
    if request.method == "POST" and version is not None:
        try:
            audit = services.open_audit(
                organisation=m.organisation,
                user=m.user,
                version=version,
                title=request.POST.get("title", ""),
                scope=request.POST.get("scope", Scope.FULL),
                element_keys=request.POST.getlist("elements"),
                min_group_size=int(request.POST.get("min_group_size") or 5),
            )
        except (ValidationError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                show_problems(request, exc)
            else:
                messages.error(request, "min_group_size: a whole number is needed")
        else:
            messages.success(request, f"Opened “{audit.title}”. Now invite respondents.")
            return redirect(org_url("audits:detail", m, audit.pk))
    rows = get_version_rows(version) if version is not None else None
    return render(
        request,
        "audits/new.html",
        {
            "membership": m,
            "org": m.organisation,
            "versions": versions,
            "version": version,
            "roles": rows.roles if rows else [],
            "scopes": Scope.choices,
            "posted": request.POST,
            "chosen_elements": set(request.POST.getlist("elements")),
        },
    )


@require_GET
@org_view
def audit_detail(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    audit = access_audit(m, pk, action="manage")
    respondents = list(Respondent.objects.filter(audit=audit).select_related("user"))
    members = list(
        get_user_model()
        .objects.filter(memberships__organisation=m.organisation)
        .exclude(pk__in=[r.user_id for r in respondents if r.user_id])
        .order_by("username")
    )
    return render(
        request,
        "audits/detail.html",
        {
            "membership": m,
            "org": m.organisation,
            "audit": audit,
            "respondents": respondents,
            "submitted": sum(r.status == RespondentStatus.SUBMITTED for r in respondents),
            "members": members,
            "departments": Department.choices,
            "item_count": AuditItem.objects.filter(audit=audit).count(),
            "new_link": request.session.pop("kamfit_new_link", None),
        },
    )


@require_POST
@org_view
def invite(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    audit = access_audit(m, pk, action="manage")
    department = request.POST.get("department", "")
    try:
        if request.POST.get("remove"):
            respondent = Respondent.objects.filter(audit=audit).get(pk=int(request.POST["remove"]))
            services.remove_respondent(respondent=respondent)
            messages.success(request, f"Removed the invitation of {respondent}.")
        elif request.POST.get("user"):
            user = (
                get_user_model()
                .objects.filter(memberships__organisation=m.organisation)
                .filter(pk=int(request.POST["user"]))
                .first()
            )
            if user is None:
                raise Http404("No such member")
            services.invite_member(audit=audit, user=user, department=department)
            messages.success(request, f"Invited {user.get_username()}.")
        else:
            respondent, token = services.invite_by_link(
                audit=audit, name=request.POST.get("name", ""), department=department
            )
            link = request.build_absolute_uri(reverse("audit_link", args=[token]))
            request.session["kamfit_new_link"] = {"name": respondent.name, "link": link}
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
    except (ValueError, Respondent.DoesNotExist):
        messages.error(request, "unknown member or respondent")
    return redirect(org_url("audits:detail", m, audit.pk))


@require_POST
@org_view
def close(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    audit = access_audit(m, pk, action="manage")
    try:
        services.close_audit(audit=audit)
        messages.success(request, "The audit is closed. Results stay available.")
    except NotPermitted as exc:
        show_problems(request, exc)
    return redirect(org_url("audits:detail", m, audit.pk))


@require_POST
@org_view
def repeat(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    audit = access_audit(m, pk, action="manage")
    new = services.repeat_audit(audit=audit, user=m.user, title=request.POST.get("title") or None)
    messages.success(request, f"Opened “{new.title}”. Its results will show the change per item.")
    return redirect(org_url("audits:detail", m, new.pk))


@require_GET
@org_view
def results(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    audit = access_audit(m, pk, action="results")
    context: dict[str, Any] = {
        "membership": m,
        "org": m.organisation,
        "audit": audit,
        "r": get_audit_results(audit),
        "can_manage": may(m.role, MANAGE_AUDIT),
        "levels": Rating.choices[:3],
    }
    return render(request, "audits/results.html", context)


def _respond(
    request: HttpRequest,
    respondent: Respondent,
    action_url: str,
    membership: Membership | None = None,
) -> HttpResponse:
    org = membership.organisation if membership else None
    audit = respondent.audit
    items = list(AuditItem.objects.filter(audit=audit))
    if request.method == "POST":
        answers = {
            item.pk: services.AnswerInput(
                request.POST[f"rating-{item.pk}"], request.POST.get(f"comment-{item.pk}", "")
            )
            for item in items
            if request.POST.get(f"rating-{item.pk}")
        }
        submit = "submit" in request.POST
        try:
            services.save_answers(respondent=respondent, answers=answers, submit=submit)
        except (ValidationError, NotPermitted) as exc:
            show_problems(request, exc)
        else:
            messages.success(
                request, "Thank you: your answers are submitted." if submit else "Answers saved."
            )
        return redirect(action_url)
    given = {a.item_id: a for a in respondent.answers.all()}
    litmus = [(i, given.get(i.pk)) for i in items if i.kind == ItemKind.LITMUS]
    sections: dict[str, list[tuple[AuditItem, object]]] = {}
    for i in items:
        if i.kind == ItemKind.RESPONSIBILITY:
            sections.setdefault(i.element_title, []).append((i, given.get(i.pk)))
    return render(
        request,
        "audits/respond.html",
        {
            "audit": audit,
            "respondent": respondent,
            "litmus": litmus,
            "sections": sections,
            "ratings": Rating.choices,
            "action_url": action_url,
            "read_only": respondent.is_submitted or audit.status != AuditStatus.OPEN,
            "answered": len(given),
            "total": len(items),
            "org": org,
            "membership": membership,
        },
    )


@require_http_methods(["GET", "POST"])
@org_view
def respond(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    respondent = access_own_response(m, pk)
    return _respond(request, respondent, org_url("audits:respond", m, pk), m)


@require_http_methods(["GET", "POST"])
def respond_link(request: HttpRequest, token: str) -> HttpResponse:
    respondent = access_response_by_token(token)
    return _respond(request, respondent, reverse("audit_link", args=[token]))
