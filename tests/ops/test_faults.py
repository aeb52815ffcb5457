"""Faults kamfit survives: a killed import, a full disk, a database that goes away.

RELIABILITY T17 (import killed by SIGKILL), T18 (disk full) and T19 (PostgreSQL down
mid-request), each in 20 seeded trials. Trial ``i`` uses ``random.Random(seed)`` with
``seed = KAMFIT_FAULT_SEED + i`` (default base 20261123); every trial prints its seed,
so a failure names the seed to replay (``KAMFIT_FAULT_SEED=<seed> pytest -k …`` replays
it as trial 0). docs/operator/faults.md explains what each test proves.

The commands and servers under test run in subprocesses against a database of their own
(a copy of a seeded template), with ``tests.ops.fault_settings``: the test settings with
``DEBUG`` off, so that an outage shows what a production user would see.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from kamfit.assessments.models import FormStatus, RatingForm
from kamfit.orgs.models import Membership, Role
from kamfit.web.errors import DatabaseUnavailableMiddleware, server_error
from tests.conftest import Team
from tests.factories import PASSWORD, MembershipFactory
from tests.ops.dbhash import changed_tables, postgres_hashes, sqlite_file_hashes, table_hashes
from tests.ops.pgcluster import PgCluster, binaries_missing, free_port

ROOT = Path(__file__).resolve().parents[2]
KAMFIT = Path(sys.executable).with_name("kamfit")
TRIALS = int(os.environ.get("KAMFIT_FAULT_TRIALS") or 20)  # fewer only to debug
BASE_SEED = int(os.environ.get("KAMFIT_FAULT_SEED") or 20261123)
ON_POSTGRES = urlsplit(os.environ.get("DATABASE_URL", "")).scheme.startswith("postgres")
ORG, USER = "faults", "faults-hr"
SEED_SCRIPT = f"""
from django.contrib.auth import get_user_model
from kamfit.orgs.models import Membership, Organisation, Role
org = Organisation.objects.create(slug={ORG!r}, name="Faults Ltd")
user = get_user_model().objects.create_user({USER!r}, password={PASSWORD!r})
Membership.objects.create(user=user, organisation=org, role=Role.HR)
"""
PROGRESS = re.compile(r"^progress (\d+) (\d+)$")
# What a response or a command must never show: a trace, code, SQL or the driver's words.
LEAKS = (
    "Traceback",
    'File "',
    "psycopg",
    "sqlite3",
    "OperationalError",
    "InterfaceError",
    "terminating connection",
    "server closed",
    "connection refused",
    "INSERT INTO",
    "SELECT ",
)
NEXT_ROWS = 200  # the import after a kill; the last trial imports the whole file again
ERROR_ID = re.compile(r"\b[0-9a-f]{32}\b")  # the request id (X-Request-ID)


def seeds(count: int = TRIALS) -> Iterator[tuple[int, random.Random]]:
    """The trials' seeds, each printed so that a failure can be replayed."""
    for trial in range(count):
        seed = BASE_SEED + trial
        print(f"trial {trial}: seed {seed}")
        yield seed, random.Random(seed)  # noqa: S311 - reproducible faults, not secrets


