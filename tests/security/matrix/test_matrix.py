"""The permission matrix, checked route by route against real objects of two tenants.

One test per route and HTTP method. Each sends, for every object state the matrix
lists, one request per role of alpha on alpha's objects (the matrix's answer), one
anonymous request, and — on organisation-scoped routes — one request per role of
alpha on beta (beta's slug, and alpha's slug with beta's object ids) plus one by a
consultant who is not a member of alpha: all three must answer 404. Every answer that
passed authorization is searched for beta's canary (lists, counts, CSV, XLSX), and
JSON answers for the keys the matrix says a role must never receive.

A route in the resolver or the OpenAPI schema without a matrix entry fails
:func:`test_every_route_is_in_the_matrix` with a YAML stub to paste.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from django.contrib.auth.models import User
from django.http import HttpResponseBase

from kamfit.orgs.matrix import ANONYMOUS, METHODS, ROLES, RouteRule, load
from kamfit.orgs.models import Role
from tests.security.matrix.routes import (
    Route,
    all_routes,
    classify,
    is_tenant_ref,
    schema_operations,
    send,
    url_for,
)
from tests.security.matrix.world import CANARY, Side, World

pytestmark = [
    pytest.mark.django_db,
    # Results of a cycle with no submitted form average an empty array (numpy warns);
    # reported as an open issue, not an access-control one.
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
]

MATRIX = load()
ROUTES = all_routes()
CASES = [
    (name, method)
    for name in sorted(MATRIX.routes)
    if name in ROUTES
    for method in MATRIX.routes[name].methods
]


def _stub(route: Route) -> str:
    """A ready-to-paste matrix entry for a route the matrix does not know yet."""
    entry: dict[str, object] = {}
    objects = [k for k in route.kwargs if k != "org"]
    if objects:
        entry["objects"] = {"any": dict.fromkeys(objects, "TODO_world_object")}
    for method in route.methods:
        entry[method] = {"ok": ["TODO"], "forbidden": "others"}
    if "org" not in route.kwargs:
        entry["tenant"] = "none"
    entry["why"] = "TODO: which permission of kamfit.orgs.permissions decides this"
    return yaml.safe_dump({route.name: entry}, sort_keys=False, default_flow_style=None)


def test_every_route_is_in_the_matrix() -> None:
    missing = [ROUTES[n] for n in sorted(ROUTES) if n not in MATRIX.routes]
    stale = sorted(n for n in MATRIX.routes if n not in ROUTES)
    assert not missing, (
        "Routes without a permission-matrix entry (src/kamfit/orgs/permission_matrix.yaml); "
        "paste and complete:\n\n" + "".join(_stub(r) for r in missing)
    )
    assert not stale, f"Matrix entries for routes that no longer exist: {stale}"


def test_every_method_of_every_route_is_in_the_matrix() -> None:
    problems = []
    for name, route in ROUTES.items():
        rule = MATRIX.routes.get(name)
        if rule is None:
            continue  # reported by test_every_route_is_in_the_matrix
        listed = set(rule.methods)
        wanted = set(route.methods)
        if route.kind == "api" and listed != wanted:
            problems.append(f"{name}: view has {sorted(wanted)}, matrix has {sorted(listed)}")
        if route.kind == "web" and not wanted <= listed:
            problems.append(f"{name}: matrix lacks {sorted(wanted - listed)}")
        if rule.kind != route.kind:
            problems.append(f"{name}: matrix says kind {rule.kind}, the route is {route.kind}")
        if (rule.tenant == "org") != ("org" in route.kwargs):
            problems.append(f"{name}: tenant {rule.tenant!r} but URL keywords {route.kwargs}")
        for variant, kwargs in rule.objects.items():
            wanted_kw = {k for k in route.kwargs if k != "org"}
            if set(kwargs) != wanted_kw:
                problems.append(f"{name}.{variant}: objects {sorted(kwargs)} ≠ URL {wanted_kw}")
    assert not problems, "\n".join(problems)


def test_every_openapi_operation_is_in_the_matrix() -> None:
    operations = schema_operations()
    missing = sorted(
        f"{name} {method}"
        for name, method in operations
        if name not in MATRIX.routes or method not in MATRIX.routes[name].methods
    )
    assert operations
    assert not missing, f"OpenAPI operations without a matrix answer: {missing}"


def test_matrix_roles_are_kamfits_roles() -> None:
    assert tuple(str(r) for r in Role) == ROLES
    assert set(METHODS) >= {m for r in MATRIX.routes.values() for m in r.methods}


@dataclass(frozen=True)
class Ask:
    """One request of a case: who, which organisation's slug, whose objects, expected."""

    who: str
    user: User | None
    org: Side
    objects: Side
    expected: str


