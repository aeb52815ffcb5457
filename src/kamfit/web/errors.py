"""Generic error pages that never reveal internals."""

from __future__ import annotations

import logging
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger("kamfit.errors")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Say the page does not exist (also for other organisations' objects)."""
    return render(request, "web/error.html", {"title": "Not found", "code": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Say something failed, with an id to quote to the operator."""
    error_id = uuid.uuid4().hex[:12]
    log.error("server error %s on %s", error_id, request.path)
    context = {"title": "Something went wrong", "code": 500, "error_id": error_id}
    return render(request, "web/error.html", context, status=500)
