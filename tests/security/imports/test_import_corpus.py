"""Every hostile or broken import file is refused, on every channel, and leaves nothing (T14, T33).

The corpus (``corpus.py``) goes through the page, the API and the CLI, and background
jobs where a page or the API hands a large file to one. Each refusal names the row,
the column or ``file``, and the reason; the database's content is unchanged (the audit
trail gains one ``import.rejected`` entry per attempt, and a job its failed row); no
upload or temporary file remains; nothing uploaded is served back by any URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from typer.testing import CliRunner

from kamfit.auditlog.models import AuditEvent
from kamfit.cli import app
from kamfit.jobs.models import Job, JobStatus
from kamfit.orgs.models import Role
from tests.conftest import Team
from tests.ops.dbhash import table_hashes
from tests.security.imports.corpus import CORPUS, GIGABYTE, Bad, zip_bomb

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Bookkeeping an attempt may write: the audit trail, a failed job's row and its task result.
_BOOKKEEPING = ("auditlog_", "jobs_", "django_tasks", "django_session")
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def places(settings: SettingsWrapper, tmp_path: Path) -> Iterator[Path]:
    """A data directory and a temporary-upload directory of the test's own; jobs run at once."""
    settings.DATA_DIR = tmp_path / "data"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    settings.TASKS = IMMEDIATE
    (tmp_path / "data").mkdir()
    (tmp_path / "tmp").mkdir()
    yield tmp_path


def _rows() -> dict[str, str]:
    with connection.cursor() as cursor:
        hashes = table_hashes(cursor, connection.vendor)
    return {k: v for k, v in hashes.items() if not k.startswith(_BOOKKEEPING)}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _named(problems: list[str], bad: Bad) -> bool:
    return any(p.startswith(bad.where) and bad.reason in p for p in problems) or any(
        bad.where in p and bad.reason in p for p in problems
    )


def _job_problems() -> list[str]:
    job = Job.objects.order_by("-id").first()
    assert job is not None and job.status == JobStatus.FAILED, job
    return [str(p) for p in job.result.get("problems", [])]


def _via_api(team: Team, name: str, data: bytes) -> tuple[int, list[str]]:
    url = f"/api/v1/organisations/alpha/cycles/{team.cycle.pk}/ratings/import/"
    upload = SimpleUploadedFile(name, data)
    response = team.side.client(Role.HR).post(url, {"file": upload})
    if response.status_code == 202:  # a large file: refused by its job
        return 202, _job_problems()
    body = response.json()
    return response.status_code, [f"{p['location']}: {p['message']}" for p in body["problems"]]


def _via_page(team: Team, name: str, data: bytes) -> list[str]:
    url = f"/o/alpha/assessments/{team.cycle.pk}/change/"
    upload = SimpleUploadedFile(name, data)
    response: TestResponse = team.side.client(Role.HR).post(
        url, {"action": "import_ratings", "file": upload}
    )
    assert response.status_code == 302
    if "/jobs/" in response["Location"]:
        return _job_problems()
    return [str(m) for m in get_messages(response.wsgi_request)]


def _via_cli(team: Team, path: Path) -> tuple[int, str]:
    args = ["assess", "import-ratings", str(team.cycle.pk), str(path), "--org", "alpha"]
    result = CliRunner().invoke(app, [*args, "--as", "alpha-hr"])
    return result.exit_code, result.stderr if result.stderr_bytes is not None else result.output


def _rejections() -> int:
    return AuditEvent.objects.filter(action="import.rejected").count()


@pytest.mark.parametrize("case", list(CORPUS))
def test_every_bad_file_is_refused_everywhere_naming_where_and_why(
    team: Team, places: Path, case: str
) -> None:
    filename, bad = CORPUS[case]
    data = bad.build(team)
    path = places / "in" / filename
    path.parent.mkdir()
    path.write_bytes(data)
    team.side.client(Role.HR)  # signed in before the snapshot (a sign-in writes its session)
    before, logged = _rows(), _rejections()

    status, problems = _via_api(team, filename, data)
    assert status in {413 if bad.too_large else 400, 202}, (status, problems)
    assert _named(problems, bad), problems
    assert _rows() == before

    problems = _via_page(team, filename, data)
    assert _named(problems, bad), problems
    assert _rows() == before

    code, output = _via_cli(team, path)
    assert code == 1, output
    assert bad.reason in output and "nothing was imported" in output, output
    assert _rows() == before

    assert _rejections() == logged + 3
    event = AuditEvent.objects.filter(action="import.rejected").order_by("-seq").first()
    assert event is not None and event.data["kind"] == "ratings"
    assert event.data["problems"] >= 1
    assert not _files(places / "data") and not _files(places / "tmp")  # nothing kept


