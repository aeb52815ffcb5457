"""Imports as background jobs: both task backends, progress, failure, retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from kamfit.assessments import services as assessment_services
from kamfit.assessments.models import FormStatus, Person, RatingForm
from kamfit.jobs import services as jobs
from kamfit.jobs import work
from kamfit.jobs.models import Job, JobKind, JobStatus
from kamfit.orgs.models import Role
from kamfit.spreadsheets import to_csv
from tests.conftest import Team
from tests.web.jobs.conftest import DATABASE, csv_upload, rating_rows, uploads


def forms_of(team: Team) -> int:
    return RatingForm.objects.filter(rater__assessee__cycle=team.cycle).count()


def start(team: Team, rows: list[list[object]]) -> Job:
    return jobs.start_import(
        organisation=team.side.org,
        actor=team.side.users[Role.HR],
        kind=JobKind.IMPORT_RATINGS,
        upload=csv_upload(rows),
        cycle=team.cycle,
    )


@pytest.mark.usefixtures("everything_later")
def test_a_large_ratings_upload_becomes_a_job_that_the_immediate_backend_runs(
    team: Team, immediate: Path
) -> None:
    client = team.side.client(Role.HR)
    response = client.post(
        reverse("assessments:cycle_action", args=["alpha", team.cycle.pk]),
        {"action": "import_ratings", "file": csv_upload(rating_rows(team))},
    )
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:job", args=["alpha", job.pk])
    assert job.status == JobStatus.DONE
    assert (job.done, job.total, job.result["forms"]) == (33, 33, 3)
    assert job.task_result_id
    assert forms_of(team) == 3
    assert uploads(immediate) == []  # deleted once the job ended


@pytest.mark.usefixtures("everything_later")
def test_a_large_people_upload_imports_in_the_background(team: Team, immediate: Path) -> None:
    data = to_csv(["reference", "name"], [[f"new-{i}", f"New {i}"] for i in range(30)])
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = team.side.client(Role.HR).post(
        reverse("assessments:people_import", args=["alpha"]),
        {"what": "people", "file": SimpleUploadedFile("people.csv", data)},
    )
    job = Job.objects.get()
    assert response["Location"].endswith(f"/jobs/{job.pk}/")
    assert job.kind == JobKind.IMPORT_PEOPLE
    assert job.result == {"created": 30, "updated": 0, "rows": 30}
    assert Person.objects.filter(reference__startswith="new-").count() == 30


def run_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """``db_worker --batch``: run every queued task, then stop (inside the test's transaction)."""
    from django_tasks_db.management.commands import db_worker

    # The worker drops stale connections between tasks; the test's own must stay.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_the_database_backend_queues_the_job_and_the_worker_runs_it(
    team: Team, data_dir: Path, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TASKS = DATABASE
    from django_tasks_db.models import DBTaskResult

    job = start(team, rating_rows(team))
    assert job.status == JobStatus.QUEUED
    assert forms_of(team) == 0
    assert len(uploads(data_dir)) == 1
    assert DBTaskResult.objects.filter(id=job.task_result_id).exists()
    run_worker(monkeypatch)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.attempts == 1
    assert forms_of(team) == 3
    assert uploads(data_dir) == []
    result = DBTaskResult.objects.get(id=job.task_result_id)
    assert result.status == "SUCCESSFUL"


def test_progress_is_reported_as_rows_are_written(
    team: Team, data_dir: Path, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TASKS = DATABASE  # queued, then run here by hand
    monkeypatch.setattr(assessment_services, "_BATCH", 10)
    job = start(team, rating_rows(team))
    seen: list[tuple[int, int]] = []
    work.run_import(job.pk, echo=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (33, 33)
    assert len(seen) >= 3
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == (JobStatus.DONE, 33, 33)


def test_progress_is_throttled_but_always_echoed_and_never_blocks(
    team: Team, data_dir: Path, settings: SettingsWrapper
) -> None:
    """On PostgreSQL the figures go through a second connection, which must not wait."""
    settings.TASKS = DATABASE
    job = start(team, rating_rows(team))
    heard: list[tuple[int, int]] = []
    progress = work.Progress(job.pk, echo=lambda d, t: heard.append((d, t)))
    for done in (5, 10, 40):
        progress(done, 40)
    progress.close()
    assert heard == [(5, 40), (10, 40), (40, 40)]
    assert progress.total == 40
    Job.objects.filter(pk=job.pk).update(done=10, total=40)
    assert Job.objects.get(pk=job.pk).percent == 25


@pytest.mark.usefixtures("immediate")
def test_a_failed_import_changes_nothing_and_the_job_lists_the_row_problems(
    team: Team, data_dir: Path
) -> None:
    rows = rating_rows(team)
    rows[1][0] = "nobody"
    rows[4][4] = "high"
    job = start(team, rows)
    assert job.status == JobStatus.FAILED
    assert job.result["count"] == 2
    assert job.result["problems"] == [
        "row 3, column person: 'nobody' is not assessed in this cycle",
        "row 6, column level: 'high' is not a whole number: give a level such as 3, or "
        "leave the cell empty when the rater cannot judge",
    ]
    assert "Nothing was imported" in job.message
    assert forms_of(team) == 0
    assert uploads(data_dir) == []


def test_a_rerun_of_a_finished_job_is_a_no_op(
    team: Team, data_dir: Path, settings: SettingsWrapper
) -> None:
    settings.TASKS = DATABASE
    job = start(team, rating_rows(team))
    work.run_import(job.pk)
    assert forms_of(team) == 3
    assert work.run_import(job.pk) == {"job": job.pk, "skipped": "already finished"}
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)
    assert forms_of(team) == 3


def test_an_attempt_racing_one_that_completed_rolls_its_import_back(
    team: Team, data_dir: Path, settings: SettingsWrapper
) -> None:
    """Two workers ran the same job; the second to commit finds it done and undoes its rows."""
    settings.TASKS = DATABASE
    job = start(team, rating_rows(team))
    claimed = work._claim(job.pk)
    assert claimed is not None
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)  # the other attempt's commit
    data = work.upload_path(job.upload).read_bytes()
    progress = work.Progress(job.pk)
    with pytest.raises(work._AlreadyDone):
        work._import(claimed, data, progress)
    progress.close()
    assert forms_of(team) == 0


def test_a_retried_job_after_a_worker_died_imports_once(
    team: Team, data_dir: Path, settings: SettingsWrapper
) -> None:
    settings.TASKS = DATABASE
    job = start(team, rating_rows(team))
    assert work._claim(job.pk) is not None  # the first worker died here: running, upload kept
    assert jobs.retry_job(Job.objects.get(pk=job.pk))
    work.run_import(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert forms_of(team) == 3
    assert not jobs.retry_job(job)  # finished: nothing to retry


@pytest.mark.usefixtures("immediate")
def test_an_import_replacing_a_draft_and_amending_a_submitted_form_keeps_the_rest(
    team: Team,
) -> None:
    peer = team.peers[0]
    team.submit(team.kam, peer, 2)
    rater = team.rater(team.kam, team.peers[1])
    assessment_services.draft_form(rater, team.peers[1])
    rows = [row for row in rating_rows(team, level=4) if row[3] == "analytical"]
    job = start(team, rows)
    assert job.status == JobStatus.DONE, job.result
    forms = RatingForm.objects.filter(rater__assessee__cycle=team.cycle)
    amended = forms.get(rater__user=peer, number=2)
    assert amended.status == FormStatus.SUBMITTED
    assert amended.reason == "Imported"
    levels = dict(amended.ratings.values_list("competency__key", "level"))
    assert levels["analytical"] == 4
    assert levels["networking"] == 2  # kept from version 1
    assert len(levels) == 11
    replaced = forms.get(rater=rater)  # the draft gave way
    assert (replaced.number, replaced.status, replaced.ratings.count()) == (1, "submitted", 1)
