"""Settings for the servers and commands that the fault tests start in subprocesses.

The test settings, with the database-outage middleware installed (once: if
``kamfit.web.settings`` already lists it, nothing changes) and ``DEBUG`` off whatever
the environment says, so that an error page is what a production user would see.
"""

from __future__ import annotations

from kamfit.web.test_settings import *  # noqa: F403
from kamfit.web.test_settings import MIDDLEWARE

OUTAGE_MIDDLEWARE = "kamfit.web.errors.DatabaseUnavailableMiddleware"


def with_outage_middleware(middleware: list[str]) -> list[str]:
    """The middleware list with the outage middleware right after security and WhiteNoise."""
    if OUTAGE_MIDDLEWARE in middleware:
        return list(middleware)
    anchors = [
        i
        for i, name in enumerate(middleware)
        if name
        in {
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
        }
    ]
    at = max(anchors) + 1 if anchors else 0
    return [*middleware[:at], OUTAGE_MIDDLEWARE, *middleware[at:]]


MIDDLEWARE = with_outage_middleware(MIDDLEWARE)
DEBUG = False
