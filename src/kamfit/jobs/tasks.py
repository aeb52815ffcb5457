"""The background tasks (django-tasks): thin wrappers around :mod:`kamfit.jobs.work`.

Each takes plain JSON arguments (a job's id) and may run more than once: see the
module documentation of :mod:`kamfit.jobs.work` for why that is harmless.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task

from kamfit.jobs import work

__all__ = ["housekeeping", "import_file", "remind_raters", "team_report"]


@task()
def import_file(job_id: int) -> dict[str, Any]:
    """Import a stored upload (people, ratings or psychometric results) for its job."""
    return work.run_import(job_id)


@task()
def team_report(job_id: int) -> dict[str, Any]:
    """Write a cycle's team results (CSV or XLSX) for download."""
    return work.run_team_report(job_id)


@task()
def remind_raters(job_id: int) -> dict[str, Any]:
    """E-mail the raters of an open cycle whose forms are not submitted."""
    return work.run_reminders(job_id)


@task()
def housekeeping() -> dict[str, Any]:
    """Delete old files and task results, requeue stalled jobs, apply retention; run again."""
    from kamfit.jobs import services  # noqa: PLC0415 - services import this module
    from kamfit.privacy.services import run_retention_everywhere  # noqa: PLC0415

    summary = work.housekeep()
    # Retention rules (kamfit.privacy): erase inactive candidates and leavers when due.
    summary["retention_erased"] = run_retention_everywhere()
    services.schedule_housekeeping()
    return summary
