"""What each background task does, and the job row's bookkeeping around it.

Every run starts by *claiming* its job (queued or running → running, one more
attempt); a job already done or failed is left alone, so running a task twice is
harmless. An import records the job done *inside the import's own transaction*
(through the readers' ``before_commit``), under a row lock on the job: if two
attempts race, or a retry follows a run that in fact committed, the second finds
the job done and rolls its import back. Nothing is imported twice.

Files: an upload is kept under ``DATA_DIR/uploads/<uuid>`` until its job ends (done
or failed), then deleted; a report is written to ``DATA_DIR/jobs/<uuid>.<ext>`` and
deleted by :func:`housekeep` once older than :data:`RETENTION`. A run killed
half-way (``SIGKILL``, a lost machine) leaves its job running with its upload;
:func:`housekeep` queues it again once it has been silent for :data:`STALE_AFTER`.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, connections, transaction
from django.utils import timezone

from kamfit.assessments import exchange
from kamfit.assessments.models import CycleStatus, FormStatus, Rater, RatingForm
from kamfit.assessments.queries import load_cycle
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.jobs.models import FINISHED, Job, JobKind, JobStatus
from kamfit.orgs.access import list_cycles
from kamfit.spreadsheets import max_upload_bytes, to_csv, to_xlsx
from kamfit.uploads import rejections

if TYPE_CHECKING:
    from kamfit.assessments.models import Cycle

__all__ = [
    "MAX_PROBLEMS",
    "PROGRESS_EVERY",
    "RETENTION",
    "STALE_AFTER",
    "Progress",
    "housekeep",
    "output_path",
    "run_import",
    "run_reminders",
    "run_team_report",
    "upload_path",
]

RETENTION = dt.timedelta(days=7)
STALE_AFTER = dt.timedelta(hours=1)
MAX_PROBLEMS = 1000  # a refused file's problems kept on the job (the count is kept too)
PROGRESS_EVERY = 1.0  # seconds between two progress writes

Summary = dict[str, Any]


class _AlreadyDone(Exception):
    """Undo an import whose job another attempt has already completed."""


def _uploads() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


def _outputs() -> Path:
    return Path(settings.DATA_DIR) / "jobs"


def upload_path(name: str) -> Path:
    """Where an upload kamfit named ``name`` is kept."""
    return _uploads() / name


def output_path(name: str) -> Path:
    """Where a file a job produced, named ``name`` by kamfit, is kept."""
    return _outputs() / name


# --- bookkeeping ---------------------------------------------------------------------------


def _claim(job_id: int) -> Job | None:
    """Mark the job running for one more attempt; None if it has ended (or is gone)."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(of=("self",))
            .select_related("organisation", "created_by")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.is_finished:
            return None
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or timezone.now()
        job.message = "Running" if job.attempts == 1 else f"Running (attempt {job.attempts})"
        job.save(update_fields=["status", "attempts", "started_at", "message", "updated_at"])
        return job


def _complete(job: Job, result: Summary, message: str, **fields: object) -> None:
    """Record the job done; in an import, inside the import's transaction."""
    with transaction.atomic():
        current = Job.objects.select_for_update().filter(pk=job.pk).first()
        if current is None or current.status == JobStatus.DONE:
            raise _AlreadyDone
        done = int(result.get("rows", current.total or current.done))
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.DONE,
            result=result,
            message=message[:500],
            done=done,
            total=max(done, current.total),
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            **fields,
        )


def _fail(job: Job, message: str, problems: list[str] | None = None) -> None:
    """Record the job failed, unless another attempt completed it meanwhile."""
    result: Summary = {}
    if problems is not None:
        result = {"problems": problems[:MAX_PROBLEMS], "count": len(problems)}
    Job.objects.filter(pk=job.pk).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED,
        message=message[:500],
        result=result,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


class Progress:
    """Tell the job row (done, total) as an import writes, at most once a second.

    The import writes in one transaction, in which an update of the job row would
    stay invisible until the end; so on PostgreSQL the figures go through a second
    connection of its own (autocommit). SQLite lets one writer at a time: there the
    job shows its figures when the import commits. ``echo`` (the CLI's
    ``--progress``) hears of every batch.
    """

    def __init__(self, job_id: int, echo: Callable[[int, int], None] | None = None) -> None:
        self.job_id = job_id
        self.echo = echo
        self.total = 0
        self.last = 0.0
        self.side: Any = None

    def __call__(self, done: int, total: int) -> None:
        self.total = total
        if self.echo is not None:
            self.echo(done, total)
        now = time.monotonic()
        if done < total and now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        if connection.vendor == "postgresql":
            if self.side is None:
                self.side = connections.create_connection("default")
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Job._meta.db_table} SET done = %s, total = %s, updated_at = %s "  # noqa: S608 - the model's table
                    "WHERE id = %s",
                    [done, total, timezone.now(), self.job_id],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


