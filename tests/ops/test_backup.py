"""``kamfit backup`` and ``kamfit restore``: a round trip keeps every row; bad files are refused.

The in-process tests back the test database up, empty it and restore it in the same
transaction. The subprocess test runs the commands the way an operator does, into a
fresh data directory (SQLite) or a fresh database on the same server (PostgreSQL, when
``DATABASE_URL`` names one: ``scripts/with-postgres .venv/bin/pytest tests/ops``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from typer.testing import CliRunner

from kamfit.assessments.models import Rating
from kamfit.cli import app
from kamfit.demo import DEMO_PASSWORD, load_demo
from kamfit.frameworks.services import unfrozen
from kamfit.ops.backup import (
    LEFT_OUT,
    BackupError,
    Manifest,
    backed_up_models,
    restore_backup,
    table_hashes,
    write_backup,
)

pytestmark = pytest.mark.django_db
KAMFIT = Path(sys.executable).parent / "kamfit"


@pytest.fixture
def backup(db: None, tmp_path: Path) -> tuple[Path, Manifest]:
    load_demo()
    path = tmp_path / "kamfit-backup.zip"
    return path, write_backup(path)


def _empty_database() -> None:
    """Delete every row, as a fresh, migrated database holds none."""
    quote = connection.ops.quote_name
    with unfrozen("test: empty the database"), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA defer_foreign_keys = ON")
        else:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for model in backed_up_models():
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")  # noqa: S608 - model tables


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Copy a backup, passing each member's name and bytes through ``change``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, change(info.filename, old.read(info)))


def _edit_manifest(source: Path, target: Path, edit: Callable[[dict[str, object]], None]) -> None:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    _rewrite(source, target, change)


def _restore_cli(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["restore", str(path)])
    return result.exit_code, result.stderr


def test_backup_of_the_demo_restores_every_row_with_equal_hashes(
    backup: tuple[Path, Manifest],
) -> None:
    path, manifest = backup
    expected = {t.table: t.sha256 for t in manifest.tables}
    assert table_hashes() == expected
    counts = {t.table: t.rows for t in manifest.tables}
    assert counts["assessments_rating"] == Rating.objects.count() > 0
    assert counts["frameworks_frameworkversion"] > 0
    assert not set(LEFT_OUT) & set(counts)

    _empty_database()
    assert table_hashes() != expected
    restored = restore_backup(path)

    assert restored == manifest
    assert table_hashes() == expected
    for model in backed_up_models():
        assert model._base_manager.count() == counts[model._meta.db_table], model
    user = get_user_model().objects.get(username="diego.director")
    assert user.check_password(DEMO_PASSWORD)


def test_restore_refuses_a_backup_of_another_schema_version(
    backup: tuple[Path, Manifest], tmp_path: Path
) -> None:
    path, manifest = backup
    before = table_hashes()
    last = manifest.migrations["assessments"][-1]

    def older(data: dict[str, object]) -> None:
        migrations = data["migrations"]
        assert isinstance(migrations, dict)
        migrations["assessments"] = migrations["assessments"][:-1]

    def newer(data: dict[str, object]) -> None:
        migrations = data["migrations"]
        assert isinstance(migrations, dict)
        migrations["frameworks"] = [*migrations["frameworks"], "0999_from_the_future"]

    _edit_manifest(path, tmp_path / "older.zip", older)
    _edit_manifest(path, tmp_path / "newer.zip", newer)

    code, stderr = _restore_cli(tmp_path / "older.zip")
    assert code == 2
    assert f"migration assessments {last} is in this kamfit but not in the backup" in stderr
    code, stderr = _restore_cli(tmp_path / "newer.zip")
    assert code == 2
    assert "frameworks 0999_from_the_future is in the backup but not in this kamfit" in stderr
    assert table_hashes() == before


def test_restore_refuses_a_database_that_holds_data(backup: tuple[Path, Manifest]) -> None:
    path, _manifest = backup
    before = table_hashes()
    with pytest.raises(BackupError, match="already holds data"):
        restore_backup(path)
    code, stderr = _restore_cli(path)
    assert code == 2
    assert "restore only into an empty database" in stderr
    assert table_hashes() == before


def _truncated(path: Path, target: Path) -> None:
    data = path.read_bytes()
    target.write_bytes(data[: len(data) // 2])


def _not_a_zip(_path: Path, target: Path) -> None:
    target.write_text("kamfit,backup\n1,2\n")


def _no_manifest(path: Path, target: Path) -> None:
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename != "manifest.json":
                new.writestr(info, old.read(info))


def _other_format(path: Path, target: Path) -> None:
    _edit_manifest(path, target, lambda data: data.update(format="kamfit-backup/9"))


def _edited_row(path: Path, target: Path) -> None:
    def change(name: str, data: bytes) -> bytes:
        return data.replace(b"diego.director", b"diego.dictator", 1)

    _rewrite(path, target, change)


def _flipped_byte(path: Path, target: Path) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("tables/assessments_rating.jsonl")
    data[info.header_offset + 100] ^= 0xFF  # inside the compressed rows
    target.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_truncated, "not a kamfit backup, or damaged"),
        (_not_a_zip, "not a kamfit backup, or damaged"),
        (_no_manifest, "no manifest.json"),
        (_other_format, "not a kamfit-backup/1 file (format 'kamfit-backup/9')"),
        (_edited_row, "auth_user: the file's rows do not match the manifest"),
        (_flipped_byte, "tables/assessments_rating.jsonl is damaged"),
    ],
)
def test_restore_refuses_a_damaged_file_with_one_line(
    backup: tuple[Path, Manifest],
    tmp_path: Path,
    damage: Callable[[Path, Path], None],
    message: str,
) -> None:
    path, _manifest = backup
    bad = tmp_path / "bad.zip"
    damage(path, bad)
    _empty_database()
    emptied = table_hashes()
    code, stderr = _restore_cli(bad)
    assert code == 2
    assert message in stderr
    assert stderr.count("\n") == 1, stderr
    assert table_hashes() == emptied


def test_backup_refuses_a_directory_as_output(db: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["backup", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "a directory; name a file" in result.stderr


# Subprocesses: the commands as an operator runs them ---------------------------------


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[Callable[[str], dict[str, str]]]:
    """Make environments for the ``kamfit`` command, each with an empty database of its own."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KAMFIT_", "DJANGO_"))}
    base.pop("DATABASE_URL", None)
    base["KAMFIT_DEBUG"] = "true"
    url = os.environ.get("DATABASE_URL", "")
    created: list[str] = []

    def make(name: str) -> dict[str, str]:
        data_dir = tmp_path / name
        data_dir.mkdir()
        env = {**base, "KAMFIT_DATA_DIR": str(data_dir)}
        if url.startswith("postgres"):
            database = f"kamfit_backup_{name}_{uuid.uuid4().hex[:8]}"
            _admin(url, f'CREATE DATABASE "{database}"')
            created.append(database)
            env["DATABASE_URL"] = f"{url.rsplit('/', 1)[0]}/{database}"
        return env

    yield make
    for database in created:
        _admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.encode())


