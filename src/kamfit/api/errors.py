"""Map kamfit's domain errors onto HTTP answers with located problems."""

from __future__ import annotations

from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kamfit.domain.errors import NotPermitted, StaleVersion, ValidationError


def exception_handler(exc: Exception, context: dict[str, object]) -> Response | None:
    """Answer 400 with every problem for invalid input, 409 for forbidden state changes.

    A change based on an outdated ETag (If-Match) answers 412 Precondition Failed.
    """
    if isinstance(exc, ValidationError):
        problems = [{"location": p.location, "message": p.message} for p in exc.problems]
        return Response({"detail": "invalid", "problems": problems}, status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleVersion):
        return Response({"detail": str(exc)}, status=status.HTTP_412_PRECONDITION_FAILED)
    if isinstance(exc, NotPermitted):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
