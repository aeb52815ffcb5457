"""Generic error pages that never reveal internals.

The pages are rendered without the request's context processors, so that they work
when the database does not: a 500 or 503 page must never need a query.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

log = logging.getLogger("kamfit.errors")

#: Exceptions that mean the database is gone, full or unreachable: not a bug, a 503.
DATABASE_DOWN = (OperationalError, InterfaceError)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Say the page does not exist (also for other organisations' objects)."""
    return render(request, "web/error.html", {"title": "Not found", "code": 404}, status=404)


def _error_id() -> str:
    return uuid.uuid4().hex[:12]


def server_error(request: HttpRequest) -> HttpResponse:
    """Say something failed, with an id to quote to the operator.

    A database outage that escaped the middleware (raised by another middleware, say)
    still answers 503 rather than 500.
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_DOWN):
        return database_unavailable(request, exc)
    error_id = _error_id()
    log.error("server error %s on %s", error_id, request.path)
    context = {"title": "Something went wrong", "code": 500, "error_id": error_id}
    return HttpResponse(render_to_string("web/error.html", context), status=500)


def database_unavailable(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """Answer 503 with an error id; log the exception under that id, never show it."""
    error_id = _error_id()
    log.error(
        "database unavailable %s on %s %s: %s",
        error_id,
        request.method,
        request.path,
        type(exc).__name__,
        exc_info=exc,
    )
    detail = "The service is temporarily unavailable. Please try again in a moment."
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": detail, "error_id": error_id}, status=503)
    else:
        context = {"title": "Temporarily unavailable", "code": 503, "error_id": error_id}
        response = HttpResponse(render_to_string("web/error.html", context), status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turn a database outage (gone, full, unreachable) into a generic 503 page.

    Pages get the HTML error page and the API a JSON body ``{"detail", "error_id"}``.
    Install it right after the security and WhiteNoise middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer 503 for database errors raised by a view; leave other errors alone."""
        if isinstance(exception, DATABASE_DOWN):
            return database_unavailable(request, exception)
        return None
