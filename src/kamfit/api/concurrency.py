"""Optimistic version checks for the API: ETag on reads, If-Match on writes (RELIABILITY A25).

A record's tag is a SHA-256 over its representation, as the API returns it from the
record's GET. :func:`etagged` puts it in the ``ETag`` header of that GET; a write
decorated with :func:`if_match` compares the ``If-Match`` header with the tag of the
record *as it is now*, computed inside the write's transaction after the record's row
is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
lets one writer in at a time). A different tag answers 412 Precondition Failed and
changes nothing; the same tag lets the write run, and its answer carries the new ETag.

The tag is content-based rather than a revision column, so no table needs a migration
and any change to what the client saw (by a page, the API, the CLI or an import)
counts. A write without If-Match works as before: clients should send it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db import models, transaction
from django.http import HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from kamfit.domain.errors import StaleVersion

__all__ = [
    "ETAG_HEADER",
    "IF_MATCH_PARAMETER",
    "STALE_RESPONSE",
    "etagged",
    "if_match",
    "requested_tag",
    "tag_of",
]

Handler = Callable[..., HttpResponse]
_H = TypeVar("_H", bound=Handler)

IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag you read (GET): the change is refused with 412 if the record "
    "changed since. Recommended; without it the last write wins.",
    required=False,
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    description="The record's tag: send it back in If-Match when changing the record.",
    response=[200, 201],
)
STALE_RESPONSE = OpenApiResponse(
    description="Precondition Failed: the record changed since the ETag named in If-Match. "
    "Read it again (GET), then repeat the change."
)
_TAGGED = frozenset({200, 201})
STALE_MESSAGE = "This record changed since you read it (If-Match): read it again, then retry."


def tag_of(response: HttpResponse) -> str:
    """The tag of a representation: SHA-256 over its JSON (or its bytes, for a document)."""
    if isinstance(response, Response) and response.data is not None:
        body = JSONRenderer().render(response.data)
    else:
        body = bytes(response.content)
    return hashlib.sha256(body).hexdigest()


def _header(tag: str) -> str:
    return f'"{tag}"'


def requested_tag(request: Request) -> str | None:
    """The tag named by If-Match (quotes and a weak prefix allowed); None without one or ``*``."""
    raw = request.headers.get("If-Match", "").strip()
    if not raw or raw == "*":
        return None
    return raw.removeprefix("W/").strip('"')


def etagged(read: _H) -> _H:
    """Decorate a record's GET handler: a successful answer carries the record's ETag."""

    @functools.wraps(read)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        response = read(self, request, *args, **kwargs)
        if response.status_code == 200:
            response["ETag"] = _header(tag_of(response))
        return response

    _documented_read(wrapper)
    return cast(_H, wrapper)


def _call(read: Handler, view: Any, request: Request, kwargs: dict[str, Any]) -> HttpResponse:
    """Call a GET handler with the URL arguments it takes (a sub-URL has more)."""
    names = set(inspect.signature(read).parameters)
    return read(view, request, **{k: v for k, v in kwargs.items() if k in names})


def _schema_base(wrapper: Any) -> type[AutoSchema]:
    return cast(type[AutoSchema], getattr(wrapper, "kwargs", {}).get("schema") or AutoSchema)


def _set_schema(wrapper: Any, schema: type[AutoSchema]) -> None:
    wrapper.kwargs = {**getattr(wrapper, "kwargs", {}), "schema": schema}


def _documented_read(wrapper: Any) -> None:
    """Declare the ETag response header in the OpenAPI schema of a record's GET."""

    class WithETag(_schema_base(wrapper)):  # type: ignore[misc]
        def get_override_parameters(self) -> list[Any]:
            return [*super().get_override_parameters(), ETAG_HEADER]

    _set_schema(wrapper, WithETag)


def _documented(wrapper: Any) -> None:
    """Declare If-Match and 412 in the OpenAPI schema, on top of the view's own extend_schema."""

    class WithIfMatch(_schema_base(wrapper)):  # type: ignore[misc]
        def get_override_parameters(self) -> list[Any]:
            return [*super().get_override_parameters(), IF_MATCH_PARAMETER, ETAG_HEADER]

        def get_response_serializers(self) -> Any:
            found = super().get_response_serializers()
            if not isinstance(found, dict):  # the code drf-spectacular would give it
                delete, create = self.method == "DELETE", self._is_create_operation()
                found = {204 if delete else 201 if create else 200: found}
            return {**found, 412: STALE_RESPONSE}

    _set_schema(wrapper, WithIfMatch)


def if_match(
    read: Handler, *, lock: type[models.Model], key: str = "pk", same: bool = True
) -> Callable[[_H], _H]:
    """Decorate a write on one record: check If-Match against the record's tag, atomically.

    ``read`` is the record's GET handler (its answer defines the tag); ``lock`` the
    model whose row (primary key: the URL argument ``key``) is locked for the check and
    the write; ``same`` says the write answers with the record's representation, as
    GET does (else the new tag is read with ``read`` after the write).
    """

    def decorate(write: _H) -> _H:
        @functools.wraps(write)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
            wanted = requested_tag(request)
            if wanted is None:  # as before: no lock, no transaction of its own
                return _with_new_tag(write(self, request, *args, **kwargs), self, request, kwargs)
            failure: Exception | None = None
            with transaction.atomic():
                locked = lock._default_manager.select_for_update().filter(pk=kwargs[key])
                list(locked.values_list("pk", flat=True))
                current = _call(read, self, request, kwargs)
                if current.status_code != 200 or tag_of(current) != wanted:
                    return _stale(write, self, request, args, kwargs)
                try:
                    response = write(self, request, *args, **kwargs)
                except Exception as exc:
                    # A refused write keeps what it stored before refusing (e.g. answers
                    # saved by a refused submit), exactly as without If-Match.
                    failure = exc
                else:
                    response = _with_new_tag(response, self, request, kwargs)
            if failure is not None:
                raise failure
            return response

        def _stale(
            write: _H, view: Any, request: Request, args: Any, kwargs: dict[str, Any]
        ) -> HttpResponse:
            """Answer a write whose If-Match is outdated, changing nothing.

            A request that would fail anyway (invalid body 400, no access 403 or 404, a
            state that forbids it 409) gets that answer: 412 means "this would have
            worked on the version you named". The write is tried in a savepoint that is
            always rolled back, with the row still locked.
            """
            savepoint = transaction.savepoint()
            try:
                attempt = write(view, request, *args, **kwargs)
            finally:
                transaction.savepoint_rollback(savepoint)
            if attempt.status_code >= 400:
                return attempt
            raise StaleVersion(STALE_MESSAGE)

        def _with_new_tag(
            response: HttpResponse, view: Any, request: Request, kwargs: dict[str, Any]
        ) -> HttpResponse:
            """Put the record's new tag on a successful write's answer."""
            if response.status_code in _TAGGED:
                fresh = response if same else _call(read, view, request, kwargs)
            elif response.status_code == 204:
                fresh = _call(read, view, request, kwargs)
            else:
                return response
            if fresh.status_code in _TAGGED:
                response["ETag"] = _header(tag_of(fresh))
            return response

        _documented(wrapper)
        return cast(_H, wrapper)

    return decorate
