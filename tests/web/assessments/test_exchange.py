"""Imports of people, ratings and psychometric results; exports of people and results."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Sequence

import pytest
from openpyxl import Workbook

from kamfit.assessments import exchange, services
from kamfit.assessments.models import (
    KeyAccount,
    Person,
    PsychometricResult,
    Rater,
    Rating,
    RatingForm,
)
from kamfit.assessments.queries import load_cycle
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.orgs.models import Role
from kamfit.spreadsheets import MAX_XLSX_ENTRIES, to_csv
from tests.conftest import Team

pytestmark = pytest.mark.django_db

ATTRIBUTE = "calculated-risk-taking"  # kind A, cited at the profile's "risk" element
PEOPLE = ["reference", "name", "manager", "kind", "background", "accounts", "active"]


def csv_file(rows: Sequence[Sequence[object]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_file(rows: Sequence[Sequence[object]]) -> bytes:
    """A workbook as a spreadsheet program saves it: text starting "=" is a formula."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_entry(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook with the part ``name`` added, or replaced."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        target.writestr(name, content)
    return buffer.getvalue()


def stored() -> tuple[object, ...]:
    """Everything an import could change, to check that a refused one changed nothing."""
    return (
        list(
            Person.objects.order_by("id").values_list(
                "reference", "name", "kind", "manager_id", "user_id", "active", "background"
            )
        ),
        list(KeyAccount.objects.order_by("id").values_list("person_id", "name", "position")),
        list(Rater.objects.order_by("id").values_list("id", "source")),
        list(RatingForm.objects.order_by("id").values_list("id", "number", "status")),
        Rating.objects.count(),
        PsychometricResult.objects.count(),
    )


def problems_of(call: Callable[[], object]) -> list[str]:
    before = stored()
    with pytest.raises(ValidationError) as caught:
        call()
    assert stored() == before  # all or nothing
    return [str(p) for p in caught.value.problems]


def requirement_keys(team: Team) -> list[str]:
    return list(
        team.profile.requirements.filter(included=True)
        .order_by("position", "id")
        .values_list("competency__key", flat=True)
    )


# --- people ----------------------------------------------------------------------------------


def new_people(team: Team) -> list[list[object]]:
    assessor = team.side.users[Role.ASSESSOR].username
    return [
        [*PEOPLE, "username", "profile"],
        ["kam-2", "Casey Colleague-Smith", "mgr-1", "kam", "Sales", "", "yes", "", ""],
        [
            "kam-9",
            "Nova New",
            "kam-2",
            "Internal candidate",
            "Not sales",
            "Acme; Globex ;Acme",
            "no",
            assessor,
            team.profile.profile.key,
        ],
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "csv;", "csv\t"])
def test_people_import_creates_and_updates_by_reference(team: Team, fmt: str) -> None:
    rows = new_people(team)
    data = xlsx_file(rows) if fmt == "xlsx" else csv_file(rows, fmt[3:] or ",")
    hr = team.side.users[Role.HR]
    assert exchange.read_people(team.side.org, hr, data, f"people.{fmt[:4]}") == (1, 1)
    colleague = Person.objects.get(organisation=team.side.org, reference="kam-2")
    assert colleague.name == "Casey Colleague-Smith"
    assert colleague.background == "sales"
    nova = Person.objects.get(organisation=team.side.org, reference="kam-9")
    assert (nova.kind, nova.background, nova.active) == ("candidate", "other", False)
    assert nova.manager == colleague
    assert nova.user == team.side.users[Role.ASSESSOR]
    assert nova.profile == team.profile.profile
    assert [a.name for a in nova.accounts.all()] == ["Acme", "Globex"]


def test_a_column_left_out_leaves_that_field_as_it_is(team: Team) -> None:
    kam = team.kam
    before = (kam.user_id, kam.manager_id, kam.profile_id, kam.background, kam.kind)
    data = csv_file([["Reference", "Name"], ["kam-1", "Pat P. Participant"]])
    assert exchange.read_people(team.side.org, None, data, "a.csv") == (0, 1)
    kam.refresh_from_db()
    assert kam.name == "Pat P. Participant"
    assert (kam.user_id, kam.manager_id, kam.profile_id, kam.background, kam.kind) == before
    assert [a.name for a in kam.accounts.all()] == ["Globex", "Initech"]


