"""Pages for people: the list, one person's record, imports and the SBI quick check."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.assessments import exchange, services
from kamfit.assessments.models import (
    Assessee,
    Background,
    KeyAccount,
    Person,
    PersonKind,
    PsychometricResult,
    QuickCheck,
)
from kamfit.auditlog.services import record as audit
from kamfit.domain import development
from kamfit.domain.errors import NotPermitted, StaleVersion, ValidationError
from kamfit.jobs import services as jobs
from kamfit.jobs.models import JobKind
from kamfit.orgs.access import (
    access_person,
    list_people,
    list_visible_people,
    list_visible_plans,
)
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_PEOPLE, RELEASE_RESULTS, may
from kamfit.profiles.models import Profile
from kamfit.spreadsheets import to_csv
from kamfit.uploads import read_upload, rejections
from kamfit.versions import check_version, record_tag
from kamfit.web.export_limit import export_limited
from kamfit.web.pages import org_url, require, show_problems

PAGE_SIZE = 100


def page(
    request: HttpRequest, m: Membership, template: str, context: dict[str, Any]
) -> HttpResponse:
    """Render an organisation page with the member, the organisation and their rights."""
    return render(
        request,
        template,
        {
            "membership": m,
            "org": m.organisation,
            "can_manage": may(m.role, MANAGE_PEOPLE),
            "can_release": may(m.role, RELEASE_RESULTS),
            **context,
        },
    )


@require_GET
@org_view
def people_list(request: HttpRequest, m: Membership) -> HttpResponse:
    people = list_visible_people(m).select_related("manager", "profile")
    query = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    if query:
        people = people.filter(
            Q(name__icontains=query) | Q(reference__icontains=query) | Q(unit__icontains=query)
        )
    if kind in PersonKind.values:
        people = people.filter(kind=kind)
    # A subquery, not Count("accounts"): a join grouped over everyone would be read and
    # sorted before the page is cut; this is counted for the page's rows only.
    accounts = KeyAccount.objects.filter(person=OuterRef("pk")).order_by().values("person")
    people = people.annotate(
        account_count=Coalesce(Subquery(accounts.annotate(n=Count("id")).values("n")), 0)
    ).order_by("name", "id")
    paginator = Paginator(people, PAGE_SIZE)
    current = paginator.get_page(request.GET.get("page"))
    backgrounds = dict(
        list_visible_people(m)
        .filter(active=True, kind=PersonKind.KAM)
        .values_list("background")
        .annotate(n=Count("id"))
        .values_list("background", "n")
    )
    sales, known, share = development.selling_background(
        [b for b, n in backgrounds.items() for _ in range(n)]
    )
    return page(
        request,
        m,
        "assessments/people.html",
        {
            "people": current,
            "rows": _people_rows(current.object_list, org_url("assessments:person", m, 0)),
            "query": query,
            "kind": kind,
            "kinds": PersonKind.choices,
            "sales": sales,
            "known": known,
            "share": share,
            "templates": exchange.TEMPLATES,
        },
    )


def _people_rows(people: Iterable[Person], link: str) -> SafeString:
    """A page of the people list as HTML rows, built in Python (no per-cell template work).

    ``link`` is a person's URL with ``0`` as the id (its end). Every text is escaped.
    """
    prefix = link.removesuffix("0/")
    kinds = dict(PersonKind.choices)
    backgrounds = dict(Background.choices)
    parts = []
    for p in people:
        muted, inactive = ("", "") if p.active else (' class="muted"', " (inactive)")
        parts.append(
            f"<tr{muted}>\n"
            f'<td><a href="{prefix}{p.pk}/">{escape(p.name)}</a>{inactive}</td>\n'
            f"<td>{escape(p.reference)}</td><td>{escape(kinds.get(p.kind, p.kind))}</td>"
            f"<td>{escape(p.job_title)}</td><td>{escape(p.unit)}</td>\n"
            f"<td>{escape(p.manager.name) if p.manager else ''}</td>"
            f"<td>{escape(backgrounds.get(p.background, p.background))}</td>\n"
            f"<td>{escape(p.profile.title) if p.profile else ''}</td>"
            f"<td>{p.account_count}</td>\n</tr>"  # type: ignore[attr-defined]
        )
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


@require_GET
@org_view
def people_template(request: HttpRequest, m: Membership, name: str) -> HttpResponse:
    """A header-only CSV to fill in for an import."""
    if name not in exchange.TEMPLATES:
        return redirect(org_url("assessments:people", m))
    response = HttpResponse(to_csv(exchange.TEMPLATES[name], []), content_type="text/csv")
    response["Content-Disposition"] = (
        content_disposition_header(True, f"kamfit-{name}-template.csv") or "attachment"
    )
    return response


@require_GET
@export_limited()
@org_view
def people_export(request: HttpRequest, m: Membership) -> HttpResponse:
    require(m, MANAGE_PEOPLE, "export people")
    people = list(
        list_people(m.organisation)
        .select_related("manager", "profile", "user")
        .prefetch_related("accounts")
        .order_by("name", "id")
    )
    header, rows = exchange.people_table(people)
    response = HttpResponse(to_csv(header, rows), content_type="text/csv")
    response["Content-Disposition"] = (
        content_disposition_header(True, f"{m.organisation.slug}-people.csv") or "attachment"
    )
    audit(
        "export.downloaded",
        request=request,
        organisation=m.organisation,
        data={"what": "people", "format": "csv", "rows": len(people)},
    )
    return response


@require_POST
@org_view
def people_import(request: HttpRequest, m: Membership) -> HttpResponse:
    require(m, MANAGE_PEOPLE, "import people")
    upload = request.FILES.get("file")
    what = request.POST.get("what", "people")
    if upload is None:
        messages.error(request, "file: choose a CSV or XLSX file to import")
        return redirect(org_url("assessments:people", m))
    kind = "psychometrics" if what == "psychometrics" else "people"
    try:
        with rejections(kind, request=request, organisation=m.organisation):
            data = read_upload(upload)  # TooLarge: refused before any job or import starts
            if jobs.runs_later(upload):  # a large file is imported by a worker; its page shows how
                job = jobs.start_import(
                    organisation=m.organisation,
                    actor=request.user,  # type: ignore[arg-type]
                    kind=JobKind(f"import_{kind}"),
                    upload=upload,
                )
                return redirect(org_url("jobs:job", m, job.pk))
            if kind == "psychometrics":
                n = exchange.read_psychometrics(
                    m.organisation,
                    request.user,  # type: ignore[arg-type]
                    data,
                    upload.name or "",
                )
                messages.success(request, f"Imported {n} psychometric results.")
            else:
                created, updated = exchange.read_people(
                    m.organisation,
                    request.user,  # type: ignore[arg-type]
                    data,
                    upload.name or "",
                )
                messages.success(request, f"Imported people: {created} new, {updated} updated.")
    except (ValidationError, NotPermitted) as exc:
        messages.error(request, f"Nothing was imported from {upload.name}.")
        show_problems(request, exc)
    return redirect(org_url("assessments:people", m))


def _person_form_input(post: Any, person: Person | None) -> services.PersonInput:
    return services.PersonInput(
        reference=post.get("reference", person.reference if person else ""),
        name=post.get("name", ""),
        email=post.get("email", ""),
        kind=post.get("kind", PersonKind.KAM),
        job_title=post.get("job_title", ""),
        unit=post.get("unit", ""),
        manager=post.get("manager", ""),
        background=post.get("background", Background.UNKNOWN),
        background_note=post.get("background_note", ""),
        profile=post.get("profile", ""),
        username=post.get("username", ""),
        accounts=tuple(a for a in post.get("accounts", "").splitlines()),
        active=post.get("active") == "on",
    )


@require_http_methods(["GET", "POST"])
@org_view
def person_edit(request: HttpRequest, m: Membership, pk: int | None = None) -> HttpResponse:
    person = access_person(m, pk, action="manage") if pk is not None else None
    if pk is None:
        require(m, MANAGE_PEOPLE, "add people")
    stale = False
    if request.method == "POST":
        data = _person_form_input(request.POST, person)
        try:
            with transaction.atomic():
                if person is not None:  # refuse a save over someone else's change (A25)
                    posted = request.POST.get("version")
                    check_version(posted, _person_version(m, person.pk, lock=True))
                services.upsert_people(m.organisation, request.user, [data])  # type: ignore[arg-type]
        except StaleVersion as exc:
            messages.error(request, str(exc))
            stale = True
        except ValidationError as exc:
            show_problems(request, exc)
        else:
            saved = list_people(m.organisation).get(reference=data.reference.strip())
            messages.success(request, f"Saved {saved.name}.")
            return redirect(org_url("assessments:person", m, saved.pk))
        values = data.__dict__ | {"accounts": "\n".join(data.accounts or ())}
    elif person is not None:
        values = services.current_input(person).__dict__ | {
            "accounts": "\n".join(person.accounts.values_list("name", flat=True))
        }
    else:
        values = {"kind": PersonKind.KAM, "background": Background.UNKNOWN, "active": True}
    version = _person_version(m, person.pk) if person is not None else ""
    response = page(
        request,
        m,
        "assessments/person_edit.html",
        {
            "person": person,
            "values": values,
            "kinds": PersonKind.choices,
            "backgrounds": Background.choices,
            "profiles": list(Profile.objects.filter(organisation=m.organisation)),
            "managers": list(
                list_people(m.organisation).exclude(pk=pk or 0).values_list("reference", "name")
            ),
            "members": list(
                m.organisation.memberships.select_related("user").order_by("user__username")
            ),
            "version": version,
        },
    )
    if stale:
        response.status_code = 409
    return response


def _person_version(m: Membership, pk: int, *, lock: bool = False) -> str:
    """The tag of a person's editable fields; ``lock``: under a row lock (in a transaction)."""
    people = list_people(m.organisation)
    if lock:
        people = people.select_for_update(of=("self",))
    return record_tag(services.current_input(people.get(pk=pk)))


