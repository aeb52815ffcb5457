"""T1: ``check --deploy`` is clean under production settings (RELIABILITY A10, A11, A38, A39)."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PRODUCTION = {
    "KAMFIT_DEBUG": "false",
    "KAMFIT_ALLOWED_HOSTS": "kamfit.example.com",
    "DJANGO_SETTINGS_MODULE": "kamfit.web.settings",
}


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(50))
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("KAMFIT_", "DJANGO_", "DATABASE"))
    }
    environ |= PRODUCTION | {"KAMFIT_SECRET_KEY": key, "KAMFIT_DATA_DIR": str(tmp_path)} | env
    command = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, env=environ, capture_output=True, text=True, check=False)


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_no_security_check_is_silenced() -> None:
    assert [c for c in settings.SILENCED_SYSTEM_CHECKS if c.startswith("security.")] == []


def test_check_deploy_fails_when_debug_is_on(tmp_path: Path) -> None:
    """The check can fail: DEBUG in production is reported (security.W018)."""
    result = _run(tmp_path, KAMFIT_DEBUG="true")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_production_settings_name_host_cookies_and_a_strict_policy(tmp_path: Path) -> None:
    probe = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SAMESITE, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.DEBUG)"
    )
    key = "k" * 50
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("KAMFIT_", "DJANGO_"))}
    environ |= PRODUCTION | {"KAMFIT_SECRET_KEY": key, "KAMFIT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [
        "__Host-session",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "Lax",
        "Lax",
        "31536000",
        "True",
        "False",
    ]
