"""Pages to build role profiles, read their job descriptions and compare them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.domain import profiles as dp
from kamfit.domain.errors import NotPermitted, Problem, StaleVersion, ValidationError
from kamfit.frameworks.models import FrameworkVersion, VersionStatus
from kamfit.frameworks.queries import get_version_rows
from kamfit.orgs.access import (
    access_profile,
    access_profile_version,
    list_exercises,
    list_frameworks,
)
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import EDIT_PROFILE, MANAGE_WEIGHTING, PUBLISH_PROFILE, may
from kamfit.profiles import documents, services
from kamfit.profiles.models import (
    Participant,
    ProfileElement,
    ProfileStatus,
    ProfileVersion,
    Requirement,
)
from kamfit.profiles.queries import (
    build_job_description,
    get_profile_detail,
    paper_lines,
    profile_lines,
    weights_source,
)
from kamfit.versions import check_version, record_tag, row_values
from kamfit.web.export_limit import export_limited
from kamfit.web.pages import org_url, show_problems


def _visible_versions(m: Membership) -> list[ProfileVersion]:
    """Versions the member may see, across the organisation's profiles (one query)."""
    versions = ProfileVersion.objects.filter(profile__organisation=m.organisation).select_related(
        "profile", "framework_version"
    )
    if not may(m.role, EDIT_PROFILE):
        versions = versions.filter(status=ProfileStatus.PUBLISHED)
    return list(versions.order_by("profile__title", "profile_id", "number"))


@require_GET
@org_view
def profile_list(request: HttpRequest, m: Membership) -> HttpResponse:
    versions = _visible_versions(m)
    latest: dict[int, ProfileVersion] = {}
    published: dict[int, ProfileVersion] = {}
    for v in versions:
        latest[v.profile_id] = v
        if v.is_published:
            published[v.profile_id] = v
    profiles = [
        {"profile": v.profile, "latest": v, "published": published.get(pid)}
        for pid, v in latest.items()
    ]
    can_edit = may(m.role, EDIT_PROFILE)
    exercises = (
        list(list_exercises(m.organisation).select_related("profile_version"))
        if may(m.role, MANAGE_WEIGHTING)
        else []
    )
    invitations = list(
        Participant.objects.filter(exercise__organisation=m.organisation, user_id=m.user_id)
        .select_related("exercise")
        .order_by("-exercise__created_at")
    )
    return render(
        request,
        "profiles/list.html",
        {
            "membership": m,
            "org": m.organisation,
            "profiles": profiles,
            "can_edit": can_edit,
            "exercises": exercises,
            "invitations": invitations,
        },
    )


def _published_framework_versions(m: Membership) -> list[FrameworkVersion]:
    return list(
        FrameworkVersion.objects.filter(
            framework__in=list_frameworks(m.organisation), status=VersionStatus.PUBLISHED
        )
        .select_related("framework")
        .order_by(
            F("framework__organisation_id").asc(nulls_last=True), "framework__title", "-number"
        )
    )


@require_http_methods(["GET", "POST"])
@org_view
def profile_new(request: HttpRequest, m: Membership) -> HttpResponse:
    if not may(m.role, EDIT_PROFILE):
        raise PermissionDenied("Your role may not create role profiles.")
    versions = _published_framework_versions(m)
    chosen = request.POST.get("framework_version") or request.GET.get("framework_version")
    fv = next((v for v in versions if str(v.pk) == chosen), None)
    if chosen and fv is None:
        raise Http404("No such framework version")
    fv = fv or (versions[0] if versions else None)
    if request.method == "POST" and fv is not None:
        try:
            version = services.create_profile(
                organisation=m.organisation,
                user=m.user,
                framework_version=fv,
                title=request.POST.get("title", ""),
                element_keys=request.POST.getlist("elements"),
                summary=request.POST.get("summary", ""),
            )
        except ValidationError as exc:
            show_problems(request, exc)
        else:
            messages.success(
                request,
                f"Created “{version.title}” with {version.requirements.count()} requirements "
                "from the elements in scope. Set levels and weights, then publish.",
            )
            return redirect(org_url("profiles:version", m, version.profile_id, version.number))
    rows = get_version_rows(fv) if fv is not None else None
    return render(
        request,
        "profiles/new.html",
        {
            "membership": m,
            "org": m.organisation,
            "versions": versions,
            "fv": fv,
            "roles": rows.roles if rows else [],
            "posted": request.POST,
            "chosen_elements": set(request.POST.getlist("elements")),
        },
    )


