"""``python -m tests.bench.run backup``: back up and restore the demo plus 100,000 ratings.

The demo data, then one more cycle of the demo organisation whose submitted forms hold
about 100,000 ratings (1,191 people, four raters each, 21 requirements: 100,044 rows),
written with bulk inserts as ``tests/bench/assessments.py`` does. ``kamfit backup`` and
``kamfit restore`` then run as an operator runs them, in subprocesses: the restore into a
fresh data directory (SQLite) or a fresh database on the same server (PostgreSQL). The
wall time includes starting Python and Django and migrating the empty target.

    .venv/bin/python -m tests.bench.run backup
    scripts/with-postgres .venv/bin/python -m tests.bench.run backup

RELIABILITY.md T21: the restore must take at most two minutes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

RATINGS = int(os.environ.get("KAMFIT_BENCH_RATINGS", "100000"))
RESTORE_LIMIT_S = 120.0
KAMFIT = Path(sys.executable).parent / "kamfit"


def _add_ratings(total: int) -> int:
    """One more cycle with at least ``total`` ratings on submitted forms; return the count."""
    from django.contrib.auth import get_user_model

    from kamfit.orgs.models import Organisation
    from tests.bench.assessments import RATERS, _profile, _team

    org = Organisation.objects.get(slug="acme-supplies")
    director = get_user_model().objects.get(username="diego.director")
    profile = _profile(org, director)
    raters = list(get_user_model().objects.filter(memberships__organisation=org)[: len(RATERS)])
    per_person = len(RATERS) * profile.requirements.filter(included=True).count()
    _team(org, profile, raters, -(-total // per_person))
    return -(-total // per_person) * per_person


def _environment(data_dir: str, database: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMFIT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env |= {"KAMFIT_DATA_DIR": data_dir, "KAMFIT_DEBUG": "true"}
    if database:
        env["DATABASE_URL"] = database
    return env


def _run(env: dict[str, str], *args: str) -> tuple[float, float, str]:
    """Run ``kamfit ARGS``: wall seconds, the seconds it reports itself, and its summary."""
    start = time.perf_counter()
    result = subprocess.run(
        [str(KAMFIT), *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"kamfit {' '.join(args)}: {result.stderr}")
    summary = result.stderr.strip().splitlines()[-1]
    found = re.search(r"([\d.]+) s$", summary)
    return wall, float(found.group(1)) if found else wall, summary


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.encode())


def bench_backup() -> bool:
    """Print the backup and restore times; False if the restore takes over two minutes."""
    from django.conf import settings
    from django.db import connection

    from kamfit.assessments.models import Rating
    from kamfit.demo import load_demo
    from kamfit.ops.backup import table_hashes

    start = time.perf_counter()
    load_demo()
    added = _add_ratings(RATINGS)
    build = time.perf_counter() - start
    ratings = Rating.objects.count()
    hashes = table_hashes()

    url = os.environ.get("DATABASE_URL", "")
    source = _environment(str(settings.DATA_DIR), url or None)
    with tempfile.TemporaryDirectory(prefix="kamfit-restore-") as target_dir:
        backup_file = Path(target_dir) / "kamfit-backup.zip"
        target_db = None
        if connection.vendor == "postgresql":
            name = f"kamfit_restore_{uuid.uuid4().hex[:8]}"
            _admin(url, f'CREATE DATABASE "{name}"')
            target_db = f"{url.rsplit('/', 1)[0]}/{name}"
        try:
            backup = _run(source, "backup", "--out", str(backup_file))
            size = backup_file.stat().st_size / 1e6
            restore = _run(_environment(target_dir, target_db), "restore", str(backup_file))
        finally:
            if target_db:
                _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"\nBackup and restore: the demo plus {added:,} ratings ({connection.vendor})\n")
    print(f"build {build:.1f} s; {ratings:,} ratings in all; backup file {size:.1f} MB")
    print(f"{len(hashes)} tables; the restore compares each table's SHA-256 with the manifest\n")
    header = f"{'command':<16} {'wall s':>8} {'work s':>8}"
    print(header)
    print("-" * len(header))
    for label, (wall, work, _summary) in (("kamfit backup", backup), ("kamfit restore", restore)):
        print(f"{label:<16} {wall:>8.1f} {work:>8.1f}")
    print("\n(wall: the whole command; work: the time it reports, without Python start-up)")
    ok = restore[0] <= RESTORE_LIMIT_S
    print(f"restore within {RESTORE_LIMIT_S:.0f} s: {'yes' if ok else 'NO'}")
    return ok
