"""A content hash of a whole database: every table's rows, in primary-key order.

Two databases with equal hashes hold the same rows. The hash covers table contents
only: SQLite's internal tables (``sqlite_sequence``) and PostgreSQL sequences, which
advance even when a transaction rolls back, are left out on purpose.

Works on a DB-API cursor of ``sqlite3``, ``psycopg`` or a Django connection.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol


class Cursor(Protocol):
    def execute(self, sql: str, /) -> Any: ...
    def fetchall(self) -> Any: ...


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_tables(cur: Cursor) -> dict[str, list[str]]:
    cur.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    tables = {}
    for (name,) in cur.fetchall():
        cur.execute(f"PRAGMA table_info({_quote(name)})")
        pk = sorted((row[5], row[1]) for row in cur.fetchall() if row[5])
        tables[name] = [column for _, column in pk] or ["rowid"]
    return tables


def _postgres_tables(cur: Cursor) -> dict[str, list[str]]:
    cur.execute(
        "SELECT c.relname, a.attname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "ORDER BY c.relname, array_position(i.indkey::int2[], a.attnum)"
    )
    tables: dict[str, list[str]] = {}
    for name, column in cur.fetchall():
        tables.setdefault(name, [])
        if column is not None:
            tables[name].append(column)
    return tables


def table_hashes(cur: Cursor, vendor: str) -> dict[str, str]:
    """SHA-256 of each table's rows in primary-key order (all columns if it has none)."""
    tables = _sqlite_tables(cur) if vendor == "sqlite" else _postgres_tables(cur)
    hashes = {}
    for name, key in sorted(tables.items()):
        order = ", ".join(_quote(c) if c != "rowid" else c for c in key) or "1"
        if not key:  # no primary key: order by every column
            cur.execute(f"SELECT * FROM {_quote(name)} LIMIT 0")  # noqa: S608 - catalogue names
            order = ", ".join(str(i + 1) for i in range(len(cur.description)))  # type: ignore[attr-defined]
        cur.execute(f"SELECT * FROM {_quote(name)} ORDER BY {order}")  # noqa: S608 - catalogue names
        digest = hashlib.sha256()
        for row in cur.fetchall():
            digest.update(repr(tuple(row)).encode())
            digest.update(b"\n")
        hashes[name] = digest.hexdigest()
    return hashes


def database_hash(cur: Cursor, vendor: str) -> str:
    """One SHA-256 over every table's name and row hash."""
    digest = hashlib.sha256()
    for name, value in table_hashes(cur, vendor).items():
        digest.update(f"{name} {value}\n".encode())
    return digest.hexdigest()


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The tables whose rows differ (or that appeared or vanished): for messages."""
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


def sqlite_file_hashes(path: str) -> dict[str, str]:
    """Per-table hashes of an SQLite file, read as another process sees it."""
    import sqlite3

    conn = sqlite3.connect(path, timeout=30)
    try:
        return table_hashes(conn.cursor(), "sqlite")
    finally:
        conn.close()


def postgres_hashes(url: str) -> dict[str, str]:
    """Per-table hashes of a PostgreSQL database, through a connection of its own."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return table_hashes(conn.cursor(), "postgresql")
