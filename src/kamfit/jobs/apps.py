"""Background jobs: large imports, batch reports and reminders, with their progress."""

from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "kamfit.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
