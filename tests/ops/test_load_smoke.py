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

from collections.abc import Iterator

import pytest

from tests.load.run import API_P95_MS, PAGE_P95_MS, Targets, run_load
from tests.ops.conftest import scratch_database

USERS = 10
DURATION = "20s"


@pytest.fixture
def scratch_url() -> Iterator[str | None]:
    with scratch_database() as url:
        yield url


def test_production_server_under_load_loses_no_write(scratch_url: str | None) -> None:
    report = run_load(
        database="postgres" if scratch_url else "sqlite",
        database_url=scratch_url,
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
