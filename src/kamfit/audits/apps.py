"""Organisation readiness: the litmus test and the company-side audit."""

from __future__ import annotations

from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "kamfit.audits"
    label = "audits"
    verbose_name = "Readiness audits"