def kamfit_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a kamfit subprocess: its own data directory and database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "KAMFIT_DATA_DIR"}
        and not k.startswith(("PYTEST_", "COV_"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "tests.ops.fault_settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        "KAMFIT_DATA_DIR": str(data_dir),
        "KAMFIT_DEBUG": "false",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def kamfit(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAMFIT), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def import_args(csv: Path, *extra: str) -> list[str]:
    return ["assess", "import-people", str(csv), "--org", ORG, "--as", USER, *extra]


def write_people(path: Path, n: int, prefix: str, *, wide: bool = False) -> Path:
    """A people file of ``n`` new people, each with two key accounts (two tables written)."""
    pad = " " + "x" * 150 if wide else ""
    lines = ["reference,name,email,job_title,unit,accounts"]
    lines += [
        f"{prefix}-{i:05d},Person {i}{pad},{prefix}.{i}@example.com,"
        f"Key account manager{pad},Unit {i % 7}{pad},Globex {i}; Initech {i}"
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def assert_clean_cli_failure(result: subprocess.CompletedProcess[str] | tuple[int, str]) -> str:
    """Exit 1 with a one-line message: no traceback, no code."""
    code, stderr = (result.returncode, result.stderr) if not isinstance(result, tuple) else result
    message = [line for line in stderr.splitlines() if line and not PROGRESS.match(line)]
    assert code == 1, f"exit {code}, stderr: {stderr[-2000:]}"
    assert len(message) == 1, f"expected one line, got: {message}"
    assert message[0].startswith("error: database:"), message
    for leak in ("Traceback", 'File "', "sqlite3.", "psycopg."):
        assert leak not in stderr, stderr
    return message[0]


def assert_generic_outage_answer(response: requests.Response | Any, *, api: bool) -> None:
    """503 (or 500) with an error id and the generic words only."""
    status = getattr(response, "status_code", None)
    body = response.content.decode()
    assert status in {500, 503}, f"answered {status}: {body[:500]}"
    for leak in LEAKS:
        assert leak not in body, f"{leak!r} in the answer: {body[:2000]}"
    if api:
        data = json.loads(body)
        assert set(data) == {"detail", "error_id"}, data
        assert ERROR_ID.fullmatch(data["error_id"]), data
    else:
        assert "error id" in body and ERROR_ID.search(body), body[:2000]


def supports_progress() -> bool:
    help_text = kamfit("assess", "import-people", "--help", env=kamfit_env(ROOT / "var"))
    return "--progress" in help_text.stdout


# --- The seeded template database ---------------------------------------------------------------


@dataclass
class TrialDb:
    """A database for one trial: an SQLite file or a PostgreSQL database."""

    env: dict[str, str]
    path: Path | None = None
    url: str | None = None

    def hashes(self) -> dict[str, str]:
        if self.path is not None:
            return sqlite_file_hashes(str(self.path))
        assert self.url is not None
        return postgres_hashes(self.url)

    def count(self, table: str) -> int:
        query = f'SELECT count(*) FROM "{table}"'  # noqa: S608 - a constant table name
        if self.path is not None:
            with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as conn:
                return int(conn.execute(query).fetchone()[0])
        import psycopg

        assert self.url is not None
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(query).fetchone()
            assert row is not None
            return int(row[0])


@dataclass
class Template:
    """A migrated database with one organisation and an HR member, copied per trial."""

    dir: Path
    server: str | None = None  # PostgreSQL: the maintenance database's URL
    name: str | None = None  # PostgreSQL: the template database
    made: list[str] = field(default_factory=list)

    @property
    def sqlite(self) -> Path:
        return self.dir / "kamfit.sqlite3"

    def _url(self, dbname: str) -> str:
        assert self.server is not None
        parts = urlsplit(self.server)
        return urlunsplit(parts._replace(path="/" + dbname))

    def trial(self, data_dir: Path) -> TrialDb:
        data_dir.mkdir(parents=True, exist_ok=True)
        if self.server is None:
            shutil.copyfile(self.sqlite, data_dir / "kamfit.sqlite3")
            return TrialDb(kamfit_env(data_dir), path=data_dir / "kamfit.sqlite3")
        import psycopg
        from psycopg import sql

        name = f"kamfit_fault_{secrets.token_hex(6)}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(self.name or "")
                )
            )
        self.made.append(name)
        url = self._url(name)
        return TrialDb(kamfit_env(data_dir, url), url=url)

    def drop(self, db: TrialDb) -> None:
        if db.url is None:
            return
        name = urlsplit(db.url).path.lstrip("/")
        self._drop(name)
        self.made.remove(name)

    def _drop(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.server or "", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def cleanup(self) -> None:
        for name in [*self.made, *([self.name] if self.name else [])]:
            self._drop(name)
        self.made.clear()


def _seed(env: dict[str, str]) -> None:
    for args in (["migrate", "-v0"], ["shell", "-c", SEED_SCRIPT]):
        result = kamfit(*args, env=env)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """The seeded template on the database the suite uses (SQLite file or PostgreSQL)."""
    base = tmp_path_factory.mktemp("fault-template")
    if not ON_POSTGRES:
        _seed(kamfit_env(base))
        yield Template(base)
        return
    parts = urlsplit(os.environ["DATABASE_URL"])
    tpl = Template(base, server=urlunsplit(parts._replace(path="/postgres")))
    tpl.name = f"kamfit_fault_tpl_{secrets.token_hex(6)}"
    import psycopg
    from psycopg import sql

    with psycopg.connect(tpl.server or "", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(tpl.name)))
    try:
        _seed(kamfit_env(base, tpl._url(tpl.name)))
        yield tpl
    finally:
        tpl.cleanup()


# --- Running a command up to a row --------------------------------------------------------------


@dataclass
class Interrupted:
    code: int
    stderr: str
    at: str  # the progress line (or delay) at which the fault was injected


def interrupt_at_row(
    cmd: list[str],
    env: dict[str, str],
    *,
    row: int,
    jitter: float,
    fault: Callable[[subprocess.Popen[str]], None],
    timeout: float = 240,
) -> Interrupted:
    """Run ``cmd`` and inject ``fault`` once its ``progress`` lines pass ``row``.

    The fault comes ``jitter`` seconds after the first line with at least ``row`` rows
    written (so it lands anywhere inside the next batch), or at once on the last line,
    when only the commit is left.
    """
    seen: list[str] = []
    at = ""
    with subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                seen.append(line)
                match = PROGRESS.match(line.strip())
                if at or match is None or int(match[1]) < row:
                    continue
                at = line.strip()
                if int(match[1]) < int(match[2]):
                    time.sleep(jitter)
                fault(proc)
            code = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
    assert at, f"no progress line reached row {row}: {''.join(seen)[-2000:]}"
    return Interrupted(code, "".join(seen), at)


# --- The generic answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "api"), [("/o/acme/people/", False), ("/api/v1/organisations/", True)]
)
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_error_answers_503_with_an_error_id_and_no_detail(
    path: str, api: bool, error: type[Exception], caplog: pytest.LogCaptureFixture
) -> None:
    """The middleware, and server_error when an outage escapes it (no middleware), say 503."""
    request = RequestFactory().get(path)
    secret = "could not connect to server at 10.0.0.7 as kamfit_admin: SELECT secret"
    answers = [
        DatabaseUnavailableMiddleware(HttpResponse).process_exception(request, error(secret))
    ]
    try:
        raise error(secret)
    except error:
        answers.append(server_error(request))
    for answer in answers:
        assert answer is not None
        assert answer.status_code == 503 and answer["Retry-After"]
        assert_generic_outage_answer(answer, api=api)
        body = answer.content.decode()
        assert "10.0.0.7" not in body
        error_id = json.loads(body)["error_id"] if api else ERROR_ID.findall(body)[0]
        assert any(error_id in r.getMessage() for r in caplog.records), "logged with its id"
    assert (
        DatabaseUnavailableMiddleware(HttpResponse).process_exception(request, KeyError()) is None
    )


