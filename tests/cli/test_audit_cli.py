"""``kamfit audit …``: list, results, export and import from the shell."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import typer.main
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from kamfit import terminal
from kamfit.audits import exchange, services
from kamfit.audits.models import Answer, Audit, AuditItem, Respondent
from kamfit.cli import app
from kamfit.orgs.models import Role
from tests.conftest import Personas, Side

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns off a terminal, which would split the messages checked."""
    for console in (terminal.out, terminal.err):
        monkeypatch.setattr(console, "_width", 250)


def run(*args: str | Path | int) -> Result:
    return CliRunner().invoke(app, ["audit", *(str(a) for a in args)])


def open_audit(side: Side, title: str = "Readiness 2026") -> Audit:
    return services.open_audit(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        version=side.published,
        title=title,
        element_keys=["risk", "resources"],
    )


@pytest.fixture
def audit(personas: Personas) -> Audit:
    return open_audit(personas.a)


def keys(audit: Audit) -> list[str]:
    return list(AuditItem.objects.filter(audit=audit).values_list("key", flat=True))


def stored() -> tuple[int, int]:
    return Respondent.objects.count(), Answer.objects.count()


def sheet(audit: Audit, rows: list[list[str]], path: Path) -> Path:
    """Fill the paper answer sheet and save it."""
    workbook = load_workbook(io.BytesIO(exchange.paper_template(audit)))
    answers = workbook["Answers"]
    assert isinstance(answers, Worksheet)
    for row in rows:
        answers.append(row)
    workbook.save(path)
    return path


def rows_of(audit: Audit, departments: list[str], rating: str = "Good") -> list[list[str]]:
    return [[f"P{n}", d, *[rating] * len(keys(audit))] for n, d in enumerate(departments)]


def test_audit_list_shows_the_organisations_audits_only(personas: Personas, audit: Audit) -> None:
    open_audit(personas.b, "Beta secret audit")
    services.import_paper_answers(
        audit=audit,
        responses=exchange.read_paper_answers(
            audit,
            exchange.to_csv(
                ["respondent", "department", *keys(audit)],
                rows_of(audit, ["sales", "hr"]),
            ),
            "a.csv",
        ),
    )
    result = run("list", "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Readiness 2026" in line)
    assert str(audit.pk) in row
    assert "2 of 2" in row
    assert "Beta secret audit" not in result.stdout


