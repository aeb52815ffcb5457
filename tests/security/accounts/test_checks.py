"""A4: a deploy check fails while any demo account exists with DEBUG off."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from kamfit.accounts.checks import demo_usernames

from .helpers import make_user

pytestmark = pytest.mark.django_db


def _ids() -> list[str]:
    return [m.id for m in run_checks(tags=["security"], include_deployment_checks=True) if m.id]


def test_the_demo_usernames_come_from_the_demo_modules() -> None:
    names = demo_usernames()
    assert {"olivia.owner", "hana.hr", "connor.consultant", "lena.peer"} <= names
    assert len(names) == 20


@pytest.mark.parametrize("username", ["olivia.owner", "lena.peer"])
def test_a_demo_user_fails_the_deploy_check_when_debug_is_off(db: None, username: str) -> None:
    make_user(username)
    with override_settings(DEBUG=False):
        errors = [m for m in run_checks(include_deployment_checks=True) if m.id == "kamfit.E001"]
    assert len(errors) == 1
    assert username in errors[0].msg
    assert errors[0].is_serious()


def test_no_demo_user_no_error(db: None) -> None:
    make_user("real.person")
    with override_settings(DEBUG=False):
        assert "kamfit.E001" not in _ids()


def test_a_demo_user_is_fine_while_debugging(db: None) -> None:
    make_user("olivia.owner")
    with override_settings(DEBUG=True):
        assert "kamfit.E001" not in _ids()


def test_the_check_runs_only_with_deploy(db: None) -> None:
    make_user("olivia.owner")
    with override_settings(DEBUG=False):
        assert "kamfit.E001" not in [m.id for m in run_checks()]


def test_check_deploy_fails_under_production_settings_with_a_demo_user(tmp_path: object) -> None:
    from tests.web.test_settings import PRODUCTION, kamfit

    env = {**PRODUCTION, "KAMFIT_MFA_REQUIRED": "false"}
    assert kamfit("migrate", "-v0", env=env, tmp=str(tmp_path)).returncode == 0
    clean = kamfit("check", "--deploy", "--fail-level", "WARNING", env=env, tmp=str(tmp_path))
    assert clean.returncode == 0, clean.stderr
    code = "from django.contrib.auth.models import User; User.objects.create(username='hana.hr')"
    assert kamfit("shell", "-c", code, env=env, tmp=str(tmp_path)).returncode == 0
    failed = kamfit("check", "--deploy", env=env, tmp=str(tmp_path))
    assert failed.returncode != 0
    assert "kamfit.E001" in failed.stderr and "hana.hr" in failed.stderr
