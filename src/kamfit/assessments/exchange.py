"""Imports of people, ratings and psychometric results from CSV or XLSX, and exports.

Each reader turns an uploaded file (bytes and its name) into one service call, all or
nothing. Every problem is named ``row N, column X: reason``, row 1 being the header as
a spreadsheet numbers it; problems with the file itself are named ``file``. The file's
format is checked here (columns, formulas, numbers, dates, yes/no); the rules (known
people, members, requirements, levels) are the services'. When the file has format
problems the service still checks the rest, in a transaction that is always rolled
back, so that one attempt lists every problem.

Limits (RELIABILITY A29, A30): at most :func:`max_upload_bytes` (10 MB unless
``KAMFIT_IMPORT_MAX_BYTES`` says otherwise) per file, whether read at once or by a
background job, and :func:`max_import_rows` non-empty rows (50,000, or
``KAMFIT_IMPORT_MAX_ROWS``; people files at most ``MAX_PEOPLE_ROWS`` too);
the checks on workbooks (ZIP entries, inflated size, macros, XML entities, renamed
binaries) are :mod:`kamfit.spreadsheets`'. A formula in a workbook cell is refused,
never evaluated. Text that merely looks like a formula in a CSV is stored as text and
neutralised on export (A28).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from django.db import models, transaction

from kamfit.assessments import services
from kamfit.assessments.models import (
    Background,
    Cycle,
    Person,
    PersonKind,
    Source,
)
from kamfit.assessments.queries import CycleData
from kamfit.domain import scoring
from kamfit.domain.errors import Problem, ValidationError
from kamfit.orgs.access import list_people
from kamfit.orgs.models import Organisation
from kamfit.spreadsheets import (
    Cell,
    HeaderMap,
    choice_lookup,
    data_rows,
    map_header,
    max_import_rows,
    max_upload_bytes,
    normalise,
    read_rows,
    refuse,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "MAX_PEOPLE_ROWS",
    "PEOPLE_COLUMNS",
    "PSYCHOMETRIC_COLUMNS",
    "RATING_COLUMNS",
    "TEMPLATES",
    "max_import_rows",
    "max_upload_bytes",
    "people_table",
    "read_people",
    "read_psychometrics",
    "read_ratings",
    "results_table",
]

MAX_PEOPLE_ROWS = 20_000  # people files: at most this, and at most max_import_rows()

PEOPLE_COLUMNS = [
    "reference",
    "name",
    "email",
    "kind",
    "job_title",
    "unit",
    "manager",
    "background",
    "background_note",
    "profile",
    "username",
    "accounts",
    "active",
]
RATING_COLUMNS = ["person", "rater", "source", "competency", "level", "evidence"]
PSYCHOMETRIC_COLUMNS = [
    "person",
    "attribute",
    "provider",
    "instrument",
    "provider_scale",
    "scale",
    "value",
    "assessed_on",
]
TEMPLATES: dict[str, list[str]] = {
    "people": PEOPLE_COLUMNS,
    "ratings": RATING_COLUMNS,
    "psychometrics": PSYCHOMETRIC_COLUMNS,
}

Header = list[str]
Rows = list[list[object]]
_T = TypeVar("_T")
_R = TypeVar("_R")

ACCOUNT_SEPARATOR = ";"
_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0"})
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T00:00:00)?$")  # XLSX date cells read as midnight
_WHOLE = re.compile(r"^[+-]?\d+$")
_ROW = re.compile(r"^row (\d+)\b")
_CHECK_ONLY = "\0check"  # the label of the sentinel row (see _submit); never a row's


# --- reading -------------------------------------------------------------------------------


@dataclass
class _Row:
    """One data row: its cells by column name, and the problems found reading them."""

    n: int
    cells: list[Cell]
    header: HeaderMap
    problems: list[Problem] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"row {self.n}"

    def has(self, name: str) -> bool:
        return name in self.header.columns

    def bad(self, name: str, message: str) -> None:
        self.problems.append(Problem(f"row {self.n}, column {name}", message))

    def text(self, name: str) -> str:
        """The column's text; a formula is refused (and read as empty)."""
        index = self.header.columns.get(name)
        if index is None or index >= len(self.cells):
            return ""
        cell = self.cells[index]
        if cell.formula:
            self.bad(name, f"a formula ({cell.text}) is not accepted: type the value itself")
            return ""
        return cell.text

    def choice(self, name: str, lookup: dict[str, str], default: str, expected: str) -> str:
        """A coded choice given by its code or label in any case; empty gives ``default``."""
        text = self.text(name)
        if not text:
            return default
        value = lookup.get(text) or lookup.get(normalise(text))  # the code itself is common
        if value is None:
            self.bad(name, f"unknown {name} {text!r}: use {expected}")
            return default
        return value