# --- T17: an import killed by SIGKILL ----------------------------------------------------------


T17_AT_ONCE = 2  # trials run two at a time: each waits mostly on its own subprocess


def _killed_import(template: Template, big: Path, tmp: Path, seed: int, rng: random.Random) -> str:
    """One T17 trial: kill the import at a seeded row, compare, import again."""
    db = template.trial(tmp / f"trial-{seed}")
    try:
        before = db.hashes()
        row = rng.randint(1, 9_999)
        run = interrupt_at_row(
            [str(KAMFIT), *import_args(big, "--progress")],
            db.env,
            row=row,
            jitter=rng.uniform(0, 0.2),
            fault=lambda p: p.send_signal(signal.SIGKILL),
        )
        assert run.code == -signal.SIGKILL, (
            f"seed {seed}: exited {run.code} before the kill: {run.stderr[-1000:]}"
        )
        after = db.hashes()
        assert after == before, f"seed {seed}: changed {changed_tables(before, after)}"
        # The next import: a seeded slice of the same file (the whole file in the last
        # trial). Its people are all new: the killed import left none of them behind.
        last = seed == BASE_SEED + TRIALS - 1
        start = 0 if last else rng.randrange(0, 10_000 - NEXT_ROWS)
        rows = 10_000 if last else NEXT_ROWS
        lines = big.read_text("utf-8").splitlines()
        again_csv = tmp / f"next-{seed}.csv"
        again_csv.write_text("\n".join([lines[0], *lines[1 + start : 1 + start + rows]]) + "\n")
        again = kamfit(*import_args(again_csv), env=db.env)
        assert again.returncode == 0, f"seed {seed}: {again.stderr[-2000:]}"
        assert f"imported people: {rows} new, 0 updated" in again.stdout, again.stdout
        assert db.count("assessments_person") == rows
        return f"{row}→{run.at.split()[1]}"
    finally:
        template.drop(db)


