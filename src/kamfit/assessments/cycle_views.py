"""Pages to run an assessment cycle and read its results, per team and per person."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections import defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import escape
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.assessments import exchange, services
from kamfit.assessments.models import (
    Assessee,
    FormStatus,
    PsychometricResult,
    QuickCheck,
    Rater,
    RatingForm,
    Source,
)
from kamfit.assessments.queries import (
    CycleData,
    bench_strength,
    evidence_for,
    load_cycle,
    person_lines,
)
from kamfit.assessments.views import page
from kamfit.auditlog.services import as_code
from kamfit.auditlog.services import record as audit
from kamfit.development.services import suggestions_for
from kamfit.domain import anonymity, development, scoring
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.jobs import services as jobs
from kamfit.jobs.models import JobKind
from kamfit.orgs.access import (
    access_assessee,
    access_cycle,
    list_cycles,
    list_my_raters,
    list_people,
    list_visible_plans,
)
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_PEOPLE, OVERSEE_JOBS, may
from kamfit.profiles.models import ProfileStatus, ProfileVersion
from kamfit.spreadsheets import to_csv, to_xlsx
from kamfit.uploads import read_upload, rejections
from kamfit.versions import check_version, record_tag
from kamfit.web.export_limit import export_limited
from kamfit.web.pages import org_url, require, show_problems

HEATMAP_PAGE = 100


def fmt(value: float, digits: int = 1) -> str:
    """A number for a page: fixed digits, a dash when missing."""
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def gap_class(gap: float) -> str:
    """The heatmap colour of a gap (combined − required level)."""
    if math.isnan(gap):
        return "none"
    if gap <= -1.5:
        return "short2"
    if gap <= -0.5:
        return "short1"
    if gap < 0.5:
        return "met"
    return "above"


@require_GET
@org_view
def index(request: HttpRequest, m: Membership) -> HttpResponse:
    """Cycles (for those who run them), the member's rating forms and their results."""
    cycles = []
    if may(m.role, MANAGE_PEOPLE):
        cycles = list(
            list_cycles(m.organisation)
            .select_related("profile_version")
            .annotate(people=Count("assessees", distinct=True))
        )
    raters = list(
        list_my_raters(m)
        .select_related("assessee__person", "assessee__cycle")
        .order_by("-assessee__cycle__created_at", "assessee__person__name")
    )
    statuses = _latest_status([r.pk for r in raters])
    results = list(
        Assessee.objects.filter(cycle__organisation=m.organisation)
        .filter(person__user_id=m.user_id, released_at__isnull=False)
        .select_related("cycle", "person")
    )
    return page(
        request,
        m,
        "assessments/index.html",
        {
            "cycles": cycles,
            "forms": [(r, statuses.get(r.pk, "not started")) for r in raters],
            "results": results,
        },
    )


def _latest_status(rater_ids: list[int]) -> dict[int, str]:
    latest: dict[int, tuple[int, str]] = {}
    for rater_id, number, status in RatingForm.objects.filter(rater_id__in=rater_ids).values_list(
        "rater_id", "number", "status"
    ):
        if number > latest.get(rater_id, (0, ""))[0]:
            latest[rater_id] = (number, status)
    labels = {FormStatus.DRAFT: "draft saved", FormStatus.SUBMITTED: "submitted"}
    return {
        r: labels[FormStatus(s)] + (f" (v{n})" if n > 1 else "") for r, (n, s) in latest.items()
    }


@require_http_methods(["GET", "POST"])
@org_view
def cycle_new(request: HttpRequest, m: Membership) -> HttpResponse:
    require(m, MANAGE_PEOPLE, "run assessment cycles")
    versions = list(
        ProfileVersion.objects.filter(
            profile__organisation=m.organisation, status=ProfileStatus.PUBLISHED
        )
        .select_related("profile")
        .order_by("profile__title", "-number")
    )
    people = list(list_people(m.organisation).filter(active=True).order_by("name"))
    if request.method == "POST":
        chosen = next((v for v in versions if str(v.pk) == request.POST.get("version")), None)
        try:
            if chosen is None:
                raise ValidationError(
                    [Problem("profile_version", "choose a published role profile")]
                )
            due = request.POST.get("due_on") or None
            cycle = services.create_cycle(
                m.organisation,
                request.user,  # type: ignore[arg-type]
                title=request.POST.get("title", ""),
                profile_version=chosen,
                due_on=dt.date.fromisoformat(due) if due else None,
                rules=_rules_from(request.POST),
            )
        except ValueError:
            messages.error(request, "due_on: use a date like 2026-12-31")
        except ValidationError as exc:
            show_problems(request, exc)
        else:
            ids = set(request.POST.getlist("people"))
            services.add_people(cycle, request.user, [p for p in people if str(p.pk) in ids])  # type: ignore[arg-type]
            messages.success(request, f"Cycle {cycle.title!r} prepared: add raters, then open it.")
            return redirect(org_url("assessments:cycle", m, cycle.pk))
    return page(
        request,
        m,
        "assessments/cycle_new.html",
        {
            "versions": versions,
            "people": people,
            "rules": scoring.rules_to_dict(scoring.DEFAULT_RULES),
            "sources": scoring.SOURCES,
        },
    )


