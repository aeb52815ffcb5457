"""T12 / A7–A9: sessions rotate at login, expire (idle, absolute) and die on logout,
deactivation, removal from an organisation and password change."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from kamfit.accounts.models import UserSession
from kamfit.cli import app
from kamfit.orgs.models import Membership, Role
from tests.conftest import Personas

from .helpers import PASSWORD, events, login, make_user

pytestmark = pytest.mark.django_db
PAGE = "/account/"
API = "/api/v1/organisations/"


def _signed_in(username: str = "sam") -> Client:
    make_user(username)
    client = Client()
    assert login(client, username) == 302
    return client


def _dead(client: Client) -> bool:
    page = client.get(PAGE)
    api = client.get(API)
    return (
        page.status_code == 302
        and page["Location"].startswith("/login/")
        and api.status_code in {401, 403}
    )


def test_the_session_id_changes_at_login(db: None) -> None:
    make_user("sam")
    client = Client()
    client.get("/login/")
    client.session.save()
    before = client.cookies["sessionid"].value
    login(client, "sam")
    after = client.cookies["sessionid"].value
    assert before != after
    assert not Session.objects.filter(session_key=before).exists()
    assert UserSession.objects.get(user__username="sam").session_key == after


def test_after_logout_the_old_cookie_is_dead_on_pages_and_api(db: None) -> None:
    client = _signed_in()
    cookie = client.cookies["sessionid"].value
    assert client.get(PAGE).status_code == 200
    client.post("/logout/")
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert _dead(replay)
    assert not UserSession.objects.exists()
    assert len(events("auth.logout")) == 1


def test_idle_for_29_minutes_is_fine_and_31_minutes_ends_the_session(db: None) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _signed_in()
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert client.get(PAGE).status_code == 200
    with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
        response = client.get(PAGE)
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=%2Faccount%2F"
        assert client.get(API).status_code in {401, 403}
    assert [e.data["reason"] for e in events("session.expired")] == ["idle"]


def test_the_api_answers_401_to_an_expired_session(db: None) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _signed_in()
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get(API)
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_an_active_session_ends_12_hours_after_login(db: None) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _signed_in()
    for minutes in range(20, 12 * 60, 20):  # a request every 20 minutes, all day
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(PAGE).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert _dead(client)
    assert [e.data["reason"] for e in events("session.expired")] == ["absolute"]


def test_deactivating_a_user_ends_their_open_session_at_once(db: None) -> None:
    client = _signed_in()
    other = Client()
    login(other, "sam")
    user = UserSession.objects.first().user  # type: ignore[union-attr]
    user.is_active = False
    user.save()
    assert _dead(client) and _dead(other)
    assert not UserSession.objects.exists()
    assert events("user.deactivated")[0].data == {"user_id": user.pk, "sessions": 2}


def test_removal_from_an_organisation_ends_the_session(personas: Personas) -> None:
    user = personas.a.users[Role.ASSESSOR]
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    login(client, user.username)
    assert client.get(PAGE).status_code == 200
    Membership.objects.filter(user=user).delete()
    assert _dead(client)


def test_password_change_signs_out_other_sessions_by_default(db: None) -> None:
    here = _signed_in()
    elsewhere = Client()
    login(elsewhere, "sam")
    form = here.get("/account/password/").content.decode()
    assert 'name="sign_out_others"' in form and "checked" in form
    new = "a new and long passphrase 2026"
    response = here.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": new,
            "new_password2": new,
            "sign_out_others": "on",
        },
    )
    assert response.status_code == 302
    assert here.get(PAGE).status_code == 200  # this session survives
    assert _dead(elsewhere)
    assert UserSession.objects.count() == 1
    assert events("password.changed")[0].data == {"sessions_ended": 1}


def test_password_change_may_keep_other_sessions(db: None) -> None:
    here = _signed_in()
    elsewhere = Client()
    login(elsewhere, "sam")
    new = "a new and long passphrase 2026"
    here.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert here.get(PAGE).status_code == 200
    assert elsewhere.get(PAGE).status_code == 200


def test_password_change_needs_the_current_password(db: None) -> None:
    here = _signed_in()
    new = "a new and long passphrase 2026"
    response = here.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert "incorrectly" in response.content.decode()


def test_changing_the_email_address_needs_the_current_password(db: None) -> None:
    client = _signed_in()
    refused = client.post("/account/email/", {"email": "new@example.com", "password": "guess"})
    assert "Current password: this is not your current password." in refused.content.decode()
    assert UserSession.objects.get().user.email == "sam@example.com"
    client.post("/account/email/", {"email": "new@example.com", "password": PASSWORD})
    assert UserSession.objects.get().user.email == "new@example.com"


def test_sign_out_other_sessions_button(db: None) -> None:
    here = _signed_in()
    elsewhere = Client()
    login(elsewhere, "sam")
    assert "Sign out my other sessions" in here.get(PAGE).content.decode()
    here.post("/account/sessions/end-others/")
    assert here.get(PAGE).status_code == 200
    assert _dead(elsewhere)


def test_cli_deactivate_ends_sessions(db: None) -> None:
    client = _signed_in()
    result = CliRunner().invoke(app, ["user", "deactivate", "sam"])
    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    assert _dead(client)
    missing = CliRunner().invoke(app, ["user", "deactivate", "nobody"])
    assert missing.exit_code == 2


def test_the_account_page_lists_sessions_and_is_linked_from_every_page(db: None) -> None:
    client = _signed_in()
    page = client.get(PAGE).content.decode()
    assert "Where you are signed in" in page and "this one" in page
    assert 'href="/account/">Account</a>' in page
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
