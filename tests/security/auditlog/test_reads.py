"""Reads of psychometric results and rating notes leave one record each (T31)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from kamfit.assessments import services
from kamfit.assessments.services import PsychometricInput, RatingInput
from kamfit.auditlog.models import AuditEvent
from kamfit.members.tokens import issue_token
from kamfit.orgs.models import Role
from kamfit.orgs.permissions import MANAGE_PEOPLE
from tests.conftest import TEAM_KEYS, Team

pytestmark = pytest.mark.django_db
READERS = sorted(MANAGE_PEOPLE)


@pytest.fixture
def results(team: Team) -> Team:
    """Team with two psychometric results for ``kam`` and one submitted, noted rating."""
    hr = team.side.users[Role.HR]
    services.save_psychometrics(
        team.side.org,
        hr,
        [
            PsychometricInput("kam-1", "trustworthy", "Hogan", "sten", 6, dt.date(2024, 1, 1)),
            PsychometricInput("kam-1", "listening", "Hogan", "sten", 4, dt.date(2024, 1, 1)),
        ],
    )
    peer = team.peers[0]
    services.save_answers(
        team.rater(team.kam, peer),
        peer,
        {TEAM_KEYS[0]: RatingInput(3, "Ran the QBR well")},
        submit=True,
    )
    return team


def _reads(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


@pytest.mark.parametrize("role", READERS)
def test_each_view_of_a_person_page_with_psychometrics_is_recorded(
    results: Team, role: Role
) -> None:
    side = results.side
    url = reverse("assessments:person", args=[side.org.slug, results.kam.pk])
    client = side.client(role)
    for _ in range(2):
        assert client.get(url).status_code == 200
    reads = _reads("psychometrics.read")
    assert len(reads) == 2
    for event in reads:
        assert event.actor_id == side.users[role].pk
        assert (event.object_type, event.object_id) == ("assessments.person", str(results.kam.pk))
        assert event.data == {"results": 2}
        assert event.via == "session"


def test_a_person_page_without_psychometrics_or_for_others_records_no_read(results: Team) -> None:
    side = results.side
    colleague = reverse("assessments:person", args=[side.org.slug, results.colleague.pk])
    assert side.client(Role.HR).get(colleague).status_code == 200
    own = reverse("assessments:person", args=[side.org.slug, results.kam.pk])
    assert side.client(Role.PARTICIPANT).get(own).status_code == 200  # sees no results
    assert _reads("psychometrics.read") == []


@pytest.mark.parametrize("role", READERS)
def test_a_result_page_records_the_notes_and_psychometrics_it_shows(
    results: Team, role: Role
) -> None:
    side = results.side
    url = reverse("assessments:result", args=[side.org.slug, results.cycle.pk, results.kam.pk])
    page = side.client(role).get(url)
    assert page.status_code == 200
    assert "Ran the QBR well" in page.content.decode()
    (notes,) = _reads("notes.read")
    assert notes.actor_id == side.users[role].pk
    assert notes.data == {"notes": 1, "person_id": results.kam.pk}
    (psychometrics,) = _reads("psychometrics.read")
    assert psychometrics.data == {"results": 2}


@pytest.mark.parametrize("role", READERS)
def test_api_reads_by_token_are_flagged(results: Team, role: Role) -> None:
    side = results.side
    _, secret = issue_token(side.users[role], side.org, "reader")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = reverse("api:person-psychometrics", args=[side.org.slug, results.kam.pk])
    assert client.get(url).status_code == 200
    result = reverse(
        "api:cycle-person-result", args=[side.org.slug, results.cycle.pk, results.kam.pk]
    )
    assert client.get(result).status_code == 200
    (psychometrics,) = _reads("psychometrics.read")
    (notes,) = _reads("notes.read")
    for event in (psychometrics, notes):
        assert event.via == "token"
        assert event.actor_id == side.users[role].pk
        assert event.request_id


def test_a_refused_read_records_a_denial_not_a_read(results: Team) -> None:
    side = results.side
    url = reverse("api:person-psychometrics", args=[side.org.slug, results.kam.pk])
    assert side.client(Role.ASSESSOR).get(url).status_code in {403, 404}
    assert _reads("psychometrics.read") == []
