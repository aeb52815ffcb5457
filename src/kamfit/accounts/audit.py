"""The audit-log call of this app, in one place: ids and codes only, never secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db import models
    from django.http import HttpRequest

Value = str | int | float | bool | None


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    target: models.Model | None = None,
    data: Mapping[str, Value] | None = None,
) -> None:
    """Record a sign-in security event (``auth.*``, ``mfa.*``, ``password.*``, ``session.*``)."""
    from kamfit.auditlog.services import record as audit_record  # noqa: PLC0415

    audit_record(
        action,
        request=request,
        actor=actor,
        target=target if target is not None else actor,
        data=data,
    )