def _problems(exc: ValidationError | NotPermitted) -> list[str]:
    if isinstance(exc, ValidationError):
        return [str(p) for p in exc.problems]
    return [str(exc)]


def _cycle(job: Job) -> Cycle:
    cycle = (
        list_cycles(job.organisation)
        .select_related("organisation", "profile_version__framework_version")
        .filter(pk=job.params.get("cycle"))
        .first()
    )
    if cycle is None:
        raise NotPermitted("The assessment cycle no longer exists.")
    return cycle


# --- imports -------------------------------------------------------------------------------


def _import(job: Job, data: bytes, progress: Progress) -> None:
    """Run the job's reader; the job is completed inside the import's transaction."""
    org, actor, name = job.organisation, job.created_by, job.filename
    limit = max_upload_bytes()
    if job.kind == JobKind.IMPORT_PEOPLE:

        def people_done(counts: tuple[int, int]) -> None:
            created, updated = counts
            _complete(
                job,
                {"created": created, "updated": updated, "rows": created + updated},
                f"Imported people: {created} new, {updated} updated.",
            )

        exchange.read_people(
            org, actor, data, name, progress=progress, max_bytes=limit, before_commit=people_done
        )
    elif job.kind == JobKind.IMPORT_RATINGS:
        cycle = _cycle(job)

        def ratings_done(forms: int) -> None:
            _complete(
                job,
                {"forms": forms, "cycle": cycle.pk, "rows": progress.total},
                f"Imported {forms} rating forms into {cycle.title}.",
            )

        exchange.read_ratings(
            cycle, actor, data, name, progress=progress, max_bytes=limit, before_commit=ratings_done
        )
    elif job.kind == JobKind.IMPORT_PSYCHOMETRICS:

        def results_done(stored: int) -> None:
            _complete(
                job,
                {"stored": stored, "rows": stored},
                f"Imported {stored} psychometric results.",
            )

        exchange.read_psychometrics(
            org, actor, data, name, progress=progress, max_bytes=limit, before_commit=results_done
        )
    else:
        raise NotPermitted(f"A {job.get_kind_display()} job is not an import.")


def run_import(job_id: int, echo: Callable[[int, int], None] | None = None) -> Summary:
    """Import a stored upload for its job; return what the job now says."""
    job = _claim(job_id)
    if job is None:
        return {"job": job_id, "skipped": "already finished"}
    path = upload_path(job.upload) if job.upload else None
    progress = Progress(job.pk, echo)
    try:
        if path is None or not path.is_file():
            raise NotPermitted("The uploaded file is no longer there: upload it again.")
        with rejections(
            job.kind.removeprefix("import_"),
            actor=job.created_by,
            organisation=job.organisation,
        ):
            _import(job, path.read_bytes(), progress)
    except _AlreadyDone:
        pass
    except (ValidationError, NotPermitted) as exc:
        problems = _problems(exc)
        _fail(
            job, f"Nothing was imported from {job.filename}: {len(problems)} problem(s).", problems
        )
    except Exception:
        _fail(job, "An unexpected error stopped the import; nothing was imported.")
        raise
    finally:
        progress.close()
        if path is not None:
            path.unlink(missing_ok=True)
    return _state(job_id)


def _state(job_id: int) -> Summary:
    job = Job.objects.get(pk=job_id)
    return {"job": job.pk, "status": job.status, "message": job.message}


# --- the team results report ---------------------------------------------------------------


def run_team_report(job_id: int) -> Summary:
    """Write a cycle's results table (CSV or XLSX) to a file kamfit names."""
    job = _claim(job_id)
    if job is None:
        return {"job": job_id, "skipped": "already finished"}
    fmt = "xlsx" if job.params.get("format") == "xlsx" else "csv"
    try:
        cycle = _cycle(job)
        header, rows = exchange.results_table(load_cycle(cycle))
        Job.objects.filter(pk=job.pk).update(total=len(rows))
        data = to_xlsx(header, rows, sheet="Results") if fmt == "xlsx" else to_csv(header, rows)
        name = f"{uuid.uuid4().hex}.{fmt}"
        path = output_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        try:
            _complete(
                job,
                {"rows": len(rows), "bytes": len(data)},
                f"Results of {len(rows)} people are ready to download.",
                output=name,
            )
        except _AlreadyDone:
            path.unlink(missing_ok=True)
    except (ValidationError, NotPermitted) as exc:
        _fail(job, "; ".join(_problems(exc)))
    except Exception:
        _fail(job, "An unexpected error stopped the report.")
        raise
    return _state(job_id)


# --- reminders -----------------------------------------------------------------------------