def _table(
    data: bytes,
    filename: str,
    columns: Sequence[str],
    required: Sequence[str],
    limit: int | None,
    *,
    max_bytes: int | None,
) -> tuple[HeaderMap, Iterator[tuple[int, list[Cell]]]]:
    """The header of an upload, checked, and its numbered non-empty data rows."""
    rows = read_rows(data, filename, max_bytes=max_bytes)
    first = next(rows, None)
    if first is None or not any(c.text for c in first):
        raise refuse("no header row: the first row must name the columns")
    header = map_header(
        first,
        columns,
        required=required,
        folded=columns,
        unknown=f"unknown column: the columns are {', '.join(columns)}",
    )
    if header.problems:
        raise ValidationError(header.problems)
    return header, data_rows(rows, limit=limit)


def _in_order(problems: list[Problem]) -> list[Problem]:
    """Problems by row (header first, rows in order, then those of no row); stable."""

    def row(problem: Problem) -> float:
        found = _ROW.match(problem.location)
        return int(found.group(1)) if found else math.inf

    return sorted(problems, key=row)


class _Undo(Exception):
    """Roll back a service call made only to collect its problems."""


def _submit(
    store: Callable[[list[_T], list[str]], _R],
    inputs: list[_T],
    where: list[str],
    problems: list[Problem],
    sentinel: _T,
    *,
    before_commit: Callable[[_R], object] | None = None,
) -> _R:
    """Hand the rows to the service; if the file already has problems, list its too.

    ``before_commit`` is called with the result inside the import's transaction (a
    job records its completion there, so that a retried job never imports twice);
    whatever it raises undoes the import.

    With problems found reading the file, the service runs once more only to check the
    other fields, in a transaction that is always rolled back; ``sentinel`` is an extra
    row the service always refuses, so it never gets as far as writing. Its problems
    and those at a place already reported (a value replaced by a default) are dropped.
    """
    if not problems:
        if not inputs:
            raise refuse("no rows: the file has only a header row")
        with transaction.atomic():
            result = store(inputs, where)
            if before_commit is not None:
                before_commit(result)
        return result
    found = list(problems)
    reported = {p.location for p in problems}
    try:
        with transaction.atomic():
            store([*inputs, sentinel], [*where, _CHECK_ONLY])
            raise _Undo
    except _Undo:
        pass
    except ValidationError as exc:
        found += [
            p
            for p in exc.problems
            if p.location not in reported and not p.location.startswith(_CHECK_ONLY)
        ]
    raise ValidationError(_in_order(found))


# --- people --------------------------------------------------------------------------------


def _current(person: Person | None) -> services.PersonInput:
    """What a person is today, as an import row (the defaults for someone new)."""
    if person is None:
        return services.PersonInput(reference="", name="")
    return services.current_input(person)


_KINDS = choice_lookup(PersonKind.choices)
_BACKGROUNDS = choice_lookup(Background.choices)


def _person_row(row: _Row, now: services.PersonInput) -> services.PersonInput:
    def text(name: str, current: str) -> str:
        return row.text(name) if row.has(name) else current

    active = now.active
    flag = row.text("active").lower() if row.has("active") else ""
    if flag in _YES:
        active = True
    elif flag in _NO:
        active = False
    elif flag:
        row.bad("active", f"{flag!r} is not yes or no (also true/false, 1/0)")
    accounts = None
    if row.has("accounts"):
        accounts = tuple(row.text("accounts").split(ACCOUNT_SEPARATOR))
    return services.PersonInput(
        reference=row.text("reference"),
        name=row.text("name"),
        email=text("email", now.email),
        kind=row.choice(
            "kind", _KINDS, now.kind, "kam or candidate (Key account manager, Internal candidate)"
        ),
        job_title=text("job_title", now.job_title),
        unit=text("unit", now.unit),
        manager=text("manager", now.manager),
        background=row.choice(
            "background", _BACKGROUNDS, now.background, "sales, other or unknown (Not sales)"
        ),
        background_note=text("background_note", now.background_note),
        profile=text("profile", now.profile),
        username=text("username", now.username),
        accounts=accounts,
        active=active,
    )


