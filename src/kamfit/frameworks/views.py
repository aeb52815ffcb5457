"""Pages to browse, copy, edit, publish and exchange frameworks."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from django import forms as djforms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kamfit.domain import framework as fw
from kamfit.domain.errors import (
    FrameworkInvalid,
    NotPermitted,
    Problem,
    StaleVersion,
    ValidationError,
)
from kamfit.frameworks import forms, services
from kamfit.frameworks.models import (
    Citation,
    Competency,
    FrameworkVersion,
    Party,
    Responsibility,
    Role,
    RoleElement,
    VersionStatus,
)
from kamfit.frameworks.presenters import (
    competency_page,
    matrix_page,
    version_overview,
)
from kamfit.frameworks.queries import get_scale, get_version_document, get_version_rows
from kamfit.orgs.access import (
    access_framework,
    access_version,
    access_version_row,
    list_frameworks,
)
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import EDIT_FRAMEWORK, PUBLISH_FRAMEWORK, may
from kamfit.uploads import rejections
from kamfit.versions import check_version, record_tag
from kamfit.web.export_limit import export_limited
from kamfit.web.pages import org_url

EXPORT_TYPES = {
    "yaml": ("application/yaml; charset=utf-8", "yaml"),
    "json": ("application/json; charset=utf-8", "json"),
    "case": ("application/json; charset=utf-8", "case.json"),
}


def _version_context(m: Membership, version: FrameworkVersion) -> dict[str, Any]:
    framework = version.framework
    editable = (
        version.status == VersionStatus.DRAFT
        and framework.organisation_id == m.organisation_id
        and may(m.role, EDIT_FRAMEWORK)
    )
    return {
        "membership": m,
        "org": m.organisation,
        "framework": framework,
        "version": version,
        "editable": editable,
        "can_publish": editable and may(m.role, PUBLISH_FRAMEWORK),
        "can_copy": may(m.role, EDIT_FRAMEWORK),
        "kind_choices": forms.KIND_CHOICES,
        "party_choices": Party.choices,
        "details_version": details_version(version),
    }


def details_version(version: FrameworkVersion) -> str:
    """The tag of a draft's title and description (A25)."""
    return record_tag(version.title, version.description)


def scale_version(version: FrameworkVersion) -> str:
    """The tag of a draft's proficiency scale (A25)."""
    return record_tag(version.scale)


def _locked_version(version: FrameworkVersion) -> FrameworkVersion:
    """The version's row as it is now, locked until the transaction ends."""
    return FrameworkVersion.objects.select_for_update(of=("self",)).get(pk=version.pk)


@require_GET
@org_view
def framework_list(request: HttpRequest, m: Membership) -> HttpResponse:
    frameworks = list(
        list_frameworks(m.organisation)
        .select_related("parent__framework")
        .prefetch_related("versions")
        .order_by("organisation_id", "title")
    )
    return render(
        request,
        "frameworks/list.html",
        {
            "membership": m,
            "org": m.organisation,
            "library": [f for f in frameworks if f.organisation_id is None],
            "own": [
                f
                for f in frameworks
                if f.organisation_id is not None
                and (may(m.role, EDIT_FRAMEWORK) or f.latest_published is not None)
            ],
            "can_edit": may(m.role, EDIT_FRAMEWORK),
            "blank_form": forms.BlankFrameworkForm(),
            "import_form": forms.ImportFrameworkForm(),
        },
    )


