"""Fixtures of the hardening checks: production-like settings and a filled world."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.conftest import Team
from tests.security.hardening.routes import World, build_world


@pytest.fixture
def production(settings: SettingsWrapper) -> SettingsWrapper:
    """The security settings production runs with (DEBUG off, HTTPS, __Host- cookies).

    The test settings relax only the cookie names and flags and the HTTPS redirect
    (the live-server browser tests speak plain HTTP); this puts them back.
    """
    settings.DEBUG = False
    settings.SESSION_COOKIE_NAME = "__Host-session"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    return settings


@pytest.fixture
def world(team: Team) -> World:
    return build_world(team)