def _rules_from(post: Any) -> dict[str, object]:
    weights: dict[str, object] = {}
    for source in scoring.SOURCES:
        value = post.get(f"weight_{source}", "")
        if value != "":
            try:
                weights[source] = float(value)
            except ValueError:
                weights[source] = value  # refused, with its field named, by the rules check
    rules: dict[str, object] = {"source_weights": weights} if weights else {}
    if post.get("min_peers", "") != "":
        try:
            rules["min_peers"] = int(post["min_peers"])
        except ValueError:
            rules["min_peers"] = post["min_peers"]
    if "include_self" in post or weights:
        rules["include_self"] = post.get("include_self") == "on"
    return rules


@require_GET
@org_view
def cycle_detail(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    cycle = access_cycle(m, pk)
    assessees = list(
        Assessee.objects.filter(cycle=cycle)
        .select_related("person__manager", "released_by")
        .order_by("person__name", "person_id")
    )
    raters = defaultdict(list)
    all_raters = list(
        Rater.objects.filter(assessee__cycle=cycle).select_related("user").order_by("source", "id")
    )
    statuses = _latest_status([r.pk for r in all_raters])
    for rater in all_raters:
        raters[rater.assessee_id].append((rater, statuses.get(rater.pk, "not started")))
    in_cycle = {a.person_id for a in assessees}
    return page(
        request,
        m,
        "assessments/cycle.html",
        {
            "cycle": cycle,
            "version": cycle.profile_version,
            "rows": [(a, raters[a.pk]) for a in assessees],
            "candidates": [
                p for p in list_people(m.organisation).filter(active=True) if p.pk not in in_cycle
            ],
            "members": list(
                m.organisation.memberships.select_related("user").order_by("user__username")
            ),
            "sources": [s for s in Source.choices if s[0] != Source.SELF],
            "rules": cycle.rules or scoring.rules_to_dict(scoring.DEFAULT_RULES),
            "cycle_tag": cycle_version(m, cycle.pk),
            "submitted": sum(1 for s in statuses.values() if s.startswith("submitted")),
            "invited": len(all_raters),
        },
    )


def _people_of(cycle_pk: int, ids: list[str]) -> list[Assessee]:
    wanted = [int(i) for i in ids if i.isdecimal()]
    return list(Assessee.objects.filter(cycle_id=cycle_pk, person_id__in=wanted))


def cycle_version(m: Membership, pk: int, *, lock: bool = False) -> str:
    """The tag of a cycle's own fields (title, status, rules, dates); ``lock``: row-locked."""
    cycles = list_cycles(m.organisation).filter(pk=pk)
    if lock:
        cycles = cycles.select_for_update(of=("self",))
    return record_tag(cycles.get())


@require_POST
@org_view
@transaction.atomic  # a version check and the change it guards: one transaction (A25)
def cycle_action(  # noqa: PLR0912, PLR0915 - one branch per action
    request: HttpRequest, m: Membership, pk: int
) -> HttpResponse:
    """One change to a cycle, named by the ``action`` field of the form.

    A form carrying the cycle's ``version`` is refused if the cycle changed since the
    page was opened ("changed since you opened it").
    """
    action = request.POST.get("action", "")
    cycle = access_cycle(m, pk, action="release" if action == "release" else "manage")
    user = request.user
    post = request.POST
    try:
        if post.get("version"):
            check_version(post.get("version"), cycle_version(m, cycle.pk, lock=True))
        if action == "add_people":
            wanted = [int(i) for i in post.getlist("people") if i.isdecimal()]
            people = list(list_people(m.organisation).filter(pk__in=wanted))
            added = services.add_people(cycle, user, people)  # type: ignore[arg-type]
            messages.success(request, f"Added {len(added)} people.")
        elif action == "remove_person":
            for assessee in _people_of(cycle.pk, [post.get("person", "")]):
                services.remove_assessee(assessee)
            messages.success(request, "Removed.")
        elif action == "add_rater":
            found = _people_of(cycle.pk, [post.get("person", "")])
            if not found:
                raise ValidationError([Problem("person", "choose a person of the cycle")])
            services.add_rater(
                found[0],
                user,  # type: ignore[arg-type]
                username=post.get("username", ""),
                source=post.get("source", ""),
            )
            messages.success(request, f"{post.get('username')} asked to rate.")
        elif action == "remove_rater":
            rater = Rater.objects.filter(assessee__cycle=cycle, pk=post.get("rater") or 0).first()
            if rater is not None:
                services.remove_rater(rater)
                messages.success(request, "Rater withdrawn.")
        elif action == "open":
            services.open_cycle(cycle)
            messages.success(request, "Open: raters now see their forms under Assessments.")
        elif action == "close":
            services.close_cycle(cycle)
            messages.success(request, "Closed: unsubmitted drafts do not count.")
        elif action == "rules":
            services.update_cycle(cycle, rules=_rules_from(post))
            messages.success(request, "Scoring rules saved.")
        elif action == "release":
            chosen = (
                list(cycle.assessees.all())
                if post.get("all")
                else _people_of(cycle.pk, post.getlist("people"))
            )
            n = services.release_results(cycle, user, chosen)  # type: ignore[arg-type]
            messages.success(request, f"Released results to {n} people and their managers.")
        elif action == "import_ratings":
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationError([Problem("file", "choose a CSV or XLSX file")])
            with rejections("ratings", request=request, organisation=m.organisation):
                data = read_upload(upload)  # TooLarge: refused before any job or import
                if jobs.runs_later(upload):  # a large file is imported by a worker
                    job = jobs.start_import(
                        organisation=m.organisation,
                        actor=user,  # type: ignore[arg-type]
                        kind=JobKind.IMPORT_RATINGS,
                        upload=upload,
                        cycle=cycle,
                    )
                    return redirect(org_url("jobs:job", m, job.pk))
                n = exchange.read_ratings(
                    cycle,
                    user,  # type: ignore[arg-type]
                    data,
                    upload.name or "",
                )
            messages.success(request, f"Imported {n} rating forms.")
        elif action == "remind":
            require(m, OVERSEE_JOBS, "send reminders")
            job = jobs.start_reminders(cycle=cycle, actor=user)  # type: ignore[arg-type]
            return redirect(org_url("jobs:job", m, job.pk))
        else:
            messages.error(request, f"Unknown action {action!r}.")
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
    return redirect(org_url("assessments:cycle", m, cycle.pk))


# --- results --------------------------------------------------------------------------


def _quick_checks(person_ids: list[int]) -> dict[int, QuickCheck]:
    latest: dict[int, QuickCheck] = {}
    for check in QuickCheck.objects.filter(person_id__in=person_ids).order_by(
        "person_id", "-answered_at", "-id"
    ):
        latest.setdefault(check.person_id, check)
    return latest


def _heatmap(
    data: CycleData, order: npt.NDArray[np.intp], number: str | None, link: str
) -> tuple[Any, SafeString]:
    """One page of the heatmap as HTML rows, built in Python (no per-cell template work).

    ``link`` is a person's result URL with ``0`` as the person id. Every text is escaped.
    """
    paginator = Paginator(range(len(order)), HEATMAP_PAGE)
    current = paginator.get_page(number)
    rows = [int(order[position]) for position in current.object_list]
    checks = _quick_checks([data.assessees[i].person_id for i in rows])
    s = data.scores
    heads = [f"{escape(c.name)}: " for c in data.columns]
    required = [f" against {c.required}" for c in data.columns]
    parts = []
    for i in rows:
        a = data.assessees[i]
        band = int(data.bands[i])
        check = checks.get(a.person_id)
        href = link.replace("/0/", f"/{a.person_id}/")
        parts.append(
            f'<tr><td><a href="{href}">{escape(a.person.name)}</a></td>'
            f'<td class="num">{fmt(s.fit[i], 0)}%</td>'
            f'<td class="band b{band}">{scoring.BANDS[band]}</td>'
            f'<td class="num">{data.submitted[i]}/{data.invited[i]}</td>'
            f'<td class="num">{f"{check.yes_count}/{check.answered_count}" if check else ""}</td>'
        )
        for j in range(len(data.columns)):
            value = s.combined[i, j]
            blind = "◆" if s.blind_spots[i, j] else ""
            parts.append(
                f'<td class="hm {gap_class(s.gaps[i, j])}" title="{heads[j]}'
                f'{fmt(value, 2)}{required[j]}">{fmt(value)}{blind}</td>'
            )
        parts.append("</tr>")
    return current, mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


@require_GET
@org_view
def team(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    """The team picture: heatmap, make-or-buy, bench strength and sales background."""
    cycle = access_cycle(m, pk)
    data = load_cycle(cycle)
    s = data.scores
    order = np.lexsort((np.arange(len(data.assessees)), -np.nan_to_num(s.fit, nan=-1.0)))
    link = org_url("assessments:result", m, cycle.pk, 0)
    current, rows = _heatmap(data, order, request.GET.get("page"), link)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        # A competency nobody has rated yet is all NaN: its mean is NaN, not a warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        short = (
            np.nanmean(np.where(np.isnan(s.gaps), np.nan, s.gaps < -0.5), axis=0)
            if len(data.assessees)
            else np.full(len(data.columns), np.nan)
        )
        means = (
            np.nanmean(s.combined, axis=0)
            if len(data.assessees)
            else np.full(len(data.columns), np.nan)
        )
    # Team statistics rest on k people or more (issue 5), even for readers of every row.
    k = cycle.organisation.min_group_size
    scored = (~np.isnan(s.combined)).sum(axis=0)
    hidden = anonymity.fewer_than(k)
    footer = [
        (fmt(means[j]), fmt(100 * short[j], 0), col.required)
        if scored[j] >= k
        else (hidden, hidden, col.required)
        for j, col in enumerate(data.columns)
    ]
    backgrounds = [a.person.background for a in data.assessees]
    sales, known, share = development.selling_background(backgrounds)
    selling = (cycle.profile_version.time_allocation or {}).get("selling")
    bench = bench_strength(data)
    counts = {label: int((data.bands == code).sum()) for code, label in scoring.BANDS.items()}
    return page(
        request,
        m,
        "assessments/team.html",
        {
            "cycle": cycle,
            "data": data,
            "export_later": len(data.assessees) > jobs.INLINE_REPORT_PEOPLE,
            "export_formats": [("csv", "CSV"), ("xlsx", "Excel")],
            "columns": data.columns,
            "rows": rows,
            "page_obj": current,
            "footer": footer,
            "mean_fit": fmt(float(np.nanmean(s.fit)), 0) + "%"
            if np.isfinite(s.fit).sum() >= k
            else f"{hidden} people with a fit: not shown",
            "band_counts": counts,
            "make_or_buy": data.make_or_buy(),
            "selling_note": development.selling_note(share, selling, sales=sales, known=known),
            "sales": sales,
            "known": known,
            "bench": bench,
            "fv": cycle.profile_version.framework_version,
        },
    )


@require_http_methods(["GET", "POST"])
@export_limited()
@org_view
def team_export(request: HttpRequest, m: Membership, pk: int, fmt_name: str) -> HttpResponse:
    """The team results as CSV or XLSX; for a large cycle, a file a worker prepares (POST)."""
    cycle = access_cycle(m, pk)
    if jobs.report_runs_later(cycle):
        if request.method != "POST":
            messages.info(request, "A cycle this large is exported in the background.")
            return redirect(org_url("assessments:team", m, cycle.pk))
        job = jobs.start_team_report(cycle=cycle, actor=request.user, fmt=fmt_name)  # type: ignore[arg-type]
        return redirect(org_url("jobs:job", m, job.pk))
    header, rows = exchange.results_table(load_cycle(cycle))
    name = f"{m.organisation.slug}-cycle-{cycle.pk}-results"
    audit(
        "export.downloaded",
        request=request,
        organisation=m.organisation,
        target=cycle,
        data={"what": "team_results", "format": as_code(fmt_name), "rows": len(rows)},
    )
    if fmt_name == "xlsx":
        response = HttpResponse(
            to_xlsx(header, rows, sheet="Results"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            content_disposition_header(True, f"{name}.xlsx") or "attachment"
        )
        return response
    response = HttpResponse(to_csv(header, rows), content_type="text/csv")
    response["Content-Disposition"] = (
        content_disposition_header(True, f"{name}.csv") or "attachment"
    )
    return response


@require_GET
@org_view
def person_result(request: HttpRequest, m: Membership, pk: int, person: int) -> HttpResponse:
    """One person's result: fit, gaps, sources, blind spots and the company's side."""
    assessee = access_assessee(m, pk, person)
    cycle = assessee.cycle
    manage = may(m.role, MANAGE_PEOPLE)
    # The person and their manager read the result as it was released; HR reads it live.
    as_of = None if manage else assessee.released_at
    data = load_cycle(cycle) if manage else load_cycle(cycle, people=[person], as_of=as_of)
    row = data.index[assessee.person_id]
    lines = person_lines(data, row, private=not manage)
    evidence = evidence_for(assessee, named=manage, as_of=as_of, view=data)
    _record_reads(request, m, assessee, notes=sum(len(e) for e in evidence.values()))
    s = data.scores
    previous = _previous_scores(assessee, released_only=not manage)
    return page(
        request,
        m,
        "assessments/result.html",
        {
            "cycle": cycle,
            "assessee": assessee,
            "person": assessee.person,
            "lines": [
                {
                    "line": line,
                    "evidence": evidence.get(line.column.competency_id, []),
                    "combined": fmt(line.combined or math.nan),
                    "gap": fmt(line.gap if line.gap is not None else math.nan),
                    "gap_class": gap_class(line.gap if line.gap is not None else math.nan),
                    "self": fmt(line.self_rating if line.self_rating is not None else math.nan),
                    "others": fmt(line.others if line.others is not None else math.nan),
                    "previous": fmt(previous.get(line.column.key, math.nan)),
                    "width": 0
                    if line.combined is None
                    else min(100, round(100 * line.combined / len(data.scale))),
                    "required_at": round(100 * line.column.required / len(data.scale)),
                }
                for line in lines
            ],
            "fit": fmt(s.fit[row], 0),
            "coverage": fmt(100 * s.coverage[row], 0),
            "percentile": fmt(s.percentile[row], 0)
            if manage and np.isfinite(s.fit).sum() >= cycle.organisation.min_group_size
            else "",
            "band": scoring.BANDS[int(data.bands[row])],
            "scale": data.scale,
            "rules": data.rules,
            "manage": manage,
            "suggestions": suggestions_for(data, row) if manage else (),
            "plans": list(list_visible_plans(m).filter(person=assessee.person, cycle=cycle)),
            "psychometrics": list(
                PsychometricResult.objects.filter(person=assessee.person).order_by(
                    "attribute_key", "-assessed_on"
                )
            )
            if manage
            else [],
            "has_previous": bool(previous),
            "fv": cycle.profile_version.framework_version,
        },
    )


def _record_reads(request: HttpRequest, m: Membership, assessee: Assessee, *, notes: int) -> None:
    """Leave a read record for the evidence notes and psychometric results a result shows."""
    if notes:
        audit(
            "notes.read",
            request=request,
            organisation=m.organisation,
            target=assessee,
            data={"notes": notes, "person_id": assessee.person_id},
        )
    if may(m.role, MANAGE_PEOPLE):
        results = PsychometricResult.objects.filter(person_id=assessee.person_id).count()
        if results:
            audit(
                "psychometrics.read",
                request=request,
                organisation=m.organisation,
                target=assessee.person,
                data={"results": results},
            )


def _previous_scores(assessee: Assessee, *, released_only: bool) -> dict[str, float]:
    """The person's combined scores in their previous cycle with submitted forms.

    ``released_only``: only a previous result released to the person, as released.
    """
    earlier_qs = Assessee.objects.filter(person_id=assessee.person_id)
    if released_only:
        earlier_qs = earlier_qs.filter(released_at__isnull=False)
    earlier = (
        earlier_qs.filter(cycle__created_at__lt=assessee.cycle.created_at)
        .filter(Q(raters__forms__status=FormStatus.SUBMITTED))
        .select_related("cycle__profile_version__framework_version", "cycle__organisation")
        .order_by("-cycle__created_at")
        .first()
    )
    if earlier is None:
        return {}
    as_of = earlier.released_at if released_only else None
    data = load_cycle(earlier.cycle, people=[assessee.person_id], as_of=as_of)
    row = data.index[assessee.person_id]
    return {
        c.key: float(data.scores.combined[row, j])
        for j, c in enumerate(data.columns)
        if not math.isnan(data.scores.combined[row, j])
    }