@require_GET
@org_view
def framework_detail(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    framework = access_framework(m, pk)
    versions = sorted(framework.versions.all(), key=lambda v: v.number)
    published = [v for v in versions if v.status == VersionStatus.PUBLISHED]
    drafts = [v for v in versions if v.status == VersionStatus.DRAFT]
    editor = framework.organisation_id is not None and may(m.role, EDIT_FRAMEWORK)
    candidates = drafts if editor and drafts else published
    if not candidates:
        raise Http404("This framework has no version you may see")
    chosen = candidates[-1]
    return redirect(org_url("frameworks:version", m, framework.pk, chosen.number))


@require_GET
@org_view
def version_detail(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_version(m, pk, number)
    rows = get_version_rows(version)
    context = _version_context(m, version) | version_overview(rows)
    context["versions"] = list(version.framework.versions.order_by("number"))
    return render(request, "frameworks/version.html", context)


@require_GET
@org_view
def element_detail(
    request: HttpRequest, m: Membership, pk: int, number: int, key: str
) -> HttpResponse:
    version = access_version(m, pk, number)
    rows = get_version_rows(version)
    found = rows.element(key)
    if found is None:
        raise Http404("No such role element")
    role, element = found
    keys = [e.element.key for e in rows.elements]
    index = keys.index(key)
    context = _version_context(m, version) | {
        "role": role,
        "er": element,
        "competencies": rows.competencies,
        "previous_key": keys[index - 1] if index > 0 else None,
        "next_key": keys[index + 1] if index + 1 < len(keys) else None,
    }
    return render(request, "frameworks/element.html", context)


@require_GET
@org_view
def competency_list(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_version(m, pk, number)
    rows = get_version_rows(version)
    context = _version_context(m, version) | competency_page(rows)
    return render(request, "frameworks/competencies.html", context)


@require_GET
@org_view
def competency_detail(
    request: HttpRequest, m: Membership, pk: int, number: int, key: str
) -> HttpResponse:
    version = access_version(m, pk, number)
    rows = get_version_rows(version)
    page = competency_page(rows, key)
    if page.get("competency") is None:
        raise Http404("No such competency")
    return render(request, "frameworks/competency.html", _version_context(m, version) | page)


@require_GET
@org_view
def matrix(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_version(m, pk, number)
    context = _version_context(m, version) | matrix_page(get_version_rows(version))
    return render(request, "frameworks/matrix.html", context)


@require_GET
@org_view
def guidance(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_version(m, pk, number)
    doc = get_version_document(version, rows=get_version_rows(version))
    context = _version_context(m, version) | {"doc": doc}
    return render(request, "frameworks/guidance.html", context)


@require_http_methods(["GET", "POST"])
@org_view
def scale(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    """Show a version's proficiency scale; editors of a draft change it or reset it."""
    if request.method == "POST":
        return _save_scale(request, m, pk, number)
    version = access_version(m, pk, number)
    return _scale_page(request, m, version, forms.ScaleForm(scale=get_scale(version)))


def _save_scale(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_version(m, pk, number, action="edit")
    form = forms.ScaleForm(request.POST)
    reset = request.POST.get("action") == "reset"
    levels = [(lv.name, lv.description) for lv in fw.DEFAULT_SCALE] if reset else form.levels()
    try:
        with transaction.atomic():  # the version check and the save it guards (A25)
            version = _locked_version(version)
            check_version(request.POST.get("version"), scale_version(version))
            services.update_scale(version, levels)
    except StaleVersion as exc:
        messages.error(request, str(exc))
        return _scale_page(request, m, version, form, status=409)
    except ValidationError as exc:
        for problem in exc.problems:
            messages.error(request, forms.scale_problem_text(problem))
        return _scale_page(request, m, version, form, status=400)
    messages.success(request, "Reset to kamfit’s default scale." if reset else "Saved the scale.")
    return redirect(org_url("frameworks:scale", m, pk, number))


def _scale_page(
    request: HttpRequest,
    m: Membership,
    version: FrameworkVersion,
    form: forms.ScaleForm,
    status: int = 200,
) -> HttpResponse:
    context = _version_context(m, version) | {
        "levels": get_scale(version),
        "form": form,
        "scale_version": scale_version(version),
    }
    return render(request, "frameworks/scale.html", context, status=status)


@require_GET
@org_view
def version_diff(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_version(m, pk, number)
    framework = version.framework
    candidates = [
        v for v in framework.versions.order_by("number") if v.number < number and v.is_published
    ]
    base: FrameworkVersion | None = candidates[-1] if candidates else framework.parent
    if (against := request.GET.get("against")) and against.isdecimal():
        base = next((v for v in candidates if v.number == int(against)), base)
    changes = (
        [] if base is None else fw.diff(get_version_document(base), get_version_document(version))
    )
    context = _version_context(m, version) | {
        "base": base,
        "candidates": candidates,
        "changes": changes,
    }
    return render(request, "frameworks/diff.html", context)


@require_GET
@export_limited()
@org_view
def export(request: HttpRequest, m: Membership, pk: int, number: int, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404("Unknown format")
    version = access_version(m, pk, number)
    content_type, suffix = EXPORT_TYPES[fmt]
    body = fw.dumps(get_version_document(version), fmt)
    response = HttpResponse(body, content_type=content_type)
    name = f"{version.framework.key}-v{version.number}.{suffix}"
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    return response


@require_POST
@org_view
def copy(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    source = access_framework(m, pk)  # 404 for another organisation's, before any 403
    if not may(m.role, EDIT_FRAMEWORK):
        raise PermissionDenied("Your role may not create frameworks.")
    version = source.versions.filter(status=VersionStatus.PUBLISHED).order_by("number").last()
    if version is None:
        raise Http404("Only a published version can be copied")
    form = forms.CopyFrameworkForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    framework = services.copy_framework(
        organisation=m.organisation, user=m.user, source=version, title=title or None
    )
    messages.success(request, f"Copied “{version.framework.title}” v{version.number}.")
    return redirect(org_url("frameworks:version", m, framework.pk, 1))


@require_POST
@org_view
def create_blank(request: HttpRequest, m: Membership) -> HttpResponse:
    if not may(m.role, EDIT_FRAMEWORK):
        raise PermissionDenied("Your role may not create frameworks.")
    form = forms.BlankFrameworkForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["title"]:
        messages.error(request, "Give the new framework a title.")
        return redirect(org_url("frameworks:list", m))
    framework = services.create_blank_framework(
        organisation=m.organisation, user=m.user, title=form.cleaned_data["title"]
    )
    return redirect(org_url("frameworks:version", m, framework.pk, 1))


@require_POST
@org_view
def import_file(request: HttpRequest, m: Membership) -> HttpResponse:
    if not may(m.role, EDIT_FRAMEWORK):
        raise PermissionDenied("Your role may not import frameworks.")
    form = forms.ImportFrameworkForm(request.POST, request.FILES)
    problems: list[str] = []
    if form.is_valid():
        try:
            with rejections("framework", request=request, organisation=m.organisation):
                doc = fw.loads(form.cleaned_data["file"], form.cleaned_data["format"])
        except FrameworkInvalid as exc:
            problems = [str(p) for p in exc.problems]
        else:
            framework = services.import_framework(organisation=m.organisation, user=m.user, doc=doc)
            messages.success(request, f"Imported “{framework.title}” as a draft.")
            return redirect(org_url("frameworks:version", m, framework.pk, 1))
    else:
        problems = [f"{name}: {err}" for name, errs in form.errors.items() for err in errs]
        with suppress(ValidationError), rejections("framework", organisation=m.organisation):
            raise ValidationError([Problem("file", p) for p in problems])
    return render(
        request,
        "frameworks/import_failed.html",
        {"membership": m, "org": m.organisation, "problems": problems},
        status=400,
    )


@require_POST
@org_view
def publish(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    version = access_version(m, pk, number, action="publish")
    form = forms.PublishForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.publish_version(version=version, user=m.user, note=note)
    except ValidationError as exc:
        for problem in exc.problems:
            messages.error(request, f"Cannot publish: {problem}")
    except NotPermitted as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Published version {version.number}. It will never change.")
    return redirect(org_url("frameworks:version", m, pk, number))


@require_POST
@org_view
def new_draft(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    framework = access_framework(m, pk, action="edit")
    try:
        version = services.start_new_draft(framework=framework, user=m.user)
    except NotPermitted as exc:
        messages.error(request, str(exc))
        return redirect(org_url("frameworks:detail", m, pk))
    return redirect(org_url("frameworks:version", m, pk, version.number))


# Editing ---------------------------------------------------------------------

ROW_MODELS: dict[str, type[Role | RoleElement | Responsibility | Competency | Citation]] = {
    "role": Role,
    "element": RoleElement,
    "responsibility": Responsibility,
    "competency": Competency,
    "citation": Citation,
}
ROW_FORMS: dict[str, type[djforms.ModelForm[Any]]] = {
    "role": forms.RoleForm,
    "element": forms.ElementForm,
    "responsibility": forms.ResponsibilityForm,
    "competency": forms.CompetencyForm,
    "citation": forms.CitationForm,
}


@require_POST
@org_view
def edit(request: HttpRequest, m: Membership, pk: int, number: int) -> HttpResponse:
    """Apply one edit (add, update, move or delete a row) to a draft."""
    version = access_version(m, pk, number, action="edit")
    if request.POST.get("action") == "update-details":
        form = forms.DetailsForm(request.POST)
        if form.is_valid() and form.cleaned_data["title"]:
            try:
                with transaction.atomic():  # the version check and the save it guards (A25)
                    version = _locked_version(version)
                    check_version(request.POST.get("version"), details_version(version))
                    services.update_draft_details(version=version, **form.cleaned_data)
            except StaleVersion as exc:
                messages.error(request, str(exc))
        else:
            messages.error(request, "A framework needs a title.")
        return _back(request, m, version)
    op, _, kind = request.POST.get("action", "").partition("-")
    if kind not in ROW_MODELS or op not in {"add", "update", "move", "delete", "relink"}:
        raise Http404("Unknown edit")
    try:
        with transaction.atomic():
            _apply_edit(request, version, op, kind)
    except (ValidationError, StaleVersion) as exc:
        for problem in getattr(exc, "problems", None) or [exc]:
            messages.error(request, str(problem))
    return _back(request, m, version)


def _apply_edit(request: HttpRequest, version: FrameworkVersion, op: str, kind: str) -> None:
    post = request.POST
    if op == "add":
        _add(request, version, kind)
        return
    row = access_version_row(version, ROW_MODELS[kind], post.get("pk"), lock=op == "update")
    if op == "update":  # a rewording made on a page someone changed since: refused (A25)
        check_version(post.get("version"), record_tag(row))
    if op == "move":
        services.move_row(row=row, offset=-1 if post.get("direction") == "up" else 1)
    elif op == "delete":
        services.delete_row(row=row)
        messages.success(request, f"Removed “{row}”.")
    elif op == "relink":
        if not isinstance(row, Citation):
            raise Http404("Only a citation links to competencies")
        relink = forms.RelinkForm(post, version=version)
        if not relink.is_valid():
            raise ValidationError([Problem("competencies", "choose catalogue competencies")])
        chosen = list(relink.cleaned_data["competencies"])
        services.update_row(row=row, fields={"competencies": chosen})
    else:
        form = _form(kind, version, post, instance=row)
        if form is not None:
            fields = {name: form.cleaned_data[name] for name in form._meta.fields or ()}
            if "competencies" in fields:
                fields["competencies"] = list(fields["competencies"])
                if post.get("keep_links"):  # the inline form rewords only
                    del fields["competencies"]
            services.update_row(row=row, fields=fields)


def _form(
    kind: str, version: FrameworkVersion, data: Any, instance: Any = None
) -> djforms.ModelForm[Any] | None:
    form_class = ROW_FORMS[kind]
    if form_class is forms.CitationForm:
        form: djforms.ModelForm[Any] = forms.CitationForm(data, instance=instance, version=version)
    else:
        form = form_class(data, instance=instance)
    if not form.is_valid():
        problems = [f"{kind} {name}: {e}" for name, errs in form.errors.items() for e in errs]
        raise ValidationError([Problem("", p) for p in problems])
    for name in form._meta.fields or ():
        value = form.cleaned_data.get(name)
        if isinstance(value, str) and name in {"title", "label", "text", "name", "wording"}:
            form.cleaned_data[name] = value.strip()
            if not value.strip():
                raise ValidationError([Problem(f"{kind} {name}", "empty text")])
    return form


def _add(request: HttpRequest, version: FrameworkVersion, kind: str) -> None:
    post = request.POST
    form = _form(kind, version, post)
    assert form is not None  # noqa: S101 - _form raises instead of returning None
    data = form.cleaned_data
    adders: dict[str, Callable[[], object]] = {
        "role": lambda: services.add_role(
            version=version, title=data["title"], description=data["description"]
        ),
        "element": lambda: services.add_element(
            role=access_version_row(version, Role, post.get("parent")),
            label=data["label"],
            title=data["title"],
        ),
        "responsibility": lambda: services.add_responsibility(
            element=access_version_row(version, RoleElement, post.get("element")),
            party=data.get("party") or Party.KAM,
            text=data["text"],
            parent=access_version_row(version, Responsibility, post["parent"])
            if post.get("parent")
            else None,
        ),
        "competency": lambda: services.add_competency(
            version=version, name=data["name"], kind=data["kind"], description=data["description"]
        ),
        "citation": lambda: services.add_citation(
            element=access_version_row(version, RoleElement, post.get("element")),
            wording=data["wording"],
            competencies=list(data["competencies"]),
        ),
    }
    adders[kind]()


def _back(request: HttpRequest, m: Membership, version: FrameworkVersion) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = org_url("frameworks:version", m, version.framework_id, version.number)
    return HttpResponseRedirect(target)
