"""``kamfit profile …``: role profiles and weighting exercises from the shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from kamfit import terminal
from kamfit.cli import app
from kamfit.orgs.models import Role
from kamfit.profiles import services
from kamfit.profiles.models import (
    Participant,
    Profile,
    ProfileVersion,
    Requirement,
    WeightingExercise,
)
from tests.conftest import Personas, Side

pytestmark = pytest.mark.django_db

RISK = ("financially-aware", "negotiation", "calculated-risk-taking")


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns off a terminal, which would split the messages checked."""
    for console in (terminal.out, terminal.err):
        monkeypatch.setattr(console, "_width", 250)


def run(*args: str | Path | int) -> Result:
    return CliRunner().invoke(app, ["profile", *(str(a) for a in args)])


def drafted(
    side: Side, title: str = "Global account manager", element: str = "risk"
) -> ProfileVersion:
    return services.create_profile(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        framework_version=side.published,
        title=title,
        element_keys=[element],
    )


def published(side: Side, title: str = "Global account manager") -> ProfileVersion:
    version = drafted(side, title)
    services.publish_version(version, side.users[Role.DIRECTOR])
    version.refresh_from_db()
    return version


def weights(version: ProfileVersion) -> dict[str, tuple[int, float]]:
    rows = Requirement.objects.filter(version=version, included=True).select_related("competency")
    return {r.competency.key: (r.required_level, r.weight) for r in rows}


def stored() -> tuple[list[object], ...]:
    return (
        list(ProfileVersion.objects.values_list("id", "status", "title", "weights_origin")),
        list(Requirement.objects.values_list("id", "required_level", "weight")),
        list(WeightingExercise.objects.values_list("id", "status", "adopted_at")),
    )


@pytest.fixture
def version(personas: Personas) -> ProfileVersion:
    return published(personas.a)


def ahp_exercise(side: Side, version: ProfileVersion) -> WeightingExercise:
    exercise = services.open_exercise(
        organisation=side.org,
        user=side.users[Role.HR],
        version=version,
        title="Board weights",
        method="ahp",
    )
    hr, owner = services.invite_participants(
        exercise, [(side.users[Role.HR], "hr"), (side.users[Role.OWNER], "senior_management")]
    )
    services.save_answers(hr, {"g1": {"0-1": 2, "0-2": 4, "1-2": 2}}, submit=True)
    services.save_answers(owner, {"g1": {"0-1": 9, "0-2": 1 / 9, "1-2": 9}}, submit=True)
    return exercise


# --- Reading -----------------------------------------------------------------------------------


def test_profile_list_shows_the_organisations_profiles_only(
    personas: Personas, version: ProfileVersion
) -> None:
    services.start_new_draft(version.profile, personas.a.users[Role.HR])
    published(personas.b, "Beta secret profile")
    result = run("list", "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Global account manager" in line)
    assert str(version.profile_id) in row
    assert "v1 published, v2 draft" in row
    assert "Beta secret profile" not in result.stdout


