"""A deploy check: no demo account may exist in production (RELIABILITY A4).

The demo's accounts have a published password; with ``DEBUG`` off, any of them in the
database is an Error, so ``kamfit check --deploy`` fails until they are removed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError

__all__ = ["demo_usernames", "no_demo_accounts"]


def demo_usernames() -> frozenset[str]:
    """The usernames ``kamfit demo`` creates (kamfit.demo and kamfit.demo_people)."""
    from kamfit.demo import DEMO_USERS  # noqa: PLC0415 - heavy import, only when checking
    from kamfit.demo_people import ACCOUNTS  # noqa: PLC0415

    return frozenset(name for name, *_ in [*DEMO_USERS, *ACCOUNTS])


@register(Tags.security, deploy=True)
def no_demo_accounts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Fail when a demo account exists while DEBUG is off."""
    if settings.DEBUG:
        return []
    from django.contrib.auth import get_user_model  # noqa: PLC0415

    try:
        found = sorted(
            get_user_model()
            .objects.filter(username__in=demo_usernames())
            .values_list("username", flat=True)
        )
    except DatabaseError:  # not migrated yet: there cannot be demo users
        return []
    if not found:
        return []
    return [
        Error(
            f"{len(found)} demo account(s) exist with DEBUG off: {', '.join(found[:5])}"
            + ("…" if len(found) > 5 else ""),
            hint="Delete these accounts: the demo password is published.",
            id="kamfit.E001",
        )
    ]
