"""``kamfit assess import-* --progress``: "progress DONE TOTAL" lines on stderr."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kamfit.assessments import services as assessment_services
from kamfit.assessments.models import Person, RatingForm
from kamfit.cli import app
from kamfit.spreadsheets import to_csv
from tests.conftest import Team
from tests.web.jobs.conftest import RATING_HEADER, rating_rows

LINE = re.compile(r"^progress (\d+) (\d+)$")


def progress_lines(stderr: str) -> list[tuple[int, int]]:
    found = [LINE.match(line) for line in stderr.splitlines() if line.startswith("progress")]
    assert all(found), stderr
    return [(int(m.group(1)), int(m.group(2))) for m in found if m]


def test_import_ratings_progress_prints_lines_as_rows_are_written(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assessment_services, "_BATCH", 10)
    file = tmp_path / "ratings.csv"
    file.write_bytes(to_csv(RATING_HEADER, rating_rows(team)))
    args = ["assess", "import-ratings", str(team.cycle.pk), str(file), "--progress"]
    result = CliRunner().invoke(app, [*args, "--org", "alpha", "--as", "alpha-hr"])
    assert result.exit_code == 0, result.stderr
    lines = progress_lines(result.stderr)
    assert lines[-1] == (33, 33)
    assert len(lines) >= 3
    assert all(total == 33 for _, total in lines)
    assert RatingForm.objects.filter(rater__assessee__cycle=team.cycle).count() == 3


def test_import_people_progress_and_without_the_flag_no_lines(team: Team, tmp_path: Path) -> None:
    file = tmp_path / "people.csv"
    file.write_bytes(to_csv(["reference", "name"], [[f"p-{i}", f"P {i}"] for i in range(12)]))
    base = ["assess", "import-people", str(file), "--org", "alpha", "--as", "alpha-hr"]
    quiet = CliRunner().invoke(app, base)
    assert quiet.exit_code == 0, quiet.stderr
    assert "progress" not in quiet.stderr
    loud = CliRunner().invoke(app, [*base, "--progress"])
    assert loud.exit_code == 0, loud.stderr
    assert progress_lines(loud.stderr)[-1] == (12, 12)
    assert Person.objects.filter(reference__startswith="p-").count() == 12