def read_people(
    org: Organisation,
    actor: User | None,
    data: bytes,
    filename: str,
    *,
    progress: services.Progress | None = None,
    max_bytes: int | None = None,
    before_commit: Callable[[tuple[int, int]], object] | None = None,
) -> tuple[int, int]:
    """Create or update people from a CSV or XLSX file; return (created, updated).

    Only ``reference`` and ``name`` are required columns. A column left out leaves
    that field as it is for people already there (new people get the default); a
    column present but empty clears the field, except ``kind``, ``background`` and
    ``active``, which an empty cell leaves as they are. ``accounts`` lists key account
    names separated by ``;``. ``progress``, ``max_bytes`` and ``before_commit``: see
    :func:`read_ratings`.
    """
    header, rows = _table(
        data,
        filename,
        PEOPLE_COLUMNS,
        ["reference", "name"],
        min(MAX_PEOPLE_ROWS, max_import_rows()),
        max_bytes=max_bytes,
    )
    read = [_Row(n, cells, header) for n, cells in rows]
    existing: dict[str, Person] = {}
    if set(PEOPLE_COLUMNS) - {"accounts"} - set(header.columns):
        existing = {
            p.reference: p for p in list_people(org).select_related("manager", "profile", "user")
        }
    inputs = []
    for row in read:
        reference = row.header.cell(row.cells, "reference").text
        inputs.append(_person_row(row, _current(existing.get(reference))))
    problems = [p for row in read for p in (*row.header.strays(row.n, row.cells), *row.problems)]
    return _submit(
        lambda batch, where: services.upsert_people(
            org, actor, batch, where=where, progress=progress
        ),
        inputs,
        [row.where for row in read],
        problems,
        services.PersonInput(reference="", name=""),
        before_commit=before_commit,
    )


def people_table(people: Sequence[Person]) -> tuple[Header, Rows]:
    """Return people as the people import reads them: an export imports back unchanged."""
    people = list(people)
    models.prefetch_related_objects(people, "manager", "profile", "user", "accounts")
    rows: Rows = [
        [
            p.reference,
            p.name,
            p.email,
            p.kind,
            p.job_title,
            p.unit,
            p.manager.reference if p.manager else "",
            p.background,
            p.background_note,
            p.profile.key if p.profile else "",
            p.user.get_username() if p.user else "",
            f"{ACCOUNT_SEPARATOR} ".join(a.name for a in p.accounts.all()),
            "yes" if p.active else "no",
        ]
        for p in people
    ]
    return list(PEOPLE_COLUMNS), rows


# --- ratings -------------------------------------------------------------------------------

_SOURCES = choice_lookup(Source.choices)
_SOURCE_CODES = ", ".join(Source.values)


def _level(row: _Row) -> int | None:
    text = row.text("level")
    if not text:
        return None
    if not _WHOLE.match(text):
        row.bad(
            "level",
            f"{text!r} is not a whole number: give a level such as 3, or leave the cell "
            "empty when the rater cannot judge",
        )
        return None
    return int(text)


def read_ratings(
    cycle: Cycle,
    actor: User | None,
    data: bytes,
    filename: str,
    *,
    progress: services.Progress | None = None,
    max_bytes: int | None = None,
    before_commit: Callable[[int], object] | None = None,
) -> int:
    """Store ratings collected outside kamfit as submitted forms; return forms written.

    Columns: ``person`` (reference), ``rater`` (username), ``source``, ``competency``
    (key), ``level`` (empty: cannot judge) and ``evidence``. See
    :func:`kamfit.assessments.services.import_ratings` for how rows become forms.

    ``progress`` is told (rows written, rows in all) as the rows are written;
    ``max_bytes`` is the largest file taken (:func:`max_upload_bytes` by default);
    ``before_commit`` is called with the result inside the import's
    transaction, and anything it raises undoes the import.
    """
    header, rows = _table(data, filename, RATING_COLUMNS, RATING_COLUMNS, None, max_bytes=max_bytes)
    inputs: list[services.ImportedRating] = []
    where: list[str] = []
    problems: list[Problem] = []
    for n, cells in rows:
        row = _Row(n, cells, header)
        inputs.append(
            services.ImportedRating(
                person=row.text("person"),
                rater=row.text("rater"),
                source=row.choice("source", _SOURCES, "", _SOURCE_CODES),
                competency=row.text("competency"),
                level=_level(row),
                evidence=row.text("evidence"),
            )
        )
        where.append(row.where)
        problems += [*header.strays(n, cells), *row.problems]
    return _submit(
        lambda batch, labels: services.import_ratings(
            cycle, actor, batch, where=labels, progress=progress
        ),
        inputs,
        where,
        problems,
        services.ImportedRating(person="", rater="", source="", competency="", level=None),
        before_commit=before_commit,
    )


