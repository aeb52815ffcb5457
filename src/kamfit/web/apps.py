"""The web project's own app: base templates and static files."""

from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kamfit.web"
    label = "web"
