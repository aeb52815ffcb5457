"""Reminders, the team results export as a job, and housekeeping."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kamfit.assessments.models import Rater
from kamfit.jobs import services as jobs
from kamfit.jobs import work
from kamfit.jobs.models import Job, JobKind, JobStatus
from kamfit.orgs.models import Role
from tests.conftest import Personas, Team
from tests.web.jobs.conftest import DATABASE, csv_upload, rating_rows
from tests.web.jobs.test_imports import run_worker

# --- reminders -------------------------------------------------------------------------------


def waiting_users(team: Team) -> set[int]:
    """Users with a rater assignment in the cycle and no submitted form for it."""
    return set(
        Rater.objects.filter(assessee__cycle=team.cycle)
        .exclude(forms__status="submitted")
        .values_list("user_id", flat=True)
    )


@pytest.mark.usefixtures("immediate")
def test_reminders_go_once_to_each_rater_with_forms_to_submit(team: Team) -> None:
    team.submit(team.kam, team.peers[0], 3)  # done: not reminded
    waiting = waiting_users(team)
    assert team.peers[0].pk not in waiting
    assert {team.peers[1].pk, team.side.users[Role.ASSESSOR].pk} <= waiting
    response = team.side.client(Role.HR).post(
        reverse("assessments:cycle_action", args=["alpha", team.cycle.pk]), {"action": "remind"}
    )
    job = Job.objects.get(kind=JobKind.REMINDERS)
    assert response["Location"] == reverse("jobs:job", args=["alpha", job.pk])
    assert job.status == JobStatus.DONE
    assert set(job.result["reminded"]) == waiting
    assert job.result["sent"] == len(waiting)
    emails = set(User.objects.filter(pk__in=waiting).values_list("email", flat=True))
    assert sorted(m.to[0] for m in mail.outbox) == sorted(emails)  # one each
    peer = next(m for m in mail.outbox if m.to == [team.peers[1].email])
    assert "Pat Participant" in peer.body
    assert job.message == f"Sent {len(waiting)} reminders."
    assert work.run_reminders(job.pk)["skipped"] == "already finished"
    assert len(mail.outbox) == len(waiting)


def test_a_retried_reminder_job_skips_raters_already_reminded(
    team: Team, data_dir: Path, settings: SettingsWrapper
) -> None:
    settings.TASKS = DATABASE
    job = jobs.start_reminders(cycle=team.cycle, actor=team.side.users[Role.HR])
    claimed = work._claim(job.pk)
    assert claimed is not None
    assert work._mark_sent(claimed, team.peers[0].pk)  # the first worker died after this one
    work.run_reminders(job.pk)
    assert "alpha-peer1@example.com" not in [m.to[0] for m in mail.outbox]
    assert len(mail.outbox) == len(waiting_users(team)) - 1
    job.refresh_from_db()
    assert set(job.result["reminded"]) == waiting_users(team)


@pytest.mark.usefixtures("immediate")
@pytest.mark.parametrize(("role", "code"), [(Role.DIRECTOR, 403), (Role.PARTICIPANT, 403)])
def test_only_owner_and_hr_send_reminders(team: Team, role: Role, code: int) -> None:
    response = team.side.client(role).post(
        reverse("assessments:cycle_action", args=["alpha", team.cycle.pk]), {"action": "remind"}
    )
    assert response.status_code == code
    assert not Job.objects.exists()


# --- the team results export -------------------------------------------------------------------


@pytest.mark.usefixtures("immediate", "everything_later")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_large_team_export_is_a_file_to_download(team: Team, fmt: str) -> None:
    team.submit(team.kam, team.peers[0], 3)
    client = team.side.client(Role.HR)
    url = reverse("assessments:team_export", args=["alpha", team.cycle.pk, fmt])
    assert client.get(url)["Location"] == reverse("assessments:team", args=["alpha", team.cycle.pk])
    response = client.post(url)
    job = Job.objects.get(kind=JobKind.TEAM_REPORT)
    assert response["Location"] == reverse("jobs:job", args=["alpha", job.pk])
    assert job.status == JobStatus.DONE
    assert job.output.endswith(f".{fmt}")
    assert job.output != job.filename  # the stored name is kamfit's
    download = client.get(reverse("jobs:download", args=["alpha", job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    if fmt == "csv":
        assert body.decode("utf-8-sig").startswith("reference,name,fit %")
    else:
        assert body[:4] == b"PK\x03\x04"
    page = client.get(reverse("jobs:job", args=["alpha", job.pk])).content.decode()
    assert reverse("jobs:download", args=["alpha", job.pk]) in page


@pytest.mark.usefixtures("immediate", "everything_later")
def test_a_report_is_downloaded_only_by_those_who_see_its_job(
    team: Team, personas: Personas
) -> None:
    job = jobs.start_team_report(cycle=team.cycle, actor=team.side.users[Role.DIRECTOR], fmt="csv")
    url = reverse("jobs:download", args=["alpha", job.pk])
    for role, code in [
        (Role.DIRECTOR, 200),
        (Role.OWNER, 200),
        (Role.HR, 200),
        (Role.CONSULTANT, 404),
        (Role.MANAGER, 404),
        (Role.PARTICIPANT, 404),
    ]:
        response = team.side.client(role).get(url)
        assert response.status_code == code, role
        if code == 200:
            b"".join(response.streaming_content)  # type: ignore[attr-defined]  # closes the file
    assert personas.b.client(Role.OWNER).get(url).status_code == 404
    assert (
        personas.b.client(Role.OWNER)
        .get(reverse("jobs:download", args=["beta", job.pk]))
        .status_code
        == 404
    )


@pytest.mark.usefixtures("immediate")
def test_an_import_job_has_no_download(team: Team) -> None:
    job = jobs.start_import(
        organisation=team.side.org,
        actor=team.side.users[Role.HR],
        kind=JobKind.IMPORT_RATINGS,
        upload=csv_upload(rating_rows(team)),
        cycle=team.cycle,
    )
    url = reverse("jobs:download", args=["alpha", job.pk])
    assert team.side.client(Role.HR).get(url).status_code == 404


# --- housekeeping --------------------------------------------------------------------------


def _age(path: Path, days: int) -> None:
    stamp = (timezone.now() - dt.timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.mark.usefixtures("everything_later")
def test_housekeeping_deletes_old_files_and_requeues_stalled_jobs(
    team: Team, immediate: Path
) -> None:
    old = jobs.start_team_report(cycle=team.cycle, actor=team.side.users[Role.HR], fmt="csv")
    fresh = jobs.start_team_report(cycle=team.cycle, actor=team.side.users[Role.HR], fmt="csv")
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))
    stray = immediate / "uploads" / "leftover"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"x")
    _age(stray, 9)
    # A job a dead worker left running, with its upload, silent for two hours.
    stalled = Job.objects.create(
        organisation=team.side.org,
        kind=JobKind.IMPORT_RATINGS,
        status=JobStatus.RUNNING,
        params={"cycle": team.cycle.pk},
        filename="ratings.csv",
        upload="stalled",
        created_by=team.side.users[Role.HR],
    )
    (immediate / "uploads" / "stalled").write_bytes(csv_upload(rating_rows(team)).read())
    Job.objects.filter(pk=stalled.pk).update(updated_at=timezone.now() - dt.timedelta(hours=2))

    summary = work.housekeep()

    assert summary == {"expired": 1, "stray": 1, "requeued": 1, "pruned": 0}
    old.refresh_from_db()
    assert old.output == ""
    assert "deleted after 7 days" in old.message
    assert not any(p.name.startswith(old.filename) for p in (immediate / "jobs").iterdir())
    assert work.output_path(Job.objects.get(pk=fresh.pk).output).is_file()
    assert not stray.exists()
    stalled.refresh_from_db()
    assert stalled.status == JobStatus.DONE  # queued again, and run by the immediate backend
    team_page = team.side.client(Role.HR)
    assert team_page.get(reverse("jobs:download", args=["alpha", old.pk])).status_code == 404


def test_housekeeping_prunes_old_task_results_and_schedules_itself(
    team: Team, data_dir: Path, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TASKS = DATABASE
    from django_tasks_db.models import DBTaskResult

    from kamfit.jobs import tasks

    job = jobs.start_reminders(cycle=team.cycle, actor=team.side.users[Role.HR])
    pending = DBTaskResult.objects.filter(task_path=tasks.housekeeping.module_path)
    assert pending.count() == 1  # queued for tomorrow when the first job started
    assert pending.get().run_after > timezone.now() + dt.timedelta(hours=23)
    run_worker(monkeypatch)  # runs the reminders; housekeeping waits for tomorrow
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    DBTaskResult.objects.filter(id=job.task_result_id).update(
        finished_at=timezone.now() - dt.timedelta(days=30)
    )
    assert work.housekeep()["pruned"] == 1
    assert not DBTaskResult.objects.filter(id=job.task_result_id).exists()
    jobs.schedule_housekeeping()
    assert pending.count() == 1  # never two
