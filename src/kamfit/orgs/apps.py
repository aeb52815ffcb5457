"""Organisations, their members and roles."""

from __future__ import annotations

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "kamfit.orgs"
    label = "orgs"
    verbose_name = "Organisations"
