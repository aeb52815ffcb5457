"""Enumerate the routes to check, send one request, and classify the answer.

Routes come from ``get_resolver()`` (every named URL pattern, the admin site excluded:
it has its own rule) and, for the API, the methods each view class implements, cross-
checked against the drf-spectacular schema. Answers are put into the matrix's outcome
classes by :func:`classify`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kamfit.orgs.matrix import METHODS
from tests.security.matrix.world import Side, World

ADMIN_NAMESPACE = "admin"
WEB_METHODS = ("GET", "POST")
OK_CODES = {400, 409, 412, 413, 415, 422}  # the request got past authorization


@dataclass(frozen=True)
class Route:
    """One named URL pattern."""

    name: str  # namespace:name
    pattern: str
    kwargs: tuple[str, ...]
    kind: str  # web or api
    methods: tuple[str, ...]


def _methods(callback: Any) -> tuple[str, str, tuple[str, ...]]:
    cls = getattr(callback, "cls", None)  # DRF views
    if cls is not None:
        found = {m.upper() for m in cls.http_method_names if hasattr(cls, m)}
        return "api", "", tuple(m for m in METHODS if m in found)
    cls = getattr(callback, "view_class", None)  # Django class-based views
    if cls is not None:
        found = {m.upper() for m in cls.http_method_names if hasattr(cls, m)}
        return "web", "", tuple(m for m in WEB_METHODS if m in found or m == "POST")
    return "web", "", WEB_METHODS


def _walk(
    patterns: list[Any], prefix: str, namespace: str
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern), entry


def all_routes() -> dict[str, Route]:
    """Every named route but the admin site's, keyed by ``namespace:name``."""
    routes: dict[str, Route] = {}
    for name, pattern, entry in _walk(get_resolver().url_patterns, "", ""):
        if name.split(":")[0] == ADMIN_NAMESPACE:
            continue
        kind, _, methods = _methods(entry.callback)
        kwargs = tuple(re.findall(r"<(?:\w+:)?(\w+)>", pattern))
        if name in routes:  # the same name twice: keep the first (reverse() does too)
            continue
        routes[name] = Route(name, pattern, kwargs, kind, methods)
    return routes


def _shape(path: str) -> str:
    """A path with every parameter blanked: ``/a/<int:pk>/`` and ``/a/{id}/`` agree."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def schema_operations() -> set[tuple[str, str]]:
    """(route name, METHOD) of every operation in the OpenAPI schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    by_shape = {
        _shape("/" + route.pattern): route.name
        for route in all_routes().values()
        if route.kind == "api"
    }
    ops: set[tuple[str, str]] = set()
    for path, item in schema["paths"].items():
        for method in item:
            if method.upper() in METHODS:
                ops.add((by_shape.get(_shape(path), f"<unrouted {path}>"), method.upper()))
    return ops


def resolve_ref(world: World, side: Side, ref: str) -> str:
    """Turn a matrix reference (``cycle_open``, ``fw_draft.number``, ``$token``, ``=csv``,
    ``@library``) into a URL keyword value for ``side``."""
    if ref.startswith("="):
        return ref[1:]
    if ref.startswith("$"):
        return side.values[ref[1:]]
    if ref == "@library":
        return str(world.library.framework_id)
    name, _, attr = ref.partition(".")
    obj = side.objects[name]
    return str(getattr(obj, attr or "pk"))


def is_tenant_ref(ref: str) -> bool:
    """Whether a reference names one organisation's own object (so another's differs)."""
    return not ref.startswith(("=", "$", "@")) and "." not in ref


def url_for(
    world: World, name: str, kwargs: dict[str, str], org: Side | None, objects: Side
) -> str:
    """Reverse ``name`` with ``org``'s slug and ``objects``' objects."""
    values = {k: resolve_ref(world, objects, ref) for k, ref in kwargs.items()}
    if org is not None:
        values["org"] = org.org.slug
    return reverse(name, kwargs=values)


def send(
    client: Client, kind: str, method: str, url: str, body: dict[str, str] | None = None
) -> HttpResponseBase:
    """Send one request with an empty body, inside a savepoint that is rolled back.

    The client's cookies are restored too: a request that signs the user out (logout,
    an expired session) must not change who sends the next one.
    """
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif kind == "api":
            call = getattr(client, method.lower())
            response = call(url, json.dumps(body or {}), content_type="application/json")
        elif method == "POST":
            response = client.post(url, body or {})
        else:
            response = client.generic(method, url, b"", "application/x-www-form-urlencoded")
        transaction.set_rollback(True)
    client.cookies = cookies
    return response


_CLASSES = {401: "login", 403: "forbidden", 404: "hidden", 405: "method"}


def classify(response: HttpResponseBase, *, anonymous: bool) -> str:
    """Put an answer into an outcome class of the matrix (or ``error NNN``)."""
    code = response.status_code
    if code in {301, 302, 303, 307, 308}:
        location = response.get("Location", "")
        return "login" if location.startswith((reverse("login"), "/admin/login/")) else "ok"
    if anonymous and code == 403:
        return "login"
    if code in _CLASSES:
        return _CLASSES[code]
    if 200 <= code < 300 or code in OK_CODES:
        return "ok"
    return f"error {code}"
