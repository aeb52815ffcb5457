"""Settings come only from the environment and fail loudly on bad values."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PRODUCTION = {
    "KAMFIT_SECRET_KEY": "a-production-secret-key-that-is-long-enough-0123456789",
    "KAMFIT_ALLOWED_HOSTS": "kamfit.example.com",
    "KAMFIT_DEBUG": "false",
}


def kamfit(*args: str, env: dict[str, str], tmp: str) -> subprocess.CompletedProcess[str]:
    # A fresh data directory and nothing else: not the PostgreSQL of a `make test` pass.
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KAMFIT_", "DJANGO_")) and k != "DATABASE_URL"
    }
    clean |= {"KAMFIT_DATA_DIR": tmp, **env}
    code = (
        f"import sys; sys.argv = ['kamfit', *{list(args)!r}]; from kamfit.cli import main; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path: object) -> None:
    result = kamfit(
        "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_openapi_schema_validates_without_warnings(tmp_path: object) -> None:
    result = kamfit(
        "spectacular", "--validate", "--fail-on-warn", env=PRODUCTION, tmp=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "/api/v1/organisations/{org}/frameworks/" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAMFIT_DEBUG": "maybe"}, "KAMFIT_DEBUG='maybe' is not a boolean"),
        ({"KAMFIT_DEBUG": "false"}, "KAMFIT_SECRET_KEY (or KAMFIT_SECRET_KEY_FILE) must be set"),
        ({**PRODUCTION, "KAMFIT_SECRET_KEY": "short"}, "at least 32 characters"),
        ({**PRODUCTION, "KAMFIT_ALLOWED_HOSTS": " , "}, "KAMFIT_ALLOWED_HOSTS is set but empty"),
        ({**PRODUCTION, "KAMFIT_SECRET_KEY_FILE": "/nonexistent/key"}, "KAMFIT_SECRET_KEY_FILE"),
    ],
)
def test_bad_settings_stop_start_up_with_a_message(
    tmp_path: object, env: dict[str, str], message: str
) -> None:
    result = kamfit("check", env=env, tmp=str(tmp_path))
    assert result.returncode != 0
    assert message in result.stderr


def test_sqlite_runs_in_wal_mode_in_the_data_directory(tmp_path: object) -> None:
    result = kamfit("migrate", "-v0", env={"KAMFIT_DEBUG": "true"}, tmp=str(tmp_path))
    assert result.returncode == 0, result.stderr
    code = (
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0])"
    )
    db = f"{tmp_path}/kamfit.sqlite3"
    mode = subprocess.run(
        [sys.executable, "-c", code, db], capture_output=True, text=True, check=True
    )
    assert mode.stdout.strip() == "wal"


@pytest.mark.parametrize(
    ("env", "required"),
    [
        (PRODUCTION, "True"),
        ({"KAMFIT_DEBUG": "true"}, "False"),
        ({**PRODUCTION, "KAMFIT_MFA_REQUIRED": "false"}, "False"),
        ({"KAMFIT_DEBUG": "true", "KAMFIT_MFA_REQUIRED": "true"}, "True"),
    ],
)
def test_two_factor_authentication_is_required_unless_debugging(
    tmp_path: object, env: dict[str, str], required: str
) -> None:
    code = "from django.conf import settings; print(settings.MFA_REQUIRED)"
    result = kamfit("shell", "-c", code, env=env, tmp=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == required
