"""``make bench``: the team heatmap page and one person's result with 1,000 and 10,000 people.

A profile of the 21 Table-3 competencies; four raters per person (manager and three
peers), every requirement rated. Rows are written with bulk inserts (the services
would take minutes at 10,000 people); forms are inserted as drafts and then marked
submitted, as the freeze triggers require.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from kamfit.assessments.models import Cycle
    from kamfit.orgs.models import Organisation
    from kamfit.profiles.models import ProfileVersion

SIZES = (1_000, 10_000)
RATERS = ("manager", "peer", "peer", "peer")


def _profile(org: Organisation, user: User) -> ProfileVersion:
    from kamfit.domain import framework as fw
    from kamfit.frameworks.models import FrameworkVersion
    from kamfit.profiles import services

    version = FrameworkVersion.objects.get(framework__organisation__isnull=True, number=1)
    keys = [e.key for e in fw.shipped().elements]
    profile = services.create_profile(
        organisation=org, user=user, framework_version=version, title="Bench KAM", element_keys=keys
    )
    table3 = {c.key for c in fw.shipped().competencies if c.table3_position}
    for requirement in profile.requirements.select_related("competency"):
        if requirement.competency.key not in table3:
            services.remove_requirement(profile, requirement.competency.key)
    services.equalise_weights(profile)
    services.publish_version(profile, user)
    profile.refresh_from_db()
    return profile


def _team(org: Organisation, profile: ProfileVersion, raters: list[User], n: int) -> Cycle:
    import numpy as np
    from django.utils import timezone

    from kamfit.assessments.models import (
        Assessee,
        Cycle,
        CycleStatus,
        Person,
        Rater,
        Rating,
        RatingForm,
    )
    from kamfit.profiles.models import Requirement

    cycle = Cycle.objects.create(
        organisation=org, title=f"bench {n}", profile_version=profile, status=CycleStatus.OPEN
    )
    people = Person.objects.bulk_create(
        Person(organisation=org, reference=f"b{n}-{i}", name=f"Person {i:05d}") for i in range(n)
    )
    assessees = Assessee.objects.bulk_create(Assessee(cycle=cycle, person=p) for p in people)
    assessees = list(Assessee.objects.filter(cycle=cycle).order_by("id"))
    rater_rows = Rater.objects.bulk_create(
        Rater(assessee=a, user=u, source=s)
        for a in assessees
        for u, s in zip(raters, RATERS, strict=True)
    )
    rater_rows = list(Rater.objects.filter(assessee__cycle=cycle).order_by("id"))
    RatingForm.objects.bulk_create(RatingForm(rater=r) for r in rater_rows)
    forms = list(RatingForm.objects.filter(rater__assessee__cycle=cycle).order_by("id"))
    competencies = list(
        Requirement.objects.filter(version=profile, included=True).values_list(
            "competency_id", flat=True
        )
    )
    rng = np.random.default_rng(n)
    levels = rng.integers(1, 6, size=(len(forms), len(competencies)))
    Rating.objects.bulk_create(
        (
            Rating(form=f, competency_id=c, level=int(level), evidence="bench")
            for f, row in zip(forms, levels, strict=True)
            for c, level in zip(competencies, row, strict=True)
        ),
        batch_size=5_000,
    )
    RatingForm.objects.filter(rater__assessee__cycle=cycle).update(
        status="submitted", submitted_at=timezone.now()
    )
    return cycle


def bench_assessments(client: object, org: Organisation, user: User) -> None:
    """Print the team page and result page times for 1,000 and 10,000 people."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from kamfit.assessments.queries import load_cycle
    from kamfit.orgs.models import Membership, Role
    from tests.bench.run import measure

    profile = _profile(org, user)
    raters = []
    for i in range(len(RATERS)):
        rater = get_user_model().objects.create_user(f"bench-rater-{i}", password="x" * 12)
        Membership.objects.create(user=rater, organisation=org, role=Role.PARTICIPANT)
        raters.append(rater)
    print("\nAssessment pages: 21 requirements, 4 raters per person (SQLite, server time)\n")
    header = (
        f"{'people':>8} {'rows':>9} {'setup s':>8} {'load_cycle ms':>14} "
        f"{'team median':>12} {'team p95':>9} {'q':>4} {'result median':>14} {'q':>4}"
    )
    print(header)
    print("-" * len(header))
    counts: list[tuple[int, int]] = []
    for n in SIZES:
        start = time.perf_counter()
        cycle = _team(org, profile, raters, n)
        setup = time.perf_counter() - start
        start = time.perf_counter()
        data = load_cycle(cycle)
        loaded = (time.perf_counter() - start) * 1000
        team_url = reverse("assessments:team", args=[org.slug, cycle.pk])
        person = data.assessees[0].person_id
        result_url = reverse("assessments:result", args=[org.slug, cycle.pk, person])
        team_median, team_p95, team_q = measure(client, team_url, runs=5)
        result_median, _p95, result_q = measure(client, result_url, runs=5)
        counts.append((team_q, result_q))
        rows = n * len(RATERS) * len(data.columns)
        print(
            f"{n:>8} {rows:>9} {setup:>8.1f} {loaded:>14.1f} {team_median:>12.1f} "
            f"{team_p95:>9.1f} {team_q:>4} {result_median:>14.1f} {result_q:>4}"
        )
    print(f"{'':>8} queries constant: {'yes' if len(set(counts)) == 1 else 'NO'}")
