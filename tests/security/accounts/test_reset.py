"""A6: password reset links are random, single-use, expire in an hour, do not sign in
and do not bypass two-factor authentication; known and unknown addresses look alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from kamfit.accounts.models import UserSession

from .helpers import code_at, enrol, events, login, make_user

pytestmark = pytest.mark.django_db
NEW = "a brand new passphrase 2026"


def _ask(client: Client, email: str) -> tuple[int, str, str]:
    response = client.post("/account/reset/", {"email": email}, follow=True)
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return response.status_code, response.redirect_chain[-1][0], body


def _link() -> str:
    found = re.search(r"https?://[^/]+(/account/reset/[^\s]+/)", str(mail.outbox[-1].body))
    assert found is not None
    return found.group(1)


def _set(client: Client, link: str, password: str = NEW) -> str:
    form_url = (
        client.get(link, follow=True).redirect_chain[-1][0]
        if client.get(link).status_code == 302
        else link
    )
    response = client.post(
        form_url, {"new_password1": password, "new_password2": password}, follow=True
    )
    return response.content.decode()


def test_known_and_unknown_addresses_get_the_same_answer(db: None) -> None:
    make_user("known", email="known@example.com")
    known = _ask(Client(), "known@example.com")
    unknown = _ask(Client(), "nobody@example.com")
    assert known == unknown
    assert known[1] == "/account/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["known@example.com"]


def test_the_link_is_random_enough_and_single_use(db: None) -> None:
    make_user("known", email="known@example.com")
    _ask(Client(), "known@example.com")
    link = _link()
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert len(token.split("-")[1]) >= 32
    assert "Your password is set" in _set(Client(), link)
    assert events("password.reset")
    reuse = Client().get(link, follow=True).content.decode()
    assert "This link does not work" in reuse
    assert "This link does not work" in _set(Client(), link, "yet another passphrase 99")
    assert login(Client(), "known", NEW) == 302


@override_settings(PASSWORD_RESET_TIMEOUT=3600)
def test_the_link_expires_after_an_hour(db: None) -> None:
    make_user("known", email="known@example.com")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _ask(Client(), "known@example.com")
    link = _link()
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert "This link does not work" in Client().get(link, follow=True).content.decode()
    with time_machine.travel(start + timedelta(minutes=59), tick=False):
        assert "Choose a new password" in Client().get(link, follow=True).content.decode()


def test_a_reset_does_not_sign_in_and_ends_every_session(db: None) -> None:
    make_user("known", email="known@example.com")
    open_session = Client()
    login(open_session, "known")
    client = Client()
    _ask(client, "known@example.com")
    _set(client, _link())
    assert client.get("/account/")["Location"].startswith("/login/")
    assert open_session.get("/account/")["Location"].startswith("/login/")
    assert not UserSession.objects.exists()


def test_a_reset_does_not_bypass_two_factor_authentication(db: None) -> None:
    user = make_user("known", email="known@example.com")
    device, _ = enrol(user)
    client = Client()
    _ask(client, "known@example.com")
    _set(client, _link())
    assert login(client, "known", NEW) == 302
    assert client.get("/account/")["Location"].startswith("/account/mfa/verify/")
    client.post("/account/mfa/verify/", {"code": code_at(device)})
    assert client.get("/account/").status_code == 200


def test_the_reset_form_applies_the_password_rules(db: None) -> None:
    make_user("known", email="known@example.com")
    client = Client()
    _ask(client, "known@example.com")
    assert "too short" in _set(client, _link(), "short")
    assert "easy to guess here" in _set(client, _link(), "kamfit kamfit kamfit")
