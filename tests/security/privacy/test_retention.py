"""T30: retention erases inactive candidates and leavers when due, as the system."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from typer.testing import CliRunner

from kamfit.assessments import services as assessment_services
from kamfit.assessments.models import Person, PersonKind
from kamfit.assessments.services import PersonInput
from kamfit.auditlog.models import AuditEvent
from kamfit.cli import app
from kamfit.jobs import tasks
from kamfit.orgs.models import Organisation, Role
from kamfit.privacy import services
from kamfit.privacy.models import ErasureRequest, ErasureState
from tests.conftest import ROLES, Personas

START = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


def _people(personas: Personas) -> dict[str, Person]:
    """A candidate and a KAM, both marked inactive on START, and an active candidate."""
    side = personas.a
    hr = side.users[Role.HR]
    rows = [
        PersonInput("cand-1", "Carla Candidate", kind=PersonKind.CANDIDATE),
        PersonInput("kam-9", "Len Leaver"),
        PersonInput("cand-2", "Active Candidate", kind=PersonKind.CANDIDATE),
    ]
    assessment_services.upsert_people(side.org, hr, rows)
    with time_machine.travel(START, tick=False):
        assessment_services.upsert_people(
            side.org,
            hr,
            [PersonInput(r.reference, r.name, kind=r.kind, active=False) for r in rows[:2]],
        )
    return {p.reference: p for p in Person.objects.filter(organisation=side.org)}


def test_marking_inactive_sets_and_clears_inactive_since(personas: Personas) -> None:
    people = _people(personas)
    assert people["cand-1"].inactive_since == START
    assert people["cand-2"].inactive_since is None
    hr = personas.a.users[Role.HR]
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):  # unchanged: kept
        assessment_services.upsert_people(
            personas.a.org,
            hr,
            [PersonInput("cand-1", "Carla Candidate", kind="candidate", active=False)],
        )
    assert Person.objects.get(reference="cand-1").inactive_since == START
    assessment_services.upsert_people(
        personas.a.org, hr, [PersonInput("cand-1", "Carla Candidate", kind="candidate")]
    )
    assert Person.objects.get(reference="cand-1").inactive_since is None


def test_the_daily_run_erases_when_due_and_not_before(personas: Personas) -> None:
    people = _people(personas)
    org = personas.a.org  # defaults: candidates 6 months, leavers 24
    with time_machine.travel(dt.datetime(2026, 7, 14, 9, 0, tzinfo=dt.UTC), tick=False):
        tasks.housekeeping.call()
    assert Person.objects.get(pk=people["cand-1"].pk).name == "Carla Candidate"
    with time_machine.travel(dt.datetime(2026, 7, 15, 9, 0, tzinfo=dt.UTC), tick=False):
        summary = tasks.housekeeping.call()
    assert summary["retention_erased"] == 1
    assert Person.objects.get(pk=people["cand-1"].pk).name == f"Erased person {people['cand-1'].pk}"
    assert Person.objects.get(pk=people["kam-9"].pk).name == "Len Leaver"
    assert Person.objects.get(pk=people["cand-2"].pk).name == "Active Candidate"
    erasure = ErasureRequest.objects.get(person=people["cand-1"])
    assert erasure.by_system and erasure.state == ErasureState.DONE and erasure.requested_by is None
    event = AuditEvent.objects.filter(action="retention.purged").get()
    assert (event.via, event.actor_id, event.organisation_id) == ("system", None, org.pk)
    assert event.data == {"candidates": 1, "leavers": 0}
    erased = AuditEvent.objects.filter(action="person.erased").get()
    assert erased.via == "system" and erased.actor_id is None
    with time_machine.travel(dt.datetime(2028, 1, 15, 9, 0, tzinfo=dt.UTC), tick=False):
        assert tasks.housekeeping.call()["retention_erased"] == 1  # the leaver; nobody twice
    assert Person.objects.get(pk=people["kam-9"].pk).reference == f"erased-{people['kam-9'].pk}"


def test_the_cli_dry_run_counts_and_the_real_run_erases(personas: Personas) -> None:
    people = _people(personas)
    org = personas.a.org
    Organisation.objects.filter(pk=org.pk).update(retention_candidate_months=1)
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=dt.UTC), tick=False):
        dry = CliRunner().invoke(app, ["person", "retention", "--org", org.slug, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "1 candidate(s) and 0 leaver(s) due" in dry.output
        assert Person.objects.get(pk=people["cand-1"].pk).name == "Carla Candidate"
        real = CliRunner().invoke(app, ["person", "retention", "--org", org.slug])
        assert "1 candidate(s) and 0 leaver(s) erased" in real.output
    assert Person.objects.get(pk=people["cand-1"].pk).email == ""
    assert CliRunner().invoke(app, ["person", "retention", "--org", "nope"]).exit_code == 2


def test_months_before_clamps_to_the_month() -> None:
    assert services.months_before(dt.datetime(2026, 8, 31, tzinfo=dt.UTC), 6) == dt.datetime(
        2026, 2, 28, tzinfo=dt.UTC
    )
    assert services.months_before(dt.datetime(2026, 1, 15, tzinfo=dt.UTC), 24).year == 2024


@pytest.mark.parametrize("role", [Role.OWNER, Role.HR])
def test_owner_and_hr_set_the_periods_and_group_size(personas: Personas, role: Role) -> None:
    side = personas.a
    url = reverse("privacy:settings", args=[side.org.slug])
    client = side.client(role)
    assert client.get(url).status_code == 200
    good = {
        "retention_candidate_months": "3",
        "retention_leaver_months": "36",
        "min_group_size": "4",
    }
    assert client.post(url, good).status_code == 302
    org = Organisation.objects.get(pk=side.org.pk)
    assert (org.retention_candidate_months, org.retention_leaver_months, org.min_group_size) == (
        3,
        36,
        4,
    )
    for name, value in [
        ("min_group_size", "2"),
        ("min_group_size", "11"),
        ("retention_leaver_months", "x"),
    ]:
        answer = client.post(url, {**good, name: value})
        assert answer.status_code == 400
        assert name in answer.content.decode()
    assert Organisation.objects.get(pk=side.org.pk).min_group_size == 4
    assert AuditEvent.objects.filter(action="privacy.settings_changed").count() == 1


@pytest.mark.parametrize("role", [r for r in ROLES if r not in (Role.OWNER, Role.HR)])
def test_other_roles_may_not_change_the_settings(personas: Personas, role: Role) -> None:
    url = reverse("privacy:settings", args=[personas.a.org.slug])
    answer = personas.a.client(role).post(url, {"min_group_size": "9"})
    assert answer.status_code == 403
    assert Organisation.objects.get(pk=personas.a.org.pk).min_group_size == 5


@pytest.mark.parametrize("role", ROLES)
def test_another_organisations_settings_answer_404(personas: Personas, role: Role) -> None:
    url = reverse("privacy:settings", args=[personas.a.org.slug])
    answer = personas.b.client(role).post(url, {"min_group_size": "9"})
    assert answer.status_code == 404
    assert Organisation.objects.get(pk=personas.a.org.pk).min_group_size == 5
