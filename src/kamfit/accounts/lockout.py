"""Login lockout: per account (django-axes) and per IP address (password spraying).

django-axes counts failures per username and per IP (``AXES_LOCKOUT_PARAMETERS``). The
two have different limits: ``AXES_FAILURE_LIMIT`` (5) failures for one account from any
address, and ``LOGIN_IP_FAILURE_LIMIT`` (50) failures from one address across any
accounts, both within ``AXES_COOLOFF_TIME`` (30 minutes), after which the lock clears
by itself. An address shared by an office behind a proxy can therefore mistype many
times before it is stopped, while a sprayer trying one password on many accounts is.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

__all__ = ["AccountAndAddressHandler", "unlock"]


class AccountAndAddressHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """django-axes' database handler with a separate, higher limit per IP address."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """Return the account's failures, or the account limit once the address is over its own.

        axes compares the result with ``AXES_FAILURE_LIMIT``; the per-address count is
        compared with ``LOGIN_IP_FAILURE_LIMIT`` here.
        """
        account, address = self._attempts(request, credentials)
        account_failures = _total(account)
        if _total(address) >= settings.LOGIN_IP_FAILURE_LIMIT:
            return max(account_failures, settings.AXES_FAILURE_LIMIT)
        return account_failures

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """On a successful login clear the account's failures only, never the address's.

        Otherwise a sprayer who knows one valid password could reset the address count.
        """
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return int(count)

    def _attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None
    ) -> tuple[QuerySet[AccessAttempt], QuerySet[AccessAttempt]]:
        by_username, by_address = self.get_user_attempts(request, credentials)
        return by_username, by_address


def _total(attempts: QuerySet[AccessAttempt]) -> int:
    return int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)


def unlock(username: str) -> int:
    """Clear the lockout of ``username`` (every address); return how many records went."""
    return int(reset(username=username))
