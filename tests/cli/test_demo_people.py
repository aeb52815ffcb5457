"""``kamfit demo``: the demo key account team, its two cycles, results and plans."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db import transaction
from pytest_django import DjangoDbBlocker
from typer.testing import CliRunner

from kamfit.assessments.models import (
    Assessee,
    Background,
    Cycle,
    CycleStatus,
    FormStatus,
    KeyAccount,
    Person,
    PersonKind,
    PsychometricResult,
    QuickCheck,
    Rater,
    Rating,
    RatingForm,
    Source,
)
from kamfit.assessments.queries import load_cycle
from kamfit.cli import app
from kamfit.development.models import Action, ActionStatus, Plan
from kamfit.development.queries import plan_progress
from kamfit.domain import scoring
from kamfit.orgs.models import Membership

pytestmark = pytest.mark.django_db

ORG = "acme-supplies"


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            User,
            Membership,
            Person,
            KeyAccount,
            Cycle,
            Assessee,
            Rater,
            RatingForm,
            Rating,
            PsychometricResult,
            QuickCheck,
            Plan,
            Action,
        )
    )


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """Load the demo once for the module, in a transaction rolled back after its tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = CliRunner().invoke(app, ["demo"])
        assert result.exit_code == 0, result.output
        yield
        transaction.set_rollback(True)


def test_demo_twice_adds_no_people_forms_or_plans(demo: None) -> None:
    before = counts()
    assert CliRunner().invoke(app, ["demo"]).exit_code == 0
    assert counts() == before


def test_demo_team_has_managers_kams_and_candidates(demo: None) -> None:
    people = Person.objects.filter(organisation__slug=ORG)
    assert 28 <= people.count() <= 32
    assert people.filter(kind=PersonKind.CANDIDATE).count() == 3
    assert set(people.values_list("unit", flat=True)) == {
        "EMEA",
        "Americas",
        "APAC",
        "UK & Ireland",
    }
    mia = people.get(user__username="mia.manager")
    paula = people.get(user__username="paula.participant")
    assert paula.manager == mia
    assert 7 <= mia.reports.count() <= 9
    assert people.filter(reports__isnull=False).distinct().count() == 3
    sales = people.filter(background=Background.SALES).count()
    assert 0.7 <= sales / people.count() <= 0.9
    assert people.filter(background=Background.UNKNOWN).exists()
    assert not people.filter(background_note="").exists()
    kams = people.filter(kind=PersonKind.KAM, manager__isnull=False)
    held = [p.accounts.count() for p in kams]
    assert min(held) >= 1
    assert max(held) <= 4
    profiles = set(kams.values_list("profile__key", flat=True))
    assert profiles == {"global-account-manager", "national-account-manager"}


def test_closed_review_spreads_fits_and_shows_self_other_gaps(demo: None) -> None:
    cycle = Cycle.objects.get(organisation__slug=ORG, title="2025 KAM review")
    assert cycle.status == CycleStatus.CLOSED
    data = load_cycle(cycle)
    assert 25 <= len(data.assessees) <= 32
    fits = data.scores.fit
    assert not np.isnan(fits).any()
    assert fits.min() < 60
    assert fits.max() > 85
    bands = data.bands.tolist()
    assert bands.count(2) >= 2  # ready now
    assert bands.count(1) > bands.count(2)  # many more with development
    assert bands.count(0) >= 3  # not yet
    assert data.scores.blind_spots.any(axis=1).sum() >= 2
    assert data.scores.hidden_strengths.any(axis=1).sum() >= 2
    # No peer mean rests on fewer than three peers (RELIABILITY: k = 3 per rater group);
    # smaller groups are pooled with "others" or hidden before scoring.
    peers = data.scores.source_counts[scoring.PEER]
    shown = ~np.isnan(data.scores.source_means[scoring.PEER])
    assert shown.any()
    assert (peers[shown] >= 3).all()
    assert (data.submitted < data.invited).any()  # some raters never answered
    # Evidence reads like evidence: varied and naming the person's accounts.
    texts = list(
        Rating.objects.filter(form__rater__assessee__cycle=cycle)
        .exclude(evidence="")
        .values_list("evidence", flat=True)
    )
    assert len(set(texts)) > len(texts) / 3
    paula_accounts = list(KeyAccount.objects.filter(person__user__username="paula.participant"))
    paula_texts = Rating.objects.filter(
        form__rater__assessee__cycle=cycle, form__rater__assessee__person__reference="E1101"
    ).values_list("evidence", flat=True)
    assert any(a.name in t for a in paula_accounts for t in paula_texts)
    amended = RatingForm.objects.filter(rater__assessee__cycle=cycle, number=2)
    assert amended.filter(reason__startswith="Calibration").count() == 1


