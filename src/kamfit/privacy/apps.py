"""Privacy: data classification, subject-access export, two-approver erasure, retention."""

from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "kamfit.privacy"
    label = "privacy"
    verbose_name = "Privacy"
