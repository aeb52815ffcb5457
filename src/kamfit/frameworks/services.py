"""Writes to frameworks: load, import, copy, edit, publish.

Every service runs in one transaction and refuses to touch a published version
(database triggers refuse it too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Model
from django.utils import timezone
from django.utils.text import slugify

from kamfit.domain import framework as fw
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.domain.titles import derived_title
from kamfit.frameworks.models import (
    Citation,
    Competency,
    Framework,
    FrameworkVersion,
    Party,
    Responsibility,
    Role,
    RoleElement,
    VersionStatus,
)
from kamfit.frameworks.queries import get_version_document

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from kamfit.orgs.models import Organisation

__all__ = [
    "copy_framework",
    "create_blank_framework",
    "import_framework",
    "install_library_framework",
    "publish_version",
    "replace_draft_content",
    "start_new_draft",
    "store_content",
    "unfrozen",
    "unique_key",
    "update_draft_details",
    "update_scale",
]

#: The title column's length: a derived title ("… (repeat)") must fit it.
TITLE_LENGTH: int = Framework._meta.get_field("title").max_length  # type: ignore[assignment]


@contextmanager
def unfrozen(reason: str) -> Iterator[None]:
    """Let one transaction delete published versions: for purges and erasure only.

    The database triggers that freeze published versions stand aside only for
    the duration of this block, inside its own transaction, so no other
    connection ever sees them lifted.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL kamfit.unfreeze = 'on'")
            yield
            cursor.execute("SET LOCAL kamfit.unfreeze = 'off'")
        else:
            cursor.execute("INSERT INTO kamfit_unfreeze (reason) VALUES (%s)", [reason[:200]])
            yield
            cursor.execute("DELETE FROM kamfit_unfreeze")


