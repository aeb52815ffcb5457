"""Security events and changes land in the trail once, with who, where, what and when (A35, T23).

Sign-in, MFA, invitation, rejected-import and purge events are recorded by the apps
that own them and tested there; these tests cover the events wired by the audit-trail
work: 403s, rate-limit hits, exports, releases, role changes, cycles, forms, people
and psychometric imports.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from kamfit.assessments import services
from kamfit.assessments.models import CycleStatus
from kamfit.assessments.services import PersonInput, PsychometricInput, RatingInput
from kamfit.auditlog.models import AuditEvent
from kamfit.auditlog.services import verify_chain
from kamfit.members import services as members
from kamfit.orgs.models import Membership, Role
from tests.conftest import TEAM_KEYS, Personas, Team

pytestmark = pytest.mark.django_db
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def _only(action: str, **where: Any) -> AuditEvent:
    """The one event ``action`` (fails if there are none or several)."""
    events = list(AuditEvent.objects.filter(action=action, **where))
    assert len(events) == 1, (action, [(e.seq, e.data) for e in events])
    return events[0]


def _from_request(event: AuditEvent, response: Any) -> None:
    """The event carries the request's id (as sent back in X-Request-ID) and address."""
    assert REQUEST_ID.fullmatch(event.request_id)
    assert event.request_id == response["X-Request-ID"]
    assert event.ip == "127.0.0.1"
    assert event.via == "session"
    assert event.at.utcoffset() == dt.timedelta(0)


def test_a_403_is_recorded_with_the_url_name_and_never_the_path(personas: Personas) -> None:
    side = personas.a
    url = reverse("assessments:people_export", args=[side.org.slug]) + "?q=secret-query"
    response = side.client(Role.PARTICIPANT).get(url)
    assert response.status_code == 403
    event = _only("access.denied")
    _from_request(event, response)
    assert event.actor_id == side.users[Role.PARTICIPANT].pk
    assert event.organisation_id == side.org.pk
    assert event.data == {"url_name": "assessments:people_export", "method": "get"}
    assert "secret" not in str(event.data)


def test_another_organisations_404_is_not_a_403(personas: Personas) -> None:
    url = reverse("assessments:people_export", args=[personas.b.org.slug])
    assert personas.a.client(Role.HR).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="access.denied").exists()


def test_an_api_403_is_recorded_too(personas: Personas) -> None:
    side = personas.a
    url = reverse("api:audit-log", args=[side.org.slug])
    response = side.client(Role.DIRECTOR).get(url)
    assert response.status_code == 403
    event = _only("access.denied")
    _from_request(event, response)
    assert event.data == {"url_name": "api:audit-log", "method": "get"}