def test_profile_show_prints_requirements_levels_weights_time_and_their_source(
    personas: Personas, version: ProfileVersion
) -> None:
    result = run("show", version.profile_id, "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"Global account manager — profile {version.profile_id}, version 1 (published" in out
    negotiation = next(line for line in out.splitlines() if "negotiation" in line)
    assert "3 Proficient" in negotiation
    assert "33.3%" in negotiation
    assert "Weights: Equal weights (the paper's unweighted list)" in out
    assert "Time allocation" in out
    assert "Selling: prospecting, proposals, negotiating deals" in out
    assert "Selling limit: 10%" in out


def test_profile_show_reads_a_given_version_and_refuses_unknown_ones(
    personas: Personas, version: ProfileVersion
) -> None:
    draft = services.start_new_draft(version.profile, personas.a.users[Role.HR])
    services.update_details(draft, title="Renamed draft")
    latest = run("show", version.profile_id, "--org", "alpha")
    assert "Renamed draft" in latest.stdout
    first = run("show", version.profile_id, "--org", "alpha", "--version", 1)
    assert "Global account manager" in first.stdout
    missing = run("show", version.profile_id, "--org", "alpha", "--version", 7)
    assert missing.exit_code == 2
    assert f"profile {version.profile_id}: no version 7" in missing.stderr
    beta = published(personas.b, "Beta secret")
    foreign = run("show", beta.profile_id, "--org", "alpha")
    assert foreign.exit_code == 2
    assert f"profile {beta.profile_id}: no such profile in 'alpha'" in foreign.stderr
    assert "Beta secret" not in foreign.stdout
    assert run("show", 1, "--org", "gamma").exit_code == 2


def test_job_description_is_markdown_on_stdout_or_a_pdf_or_docx_file(
    version: ProfileVersion, tmp_path: Path
) -> None:
    result = run("job-description", version.profile_id, "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("#")
    assert "Global account manager" in result.stdout
    refused = run("job-description", version.profile_id, "--org", "alpha", "--format", "pdf")
    assert refused.exit_code == 2
    assert "--format pdf: the document is binary; write it with -o FILE" in refused.stderr
    for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK"), ("md", b"#")):
        path = tmp_path / f"jd.{fmt}"
        done = run(
            "job-description", version.profile_id, "--org", "alpha", "--format", fmt, "-o", path
        )
        assert done.exit_code == 0, done.stderr
        assert path.read_bytes().startswith(magic)
        assert f"wrote {path}" in done.stderr


def test_compare_with_the_paper_and_with_another_version(
    personas: Personas, version: ProfileVersion
) -> None:
    paper = run("compare", version.pk, "paper", "--org", "alpha")
    assert paper.exit_code == 0, paper.stderr
    assert "Global account manager v1 against paper" in paper.stdout
    assert "Negotiation" in paper.stdout
    other = drafted(personas.a, "Planner", "planning")
    result = run("compare", version.pk, other.pk, "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    assert "against Planner v1" in result.stdout
    negotiation = next(line for line in result.stdout.splitlines() if "Negotiation" in line)
    assert "-33.3" in negotiation
    beta = published(personas.b)
    foreign = run("compare", version.pk, beta.pk, "--org", "alpha")
    assert foreign.exit_code == 2
    assert f"VERSION-ID|paper {beta.pk}: no such profile version in 'alpha'" in foreign.stderr
    bad = run("compare", "first", "paper", "--org", "alpha")
    assert bad.exit_code == 2
    assert "VERSION-ID 'first': a profile version's ID is needed" in bad.stderr


# --- Changing, as a member ---------------------------------------------------------------------


def test_create_makes_a_draft_as_the_member_named(personas: Personas) -> None:
    a = personas.a
    result = run(
        "create",
        "--org",
        "alpha",
        "--as",
        "alpha-consultant",
        "--framework-version",
        a.published.pk,
        "--title",
        "Key account director",
        "--element",
        "risk",
        "--element",
        "planning",
    )
    assert result.exit_code == 0, result.stderr
    version = ProfileVersion.objects.get()
    assert f"created profile {version.profile_id}, draft v1 (ID {version.pk})" in result.stdout
    assert "with 11 requirements" in result.stdout
    assert version.created_by == a.users[Role.CONSULTANT]
    assert version.profile.organisation == a.org


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--as", "alpha-participant"), 2, "Your role (Participant) may not create role profiles."),
        (("--as", "beta-owner"), 2, "--as 'beta-owner': not an active member of 'alpha'"),
        (("--as", "nobody"), 2, "--as 'nobody': no such user"),
        (("--element", "nope"), 1, "elements: not role elements of"),
        (("--title", " "), 1, "title: a title is needed"),
        (("--framework-version", 0), 2, "--framework-version 0: no such framework version"),
    ],
    ids=["participant", "other-org", "unknown-user", "unknown-element", "blank-title", "version"],
)
def test_create_refuses_bad_input_and_roles_that_may_not(
    personas: Personas, args: tuple[str | int, ...], code: int, message: str
) -> None:
    defaults = {
        "--as": "alpha-director",
        "--framework-version": personas.a.published.pk,
        "--title": "T",
        "--element": "risk",
    }
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [str(x) for pair in (defaults | given).items() for x in pair]
    result = run("create", "--org", "alpha", *argv)
    assert result.exit_code == code
    assert message in result.stderr
    assert not Profile.objects.exists()


def test_weights_set_some_levels_and_weights_and_keep_the_others(
    personas: Personas,
) -> None:
    draft = drafted(personas.a)
    result = run(
        "weights",
        draft.profile_id,
        "--org",
        "alpha",
        "--as",
        "alpha-hr",
        "--set",
        "financially-aware=4:50",
        "--set",
        "negotiation=5:16.66",
    )
    assert result.exit_code == 0, result.stderr
    assert weights(draft) == {
        "financially-aware": (4, 50.0),
        "negotiation": (5, 16.66),
        "calculated-risk-taking": (3, 33.33),
    }
    draft.refresh_from_db()
    assert draft.weights_origin == "manual"
    equal = run("weights", draft.profile_id, "--org", "alpha", "--as", "alpha-hr", "--equal")
    assert equal.exit_code == 0, equal.stderr
    assert {w for _, w in weights(draft).values()} == {33.34, 33.33}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--set", "negotiation=3:90"), 1, "weights: weights sum to 156.67, not 100"),
        (("--set", "negotiation=8:33.33"), 1, "requirements.negotiation.level: must be one of"),
        (("--set", "nope=3:0"), 1, "requirements.nope: not a requirement of this profile"),
        (("--set", "negotiation:3=10"), 2, "--set 'negotiation:3=10': write KEY=LEVEL:WEIGHT"),
        ((), 2, "give either --set KEY=LEVEL:WEIGHT (one or more) or --equal"),
        (("--equal", "--set", "a=1:1"), 2, "give either --set"),
        (("--equal", "--as", "alpha-manager"), 2, "Your role (Line manager) may not edit this."),
    ],
    ids=["sum", "level", "unknown", "syntax", "neither", "both", "manager"],
)
def test_weights_refuse_bad_input_and_change_nothing(
    personas: Personas, args: tuple[str, ...], code: int, message: str
) -> None:
    draft = drafted(personas.a)
    before = stored()
    acting = () if "--as" in args else ("--as", "alpha-owner")
    result = run("weights", draft.profile_id, "--org", "alpha", *acting, *args)
    assert result.exit_code == code, result.stdout
    assert message in result.stderr
    assert stored() == before


