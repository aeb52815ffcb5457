"""``kamfit audit verify`` and ``kamfit audit log``; a backup restores a valid chain (T23, T21)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from typer.testing import CliRunner

from kamfit.auditlog.models import AuditEvent
from kamfit.auditlog.services import record
from kamfit.cli import app
from kamfit.frameworks.services import unfrozen
from kamfit.ops.backup import backed_up_models, table_hashes
from kamfit.orgs.models import Role
from tests.conftest import Personas

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _some_events(personas: Personas) -> None:
    a, b = personas.a, personas.b
    record("auth.login", actor=a.users[Role.HR], organisation=a.org, data={"mfa": True})
    record("results.released", actor=a.users[Role.OWNER], organisation=a.org, target=a.org)
    record("auth.login", actor=b.users[Role.HR], organisation=b.org)


def test_verify_counts_the_entries_of_an_intact_chain(personas: Personas) -> None:
    _some_events(personas)
    code, out, _ = _run("audit", "verify")
    assert code == 0
    assert "audit trail intact: 3 entries verified" in out


def test_verify_exits_1_naming_the_first_broken_entry(personas: Personas) -> None:
    _some_events(personas)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE auditlog_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER auditevent_append_only_update")
        cursor.execute("UPDATE auditlog_auditevent SET actor_id = 999999 WHERE seq = 2")
    code, _, err = _run("audit", "verify")
    assert code == 1
    assert "broken at entry 2: content does not match its hash" in err
    assert "(1 entries before it verified)" in err


def test_log_prints_one_organisations_entries_newest_first(personas: Personas) -> None:
    _some_events(personas)
    code, out, _ = _run("audit", "log", "--org", "alpha")
    assert code == 0
    lines = out.splitlines()
    assert [line.split("\t")[4] for line in lines] == ["results.released", "auth.login"]
    seq, at, actor, via, _, target, data, request_id, ip = lines[1].split("\t")
    assert (seq, actor, via, data, request_id, ip) == (
        "1",
        "alpha-hr",
        "system",
        '{"mfa":true}',
        "-",
        "-",
    )
    assert at.endswith("Z")
    assert target == "-"
    assert f"orgs.organisation#{personas.a.org.pk}" in lines[0]
    code, out, _ = _run("audit", "log", "--org", "alpha", "--action", "auth", "--limit", "5")
    assert (code, len(out.splitlines())) == (0, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope"], "--org 'nope': no such organisation"),
        (["--org", "alpha", "--since", "yesterday"], "--since: 'yesterday' is not a date"),
        (["--org", "alpha", "--action", "Auth Login"], "--action: use an action code"),
    ],
)
def test_log_refuses_bad_arguments_with_exit_2(
    personas: Personas, args: list[str], message: str
) -> None:
    code, _, err = _run("audit", "log", *args)
    assert code == 2
    assert message in err


def test_a_restored_backup_keeps_a_valid_chain(personas: Personas, tmp_path: Path) -> None:
    _some_events(personas)
    path = tmp_path / "backup.zip"
    assert _run("backup", "--out", str(path))[0] == 0
    expected = table_hashes()
    assert "auditlog_auditevent" in expected
    quote = connection.ops.quote_name
    with unfrozen("test: empty the database"), connection.cursor() as cursor:
        cursor.execute(
            "PRAGMA defer_foreign_keys = ON"
            if connection.vendor == "sqlite"
            else "SET CONSTRAINTS ALL DEFERRED"
        )
        for model in backed_up_models():
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")  # noqa: S608
    assert not AuditEvent.objects.exists()
    code, _, err = _run("restore", str(path))
    assert code == 0, err
    assert table_hashes() == expected
    code, out, _ = _run("audit", "verify")
    assert (code, "3 entries verified" in out) == (0, True)
    record("auth.logout", organisation=personas.a.org)  # the chain goes on from the restore
    assert "4 entries verified" in _run("audit", "verify")[1]
