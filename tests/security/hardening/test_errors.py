"""A38, A19, T25: generic error answers with an error id, and strict API content types.

Error pages and API errors carry an id to quote and never a stack trace, SQL, a setting
name or a file path; JSON answers say ``application/json``; a body in a media type the
API does not parse gets 415 and a method an endpoint does not offer gets 405.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from kamfit.orgs.models import Role
from kamfit.web import urls as web_urls
from tests.conftest import Team
from tests.security.hardening.routes import World

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

# What an error body must never contain: a traceback, a source path, SQL, settings.
LEAKS = re.compile(
    r"Traceback|File \"/|/site-packages/|/src/kamfit|\.py\b|near \"|SELECT |INSERT INTO|"
    r"UPDATE |DELETE FROM|OperationalError|IntegrityError|SECRET_KEY|DATABASES|DEBUG|"
    r"INSTALLED_APPS|ALLOWED_HOSTS|DJANGO_SETTINGS_MODULE|CsrfViewMiddleware|Reason given",
)
ERROR_ID = re.compile(r"[0-9a-f]{12,32}")


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("SELECT secret FROM kamfit_table WHERE path='/src/kamfit/x.py'")


def _api_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("DATABASES['default'] near \"x\": syntax error")


urlpatterns = [
    path("boom/", _boom),
    path("api/v1/boom/", _api_boom),
    *web_urls.urlpatterns,
]
handler400 = web_urls.handler400
handler403 = web_urls.handler403
handler404 = web_urls.handler404
handler500 = web_urls.handler500


def _assert_generic(response: TestResponse) -> None:
    body = response.content.decode()
    assert not LEAKS.search(body), body
    assert ERROR_ID.search(body)


@pytest.mark.urls(__name__)
def test_a_crash_answers_a_generic_page_with_an_error_id(db: None) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    _assert_generic(response)
    assert "Something went wrong" in response.content.decode()


@pytest.mark.urls(__name__)
def test_a_crash_on_the_api_answers_json_with_an_error_id(db: None) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "error_id"}
    _assert_generic(response)


def test_not_found_page_and_api_answer_carry_an_error_id(team: Team) -> None:
    client = team.side.client(Role.HR)
    for url in ("/o/alpha/people/999999/", "/api/v1/no-such-endpoint/", "/nowhere/"):
        response = client.get(url)
        assert response.status_code == 404
        _assert_generic(response)


def test_a_bad_host_header_answers_400_without_internals(db: None) -> None:
    response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    _assert_generic(response)


def test_a_missing_csrf_token_answers_a_generic_403(team: Team) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(team.side.users[Role.HR])
    response = client.post("/o/alpha/people/new/", {"name": "X"})
    assert response.status_code == 403
    _assert_generic(response)


def test_a_forbidden_page_keeps_kamfits_reason_and_adds_an_error_id(team: Team) -> None:
    response = team.side.client(Role.PARTICIPANT).get("/o/alpha/profiles/new/")
    assert response.status_code == 403
    _assert_generic(response)
    assert "Your role may not" in response.content.decode()


def test_the_leak_pattern_catches_a_debug_page() -> None:
    """The checks above can fail: Django's technical pages match."""
    debug = 'Traceback (most recent call last):\n  File "/work/src/kamfit/x.py"'
    assert LEAKS.search(debug)


# A sample of API endpoints of every kind: list, detail, action, import.
API_SAMPLE = (
    ("people", ("get", "post")),
    ("cycles", ("get", "post")),
    ("frameworks", ("get", "post")),
    ("profiles", ("get", "post")),
    ("plans", ("get", "post")),
    ("rating-forms/mine", ("get",)),
    ("audits", ("get", "post")),
)


@pytest.mark.parametrize(("name", "allowed"), API_SAMPLE)
def test_api_json_content_type_415_and_405(
    world: World, team: Team, name: str, allowed: tuple[str, ...]
) -> None:
    client = team.side.client(Role.HR)
    url = f"/api/v1/organisations/{world.org}/{name}/"
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    if "post" in allowed:
        for media in ("text/plain", "application/xml", "text/csv; charset=utf-8"):
            refused = client.post(url, data="name=x", content_type=media)
            assert refused.status_code == 415, (media, refused.content)
            assert refused.headers["Content-Type"] == "application/json"
    for method in ("put", "patch", "delete", "post"):
        if method in allowed:
            continue
        refused = getattr(client, method)(url, data="{}", content_type="application/json")
        assert refused.status_code == 405, (method, refused.content)
        assert "Allow" in refused.headers