def test_publish_and_start_the_next_draft(personas: Personas) -> None:
    draft = drafted(personas.a)
    pk = draft.profile_id
    refused = run("publish", pk, "--org", "alpha", "--as", "alpha-consultant")
    assert refused.exit_code == 2
    assert "--as alpha-consultant: Your role (Consultant) may not publish this." in refused.stderr
    result = run("publish", pk, "--org", "alpha", "--as", "alpha-director")
    assert result.exit_code == 0, result.stderr
    assert f"published profile {pk} v1" in result.stdout
    draft.refresh_from_db()
    assert (draft.status, draft.published_by) == ("published", personas.a.users[Role.DIRECTOR])
    again = run("publish", pk, "--org", "alpha", "--as", "alpha-director")
    assert again.exit_code == 1
    assert f"profile {pk} has no draft: start one with kamfit profile draft {pk}" in again.stderr
    weights_without_draft = run("weights", pk, "--org", "alpha", "--as", "alpha-hr", "--equal")
    assert weights_without_draft.exit_code == 1
    started = run("draft", pk, "--org", "alpha", "--as", "alpha-hr")
    assert started.exit_code == 0, started.stderr
    assert f"profile {pk}: draft v2" in started.stdout
    assert ProfileVersion.objects.filter(profile_id=pk, status="draft").count() == 1


