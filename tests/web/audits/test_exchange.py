"""Audit exports and paper imports: round trips, refusals, formula safety, anonymity, access."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from kamfit.audits import exchange, services
from kamfit.audits.models import Answer, Audit, AuditItem, Respondent
from kamfit.audits.queries import get_audit_results
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.orgs.models import Role
from tests.conftest import EDITORS, ROLES, Personas, Side

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

MANAGERS = EDITORS  # owner, HR, director and consultant manage audits
NOT_MANAGERS = tuple(r for r in ROLES if r not in MANAGERS)
RATINGS = ["Poor", "fair", "GOOD", "Don’t know", "dont_know", "Good", "poor", "Fair"]
DEPARTMENTS = ["Sales", "finance", "Key account management", "kam"]
EXPORTS = [
    ("results", "csv"),
    ("results", "xlsx"),
    ("answers", "csv"),
    ("answers", "xlsx"),
    ("template", "xlsx"),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def open_audit(side: Side) -> Audit:
    return services.open_audit(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        version=side.published,
        title="Readiness 2026",
        element_keys=["risk", "resources"],
    )


@pytest.fixture
def audit(personas: Personas) -> Audit:
    return open_audit(personas.a)


def keys(audit: Audit) -> list[str]:
    return list(AuditItem.objects.filter(audit=audit).values_list("key", flat=True))


def stored() -> tuple[int, int]:
    return Respondent.objects.count(), Answer.objects.count()


def answer_rows(audit: Audit, n: int) -> list[list[str]]:
    """N rows of varied, valid answers (codes and names in any case)."""
    count = len(keys(audit))
    return [
        [f"P{i}", DEPARTMENTS[i % len(DEPARTMENTS)]]
        + [RATINGS[(i + j) % len(RATINGS)] for j in range(count)]
        for i in range(1, n + 1)
    ]


def fill_template(audit: Audit, rows: Sequence[Sequence[object]]) -> bytes:
    """Fill the paper answer sheet the way a person would, in a spreadsheet program."""
    workbook = load_workbook(io.BytesIO(exchange.paper_template(audit)))
    sheet = workbook["Answers"]
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_header(audit: Audit) -> list[str]:
    sheet = load_workbook(io.BytesIO(exchange.paper_template(audit)))["Answers"]
    assert isinstance(sheet, Worksheet)
    return [str(c.value) for c in sheet[1]]


def csv_file(rows: Sequence[Sequence[object]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_entry(xlsx: bytes, name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        target.writestr(name, data)
    return buffer.getvalue()


def import_paper(audit: Audit, rows: Sequence[Sequence[object]]) -> int:
    data = csv_file([template_header(audit), *rows])
    return services.import_paper_answers(
        audit=audit, responses=exchange.read_paper_answers(audit, data, "a.csv")
    )


def url(side: Side, name: str, audit: Audit, *args: str) -> str:
    return reverse(f"audits:{name}", args=[side.org.slug, audit.pk, *args])


def upload(client: Client, side: Side, audit: Audit, data: bytes, name: str) -> Response:
    return client.post(url(side, "import", audit), {"file": SimpleUploadedFile(name, data)})


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_filled_paper_answer_sheet_imports_and_the_results_match(audit: Audit, fmt: str) -> None:
    rows = answer_rows(audit, 8)
    if fmt == "xlsx":
        data = fill_template(audit, rows)
    else:
        data = csv_file([template_header(audit), *rows])
    responses = exchange.read_paper_answers(audit, data, f"sheet.{fmt}")
    assert services.import_paper_answers(audit=audit, responses=responses) == 8
    results = get_audit_results(audit)
    assert results.submitted == 8
    codes = {"poor": 0, "fair": 1, "good": 2}
    for j, x in enumerate(results.items):
        column = [str(row[j + 2]).lower() for row in rows]
        counts = [sum(c == level for c in column) for level in codes]
        assert x.stats.counts == tuple(counts)
        assert x.stats.dont_know == len(column) - sum(counts)
        expected = (50 * counts[1] + 100 * counts[2]) / sum(counts)
        assert x.score == pytest.approx(expected)
    assert set(Respondent.objects.filter(audit=audit).values_list("department", flat=True)) == {
        "sales",
        "finance",
        "kam",
    }
    assert Respondent.objects.filter(audit=audit, on_paper=True).count() == 8


def test_the_paper_answer_sheet_has_only_the_header_in_its_data_area(audit: Audit) -> None:
    workbook = load_workbook(io.BytesIO(exchange.paper_template(audit)))
    assert workbook.sheetnames == ["Answers", "How to fill in"]
    answers = workbook["Answers"]
    assert isinstance(answers, Worksheet)
    assert template_header(audit) == ["respondent", "department", *keys(audit)]
    assert answers.max_row == 1
    assert answers.data_validations.dataValidation  # dropdowns for departments and ratings
    guide = "\n".join(
        str(v) for row in workbook["How to fill in"].iter_rows(values_only=True) for v in row if v
    )
    for item in AuditItem.objects.filter(audit=audit):
        assert item.text in guide
    for code in ("supply_chain", "Supply chain & operations", "dont_know", "Don't know"):
        assert code in guide


def test_an_import_skips_empty_rows_and_names_unnamed_respondents(audit: Audit) -> None:
    rows = answer_rows(audit, 2)
    rows[1][0] = ""
    data = fill_template(audit, [rows[0], [None] * len(rows[0]), rows[1]])
    responses = exchange.read_paper_answers(audit, data, "sheet.xlsx")
    assert [r.label for r in responses] == ["P1", "Paper, row 4"]


# --- refusals ------------------------------------------------------------------------------

Case = Callable[[Audit], tuple[bytes, str, str, str]]


def _bad_rating(audit: Audit) -> tuple[bytes, str, str, str]:
    rows = answer_rows(audit, 3)
    rows[1][5] = "Excellent"
    key = keys(audit)[3]
    return fill_template(audit, rows), "a.xlsx", f"row 3, column {key}", "invalid rating"


def _unknown_department(audit: Audit) -> tuple[bytes, str, str, str]:
    rows = answer_rows(audit, 2)
    rows[0][1] = "Legal"
    return fill_template(audit, rows), "a.xlsx", "row 2, column department", "unknown department"


def _unknown_column(audit: Audit) -> tuple[bytes, str, str, str]:
    header = [*template_header(audit), "litmus:nonsense"]
    rows = [[*row, "Good"] for row in answer_rows(audit, 2)]
    data = csv_file([header, *rows])
    return data, "a.csv", "row 1, column litmus:nonsense", "unknown column"


def _missing_column(audit: Audit) -> tuple[bytes, str, str, str]:
    header = template_header(audit)[:-1]
    rows = [row[:-1] for row in answer_rows(audit, 2)]
    return csv_file([header, *rows]), "a.csv", f"row 1, column {keys(audit)[-1]}", "missing"


def _wrong_encoding(audit: Audit) -> tuple[bytes, str, str, str]:
    rows = answer_rows(audit, 2)
    rows[0][0] = "Zoë"
    data = csv_file([template_header(audit), *rows], encoding="cp1252")
    return data, "a.csv", "file", "not UTF-8"


def _xlsm_macro(audit: Audit) -> tuple[bytes, str, str, str]:
    data = with_entry(fill_template(audit, answer_rows(audit, 2)), "xl/vbaProject.bin", b"\0" * 64)
    return data, "a.xlsx", "file", "macros"


def _xlsm_name(audit: Audit) -> tuple[bytes, str, str, str]:
    return fill_template(audit, answer_rows(audit, 2)), "a.xlsm", "file", "macro-enabled"


def _renamed_png(audit: Audit) -> tuple[bytes, str, str, str]:
    png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 4
    return png, "answers.xlsx", "file", "not a CSV or XLSX file"


def _zip_without_content_types(audit: Audit) -> tuple[bytes, str, str, str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    return buffer.getvalue(), "a.xlsx", "file", "not a CSV or XLSX file"


def _zip_bomb(audit: Audit) -> tuple[bytes, str, str, str]:
    data = with_entry(
        fill_template(audit, answer_rows(audit, 1)), "xl/media/zeros.bin", bytes(60 * 1024 * 1024)
    )
    assert len(data) < 1024 * 1024  # ~60 MB of zeros deflate to almost nothing
    return data, "a.xlsx", "file", "zip bomb"


def _too_many_entries(audit: Audit) -> tuple[bytes, str, str, str]:
    data = fill_template(audit, answer_rows(audit, 1))
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        for n in range(exchange.MAX_XLSX_ENTRIES):
            archive.writestr(f"xl/media/{n}.txt", "")
    return buffer.getvalue(), "a.xlsx", "file", "ZIP entries"


def _billion_laughs(audit: Audit) -> tuple[bytes, str, str, str]:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    data = with_entry(fill_template(audit, []), "xl/worksheets/sheet1.xml", lol.encode())
    return data, "a.xlsx", "file", "forbidden XML"


def _too_many_rows(audit: Audit) -> tuple[bytes, str, str, str]:
    row = answer_rows(audit, 1)[0]
    data = csv_file([template_header(audit), *([row] * (exchange.MAX_ROWS + 1))])
    return data, "a.csv", "file", "more than 5,000 answer rows"


def _oversize(audit: Audit) -> tuple[bytes, str, str, str]:
    rows = [template_header(audit), *answer_rows(audit, 1)]
    data = csv_file(rows) + b" " * (exchange.max_upload_bytes() + 1)
    return data, "a.csv", "file", "larger than 10 MB"


def _formula(audit: Audit) -> tuple[bytes, str, str, str]:
    rows = answer_rows(audit, 2)
    rows[0][2] = "=1+1"
    key = keys(audit)[0]
    return fill_template(audit, rows), "a.xlsx", f"row 2, column {key}", "invalid rating '=1+1'"


def _header_only(audit: Audit) -> tuple[bytes, str, str, str]:
    return fill_template(audit, []), "a.xlsx", "file", "only a header row"


CASES: dict[str, Case] = {
    "bad rating": _bad_rating,
    "unknown department": _unknown_department,
    "unknown item column": _unknown_column,
    "missing item column": _missing_column,
    "wrong encoding": _wrong_encoding,
    "xlsm with vbaProject.bin": _xlsm_macro,
    "xlsm by name": _xlsm_name,
    "PNG renamed .xlsx": _renamed_png,
    "ZIP without content types": _zip_without_content_types,
    "zip bomb": _zip_bomb,
    "too many ZIP entries": _too_many_entries,
    "billion laughs": _billion_laughs,
    "5,001 rows": _too_many_rows,
    "over 10 MB": _oversize,
    "formula cell": _formula,
    "header only": _header_only,
}


@pytest.mark.parametrize("case", CASES)
def test_every_malformed_file_is_refused_naming_where_and_why(audit: Audit, case: str) -> None:
    data, name, location, reason = CASES[case](audit)
    before = stored()
    with pytest.raises(ValidationError) as caught:
        exchange.read_paper_answers(audit, data, name)
    assert any(p.location == location and reason in p.message for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]
    assert stored() == before


@pytest.mark.parametrize("case", CASES)
def test_the_import_page_refuses_every_malformed_file_and_stores_nothing(
    personas: Personas, audit: Audit, case: str
) -> None:
    data, name, location, _ = CASES[case](audit)
    before = stored()
    response = upload(personas.a.client(Role.HR), personas.a, audit, data, name)
    assert response.status_code == (413 if case == "over 10 MB" else 400)
    page = response.content.decode()
    assert "Nothing was stored" in page
    if case != "over 10 MB":
        assert location in page
    assert stored() == before


def test_every_problem_of_a_file_is_listed_at_once(audit: Audit) -> None:
    rows = answer_rows(audit, 4)
    rows[0][1] = "Legal"
    rows[2][2] = "meh"
    rows[3][3] = ""
    with pytest.raises(ValidationError) as caught:
        exchange.read_paper_answers(audit, fill_template(audit, rows), "a.xlsx")
    key0, key1 = keys(audit)[:2]
    assert [str(p) for p in caught.value.problems] == [
        "row 2, column department: unknown department 'Legal'",
        f"row 4, column {key0}: invalid rating 'meh': use Poor, Fair, Good or Don't know",
        f"row 5, column {key1}: no rating (use Don't know when unsure)",
    ]


def test_a_body_far_over_the_limit_is_refused_with_413_unread(
    personas: Personas, audit: Audit
) -> None:
    before = stored()
    big = b"x" * (exchange.max_upload_bytes() + 200 * 1024)
    response = upload(personas.a.client(Role.OWNER), personas.a, audit, big, "big.csv")
    assert response.status_code == 413
    assert "larger than 10 MB" in response.content.decode()
    assert stored() == before


def test_a_closed_audit_refuses_imports(personas: Personas, audit: Audit) -> None:
    services.close_audit(audit=audit)
    data = fill_template(audit, answer_rows(audit, 2))
    before = stored()
    with pytest.raises(NotPermitted):
        services.import_paper_answers(
            audit=audit, responses=exchange.read_paper_answers(audit, data, "a.xlsx")
        )
    response = upload(personas.a.client(Role.OWNER), personas.a, audit, data, "a.xlsx")
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("closed" in t for t in texts)
    assert stored() == before


def test_a_good_import_stores_every_row_and_says_how_many(personas: Personas, audit: Audit) -> None:
    data = fill_template(audit, answer_rows(audit, 6))
    before = stored()
    response = upload(personas.a.client(Role.CONSULTANT), personas.a, audit, data, "any name.xlsx")
    assert response.status_code == 302
    assert response["Location"] == url(personas.a, "detail", audit)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Imported 6 paper responses as submitted." in texts
    assert stored() == (before[0] + 6, before[1] + 6 * len(keys(audit)))


def test_an_import_without_a_file_is_refused(personas: Personas, audit: Audit) -> None:
    response = personas.a.client(Role.OWNER).post(url(personas.a, "import", audit), {})
    assert response.status_code == 400
    assert "choose a CSV or XLSX file" in response.content.decode()


def test_the_import_checks_the_csrf_token(personas: Personas, audit: Audit) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.a.users[Role.OWNER])
    data = fill_template(audit, answer_rows(audit, 1))
    before = stored()
    response = client.post(
        url(personas.a, "import", audit), {"file": SimpleUploadedFile("a.xlsx", data)}
    )
    assert response.status_code == 403
    assert stored() == before


# --- exports -------------------------------------------------------------------------------

DANGEROUS = ['=HYPERLINK("http://evil.example","click")', "+1", "@SUM(A1:A2)", "-2+3"]


def _poison(audit: Audit) -> None:
    """Give the first items texts a spreadsheet would run as formulas."""
    items = list(AuditItem.objects.filter(audit=audit))
    for item, text in zip(items, DANGEROUS, strict=False):
        item.text = text
        item.save(update_fields=["text"])
    responsibility = items[-1]
    responsibility.element_title = "=cmd|' /C calc'!A0"
    responsibility.save(update_fields=["element_title"])


def _cells_of_xlsx(data: bytes, sheet: str) -> list[tuple[object, str]]:
    worksheet = load_workbook(io.BytesIO(data))[sheet]
    assert isinstance(worksheet, Worksheet)
    return [(c.value, c.data_type) for row in worksheet.iter_rows() for c in row]


def test_exports_neutralise_text_a_spreadsheet_would_run(audit: Audit) -> None:
    _poison(audit)
    import_paper(audit, answer_rows(audit, 5))
    header, rows = exchange.results_table(get_audit_results(audit))
    text = exchange.to_csv(header, rows).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    xlsx = _cells_of_xlsx(exchange.to_xlsx(header, rows, sheet="Results"), "Results")
    template = _cells_of_xlsx(exchange.paper_template(audit), "How to fill in")
    for value in [*DANGEROUS, "=cmd|' /C calc'!A0"]:
        assert "'" + value in cells
        assert ("'" + value, "s") in xlsx
    for value in DANGEROUS:
        assert ("'" + value, "s") in template
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert all(t != "f" for _, t in xlsx + template)
    assert any(isinstance(v, float) for v, _ in xlsx)  # scores stay numbers


@pytest.mark.parametrize("value", [*DANGEROUS, "\tx", "\rx", "\0x"])
def test_every_dangerous_first_character_is_neutralised(value: str) -> None:
    assert exchange.neutralise(value) == "'" + value
    data = exchange.to_csv(["h"], [[value]]).decode("utf-8-sig")
    assert next(iter(csv.reader(io.StringIO(data[3:]))))[0].startswith("'")
    cells = _cells_of_xlsx(exchange.to_xlsx(["h"], [[value]], sheet="S"), "S")
    assert str(cells[1][0]).startswith("'")
    assert cells[1][1] == "s"


def test_safe_values_and_numbers_are_exported_unchanged() -> None:
    assert exchange.neutralise("Good") == "Good"
    assert exchange.neutralise(-12.5) == -12.5
    assert exchange.to_csv(["a", "b"], [["x", None]]) == "\ufeffa,b\r\nx,\r\n".encode()


def test_the_answers_export_names_nobody_and_leaves_out_comments(
    personas: Personas, audit: Audit
) -> None:
    a = personas.a
    items = list(AuditItem.objects.filter(audit=audit))
    for role in (Role.PARTICIPANT, Role.MANAGER, Role.ASSESSOR, Role.HR, Role.OWNER):
        respondent = services.invite_member(audit=audit, user=a.users[role], department="sales")
        answers = {i.pk: services.AnswerInput("good", f"secret comment by {role}") for i in items}
        services.save_answers(respondent=respondent, answers=answers, submit=True)
    _, token = services.invite_by_link(audit=audit, name="Zoë Linkperson", department="sales")
    rows = answer_rows(audit, 2)
    rows[0][0], rows[1][0] = "Paper Person", "P-Named"
    import_paper(audit, rows)
    header, table = exchange.answers_table(audit)
    as_csv = exchange.to_csv(header, table).decode("utf-8-sig")
    xlsx = exchange.to_xlsx(header, table, sheet="Answers")
    as_xlsx = "\n".join(str(v) for v, _ in _cells_of_xlsx(xlsx, "Answers"))
    for text in (as_csv, as_xlsx):
        assert "R1" in text
        for secret in ("alpha-", "secret comment", "Zoë", "Paper Person", "P-Named", token):
            assert secret not in text
    assert header == ["respondent", "department", *keys(audit)]
    assert [row[0] for row in table] == [f"R{n}" for n in range(1, 8)]
    assert exchange.answers_table(audit) == (header, table)  # a fixed order
    assert {str(v) for row in table for v in row[2:]} <= {"Poor", "Fair", "Good", "Don't know"}


def test_a_department_of_two_is_never_named_in_exports(audit: Audit) -> None:
    count = len(keys(audit))
    rows = [[f"S{i}", "sales", *["Good"] * count] for i in range(5)]
    rows += [[f"F{i}", "finance", *["Poor"] * count] for i in range(6)]
    rows += [[f"H{i}", "hr", *["Fair"] * count] for i in range(2)]
    import_paper(audit, rows)
    _, table = exchange.answers_table(audit)
    departments = [row[1] for row in table]
    assert "HR" not in departments
    assert set(departments) <= {"Finance", "Other departments"}
    assert departments.count("Other departments") >= 2
    results_header, _ = exchange.results_table(get_audit_results(audit))
    assert not any(h.startswith("HR") for h in results_header)
    group_columns = [h for h in results_header if "(n=" in h]
    assert group_columns
    assert all(int(h.split("(n=")[1].rstrip(")")) >= 5 for h in group_columns)


def test_without_a_breakdown_the_department_column_is_blank(audit: Audit) -> None:
    count = len(keys(audit))
    rows = [[f"S{i}", "sales", *["Good"] * count] for i in range(3)]
    rows += [[f"H{i}", "hr", *["Fair"] * count] for i in range(2)]
    import_paper(audit, rows)
    _, table = exchange.answers_table(audit)
    assert [row[1] for row in table] == [""] * 5
    header, _ = exchange.results_table(get_audit_results(audit))
    assert not any("(n=" in h for h in header)


def test_the_results_table_has_every_item_element_and_role(audit: Audit) -> None:
    import_paper(audit, answer_rows(audit, 5))
    results = get_audit_results(audit)
    header, rows = exchange.results_table(results)
    assert header[:4] == ["section", "item", "text", "readiness (0-100)"]
    assert [r[1] for r in rows[: len(results.items)]] == keys(audit)
    assert rows[0][0] == "Litmus test"
    assert {r[0] for r in rows[len(results.items) :]} == {"Role element", "Role of KAM"}
    assert sum(r[0] == "Role element" for r in rows) == 2
    assert all(len(r) == len(header) for r in rows)
    first = results.items[0]
    assert rows[0][3] == round(first.score or 0, 1)


def test_with_fewer_respondents_than_the_minimum_nothing_is_exported(audit: Audit) -> None:
    import_paper(audit, answer_rows(audit, 4))
    header, rows = exchange.answers_table(audit)
    assert header == ["respondent", "department", *keys(audit)]
    assert rows == []
    _, results = exchange.results_table(get_audit_results(audit))
    assert len(results) == 1
    assert results[0][0] == "Withheld"
    assert "at least 5 respondents" in str(results[0][2])
    assert all(v is None for v in results[0][3:])


# --- the endpoints -------------------------------------------------------------------------


@pytest.mark.parametrize(("what", "fmt"), EXPORTS)
def test_exports_download_as_attachments_with_a_server_chosen_name(
    personas: Personas, audit: Audit, what: str, fmt: str
) -> None:
    import_paper(audit, answer_rows(audit, 2))
    response = personas.a.client(Role.DIRECTOR).get(url(personas.a, "export", audit, what, fmt))
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == f'attachment; filename="audit-{audit.pk}-{what}.{fmt}"'
    )
    assert "no-store" in response["Cache-Control"]
    if fmt == "csv":
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response.content.startswith(b"\xef\xbb\xbf")
    else:
        assert response["Content-Type"] == XLSX
        assert load_workbook(io.BytesIO(response.content), read_only=True).sheetnames


@pytest.mark.parametrize(
    ("what", "fmt"), [("template", "csv"), ("results", "pdf"), ("comments", "csv")]
)
def test_unknown_exports_are_not_found(
    personas: Personas, audit: Audit, what: str, fmt: str
) -> None:
    response = personas.a.client(Role.OWNER).get(url(personas.a, "export", audit, what, fmt))
    assert response.status_code == 404


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_members_who_do_not_manage_audits_may_neither_export_nor_import(
    personas: Personas, audit: Audit, role: Role
) -> None:
    client = personas.a.client(role)
    for what, fmt in EXPORTS:
        assert client.get(url(personas.a, "export", audit, what, fmt)).status_code == 403
    data = fill_template(audit, answer_rows(audit, 1))
    before = stored()
    assert upload(client, personas.a, audit, data, "a.xlsx").status_code == 403
    assert stored() == before


@pytest.mark.parametrize("role", ROLES)
def test_the_other_organisation_gets_404_for_every_role(
    personas: Personas, audit: Audit, role: Role
) -> None:
    a, b = personas.a, personas.b
    client = b.client(role)
    data = fill_template(audit, answer_rows(audit, 1))
    before = stored()
    for side in (a, b):  # the audit's organisation in the URL, or their own
        for what, fmt in EXPORTS:
            assert client.get(url(side, "export", audit, what, fmt)).status_code == 404
        assert upload(client, side, audit, data, "a.xlsx").status_code == 404
    assert stored() == before


def test_export_and_import_need_the_right_method(personas: Personas, audit: Audit) -> None:
    client = personas.a.client(Role.OWNER)
    assert client.post(url(personas.a, "export", audit, "results", "csv")).status_code == 405
    assert client.get(url(personas.a, "import", audit)).status_code == 405


def test_an_upload_is_never_written_to_disk(
    personas: Personas, audit: Audit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file above Django's in-memory threshold would normally go to a temporary file."""
    from django.core.files import uploadedfile

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temporary upload file was created")

    monkeypatch.setattr(uploadedfile.TemporaryUploadedFile, "__init__", refuse)
    rows = answer_rows(audit, 1)
    padding = b"\n" * (3 * 1024 * 1024)  # over Django's 2.5 MB; empty lines are skipped
    data = csv_file([template_header(audit), *rows]) + padding
    response = upload(personas.a.client(Role.OWNER), personas.a, audit, data, "a.csv")
    assert response.status_code == 302
    assert Respondent.objects.filter(audit=audit).count() == 1
