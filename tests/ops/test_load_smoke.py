"""A short load test in the suite: ``make bench-load``'s harness with 10 users for 20 s.

It runs against real gunicorn workers on whichever database the suite runs on: a fresh
SQLite data directory, or (with ``DATABASE_URL``) a scratch database created on the same
PostgreSQL server and dropped afterwards, never the suite's own. It asserts what
``make bench-load`` asserts (no 5xx, no failed request, the write ledger equals the
database) except the latency targets: the suite's other tests run beside it on the
same two cores (``pytest -n 2``), so its timings measure the machine's load more than
kamfit's. It allows 5x the targets, to catch only gross slowness.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.load.run import API_P95_MS, PAGE_P95_MS, Targets, run_load

USERS = 10
DURATION = "20s"


@pytest.fixture
def scratch_database() -> Iterator[str | None]:
    """A new, empty PostgreSQL database beside ``DATABASE_URL``'s, or None for SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield None
        return
    import psycopg

    name = f"kamfit_load_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_production_server_under_load_loses_no_write(scratch_database: str | None) -> None:
    report = run_load(
        database="postgres" if scratch_database else "sqlite",
        database_url=scratch_database,
        users=USERS,
        spawn_rate=USERS,
        duration=DURATION,
        workers=3,
        targets=Targets(api_p95_ms=5 * API_P95_MS, page_p95_ms=5 * PAGE_P95_MS),
    )
    assert report.misses() == [], report.table()
    total = report.total
    assert total.requests > 50
    assert total.server_errors == 0
    assert total.failures == 0
    assert report.ledger["acknowledged"]["saves"] > 0
    assert report.ledger["acknowledged"] == report.ledger["in_database"]