def test_a_column_present_but_empty_clears_the_field(team: Team) -> None:
    data = csv_file([["reference", "name", "manager", "accounts"], ["kam-1", "Pat", "", ""]])
    exchange.read_people(team.side.org, None, data, "a.csv")
    team.kam.refresh_from_db()
    assert team.kam.manager is None
    assert not team.kam.accounts.exists()


def _person_case(rows: list[list[object]], fmt: str = "csv") -> Callable[[Team], bytes]:
    def build(team: Team) -> bytes:
        return xlsx_file(rows) if fmt == "xlsx" else csv_file(rows)

    return build


PERSON_CASES: dict[str, tuple[Callable[[Team], bytes], str, str]] = {
    "unknown column": (
        _person_case([["reference", "name", "nickname"], ["kam-9", "N", "x"]]),
        "row 1, column nickname",
        "unknown column",
    ),
    "missing name column": (
        _person_case([["reference", "email"], ["kam-9", "n@example.com"]]),
        "row 1, column name",
        "missing column",
    ),
    "column twice": (
        _person_case([["reference", "name", "Name"], ["kam-9", "N", "M"]]),
        "row 1, column Name",
        "appears twice",
    ),
    "bad kind": (
        _person_case([["reference", "name", "kind"], ["kam-9", "N", "boss"]]),
        "row 2, column kind",
        "unknown kind 'boss'",
    ),
    "bad background": (
        _person_case([["reference", "name", "background"], ["kam-9", "N", "marketing"]]),
        "row 2, column background",
        "unknown background 'marketing'",
    ),
    "bad active": (
        _person_case([["reference", "name", "active"], ["kam-9", "N", "maybe"]]),
        "row 2, column active",
        "not yes or no",
    ),
    "bad reference": (
        _person_case([["reference", "name"], ["kam 9!", "N"]]),
        "row 2, column reference",
        "letters, digits",
    ),
    "no name": (
        _person_case([["reference", "name"], ["kam-9", ""]]),
        "row 2, column name",
        "a name is required",
    ),
    "unknown manager": (
        _person_case([["reference", "name", "manager"], ["kam-9", "N", "nobody"]]),
        "row 2, column manager",
        "no person with reference 'nobody'",
    ),
    "unknown profile": (
        _person_case([["reference", "name", "profile"], ["kam-9", "N", "ceo"]]),
        "row 2, column profile",
        "no role profile with key 'ceo'",
    ),
    "not a member": (
        _person_case([["reference", "name", "username"], ["kam-9", "N", "beta-hr"]]),
        "row 2, column username",
        "not a member of this organisation",
    ),
    "reference twice": (
        _person_case([["reference", "name"], ["kam-9", "N"], ["kam-9", "M"]]),
        "row 3, column reference",
        "also appears in row 2",
    ),
    "formula cell": (
        _person_case([["reference", "name"], ["kam-9", '=HYPERLINK("http://x")']], "xlsx"),
        "row 2, column name",
        "a formula",
    ),
    "value without header": (
        _person_case([["reference", "name", ""], ["kam-9", "N", "stray"]]),
        "row 2, column C",
        "a value in a column without a header",
    ),
    "header only": (_person_case([["reference", "name"]]), "file", "only a header row"),
    "empty file": (lambda team: b"", "file", "empty"),
    "over 10 MB": (
        lambda team: (
            csv_file([["reference", "name"], ["kam-9", "N"]])
            + b" " * (exchange.max_upload_bytes() + 1)
        ),
        "file",
        "larger than 10 MB",
    ),
    "20,001 rows": (
        lambda team: csv_file(
            [["reference", "name"], *([f"p-{i}", "N"] for i in range(exchange.MAX_PEOPLE_ROWS + 1))]
        ),
        "file",
        "more than 20,000 rows",
    ),
}


@pytest.mark.parametrize("case", PERSON_CASES)
def test_every_bad_people_file_is_refused_naming_row_column_and_reason(
    team: Team, case: str
) -> None:
    build, location, reason = PERSON_CASES[case]
    found = problems_of(
        lambda: exchange.read_people(team.side.org, None, build(team), "people.csv")
    )
    assert any(p.startswith(f"{location}: ") and reason in p for p in found), found