@require_GET
@org_view
def person_detail(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    person = access_person(m, pk)
    manage = may(m.role, MANAGE_PEOPLE)
    assessments = (
        Assessee.objects.filter(person=person)
        .select_related("cycle__profile_version")
        .order_by("-cycle__created_at")
    )
    if not manage:
        assessments = assessments.filter(released_at__isnull=False)
    checks = list(QuickCheck.objects.filter(person=person).select_related("answered_by")[:10])
    quick = development.shipped_quick_check()
    return page(
        request,
        m,
        "assessments/person.html",
        {
            "person": person,
            "accounts": list(KeyAccount.objects.filter(person=person)),
            "reports": list(list_visible_people(m).filter(manager=person)),
            "assessments": list(assessments),
            "psychometrics": _read_psychometrics(request, m, person) if manage else [],
            "checks": checks,
            "latest_check": _check_lines(checks[0], quick) if checks else None,
            "quick": quick,
            "may_check": manage
            or (person.manager is not None and person.manager.user_id == m.user_id),
            "plans": list(
                list_visible_plans(m).filter(person=person).prefetch_related(Prefetch("actions"))
            ),
            "is_self": person.user_id == m.user_id,
        },
    )


def _read_psychometrics(
    request: HttpRequest, m: Membership, person: Person
) -> list[PsychometricResult]:
    """The person's psychometric results; a page that shows them leaves a read record."""
    results = list(PsychometricResult.objects.filter(person=person))
    if results:
        audit(
            "psychometrics.read",
            request=request,
            organisation=m.organisation,
            target=person,
            data={"results": len(results)},
        )
    return results


def _check_lines(check: QuickCheck, quick: development.QuickCheck) -> list[tuple[str, object]]:
    return [(q.text, check.answers.get(q.key)) for q in quick.questions]


@require_POST
@org_view
def quick_check(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    person = access_person(m, pk, action="quick_check")
    answers: dict[str, bool | None] = {}
    for question in development.shipped_quick_check().questions:
        value = request.POST.get(question.key, "")
        answers[question.key] = {"yes": True, "no": False}.get(value)
    try:
        services.record_quick_check(
            person,
            request.user,  # type: ignore[arg-type]
            answers,
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        show_problems(request, exc)
    else:
        messages.success(request, "Quick check recorded.")
    return redirect(org_url("assessments:person", m, person.pk))


@require_GET
@org_view
def me(request: HttpRequest, m: Membership) -> HttpResponse:
    """The member's own person record, if they have one."""
    own = list_visible_people(m).filter(user_id=m.user_id).first()
    if own is None:
        messages.info(request, "No person record is linked to your account in this organisation.")
        return redirect(org_url("assessments:forms", m))
    return redirect(org_url("assessments:person", m, own.pk))
