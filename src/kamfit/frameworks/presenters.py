"""Shape a loaded version for its pages: counts, traceability and the matrix."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kamfit.frameworks.models import Competency, Role
from kamfit.frameworks.queries import ElementRows, VersionRows

__all__ = ["CompetencyLine", "competency_page", "matrix_page", "version_overview"]


@dataclass(frozen=True)
class CompetencyLine:
    """A catalogue entry with where it is needed."""

    competency: Competency
    elements: tuple[tuple[Role, ElementRows, tuple[str, ...]], ...]

    @property
    def element_count(self) -> int:
        return len(self.elements)

    @property
    def wording_count(self) -> int:
        return sum(len(w) for _, _, w in self.elements)


def _traceability(rows: VersionRows) -> dict[int, CompetencyLine]:
    found: dict[int, list[tuple[Role, ElementRows, tuple[str, ...]]]] = defaultdict(list)
    for role, elements in rows.roles:
        for er in elements:
            wordings: dict[int, list[str]] = defaultdict(list)
            for citation, refs in er.citations:
                for c in refs:
                    wordings[c.pk].append(citation.wording)
            for pk, words in wordings.items():
                found[pk].append((role, er, tuple(words)))
    return {c.pk: CompetencyLine(c, tuple(found[c.pk])) for c in rows.competencies}


def version_overview(rows: VersionRows) -> dict[str, object]:
    """Context for the version page: roles, their elements, and totals."""
    kinds: defaultdict[str, int] = defaultdict(int)
    for c in rows.competencies:
        kinds[c.kind] += 1
    return {
        "roles": rows.roles,
        "element_count": len(rows.elements),
        "competency_count": len(rows.competencies),
        "kind_counts": dict(kinds),
        "table3": sorted(
            (c for c in rows.competencies if c.table3_position),
            key=lambda c: c.table3_position or 0,
        ),
    }


def competency_page(rows: VersionRows, key: str | None = None) -> dict[str, object]:
    """Context for the catalogue (no key) or one competency's traceability page."""
    lines = _traceability(rows)
    if key is None:
        ordered = sorted(
            lines.values(), key=lambda line: (-line.element_count, line.competency.name)
        )
        return {"lines": ordered, "roles": rows.roles}
    chosen = next((line for line in lines.values() if line.competency.key == key), None)
    return {"competency": chosen.competency if chosen else None, "line": chosen}


def matrix_page(rows: VersionRows) -> dict[str, object]:
    """Context for the competencies × role elements matrix, pre-formatted as strings."""
    elements = rows.elements
    column = {er.element.pk: i for i, er in enumerate(elements)}
    marks: dict[int, list[str]] = {c.pk: [""] * len(elements) for c in rows.competencies}
    for er in elements:
        for _, refs in er.citations:
            for c in refs:
                marks[c.pk][column[er.element.pk]] = "●"
    lines = [(c, marks[c.pk], sum(1 for x in marks[c.pk] if x)) for c in rows.competencies]
    lines.sort(key=lambda line: (-line[2], line[0].name))
    return {"columns": elements, "matrix": lines, "roles": rows.roles}