class _Refuse(BaseThrottle):
    """A throttle whose limit is always reached (test settings turn real ones off)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        return False

    def wait(self) -> float:
        return 60.0


def test_a_rate_limit_hit_is_recorded(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    side = personas.a
    monkeypatch.setattr(APIView, "get_throttles", lambda self: [_Refuse()])
    response = side.client(Role.HR).get(reverse("api:people", args=[side.org.slug]))
    assert response.status_code == 429
    event = _only("ratelimit.hit")
    _from_request(event, response)
    assert event.actor_id == side.users[Role.HR].pk
    assert event.organisation_id == side.org.pk
    assert event.data == {"url_name": "api:people", "scope": "user"}


def test_a_people_export_is_recorded_with_counts_only(team: Team) -> None:
    side = team.side
    response = side.client(Role.HR).get(reverse("assessments:people_export", args=[side.org.slug]))
    assert response.status_code == 200
    event = _only("export.downloaded")
    _from_request(event, response)
    assert event.actor_id == side.users[Role.HR].pk
    assert event.data == {"what": "people", "format": "csv", "rows": 5}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_team_export_is_recorded(team: Team, fmt: str) -> None:
    side = team.side
    url = reverse("assessments:team_export", args=[side.org.slug, team.cycle.pk, fmt])
    response = side.client(Role.HR).get(url)
    assert response.status_code == 200
    event = _only("export.downloaded")
    _from_request(event, response)
    assert (event.object_type, event.object_id) == ("assessments.cycle", str(team.cycle.pk))
    assert event.data["what"] == "team_results"
    assert event.data["format"] == fmt


def test_a_release_is_recorded_once_with_the_count(team: Team) -> None:
    side = team.side
    url = reverse("assessments:cycle_action", args=[side.org.slug, team.cycle.pk])
    response = side.client(Role.HR).post(url, {"action": "release", "all": "1"})
    assert response.status_code == 302
    event = _only("results.released")
    _from_request(event, response)
    assert event.actor_id == side.users[Role.HR].pk
    assert event.organisation_id == side.org.pk
    assert (event.object_type, event.object_id) == ("assessments.cycle", str(team.cycle.pk))
    assert event.data == {"released": 4}
    side.client(Role.HR).post(url, {"action": "release", "all": "1"})  # nothing new
    assert AuditEvent.objects.filter(action="results.released").count() == 1


def test_a_role_change_through_the_members_page_is_recorded_once(
    personas: Personas, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    side = personas.a
    member = Membership.objects.get(organisation=side.org, user=side.users[Role.ASSESSOR])
    url = reverse("members:role", args=[side.org.slug, member.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = side.client(Role.OWNER).post(url, {"role": Role.MANAGER})
    assert response.status_code == 302
    event = _only("member.role_changed")
    _from_request(event, response)
    assert event.actor_id == side.users[Role.OWNER].pk
    assert event.data["to"] == "manager"


def test_membership_changes_outside_the_members_app_are_recorded_by_the_safety_net(
    personas: Personas, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    side = personas.a
    member = Membership.objects.get(organisation=side.org, user=side.users[Role.ASSESSOR])
    with django_capture_on_commit_callbacks(execute=True):
        member.role = Role.HR
        member.save()  # e.g. the Django admin or a shell
    event = _only("member.role_changed")
    assert event.data == {"user_id": member.user_id, "from": "assessor", "to": "hr"}
    assert (event.object_type, event.object_id) == ("orgs.membership", str(member.pk))
    with django_capture_on_commit_callbacks(execute=True):
        member.delete()
    assert _only("member.removed").organisation_id == side.org.pk


def test_a_removal_through_the_members_service_is_recorded_once(
    personas: Personas, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    side = personas.a
    manager = Membership.objects.get(organisation=side.org, user=side.users[Role.OWNER])
    member = Membership.objects.get(organisation=side.org, user=side.users[Role.ASSESSOR])
    with django_capture_on_commit_callbacks(execute=True):
        members.remove_member(manager=manager, member=member)
    assert _only("member.removed").actor_id == manager.user_id


def test_cycle_form_people_and_psychometric_changes_are_each_recorded_once(team: Team) -> None:
    side = team.side
    hr = side.users[Role.HR]
    peer = team.peers[0]
    rater = team.rater(team.kam, peer)
    answers = {TEAM_KEYS[0]: RatingInput(3, "Led the account plan review")}
    form = services.save_answers(rater, peer, answers, submit=True)
    submitted = _only("form.submitted")
    assert (submitted.actor_id, submitted.object_id) == (peer.pk, str(form.pk))
    amended = services.amend_form(rater, peer, reason="Typo in the evidence, Ada said")
    event = _only("form.amended")
    assert event.data == {"rater_id": rater.pk, "number": 2, "amends_id": form.pk}
    assert event.object_id == str(amended.pk)

    services.upsert_people(
        side.org,
        hr,
        [
            PersonInput("kam-9", "New Person", email="new@example.com"),
            PersonInput("kam-4", "Sam Seller", background="sales", active=False),
        ],
    )
    saved = _only("people.saved", seq__gt=submitted.seq)  # the fixture saved people too
    assert saved.data == {"created": 1, "updated": 1, "deactivated": 1}

    services.save_psychometrics(
        side.org,
        hr,
        [PsychometricInput("kam-1", "trustworthy", "Hogan", "sten", 6, dt.date(2024, 1, 1))],
    )
    assert _only("psychometrics.imported").data == {"results": 1, "people": 1}

    services.close_cycle(team.cycle)
    closed = _only("cycle.closed")
    assert closed.organisation_id == side.org.pk
    assert team.cycle.status == CycleStatus.CLOSED
    cycle = services.create_cycle(
        side.org, hr, title="Autumn review", profile_version=team.cycle.profile_version
    )
    assert _only("cycle.created", object_id=str(cycle.pk)).actor_id == hr.pk
    assert AuditEvent.objects.filter(action="cycle.opened").count() == 1  # the fixture's
    text = str(list(AuditEvent.objects.values_list("data", flat=True)))
    for secret in ("Ada", "Typo", "led the account", "new@example.com", "New Person"):
        assert secret.lower() not in text.lower()
    assert verify_chain()[1] is None


def test_a_job_download_is_recorded(team: Team, tmp_path: Path, settings: Any) -> None:
    from kamfit.jobs import services as jobs

    settings.DATA_DIR = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    side = team.side
    job = jobs.start_team_report(cycle=team.cycle, actor=side.users[Role.HR], fmt="csv")
    response = side.client(Role.HR).get(reverse("jobs:download", args=[side.org.slug, job.pk]))
    assert response.status_code == 200
    b"".join(response.streaming_content)  # type: ignore[attr-defined]  # closes the file
    event = _only("export.downloaded")
    _from_request(event, response)
    assert event.data == {"what": "job_report", "kind": "team_report"}


def test_a_token_client_is_flagged(personas: Personas) -> None:
    from kamfit.members.tokens import issue_token

    side = personas.a
    _, secret = issue_token(side.users[Role.DIRECTOR], side.org, "ci")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.get(reverse("api:audit-log", args=[side.org.slug]))
    assert response.status_code == 403
    event = _only("access.denied")
    assert event.via == "token"
    assert event.actor_id == side.users[Role.DIRECTOR].pk
