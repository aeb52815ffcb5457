"""Exports of audit results and anonymised answers, and imports of answers collected on paper.

Limits (RELIABILITY A29, A30): an upload is at most :func:`max_upload_bytes` (10 MB, or
``KAMFIT_IMPORT_MAX_BYTES``) and ``MAX_ROWS`` (5,000) answer rows. An XLSX file must be a
ZIP holding ``[Content_Types].xml``, with at most ``MAX_XLSX_ENTRIES`` entries inflating
to at most ``MAX_XLSX_UNCOMPRESSED`` (100 MB) in all; zip bombs, macro-enabled workbooks
and renamed binaries are refused (see :mod:`kamfit.spreadsheets`). Uploads are read from
memory and never written to disk.

Exports (RELIABILITY A28): every text cell starting with ``=``, ``+``, ``-``, ``@``, a tab,
a carriage return or NUL is written with a leading ``'`` so that no spreadsheet runs it as
a formula. Numbers stay numbers.

Reading, writing and the safety checks live in :mod:`kamfit.spreadsheets`, shared with every
other import and export; this module adds what is particular to audits.
"""

from __future__ import annotations

import io
import math

from django.utils.crypto import salted_hmac
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kamfit.audits import services
from kamfit.audits.models import (
    Answer,
    Audit,
    AuditItem,
    Department,
    ItemKind,
    Rating,
    Respondent,
    RespondentStatus,
)
from kamfit.audits.queries import AuditResults, get_audit_results
from kamfit.domain.errors import Problem, ValidationError
from kamfit.domain.readiness import OTHER_DEPARTMENTS
from kamfit.spreadsheets import (
    MAX_XLSX_ENTRIES,
    MAX_XLSX_UNCOMPRESSED,
    Cell,
    HeaderMap,
    choice_lookup,
    data_rows,
    map_header,
    max_import_rows,
    max_upload_bytes,
    neutralise,
    normalise,
    read_rows,
    refuse,
    to_csv,
    to_xlsx,
    xlsx_value,
)

__all__ = [
    "MAX_ROWS",
    "MAX_XLSX_ENTRIES",
    "MAX_XLSX_UNCOMPRESSED",
    "answers_table",
    "max_upload_bytes",
    "neutralise",
    "paper_template",
    "read_paper_answers",
    "results_table",
    "to_csv",
    "to_xlsx",
]

MAX_ROWS = 5_000

Header = list[str]
Rows = list[list[object]]

_RESPONDENT = "respondent"
_DEPARTMENT = "department"
_ANSWERS_SHEET = "Answers"
_HELP_SHEET = "How to fill in"
_MAX_LABEL = 200  # Respondent.name


# --- exports -------------------------------------------------------------------------------


def _rounded(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 1)


def results_table(results: AuditResults) -> tuple[Header, Rows]:
    """Return the results of an audit as a header and one row per item, element and role.

    The department columns are exactly the groups the results page shows
    (``results.groups``): no group smaller than the audit's minimum size ever appears.
    """
    groups = [f"{label} (n={size})" for label, size in results.groups]
    header = [
        "section",
        "item",
        "text",
        "readiness (0-100)",
        "answered",
        "don't know",
        "Poor",
        "Fair",
        "Good",
        "spread",
        "change since previous audit",
        *groups,
    ]
    by_department = {x.item.pk: cells for x, cells in results.breakdown_rows}
    rows: Rows = []
    for x in results.items:
        section = "Litmus test" if x.item.kind == ItemKind.LITMUS else x.item.element_title
        poor, fair, good = x.stats.counts
        cells = by_department.get(x.item.pk, (None,) * len(groups))
        # A department cell is None only when it rests on fewer than k answers: say so.
        hidden = f"fewer than {results.k} answers"
        rows.append(
            [
                section,
                x.item.key,
                x.item.text,
                _rounded(x.score),
                x.stats.answered,
                x.stats.dont_know,
                poor,
                fair,
                good,
                _rounded(x.stats.spread),
                _rounded(x.change),
                *(hidden if v is None else _rounded(v) for v in cells),
            ]
        )
    if results.withheld:  # fewer than k submitted: no score at all, as on the results page
        return header, [["Withheld", "", results.breakdown.note, *[None] * (len(header) - 3)]]
    blank: list[object] = [None] * (len(header) - 4)
    rows += [["Role element", e.key, e.title, _rounded(e.score), *blank] for e in results.elements]
    rows += [["Role of KAM", r.key, r.title, _rounded(r.score), *blank] for r in results.roles]
    return header, rows


