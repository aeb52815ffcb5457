"""Scoped reads of a framework version, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from kamfit.domain import framework as fw
from kamfit.frameworks.models import (
    Citation,
    Competency,
    FrameworkVersion,
    Party,
    Responsibility,
    Role,
    RoleElement,
)

__all__ = [
    "Bullet",
    "ElementRows",
    "VersionRows",
    "get_scale",
    "get_version_document",
    "get_version_rows",
]


@dataclass
class Bullet:
    """A top-level responsibility with its sub-items."""

    row: Responsibility
    children: list[Responsibility] = field(default_factory=list)


@dataclass
class ElementRows:
    """A role element with its rows, ready to show or edit."""

    element: RoleElement
    company: list[Bullet] = field(default_factory=list)
    kam: list[Bullet] = field(default_factory=list)
    citations: list[tuple[Citation, list[Competency]]] = field(default_factory=list)


@dataclass
class VersionRows:
    """Every row of a version, grouped the way the paper reads."""

    version: FrameworkVersion
    roles: list[tuple[Role, list[ElementRows]]]
    competencies: list[Competency]

    @property
    def elements(self) -> list[ElementRows]:
        return [e for _, elements in self.roles for e in elements]

    def element(self, key: str) -> tuple[Role, ElementRows] | None:
        for role, elements in self.roles:
            for e in elements:
                if e.element.key == key:
                    return role, e
        return None


def get_version_rows(version: FrameworkVersion) -> VersionRows:
    """Load a version's content in six queries, whatever its size."""
    roles = list(Role.objects.filter(version=version))
    elements = list(RoleElement.objects.filter(version=version))
    responsibilities = list(Responsibility.objects.filter(version=version))
    competencies = list(Competency.objects.filter(version=version))
    citations = list(Citation.objects.filter(version=version))
    links = Citation.competencies.through.objects.filter(citation__version=version).order_by("id")
    by_id = {c.pk: c for c in competencies}
    refs: dict[int, list[Competency]] = defaultdict(list)
    for citation_id, competency_id in links.values_list("citation_id", "competency_id"):
        refs[citation_id].append(by_id[competency_id])
    grouped = {e.pk: ElementRows(e) for e in elements}
    bullets = {r.pk: Bullet(r) for r in responsibilities if r.parent_id is None}
    for r in responsibilities:
        if r.parent_id is not None:
            bullets[r.parent_id].children.append(r)
        else:
            rows = grouped[r.element_id]
            (rows.company if r.party == Party.COMPANY else rows.kam).append(bullets[r.pk])
    for c in citations:
        grouped[c.element_id].citations.append((c, refs[c.pk]))
    per_role: dict[int, list[ElementRows]] = defaultdict(list)
    for e in elements:
        per_role[e.role_id].append(grouped[e.pk])
    return VersionRows(version, [(r, per_role[r.pk]) for r in roles], competencies)


def get_version_document(
    version: FrameworkVersion, rows: VersionRows | None = None
) -> fw.Framework:
    """Return a version's content as a domain :class:`~kamfit.domain.framework.Framework`."""
    rows = rows or get_version_rows(version)
    framework = version.framework
    litmus = version.litmus
    return fw.Framework(
        key=framework.key,
        title=version.title,
        description=version.description,
        citation=version.citation,
        source_note=version.source_note,
        version=version.number if version.is_published else None,
        guidance=_guidance(version.guidance),
        competencies=tuple(
            fw.Competency(
                key=c.key,
                name=c.name,
                kind=fw.Kind(c.kind),
                kind_source=c.kind_source,
                table3_position=c.table3_position,
                description=c.description,
            )
            for c in rows.competencies
        ),
        roles=tuple(
            fw.Role(
                key=role.key,
                title=role.title,
                description=role.description,
                aims=tuple(role.aims),
                elements=tuple(_element(e) for e in elements),
            )
            for role, elements in rows.roles
        ),
        litmus=None
        if not litmus
        else fw.LitmusTest(
            prompt=litmus.get("prompt", ""),
            scale=tuple(litmus.get("scale", ())),
            items=tuple(fw.LitmusItem(i["key"], i["text"]) for i in litmus.get("items", ())),
        ),
        scale=_stored_scale(version),
    )


def get_scale(version: FrameworkVersion) -> tuple[fw.ProficiencyLevel, ...]:
    """Return the proficiency scale of a version: its own, else kamfit's default (no query)."""
    return _stored_scale(version) or fw.DEFAULT_SCALE


def _stored_scale(version: FrameworkVersion) -> tuple[fw.ProficiencyLevel, ...]:
    levels = cast(list[dict[str, object]], version.scale or [])
    return tuple(
        fw.ProficiencyLevel(
            level=int(cast(int, lv["level"])),
            name=str(lv["name"]),
            description=str(lv.get("description", "")),
        )
        for lv in levels
    )


def _guidance(data: dict[str, object]) -> fw.Guidance:
    if not data:
        return fw.Guidance()
    rows = cast(list[dict[str, str]], data.get("table2", []))
    return fw.Guidance(
        competency_definition=str(data.get("competency_definition", "")),
        attribute_definition=str(data.get("attribute_definition", "")),
        litmus_question=str(data.get("litmus_question", "")),
        table2=tuple(
            fw.GuidanceRow(r["parameter"], r["competencies"], r["attributes"]) for r in rows
        ),
    )


def _element(e: ElementRows) -> fw.RoleElement:
    def side(items: list[Bullet]) -> tuple[fw.Responsibility, ...]:
        return tuple(
            fw.Responsibility(b.row.text, tuple(c.text for c in b.children)) for b in items
        )

    return fw.RoleElement(
        key=e.element.key,
        label=e.element.label,
        title=e.element.title,
        figure_title=e.element.figure_title,
        company=side(e.company),
        kam=side(e.kam),
        citations=tuple(
            fw.Citation(c.wording, tuple(x.key for x in refs)) for c, refs in e.citations
        ),
    )