def test_psychometrics_and_quick_checks_exist(demo: None) -> None:
    results = PsychometricResult.objects.filter(organisation__slug=ORG)
    assert 18 <= results.values("person").distinct().count() <= 22
    assert set(results.values_list("provider", "scale").distinct()) == {
        ("Northfield Assessments", "sten"),
        ("Praxis Talent", "percentile"),
    }
    assert all(1 <= s <= 10 for s in results.values_list("sten", flat=True))
    checks = QuickCheck.objects.filter(organisation__slug=ORG)
    assert 8 <= checks.count() <= 12
    assert set(checks.values_list("answered_by__username", flat=True)) == {
        "mia.manager",
        "hana.hr",
    }
    assert len(set(checks.values_list("yes_count", flat=True))) > 2


def test_paula_sees_her_released_result_and_a_plan_in_progress(demo: None) -> None:
    review = Cycle.objects.get(organisation__slug=ORG, title="2025 KAM review")
    released = Assessee.objects.filter(cycle=review, released_at__isnull=False)
    assert released.count() == 5
    assert released.filter(person__user__username="paula.participant").exists()
    plans = Plan.objects.filter(organisation__slug=ORG)
    assert 5 <= plans.count() <= 7
    plan = plans.get(person__user__username="paula.participant")
    statuses = list(plan.actions.values_list("status", flat=True))
    assert len(statuses) >= 3
    assert ActionStatus.DONE in statuses
    assert ActionStatus.IN_PROGRESS in statuses
    assert all(
        a.progress_note and a.due_on for a in plan.actions.exclude(status=ActionStatus.PLANNED)
    )
    assert plan_progress(plan).later is None  # Paula: the mid-year check is not released
    progress = plan_progress(plan, released_only=False)  # HR reads it live
    assert progress.later is not None
    assert progress.later.cycle.title == "2026 mid-year check"
    done = [p for p in progress.actions if p.action.status == ActionStatus.DONE]
    assert all(p.change is not None and p.change > 0 for p in done)


def test_mid_year_check_waits_for_paula_and_mia(demo: None) -> None:
    cycle = Cycle.objects.get(organisation__slug=ORG, title="2026 mid-year check")
    assert cycle.status == CycleStatus.OPEN
    assert not cycle.assessees.filter(released_at__isnull=False).exists()
    paula_self = Rater.objects.get(
        assessee__cycle=cycle, user__username="paula.participant", source=Source.SELF
    )
    assert not paula_self.forms.filter(status=FormStatus.SUBMITTED).exists()
    mia = Rater.objects.filter(
        assessee__cycle=cycle, user__username="mia.manager", source=Source.MANAGER
    )
    assert 7 <= mia.count() <= 9
    submitted = mia.filter(forms__status=FormStatus.SUBMITTED).distinct().count()
    drafts = mia.filter(forms__status=FormStatus.DRAFT).distinct().count()
    waiting = mia.exclude(forms__status=FormStatus.SUBMITTED).count()
    assert (submitted >= 3, drafts, waiting > drafts) == (True, 1, True)
    data = load_cycle(cycle, people=[paula_self.assessee.person_id])
    assert data.scores.coverage[0] == pytest.approx(1)
    assert not math.isnan(data.scores.fit[0])