def test_an_import_killed_by_sigkill_stores_nothing_and_the_next_import_succeeds(
    template: Template, tmp_path: Path
) -> None:
    """T17: 10,000 rows, SIGKILL at a seeded row; the database is as before, 20 of 20.

    The kill comes at the first ``progress`` line at or past the seeded row, plus a
    seeded pause of up to 0.2 s (inside the next batch), or at once on the last line,
    when the key accounts and the commit are left.
    """
    big = write_people(tmp_path / "big.csv", 10_000, "big")
    assert supports_progress(), "kamfit assess import-people has lost --progress"
    started = time.monotonic()
    with ThreadPoolExecutor(T17_AT_ONCE) as pool:
        trials = [
            pool.submit(_killed_import, template, big, tmp_path, seed, rng) for seed, rng in seeds()
        ]
        kills = [trial.result() for trial in trials]
    print(f"T17: {TRIALS}/{TRIALS} kills left the database unchanged; row→line: {kills}")
    print(f"T17: {time.monotonic() - started:.1f} s")


# --- T18: the disk is full ----------------------------------------------------------------------

sqlite_only = pytest.mark.skipif(
    ON_POSTGRES,
    reason="PRAGMA max_page_count and a tmpfs data directory are SQLite's; on PostgreSQL "
    "a full disk is tested by hand (a tablespace on a small tmpfs, docs/operator/faults.md)",
)
UNLIMITED_PAGES = 4_294_967_294  # SQLite lowers it to its own maximum


