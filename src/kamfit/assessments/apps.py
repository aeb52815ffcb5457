"""People, assessment cycles, rating forms, psychometric results and the SBI quick check."""

from __future__ import annotations

from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "kamfit.assessments"
    label = "assessments"
    verbose_name = "Assessing people"
