"""``make bench``: the people list, the team heatmap and the API people list at scale.

One organisation grows to 1,000, then 10,000, then 100,000 people; after each step
the three pages are timed through Django's test client (server time: the first,
cold request, then median and p95 of repeated requests after warm-up) and their SQL
statements counted with ``connection.execute_wrapper``. Query counts must not
change with the size.

The data: every person has a unit, a line manager (one of the first 1%), two key
accounts and a background. One open cycle against a 21-requirement profile (the
Table-3 competencies) assesses every person, with three raters each (manager and
two peers) whose submitted forms rate every requirement: 63 rating rows a person,
6.3 million at 100,000 people. Rows are written with ``INSERT … SELECT`` (ratings
levels from a fixed formula of the ids, so both databases hold the same data); the
build time per step is printed (on PostgreSQL it includes a ``VACUUM ANALYZE``, the steady
state autovacuum would reach). Ratings go in while the forms are drafts, then the
forms are marked submitted, as the freeze triggers require.

Run alone (SQLite in a temporary data directory, or PostgreSQL)::

    .venv/bin/python -m tests.bench.run scale
    scripts/with-postgres .venv/bin/python -m tests.bench.run scale

``KAMFIT_BENCH_SCALE`` (e.g. ``1000,10000``) chooses the sizes.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Model
    from django.test import Client

    from kamfit.assessments.models import Cycle
    from kamfit.orgs.models import Organisation
    from kamfit.profiles.models import ProfileVersion

SIZES = tuple(int(s) for s in os.environ.get("KAMFIT_BENCH_SCALE", "1000,10000,100000").split(","))
RATERS = ("manager", "peer", "peer")
MANAGERS = 0.01  # share of people who are line managers of the rest
GRID_MS = 15.0  # PERFORMANCE.md: a page with a grid of at most 100 people
HEATMAP_MS = 100.0  # PERFORMANCE.md: the team heatmap of 1,000 people


@dataclass(frozen=True)
class Figure:
    """One page at one size."""

    people: int
    page: str
    cold: float
    median: float
    p95: float
    cpu: float  # median CPU time of this process per request
    queries: int
    rows: int  # people on the page


def _insert_select(
    model: type[Model], values: dict[str, str], source: str, params: list[Any]
) -> int:
    """``INSERT INTO model (...) SELECT ... source``: one statement, no rows through Python.

    ``values`` maps field names to SQL expressions over ``source`` (no placeholders: the
    parameters ``params`` belong to ``source``); every other field
    gets its Python default (``now`` for ``auto_now``/``auto_now_add``), so fields added
    to the model later need no change here.
    """
    from django.db import connection
    from django.utils import timezone

    columns, exprs, args = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in values:
            exprs.append(values[field.name])
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        default = timezone.now() if auto else field.get_default()
        exprs.append("%s")
        args.append(field.get_db_prep_save(default, connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, *params])
        return int(cursor.rowcount)


def _grow(org: Organisation, cycle: Cycle, raters: list[User], start: int, stop: int) -> None:
    """Add people ``start`` to ``stop - 1`` with accounts, and assess them in ``cycle``."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kamfit.assessments.models import (
        Assessee,
        Background,
        FormStatus,
        KeyAccount,
        Person,
        PersonKind,
        Rater,
        Rating,
        RatingForm,
    )
    from kamfit.profiles.models import Requirement

    backgrounds = list(Background.values)
    with transaction.atomic():
        Person.objects.bulk_create(
            (
                Person(
                    organisation=org,
                    reference=f"p{i:06d}",
                    # names out of id order, so sorting by name has work to do
                    name=f"Person {(i * 7919) % 1_000_003:07d}",
                    kind=PersonKind.CANDIDATE if i % 10 == 9 else PersonKind.KAM,
                    job_title="Key account manager",
                    unit=f"Unit {i % 40:02d}",
                    background=backgrounds[i % len(backgrounds)],
                )
                for i in range(start, stop)
            ),
            batch_size=5_000,
        )
        person = Person._meta.db_table
        new = f"FROM {person} p WHERE p.organisation_id = %s AND p.reference >= %s"
        first = [org.pk, f"p{start:06d}"]
        # Managers: the first 1% of everyone so far (their ids are the lowest).
        managers = list(
            Person.objects.filter(organisation=org)
            .order_by("id")
            .values_list("id", flat=True)[: max(1, int(stop * MANAGERS))]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {person} SET manager_id = %s + (id %% %s) "  # noqa: S608 - table name
                "WHERE organisation_id = %s AND reference >= %s AND id > %s",
                [managers[0], len(managers), org.pk, f"p{start:06d}", managers[-1]],
            )
        for n in range(2):
            _insert_select(
                KeyAccount,
                {"organisation": "p.organisation_id", "person": "p.id", "name": f"'Account {n}'"},
                new,
                first,
            )
        _insert_select(Assessee, {"cycle": str(int(cycle.pk)), "person": "p.id"}, new, first)
        assessees = (
            f"FROM {Assessee._meta.db_table} a JOIN {person} p ON p.id = a.person_id "
            "WHERE a.cycle_id = %s AND p.reference >= %s"
        )
        for user, source in zip(raters, RATERS, strict=True):
            _insert_select(
                Rater,
                {"assessee": "a.id", "user": str(int(user.pk)), "source": f"'{source}'"},
                assessees,
                [cycle.pk, f"p{start:06d}"],
            )
        raters_sql = (
            f"FROM {Rater._meta.db_table} r "
            f"JOIN {Assessee._meta.db_table} a ON a.id = r.assessee_id "
            f"JOIN {person} p ON p.id = a.person_id WHERE a.cycle_id = %s AND p.reference >= %s"
        )
        here = [cycle.pk, f"p{start:06d}"]
        _insert_select(RatingForm, {"rater": "r.id", "status": "'draft'"}, raters_sql, here)
        form = RatingForm._meta.db_table
        _insert_select(
            Rating,
            {
                "form": "f.id",
                "competency": "q.competency_id",
                "level": "1 + (f.id * 31 + q.competency_id * 17 + f.id / 7) %% 5",
                "evidence": "''",
            },
            f"FROM {form} f JOIN {Rater._meta.db_table} r ON r.id = f.rater_id "
            f"JOIN {Assessee._meta.db_table} a ON a.id = r.assessee_id "
            f"JOIN {person} p ON p.id = a.person_id "
            f"CROSS JOIN {Requirement._meta.db_table} q "
            "WHERE a.cycle_id = %s AND p.reference >= %s AND f.status = 'draft' "
            "AND q.version_id = %s AND q.included",
            [*here, cycle.profile_version_id],
        )
        RatingForm.objects.filter(rater__assessee__cycle=cycle, status=FormStatus.DRAFT).update(
            status=FormStatus.SUBMITTED, submitted_at=timezone.now()
        )


