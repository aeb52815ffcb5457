"""The KAM competency framework: browse, copy, edit, version and exchange."""

from __future__ import annotations

from django.apps import AppConfig


class FrameworksConfig(AppConfig):
    name = "kamfit.frameworks"
    label = "frameworks"
