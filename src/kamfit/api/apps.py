"""The REST API under /api/v1/."""

from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kamfit.api"
    label = "api"
    verbose_name = "REST API"