def test_every_problem_of_a_people_file_is_listed_at_once_in_row_order(team: Team) -> None:
    rows = [
        ["reference", "name", "manager", "kind"],
        ["kam-9", "Nova", "", "kam"],
        ["kam-10", "Otto", "nobody", "kam"],
        ["kam-11", "Pia", "", "boss"],
        ["kam-12", "", "", "kam"],
    ]
    found = problems_of(lambda: exchange.read_people(team.side.org, None, csv_file(rows), "a.csv"))
    assert found == [
        "row 3, column manager: no person with reference 'nobody'",
        "row 4, column kind: unknown kind 'boss': use kam or candidate "
        "(Key account manager, Internal candidate)",
        "row 5, column name: a name is required",
    ]
    assert not Person.objects.filter(reference="kam-9").exists()  # the good row too


def test_text_that_looks_like_a_formula_is_stored_as_text_and_neutralised_on_export(
    team: Team,
) -> None:
    name = '=HYPERLINK("http://evil.example","x")'
    data = csv_file([["reference", "name", "unit"], ["kam-9", name, "+1 sales"]])
    exchange.read_people(team.side.org, None, data, "a.csv")
    assert Person.objects.get(reference="kam-9").name == name
    header, rows = exchange.people_table(list(Person.objects.filter(reference="kam-9")))
    text = to_csv(header, rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "'+1 sales" in text


def test_the_people_export_imports_back_unchanged(team: Team) -> None:
    people = list(Person.objects.filter(organisation=team.side.org))
    header, rows = exchange.people_table(people)
    assert header == exchange.TEMPLATES["people"]
    kam = next(r for r in rows if r[0] == "kam-1")
    assert kam[header.index("accounts")] == "Globex; Initech"
    assert kam[header.index("username")] == team.side.users[Role.PARTICIPANT].username
    before = stored()
    created, updated = exchange.read_people(team.side.org, None, to_csv(header, rows), "a.csv")
    assert (created, updated) == (0, len(people))
    assert stored()[:2] == before[:2]


def _renamed_png(team: Team) -> bytes:
    return b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 4


def _zip_bomb(team: Team) -> bytes:
    data = xlsx_file([["reference", "name"], ["kam-9", "N"]])
    return with_entry(data, "xl/media/zeros.bin", bytes(60 * 1024 * 1024))


def _too_many_entries(team: Team) -> bytes:
    buffer = io.BytesIO(xlsx_file([["reference", "name"], ["kam-9", "N"]]))
    with zipfile.ZipFile(buffer, "a") as archive:
        for n in range(MAX_XLSX_ENTRIES):
            archive.writestr(f"xl/media/{n}.txt", "")
    return buffer.getvalue()


def _macro(team: Team) -> bytes:
    data = xlsx_file([["reference", "name"], ["kam-9", "N"]])
    return with_entry(data, "xl/vbaProject.bin", b"\0macro")


def _billion_laughs(team: Team) -> bytes:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    return with_entry(xlsx_file([["reference"]]), "xl/worksheets/sheet1.xml", lol.encode())


def _utf16(team: Team) -> bytes:
    return "reference,name\r\nkam-9,Zoë\r\n".encode("utf-16")


def _latin1(team: Team) -> bytes:
    return "reference,name\r\nkam-9,Zoë\r\n".encode("latin-1")


FILE_CASES: dict[str, tuple[Callable[[Team], bytes], str, str]] = {
    "PNG renamed .xlsx": (_renamed_png, "people.xlsx", "not a CSV or XLSX file"),
    "zip bomb": (_zip_bomb, "people.xlsx", "zip bomb"),
    "too many ZIP entries": (_too_many_entries, "people.xlsx", "ZIP entries"),
    "macro": (_macro, "people.xlsx", "macros"),
    "xlsm by name": (
        lambda team: xlsx_file([["reference", "name"], ["kam-9", "N"]]),
        "people.xlsm",
        "macro-enabled",
    ),
    "not UTF-8": (_latin1, "people.csv", "not UTF-8"),
    "UTF-16": (_utf16, "people.csv", "UTF-16"),
    "billion laughs": (_billion_laughs, "people.xlsx", "forbidden XML"),
    "no header": (lambda team: b"\r\n\r\nkam-9,N\r\n", "people.csv", "no header row"),
}


@pytest.mark.parametrize("case", FILE_CASES)
def test_unsafe_or_unreadable_files_are_refused_for_every_import(team: Team, case: str) -> None:
    build, name, reason = FILE_CASES[case]
    data = build(team)
    for read in (
        lambda: exchange.read_people(team.side.org, None, data, name),
        lambda: exchange.read_ratings(team.cycle, None, data, name),
        lambda: exchange.read_psychometrics(team.side.org, None, data, name),
    ):
        found = problems_of(read)
        assert any(p.startswith("file: ") and reason in p for p in found), found


def test_templates_are_the_columns_each_import_reads(team: Team) -> None:
    assert set(exchange.TEMPLATES) == {"people", "ratings", "psychometrics"}
    assert exchange.TEMPLATES["ratings"] == [
        "person",
        "rater",
        "source",
        "competency",
        "level",
        "evidence",
    ]
    for name, columns in exchange.TEMPLATES.items():
        template = to_csv(columns, [])
        assert template.decode("utf-8-sig") == ",".join(columns) + "\r\n", name


# --- ratings ---------------------------------------------------------------------------------


def header(name: str) -> list[object]:
    return list(exchange.TEMPLATES[name])


def rating_rows(
    team: Team, person: str, rater: str, source: str, level: object
) -> list[list[object]]:
    return [
        [person, rater, source, key, level, f"Seen at the {key} review"]
        for key in requirement_keys(team)
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_ratings_import_stores_submitted_forms_and_adds_new_raters(team: Team, fmt: str) -> None:
    assessor = team.side.users[Role.ASSESSOR].username
    rows = [
        header("ratings"),
        *rating_rows(team, "kam-2", assessor, "Other", 4),
        *rating_rows(team, "kam-3", "alpha-peer1", "peer", 3),
    ]
    rows[1][4] = ""  # cannot judge: no level, evidence kept
    data = xlsx_file(rows) if fmt == "xlsx" else csv_file(rows)
    assert exchange.read_ratings(team.cycle, team.side.users[Role.HR], data, f"r.{fmt}") == 2
    peer = Rater.objects.get(assessee__person__reference="kam-3", user__username="alpha-peer1")
    assert peer.source == "peer"
    form = RatingForm.objects.get(rater=peer)
    assert form.status == "submitted"
    assert set(form.ratings.values_list("level", flat=True)) == {3}
    other = RatingForm.objects.get(rater__user__username=assessor)
    levels = list(other.ratings.order_by("id").values_list("level", flat=True))
    assert levels[0] is None
    assert set(levels[1:]) == {4}


def _rating_case(
    change: Callable[[list[list[object]]], None], fmt: str = "csv"
) -> Callable[[Team], bytes]:
    def build(team: Team) -> bytes:
        rows = [
            header("ratings"),
            *rating_rows(team, "kam-3", "alpha-peer1", "peer", 3),
        ]
        change(rows)
        return xlsx_file(rows) if fmt == "xlsx" else csv_file(rows)

    return build


def _set(row: int, column: int, value: object) -> Callable[[list[list[object]]], None]:
    def change(rows: list[list[object]]) -> None:
        rows[row - 1][column] = value

    return change


RATING_CASES: dict[str, tuple[Callable[[Team], bytes], str, str]] = {
    "level not a number": (_rating_case(_set(2, 4, "high")), "row 2, column level", "not a whole"),
    "level off the scale": (_rating_case(_set(3, 4, 9)), "row 3, column level", "from 1 to"),
    "unknown person": (
        _rating_case(_set(2, 0, "kam-77")),
        "row 2, column person",
        "not assessed in this cycle",
    ),
    "unknown rater": (
        _rating_case(_set(2, 1, "beta-hr")),
        "row 2, column rater",
        "not a member of this organisation",
    ),
    "bad source": (_rating_case(_set(2, 2, "boss")), "row 2, column source", "unknown source"),
    "unknown competency": (
        _rating_case(_set(2, 3, "telepathy")),
        "row 2, column competency",
        "not a requirement of this profile",
    ),
    "no evidence": (_rating_case(_set(2, 5, "")), "row 2, column evidence", "evidence"),
    "formula level": (
        _rating_case(_set(2, 4, "=2+1"), "xlsx"),
        "row 2, column level",
        "a formula (=2+1) is not accepted",
    ),
    "missing evidence column": (
        lambda team: csv_file([["person", "rater", "source", "competency", "level"]]),
        "row 1, column evidence",
        "missing column",
    ),
    "50,001 rows": (
        lambda team: csv_file(
            [
                header("ratings"),
                *([f"p{i}", "r", "peer", "c", "", ""] for i in range(50_001)),
            ]
        ),
        "file",
        "more than 50,000 rows",
    ),
}


@pytest.mark.parametrize("case", RATING_CASES)
def test_every_bad_ratings_file_is_refused_naming_row_column_and_reason(
    team: Team, case: str
) -> None:
    build, location, reason = RATING_CASES[case]
    found = problems_of(lambda: exchange.read_ratings(team.cycle, None, build(team), "r.csv"))
    assert any(p.startswith(f"{location}: ") and reason in p for p in found), found


def test_one_bad_rating_row_stores_no_form_at_all(team: Team) -> None:
    rows = [
        header("ratings"),
        *rating_rows(team, "kam-2", team.side.users[Role.ASSESSOR].username, "other", 4),
        *rating_rows(team, "kam-3", "alpha-peer1", "peer", 3),
    ]
    rows[-1][4] = "lots"
    found = problems_of(lambda: exchange.read_ratings(team.cycle, None, csv_file(rows), "r.csv"))
    assert found == [
        f"row {len(rows)}, column level: 'lots' is not a whole number: give a level such as 3, "
        "or leave the cell empty when the rater cannot judge"
    ]
    assert not RatingForm.objects.filter(rater__assessee__cycle=team.cycle).exists()


def test_a_closed_cycle_refuses_imported_ratings(team: Team) -> None:
    services.close_cycle(team.cycle)
    rows = [header("ratings"), *rating_rows(team, "kam-3", "alpha-peer1", "peer", 3)]
    before = stored()
    with pytest.raises(NotPermitted):
        exchange.read_ratings(team.cycle, None, csv_file(rows), "r.csv")
    assert stored() == before


# --- psychometric results --------------------------------------------------------------------


def psychometric_rows(*rows: list[object]) -> list[list[object]]:
    return [header("psychometrics"), *rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_psychometric_results_are_stored_with_their_sten(team: Team, fmt: str) -> None:
    when: object = dt.datetime(2026, 1, 15) if fmt == "xlsx" else "2026-01-15"  # noqa: DTZ001
    rows = psychometric_rows(
        ["kam-1", ATTRIBUTE, "Talent Q", "Dimensions", "Risk taking", "Sten", 7, when],
        ["kam-2", ATTRIBUTE, "Talent Q", "", "", "percentile", "84,5", "2026-01-16"],
    )
    data = xlsx_file(rows) if fmt == "xlsx" else csv_file(rows)
    count = exchange.read_psychometrics(team.side.org, team.side.users[Role.HR], data, f"p.{fmt}")
    assert count == 2
    first = PsychometricResult.objects.get(person=team.kam)
    assert (first.scale, first.value, first.sten) == ("sten", 7.0, 7.0)
    assert first.assessed_on == dt.date(2026, 1, 15)
    assert first.instrument == "Dimensions"
    second = PsychometricResult.objects.get(person=team.colleague)
    assert second.value == 84.5


def _psychometric_case(
    change: Callable[[list[object]], None], fmt: str = "csv"
) -> Callable[[Team], bytes]:
    def build(team: Team) -> bytes:
        row: list[object] = ["kam-1", ATTRIBUTE, "Talent Q", "", "", "sten", "7", "2026-01-15"]
        change(row)
        rows = psychometric_rows(row)
        return xlsx_file(rows) if fmt == "xlsx" else csv_file(rows)

    return build


def _cell(column: int, value: object) -> Callable[[list[object]], None]:
    def change(row: list[object]) -> None:
        row[column] = value

    return change


PSYCHOMETRIC_CASES: dict[str, tuple[Callable[[Team], bytes], str, str]] = {
    "value not a number": (
        _psychometric_case(_cell(6, "high")),
        "row 2, column value",
        "'high' is not a number",
    ),
    "value off the scale": (_psychometric_case(_cell(6, "11")), "row 2, column value", ""),
    "date not ISO": (
        _psychometric_case(_cell(7, "15/01/2026")),
        "row 2, column assessed_on",
        "write it as YYYY-MM-DD",
    ),
    "impossible date": (
        _psychometric_case(_cell(7, "2026-02-30")),
        "row 2, column assessed_on",
        "is not a date",
    ),
    "date in the future": (
        _psychometric_case(_cell(7, "2999-01-01")),
        "row 2, column assessed_on",
        "future",
    ),
    "unknown scale": (_psychometric_case(_cell(5, "iq")), "row 2, column scale", "unknown scale"),
    "unknown person": (
        _psychometric_case(_cell(0, "kam-77")),
        "row 2, column person",
        "no person with reference",
    ),
    "not an attribute": (
        _psychometric_case(_cell(1, "negotiation")),
        "row 2, column attribute",
        "not an attribute",
    ),
    "no provider": (_psychometric_case(_cell(2, "")), "row 2, column provider", "provider"),
    "formula value": (
        _psychometric_case(_cell(6, "=5+2"), "xlsx"),
        "row 2, column value",
        "a formula",
    ),
    "missing scale column": (
        lambda team: csv_file([["person", "attribute", "provider", "value", "assessed_on"]]),
        "row 1, column scale",
        "missing column",
    ),
}


@pytest.mark.parametrize("case", PSYCHOMETRIC_CASES)
def test_every_bad_psychometric_file_is_refused_naming_row_column_and_reason(
    team: Team, case: str
) -> None:
    build, location, reason = PSYCHOMETRIC_CASES[case]
    found = problems_of(
        lambda: exchange.read_psychometrics(team.side.org, None, build(team), "p.csv")
    )
    assert any(p.startswith(f"{location}: ") and reason in p for p in found), found


def test_a_psychometric_file_lists_format_and_rule_problems_together(team: Team) -> None:
    rows = psychometric_rows(
        ["kam-1", ATTRIBUTE, "Talent Q", "", "", "sten", "7", "2026-01-15"],
        ["kam-77", ATTRIBUTE, "Talent Q", "", "", "sten", "seven", "2026-01-15"],
    )
    found = problems_of(
        lambda: exchange.read_psychometrics(team.side.org, None, csv_file(rows), "p.csv")
    )
    assert found == [
        "row 3, column value: 'seven' is not a number",
        "row 3, column person: no person with reference 'kam-77'",
    ]


# --- results ---------------------------------------------------------------------------------


def test_results_table_has_one_row_per_person_and_a_column_per_requirement(team: Team) -> None:
    team.submit(team.kam, team.side.users[Role.PARTICIPANT], 3)
    team.submit(team.kam, team.side.users[Role.MANAGER], 4)
    data = load_cycle(team.cycle)
    header, rows = exchange.results_table(data)
    keys = requirement_keys(team)
    assert header == ["reference", "name", "fit %", "coverage %", "band", *keys]
    assert [r[0] for r in rows] == [a.person.reference for a in data.assessees]
    kam = next(r for r in rows if r[0] == "kam-1")
    assert kam[5:] == [4.0] * len(keys)  # self is left out of the combined level by default
    assert kam[3] == 100.0
    assert isinstance(kam[2], float)
    assert kam[4] in {"Ready now", "Ready with development", "Not yet"}
    unrated = next(r for r in rows if r[0] == "kam-4")
    assert unrated[2] is None
    assert unrated[5:] == [None] * len(keys)
    assert unrated[4] == "Not enough evidence"


def test_results_table_rounds_combined_levels_to_two_decimals(team: Team) -> None:
    for user, level in zip(team.peers, (3, 3, 4), strict=True):
        team.submit(team.kam, user, level)
    _, rows = exchange.results_table(load_cycle(team.cycle))
    kam = next(r for r in rows if r[0] == "kam-1")
    assert kam[5] == 3.33


def test_results_table_of_an_empty_cycle_has_only_the_header(team: Team) -> None:
    empty = services.create_cycle(
        team.side.org, None, title="Nobody yet", profile_version=team.profile
    )
    header, rows = exchange.results_table(load_cycle(empty))
    assert header[:5] == ["reference", "name", "fit %", "coverage %", "band"]
    assert rows == []