def test_audit_results_print_the_scores_and_keep_small_departments_hidden(
    audit: Audit, tmp_path: Path
) -> None:
    departments = ["finance"] * 6 + ["sales"] * 5 + ["hr"] * 2
    path = sheet(audit, rows_of(audit, departments, "Fair"), tmp_path / "a.xlsx")
    assert run("import", audit.pk, path, "--org", "alpha").exit_code == 0
    result = run("results", audit.pk, "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "13 of 13 respondents submitted (response rate 100%)" in out
    assert "Take decisions and follow them through" in out
    assert "By role of KAM" in out
    assert "By role element" in out
    assert "Weakest areas" in out
    assert "pooled as Other departments" in out
    assert "Finance (n=6)" in out
    assert "Other departments (n=7)" in out
    assert "HR" not in out
    assert "Sales (n=" not in out


def test_audit_results_of_an_audit_without_answers_says_so(audit: Audit) -> None:
    result = run("results", audit.pk, "--org", "alpha")
    assert result.exit_code == 0
    assert "No submitted answers yet." in result.stdout


def test_audit_export_writes_csv_to_stdout_and_xlsx_to_a_file(audit: Audit, tmp_path: Path) -> None:
    path = sheet(audit, rows_of(audit, ["sales"] * 5), tmp_path / "in.xlsx")
    assert run("import", audit.pk, path, "--org", "alpha").exit_code == 0
    result = run("export", audit.pk, "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert table[0][:3] == ["section", "item", "text"]
    assert [r[1] for r in table[1 : 1 + len(keys(audit))]] == keys(audit)
    for what in ("results", "answers", "template"):
        out = tmp_path / f"{what}.xlsx"
        result = run(
            "export", audit.pk, "--org", "alpha", "--what", what, "--format", "xlsx", "-o", out
        )
        assert result.exit_code == 0, result.stderr
        assert f"wrote {out}" in result.stderr
        assert load_workbook(out, read_only=True).sheetnames


def test_audit_export_of_answers_names_nobody(personas: Personas, audit: Audit) -> None:
    for role in (Role.PARTICIPANT, Role.MANAGER, Role.ASSESSOR, Role.HR, Role.OWNER):
        respondent = services.invite_member(
            audit=audit, user=personas.a.users[role], department="sales"
        )
        answers = {
            i.pk: services.AnswerInput("poor", "my boss is the problem")
            for i in AuditItem.objects.filter(audit=audit)
        }
        services.save_answers(respondent=respondent, answers=answers, submit=True)
    result = run("export", audit.pk, "--org", "alpha", "--what", "answers")
    assert result.exit_code == 0, result.stderr
    text = result.stdout_bytes.decode("utf-8-sig")
    assert "R1" in text
    assert "R5" in text
    assert "alpha-" not in text
    assert "my boss" not in text


def test_audit_results_with_fewer_respondents_than_the_minimum_show_no_score(
    audit: Audit, tmp_path: Path
) -> None:
    path = sheet(audit, rows_of(audit, ["sales"] * 3, "Poor"), tmp_path / "a.xlsx")
    assert run("import", audit.pk, path, "--org", "alpha").exit_code == 0
    result = run("results", audit.pk, "--org", "alpha")
    assert result.exit_code == 0
    assert "3 of 3 respondents submitted" in result.stdout
    assert "at least 5 respondents" in result.stdout
    assert "Litmus test" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--what", "template", "--format", "csv"], "the answer sheet is XLSX only"),
        (["--format", "xlsx"], "write it with -o FILE"),
        (["--format", "pdf"], "pdf"),
    ],
)
def test_audit_export_refuses_options_that_do_not_fit(
    audit: Audit, args: list[str], message: str
) -> None:
    result = run("export", audit.pk, "--org", "alpha", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_audit_import_stores_a_good_file(audit: Audit, tmp_path: Path) -> None:
    path = sheet(
        audit, rows_of(audit, ["sales", "Finance", "Key account management"]), tmp_path / "a.xlsx"
    )
    before = stored()
    result = run("import", audit.pk, path, "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    assert f"imported 3 paper response(s) into audit {audit.pk}" in result.stdout
    assert stored() == (before[0] + 3, before[1] + 3 * len(keys(audit)))


def test_audit_import_of_a_broken_file_exits_1_naming_each_problem_and_stores_nothing(
    audit: Audit, tmp_path: Path
) -> None:
    rows = rows_of(audit, ["sales", "legal", "hr"])
    rows[2][3] = "=1+1"
    path = sheet(audit, rows, tmp_path / "bad [x].xlsx")
    before = stored()
    result = run("import", audit.pk, path, "--org", "alpha")
    assert result.exit_code == 1
    assert "2 problem(s); nothing was imported" in result.stderr
    assert "row 3, column department: unknown department 'legal'" in result.stderr
    assert f"row 4, column {keys(audit)[1]}: invalid rating '=1+1'" in result.stderr
    assert "bad [x].xlsx" in result.stderr
    assert stored() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "file: not a CSV or XLSX file"),
        ("respondent,department\r\nZoë,sales\r\n".encode("latin-1"), "file: not UTF-8 text"),
        (b" " * (exchange.max_upload_bytes() + 1), "file: larger than 10 MB"),
    ],
)
def test_audit_import_refuses_files_that_are_not_answer_sheets(
    audit: Audit, tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "answers.xlsx"
    path.write_bytes(data)
    before = stored()
    result = run("import", audit.pk, path, "--org", "alpha")
    assert result.exit_code == 1
    assert message in result.stderr
    assert stored() == before


def test_audit_import_into_a_closed_audit_exits_1(audit: Audit, tmp_path: Path) -> None:
    services.close_audit(audit=audit)
    path = sheet(audit, rows_of(audit, ["sales"]), tmp_path / "a.xlsx")
    before = stored()
    result = run("import", audit.pk, path, "--org", "alpha")
    assert result.exit_code == 1
    assert "This audit is closed." in result.stderr
    assert stored() == before


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["results", "{pk}"],
        ["export", "{pk}"],
        ["import", "{pk}", "{file}"],
    ],
)
def test_an_unknown_organisation_exits_2(audit: Audit, tmp_path: Path, command: list[str]) -> None:
    file = sheet(audit, rows_of(audit, ["sales"]), tmp_path / "a.xlsx")
    before = stored()
    args = [a.format(pk=audit.pk, file=file) for a in command]
    result = run(*args, "--org", "nosuch")
    assert result.exit_code == 2
    assert "--org 'nosuch': no such organisation" in result.stderr
    assert stored() == before


@pytest.mark.parametrize("command", [["results"], ["export"], ["import", "{file}"]])
def test_another_organisations_audit_is_unknown_and_exits_2(
    personas: Personas, audit: Audit, tmp_path: Path, command: list[str]
) -> None:
    file = sheet(audit, rows_of(audit, ["sales"]), tmp_path / "a.xlsx")
    before = stored()
    args = [a.format(file=file) for a in command]
    result = run(args[0], audit.pk, *args[1:], "--org", "beta")
    assert result.exit_code == 2
    assert f"audit {audit.pk}: no such audit in 'beta'" in result.stderr
    assert stored() == before


def test_audit_import_of_a_missing_file_exits_2(audit: Audit, tmp_path: Path) -> None:
    result = run("import", audit.pk, tmp_path / "nothing.xlsx", "--org", "alpha")
    assert result.exit_code == 2


def test_every_audit_command_and_option_has_help() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    group = root.commands["audit"]
    assert isinstance(group, TyperGroup)
    assert (group.help or "").strip()
    assert set(group.commands) == {"list", "results", "export", "import", "verify", "log"}
    for name, command in group.commands.items():
        assert (command.help or "").strip(), name
        for param in command.params:
            if param.name != "help":
                assert (getattr(param, "help", "") or "").strip(), f"{name} {param.name}"
