"""Map kamfit's domain errors onto HTTP answers with located problems."""

from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kamfit.auditlog.services import record_rate_limit_hit
from kamfit.domain.errors import NotPermitted, StaleVersion, ValidationError
from kamfit.spreadsheets import TooLarge


def exception_handler(exc: Exception, context: dict[str, object]) -> Response | None:
    """Answer 400 with every problem for invalid input, 409 for forbidden state changes.

    A change based on an outdated ETag (If-Match) answers 412 Precondition Failed; an
    upload over the import size limit 413 Content Too Large.
    """
    if isinstance(exc, Throttled):
        record_rate_limit_hit(context.get("request"), context.get("view"))
    if isinstance(exc, ValidationError):
        problems = [{"location": p.location, "message": p.message} for p in exc.problems]
        code = (
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            if isinstance(exc, TooLarge)
            else status.HTTP_400_BAD_REQUEST
        )
        return Response({"detail": "invalid", "problems": problems}, code)
    if isinstance(exc, StaleVersion):
        return Response({"detail": str(exc)}, status=status.HTTP_412_PRECONDITION_FAILED)
    if isinstance(exc, NotPermitted):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, exceptions.ValidationError):
        # A serializer's own refusal, in the same shape as every other invalid input.
        problems = [{"location": where, "message": what} for where, what in _located(exc.detail)]
        return Response({"detail": "invalid", "problems": problems}, status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def _located(detail: object, where: str = "") -> list[tuple[str, str]]:
    """Flatten DRF's nested error detail into (location, message) pairs."""
    if isinstance(detail, dict):
        return [
            pair
            for key, value in detail.items()
            for pair in _located(value, f"{where}.{key}" if where else str(key))
        ]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [(where, str(item)) for item in detail]
        return [pair for i, item in enumerate(detail) for pair in _located(item, f"{where}[{i}]")]
    return [(where, str(detail))]
