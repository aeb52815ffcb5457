"""T10 / A3: 5 failures lock an account whatever the IP; 50 failures lock an IP across
accounts (password spraying); the lock clears by itself after 30 minutes or by CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone
from typer.testing import CliRunner

from kamfit.cli import app

from .helpers import PASSWORD, events, login, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("axes_on")]


@pytest.fixture
def axes_on() -> object:
    with override_settings(AXES_ENABLED=True):
        yield


def _try(username: str, password: str, ip: str) -> int:
    return login(Client(), username, password, ip)


def test_the_figures_are_as_documented() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == 0.5
    assert settings.LOGIN_IP_FAILURE_LIMIT == 50
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert "axes.W006" not in getattr(settings, "SILENCED_SYSTEM_CHECKS", [])


def test_five_failures_from_rotating_addresses_lock_the_account(db: None) -> None:
    make_user("victim")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(1, 5):
            assert _try("victim", f"wrong guess {n}", f"10.0.0.{n}") == 200
        # the 5th failure locks: it is answered with the lockout page already
        assert _try("victim", "wrong guess 5", "10.0.0.5") == 429
        locked = Client()
        response = locked.post(
            "/login/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="10.0.0.6"
        )
        assert response.status_code == 429
        assert "Too many sign-in attempts" in response.content.decode()
        assert locked.get("/account/")["Location"].startswith("/login/")  # not signed in
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert _try("victim", PASSWORD, "10.0.0.7") == 429
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert _try("victim", PASSWORD, "10.0.0.8") == 302
    assert len(events("auth.login_failed")) >= 5
    assert events("auth.locked_out")
    assert len(events("auth.login")) == 1


def test_four_failures_do_not_lock(db: None) -> None:
    make_user("victim")
    for n in range(4):
        _try("victim", f"wrong {n}", "10.0.1.1")
    assert _try("victim", PASSWORD, "10.0.1.1") == 302


def test_other_accounts_are_not_locked_with_the_victim(db: None) -> None:
    make_user("victim")
    make_user("bystander")
    for n in range(6):
        _try("victim", f"wrong {n}", "10.0.2.1")
    assert _try("bystander", PASSWORD, "10.0.2.1") == 302


def test_the_cli_unlocks_at_once(db: None) -> None:
    make_user("victim")
    for n in range(5):
        _try("victim", f"wrong {n}", f"10.0.3.{n}")
    assert _try("victim", PASSWORD, "10.0.3.9") == 429
    result = CliRunner().invoke(app, ["user", "unlock", "victim"])
    assert result.exit_code == 0, result.output
    assert "Unlocked victim" in result.output
    assert _try("victim", PASSWORD, "10.0.3.9") == 302
    assert CliRunner().invoke(app, ["user", "unlock", "nobody"]).exit_code == 2


def test_spraying_50_accounts_from_one_address_is_stopped(db: None) -> None:
    for n in range(51):
        make_user(f"staff{n:02d}")
    sprayer = "203.0.113.7"
    for n in range(49):
        assert _try(f"staff{n:02d}", "Summer2026!", sprayer) == 200
    assert _try("staff49", "Summer2026!", sprayer) == 429
    # the 51st account, right password, same address: refused
    assert _try("staff50", PASSWORD, sprayer) == 429
    # the accounts themselves are not locked: from another address they sign in
    assert _try("staff50", PASSWORD, "198.51.100.1") == 302
    assert _try("staff00", PASSWORD, "198.51.100.1") == 302
    assert len(events("auth.login_failed")) >= 50


def test_a_successful_login_does_not_reset_the_address_count(db: None) -> None:
    for n in range(50):
        make_user(f"staff{n:02d}")
    make_user("insider")
    sprayer = "203.0.113.8"
    for n in range(30):
        _try(f"staff{n:02d}", "Winter2026!", sprayer)
    assert _try("insider", PASSWORD, sprayer) == 302
    for n in range(30, 50):
        _try(f"staff{n:02d}", "Winter2026!", sprayer)
    assert _try("insider", PASSWORD, sprayer) == 429