def _waiting(cycle: Cycle) -> dict[int, list[str]]:
    """The people each rater user has still to rate (no form, or no submitted one)."""
    latest: dict[int, str] = dict(  # ordered by number: the last form of each rater wins
        RatingForm.objects.filter(rater__assessee__cycle=cycle)
        .order_by("number")
        .values_list("rater_id", "status")
    )
    waiting: dict[int, list[str]] = defaultdict(list)
    for rater_id, user_id, name in (
        Rater.objects.filter(assessee__cycle=cycle)
        .order_by("assessee__person__name", "id")
        .values_list("pk", "user_id", "assessee__person__name")
    ):
        if latest.get(rater_id) != FormStatus.SUBMITTED:
            waiting[user_id].append(name)
    return waiting


def _mark_sent(job: Job, user_id: int) -> bool:
    """Record that ``user_id`` is reminded by this job; False if it already was."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        sent = list(current.result.get("reminded", []))
        if user_id in sent:
            return False
        current.result = {**current.result, "reminded": [*sent, user_id]}
        current.done = len(sent) + 1
        current.save(update_fields=["result", "done", "updated_at"])
        return True


def run_reminders(job_id: int) -> Summary:
    """E-mail each rater whose forms in the cycle are not submitted, once per job.

    A rater is marked reminded on the job *before* the e-mail goes, so that a retried
    job never writes to anyone twice (at the cost, should the worker die between
    the two, of one reminder not sent). Raters without an e-mail address are counted.
    """
    job = _claim(job_id)
    if job is None:
        return {"job": job_id, "skipped": "already finished"}
    try:
        cycle = _cycle(job)
        if cycle.status != CycleStatus.OPEN:
            raise NotPermitted("Reminders go out while the cycle is open.")
        waiting = _waiting(cycle)
        users = {u.pk: u for u in get_user_model().objects.filter(pk__in=list(waiting))}
        Job.objects.filter(pk=job.pk).update(total=len(waiting))
        path = f"/o/{cycle.organisation.slug}/assessments/forms/"
        no_address = 0
        for user_id, names in waiting.items():
            user = users.get(user_id)
            if user is None or not user.email:
                no_address += 1
                continue
            if not _mark_sent(job, user_id):
                continue
            send_mail(
                subject=f"Reminder: your ratings for {cycle.title}",
                message=(
                    f"Hello {user.get_full_name() or user.get_username()},\n\n"
                    f"Your ratings in the assessment cycle “{cycle.title}” of "
                    f"{cycle.organisation.name} are not submitted yet for: "
                    f"{', '.join(names)}.\n\nSign in to kamfit and open {path} to finish them."
                    + (f"\nThey are due on {cycle.due_on:%d %B %Y}." if cycle.due_on else "")
                ),
                from_email=None,
                recipient_list=[user.email],
            )
        reminded = Job.objects.get(pk=job.pk).result.get("reminded", [])
        sent = len(reminded)
        _complete(
            job,
            {
                "sent": sent,
                "reminded": reminded,
                "no_address": no_address,
                "raters": len(waiting),
                "rows": sent,
            },
            f"Sent {sent} reminders"
            + (f"; {no_address} raters have no e-mail address." if no_address else "."),
        )
    except _AlreadyDone:
        pass
    except (ValidationError, NotPermitted) as exc:
        _fail(job, "; ".join(_problems(exc)))
    except Exception:
        _fail(job, "An unexpected error stopped the reminders.")
        raise
    return _state(job_id)


# --- housekeeping --------------------------------------------------------------------------


def _old_files(folder: Path, cutoff: float, keep: set[str]) -> int:
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if path.is_file() and path.name not in keep and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def housekeep(now: dt.datetime | None = None) -> Summary:
    """Delete old job files and task results; queue again jobs a dead worker left.

    Finished jobs' files older than :data:`RETENTION` go (the job row stays, saying
    so), as do stray files in the upload and report folders; finished task results
    older than the retention are pruned (database backend only). A queued or running
    job silent for :data:`STALE_AFTER` whose upload is still there is queued again.
    """
    from kamfit.jobs import services  # noqa: PLC0415 - services import the tasks, which import this

    now = now or timezone.now()
    cutoff = now - RETENTION
    expired = 0
    for job in Job.objects.filter(status__in=FINISHED, finished_at__lt=cutoff).exclude(output=""):
        output_path(job.output).unlink(missing_ok=True)
        Job.objects.filter(pk=job.pk).update(
            output="",
            message=f"{job.message} The file was deleted after {RETENTION.days} days."[:500],
        )
        expired += 1
    live = Job.objects.exclude(status__in=FINISHED)
    keep = set(live.values_list("upload", flat=True)) | set(
        Job.objects.exclude(output="").values_list("output", flat=True)
    )
    stray = _old_files(_uploads(), cutoff.timestamp(), keep)
    stray += _old_files(_outputs(), cutoff.timestamp(), keep)
    requeued = 0
    for job in live.filter(updated_at__lt=now - STALE_AFTER):
        if services.retry_job(job):
            requeued += 1
    pruned = services.prune_task_results(RETENTION.days)
    return {"expired": expired, "stray": stray, "requeued": requeued, "pruned": pruned}