def test_a_zip_bomb_is_refused_unopened_in_little_memory(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    bomb = zip_bomb(tmp_path_factory.getbasetemp() / "bomb.xlsx")
    assert bomb.stat().st_size < 10 * 1024 * 1024  # small enough to pass the size limit
    # Peak resident memory of the probe process itself: VmHWM starts afresh at exec,
    # unlike getrusage's ru_maxrss, which a child inherits from pytest.
    probe = (
        "import re, sys\n"
        "from kamfit.spreadsheets import read_rows\n"
        "from kamfit.domain.errors import ValidationError\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "try:\n"
        "    rows = sum(1 for _ in read_rows(data, 'ratings.xlsx', max_bytes=10 * 2**20))\n"
        "    print('read', rows)\n"
        "except ValidationError as exc:\n"
        "    print('refused', exc.problems[0])\n"
        "status = open('/proc/self/status').read()\n"
        "print('peak', re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kamfit.web.test_settings"}
    done = subprocess.run(
        [sys.executable, "-c", probe, str(bomb)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("refused file: ") and "zip bomb" in lines[0], done.stdout
    peak_kb = int(lines[-1].split()[1])
    assert peak_kb < 200 * 1024, f"peak RSS {peak_kb} kB"
    print(
        f"zip bomb: {bomb.stat().st_size:,} bytes inflating to {GIGABYTE:,}; "
        f"peak RSS {peak_kb:,} kB"
    )


def test_the_zip_bomb_is_refused_by_every_channel(
    team: Team, places: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bomb = zip_bomb(tmp_path_factory.getbasetemp() / "bomb.xlsx")
    data = bomb.read_bytes()
    team.side.client(Role.HR)  # signed in before the snapshot (a sign-in writes its session)
    before = _rows()
    status, problems = _via_api(team, "ratings.xlsx", data)
    assert status in {400, 202} and any("zip bomb" in p for p in problems), problems
    assert any("zip bomb" in p for p in _via_page(team, "ratings.xlsx", data))
    code, output = _via_cli(team, bomb)
    assert code == 1 and "zip bomb" in output, output
    assert _rows() == before
    assert not _files(places / "data") and not _files(places / "tmp")


def test_uploads_are_never_served_and_never_kept_under_their_name(
    team: Team, places: Path, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HTML file renamed .csv, stored by a job: no URL serves it; its stored name is random."""
    from kamfit.jobs import services as jobs
    from kamfit.jobs import work

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    monkeypatch.setattr(jobs, "INLINE_IMPORT_BYTES", 10)  # every upload becomes a job
    _, bad = CORPUS["html renamed csv"]
    html = bad.build(team)
    client = team.side.client(Role.HR)
    url = f"/o/alpha/assessments/{team.cycle.pk}/change/"
    response = client.post(
        url, {"action": "import_ratings", "file": SimpleUploadedFile("x<script>.csv", html)}
    )
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    job = Job.objects.order_by("-id").get()
    stored = _files(places / "data")
    assert [p.name for p in stored] == [job.upload]  # queued: kept under a random name
    assert len(job.upload) == 32 and "script" not in job.upload and "." not in job.upload

    anonymous = Client()
    for candidate in (
        f"/media/{job.upload}",
        f"/uploads/{job.upload}",
        f"/data/uploads/{job.upload}",
        f"/static/{job.upload}",
        f"/o/alpha/jobs/{job.pk}/download/",
        f"/o/alpha/jobs/{job.pk}/file/",
        f"/api/v1/organisations/alpha/jobs/{job.pk}/",
        "/media/x%3Cscript%3E.csv",
    ):
        for who in (anonymous, client):
            answer = who.get(candidate)
            content = answer.getvalue()  # streamed or not
            assert b"alert(document.cookie)" not in content, candidate

    work.run_import(job.pk)  # the worker's turn: refused, and the upload deleted
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert any("HTML, SVG or XML" in p for p in job.result["problems"])
    assert not _files(places / "data")
