"""T13 / A1, A2, A40: password length, common and context words, hashing and its upgrade."""

from __future__ import annotations

import pytest
from django.conf import global_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.test import Client, override_settings

from kamfit.orgs.models import Role
from tests.conftest import Personas

from .helpers import PASSWORD, login, make_user

pytestmark = pytest.mark.django_db
REAL_HASHERS = override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS)

ACCEPTED = {
    8: "tomatoes",
    16: "sixteen chars ok",
    64: ("Ünïcödé pässphräse 日本語の文 ✓ — " * 3)[:64],
    128: ("Ζεῦ πάτερ, ἀλλὰ σὺ ῥῦσαι ὑπ᾽ ἠέρος υἷας Ἀχαιῶν 🦉 " * 4)[:128],
}
REFUSED = {
    7: ("tomatos", "too short"),
    129: ("x" + ACCEPTED[128], "too long"),
}


def _change(client: Client, new: str) -> str:
    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    return response.content.decode() if response.status_code == 200 else ""


@pytest.mark.parametrize("length", sorted(ACCEPTED))
def test_passwords_of_8_to_128_characters_are_accepted_as_typed(db: None, length: int) -> None:
    password = ACCEPTED[length]
    assert len(password) == length
    user = make_user("typist")
    client = Client()
    client.force_login(user)
    assert _change(client, password) == ""
    user.refresh_from_db()
    assert user.check_password(password)
    assert not user.check_password(password.strip() + "!")
    assert not user.check_password(password.upper()) or password.upper() == password
    fresh = Client()
    assert login(fresh, "typist", password) == 302  # and signs in exactly as typed


@pytest.mark.parametrize("length", sorted(REFUSED))
def test_passwords_outside_8_to_128_are_refused_with_a_clear_message(db: None, length: int) -> None:
    password, message = REFUSED[length]
    assert len(password) == length
    client = Client()
    client.force_login(make_user("typist"))
    assert message in _change(client, password)


def test_no_composition_rule(db: None) -> None:
    client = Client()
    client.force_login(make_user("typist"))
    for password in ("all lower case words", "ALLUPPERCASE", "9274610385", "        spaced"):
        assert _change(client, password) == "", password
        client.force_login(User.objects.get(username="typist"))
        User.objects.filter(username="typist").update(password=make_password(PASSWORD))


def test_common_passwords_are_refused(db: None) -> None:
    assert len(CommonPasswordValidator().passwords) >= 19_000
    client = Client()
    client.force_login(make_user("typist"))
    for password in ("password123", "qwertyuiop", "iloveyou1"):
        assert "too common" in _change(client, password), password


@pytest.mark.parametrize(
    "password",
    [
        "kamfit forever",
        "my WARWICK passphrase",
        "alpha-ltd-2026!",
        "supreme alpha gamma",
        "alpha-hr rules ok",
    ],
)
def test_context_words_are_refused(personas: Personas, password: str) -> None:
    user = personas.a.users[Role.HR]
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    client.force_login(user)
    page = _change(client, password)
    assert "easy to guess here" in page, password


def test_another_organisations_name_is_not_a_context_word_for_me(personas: Personas) -> None:
    user = personas.a.users[Role.HR]
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    client.force_login(user)
    assert _change(client, "beta ltd is not my company") == ""


@REAL_HASHERS
def test_the_hash_is_pbkdf2_sha256_with_a_million_iterations(db: None) -> None:
    assert PBKDF2PasswordHasher.iterations == 1_000_000  # Django 5.2's default, in its source
    user = make_user("hashed")
    assert user.password.startswith("pbkdf2_sha256$1000000$")


@override_settings(
    PASSWORD_HASHERS=[
        *global_settings.PASSWORD_HASHERS,
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
)
def test_an_old_hash_is_upgraded_at_login(db: None) -> None:
    user = make_user("legacy")
    old = make_password(PASSWORD, hasher="md5")
    weak = PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=100_000)
    for stored in (old, weak):
        User.objects.filter(pk=user.pk).update(password=stored)
        assert login(Client(), "legacy") == 302
        user.refresh_from_db()
        assert user.password.startswith("pbkdf2_sha256$1000000$"), stored[:20]


def test_the_username_is_a_context_word(db: None) -> None:
    client = Client()
    client.force_login(make_user("zebrafish"))
    assert "easy to guess here" in _change(client, "I am Zebra-Fish 42")
