"""T2: every route answers with the hardened headers, and cookies carry their flags.

RELIABILITY A10, A11, A34: HSTS, a nonce-based CSP, nosniff, a Referrer-Policy and,
for signed-in users, ``Cache-Control: no-store`` on every answer, whatever its status
(a 403 or 404 included); no inline script or style and no third-party asset in any page;
session and CSRF cookies ``__Host-``, Secure, HttpOnly (session) and SameSite.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kamfit.orgs.models import Role
from tests.conftest import Team
from tests.factories import PASSWORD
from tests.security.hardening.headers import directives, problems
from tests.security.hardening.routes import World, all_routes, url_of

WHO = [None, *Role]  # None: not signed in


def _get_every_route(client: Client, world: World, *, authenticated: bool) -> Counter[str]:
    failures: dict[str, list[str]] = {}
    statuses: Counter[str] = Counter()
    for route in all_routes():
        response = client.get(url_of(route, world), secure=True)
        statuses[f"{response.status_code // 100}xx"] += 1
        found = problems(response, authenticated=authenticated)
        if response.status_code >= 500:
            found.append(f"status {response.status_code}")
        if found:
            failures[f"{route.name} ({response.status_code})"] = found
    assert failures == {}
    return statuses


@pytest.mark.parametrize("role", WHO, ids=lambda r: str(r or "anonymous"))
def test_every_route_carries_the_hardened_headers(
    production: SettingsWrapper, world: World, team: Team, role: Role | None
) -> None:
    client = Client(raise_request_exception=False)
    if role is not None:
        client.force_login(team.side.users[role])
    statuses = _get_every_route(client, world, authenticated=role is not None)
    assert sum(statuses.values()) == len(all_routes()) > 150
    if role == Role.HR:  # most routes are real pages for HR, not 404s
        assert statuses["2xx"] > 80


def test_each_request_gets_its_own_nonce(production: SettingsWrapper, team: Team) -> None:
    client = Client()
    client.force_login(team.side.users[Role.HR])
    first, second = (client.get("/", secure=True, follow=True) for _ in range(2))
    assert directives(first)["script-src"] != directives(second)["script-src"]


def test_a_page_with_inline_style_or_unnonced_script_is_caught(
    production: SettingsWrapper, team: Team
) -> None:
    client = Client()
    client.force_login(team.side.users[Role.HR])
    response = client.get("/", secure=True, follow=True)
    assert problems(response, authenticated=True) == []
    response.content = b'<p style="color:red"><script>alert(1)</script>'
    del response.headers["Cache-Control"]
    found = problems(response, authenticated=True)
    assert "inline style in the page" in found
    assert any(f.startswith("inline script without the nonce") for f in found)
    assert any(f.startswith("Cache-Control") for f in found)


def test_login_sets_host_prefixed_secure_httponly_samesite_cookies(
    production: SettingsWrapper, team: Team
) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/", secure=True)
    csrf = page.cookies["__Host-csrftoken"]
    user = team.side.users[Role.PARTICIPANT]
    response = client.post(
        "/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf.value},
        secure=True,
        headers={"referer": "https://testserver/login/"},  # HTTPS posts need a same-origin referer
    )
    assert response.status_code == 302
    session = response.cookies["__Host-session"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] in ("Lax", "Strict")
    assert session["path"] == "/" and not session["domain"]
    for cookie in (csrf, response.cookies.get("__Host-csrftoken", csrf)):
        assert cookie["secure"] and cookie["samesite"] in ("Lax", "Strict")
        assert cookie["path"] == "/" and not cookie["domain"]
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert "no-store" in client.get("/", secure=True).headers["Cache-Control"]
