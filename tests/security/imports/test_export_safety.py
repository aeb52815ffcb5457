"""Exports run no formulas and download as attachments with a server-chosen name (T15).

Data holding ``=HYPERLINK(…)``, ``+1``, ``@SUM(…)``, ``-2``, a tab, a carriage return or
NUL at the start goes out through the people export (CSV), the team results (CSV and
XLSX) and the shared writers; read back, every such cell is text starting with ``'``.
(The PDF part of T15, the renderer's URL fetcher, is tested with the job descriptions.)
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from kamfit.assessments import services
from kamfit.orgs.models import Role
from kamfit.spreadsheets import to_csv, to_xlsx
from tests.conftest import Team, published_profile

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://127.0.0.2:9/x","click")',
    "+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\0=1+1",
]
ATTACHMENT = re.compile(r'^attachment; filename="[A-Za-z0-9._-]+"$')


def test_the_writers_neutralise_every_formula_start_and_keep_numbers() -> None:
    header = ["text", "number"]
    rows = [[p, 3] for p in PAYLOADS]
    text = to_csv(header, rows).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in read[1:]] == ["'" + p for p in PAYLOADS]
    assert {r[1] for r in read[1:]} == {"3"}
    sheet = load_workbook(io.BytesIO(to_xlsx(header, rows, sheet="S")), read_only=True).active
    assert sheet is not None
    cells = [(c[0].value, c[0].data_type, c[1].value) for c in sheet.iter_rows(min_row=2)]
    assert all(kind == "s" and str(value).startswith("'") for value, kind, _ in cells), cells
    assert [v for v, _, _ in cells] == ["'" + p.replace("\0", "") for p in PAYLOADS]
    assert {n for _, _, n in cells} == {3}


def test_the_people_export_neutralises_formulas_and_is_an_attachment(team: Team) -> None:
    hr = team.side.users[Role.HR]
    services.upsert_people(
        team.side.org,
        hr,
        [
            services.PersonInput(
                reference="x-1",
                name=PAYLOADS[0],
                job_title=PAYLOADS[1],
                unit=PAYLOADS[3],
            )
        ],
    )
    response = team.side.client(Role.HR).get("/o/alpha/people/export.csv")
    assert response.status_code == 200
    assert ATTACHMENT.match(response["Content-Disposition"]), response["Content-Disposition"]
    assert response["Content-Disposition"] == 'attachment; filename="alpha-people.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    header, found = rows[0], next(r for r in rows if r[0] == "x-1")
    assert found[header.index("name")] == "'" + PAYLOADS[0]
    assert found[header.index("job_title")] == "'+1"
    assert found[header.index("unit")] == "'@SUM(A1:A9)"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_team_results_export_neutralises_names(team: Team, fmt: str) -> None:
    hr = team.side.users[Role.HR]
    services.upsert_people(
        team.side.org, hr, [services.PersonInput(reference="kam-2", name=PAYLOADS[0])]
    )
    url = f"/o/alpha/assessments/{team.cycle.pk}/results.{fmt}"
    response = team.side.client(Role.HR).get(url)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="alpha-cycle-{team.cycle.pk}-results.{fmt}"'
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
        names = [r[1] for r in rows[1:]]
    else:
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        assert sheet is not None
        names = [str(row[1].value) for row in sheet.iter_rows(min_row=2)]
    assert "'" + PAYLOADS[0] in names, names
    assert PAYLOADS[0] not in names


def test_a_download_name_from_user_text_is_encoded_not_trusted(team: Team) -> None:
    """A profile titled with quotes, a path and non-ASCII letters: the filename is a slug."""
    version = published_profile(team.side, title='Ré"sumé/../../etc\\passwd')
    url = f"/o/alpha/profiles/{version.profile.pk}/v{version.number}/job-description.md"
    response = team.side.client(Role.HR).get(url)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename")
    assert "/" not in disposition and "\\" not in disposition and '"' not in disposition[22:-1]
