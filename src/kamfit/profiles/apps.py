"""KAM role profiles and the weighting exercises that give them one consistent view."""

from __future__ import annotations

from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "kamfit.profiles"
    label = "profiles"
    verbose_name = "Role profiles"