def _shuffle_key(audit: Audit, respondent: Respondent) -> bytes:
    """A stable, secret-keyed sort key: the order reveals neither submission nor invitation."""
    return salted_hmac(f"kamfit.audits.answers.{audit.pk}", str(respondent.pk)).digest()


def answers_table(audit: Audit) -> tuple[Header, Rows]:
    """Return the submitted answers of an audit, anonymised, one row per respondent.

    Respondents are numbered R1, R2, … in an order that is fixed for the audit but
    unrelated to when they answered; no name, user or link appears. The department is
    shown only for a department the results page shows (a group of at least the audit's
    minimum size); everyone else is "Other departments", and the column is blank when no
    breakdown by department is shown at all. Until at least that many respondents have
    submitted, there are no rows at all (the results page shows no score either).
    Comments are never exported: free text can identify the person who wrote it.
    """
    items = list(AuditItem.objects.filter(audit=audit))
    header = [_RESPONDENT, _DEPARTMENT, *(item.key for item in items)]
    results = get_audit_results(audit)
    if results.withheld:  # fewer than k submitted: a row could be recognised
        return header, []
    submitted = sorted(
        Respondent.objects.filter(audit=audit, status=RespondentStatus.SUBMITTED),
        key=lambda r: _shuffle_key(audit, r),
    )
    ratings: dict[tuple[int, int], str] = {
        (respondent_id, item_id): rating
        for respondent_id, item_id, rating in Answer.objects.filter(
            respondent__audit=audit, respondent__status=RespondentStatus.SUBMITTED
        ).values_list("respondent_id", "item_id", "rating")
    }
    visible = results.breakdown.labels  # the groups the results page shows
    shown = set(visible) - {OTHER_DEPARTMENTS}
    labels = {str(value): str(label) for value, label in Rating.choices}
    departments = {str(value): str(label) for value, label in Department.choices}
    rows: Rows = []
    for n, respondent in enumerate(submitted, start=1):
        label = departments.get(respondent.department, "")
        department = (label if label in shown else OTHER_DEPARTMENTS) if visible else ""
        answers = [labels.get(ratings.get((respondent.pk, item.pk), ""), "") for item in items]
        rows.append([f"R{n}", department, *answers])
    return header, rows


def paper_template(audit: Audit) -> bytes:
    """Return an XLSX answer sheet to type answers collected on paper into.

    Sheet "Answers" holds only the header row (respondent, department, one column per
    question key) and the rows to fill in; sheet "How to fill in" lists the questions and
    the values each column accepts.
    """
    items = list(AuditItem.objects.filter(audit=audit))
    workbook = Workbook()
    for default in workbook.worksheets:
        workbook.remove(default)
    answers: Worksheet = workbook.create_sheet(_ANSWERS_SHEET)
    answers.append([_RESPONDENT, _DEPARTMENT, *(xlsx_value(item.key) for item in items)])
    for cell in answers[1]:
        cell.font = Font(bold=True)
    answers.freeze_panes = "C2"
    answers.column_dimensions["A"].width = 14
    answers.column_dimensions["B"].width = 26
    last = MAX_ROWS + 1
    department_list = DataValidation(
        type="list",
        formula1='"' + ",".join(str(label) for label in Department.labels) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Department",
        error="Choose a department from the list (see “How to fill in”).",
    )
    department_list.add(f"B2:B{last}")
    answers.add_data_validation(department_list)
    if items:
        rating_list = DataValidation(
            type="list",
            formula1='"' + ",".join(str(label) for label in Rating.labels) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Rating",
            error="Poor, Fair, Good or Don't know.",
        )
        rating_list.add(f"C2:{get_column_letter(len(items) + 2)}{last}")
        answers.add_data_validation(rating_list)
        for n in range(3, len(items) + 3):
            answers.column_dimensions[get_column_letter(n)].width = 16

    guide: Worksheet = workbook.create_sheet(_HELP_SHEET)
    lines: list[list[str]] = [
        [f"Answer sheet for “{audit.title}”"],
        ["Type one respondent per row of the sheet “Answers”, below its header row."],
        ["respondent: a short reference such as P1. Do not write names."],
        ["department: a code or a name from the list below."],
        ["Each question column: a rating code or name from the list below."],
        ["Every question needs an answer; use Don't know when unsure."],
        ["Nothing is imported unless every row is valid."],
        [],
        ["column", "section", "question"],
    ]
    for item in items:
        section = "Litmus test" if item.kind == ItemKind.LITMUS else item.element_title
        lines.append([item.key, section, item.text])
    lines += [
        [],
        ["department code", "department"],
        *([v, label] for v, label in Department.choices),
    ]
    lines += [[], ["rating code", "rating"], *([v, label] for v, label in Rating.choices)]
    headings = {"column", "department code", "rating code"}
    for line in lines:
        guide.append([xlsx_value(v) for v in line])
        if line and line[0] in headings:
            for cell in guide[guide.max_row]:
                cell.font = Font(bold=True)
    for (cell,) in guide.iter_rows(min_col=3, max_col=3):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    guide.column_dimensions["A"].width = 40
    guide.column_dimensions["B"].width = 40
    guide.column_dimensions["C"].width = 90
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- import --------------------------------------------------------------------------------


