"""Failing closed on every route (A18): a permission check that raises gives no data.

For every GET of the matrix, in every object state, the request is sent once as the
first role the matrix lets through, with every scoping and permission function of
:mod:`kamfit.orgs.access` wrapped to record which of them the view calls. Then, for each
function it called, the request is sent again with that one function raising: the
answer must be 403 or 500, and hold none of the organisation's people's names. A view
that caught the error and answered anyway, or that fell back to an unscoped query,
fails here. The wrapping replaces every binding of the function in kamfit's modules
(``from kamfit.orgs.access import list_people`` makes a binding of its own), so a call
is seen whichever name it goes through.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client

from kamfit.assessments.models import Person
from kamfit.orgs import access
from kamfit.orgs.matrix import ROLES, load
from kamfit.orgs.models import Role
from tests.security.matrix.routes import all_routes, send, url_for
from tests.security.matrix.world import World

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
]

MATRIX = load()
ROUTES = all_routes()
#: The checks: every function access.py exports, and the role check it re-exports.
CHECKS = {
    name: getattr(access, name)
    for name in sorted({*access.__all__, "may"})
    if callable(getattr(access, name, None)) and not isinstance(getattr(access, name), type)
}
#: The OpenAPI document is built by introspecting the views: drf-spectacular calls their
#: querysets and, by design, carries on without them when they fail. It holds no data.
INTROSPECTED = {"api:schema"}
GETS = [
    name
    for name in sorted(MATRIX.routes)
    if name in ROUTES and "GET" in MATRIX.routes[name].methods and name not in INTROSPECTED
]


class CheckFailed(RuntimeError):
    """What a permission check raises in this test."""


def _bindings(function: Callable[..., Any]) -> list[tuple[ModuleType, str]]:
    """Every (module, name) in kamfit that refers to ``function``."""
    found: list[tuple[ModuleType, str]] = []
    for module_name, module in sys.modules.copy().items():  # copy(): atomic, unlike list()
        if module is None or not module_name.startswith("kamfit"):
            continue
        found.extend((module, n) for n, value in vars(module).copy().items() if value is function)
    return found


@contextmanager
def _replaced(replace: Callable[[str, Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """Replace the checks in every kamfit module imported so far (looked up each time:
    Django imports some, such as the context processors, on the first page rendered)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, function in CHECKS.items():
            stand_in = replace(name, function)
            if stand_in is not function:
                for module, attribute in _bindings(function):
                    patch.setattr(module, attribute, stand_in)
        yield


def _recording(calls: list[str]) -> Callable[[str, Callable[..., Any]], Callable[..., Any]]:
    def replace(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return function(*args, **kwargs)

        return recorded

    return replace


def _raising(failing: str) -> Callable[[str, Callable[..., Any]], Callable[..., Any]]:
    def replace(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        if name != failing:
            return function

        def boom(*args: Any, **kwargs: Any) -> Any:
            raise CheckFailed(f"{name} failed")

        return boom

    return replace


def _text(response: HttpResponseBase) -> str:
    """The answer's text. Reading a file download to its end closes the file, as the test
    client arranges; ``response.close()`` would also close the database connection."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")  # type: ignore[attr-defined]
    content: bytes = getattr(response, "content", b"")
    return content.decode("utf-8", "replace")


def test_the_wrapping_reaches_the_checks_through_every_import() -> None:
    assert {"list_memberships", "access_person", "list_visible_people", "may"} <= set(CHECKS)
    # access.py itself and at least one view module hold each of these.
    import kamfit.web.urls  # noqa: F401  (imports every view module)

    for name in ("access_person", "access_cycle", "list_visible_plans"):
        modules = {m.__name__ for m, _ in _bindings(CHECKS[name])}
        assert "kamfit.orgs.access" in modules
        assert len(modules) > 1, (name, modules)


@pytest.mark.parametrize("name", GETS)
def test_a_permission_check_that_raises_gives_403_or_500_and_no_data(
    world: World, name: str
) -> None:
    rule, route = MATRIX.routes[name], ROUTES[name]
    secrets = [p.name for p in Person.objects.filter(organisation=world.alpha.org)]
    assert secrets
    problems: list[str] = []
    for variant, answers in rule.expected["GET"].items():
        role = next((r for r in ROLES if answers[r] == "ok"), None)
        if role is None:
            continue
        user = world.alpha.users[Role(role)]
        org = world.alpha if rule.tenant == "org" else None
        url = url_for(world, name, dict(rule.objects[variant]), org, world.alpha)
        _text(send(world.client(user), route.kind, "GET", url))  # Django's lazy imports
        calls: list[str] = []
        with _replaced(_recording(calls)):
            answer = send(world.client(user), route.kind, "GET", url)
            _text(answer)
            shown = answer.status_code == 200
        if shown and rule.tenant == "org" and not calls:
            problems.append(f"GET {url} [{variant}] shows an organisation's page but no check")
        for failing in dict.fromkeys(calls):
            client = Client(raise_request_exception=False)
            client.cookies = world.client(user).cookies
            with _replaced(_raising(failing)):
                response = send(client, route.kind, "GET", url)
            text = _text(response)
            leaked = [s for s in secrets if s in text]
            if response.status_code not in {403, 500} or leaked:
                problems.append(
                    f"GET {url} [{variant}] as {role} with {failing} raising: "
                    f"{response.status_code}, names in the answer: {leaked}"
                )
    assert not problems, "\n".join(problems)
