"""Rate-limit counts that every worker process of one installation shares.

DRF's throttles keep their counts in Django's default cache, which is each process's
own memory: behind ``kamfit serve --production --workers 3`` a user could make three
times the configured number of requests, one allowance per worker. The counts live
instead in the ``ratelimits`` cache, a directory under ``KAMFIT_DATA_DIR`` that all
workers on the host read and write (the test settings keep it in memory). Several hosts
behind one load balancer would each count on their own: the operator guide says so.
"""

from __future__ import annotations

from django.core.cache import BaseCache, caches
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

__all__ = ["CACHE", "SharedCounts", "SharedUserRateThrottle"]

#: The cache alias that holds the counts (``settings.CACHES``).
CACHE = "ratelimits"


class SharedCounts(SimpleRateThrottle):
    """A throttle whose counts are in the shared ``ratelimits`` cache."""

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]
        """Looked up per use, so ``override_settings(CACHES=…)`` reaches it in tests."""
        return caches[CACHE]


class SharedUserRateThrottle(SharedCounts, UserRateThrottle):
    """``KAMFIT_API_RATE`` per signed-in user (per IP for anonymous clients), shared."""
