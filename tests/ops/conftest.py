"""Shared helpers of the operations tests."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


@contextmanager
def scratch_database() -> Iterator[str | None]:
    """A new, empty PostgreSQL database beside ``DATABASE_URL``'s, dropped afterwards.

    Yields its URL, or None when the suite runs on SQLite (the caller then uses a fresh
    data directory). A server started on it never touches the suite's own database.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield None
        return
    import psycopg  # only on PostgreSQL

    name = f"kamfit_scratch_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