def _measure(client: Client, url: str, people: int, page: str, runs: int) -> Figure:
    """Time one URL: the cold request (counted), two warm-ups, then ``runs`` requests."""
    from django.db import connection

    count = 0

    def counter(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    gc.collect()  # what an earlier page left behind is not collected during this one
    start = time.perf_counter()
    response = client.get(url)
    cold = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    client.get(url)
    with connection.execute_wrapper(counter):
        response = client.get(url)
    if "/api/" in url:
        rows = len(response.json()["results"])
    elif page == "team heatmap":
        rows = response.content.decode().count("<tr><td><a href")
    elif page == "people list":
        rows = response.content.decode().count("<tr") - 1  # the header row
    else:
        rows = 0
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    return Figure(
        people, page, cold, statistics.median(times), p95, statistics.median(cpu), count, rows
    )


def _setup() -> tuple[Organisation, User, ProfileVersion, list[User]]:
    from django.contrib.auth import get_user_model

    from kamfit.domain import framework as fw
    from kamfit.frameworks.models import FrameworkVersion
    from kamfit.frameworks.services import install_library_framework
    from kamfit.orgs.models import Membership, Organisation, Role
    from tests.bench.assessments import _profile

    if not FrameworkVersion.objects.filter(framework__organisation__isnull=True).exists():
        install_library_framework(doc=fw.shipped())
    org = Organisation.objects.create(name="Scale", slug="scale")
    users = get_user_model().objects
    user = users.create_user("scale-hr", password="x" * 12)
    Membership.objects.create(user=user, organisation=org, role=Role.HR)
    raters = []
    for i in range(len(RATERS)):
        rater = users.create_user(f"scale-rater-{i}", password="x" * 12)
        Membership.objects.create(user=rater, organisation=org, role=Role.PARTICIPANT)
        raters.append(rater)
    return org, user, _profile(org, user), raters


def bench_scale() -> bool:
    """Print the scale figures; return whether query counts stayed constant."""
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from kamfit.assessments.models import Cycle, CycleStatus

    org, user, profile, raters = _setup()
    cycle = Cycle.objects.create(
        organisation=org, title="Scale", profile_version=profile, status=CycleStatus.OPEN
    )
    client = Client()
    client.force_login(user)
    urls = {
        "people list": reverse("assessments:people", args=[org.slug]),
        "API people": f"/api/v1/organisations/{org.slug}/people/",
        "team heatmap": reverse("assessments:team", args=[org.slug, cycle.pk]),
    }
    vendor = connection.vendor
    bare = _measure(client, reverse("healthz"), 0, "bare view", 50)
    print(f"\nScale figures ({vendor}): one organisation; 21 requirements, 3 raters a person")
    print("(server time through the Django test client; cold = first request after the build;")
    print(" cpu = this process's CPU time, which other load on the machine inflates less;")
    print(" on PostgreSQL it leaves out the database server's work)\n")
    header = (
        f"{'people':>8} {'build s':>8} {'page':<13} {'rows':>5} {'cold ms':>8} "
        f"{'median ms':>10} {'p95 ms':>8} {'cpu ms':>7} {'queries':>8}  target"
    )
    print(header)
    print("-" * len(header))
    figures: list[Figure] = []
    done = 0
    for n in SIZES:
        start = time.perf_counter()
        _grow(org, cycle, raters, done, n)
        if vendor == "postgresql":  # the steady state: autovacuum would have run
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        done = n
        build = time.perf_counter() - start
        for page, url in urls.items():
            runs = 20 if n <= 10_000 else 7
            figure = _measure(client, url, n, page, runs)
            figures.append(figure)
            target, met = _target(figure)
            print(
                f"{n:>8,} {build:>8.1f} {page:<13} {figure.rows:>5} {figure.cold:>8.1f} "
                f"{figure.median:>10.1f} {figure.p95:>8.1f} {figure.cpu:>7.1f} "
                f"{figure.queries:>8}  "
                f"{target}{'' if met is None else (' met' if met else ' MISSED')}"
            )
            build = 0.0
    print(
        f"\nreference: a bare view (/healthz, one query) in the same run: median "
        f"{bare.median:.1f} ms, p95 {bare.p95:.1f} ms, cpu {bare.cpu:.1f} ms; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    constant = True
    for page in urls:
        counts = {f.queries for f in figures if f.page == page}
        same = len(counts) == 1
        constant &= same
        print(f"{page:<13} queries constant across sizes: {'yes' if same else 'NO'}")
    return constant


def _target(figure: Figure) -> tuple[str, bool | None]:
    """The PERFORMANCE.md target that applies, and whether the median meets it."""
    if figure.page == "team heatmap":
        if figure.people <= 1_000:
            return f"≤ {HEATMAP_MS:.0f} ms", figure.median <= HEATMAP_MS
        return "paginated (≤ 100 rows)", figure.rows <= 100
    return f"≤ {GRID_MS:.0f} ms", figure.median <= GRID_MS
