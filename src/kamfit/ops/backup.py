"""Back up the whole database to one file, and restore it into an empty database.

A backup is a zip file (format ``kamfit-backup/1``) holding:

- ``manifest.json``: the format, the UTC time, the database vendor, the kamfit version,
  the applied migrations of every app (the schema version) and, per table, its columns,
  row count and the SHA-256 of its canonical dump;
- ``tables/<db_table>.jsonl``: that canonical dump, one JSON array per row, in primary
  key order. Values are normalised so the same data gives the same bytes on SQLite and
  PostgreSQL: datetimes as ISO 8601 in UTC, dates and times as ISO 8601, decimals and
  UUIDs as strings, bytes as base64, durations as microseconds, JSON as JSON with
  sorted keys.

The dump is read inside one transaction (a read snapshot: ``BEGIN DEFERRED`` on SQLite
in WAL mode, ``REPEATABLE READ READ ONLY`` on PostgreSQL), so a backup taken while
people write holds the database as it was at one moment and blocks no writer.

A restore refuses before writing anything if the file is not a whole kamfit backup,
if the installed code's migrations differ from the backup's, or if the target already
holds data. It then migrates the target, loads every table in one transaction with
foreign key checks deferred, resets PostgreSQL's sequences and compares each table's
hash with the manifest; a difference rolls the whole load back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Field, ForeignKey, Model

import kamfit
from kamfit.domain.errors import KamfitError
from kamfit.frameworks.services import unfrozen

__all__ = [
    "FORMAT",
    "LEFT_OUT",
    "BackupError",
    "Manifest",
    "TableDump",
    "backed_up_models",
    "restore_backup",
    "table_hashes",
    "write_backup",
]

FORMAT = "kamfit-backup/1"
MANIFEST = "manifest.json"
CHUNK = 2_000  # rows per fetch and per INSERT batch

# Tables a backup leaves out, with the reason the operator docs repeat.
LEFT_OUT = {
    "django_session": "sign-ins: everyone signs in again after a restore",
    "axes_accessattempt": "failed sign-in counters: a lock clears by itself within 30 minutes",
    "axes_accessattemptexpiration": "the expiry of those counters",
    "axes_accessfailurelog": "the log of those failures, kept on the old server",
    "axes_accesslog": "the sign-in log, kept on the old server",
    "django_tasks_database_dbtaskresult": (
        "background task results: restoring the queue would run old jobs again"
    ),
}
# Rows ``migrate`` itself writes into an empty database; a restore replaces them.
REBUILT_BY_MIGRATE = ("auth_permission", "django_content_type")


class BackupError(KamfitError):
    """A backup that cannot be written, or a file that cannot be restored; nothing changed."""


@dataclass(frozen=True)
class TableDump:
    """One table in a backup: its columns, row count and the hash of its canonical dump."""

    table: str
    columns: tuple[str, ...]
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and the schema version it needs."""

    format: str
    created_at: str
    vendor: str
    kamfit_version: str
    migrations: dict[str, tuple[str, ...]]
    tables: tuple[TableDump, ...]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> str:
        data = {
            "format": self.format,
            "created_at": self.created_at,
            "vendor": self.vendor,
            "kamfit_version": self.kamfit_version,
            "migrations": {app: list(names) for app, names in sorted(self.migrations.items())},
            "tables": [
                {"table": t.table, "columns": list(t.columns), "rows": t.rows, "sha256": t.sha256}
                for t in self.tables
            ],
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Read a manifest, refusing anything that is not ``kamfit-backup/1``."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                found = data.get("format") if isinstance(data, dict) else None
                raise BackupError(f"not a {FORMAT} file (format {found!r})")
            return cls(
                format=data["format"],
                created_at=str(data["created_at"]),
                vendor=str(data["vendor"]),
                kamfit_version=str(data["kamfit_version"]),
                migrations={
                    str(app): tuple(str(n) for n in names)
                    for app, names in data["migrations"].items()
                },
                tables=tuple(
                    TableDump(
                        str(t["table"]),
                        tuple(str(c) for c in t["columns"]),
                        int(t["rows"]),
                        str(t["sha256"]),
                    )
                    for t in data["tables"]
                ),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"the manifest is damaged ({type(exc).__name__}: {exc})") from exc


def backed_up_models() -> list[type[Model]]:
    """Every installed model with a table of its own, less ``LEFT_OUT``, by table name."""
    migrated = MigrationLoader(None, ignore_no_migrations=True).migrated_apps
    found: dict[str, type[Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in LEFT_OUT:
            continue
        if meta.app_label not in migrated:  # no migrations, so no table to read
            continue
        found.setdefault(meta.db_table, model)
    return [found[table] for table in sorted(found)]


def table_hashes() -> dict[str, str]:
    """The SHA-256 of each backed-up table's canonical dump, read in one snapshot."""
    with _snapshot():
        return {m._meta.db_table: _dump(m, _discard).sha256 for m in backed_up_models()}


def write_backup(path: Path) -> Manifest:
    """Write the whole database to ``path`` (replaced only once the backup is complete)."""
    models = backed_up_models()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with (
            zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
            _snapshot(),
        ):
            migrations = _schema_of_database()
            dumps = []
            for model in models:
                name = f"tables/{model._meta.db_table}.jsonl"
                with archive.open(name, "w", force_zip64=True) as member:
                    dumps.append(_dump(model, member.write))
            manifest = Manifest(
                format=FORMAT,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                vendor=connection.vendor,
                kamfit_version=kamfit.__version__,
                migrations=migrations,
                tables=tuple(dumps),
            )
            archive.writestr(MANIFEST, manifest.to_json())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def restore_backup(path: Path) -> Manifest:
    """Restore a backup into the empty database the settings name; refuse anything else."""
    models = {m._meta.db_table: m for m in backed_up_models()}
    with _open(path) as archive:
        manifest = _read_manifest(archive)
        _check_schema(manifest, models)
        for dump in manifest.tables:
            _check_member(archive, dump)
        _check_empty()
        call_command("migrate", interactive=False, verbosity=0)
        _clear_content_type_cache()
        try:
            with unfrozen("kamfit restore"):
                _defer_constraints()
                with connection.cursor() as cursor:
                    for table in REBUILT_BY_MIGRATE:
                        cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - quoted model table
                for dump in manifest.tables:
                    _load(archive, dump, models[dump.table])
                for sql in connection.ops.sequence_reset_sql(no_style(), list(models.values())):
                    with connection.cursor() as cursor:
                        cursor.execute(sql)
                _check_loaded(manifest, models)
        except IntegrityError as exc:
            raise BackupError(f"the restored rows break a constraint: {exc}") from exc
        finally:
            _clear_content_type_cache()
    return manifest


# Reading -----------------------------------------------------------------------------


@contextmanager
def _snapshot() -> Iterator[None]:
    """Read everything inside one transaction that sees one moment of the database."""
    if connection.in_atomic_block:  # already in a transaction (tests): read inside it
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        # Django opens SQLite transactions IMMEDIATE, which would stop every writer for
        # the length of the backup; a deferred one reads a WAL snapshot and blocks none.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
    else:
        with transaction.atomic():
            yield


def _schema_of_database() -> dict[str, tuple[str, ...]]:
    """The applied migrations per app; refuse a database the code has not fully migrated."""
    code = _schema_of_code()
    applied = {
        key
        for key in MigrationRecorder(connection).applied_migrations()
        if key[0] in code  # rows of apps no longer installed are not part of the schema
    }
    missing = sorted({(app, n) for app, names in code.items() for n in names} - applied)
    if missing:
        app, name = missing[0]
        raise BackupError(
            f"the database is not fully migrated ({app} {name} is not applied): "
            "run kamfit migrate first"
        )
    return _group(applied)


def _schema_of_code() -> dict[str, tuple[str, ...]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return _group(loader.graph.nodes)


def _group(keys: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for app, name in keys:
        grouped.setdefault(app, []).append(name)
    return {app: tuple(sorted(names)) for app, names in sorted(grouped.items())}


def _dump(model: type[Model], write: Callable[[bytes], object]) -> TableDump:
    """Write a table's canonical dump through ``write`` and return its row count and hash."""
    meta = model._meta
    fields = meta.concrete_fields
    digest = hashlib.sha256()
    rows = 0
    query = model._base_manager.order_by("pk").values_list(*(f.attname for f in fields))
    buffer: list[bytes] = []
    for row in query.iterator(chunk_size=CHUNK):
        line = json.dumps([_canonical(v) for v in row], sort_keys=True, separators=(",", ":"))
        buffer.append(line.encode("ascii") + b"\n")
        rows += 1
        if len(buffer) == CHUNK:
            rows_bytes = b"".join(buffer)
            digest.update(rows_bytes)
            write(rows_bytes)
            buffer.clear()
    rest = b"".join(buffer)
    digest.update(rest)
    write(rest)
    return TableDump(meta.db_table, tuple(f.column for f in fields), rows, digest.hexdigest())


def _canonical(value: object) -> object:
    """A database value as the JSON value both databases agree on."""
    if value is None or isinstance(value, str | int | float | dict | list):
        return value  # bool is an int; JSON field values are already JSON
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, timedelta):
        return value // timedelta(microseconds=1)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def _discard(_data: bytes) -> None:
    return None


# Restoring ---------------------------------------------------------------------------


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise BackupError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise BackupError(f"{path}: a directory, not a backup file") from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BackupError(f"{path}: not a kamfit backup, or damaged ({exc})") from exc


def _read_manifest(archive: zipfile.ZipFile) -> Manifest:
    try:
        text = archive.read(MANIFEST).decode("utf-8")
    except KeyError as exc:
        raise BackupError(f"no {MANIFEST}: not a kamfit backup") from exc
    except UnicodeDecodeError as exc:
        raise BackupError(f"{MANIFEST} is not UTF-8: the file is damaged") from exc
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise BackupError(f"{MANIFEST} is damaged ({exc})") from exc
    return Manifest.from_json(text)


def _check_schema(manifest: Manifest, models: dict[str, type[Model]]) -> None:
    """Refuse a backup of another schema version, naming the first difference."""
    code = _schema_of_code()
    for app in sorted(set(code) | set(manifest.migrations)):
        theirs, ours = set(manifest.migrations.get(app, ())), set(code.get(app, ()))
        if theirs != ours:
            name = min(theirs ^ ours)
            where = "the backup" if name in theirs else "this kamfit"
            other = "this kamfit" if name in theirs else "the backup"
            raise BackupError(
                f"schema version differs: migration {app} {name} is in {where} but not in "
                f"{other}; restore with the kamfit version that took the backup "
                f"({manifest.kamfit_version})"
            )
    tables = {t.table: t for t in manifest.tables}
    if set(tables) != set(models):
        table = min(set(tables) ^ set(models))
        raise BackupError(f"schema version differs: table {table} is not in both")
    for table, model in models.items():
        columns = tuple(f.column for f in model._meta.concrete_fields)
        if tables[table].columns != columns:
            raise BackupError(f"schema version differs: the columns of {table} differ")


def _check_member(archive: zipfile.ZipFile, dump: TableDump) -> None:
    """Read a table's file through once: row count and hash as the manifest says."""
    digest = hashlib.sha256()
    rows = 0
    with _member(archive, dump) as stream:
        for line in stream:
            digest.update(line)
            rows += 1
    if rows != dump.rows or digest.hexdigest() != dump.sha256:
        raise BackupError(f"{dump.table}: the file's rows do not match the manifest (damaged)")


@contextmanager
def _member(archive: zipfile.ZipFile, dump: TableDump) -> Iterator[IO[bytes]]:
    name = f"tables/{dump.table}.jsonl"
    try:
        with archive.open(name) as stream:
            yield stream
    except KeyError as exc:
        raise BackupError(f"{name} is missing: the file is damaged") from exc
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise BackupError(f"{name} is damaged ({exc})") from exc


def _check_empty() -> None:
    """Refuse a target that holds anything beyond what ``migrate`` writes itself."""
    existing = set(connection.introspection.table_names())
    code = {app: set(names) for app, names in _schema_of_code().items()}
    if MigrationRecorder.Migration._meta.db_table in existing:
        for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
            if app in code and name not in code[app]:
                raise BackupError(f"the target database has migration {app} {name} applied")
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if table not in existing or table in REBUILT_BY_MIGRATE:
                continue
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608 - quoted table
            if cursor.fetchone() is not None:
                raise BackupError(
                    f"the target database already holds data ({table} has rows): "
                    "restore only into an empty database"
                )


def _defer_constraints() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA defer_foreign_keys = ON")
        elif connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _load(archive: zipfile.ZipFile, dump: TableDump, model: type[Model]) -> None:
    """Insert a table's rows from the file, in batches."""
    fields = model._meta.concrete_fields
    convert = [(i, p) for i, p in enumerate(map(_preparer, fields)) if p is not _same]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(dump.table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608 - quoted names
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    batch: list[list[Any]] = []
    with _member(archive, dump) as stream, connection.cursor() as cursor:
        for line in stream:
            values = json.loads(line)
            for i, prepare in convert:
                values[i] = prepare(values[i])
            batch.append(values)
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)


def _preparer(field: Field[Any, Any]) -> Callable[[Any], Any]:
    """Turn a canonical value back into the parameter the database driver takes."""
    target = field
    while isinstance(target, ForeignKey):  # a key is stored as the field it points at
        target = target.target_field
    parse = _PARSERS.get(target.get_internal_type())
    if parse is None:
        return _same
    # Same conversion the ORM applies on save (aware datetimes to UTC text on SQLite,
    # JSON adapters on PostgreSQL), without ``auto_now`` overwriting the stored time.
    to_db = target.get_db_prep_save

    def prepare(value: Any) -> Any:
        return None if value is None else to_db(parse(value), connection)

    return prepare


def _same(value: Any) -> Any:
    return value


def _json_value(value: Any) -> Any:
    return value


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "DateTimeField": datetime.fromisoformat,
    "DateField": date.fromisoformat,
    "TimeField": time.fromisoformat,
    "DecimalField": Decimal,
    "UUIDField": UUID,
    "BinaryField": base64.b64decode,
    "DurationField": lambda us: timedelta(microseconds=us),
    "JSONField": _json_value,
}


def _check_loaded(manifest: Manifest, models: dict[str, type[Model]]) -> None:
    """Check foreign keys now, then compare each table's hash with the manifest."""
    try:
        connection.check_constraints()
    except (IntegrityError, DatabaseError) as exc:
        raise BackupError(f"the restored rows break a foreign key: {exc}") from exc
    for dump in manifest.tables:
        got = _dump(models[dump.table], _discard)
        if (got.rows, got.sha256) != (dump.rows, dump.sha256):
            raise BackupError(
                f"{dump.table}: the restored rows differ from the backup "
                f"({got.rows} rows, expected {dump.rows}); nothing was restored"
            )


def _clear_content_type_cache() -> None:
    from django.contrib.contenttypes.models import ContentType  # noqa: PLC0415

    ContentType.objects.clear_cache()