def _header(cells: list[Cell], keys: list[str]) -> HeaderMap:
    """Map column names to indices; name every unknown, duplicate or missing column."""
    names = (_RESPONDENT, _DEPARTMENT, *keys)
    return map_header(
        cells,
        names,
        required=names,
        folded=(_RESPONDENT, _DEPARTMENT),
        unknown="unknown column: not a question of this audit",
    )


def _rating(where: str, value: Cell, ratings: dict[str, str]) -> tuple[str, Problem | None]:
    if value.formula:
        return "", Problem(
            where,
            f"invalid rating {value.text!r}: a formula is never evaluated; "
            "type Poor, Fair, Good or Don't know",
        )
    if not value.text:
        return "", Problem(where, "no rating (use Don't know when unsure)")
    rating = ratings.get(normalise(value.text), "")
    if not rating:
        return "", Problem(
            where, f"invalid rating {value.text!r}: use Poor, Fair, Good or Don't know"
        )
    return rating, None


def _check_row(
    n: int, cells: list[Cell], header: HeaderMap, keys: list[str]
) -> tuple[services.PaperResponse | None, list[Problem]]:
    departments = choice_lookup(Department.choices)
    ratings = choice_lookup(Rating.choices)
    problems = header.strays(n, cells)

    def cell(name: str) -> Cell:
        return header.cell(cells, name)

    label_cell = cell(_RESPONDENT)
    if label_cell.formula:
        problems.append(
            Problem(f"row {n}, column {_RESPONDENT}", "a formula is not accepted: type the text")
        )
    elif len(label_cell.text) > _MAX_LABEL:
        problems.append(
            Problem(f"row {n}, column {_RESPONDENT}", f"longer than {_MAX_LABEL} characters")
        )
    department_cell = cell(_DEPARTMENT)
    department = departments.get(normalise(department_cell.text), "")
    where = f"row {n}, column {_DEPARTMENT}"
    if department_cell.formula:
        problems.append(Problem(where, f"a formula ({department_cell.text}) is not a department"))
    elif not department_cell.text:
        problems.append(Problem(where, "no department"))
    elif not department:
        problems.append(Problem(where, f"unknown department {department_cell.text!r}"))
    answers: dict[str, services.AnswerInput] = {}
    for key in keys:
        rating, problem = _rating(f"row {n}, column {key}", cell(key), ratings)
        if problem is not None:
            problems.append(problem)
        else:
            answers[key] = services.AnswerInput(rating)
    if problems:
        return None, problems
    label = label_cell.text or f"Paper, row {n}"
    return services.PaperResponse(label=label, department=department, answers=answers), []


def read_paper_answers(audit: Audit, data: bytes, filename: str) -> list[services.PaperResponse]:
    """Read answers collected on paper from a CSV (UTF-8) or XLSX file, checking everything.

    The file type is told by content, not by name. The first row is the header:
    ``respondent``, ``department`` and one column per question key of the audit. Each
    further row is one respondent; fully empty rows are skipped. Ratings and departments
    accept their codes or names, in any case. Every problem is collected, located as
    ``row N, column NAME`` (row 1 is the header, as a spreadsheet numbers it), and raised
    together as one :class:`ValidationError`; nothing is stored here.
    """
    keys = list(AuditItem.objects.filter(audit=audit).values_list("key", flat=True))
    rows = read_rows(
        data, filename, sheet=_ANSWERS_SHEET, no_sheet="the workbook has no sheet of answers"
    )
    responses: list[services.PaperResponse] = []
    first = next(rows, None)
    if first is None or not any(c.text for c in first):
        raise refuse("no header row: the first row must name the columns")
    header = _header(first, keys)
    problems = list(header.problems)
    readable = not problems  # with a broken header, rows cannot be read column by column
    count = 0
    for n, cells in data_rows(rows, limit=min(MAX_ROWS, max_import_rows()), noun="answer rows"):
        count += 1
        if readable:
            response, found = _check_row(n, cells, header, keys)
            problems += found
            if response is not None:
                responses.append(response)
    if not count and not problems:
        problems.append(Problem("file", "no answers: the file has only a header row"))
    if problems:
        raise ValidationError(problems)
    return responses
