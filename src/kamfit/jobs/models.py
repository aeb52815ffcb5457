"""One row per background run: what it does, where it stands, and what came of it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kamfit.orgs.models import Organisation


class JobKind(models.TextChoices):
    IMPORT_PEOPLE = "import_people", "People import"
    IMPORT_RATINGS = "import_ratings", "Ratings import"
    IMPORT_PSYCHOMETRICS = "import_psychometrics", "Psychometric results import"
    TEAM_REPORT = "team_report", "Team results export"
    REMINDERS = "reminders", "Reminders to raters"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED})


class Job(models.Model):
    """A background run for one organisation, started by a member.

    ``upload`` and ``output`` are names kamfit chose for files in the data directory
    (never a name the user gave); ``filename`` is the name shown and offered for
    download. ``done``/``total`` count rows (or e-mails); ``result`` is the summary
    shown when the job ends (counts, or the problems that refused an import).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=24, choices=JobKind.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True, help_text="What to work on, e.g. a cycle")
    filename = models.CharField(max_length=255, blank=True)
    upload = models.CharField(max_length=64, blank=True, help_text="Stored upload, under uploads/")
    output = models.CharField(max_length=64, blank=True, help_text="Produced file, under jobs/")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "created_at"], name="job_org_created_idx"),
            models.Index(fields=["status", "finished_at"], name="job_status_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0