def _asks(
    world: World, rule: RouteRule, kwargs: dict[str, str], answers: dict[str, str]
) -> Iterator[Ask]:
    alpha, beta = world.alpha, world.beta
    for role in Role:
        yield Ask(f"{role}@alpha", alpha.users[role], alpha, alpha, answers[str(role)])
    yield Ask(ANONYMOUS, None, alpha, alpha, answers[ANONYMOUS])
    if rule.tenant != "org":
        return
    refs = [*kwargs.values(), *rule.body.values()]

    def foreign(role: str) -> str:
        # 405 comes before any lookup: a method the route never takes is not a leak.
        return "method" if answers[role] == "method" else "hidden"

    for role in Role:
        yield Ask(f"{role}→beta", alpha.users[role], beta, beta, foreign(role))
        if any(is_tenant_ref(ref) for ref in refs):
            yield Ask(f"{role}→alpha-slug+beta-ids", alpha.users[role], alpha, beta, foreign(role))
    yield Ask("unassigned consultant", world.stranger, alpha, alpha, foreign("consultant"))


def _text(response: HttpResponseBase) -> str:
    """The answer's readable content: XLSX is unzipped, other bytes decoded."""
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        body = response.content  # type: ignore[attr-defined]
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return body.decode("utf-8", "replace")


def _snippet(response: HttpResponseBase) -> str:
    """The start of a JSON answer (an error's code and detail), to explain a mismatch."""
    if response.get("Content-Type", "").startswith("application/json"):
        content: bytes = getattr(response, "content", b"")
        return content[:160].decode("utf-8", "replace")
    return response.get("Location", "")


def _keys(data: object) -> Iterator[str]:
    """Every key of a JSON document whose value is not empty (None, "", [] or {})."""
    if isinstance(data, dict):
        for key, value in data.items():
            if value not in (None, "", [], {}):
                yield str(key)
            yield from _keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from _keys(item)


def _check_body(rule: RouteRule, ask: Ask, response: HttpResponseBase) -> list[str]:
    """Canary and field checks on an answer that passed authorization."""
    problems = []
    text = _text(response)
    if CANARY in text:
        problems.append(f"{ask.who}: beta's data ({CANARY}) in the answer")
    role = ask.who.split("@")[0]
    absent = rule.fields.get(role, ())
    if absent and response.get("Content-Type", "").startswith("application/json"):
        present = set(_keys(json.loads(text))) & set(absent)
        if present:
            problems.append(f"{ask.who}: fields {sorted(present)} must be absent or empty")
    return problems


COUNT = {"requests": 0}


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_route_answers_as_the_matrix_says(world: World, name: str, method: str) -> None:
    rule = MATRIX.routes[name]
    route = ROUTES[name]
    problems: list[str] = []
    for variant, answers in rule.expected[method].items():
        kwargs = dict(rule.objects[variant])
        for ask in _asks(world, rule, kwargs, dict(answers)):
            org = ask.org if rule.tenant == "org" else None
            url = url_for(world, name, kwargs, org, ask.objects)
            body = _body(world, rule, ask.objects)
            response = send(world.client(ask.user), route.kind, method, url, body)
            got = classify(response, anonymous=ask.user is None)
            COUNT["requests"] += 1
            if got != ask.expected:
                problems.append(
                    f"{method} {url} [{variant}] as {ask.who}: expected {ask.expected}, "
                    f"got {got} ({response.status_code} {_snippet(response)})"
                )
            elif got == "ok" and ask.objects is world.alpha:
                problems.extend(_check_body(rule, ask, response))
    assert not problems, "\n".join(problems)


def _body(world: World, rule: RouteRule, side: Side) -> dict[str, str]:
    from tests.security.matrix.routes import resolve_ref

    return {k: resolve_ref(world, side, ref) for k, ref in rule.body.items()}
