"""The readiness check at /healthz: database and migrations, no sign-in, no secrets."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from kamfit.web import views


@pytest.fixture
def client() -> Client:
    return Client()


def test_healthz_answers_ok_without_sign_in(db: None, client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_cheap(db: None, client: Client, django_assert_max_num_queries) -> None:
    client.get("/healthz")  # the first call reads the migration files once
    with django_assert_max_num_queries(2):
        assert client.get("/healthz").status_code == 200


def test_healthz_answers_head_and_refuses_post(db: None, client: Client) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_unapplied_migration_answers_503(
    db: None, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied = views._applied_migrations()
    monkeypatch.setattr(
        views, "_applied_migrations", lambda: applied - {("assessments", "0001_initial")}
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "1 not applied"},
    }


def test_database_failure_answers_503_without_the_error_text(
    db: None, client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def down() -> set[tuple[str, str]]:
        raise OperationalError('connection to "db.internal" failed: password=canary-7f3a')

    monkeypatch.setattr(views, "_applied_migrations", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "failed", "migrations": "not checked"},
    }
    body = response.content.decode()
    assert "canary" not in body
    assert "db.internal" not in body
    assert "Traceback" not in body
    assert "canary" not in caplog.text


def test_a_squashed_migration_counts_when_what_it_replaces_is_applied() -> None:
    replaces = (("app", "0001_a"), ("app", "0002_b"))
    assert views._done(("app", "0001_squashed"), replaces, {("app", "0001_a"), ("app", "0002_b")})
    assert not views._done(("app", "0001_squashed"), replaces, {("app", "0001_a")})
    assert not views._done(("app", "0003_c"), (), {("app", "0001_a")})
