"""Generic error pages that never reveal internals.

The pages are rendered without the request's context processors, so that they work
when the database does not: a 500 or 503 page must never need a query.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

log = logging.getLogger("kamfit.errors")

#: Exceptions that mean the database is gone, full or unreachable: not a bug, a 503.
DATABASE_DOWN = (OperationalError, InterfaceError)


def _client_error(request: HttpRequest, code: int, title: str, message: str = "") -> HttpResponse:
    """Answer a 4xx with a generic page (or JSON on the API) and an error id.

    The id is logged with the path, so that an operator can find the request a user
    quotes. Only ``message``, written by kamfit for users, is shown; the text of any
    other exception is not, since it may name internals.
    """
    error_id = _error_id(request)
    log.info("client error %s: %s on %s", error_id, code, request.path)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message or title, "error_id": error_id}, status=code)
    context = {"title": title, "code": code, "error_id": error_id, "message": message}
    return render(request, "web/error.html", context, status=code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Say the request was malformed (a bad host header, a broken upload, …)."""
    return _client_error(request, 400, "Bad request")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Say the role does not allow this, with kamfit's reason ("Your role may not …")."""
    message = str(exception) if isinstance(exception, PermissionDenied) else ""
    return _client_error(request, 403, "Not allowed", message or "Your role does not allow this.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Refuse a form posted without a valid CSRF token, without Django's debug reason."""
    return _client_error(request, 403, "Not allowed: the form has expired, please reload it")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Say the page does not exist (also for other organisations' objects)."""
    return _client_error(request, 404, "Not found")


def too_many_requests(
    request: HttpRequest, title: str, message: str, *, retry_after: int
) -> HttpResponse:
    """Answer 429 with the generic page, kamfit's message and ``Retry-After`` (seconds)."""
    response = _client_error(request, 429, title, message)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def _error_id(request: HttpRequest) -> str:
    """Return the request's id (X-Request-ID, in logs and the audit trail), or a new one."""
    request_id = getattr(request, "request_id", None)
    return request_id if isinstance(request_id, str) and request_id else uuid.uuid4().hex


def server_error(request: HttpRequest) -> HttpResponse:
    """Say something failed, with an id to quote to the operator.

    A database outage that escaped the middleware (raised by another middleware, say)
    still answers 503 rather than 500.
    """
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_DOWN):
        return database_unavailable(request, exc)
    error_id = _error_id(request)
    log.error("server error %s on %s", error_id, request.path)
    if request.path.startswith("/api/"):
        detail = "Something went wrong."
        return JsonResponse({"detail": detail, "error_id": error_id}, status=500)
    context = {"title": "Something went wrong", "code": 500, "error_id": error_id}
    return HttpResponse(render_to_string("web/error.html", context), status=500)


def database_unavailable(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """Answer 503 with an error id; log the exception under that id, never show it."""
    error_id = _error_id(request)
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
        """Answer 503 for database errors raised by a view; leave other errors alone.

        An id in the URL beyond the database's integer range (SQLite raises
        OverflowError binding it) names no object: 404, as any unknown id.
        """
        if isinstance(exception, DATABASE_DOWN):
            return database_unavailable(request, exception)
        if isinstance(exception, OverflowError):
            return not_found(request, Http404("No such object"))
        return None