def _kamfit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAMFIT), *args],
        env=env,
        cwd=env["KAMFIT_DATA_DIR"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextmanager
def _writer(env: dict[str, str], stop: Path) -> Iterator[list[int]]:
    """Write person and key account pairs through the block; then the number written."""
    written: list[int] = []
    code = WRITER.replace("sys.argv[-1]", repr(str(stop)))
    process = subprocess.Popen(
        [str(KAMFIT), "shell", "-v0", "-c", code],
        env=env,
        cwd=env["KAMFIT_DATA_DIR"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "writing\n"
        yield written
    finally:
        stop.touch()
        out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    written.append(int(out))


def _manifest_tables(path: Path) -> list[dict[str, object]]:
    with zipfile.ZipFile(path) as archive:
        tables = json.loads(archive.read("manifest.json"))["tables"]
    assert isinstance(tables, list)
    return tables


WRITER = """
import pathlib, sys
from django.db import transaction
from kamfit.assessments.models import KeyAccount, Person
from kamfit.orgs.models import Organisation

org = Organisation.objects.get(slug="acme-supplies")
n = 0
while n < 3 or not pathlib.Path(sys.argv[-1]).exists():
    with transaction.atomic():  # a person and their account: both or neither
        person = Person.objects.create(organisation=org, reference=f"w-{n}", name=f"W {n}")
        KeyAccount.objects.create(organisation=org, person=person, name="Globex")
    n += 1
    if n == 3:
        print("writing", flush=True)
print(n, flush=True)
"""
PAIRS = """
from kamfit.assessments.models import KeyAccount, Person
print(Person.objects.filter(reference__startswith="w-").count())
print(KeyAccount.objects.filter(person__reference__startswith="w-").count())
"""
LOGIN = """
from django.test import Client
client = Client(HTTP_HOST="localhost")
response = client.post("/login/", {"username": "diego.director", "password": "%s"})
print(response.status_code, response.headers.get("Location"))
home = client.get("/", follow=True)
print(home.status_code, home.redirect_chain[-1][0])
"""


def test_cli_round_trip_into_a_fresh_database_then_sign_in(
    fresh_database: Callable[[str], dict[str, str]], tmp_path: Path
) -> None:
    source, target = fresh_database("source"), fresh_database("target")
    for args in (("migrate", "-v0"), ("demo",)):
        result = _kamfit(source, *args)
        assert result.returncode == 0, result.stderr
    with _writer(source, tmp_path / "stop") as written:
        taken = _kamfit(source, "backup", "--out", str(tmp_path / "a.zip"))
    assert taken.returncode == 0, taken.stderr
    assert "backed up to" in taken.stderr
    assert "assessments_rating" in taken.stdout

    restored = _kamfit(target, "restore", str(tmp_path / "a.zip"))
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stderr
    again = _kamfit(target, "restore", str(tmp_path / "a.zip"))
    assert again.returncode == 2
    assert "already holds data" in again.stderr

    # A backup of the target proves its schema too: backup refuses unapplied migrations.
    check = _kamfit(target, "backup", "--out", str(tmp_path / "b.zip"))
    assert check.returncode == 0, check.stderr
    assert _manifest_tables(tmp_path / "b.zip") == _manifest_tables(tmp_path / "a.zip")

    # The writer's pairs went in while the backup ran: it holds some, each one whole.
    pairs = _kamfit(target, "shell", "-v0", "-c", PAIRS)
    people, accounts = map(int, pairs.stdout.split())
    assert 0 < people == accounts <= written[0]

    login = _kamfit(target, "shell", "-v0", "-c", LOGIN % DEMO_PASSWORD)
    assert login.returncode == 0, login.stderr
    assert login.stdout.split() == ["302", "/", "200", "/o/acme-supplies/frameworks/"]