def unique_key(text: str, taken: set[str], *, fallback: str = "item") -> str:
    """Make a slug from ``text`` that is not in ``taken`` (and add it there)."""
    base = slugify(text)[:56].strip("-") or fallback
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def _require_draft(version: FrameworkVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise NotPermitted("A published version never changes: start a new draft.")


def _scale_data(scale: tuple[fw.ProficiencyLevel, ...]) -> list[dict[str, object]] | None:
    """Return a scale as stored: null for kamfit's default (or no scale)."""
    if not scale or scale == fw.DEFAULT_SCALE:
        return None
    return [dataclasses.asdict(level) for level in scale]


def store_content(version: FrameworkVersion, doc: fw.Framework) -> None:
    """Write a domain framework's content into an empty draft version."""
    _require_draft(version)
    version.title, version.description = doc.title, doc.description
    version.citation, version.source_note = doc.citation, doc.source_note
    g = doc.guidance
    version.guidance = (
        {}
        if g == fw.Guidance()
        else {
            "competency_definition": g.competency_definition,
            "attribute_definition": g.attribute_definition,
            "litmus_question": g.litmus_question,
            "table2": [dataclasses.asdict(r) for r in g.table2],
        }
    )
    version.litmus = (
        None
        if doc.litmus is None
        else {
            "prompt": doc.litmus.prompt,
            "scale": list(doc.litmus.scale),
            "items": [{"key": i.key, "text": i.text} for i in doc.litmus.items],
        }
    )
    version.scale = _scale_data(doc.scale)
    version.save(
        update_fields=[
            "title",
            "description",
            "citation",
            "source_note",
            "guidance",
            "litmus",
            "scale",
        ]
    )
    competencies = Competency.objects.bulk_create(
        Competency(
            version=version,
            position=i,
            key=c.key,
            name=c.name,
            kind=c.kind.value,
            kind_source=c.kind_source,
            table3_position=c.table3_position,
            description=c.description,
        )
        for i, c in enumerate(doc.competencies)
    )
    by_key = {c.key: c for c in competencies}
    roles = Role.objects.bulk_create(
        Role(
            version=version,
            position=i,
            key=r.key,
            title=r.title,
            description=r.description,
            aims=list(r.aims),
        )
        for i, r in enumerate(doc.roles)
    )
    elements = RoleElement.objects.bulk_create(
        RoleElement(
            version=version,
            role=role_row,
            position=i,
            key=e.key,
            label=e.label,
            title=e.title,
            figure_title=e.figure_title,
        )
        for role_row, role in zip(roles, doc.roles, strict=True)
        for i, e in enumerate(role.elements)
    )
    pairs = list(zip(elements, doc.elements, strict=True))
    parents = Responsibility.objects.bulk_create(
        Responsibility(version=version, element=row, party=party, position=i, text=r.text)
        for row, e in pairs
        for party, items in ((Party.COMPANY, e.company), (Party.KAM, e.kam))
        for i, r in enumerate(items)
    )
    sources = [r for _, e in pairs for items in (e.company, e.kam) for r in items]
    Responsibility.objects.bulk_create(
        Responsibility(
            version=version,
            element=parent.element,
            party=parent.party,
            parent=parent,
            position=i,
            text=text,
        )
        for parent, source in zip(parents, sources, strict=True)
        for i, text in enumerate(source.children)
    )
    citations = Citation.objects.bulk_create(
        Citation(version=version, element=row, position=i, wording=c.wording)
        for row, e in pairs
        for i, c in enumerate(e.citations)
    )
    sources_c = [c for _, e in pairs for c in e.citations]
    Citation.competencies.through.objects.bulk_create(
        Citation.competencies.through(citation=row, competency=by_key[ref])
        for row, c in zip(citations, sources_c, strict=True)
        for ref in c.refs
    )


@transaction.atomic
def install_library_framework(*, doc: fw.Framework) -> tuple[Framework, bool]:
    """Install a shipped framework in the library as published version 1, once.

    Returns the framework and whether it was created now.
    """
    existing = Framework.objects.filter(organisation__isnull=True, key=doc.key).first()
    if existing is not None:
        return existing, False
    framework = Framework.objects.create(
        organisation=None,
        key=doc.key,
        title=doc.title,
    )
    version = FrameworkVersion.objects.create(framework=framework, number=1)
    store_content(version, doc)
    _publish(version, user=None, note="Shipped with kamfit")
    return framework, True


def _new_framework(
    *,
    organisation: Organisation,
    user: User | None,
    doc: fw.Framework,
    title: str | None = None,
    parent: FrameworkVersion | None = None,
) -> Framework:
    taken = set(Framework.objects.filter(organisation=organisation).values_list("key", flat=True))
    doc = dataclasses.replace(doc, title=title or doc.title)
    framework = Framework.objects.create(
        organisation=organisation,
        key=unique_key(doc.key, taken, fallback="framework"),
        title=doc.title,
        parent=parent,
        created_by=user,
    )
    version = FrameworkVersion.objects.create(framework=framework, number=1)
    store_content(version, doc)
    return framework


@transaction.atomic
def import_framework(
    *, organisation: Organisation, user: User | None, doc: fw.Framework
) -> Framework:
    """Store an imported framework as a new framework of the organisation, in draft."""
    return _new_framework(organisation=organisation, user=user, doc=doc)


@transaction.atomic
def copy_framework(
    *,
    organisation: Organisation,
    user: User | None,
    source: FrameworkVersion,
    title: str | None = None,
) -> Framework:
    """Copy a version (e.g. the shipped Warwick framework) into the organisation, as a draft."""
    doc = get_version_document(source)
    return _new_framework(
        organisation=organisation,
        user=user,
        doc=doc,
        title=title or derived_title(doc.title, f" ({organisation.name})", TITLE_LENGTH),
        parent=source,
    )


@transaction.atomic
def create_blank_framework(
    *, organisation: Organisation, user: User | None, title: str
) -> Framework:
    """Start an empty framework, to build by the paper's process."""
    if not title.strip():
        raise ValidationError([Problem("title", "empty text")])
    doc = fw.Framework(key=slugify(title) or "framework", title=title.strip())
    return _new_framework(organisation=organisation, user=user, doc=doc)


def _publish(version: FrameworkVersion, *, user: User | None, note: str) -> None:
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by_id = user.pk if user is not None else None
    version.note = note[:300]
    version.save(update_fields=["status", "published_at", "published_by", "note"])
    framework = version.framework
    if framework.title != version.title:
        framework.title = version.title
        framework.save(update_fields=["title"])


@transaction.atomic
def publish_version(
    *, version: FrameworkVersion, user: User | None, note: str = ""
) -> FrameworkVersion:
    """Publish a draft; from then on it never changes.

    A version is published only if its content passes the framework rules.
    """
    version = FrameworkVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    doc = get_version_document(version)
    problems = fw.validate(fw.to_data(doc))
    if not doc.roles:
        problems.append(Problem("roles", "a framework needs at least one role to be published"))
    if problems:
        raise ValidationError(problems)
    _publish(version, user=user, note=note)
    return version


@transaction.atomic
def start_new_draft(*, framework: Framework, user: User | None) -> FrameworkVersion:
    """Open the next version as a draft, copied from the latest version."""
    if framework.versions.filter(status=VersionStatus.DRAFT).exists():
        raise NotPermitted("This framework already has a draft.")
    latest = framework.versions.order_by("-number").first()
    number = (framework.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    try:
        version = FrameworkVersion.objects.create(framework=framework, number=number)
    except IntegrityError as exc:
        raise NotPermitted("Another draft was opened at the same time.") from exc
    if latest is not None:
        store_content(version, get_version_document(latest))
    return version


@transaction.atomic
def update_draft_details(
    *, version: FrameworkVersion, title: str, description: str = ""
) -> FrameworkVersion:
    """Rename a draft (and describe it); the framework's list name follows on publication."""
    _require_draft(version)
    if not title.strip():
        raise ValidationError([Problem("title", "empty text")])
    version.title, version.description = title.strip(), description.strip()
    version.save(update_fields=["title", "description"])
    return version


@transaction.atomic
def update_scale(version: FrameworkVersion, levels: Sequence[tuple[str, str]]) -> None:
    """Give a draft a proficiency scale: (name, description) per level, lowest first.

    The levels are numbered 1 to n and checked by the framework rules (3 to 9
    levels, unique names); a scale equal to kamfit's default is stored as the
    default.
    """
    _require_draft(version)
    version.scale = _scale_data(fw.build_scale(levels))
    version.save(update_fields=["scale"])


@transaction.atomic
def replace_draft_content(*, version: FrameworkVersion, doc: fw.Framework) -> FrameworkVersion:
    """Replace everything in a draft with a document's content (API and CLI imports)."""
    _require_draft(version)
    models: tuple[type[Model], ...] = (Citation, Responsibility, RoleElement, Role, Competency)
    for model in models:
        model._default_manager.filter(version=version).delete()
    store_content(version, doc)
    return version


# Editing a draft, row by row ------------------------------------------------

EditableRow = Role | RoleElement | Responsibility | Competency | Citation


def _siblings(row: EditableRow) -> list[EditableRow]:
    if isinstance(row, RoleElement):
        return list(RoleElement.objects.filter(role_id=row.role_id))
    if isinstance(row, Responsibility):
        return list(
            Responsibility.objects.filter(
                element_id=row.element_id, party=row.party, parent_id=row.parent_id
            )
        )
    if isinstance(row, Citation):
        return list(Citation.objects.filter(element_id=row.element_id))
    if isinstance(row, Role):
        return list(Role.objects.filter(version_id=row.version_id))
    return list(Competency.objects.filter(version_id=row.version_id))


def _append(row: EditableRow) -> EditableRow:
    _require_draft(row.version)
    siblings = _siblings(row)
    row.position = max((s.position for s in siblings), default=-1) + 1
    row.save()
    return row


def _taken_keys(
    model: type[Role | RoleElement | Competency], version: FrameworkVersion
) -> set[str]:
    return set(model.objects.filter(version=version).values_list("key", flat=True))


@transaction.atomic
def add_role(*, version: FrameworkVersion, title: str, description: str = "") -> Role:
    """Add a role of KAM at the end of a draft."""
    key = unique_key(title, _taken_keys(Role, version), fallback="role")
    role = Role(version=version, key=key, title=title, description=description)
    return _appended(role)


@transaction.atomic
def add_element(*, role: Role, label: str, title: str) -> RoleElement:
    """Add a role element at the end of a role."""
    version = role.version
    key = unique_key(label, _taken_keys(RoleElement, version), fallback="element")
    return _appended(RoleElement(version=version, role=role, key=key, label=label, title=title))


@transaction.atomic
def add_responsibility(
    *, element: RoleElement, party: str, text: str, parent: Responsibility | None = None
) -> Responsibility:
    """Add a bullet to the company's or the key account manager's side of an element."""
    if parent is not None and (parent.element_id != element.pk or parent.parent_id is not None):
        raise ValidationError([Problem("parent", "a sub-item belongs under a top-level bullet")])
    party = parent.party if parent is not None else party
    return _appended(
        Responsibility(
            version=element.version, element=element, party=party, parent=parent, text=text
        )
    )


@transaction.atomic
def add_competency(
    *, version: FrameworkVersion, name: str, kind: str, description: str = ""
) -> Competency:
    """Add an entry to a draft's competency catalogue."""
    key = unique_key(name, _taken_keys(Competency, version), fallback="competency")
    return _appended(
        Competency(
            version=version,
            key=key,
            name=name,
            kind=fw.Kind(kind).value,
            kind_source="organisation",
            description=description,
        )
    )


@transaction.atomic
def add_citation(*, element: RoleElement, wording: str, competencies: list[Competency]) -> Citation:
    """Cite catalogue competencies at an element, in the organisation's wording."""
    if not competencies:
        raise ValidationError([Problem("competencies", "choose at least one competency")])
    if any(c.version_id != element.version_id for c in competencies):
        raise ValidationError([Problem("competencies", "unknown competency")])
    citation = _appended(Citation(version=element.version, element=element, wording=wording))
    citation.competencies.set(competencies)
    return citation


_Row = TypeVar("_Row", Role, RoleElement, Responsibility, Competency, Citation)


def _appended(row: _Row) -> _Row:
    _append(row)
    return row


@transaction.atomic
def update_row(*, row: EditableRow, fields: dict[str, object]) -> EditableRow:
    """Change the given fields of a draft's row (rename, reword, change a kind)."""
    _require_draft(row.version)
    competencies = fields.pop("competencies", None)
    if isinstance(row, Competency) and "kind" in fields:
        stored = Competency.objects.filter(pk=row.pk).values_list("kind", flat=True).first()
        if fields["kind"] != stored:  # the row object may already hold the new value
            row.kind_source = "organisation"
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    if isinstance(row, Citation) and competencies is not None:
        if not isinstance(competencies, list) or not competencies:
            raise ValidationError([Problem("competencies", "choose at least one competency")])
        row.competencies.set(competencies)
    return row


@transaction.atomic
def move_row(*, row: EditableRow, offset: int) -> None:
    """Move a row up (-1) or down (+1) among its siblings."""
    _require_draft(row.version)
    siblings = _siblings(row)
    index = next(i for i, s in enumerate(siblings) if s.pk == row.pk)
    target = min(max(index + offset, 0), len(siblings) - 1)
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings):
        sibling.position = position
    type(row)._default_manager.bulk_update(cast(list[Any], siblings), ["position"])


@transaction.atomic
def delete_row(*, row: EditableRow) -> None:
    """Remove a row (and what hangs under it) from a draft.

    Removing a competency also removes the citations left with no competency.
    """
    _require_draft(row.version)
    if isinstance(row, Competency):
        orphans = [
            c.pk
            for c in Citation.objects.filter(competencies=row).prefetch_related("competencies")
            if len(c.competencies.all()) == 1
        ]
        Citation.objects.filter(pk__in=orphans).delete()
    row.delete()
