"""``kamfit assess …``: people, cycles, imports, results and release from the shell."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from kamfit import terminal
from kamfit.assessments import services
from kamfit.assessments.models import (
    Assessee,
    Cycle,
    CycleStatus,
    Person,
    PsychometricResult,
    QuickCheck,
    Rater,
    RatingForm,
)
from kamfit.cli import app
from kamfit.domain.development import shipped_quick_check
from kamfit.orgs.models import Role
from tests.conftest import Personas, Team, published_profile

pytestmark = pytest.mark.django_db

HR = "alpha-hr"
OWNER = "alpha-owner"
DIRECTOR = "alpha-director"
MANAGER = "alpha-manager"
PARTICIPANT = "alpha-participant"
ASSESSOR = "alpha-assessor"
ATTRIBUTE = "calculated-risk-taking"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns off a terminal, which would split the messages checked."""
    for console in (terminal.out, terminal.err):
        monkeypatch.setattr(console, "_width", 250)


def run(*args: str | Path | int, user: str = HR, org: str = "alpha") -> Result:
    return CliRunner().invoke(app, ["assess", *(str(a) for a in args), "--org", org, "--as", user])


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), "utf-8")
    return path


def keys(team: Team) -> list[str]:
    return list(
        team.profile.requirements.filter(included=True)
        .order_by("position", "id")
        .values_list("competency__key", flat=True)
    )


def ratings_file(tmp_path: Path, team: Team, level: object = 3) -> Path:
    rows: list[list[object]] = [["person", "rater", "source", "competency", "level", "evidence"]]
    rows += [["kam-2", ASSESSOR, "other", key, level, f"Saw {key}"] for key in keys(team)]
    return write_csv(tmp_path / "ratings.csv", rows)


# --- people ----------------------------------------------------------------------------------


def test_people_lists_everyone_for_hr_and_only_themself_for_a_participant(team: Team) -> None:
    everyone = run("people")
    assert everyone.exit_code == 0, everyone.stderr
    for reference in ("mgr-1", "kam-1", "kam-2", "kam-3", "kam-4"):
        assert reference in everyone.stdout
    mine = run("people", user=PARTICIPANT)
    assert mine.exit_code == 0, mine.stderr
    assert "kam-1" in mine.stdout
    assert "Casey Colleague" not in mine.stdout
    assert "kam-2" not in mine.stdout


def test_people_as_csv_is_the_import_format_and_needs_manage_people(team: Team) -> None:
    result = run("people", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert rows[0][:2] == ["reference", "name"]
    assert len(rows) == 6
    refused = run("people", "--format", "csv", user=PARTICIPANT)
    assert refused.exit_code == 2
    assert "may not export people" in refused.stderr


def test_import_people_creates_and_updates(team: Team, tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "people.csv",
        [["reference", "name", "manager"], ["kam-2", "Casey C.", "mgr-1"], ["kam-9", "Nova", ""]],
    )
    result = run("import-people", file)
    assert result.exit_code == 0, result.stderr
    assert "imported people: 1 new, 1 updated" in result.stdout
    assert Person.objects.get(reference="kam-2").name == "Casey C."


def test_a_participant_may_not_import_people(team: Team, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "people.csv", [["reference", "name"], ["kam-9", "Nova"]])
    result = run("import-people", file, user=PARTICIPANT)
    assert result.exit_code == 2
    assert "may not import people" in result.stderr
    assert not Person.objects.filter(reference="kam-9").exists()


def test_a_bad_people_file_names_row_and_column_and_imports_nothing(
    team: Team, tmp_path: Path
) -> None:
    file = write_csv(
        tmp_path / "people.csv",
        [["reference", "name", "kind"], ["kam-9", "Nova", "kam"], ["kam-10", "Otto", "boss"]],
    )
    result = run("import-people", file)
    assert result.exit_code == 1
    assert "1 problem(s); nothing was imported" in result.stderr
    assert "row 3, column kind: unknown kind 'boss'" in result.stderr
    assert not Person.objects.filter(reference="kam-9").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)), "not a CSV or XLSX file"),
        (b"reference,name\r\n" + b" " * (10 * 1024 * 1024 + 1), "larger than 10 MB"),
    ],
)
def test_an_unreadable_or_oversized_file_is_refused_naming_the_file(
    team: Team, tmp_path: Path, content: bytes, reason: str
) -> None:
    file = tmp_path / "people.xlsx"
    file.write_bytes(content)
    for command in ("import-people", "import-psychometrics"):
        result = run(command, file)
        assert result.exit_code == 1, command
        assert f"file: {reason}" in result.stderr
    result = run("import-ratings", team.cycle.pk, file)
    assert result.exit_code == 1
    assert f"file: {reason}" in result.stderr
    assert Person.objects.count() == 5


