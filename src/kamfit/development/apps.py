"""Development plans: actions from a catalogue that suits each gap's kind."""

from __future__ import annotations

from django.apps import AppConfig


class DevelopmentConfig(AppConfig):
    name = "kamfit.development"
    label = "development"
    verbose_name = "Development plans"
