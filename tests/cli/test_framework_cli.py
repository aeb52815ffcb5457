"""The ``kamfit`` command: ``kamfit framework …`` and the hand-over to Django."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from kamfit import terminal
from kamfit.cli import app
from kamfit.domain import framework as fw
from kamfit.frameworks.models import Framework
from kamfit.frameworks.queries import get_version_document
from tests.conftest import Personas

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = fw.shipped()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns off a terminal, which would split the messages checked."""
    for console in (terminal.out, terminal.err):
        monkeypatch.setattr(console, "_width", 250)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def shipped_data() -> dict[str, Any]:
    return fw.to_data(SHIPPED)


def test_framework_list_shows_the_shipped_framework_with_16_elements() -> None:
    result = run("framework", "list")
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "warwick-2006" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[0] == "warwick-2006"
    assert cells[2:5] == ["3", "16", "54"]


def test_framework_show_reads_like_the_paper_and_cites_the_source() -> None:
    result = run("framework", "show")
    assert result.exit_code == 0
    for role in SHIPPED.roles:
        assert role.title in result.stdout
    for element in SHIPPED.elements:
        assert f"{element.label} — {element.title}" in result.stdout
    assert "Source: Woodburn, D. (2006)" in result.stdout


def test_framework_show_element_prints_both_sides_and_the_competencies() -> None:
    result = run("framework", "show", "--element", "risk")
    assert result.exit_code == 0
    out = result.stdout
    risk = next(e for e in SHIPPED.elements if e.key == "risk")
    assert "Role of company" in out
    assert "Role of key account manager" in out
    assert "Competencies/attributes" in out
    for item in (*risk.company, *risk.kam):
        assert item.text in out
    for citation in risk.citations:
        refs = ", ".join(f"{r} ({SHIPPED.competency(r).kind.value})" for r in citation.refs)
        assert f"{citation.wording} → {refs}" in out
    other = next(e for e in SHIPPED.elements if e.key == "strategy")
    assert other.title not in out
    assert "Woodburn" in out


def test_framework_show_an_unknown_element_exits_2() -> None:
    result = run("framework", "show", "--element", "nosuch")
    assert result.exit_code == 2
    assert "nosuch" in result.stderr


@pytest.mark.parametrize("fmt", ["yaml", "json", "case"])
def test_framework_export_round_trips_to_an_equal_framework(fmt: str) -> None:
    result = run("framework", "export", "--format", fmt)
    assert result.exit_code == 0
    assert fw.loads(result.stdout, fmt) == SHIPPED


def test_framework_export_output_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    result = run("framework", "export", "--format", "case", "-o", target)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    assert "CFDocument" in json.loads(target.read_text("utf-8"))
    assert fw.loads(target.read_text("utf-8"), "auto") == SHIPPED


def test_framework_validate_accepts_a_good_file(tmp_path: Path) -> None:
    result = run("framework", "validate", write(tmp_path / "good.yaml", shipped_data()))
    assert result.exit_code == 0
    assert "valid — 3 roles, 16 role elements, 54 competencies" in result.stdout


def _unknown_ref(d: dict[str, Any]) -> None:
    d["roles"][0]["elements"][0]["competencies"][0]["refs"][0] = "no-such-competency"


def _duplicate_id(d: dict[str, Any]) -> None:
    d["roles"][0]["elements"][1]["key"] = d["roles"][0]["elements"][0]["key"]


def _empty_title(d: dict[str, Any]) -> None:
    d["roles"][1]["title"] = "   "


def _wrong_kind(d: dict[str, Any]) -> None:
    d["competencies"][3]["kind"] = "B"


BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unknown-competency": (
        _unknown_ref,
        "roles[0].elements[0].competencies[0].refs[0]: unknown competency 'no-such-competency'",
    ),
    "duplicate-id": (_duplicate_id, "roles[0].elements[1].key: duplicate id 'strategy'"),
    "empty-title": (_empty_title, "roles[1].title: empty text"),
    "wrong-kind": (_wrong_kind, "competencies[3].kind: wrong kind 'B': use C, A or C/A"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_framework_validate_names_the_problem_and_its_location(tmp_path: Path, case: str) -> None:
    mutate, problem = BROKEN[case]
    data = shipped_data()
    mutate(data)
    result = run("framework", "validate", write(tmp_path / "broken.yaml", data))
    assert result.exit_code == 1
    assert "1 problem(s)" in result.stderr
    assert problem in result.stderr


@pytest.mark.parametrize(
    "cases", [("empty-title", "wrong-kind"), ("unknown-competency", "duplicate-id")]
)
def test_framework_validate_lists_every_problem_of_a_file(
    tmp_path: Path, cases: tuple[str, ...]
) -> None:
    data = shipped_data()
    for case in cases:
        BROKEN[case][0](data)
    result = run("framework", "validate", write(tmp_path / "broken.yaml", data))
    assert result.exit_code == 1
    assert f"{len(cases)} problem(s)" in result.stderr
    for case in cases:
        assert BROKEN[case][1] in result.stderr


def test_framework_validate_reports_invalid_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("key: [unclosed\ntitle: x\n", "utf-8")
    result = run("framework", "validate", path)
    assert result.exit_code == 1
    assert "(file): not valid YAML" in result.stderr


def test_an_empty_title_is_reported_once(tmp_path: Path) -> None:
    data = shipped_data()
    data["roles"][1]["title"] = ""
    result = run("framework", "validate", write(tmp_path / "empty.yaml", data))
    assert result.stderr.count("roles[1].title: empty text") == 1


def test_framework_validate_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Überblick\n".encode("latin-1"))
    result = run("framework", "validate", path)
    assert result.exit_code == 2  # unreadable input, like a missing file
    assert "not UTF-8 text (byte 7)" in result.stderr


def test_framework_validate_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("framework", "validate", tmp_path / "missing.yaml")
    assert result.exit_code == 2
    assert "neither a file nor a shipped framework" in result.stderr


def test_framework_validate_names_a_file_with_brackets_exactly(tmp_path: Path) -> None:
    data = shipped_data()
    _empty_title(data)
    path = write(tmp_path / "fw[draft].yaml", data)
    assert f"{path}: 1 problem(s)" in run("framework", "validate", path).stderr


def test_framework_diff_lists_a_renamed_competency(tmp_path: Path) -> None:
    data = shipped_data()
    first = data["competencies"][0]
    old_name, first["name"] = first["name"], "Sharp analysis"
    result = run("framework", "diff", "warwick-2006", write(tmp_path / "new.yaml", data))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"~ competency {first['key']} name: {old_name} → Sharp analysis"
    ]
    assert "1 change(s)" in result.stderr


def test_framework_import_creates_a_draft_in_the_organisation(
    personas: Personas, tmp_path: Path
) -> None:
    data = shipped_data() | {"key": "imported", "title": "Imported framework"}
    count = Framework.objects.count()
    result = run("framework", "import", write(tmp_path / "in.yaml", data), "--org", "alpha")
    assert result.exit_code == 0
    assert Framework.objects.count() == count + 1
    created = Framework.objects.get(organisation=personas.a.org, key="imported")
    assert f"as framework {created.pk}, draft v1, in alpha" in result.stdout
    assert [(v.number, v.status) for v in created.versions.all()] == [(1, "draft")]
    assert get_version_document(created.versions.get()).competencies == SHIPPED.competencies


def test_framework_import_of_a_broken_file_imports_nothing(
    personas: Personas, tmp_path: Path
) -> None:
    data = shipped_data()
    _unknown_ref(data)
    count = Framework.objects.count()
    result = run("framework", "import", write(tmp_path / "bad.yaml", data), "--org", "alpha")
    assert result.exit_code == 1
    assert "roles[0].elements[0].competencies[0].refs[0]" in result.stderr
    assert Framework.objects.count() == count


@pytest.mark.parametrize("command", [["import", "{file}"], ["list"]])
def test_an_unknown_organisation_exits_2(
    personas: Personas, tmp_path: Path, command: list[str]
) -> None:
    file = write(tmp_path / "in.yaml", shipped_data())
    count = Framework.objects.count()
    args = [a.format(file=file) for a in command]
    result = run("framework", *args, "--org", "nosuch")
    assert result.exit_code == 2
    assert "--org 'nosuch': no such organisation" in result.stderr
    assert Framework.objects.count() == count


def test_framework_list_for_an_organisation_hides_the_other_ones(personas: Personas) -> None:
    result = run("framework", "list", "--org", "alpha")
    assert result.exit_code == 0
    assert "Alpha KAM framework" in result.stdout
    assert "(library)" in result.stdout
    assert "Beta" not in result.stdout


def test_stored_frameworks_are_read_only_from_their_own_organisation(
    personas: Personas,
) -> None:
    a, b = personas.a, personas.b
    mine = run("framework", "export", f"{a.framework.pk}@1", "--format", "json", "--org", "alpha")
    assert mine.exit_code == 0
    assert fw.loads(mine.stdout, "json") == get_version_document(a.published)
    theirs = run("framework", "export", f"{b.framework.pk}@1", "--org", "alpha")
    assert theirs.exit_code == 2
    assert "no such framework in 'alpha'" in theirs.stderr


def test_kamfit_hands_unknown_commands_to_django(tmp_path: Path) -> None:
    code = "from kamfit.cli import main; import sys; sys.argv=['kamfit','check']; main()"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kamfit.web.test_settings",
        "KAMFIT_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def _commands(
    group: TyperGroup, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf command of a group, with its words after ``kamfit``."""
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            assert (command.help or "").strip(), name
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_command_has_help_and_is_documented() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    commands = dict(_commands(root))
    assert {("framework", "import"), ("demo",), ("serve",)} <= set(commands)
    files = sorted(p for p in (ROOT / "docs").rglob("*") if p.is_file())
    docs = "\n".join(p.read_text("utf-8", errors="replace") for p in files)
    for words, command in commands.items():
        usage = " ".join(("kamfit", *words))
        assert (command.help or "").strip(), usage
        assert re.search(rf"{re.escape(usage)}(?![\w-])", docs), f"{usage} is not in docs/"