def test_import_psychometrics_stores_results(team: Team, tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "psy.csv",
        [
            ["person", "attribute", "provider", "scale", "value", "assessed_on"],
            ["kam-1", ATTRIBUTE, "Talent Q", "sten", "8", "2026-01-15"],
        ],
    )
    result = run("import-psychometrics", file)
    assert result.exit_code == 0, result.stderr
    assert "imported 1 psychometric result(s)" in result.stdout
    assert PsychometricResult.objects.filter(person=team.kam).count() == 1
    refused = run("import-psychometrics", file, user=MANAGER)
    assert refused.exit_code == 2
    assert PsychometricResult.objects.count() == 1


def test_quick_check_records_yes_and_no_answers(team: Team) -> None:
    questions = [q.key for q in shipped_quick_check().questions]
    result = run(
        "quick-check", "kam-2", "--yes", f"{questions[0]},{questions[1]}", "--no", questions[2]
    )
    assert result.exit_code == 0, result.stderr
    assert "2 yes of 3 answered" in result.stdout
    check = QuickCheck.objects.get(person=team.colleague)
    assert check.answers[questions[2]] is False
    assert check.answers[questions[3]] is None


def test_quick_check_by_the_line_manager_but_not_by_a_participant(team: Team) -> None:
    question = shipped_quick_check().questions[0].key
    assert run("quick-check", "kam-2", "--yes", question, user=MANAGER).exit_code == 0
    refused = run("quick-check", "kam-1", "--yes", question, user=PARTICIPANT)
    assert refused.exit_code == 2
    assert "may record a quick check only for your direct reports" in refused.stderr
    hidden = run("quick-check", "kam-2", "--yes", question, user=PARTICIPANT)
    assert hidden.exit_code == 2
    assert "no such person" in hidden.stderr
    assert QuickCheck.objects.count() == 1


def test_quick_check_names_unknown_questions(team: Team) -> None:
    result = run("quick-check", "kam-2", "--yes", "telepathy")
    assert result.exit_code == 2
    assert "unknown question(s) telepathy" in result.stderr
    assert not QuickCheck.objects.exists()


# --- cycles ----------------------------------------------------------------------------------


def test_cycles_lists_the_organisations_cycles_only(team: Team, personas: Personas) -> None:
    other = published_profile(personas.b, "Beta profile")
    services.create_cycle(personas.b.org, None, title="Beta secret cycle", profile_version=other)
    result = run("cycles")
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Spring review" in line)
    assert str(team.cycle.pk) in row
    assert "open" in row
    assert "Beta secret cycle" not in result.stdout
    assert run("cycles", user=PARTICIPANT).exit_code == 2


def test_create_cycle_adds_people_with_their_default_raters(team: Team) -> None:
    key = team.profile.profile.key
    result = run(
        "create-cycle",
        "--profile",
        key,
        "--title",
        "Autumn",
        "--person",
        "kam-1",
        "--person",
        "kam-4",
    )
    assert result.exit_code == 0, result.stderr
    cycle = Cycle.objects.get(title="Autumn")
    assert f"created cycle {cycle.pk} 'Autumn' (draft)" in result.stdout
    assert cycle.profile_version == team.profile
    assert set(cycle.assessees.values_list("person__reference", flat=True)) == {"kam-1", "kam-4"}
    # kam-1: self and line manager; kam-4 has neither an account nor a manager
    assert Rater.objects.filter(assessee__cycle=cycle).count() == 2
    assert "2 people, 2 raters" in result.stdout


