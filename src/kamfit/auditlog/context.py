"""The current request's id, address and channel, for log records and audit events.

A middleware sets them for each request; services far from the view (a release, an
import) then record the request id and IP without every call passing the request down.
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

__all__ = [
    "RequestContext",
    "RequestIdMiddleware",
    "acting_via",
    "client_ip",
    "current",
    "forget_request",
    "request_id_of",
]

REQUEST_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What an audit event needs to know about the request it happened in."""

    request_id: str
    ip: str
    request: HttpRequest | None = None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "kamfit_request", default=None
)
_via: contextvars.ContextVar[str | None] = contextvars.ContextVar("kamfit_via", default=None)


def current() -> RequestContext | None:
    """Return the request being answered in this thread or task, if any."""
    return _current.get()


def client_ip(request: HttpRequest) -> str:
    """Return REMOTE_ADDR, normalised, or '' if it is not an IP address."""
    raw = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return ""


def request_id_of(request: HttpRequest) -> str:
    """Return the id the middleware gave this request ('' outside one)."""
    value = getattr(request, "request_id", "")
    return value if isinstance(value, str) else ""


def current_via() -> str | None:
    """Return the channel set by ``acting_via`` (the CLI sets ``cli``), if any."""
    return _via.get()


@contextmanager
def acting_via(via: str) -> Iterator[None]:
    """Mark the work inside the block as done through ``via`` (``cli`` or ``system``)."""
    token = _via.set(via)
    try:
        yield
    finally:
        _via.reset(token)


class RequestIdMiddleware:
    """Give every request a fresh id: ``request.request_id`` and ``X-Request-ID``.

    An incoming ``X-Request-ID`` is not trusted: a client could otherwise choose the
    id that ties its requests to log lines and audit events. The id is a uuid4 in hex.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Kept until the response is closed (``request_finished``): Django logs a 4xx or
        # 5xx answer after the middleware has returned, and that line needs the id too.
        _current.set(RequestContext(request_id, client_ip(request), request))
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def forget_request(**_kwargs: object) -> None:
    """Clear the request context once the response is closed (``request_finished``)."""
    _current.set(None)
