"""Start background jobs: store what they need, write the job row, queue the task.

Views, the API and the CLI decide *whether* something runs in the background with
:func:`runs_later` (imports) and :func:`report_runs_later` (the team results export);
small work still runs at once, as before. What the tasks do is in
:mod:`kamfit.jobs.work`.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zipfile
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task_backends

from kamfit.assessments.models import CycleStatus
from kamfit.domain.errors import NotPermitted
from kamfit.jobs import tasks
from kamfit.jobs.models import FINISHED, Job, JobKind
from kamfit.jobs.work import upload_path
from kamfit.spreadsheets import max_upload_bytes, too_large

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile

    from kamfit.assessments.models import Cycle
    from kamfit.orgs.models import Organisation

__all__ = [
    "IMPORT_KINDS",
    "INLINE_IMPORT_BYTES",
    "INLINE_REPORT_PEOPLE",
    "prune_task_results",
    "report_runs_later",
    "retry_job",
    "runs_later",
    "schedule_housekeeping",
    "start_import",
    "start_reminders",
    "start_team_report",
]

INLINE_IMPORT_BYTES = 1024 * 1024  # a CSV up to 1 MB (about 15,000 rating rows) runs at once
INLINE_XLSX_FACTOR = 8  # a workbook's XML is about eight times the CSV of the same rows
INLINE_REPORT_PEOPLE = 500  # a team export of more people is written in the background
IMPORT_KINDS = frozenset(
    {JobKind.IMPORT_PEOPLE, JobKind.IMPORT_RATINGS, JobKind.IMPORT_PSYCHOMETRICS}
)


def runs_later(upload: UploadedFile) -> bool:
    """Say whether an uploaded file is large enough to import in the background.

    A CSV over :data:`INLINE_IMPORT_BYTES`, or a workbook whose parts unzip to more
    than eight times that, becomes a job; a smaller file is imported at once.
    """
    if (upload.size or 0) > INLINE_IMPORT_BYTES:
        return True
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    if head != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(upload) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return False  # the reader refuses it, with its own message
    finally:
        upload.seek(0)
    return inflated > INLINE_IMPORT_BYTES * INLINE_XLSX_FACTOR


def report_runs_later(cycle: Cycle) -> bool:
    """Say whether a cycle's team results export is large enough to write in the background."""
    return cycle.assessees.count() > INLINE_REPORT_PEOPLE


def _store(upload: UploadedFile) -> str:
    """Copy an upload into the data directory under a name kamfit chooses; return it."""
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise too_large(limit)  # refused before anything is written
    name = uuid.uuid4().hex
    path = upload_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    upload.seek(0)
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                break
            handle.write(chunk)
    if size > limit:
        path.unlink(missing_ok=True)
        raise too_large(limit)
    return name


def _enqueue(job: Job) -> Job:
    """Queue the job's task and note its result id; return the job as it now stands."""
    task = {
        JobKind.TEAM_REPORT: tasks.team_report,
        JobKind.REMINDERS: tasks.remind_raters,
    }.get(JobKind(job.kind), tasks.import_file)
    result = task.enqueue(job.pk)  # the immediate backend has run it by now
    Job.objects.filter(pk=job.pk).update(task_result_id=result.id)
    schedule_housekeeping()
    job.refresh_from_db()
    return job


def start_import(
    *,
    organisation: Organisation,
    actor: User | None,
    kind: JobKind,
    upload: UploadedFile,
    cycle: Cycle | None = None,
) -> Job:
    """Store an upload and queue its import; return the job (its page shows progress)."""
    if kind not in IMPORT_KINDS:
        raise NotPermitted(f"{kind.label} is not an import.")
    if kind == JobKind.IMPORT_RATINGS and cycle is None:
        raise NotPermitted("A ratings import needs its assessment cycle.")
    name = _store(upload)
    with transaction.atomic():
        job = Job.objects.create(
            organisation=organisation,
            kind=kind,
            params={"cycle": cycle.pk} if cycle is not None else {},
            filename=(upload.name or "upload")[-255:],
            upload=name,
            created_by=actor,
            message="Waiting for a worker",
        )
    return _enqueue(job)


def start_team_report(*, cycle: Cycle, actor: User | None, fmt: str) -> Job:
    """Queue the team results export of a cycle as a file to download later."""
    fmt = "xlsx" if fmt == "xlsx" else "csv"
    with transaction.atomic():
        job = Job.objects.create(
            organisation=cycle.organisation,
            kind=JobKind.TEAM_REPORT,
            params={"cycle": cycle.pk, "format": fmt},
            filename=f"{cycle.organisation.slug}-cycle-{cycle.pk}-results.{fmt}",
            created_by=actor,
            message="Waiting for a worker",
        )
    return _enqueue(job)


def start_reminders(*, cycle: Cycle, actor: User | None) -> Job:
    """Queue e-mails to the raters of an open cycle whose forms are not submitted."""
    if cycle.status != CycleStatus.OPEN:
        raise NotPermitted("Reminders go out while the cycle is open.")
    with transaction.atomic():
        job = Job.objects.create(
            organisation=cycle.organisation,
            kind=JobKind.REMINDERS,
            params={"cycle": cycle.pk},
            created_by=actor,
            message="Waiting for a worker",
        )
    return _enqueue(job)


def retry_job(job: Job) -> bool:
    """Queue an unfinished job again (after a worker died); False if it cannot be.

    Safe even if the first attempt is in fact still running: see :mod:`kamfit.jobs.work`.
    """
    if job.status in FINISHED:
        return False
    if job.kind in IMPORT_KINDS and not (job.upload and upload_path(job.upload).is_file()):
        return False
    _enqueue(job)
    return True


def _database_backend() -> Any:
    from django_tasks_db.backend import DatabaseBackend  # noqa: PLC0415 - optional backend

    backend = task_backends["default"]
    return backend if isinstance(backend, DatabaseBackend) else None


def schedule_housekeeping() -> None:
    """Make sure one housekeeping run is queued for tomorrow (database backend only)."""
    if _database_backend() is None:
        return
    from django_tasks.base import TaskResultStatus  # noqa: PLC0415
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - optional backend

    pending = DBTaskResult.objects.filter(
        task_path=tasks.housekeeping.module_path, status=TaskResultStatus.READY
    )
    if pending.exists():
        return
    tasks.housekeeping.using(run_after=timezone.now() + dt.timedelta(days=1)).enqueue()


def prune_task_results(days: int) -> int:
    """Delete finished task results older than ``days`` (database backend only)."""
    if _database_backend() is None:
        return 0
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - optional backend

    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    return deleted
