"""Account changes made by an administrator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from kamfit.accounts.models import UserSession

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["deactivate_user"]


@transaction.atomic
def deactivate_user(user: User) -> int:
    """Set ``is_active`` False; return how many sessions ended (the save signal ends them)."""
    live = UserSession.objects.filter(user_id=user.pk).count()
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return live