def test_create_cycle_refuses_unknown_people_and_profiles(team: Team) -> None:
    key = team.profile.profile.key
    unknown = run("create-cycle", "--profile", key, "--title", "X", "--person", "nobody")
    assert unknown.exit_code == 2
    assert "no such person in 'alpha': nobody" in unknown.stderr
    no_profile = run("create-cycle", "--profile", "ceo", "--title", "X")
    assert no_profile.exit_code == 2
    assert "--profile 'ceo'" in no_profile.stderr
    assert run("create-cycle", "--profile", key, "--title", "X", user=PARTICIPANT).exit_code == 2
    assert Cycle.objects.count() == 1


def test_add_rater_open_and_close(team: Team) -> None:
    key = team.profile.profile.key
    run("create-cycle", "--profile", key, "--title", "Autumn", "--person", "kam-3")
    cycle = Cycle.objects.get(title="Autumn")
    added = run("add-rater", cycle.pk, "kam-3", "alpha-peer1", "--source", "peer")
    assert added.exit_code == 0, added.stderr
    assert Rater.objects.get(assessee__cycle=cycle, user__username="alpha-peer1").source == "peer"
    again = run("add-rater", cycle.pk, "kam-3", "alpha-peer1")
    assert again.exit_code == 1
    assert "username: alpha-peer1 already rates this person" in again.stderr
    missing = run("add-rater", cycle.pk, "kam-2", "alpha-peer1")
    assert missing.exit_code == 2
    assert f"not in cycle {cycle.pk}: kam-2" in missing.stderr
    assert run("open", cycle.pk).exit_code == 0
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.OPEN
    twice = run("open", cycle.pk)
    assert twice.exit_code == 1
    assert "Only a cycle being prepared can be opened" in twice.stderr
    assert run("close", cycle.pk).exit_code == 0
    assert Cycle.objects.get(pk=cycle.pk).status == CycleStatus.CLOSED


def test_another_organisations_cycle_is_no_such_cycle(team: Team, personas: Personas) -> None:
    other = published_profile(personas.b, "Beta profile")
    theirs = services.create_cycle(personas.b.org, None, title="Beta", profile_version=other)
    for args in (("open", theirs.pk), ("results", theirs.pk), ("release", theirs.pk, "--all")):
        result = run(*args)
        assert result.exit_code == 2, args
        assert f"cycle {theirs.pk}: no such assessment cycle in 'alpha'" in result.stderr
    assert Cycle.objects.get(pk=theirs.pk).status == CycleStatus.DRAFT


def test_import_ratings_stores_forms(team: Team, tmp_path: Path) -> None:
    result = run("import-ratings", team.cycle.pk, ratings_file(tmp_path, team))
    assert result.exit_code == 0, result.stderr
    assert f"imported 1 rating form(s) into cycle {team.cycle.pk}" in result.stdout
    form = RatingForm.objects.get(rater__user__username=ASSESSOR)
    assert form.status == "submitted"


def test_a_bad_ratings_file_names_row_and_column(team: Team, tmp_path: Path) -> None:
    result = run("import-ratings", team.cycle.pk, ratings_file(tmp_path, team, level=9))
    assert result.exit_code == 1
    assert "row 2, column level: must be a level from 1 to" in result.stderr
    assert not RatingForm.objects.exists()


def test_import_ratings_into_another_organisations_cycle_is_refused(
    team: Team, personas: Personas, tmp_path: Path
) -> None:
    other = published_profile(personas.b, "Beta profile")
    theirs = services.create_cycle(personas.b.org, None, title="Beta", profile_version=other)
    result = run("import-ratings", theirs.pk, ratings_file(tmp_path, team))
    assert result.exit_code == 2
    assert "no such assessment cycle" in result.stderr
    assert not RatingForm.objects.exists()


# --- results and release ---------------------------------------------------------------------