def test_a_draft_that_breaks_the_rules_is_not_published(personas: Personas) -> None:
    draft = drafted(personas.a)
    Requirement.objects.filter(version=draft).update(weight=10)
    result = run("publish", draft.profile_id, "--org", "alpha", "--as", "alpha-owner")
    assert result.exit_code == 1
    assert "weights: weights sum to 30, not 100" in result.stderr
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_another_organisations_profile_is_unknown_to_a_member(personas: Personas) -> None:
    beta = drafted(personas.b)
    before = stored()
    for command in ("publish", "draft"):
        result = run(command, beta.profile_id, "--org", "alpha", "--as", "alpha-owner")
        assert result.exit_code == 2
        assert "No such profile" in result.stderr
    result = run("weights", beta.profile_id, "--org", "alpha", "--as", "alpha-owner", "--equal")
    assert result.exit_code == 2
    assert stored() == before


# --- Weighting exercises -----------------------------------------------------------------------


def test_exercise_list_shows_the_organisations_exercises(
    personas: Personas, version: ProfileVersion
) -> None:
    exercise = ahp_exercise(personas.a, version)
    ahp_exercise(personas.b, published(personas.b, "Beta secret profile"))
    result = run("exercise", "list", "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Board weights" in line)
    assert str(exercise.pk) in row
    assert "Global account manager v1" in row
    assert "2 of 2" in row
    assert "Beta secret profile" not in result.stdout


def test_exercise_results_print_the_weights_kendalls_w_and_flag_an_inconsistent_respondent(
    personas: Personas, version: ProfileVersion
) -> None:
    exercise = ahp_exercise(personas.a, version)
    result = run("exercise", "results", exercise.pk, "--org", "alpha")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "2 of 2 participants submitted." in out
    assert "alpha-hr" in out
    assert "alpha-owner" in out
    assert "Kendall's W = " in out
    assert "chi2 = " in out
    assert "CR alpha-hr: 0.000 ok" in out
    assert "CR alpha-owner:" in out
    assert "inconsistent (above 0.10)" in out
    financially = next(line for line in out.splitlines() if "Financially aware" in line)
    assert "57.1%" in financially


def test_exercise_results_without_answers_say_so(
    personas: Personas, version: ProfileVersion
) -> None:
    exercise = services.open_exercise(
        organisation=personas.a.org, user=None, version=version, title="Empty", method="points"
    )
    result = run("exercise", "results", exercise.pk, "--org", "alpha")
    assert result.exit_code == 0
    assert "No submitted weights yet." in result.stdout
    beta = run("exercise", "results", exercise.pk, "--org", "beta")
    assert beta.exit_code == 2
    assert f"exercise {exercise.pk}: no such weighting exercise in 'beta'" in beta.stderr


def test_exercise_adopt_writes_the_consensus_into_a_draft_once(
    personas: Personas, version: ProfileVersion
) -> None:
    exercise = ahp_exercise(personas.a, version)
    refused = run("exercise", "adopt", exercise.pk, "--org", "alpha", "--as", "alpha-participant")
    assert refused.exit_code == 2
    assert "may not manage weighting exercises" in refused.stderr
    result = run("exercise", "adopt", exercise.pk, "--org", "alpha", "--as", "alpha-consultant")
    assert result.exit_code == 0, result.stderr
    assert f"into profile {version.profile_id} draft v2" in result.stdout
    draft = ProfileVersion.objects.get(profile=version.profile, number=2)
    assert draft.weights_origin == "exercise"
    assert sum(w for _, w in weights(draft).values()) == pytest.approx(100)
    exercise.refresh_from_db()
    assert (exercise.status, exercise.adopted_by) == ("closed", personas.a.users[Role.CONSULTANT])
    again = run("exercise", "adopt", exercise.pk, "--org", "alpha", "--as", "alpha-consultant")
    assert again.exit_code == 1
    assert "already been adopted" in again.stderr
    assert Participant.objects.filter(exercise=exercise, status="submitted").count() == 2


def test_profile_commands_start_in_a_fresh_process(tmp_path: Path) -> None:
    """The CLI imports no model before Django is set up (in-process tests cannot see it)."""
    env = {**os.environ, "KAMFIT_DATA_DIR": str(tmp_path), "KAMFIT_DEBUG": "true"}
    for args in (["profile", "--help"], ["profile", "exercise", "list", "--help"]):
        result = subprocess.run(
            [sys.executable, "-c", "from kamfit.cli import main; main()", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout
