"""Fixtures of the background job tests: a data directory, a task backend, job files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings as SettingsWrapper

from kamfit.jobs import services as jobs
from kamfit.spreadsheets import to_csv
from tests.conftest import TEAM_KEYS, Team

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
RATING_HEADER = ["person", "rater", "source", "competency", "level", "evidence"]


@pytest.fixture
def data_dir(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def immediate(settings: SettingsWrapper, data_dir: Path) -> Path:
    """Tasks run at once, in the caller (``KAMFIT_TASKS_BACKEND=immediate``)."""
    settings.TASKS = IMMEDIATE
    return data_dir


@pytest.fixture
def everything_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every upload and every team export becomes a job, whatever its size."""
    monkeypatch.setattr(jobs, "INLINE_IMPORT_BYTES", 10)
    monkeypatch.setattr(jobs, "INLINE_REPORT_PEOPLE", 0)


def rating_rows(team: Team, level: int = 3) -> list[list[object]]:
    """Three peers rating kam-1 on every requirement: 33 rows, 3 forms."""
    return [
        [team.kam.reference, peer.username, "peer", key, level, f"Seen {key}"]
        for peer in team.peers
        for key in TEAM_KEYS
    ]


def csv_upload(rows: Sequence[Sequence[object]], name: str = "ratings.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, to_csv(RATING_HEADER, rows), content_type="text/csv")


def uploads(data_dir: Path) -> list[Path]:
    folder = data_dir / "uploads"
    return list(folder.iterdir()) if folder.is_dir() else []