def submitted(team: Team) -> Team:
    team.submit(team.kam, team.side.users[Role.MANAGER], 4)
    for peer, level in zip(team.peers, (2, 3, 4), strict=True):
        team.submit(team.kam, peer, level)
    return team


def test_results_show_the_teams_fit_coverage_and_band(team: Team) -> None:
    submitted(team)
    result = run("results", team.cycle.pk)
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "kam-1" in line)
    assert "100" in row  # coverage
    assert "4/5" in row  # forms submitted of raters asked
    assert "Not enough evidence" in next(
        line for line in result.stdout.splitlines() if "kam-4" in line
    )


def test_results_as_csv_and_json(team: Team) -> None:
    submitted(team)
    as_csv = run("results", team.cycle.pk, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.stderr
    rows = list(csv.reader(io.StringIO(as_csv.stdout.lstrip("\ufeff"))))
    assert rows[0][:5] == ["reference", "name", "fit %", "coverage %", "band"]
    as_json = run("results", team.cycle.pk, "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    kam = next(p for p in document["people"] if p["reference"] == "kam-1")
    assert kam["coverage"] == 100.0
    assert set(kam["combined"]) == set(keys(team))


def test_one_persons_results_show_each_requirement_and_credit_the_paper(team: Team) -> None:
    submitted(team)
    team.submit(team.kam, team.side.users[Role.PARTICIPANT], 5)
    result = run("results", team.cycle.pk, "--person", "kam-1")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Pat Participant (kam-1) — fit" in out
    assert "Negotiation" in out
    assert "blind spot" in out  # self 5 against others at about 3.3
    assert "Source: Woodburn, D. (2006)" in out
    as_json = json.loads(
        run("results", team.cycle.pk, "--person", "kam-1", "--format", "json").stdout
    )
    line = next(r for r in as_json["requirements"] if r["key"] == "negotiation")
    assert line["self"] == 5.0
    assert line["flag"] == "blind spot"
    assert as_json["source"].startswith("Woodburn")


def test_a_participant_sees_their_own_results_only_once_released(team: Team) -> None:
    submitted(team)
    before = run("results", team.cycle.pk, "--person", "kam-1", user=PARTICIPANT)
    assert before.exit_code == 2
    assert "no result for 'kam-1'" in before.stderr
    assert run("results", team.cycle.pk, user=PARTICIPANT).exit_code == 2  # not the team's
    assert run("release", team.cycle.pk, "--person", "kam-1", user=HR).exit_code == 0
    after = run("results", team.cycle.pk, "--person", "kam-1", user=PARTICIPANT)
    assert after.exit_code == 0, after.stderr
    assert "Pat Participant" in after.stdout
    colleague = run("results", team.cycle.pk, "--person", "kam-2", user=PARTICIPANT)
    assert colleague.exit_code == 2


def test_release_needs_the_release_permission(team: Team) -> None:
    refused = run("release", team.cycle.pk, "--all", user=DIRECTOR)
    assert refused.exit_code == 2
    assert "may not release results" in refused.stderr
    assert not Assessee.objects.filter(released_at__isnull=False).exists()
    result = run("release", team.cycle.pk, "--all", user=OWNER)
    assert result.exit_code == 0, result.stderr
    assert "released the results of 4 people" in result.stdout
    assert not Assessee.objects.filter(cycle=team.cycle, released_at__isnull=True).exists()


def test_release_takes_people_or_all_but_not_both(team: Team) -> None:
    assert run("release", team.cycle.pk).exit_code == 2
    assert run("release", team.cycle.pk, "--all", "--person", "kam-1").exit_code == 2
    unknown = run("release", team.cycle.pk, "--person", "nobody")
    assert unknown.exit_code == 2
    assert "nobody" in unknown.stderr
    assert not Assessee.objects.filter(released_at__isnull=False).exists()


def test_an_unknown_member_or_organisation_exits_2(team: Team) -> None:
    stranger = run("cycles", user="beta-hr")
    assert stranger.exit_code == 2
    assert "not an active member of 'alpha'" in stranger.stderr
    nowhere = run("cycles", org="nowhere")
    assert nowhere.exit_code == 2
    assert "no such organisation" in nowhere.stderr