# --- psychometric results --------------------------------------------------------------------


def _number(row: _Row) -> float:
    text = row.text("value")
    if "," in text and "." not in text:  # a decimal comma, as in "7,5"
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        row.bad("value", f"{text!r} is not a number" if text else "a value is required")
        return 0.0
    return value


def _date(row: _Row) -> dt.date:
    text = row.text("assessed_on")
    found = _DATE.match(text)
    try:
        if found:
            return dt.date.fromisoformat(found.group(1))
    except ValueError:
        pass
    if text:
        row.bad("assessed_on", f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31")
    else:
        row.bad("assessed_on", "the date of the test is required (YYYY-MM-DD)")
    return dt.date.min


def read_psychometrics(
    org: Organisation,
    actor: User | None,
    data: bytes,
    filename: str,
    *,
    progress: services.Progress | None = None,
    max_bytes: int | None = None,
    before_commit: Callable[[int], object] | None = None,
) -> int:
    """Store psychometric results from a CSV or XLSX file; return how many were stored.

    Columns: ``person`` (reference), ``attribute`` (framework competency key),
    ``provider``, ``instrument`` and ``provider_scale`` (optional), ``scale`` (sten,
    stanine, percentile or level), ``value`` and ``assessed_on`` (YYYY-MM-DD).
    """
    required = [c for c in PSYCHOMETRIC_COLUMNS if c not in {"instrument", "provider_scale"}]
    header, rows = _table(data, filename, PSYCHOMETRIC_COLUMNS, required, None, max_bytes=max_bytes)
    inputs: list[services.PsychometricInput] = []
    where: list[str] = []
    problems: list[Problem] = []
    for n, cells in rows:
        row = _Row(n, cells, header)
        inputs.append(
            services.PsychometricInput(
                person=row.text("person"),
                attribute=row.text("attribute"),
                provider=row.text("provider"),
                instrument=row.text("instrument"),
                provider_scale=row.text("provider_scale"),
                scale=row.text("scale").lower(),
                value=_number(row),
                assessed_on=_date(row),
            )
        )
        where.append(row.where)
        problems += [*header.strays(n, cells), *row.problems]
    return _submit(
        lambda batch, labels: services.save_psychometrics(
            org, actor, batch, where=labels, progress=progress
        ),
        inputs,
        where,
        problems,
        services.PsychometricInput(
            person="", attribute="", provider="", scale="", value=0.0, assessed_on=dt.date.min
        ),
        before_commit=before_commit,
    )


# --- results -------------------------------------------------------------------------------


def _rounded(value: float, digits: int) -> float | None:
    return None if math.isnan(value) else round(float(value), digits)


def results_table(data: CycleData) -> tuple[Header, Rows]:
    """Return a cycle's results: one row per person, one column per requirement key.

    Columns: reference, name, fit %, coverage %, band, then each requirement's combined
    level (2 decimals; empty where no rating counts).
    """
    header = ["reference", "name", "fit %", "coverage %", "band", *(c.key for c in data.columns)]
    s = data.scores
    combined = np.asarray(s.combined, dtype=np.float64)
    rows: Rows = []
    for i, assessee in enumerate(data.assessees):
        rows.append(
            [
                assessee.person.reference,
                assessee.person.name,
                _rounded(float(s.fit[i]), 1),
                _rounded(100 * float(s.coverage[i]), 1),
                scoring.BANDS[int(data.bands[i])],
                *(_rounded(float(v), 2) for v in combined[i]),
            ]
        )
    return header, rows
