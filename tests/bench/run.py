"""``make bench``: measured figures, printed as a table (never timed tests).

Framework pages with the shipped framework (54 competencies) and with a
framework of 500 competencies: server time per request through Django's test
client (median and p95 of repeated requests) and the SQL query count, which must
be the same for both sizes.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

RUNS = int(os.environ.get("KAMFIT_BENCH_RUNS", "30"))

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from kamfit.orgs.models import Organisation


def setup_django(data_dir: str) -> None:
    os.environ["KAMFIT_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "kamfit.web.test_settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client and query capture behave as in the suite

    call_command("migrate", verbosity=0)


def measure(client: object, url: str, runs: int = RUNS) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)  # type: ignore[attr-defined]
    count = len(queries)  # read now: the next request resets the query log
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], count


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kamfit-bench-") as data_dir:
        setup_django(data_dir)
        from tests.bench.scale import bench_scale

        if sys.argv[1:] == ["scale"]:  # python -m tests.bench.run scale: only these figures
            sys.exit(0 if bench_scale() else 1)
        if sys.argv[1:] == ["backup"]:  # python -m tests.bench.run backup: only these figures
            from tests.bench.backup import bench_backup

            sys.exit(0 if bench_backup() else 1)
        if sys.argv[1:] == ["imports"]:  # python -m tests.bench.run imports: only these figures
            from tests.bench.imports import bench_imports

            sys.exit(0 if bench_imports() else 1)
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        from kamfit.domain import framework as fw
        from kamfit.frameworks.services import import_framework, install_library_framework
        from kamfit.orgs.models import Membership, Organisation, Role
        from tests.web.frameworks.test_pages import big_framework

        install_library_framework(doc=fw.shipped())
        org = Organisation.objects.create(name="Bench", slug="bench")
        user = get_user_model().objects.create_user("bench", password="x" * 12)
        Membership.objects.create(user=user, organisation=org, role=Role.DIRECTOR)
        sizes = {
            54: import_framework(organisation=org, user=None, doc=fw.shipped()),
            500: import_framework(organisation=org, user=None, doc=big_framework(500)),
        }
        client = Client()
        client.force_login(user)
        pages = {
            "roles of KAM": ("frameworks:version", []),
            "role element": ("frameworks:element", ["strategy"]),
            "competency list": ("frameworks:competencies", []),
            "competency": ("frameworks:competency", ["negotiation"]),
            "matrix": ("frameworks:matrix", []),
            "export json": ("frameworks:export", ["json"]),
        }
        rows = []
        for name, (route, extra) in pages.items():
            figures = []
            for size, framework in sizes.items():
                url = reverse(route, args=["bench", framework.pk, 1, *extra])
                figures.append((size, *measure(client, url)))
            rows.append((name, figures))
        print(f"\nFramework pages as an editor of a draft (edit controls shown), {RUNS} runs each")
        print("(SQLite, Django test client, server time)\n")
        header = f"{'page':<16} {'competencies':>12} {'median ms':>10} {'p95 ms':>8} {'queries':>8}"
        print(header)
        print("-" * len(header))
        for name, figures in rows:
            for size, median, p95, count in figures:
                print(f"{name:<16} {size:>12} {median:>10.1f} {p95:>8.1f} {count:>8}")
            same = len({f[3] for f in figures}) == 1
            print(f"{'':<16} {'queries constant:':>12} {'yes' if same else 'NO'}")
            if not same:
                sys.exit(1)
        bench_audits(client, org, user)
        bench_profiles(client, org, user, sizes[500])
        from tests.bench.scoring import bench_scoring

        bench_scoring()
        from tests.bench.assessments import bench_assessments

        bench_assessments(client, org, user)
        from tests.bench.imports import bench_imports

        if not bench_imports():
            sys.exit(1)
        if not bench_scale():
            sys.exit(1)


def bench_audits(client: object, org: Organisation, user: User) -> None:
    """Readiness results: the full Warwick audit (89 questions) answered by n people."""
    import numpy as np
    from django.urls import reverse

    from kamfit.audits.models import AuditItem, Department, Rating
    from kamfit.audits.services import AnswerInput, PaperResponse, import_paper_answers, open_audit
    from kamfit.domain import framework as fw
    from kamfit.domain.readiness import item_stats
    from kamfit.frameworks.models import FrameworkVersion

    version = FrameworkVersion.objects.get(framework__organisation__isnull=True, number=1)
    keys = [e.key for e in fw.shipped().elements]
    rng = np.random.default_rng(7)
    ratings = list(Rating.values)
    departments = list(Department.values)
    print("\nReadiness results page (litmus + all 16 role elements, 89 questions)\n")
    header = f"{'respondents':>12} {'median ms':>10} {'p95 ms':>8} {'queries':>8}"
    print(header)
    print("-" * len(header))
    counts = []
    for n in (10, 100, 1000):
        audit = open_audit(
            organisation=org, user=user, version=version, title=f"bench {n}", element_keys=keys
        )
        items = list(AuditItem.objects.filter(audit=audit).values_list("key", flat=True))
        codes = rng.integers(0, 4, size=(n, len(items)))
        responses = [
            PaperResponse(
                f"r{i}",
                departments[i % 5],
                {k: AnswerInput(ratings[c]) for k, c in zip(items, row, strict=True)},
            )
            for i, row in enumerate(codes)
        ]
        import_paper_answers(audit=audit, responses=responses)
        url = reverse("audits:results", args=["bench", audit.pk])
        median, p95, count = measure(client, url)
        counts.append(count)
        print(f"{n:>12} {median:>10.1f} {p95:>8.1f} {count:>8}")
    print(f"{'':>12} queries constant: {'yes' if len(set(counts)) == 1 else 'NO'}")
    matrix = rng.integers(-1, 4, size=(100_000, 89)).astype(np.int8)
    start = time.perf_counter()
    item_stats(matrix)
    elapsed = (time.perf_counter() - start) * 1000
    print(f"\nitem_stats on 100,000 respondents x 89 questions: {elapsed:.1f} ms (numpy)")
    if len(set(counts)) != 1:
        sys.exit(1)


def bench_profiles(client: object, org: Organisation, user: User, big: object) -> None:
    """Role profile pages by size, and weighting results by number of stakeholders (AHP)."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from kamfit.domain import weighting
    from kamfit.frameworks.models import FrameworkVersion, RoleElement
    from kamfit.frameworks.services import publish_version
    from kamfit.orgs.models import Membership, Role
    from kamfit.profiles import services
    from kamfit.profiles.models import Participant

    shipped = FrameworkVersion.objects.get(framework__organisation__isnull=True, number=1)
    big_version = publish_version(version=big.versions.get(number=1), user=user)  # type: ignore[attr-defined]
    cases = {}
    for label, version, chosen in (
        ("1 element", shipped, ["risk"]),
        ("16 elements", shipped, None),
        ("500-comp. fw", big_version, None),
    ):
        keys = chosen or list(
            RoleElement.objects.filter(version=version).values_list("key", flat=True)
        )
        cases[label] = services.create_profile(
            organisation=org, user=user, framework_version=version, title=label, element_keys=keys
        )
    print("\nRole profile pages (draft, editor's view)\n")
    header = (
        f"{'profile':<14} {'reqs':>5} {'page':<16} {'median ms':>10} {'p95 ms':>8} {'queries':>8}"
    )
    print(header)
    print("-" * len(header))
    counts: dict[str, set[int]] = {}
    for label, v in cases.items():
        n = v.requirements.count()
        for page in ("version", "jd"):
            url = reverse(f"profiles:{page}", args=["bench", v.profile_id, v.number])
            median, p95, count = measure(client, url)
            counts.setdefault(page, set()).add(count)
            print(f"{label:<14} {n:>5} {page:<16} {median:>10.1f} {p95:>8.1f} {count:>8}")
    constant = all(len(c) == 1 for c in counts.values())
    print(f"{'':<14} queries constant: {'yes' if constant else 'NO'}")

    # AHP results with n stakeholders on a 21-requirement profile (Table 3 of the paper).
    every = list(RoleElement.objects.filter(version=shipped).values_list("key", flat=True))
    table3 = services.create_profile(
        organisation=org, user=user, framework_version=shipped, title="Table 3", element_keys=every
    )
    keep = {"analytical", "networking", "knowledge", "influencing", "financially-aware",
            "communication", "politically-astute", "vision-creativity", "strategic",
            "trustworthy", "detail-management", "tenacious", "problem-solving", "drive",
            "credibility-experience", "negotiation", "listening", "inquisitive",
            "project-management", "delegation", "it-literacy"}  # fmt: skip
    for r in table3.requirements.select_related("competency"):
        if r.competency.key not in keep:
            services.remove_requirement(table3, r.competency.key)
    rng = np.random.default_rng(11)
    print("\nWeighting results page, AHP, 21 requirements in 5 groups (53 pairs each)\n")
    header = f"{'stakeholders':>12} {'median ms':>10} {'p95 ms':>8} {'queries':>8}"
    print(header)
    print("-" * len(header))
    result_counts = []
    user_model = get_user_model()
    for n in (5, 50, 200):
        exercise = services.open_exercise(
            organisation=org, user=user, version=table3, title=f"bench {n}", method="ahp"
        )
        groups = services.exercise_groups(exercise)
        people = user_model.objects.bulk_create(
            user_model(username=f"ahp{n}-{i}") for i in range(n)
        )
        Membership.objects.bulk_create(
            Membership(user=u, organisation=org, role=Role.ASSESSOR) for u in people
        )
        services.invite_participants(exercise, [(u, "other") for u in people])
        truth = rng.dirichlet(np.ones(21))
        for p in Participant.objects.filter(exercise=exercise):
            answers: dict[str, dict[str, float]] = {}
            blocks = [(g.key, [truth[i] for i in g.members]) for g in groups]
            if len(groups) > 1:
                blocks.append(
                    (weighting.GROUPS_KEY, [sum(truth[i] for i in g.members) for g in groups])
                )
            for key, w in blocks:
                answers[key] = {
                    f"{i}-{j}": float(np.clip(w[i] / w[j] * rng.lognormal(0, 0.3), 1 / 9, 9))
                    for i in range(len(w))
                    for j in range(i + 1, len(w))
                }
            services.save_answers(p, answers, submit=True)
        url = reverse("profiles:results", args=["bench", exercise.pk])
        median, p95, count = measure(client, url)
        result_counts.append(count)
        print(f"{n:>12} {median:>10.1f} {p95:>8.1f} {count:>8}")
    print(f"{'':>12} queries constant: {'yes' if len(set(result_counts)) == 1 else 'NO'}")
    if not constant or len(set(result_counts)) != 1:
        sys.exit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
