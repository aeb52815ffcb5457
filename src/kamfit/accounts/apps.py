"""The accounts app: connects its signal receivers and registers its system check."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kamfit.accounts"
    label = "accounts"
    verbose_name = "Accounts and sign-in security"

    def ready(self) -> None:
        """Connect the receivers and the deploy check (imported for their side effects)."""
        from kamfit.accounts import checks, signals  # noqa: F401, PLC0415