@require_GET
@org_view
def profile_latest(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    profile = access_profile(m, pk)
    versions = profile.versions.all()
    if not may(m.role, EDIT_PROFILE):
        versions = versions.filter(status=ProfileStatus.PUBLISHED)
    version = versions.order_by("-number").first()
    if version is None:
        raise Http404("No such profile")
    return redirect(org_url("profiles:version", m, profile.pk, version.number))


def _newer_framework_versions(version: ProfileVersion) -> dict[str, FrameworkVersion]:
    """Published versions of the profile's framework newer than the one it is on."""
    fv = version.framework_version
    return {
        str(v.pk): v
        for v in FrameworkVersion.objects.filter(
            framework_id=fv.framework_id, status=VersionStatus.PUBLISHED, number__gt=fv.number
        ).order_by("number")
    }


def _version_context(m: Membership, version: ProfileVersion) -> dict[str, Any]:
    detail = get_profile_detail(version)
    versions = list(ProfileVersion.objects.filter(profile_id=version.profile_id).order_by("number"))
    if not may(m.role, EDIT_PROFILE):
        versions = [v for v in versions if v.is_published]
    editable = version.status == ProfileStatus.DRAFT and may(m.role, EDIT_PROFILE)
    labels = {a.key: a.label for a in dp.ACTIVITY_AREAS}
    time = [
        (a.key, labels[a.key], (version.time_allocation or {}).get(a.key, 0))
        for a in dp.ACTIVITY_AREAS
    ]
    selling = float((version.time_allocation or {}).get("selling", 0))
    exercises = list(version.exercises.all()) if may(m.role, MANAGE_WEIGHTING) else []
    return {
        "membership": m,
        "org": m.organisation,
        "version": version,
        "fv": version.framework_version,
        "profile": version.profile,
        "versions": versions,
        "detail": detail,
        "editable": editable,
        "can_publish": editable and may(m.role, PUBLISH_PROFILE),
        "can_edit": may(m.role, EDIT_PROFILE),
        "can_weigh": may(m.role, MANAGE_WEIGHTING),
        "has_draft": any(v.status == ProfileStatus.DRAFT for v in versions),
        "time": time,
        "selling": selling,
        "selling_over": bool(version.time_allocation) and selling > version.selling_limit,
        "weights_source": weights_source(version),
        "exercises": exercises,
        "scale": detail.scale,
        "newer": list(_newer_framework_versions(version).values()) if editable else [],
        "edit_versions": edit_versions(version) if editable else {},
    }


def edit_versions(version: ProfileVersion) -> dict[str, str]:
    """The tag of what each edit form of a draft shows, by the form's ``action`` (A25).

    Each form's tag covers only what that form shows, so saving the title does not
    refuse a requirements form opened in another tab.
    """
    requirements = Requirement.objects.filter(version=version).order_by("pk")
    scope = ProfileElement.objects.filter(version=version).order_by("element_id")
    return {
        "details": record_tag(version.title, version.summary, version.note),
        "scope": record_tag(list(scope.values_list("element_id", flat=True))),
        "requirements": record_tag([row_values(r) for r in requirements]),
        "time": record_tag(version.time_allocation, version.selling_limit),
    }


@require_GET
@org_view
def version_page(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_profile_version(m, pk, number)
    return render(request, "profiles/version.html", _version_context(m, version))


def _edit_details(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    services.update_details(
        version, title=post.get("title", ""), summary=post.get("summary", ""),
        note=post.get("note", ""),
    )  # fmt: skip
    messages.success(request, "Saved the title and summary.")


def _edit_scope(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    for note in services.set_scope(version, post.getlist("elements")):
        messages.info(request, note)
    messages.success(request, "Saved the role elements in scope.")


def _edit_requirements(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    keys = post.getlist("key")
    changes = {k: (post.get(f"level-{k}", ""), post.get(f"weight-{k}", "")) for k in keys}
    services.update_requirements(version, changes)
    messages.success(request, "Saved the required levels and weights.")


def _edit_equalise(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    services.equalise_weights(version)
    messages.success(request, "Every requirement now has the same weight.")


def _edit_add(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    requirement = services.add_requirement(version, post.get("competency", ""))
    messages.success(request, f"Added {requirement.competency.name}.")


def _edit_remove(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    services.remove_requirement(version, post.get("competency", ""))
    messages.success(request, "Removed the requirement.")


def _edit_time(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    shares = {a.key: post.get(f"time-{a.key}", "0") or "0" for a in dp.ACTIVITY_AREAS}
    limit = post.get("selling_limit")
    for warning in services.set_time_allocation(version, shares, selling_limit=limit):
        messages.warning(request, warning)
    messages.success(request, "Saved the time allocation.")


def _edit_move(request: HttpRequest, version: ProfileVersion, post: QueryDict) -> None:
    target = _newer_framework_versions(version).get(post.get("framework_version", ""))
    if target is None:
        raise ValidationError([Problem("framework_version", "choose a newer published version")])
    for note in services.move_to_framework_version(version, target):
        messages.info(request, note)


EDIT_ACTIONS: dict[str, Callable[[HttpRequest, ProfileVersion, QueryDict], None]] = {
    "details": _edit_details,
    "scope": _edit_scope,
    "requirements": _edit_requirements,
    "equalise": _edit_equalise,
    "add": _edit_add,
    "remove": _edit_remove,
    "time": _edit_time,
    "move": _edit_move,
}


@require_POST
@org_view
def version_edit(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    """Apply one change to a draft; the form names it in ``action``."""
    version = access_profile_version(m, pk, number, action="edit")
    action = request.POST.get("action", "")
    edit = EDIT_ACTIONS.get(action)
    if edit is None:
        messages.error(request, f"action: unknown change {action!r}")
        return redirect(version.get_absolute_url())
    try:
        with transaction.atomic():  # the version check and the change it guards (A25)
            locked = ProfileVersion.objects.select_for_update(of=("self",)).get(pk=version.pk)
            if action in {"details", "scope", "requirements", "time"}:
                check_version(request.POST.get("version"), edit_versions(locked)[action])
            edit(request, locked, request.POST)
    except StaleVersion as exc:
        messages.error(request, str(exc))
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
    anchor = {"requirements": "#requirements", "time": "#time", "scope": "#scope"}.get(action, "")
    return redirect(version.get_absolute_url() + anchor)


@require_POST
@org_view
def version_publish(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_profile_version(m, pk, number, action="publish")
    try:
        services.publish_version(version, m.user)
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
    else:
        messages.success(
            request, f"Published version {version.number}: it never changes from now on."
        )
    return redirect(version.get_absolute_url())


@require_POST
@org_view
def new_draft(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    profile = access_profile(m, pk, action="edit")
    try:
        draft = services.start_new_draft(profile, m.user)
    except NotPermitted as exc:
        show_problems(request, exc)
        return redirect(org_url("profiles:list", m))
    messages.success(request, f"Draft version {draft.number} is open for changes.")
    return redirect(draft.get_absolute_url())


FORMATS = {"md", "pdf", "docx"}


@require_GET
@export_limited(when=lambda url: url.get("fmt", "html") != "html")  # the page is a read
@org_view
def job_description(
    request: HttpRequest, m: Membership, pk: int, number: int, fmt: str = "html"
) -> HttpResponse:
    version = access_profile_version(m, pk, number)
    detail = get_profile_detail(version)
    jd = build_job_description(detail)
    if fmt == "html":
        return render(
            request,
            "profiles/job_description.html",
            {
                "membership": m,
                "org": m.organisation,
                "version": version,
                "fv": version.framework_version,
                "jd": jd,
                "selling": float((version.time_allocation or {}).get("selling", 0)),
            },
        )
    if fmt not in FORMATS:
        raise Http404("No such format")
    media = {
        "md": "text/markdown; charset=utf-8",
        "pdf": documents.PDF_MEDIA_TYPE,
        "docx": documents.DOCX_MEDIA_TYPE,
    }[fmt]
    # A published version never changes: render its documents once (a large PDF takes ~1 s).
    key = (
        f"kamfit:jd:{version.pk}:{version.published_at:%Y%m%d%H%M%S%f}:{fmt}"
        if version.is_published and version.published_at
        else None
    )
    body = cache.get(key) if key else None
    if body is None:
        if fmt == "md":
            body = dp.render_markdown(jd).encode()
        elif fmt == "pdf":
            body = documents.render_pdf(jd)
        else:
            body = documents.render_docx(jd)
        if key:
            cache.set(key, body, timeout=24 * 3600)
    response = HttpResponse(body, content_type=media)
    filename = documents.document_filename(jd, fmt)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


@require_GET
@org_view
def compare(request: HttpRequest, m: Membership) -> HttpResponse:
    """Two profile versions side by side, or one against the paper's unweighted view."""
    versions = _visible_versions(m)
    by_id = {str(v.pk): v for v in versions}
    left_id = request.GET.get("left") or (str(versions[0].pk) if versions else "")
    right_id = request.GET.get("right") or "paper"
    left = by_id.get(left_id)
    if left_id and left is None:
        raise Http404("No such profile version")
    right = None if right_id == "paper" else by_id.get(right_id)
    if right_id != "paper" and right is None:
        raise Http404("No such profile version")
    rows: tuple[dp.ComparisonRow, ...] = ()
    summary: dict[str, float] = {}
    if left is not None:
        left_detail = get_profile_detail(left)
        right_lines = (
            paper_lines(left_detail) if right is None else profile_lines(get_profile_detail(right))
        )
        rows = dp.compare_profiles(profile_lines(left_detail), right_lines)
        summary = {
            "overlap": sum(min(r.left_weight or 0.0, r.right_weight or 0.0) for r in rows),
            "only_left": sum(1 for r in rows if r.right_weight is None),
            "only_right": sum(1 for r in rows if r.left_weight is None),
        }
    return render(
        request,
        "profiles/compare.html",
        {
            "membership": m,
            "org": m.organisation,
            "versions": versions,
            "left": left,
            "right": right,
            "right_id": right_id,
            "rows": rows,
            "summary": summary,
            "fv": left.framework_version if left else None,
        },
    )
