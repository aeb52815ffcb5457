"""``kamfit demo``: the demo organisation, its audits and role profiles, loaded once."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kamfit.audits.models import Audit
from kamfit.cli import app
from kamfit.domain.weighting import CR_THRESHOLD
from kamfit.profiles.models import (
    ExerciseStatus,
    Method,
    Participant,
    ParticipantStatus,
    Profile,
    ProfileVersion,
    Requirement,
    WeightingExercise,
    WeightsOrigin,
)
from kamfit.profiles.queries import get_exercise_results

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Audit.objects.count(),
        Profile.objects.count(),
        ProfileVersion.objects.count(),
        Requirement.objects.count(),
        WeightingExercise.objects.count(),
        Participant.objects.count(),
    )


@pytest.fixture
def demo() -> None:
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "demo organisation ready: 7 users" in result.output


def test_demo_twice_duplicates_nothing(demo: None) -> None:
    before = counts()
    assert CliRunner().invoke(app, ["demo"]).exit_code == 0
    assert counts() == before
    assert before[1:3] == (2, 3)


def test_global_profile_takes_its_weights_from_a_finished_ahp_exercise(demo: None) -> None:
    profile = Profile.objects.get(
        organisation__slug="acme-supplies", title="Global account manager"
    )
    v1, v2 = profile.versions.order_by("number")
    assert (v1.is_published, v1.weights_origin) == (True, WeightsOrigin.EQUAL)
    assert (v2.is_published, v2.weights_origin) == (True, WeightsOrigin.EXERCISE)
    assert v2.note == "Weights adopted from the stakeholder exercise"
    assert v2.time_allocation["selling"] == 10
    exercise = WeightingExercise.objects.get(profile_version=v1)
    assert (exercise.method, exercise.status, exercise.adopted_into) == (
        Method.AHP,
        ExerciseStatus.CLOSED,
        v2,
    )
    results = get_exercise_results(exercise)
    assert len(results.submitted) == 5
    assert results.outcome is not None
    assert results.outcome.agreement is not None
    assert 0.4 <= results.outcome.agreement.w <= 0.7
    flagged = [
        p.user.username
        for p, cr in zip(results.submitted, results.outcome.consistency, strict=True)
        if cr is not None and cr > CR_THRESHOLD
    ]
    assert flagged == ["olivia.owner"]
    assert v2.weights_note["kendalls_w"] == round(results.outcome.agreement.w, 4)


def test_national_profile_sells_too_much_and_waits_for_its_stakeholders(demo: None) -> None:
    profile = Profile.objects.get(title="National account manager")
    (v1,) = profile.versions.all()
    assert v1.is_published
    assert v1.time_allocation["selling"] == 25 > v1.selling_limit
    exercise = WeightingExercise.objects.get(profile_version=v1)
    assert (exercise.method, exercise.status) == (Method.POINTS, ExerciseStatus.OPEN)
    invited = exercise.participants.values_list("user__username", "status")
    assert sorted(invited) == [
        ("mia.manager", ParticipantStatus.INVITED),
        ("paula.participant", ParticipantStatus.INVITED),
    ]
