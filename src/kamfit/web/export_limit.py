"""A stricter per-user limit on bulk exports, one count shared by the API and the pages.

The general API limit (``KAMFIT_API_RATE``, 200 requests a minute) is generous because
pages of an API client make many small reads. A file export is different: each one
hands over a whole data set (people, results, answers, a person's full record) or costs
a rendering (a PDF takes about a second), so a stolen token or a runaway script could
pull an organisation's data out in minutes. ``KAMFIT_EXPORT_RATE`` (default
``30/10min``) caps exports per user, whichever channel asks: the API views use
:class:`ExportLimitedView`, the pages :func:`export_limited`, and both count in the same
cache entry (one that all worker processes share: :mod:`kamfit.web.throttling`), so
switching from the pages to the API does not double the allowance.

Every request to an export address counts when it is checked, whatever the answer
(as DRF's throttles do): the limit is checked before the organisation and the object are
looked up, so a user over the limit gets 429 for every export address alike, and the
answer says nothing about whether another organisation's object exists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.views import APIView

from kamfit.auditlog.services import record_rate_limit_hit
from kamfit.web.errors import too_many_requests
from kamfit.web.throttling import SharedCounts

__all__ = [
    "SCOPE",
    "ExportLimitedView",
    "ExportRateThrottle",
    "describe_rate",
    "export_limited",
    "parse_rate",
]

#: The throttle's scope, in the cache key and in the ``ratelimit.hit`` audit entry.
SCOPE = "export"

_RATE = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)?(s|sec|second|m|min|minute|h|hour|d|day)")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNIT_WORDS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}

View = TypeVar("View", bound=Callable[..., HttpResponse])


def parse_rate(rate: str) -> tuple[int, int]:
    """Read ``count/[multiple]unit`` (``30/10min``, ``200/min``) as (count, seconds).

    DRF's own parser knows one unit only (``30/m``); a window of several minutes lets a
    person download a burst of files and still caps a script's sustained rate.
    """
    match = _RATE.fullmatch(rate)
    if match is None:
        raise ValueError(f"{rate!r}: write it as a count per period, e.g. 30/10min")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _SECONDS[unit[0]]


def describe_rate(count: int, seconds: int) -> str:
    """Say the limit in plain words: ``30 exports every 10 minutes``."""
    for size in sorted(_UNIT_WORDS, reverse=True):
        if seconds % size == 0:
            n, word = seconds // size, _UNIT_WORDS[size]
            period = f"{word}" if n == 1 else f"{n} {word}s"
            break
    noun = "export" if count == 1 else "exports"
    return f"{count} {noun} every {period}"


class ExportRateThrottle(SharedCounts):
    """Count exports per user in the shared cache; anonymous requests are never counted.

    The rate is read from ``settings.EXPORT_RATE`` on every request rather than from
    DRF's ``DEFAULT_THROTTLE_RATES`` (bound when DRF is imported), so that the test
    settings can switch it off (``None``) and a test can switch it on again with
    ``override_settings``.
    """

    scope = SCOPE
    num_requests: int | None
    duration: int | None

    def get_rate(self) -> str | None:
        rate = getattr(settings, "EXPORT_RATE", None)
        return rate if isinstance(rate, str) and rate else None

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return (None, None) if rate is None else parse_rate(rate)

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.key_for(request.user)

    def key_for(self, user: AbstractBaseUser | AnonymousUser | None) -> str | None:
        """One key per user for both channels; None (not counted) for anonymous users."""
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}

    def allow_request(self, request: Request, view: APIView) -> bool:
        return self.allow_user(request.user)

    def allow_user(self, user: AbstractBaseUser | AnonymousUser | None) -> bool:
        """Count one export for ``user``; False if the window already holds the maximum.

        The same sliding window as DRF's ``SimpleRateThrottle.allow_request``, keyed by
        the user alone, so that a page view (a Django request) counts where the API does.
        """
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        key = self.key_for(user)
        if key is None:
            return True
        self.key = key
        self.history = self.cache.get(key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()

    def seconds_to_wait(self) -> int:
        """Whole seconds until the oldest export in the window expires (at least 1)."""
        return max(1, math.ceil(self.wait() or 0))

    def refusal(self) -> str:
        """The message for a refused export, naming the limit in plain words."""
        limit = describe_rate(self.num_requests or 0, self.duration or 0)  # set when refusing
        return (
            f"Too many exports: at most {limit} per user, counting the pages and the API together."
        )


class ExportLimitedView(APIView):
    """An API view whose GET is a bulk export, counted against ``KAMFIT_EXPORT_RATE``.

    Override :meth:`is_export` when only some GETs are exports (a document format, say).
    The general API throttles still apply on top.
    """

    def is_export(self, request: Request) -> bool:
        return request.method == "GET"

    def check_throttles(self, request: Request) -> None:
        if self.is_export(request):
            throttle = ExportRateThrottle()
            if not throttle.allow_request(request, self):
                self.throttle_scope = throttle.scope  # read by the ratelimit.hit record
                raise Throttled(throttle.seconds_to_wait(), detail=throttle.refusal())
        super().check_throttles(request)


def export_limited(
    when: Callable[[Mapping[str, Any]], bool] | None = None,
) -> Callable[[View], View]:
    """Count a page's downloads against ``KAMFIT_EXPORT_RATE``; over it, a 429 page.

    Put it outside ``org_view`` so that the limit is checked before the organisation
    and the object are looked up (see the module docstring). ``when`` gets the URL's
    keyword arguments and says whether this request is an export (a view that also
    shows an HTML page, or a blank template, is not).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if when is None or when(kwargs):
                throttle = ExportRateThrottle()
                if not throttle.allow_user(request.user):
                    record_rate_limit_hit(request, None, scope=throttle.scope)
                    return too_many_requests(
                        request,
                        "Too many exports",
                        f"{throttle.refusal()} Please try again in "
                        f"{_in_words(throttle.seconds_to_wait())}.",
                        retry_after=throttle.seconds_to_wait(),
                    )
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds" if seconds != 1 else "1 second"
    return f"{math.ceil(seconds / 60)} minutes"