def _pragma(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return int(cursor.fetchone()[0])


def _vacuum() -> None:
    """Pack the database: no free pages, so the page limit is all the room there is."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
    assert _pragma("freelist_count") == 0


def _hashes() -> dict[str, str]:
    with connection.cursor() as cursor:
        return table_hashes(cursor, "sqlite")


def _pages_needed(action: Callable[[], object]) -> int:
    """How many pages ``action`` adds to the database: run it, measure, roll back."""
    with transaction.atomic():
        base = _pragma("page_count")
        action()
        grown = _pragma("page_count") - base
        transaction.set_rollback(True)
    assert grown > 1, f"the write should need pages, it needed {grown}"
    return grown


@contextlib.contextmanager
def _page_limit(extra: int) -> Iterator[list[str]]:
    """Allow ``extra`` more pages; yield the writes that succeeded; then lift the limit."""
    writes: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(sql.split(None, 3)[2] if sql.upper().startswith("INSERT") else sql[:30])
        return result

    limit = _pragma("page_count") + extra
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA max_page_count = {limit}")
    try:
        with connection.execute_wrapper(count):
            yield writes
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA max_page_count = {UNLIMITED_PAGES}")


def _run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str):
    """Run ``kamfit ARGS`` in this process (its database connection is the test's)."""
    from kamfit.cli import main

    monkeypatch.setattr(sys, "argv", ["kamfit", *args])
    capsys.readouterr()
    code: int = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_full_disk_stops_an_import_with_a_message_and_nothing_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """T18, import: the page limit runs out mid-import; exit 1, one line, nothing stored."""
    from kamfit.assessments import exchange

    member = cast(
        Membership,
        MembershipFactory(role=Role.HR, organisation__slug=ORG, user__username=USER),
    )
    started = time.monotonic()
    mid_way = 0
    for seed, rng in seeds():
        n = rng.randint(100, 400)
        csv = write_people(tmp_path / f"full-{seed}.csv", n, f"full{seed}", wide=True)
        _vacuum()
        data = csv.read_bytes()
        needed = _pages_needed(
            partial(exchange.read_people, member.organisation, member.user, data, csv.name)
        )
        before = _hashes()
        with _page_limit(rng.randint(0, needed - 1)) as writes:
            code, _, err = _run_cli(monkeypatch, capsys, *import_args(csv))
        message = assert_clean_cli_failure((code, err))
        assert "full" in message, message
        mid_way += bool(writes)
        after = _hashes()
        assert after == before, f"seed {seed}: changed {changed_tables(before, after)}"
        code, out, err = _run_cli(monkeypatch, capsys, *import_args(csv))
        assert code == 0, f"seed {seed}: {err}"
        assert f"imported people: {n} new, 0 updated" in out
    print(f"T18 import: {TRIALS}/{TRIALS} clean failures, {mid_way} after some rows were written")
    print(f"T18 import: {time.monotonic() - started:.1f} s")
    assert mid_way > 0


@pytest.fixture
def purge_frozen_rows(transactional_db: None) -> Iterator[None]:
    """Clear frozen rows the way a purge does, so that the test database flush may run."""
    yield
    from kamfit.assessments.models import Cycle
    from kamfit.audits.models import Audit
    from kamfit.frameworks.models import Framework
    from kamfit.frameworks.services import unfrozen
    from kamfit.profiles.models import Profile, WeightingExercise

    Audit.objects.all().delete()
    with unfrozen("test teardown"):
        Cycle.objects.all().delete()
        WeightingExercise.objects.all().delete()
        Profile.objects.all().delete()
        while Framework.objects.exists():  # copies first: a parent version is protected
            Framework.objects.exclude(
                pk__in=Framework.objects.filter(versions__copies__isnull=False).values("pk")
            ).delete()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_full_disk_during_a_rating_form_submit_answers_a_generic_page(
    purge_frozen_rows: None, team: Team
) -> None:
    """T18, web: a submit that runs out of pages answers 503 with an error id, stores nothing."""
    manager = team.side.users[Role.MANAGER]
    rater = team.rater(team.kam, manager)
    client = Client()
    client.force_login(manager)
    url = reverse("assessments:rate", args=[team.side.org.slug, rater.pk])
    keys = list(team.answers(3))
    started = time.monotonic()
    mid_way = 0
    for seed, rng in seeds():
        data = {"action": "submit"}
        for key in keys:
            words = rng.randint(200, 600)
            data[f"level-{key}"] = str(rng.randint(1, 5))
            data[f"evidence-{key}"] = " ".join(
                rng.choice(("led", "won", "renewed", "Globex", "margin", "QBR"))
                for _ in range(words)
            )[:4000]
        # The draft (new, or amended from the last trial) holds short answers first,
        # so that the submit's long evidence needs new pages.
        short = {**data, "action": "save"} | {f"evidence-{key}": "-" for key in keys}
        assert client.post(url, short).status_code == 302
        _vacuum()
        needed = _pages_needed(
            lambda: client.post(url, data).status_code == 302 or pytest.fail("not stored")  # noqa: B023
        )
        before = _hashes()
        with _page_limit(rng.randint(0, needed - 1)) as writes:
            response = client.post(url, data)
        assert_generic_outage_answer(response, api=False)
        mid_way += bool(writes)
        after = _hashes()
        assert after == before, f"seed {seed}: changed {changed_tables(before, after)}"
        assert client.post(url, data).status_code == 302, f"seed {seed}"
        latest = RatingForm.objects.filter(rater=rater).order_by("-number").first()
        assert latest is not None and latest.status == FormStatus.SUBMITTED
        amend = {"action": "amend", "reason": f"trial {seed}"}
        assert client.post(url, amend).status_code == 302
    print(f"T18 submit: {TRIALS}/{TRIALS} answered 503, {mid_way} after some rows were written")
    print(f"T18 submit: {time.monotonic() - started:.1f} s")
    assert mid_way > 0


TMPFS_TRIALS = 5  # each needs two cold starts of the kamfit command


@sqlite_only
def test_a_full_tmpfs_data_directory(template: Template, tmp_path: Path) -> None:
    """T18, tmpfs: a 2 MB data directory fills up mid-import; after freeing space it works."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    tried = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if tried.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {tried.stderr.strip() or tried.returncode}")
    started = time.monotonic()
    try:
        for seed, rng in seeds(TMPFS_TRIALS):
            for child in mount.iterdir():
                child.unlink()
            db = template.trial(mount)
            before = db.hashes()
            n = rng.randint(400, 800)  # its WAL alone needs > 200 KB
            csv = write_people(tmp_path / f"tmpfs-{seed}.csv", n, f"tmpfs{seed}")
            stat = os.statvfs(mount)
            filler = mount / "filler"
            room = rng.randint(40, 160) * 1024  # the -shm file needs 32 KB
            filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - room))
            failed = kamfit(*import_args(csv), env=db.env)
            message = assert_clean_cli_failure(failed)
            assert "full" in message or "disk" in message, message
            filler.unlink()
            after = db.hashes()
            assert after == before, f"seed {seed}: changed {changed_tables(before, after)}"
            again = kamfit(*import_args(csv), env=db.env)
            assert again.returncode == 0, f"seed {seed}: {again.stderr[-2000:]}"
            assert db.count("assessments_person") == n
    finally:
        subprocess.run(["umount", str(mount)], check=False)
    print(f"T18 tmpfs: {TMPFS_TRIALS}/{TMPFS_TRIALS}; {time.monotonic() - started:.1f} s")


# --- T19: PostgreSQL goes down mid-request ------------------------------------------------------

APP_DB = "kamfit"
PAGE = f"/o/{ORG}/people/"
API_PEOPLE = f"/api/v1/organisations/{ORG}/people/"
API_IMPORT = API_PEOPLE + "import/"


@dataclass
class Outage:
    """A private cluster, and a gunicorn worker serving kamfit from it."""

    cluster: PgCluster
    base: str
    env: dict[str, str]
    log: Path
    page: requests.Session  # signed in with a session cookie
    api: requests.Session  # a Bearer API token

    def hashes(self) -> dict[str, str]:
        """Per-table hashes, but the API token's: its last_used_at records even a read."""
        hashes = postgres_hashes(self.cluster.url(APP_DB))
        hashes.pop("members_apitoken", None)
        return hashes

    def terminate_app(self, keep: frozenset[int] | set[int] = frozenset()) -> int:
        """pg_terminate_backend every connection to the app's database but ``keep``."""
        with self.cluster.connect() as admin:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND backend_type = 'client backend' AND NOT pid = ANY(%s)",
                (APP_DB, list(keep)),
            ).fetchall()
        return len(rows)

    def wait_for_lock_wait(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        with self.cluster.connect() as admin:
            while time.monotonic() < deadline:
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = %s AND wait_event_type = 'Lock'",
                    (APP_DB,),
                ).fetchone()
                if row and row[0]:
                    return
                time.sleep(0.01)
        pytest.fail("the request never reached the locked table")

    def send(self, kind: str, csv: Path | None = None) -> requests.Response:
        if kind == "page":
            return self.page.get(self.base + PAGE, timeout=60)
        if kind == "api-get":
            return self.api.get(self.base + API_PEOPLE, timeout=60)
        assert csv is not None
        with csv.open("rb") as handle:
            return self.api.post(self.base + API_IMPORT, files={"file": handle}, timeout=60)


def _sign_in(base: str) -> requests.Session:
    session = requests.Session()
    session.get(base + "/login/", timeout=30).raise_for_status()
    token = session.cookies["csrftoken"]
    answer = session.post(
        base + "/login/",
        data={"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """A private cluster (never the suite's: these tests stop it) and gunicorn against it."""
    if reason := binaries_missing():
        pytest.skip(reason)
    base_dir = tmp_path_factory.mktemp("outage")
    with PgCluster() as cluster:
        cluster.create_database(APP_DB)
        env = kamfit_env(base_dir, cluster.url(APP_DB)) | {"KAMFIT_CONN_MAX_AGE": "600"}
        _seed(env)
        port = free_port()
        log = base_dir / "gunicorn.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "kamfit.web.wsgi:application",
                    "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60",
                    "--graceful-timeout", "5", "--no-control-socket",
                ],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                    if requests.get(base + "/healthz", timeout=60).status_code == 200:
                        break
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            api = requests.Session()  # a Bearer token: the API refuses HTTP Basic
            made = kamfit("token", "create", "--user", USER, "--org", ORG, "--name", "T19", env=env)
            assert made.returncode == 0, made.stderr
            api.headers["Authorization"] = f"Bearer {made.stdout.strip().splitlines()[-1]}"
            page = _sign_in(base)
            assert page.get(base + PAGE, timeout=60).status_code == 200  # the session settles
            yield Outage(cluster, base, env, log, page, api)
        finally:
            server.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# The table each request waits on, and how: reads wait on an exclusive lock; an import
# waits on a SHARE lock (reads pass, writes wait) at its first write (people) or after
# it has written its people (key accounts).
READ_LOCKS = [("assessments_person", "ACCESS EXCLUSIVE")]
WRITE_LOCKS = [("assessments_person", "SHARE"), ("assessments_keyaccount", "SHARE")]
CLI_EVERY = 4  # the command-line import (two seconds of start-up) in every fourth trial


def _terminated_mid_request(
    outage: Outage, kind: str, lock: tuple[str, str], csv: Path | None = None
) -> requests.Response:
    """Send a request, let it wait on ``lock`` inside the database, terminate its backend."""
    table, mode = lock
    with (
        outage.cluster.connect(APP_DB, autocommit=False) as locker,
        ThreadPoolExecutor(1) as pool,
    ):
        locker.execute(f'LOCK TABLE "{table}" IN {mode} MODE')
        pending = pool.submit(outage.send, kind, csv)
        try:
            outage.wait_for_lock_wait()
            assert outage.terminate_app(keep={locker.info.backend_pid}) >= 1
        finally:
            locker.rollback()
        return pending.result(timeout=60)


def _terminated_cli_import(outage: Outage, csv: Path, lock: tuple[str, str]) -> tuple[int, str]:
    """Run ``kamfit assess import-people``, terminate its backend while it waits on ``lock``."""
    table, mode = lock
    with outage.cluster.connect(APP_DB, autocommit=False) as locker:
        locker.execute(f'LOCK TABLE "{table}" IN {mode} MODE')
        proc = subprocess.Popen(
            [str(KAMFIT), *import_args(csv)], env=outage.env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            outage.wait_for_lock_wait(timeout=120)
            assert outage.terminate_app(keep={locker.info.backend_pid}) >= 1
        finally:
            locker.rollback()
            _, stderr = proc.communicate(timeout=120)
    return proc.returncode, stderr


def _imported(response: requests.Response, n: int) -> bool:
    return response.status_code == 200 and response.json() == {"created": n, "updated": 0}


def test_postgres_going_away_answers_a_generic_503_and_recovers_without_restart(
    outage: Outage, tmp_path: Path
) -> None:
    """T19: backends terminated mid-request and mid-import; a crash and restart of PostgreSQL.

    Each trial: (1) a read (a page or the API, seeded) waiting on a lock has its
    connection terminated; (2) an API import of a seeded file has its connection
    terminated before or after it wrote its people, and in every fourth trial a
    command-line import too; (3) the server crashes (``pg_ctl stop -m immediate``), a
    seeded request is made, the server starts, the request is made again; (4) the server
    crashes and starts between two requests, so the worker's kept connection is dead
    and CONN_HEALTH_CHECKS must notice. The database is unchanged by every failed
    request, and every retry succeeds on the same server process.
    """
    started = time.monotonic()
    counts = dict.fromkeys(["read", "import", "cli", "outage", "restart"], 0)
    for trial, (seed, rng) in enumerate(seeds()):
        prefix = f"t19s{seed}"
        # (1) A read whose connection is terminated while it waits inside the database.
        kind = rng.choice(["page", "api-get"])
        before = outage.hashes()
        answer = _terminated_mid_request(outage, kind, rng.choice(READ_LOCKS))
        assert_generic_outage_answer(answer, api=kind != "page")
        assert outage.hashes() == before, f"seed {seed}: a read changed the database"
        assert outage.send(kind).status_code == 200, f"seed {seed}: {kind} after"
        counts["read"] += 1

        # (2) An import whose connection is terminated mid-transaction.
        n = rng.randint(20, 400)
        csv = write_people(tmp_path / f"{prefix}-a.csv", n, f"{prefix}a")
        before = outage.hashes()
        answer = _terminated_mid_request(outage, "api-import", rng.choice(WRITE_LOCKS), csv)
        assert_generic_outage_answer(answer, api=True)
        after = outage.hashes()
        assert after == before, f"seed {seed}: changed {changed_tables(before, after)}"
        assert _imported(outage.send("api-import", csv), n), f"seed {seed}: import after"
        counts["import"] += 1
        if trial % CLI_EVERY == 0:
            n = rng.randint(100, 1_000)
            csv = write_people(tmp_path / f"{prefix}-b.csv", n, f"{prefix}b")
            before = outage.hashes()
            assert_clean_cli_failure(_terminated_cli_import(outage, csv, rng.choice(WRITE_LOCKS)))
            after = outage.hashes()
            assert after == before, f"seed {seed}: changed {changed_tables(before, after)}"
            assert _imported(outage.send("api-import", csv), n), f"seed {seed}: import after"
            counts["cli"] += 1

        # (3) The server crashes; a request during the outage; start; the same request.
        kind = rng.choice(["page", "api-get", "api-import"])
        n = rng.randint(20, 400)
        csv = write_people(tmp_path / f"{prefix}-c.csv", n, f"{prefix}c")
        before = outage.hashes()
        outage.cluster.stop("immediate")
        try:
            assert_generic_outage_answer(outage.send(kind, csv), api=kind != "page")
        finally:
            outage.cluster.start()
        after = outage.hashes()
        assert after == before, f"seed {seed}: changed {changed_tables(before, after)}"
        again = outage.send(kind, csv)
        assert _imported(again, n) if kind == "api-import" else again.status_code == 200
        counts["outage"] += 1

        # (4) A crash between two requests: the worker's kept connection is dead.
        outage.cluster.stop("immediate")
        outage.cluster.start()
        kind = rng.choice(["page", "api-get"])
        assert outage.send(kind).status_code == 200, f"seed {seed}: first {kind} after restart"
        counts["restart"] += 1
    print(f"T19: {counts} in {TRIALS} trials; {time.monotonic() - started:.1f} s")
