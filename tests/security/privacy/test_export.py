"""T29: the subject-access export holds everything about a person, and only for those allowed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from typer.testing import CliRunner

from kamfit.assessments.models import PsychometricResult, QuickCheck
from kamfit.auditlog.models import AuditEvent
from kamfit.cli import app
from kamfit.development.models import Action, Plan
from kamfit.orgs.models import Role
from kamfit.privacy import export
from tests.conftest import ROLES, Personas
from tests.security.privacy.conftest import EMAIL, NAME, Subject

ROOT = Path(__file__).resolve().parents[3]
TARGETS = {settings.AUTH_USER_MODEL, "assessments.Person"}


def _label(model: object) -> str:
    return model._meta.label if isinstance(model, type) else str(model)  # type: ignore[attr-defined]


def _links() -> set[str]:
    """Every concrete FK, O2O and M2M of every installed model that points at Person or User."""
    found = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not (field.concrete and field.is_relation and field.related_model is not None):
                continue
            if _label(field.related_model) in TARGETS:
                found.add(f"{model._meta.label}.{field.name}")
    return found


def test_every_link_to_a_person_or_user_is_exported_or_excluded_with_a_reason() -> None:
    links = _links()
    unlisted = sorted(links - set(export.EXPORTED_LINKS) - set(export.EXCLUDED_LINKS))
    assert not unlisted, f"add to EXPORTED_LINKS or EXCLUDED_LINKS: {unlisted}"
    assert not set(export.EXPORTED_LINKS) & set(export.EXCLUDED_LINKS)
    assert all(len(reason) > 10 for reason in export.EXCLUDED_LINKS.values())
    # Every exported link exists (a renamed field must not leave a stale entry).
    assert set(export.EXPORTED_LINKS) <= links


def _reaches(model: type[models.Model], reached: set[str]) -> bool:
    for field in model._meta.get_fields():
        if field.concrete and field.is_relation and field.related_model is not None:
            key = f"{model._meta.label}.{field.name}"
            if key in export.EXCLUDED_LINKS:
                continue
            if key in export.EXPORTED_LINKS or _label(field.related_model) in reached:
                return True
    return False


def test_every_model_reaching_a_person_through_an_exported_link_is_in_the_export() -> None:
    reached = set(TARGETS)
    changed = True
    while changed:  # follow chains: Rating -> RatingForm -> Rater -> Assessee -> Person
        changed = False
        for model in apps.get_models():
            label = model._meta.label
            if label not in reached and _reaches(model, reached):
                reached.add(label)
                changed = True
    missing = sorted(reached - set(export.EXPORTED_MODELS) - set(export.EXCLUDED_MODELS))
    assert not missing, f"add to EXPORTED_MODELS or EXCLUDED_MODELS: {missing}"


def test_the_published_schema_is_the_packaged_one() -> None:
    published = ROOT / "docs" / "reference" / "person-export.schema.json"
    packaged = ROOT / "src" / "kamfit" / "privacy" / "person-export.schema.json"
    assert published.read_bytes() == packaged.read_bytes()
    jsonschema.Draft202012Validator.check_schema(export.schema())
    sections = set(export.EXPORTED_LINKS.values()) | set(export.EXPORTED_MODELS.values())
    assert sections <= set(export.schema()["required"])


def test_a_full_export_fills_every_section_and_validates(subject: Subject) -> None:
    document = export.build_export(subject.person, named=True, now=timezone.now())
    export.validate_export(document)
    for section in set(export.EXPORTED_MODELS.values()) - {"erasure_requests"}:
        assert document[section], f"{section} is empty"
    assert document["person"]["name"] == NAME
    assert document["account"]["email"] == EMAIL
    assert "password" not in json.dumps(document)
    forms = document["assessments"][0]["forms"]
    assert {f["source"] for f in forms} == {"self", "manager", "peer"}
    assert len(forms) == 6  # self, manager, three peers, and one peer's amendment
    assert all(f["rater_username"] is None for f in forms if f["source"] == "peer")
    assert any(f["reason"] for f in forms)
    about = {f["about_person_id"] for f in document["forms_written"]}
    assert about == {subject.person.pk, subject.team.colleague.pk}  # self, and the colleague
    with pytest.raises(jsonschema.ValidationError):
        export.validate_export({**document, "person": {**document["person"], "id": "x"}})


def _download(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="kamfit-person-')
    assert NAME not in response["Content-Disposition"]
    document: dict[str, Any] = json.loads(response.content)
    export.validate_export(document)
    return document


def test_a_self_export_keeps_anonymous_raters_anonymous(subject: Subject) -> None:
    team = subject.team
    team.cycle.assessees.filter(person=subject.person).update(released_at=timezone.now())
    client = team.side.client(Role.PARTICIPANT)
    document = _download(client, reverse("privacy:my_export", args=[team.side.org.slug]))
    assert document["view"] == "self"
    entry = document["assessments"][0]
    assert {f["source"] for f in entry["forms"]} == {"self", "manager"}
    assert all(f["rater_user_id"] is None for f in entry["forms"])
    [group] = entry["anonymous_groups"]
    assert group == {**group, "source": "peer", "raters": 3, "withheld": False}
    text = json.dumps(entry)
    for peer in team.peers:
        assert peer.username not in text
        assert f'"rater_user_id": {peer.pk}' not in text
    assert "Spoke to" not in text  # a peer's amendment reason could name the peer's view
    assert AuditEvent.objects.filter(
        action="person.exported", object_id=str(subject.person.pk)
    ).exists()


def test_a_self_export_withholds_a_small_peer_group(subject: Subject) -> None:
    team = subject.team
    team.cycle.assessees.filter(person=subject.person).update(released_at=timezone.now())
    team.cycle.rules = {"min_peers": 4}
    team.cycle.save(update_fields=["rules"])
    document = export.build_export(subject.person, named=False, now=timezone.now())
    [group] = document["assessments"][0]["anonymous_groups"]
    assert group["withheld"] and group["ratings"] == []


def test_a_self_export_leaves_out_unreleased_assessments(subject: Subject) -> None:
    document = export.build_export(subject.person, named=False, now=timezone.now())
    assert document["assessments"] == []
    export.validate_export(document)


@pytest.mark.parametrize("role", [Role.OWNER, Role.HR])
def test_owner_and_hr_download_anyone(subject: Subject, role: Role) -> None:
    side = subject.team.side
    url = reverse("privacy:person_export", args=[side.org.slug, subject.person.pk])
    document = _download(side.client(role), url)
    assert document["view"] == "privacy_admin"
    api = reverse("api:person-export", args=[side.org.slug, subject.person.pk])
    assert _download(side.client(role), api)["person"]["id"] == subject.person.pk


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.CONSULTANT, Role.MANAGER])
def test_other_roles_that_see_the_person_are_refused(subject: Subject, role: Role) -> None:
    side = subject.team.side
    before = AuditEvent.objects.filter(action="person.exported").count()
    for name in ("privacy:person_export", "api:person-export"):
        url = reverse(name, args=[side.org.slug, subject.person.pk])
        assert side.client(role).get(url).status_code == 403
    assert AuditEvent.objects.filter(action="person.exported").count() == before


def test_a_participant_exporting_someone_else_gets_404(subject: Subject) -> None:
    side = subject.team.side
    other = subject.team.colleague
    for role in (Role.PARTICIPANT, Role.ASSESSOR):
        for name in ("privacy:person_export", "api:person-export"):
            url = reverse(name, args=[side.org.slug, other.pk])
            assert side.client(role).get(url).status_code == 404


def test_a_participant_may_use_the_person_url_for_their_own_record(subject: Subject) -> None:
    side = subject.team.side
    url = reverse("privacy:person_export", args=[side.org.slug, subject.person.pk])
    assert _download(side.client(Role.PARTICIPANT), url)["view"] == "self"


@pytest.mark.parametrize("role", ROLES)
def test_another_organisation_answers_404(subject: Subject, personas: Personas, role: Role) -> None:
    side = subject.team.side
    client = personas.b.client(role)
    for name in ("privacy:person_export", "api:person-export"):
        for slug in (side.org.slug, personas.b.org.slug):
            url = reverse(name, args=[slug, subject.person.pk])
            assert client.get(url).status_code == 404


def test_members_without_a_person_record_have_no_own_export(personas: Personas) -> None:
    url = reverse("privacy:my_export", args=[personas.a.org.slug])
    assert personas.a.client(Role.HR).get(url).status_code == 404


def test_the_person_page_offers_the_download(subject: Subject) -> None:
    side = subject.team.side
    page = reverse("assessments:person", args=[side.org.slug, subject.person.pk])
    mine = reverse("privacy:my_export", args=[side.org.slug])
    theirs = reverse("privacy:person_export", args=[side.org.slug, subject.person.pk])
    assert mine in side.client(Role.PARTICIPANT).get(page).content.decode()
    assert theirs in side.client(Role.HR).get(page).content.decode()
    assert theirs not in side.client(Role.DIRECTOR).get(page).content.decode()
    me = side.client(Role.PARTICIPANT).get(reverse("assessments:me", args=[side.org.slug]))
    assert me.status_code == 302 and me["Location"] == page


def test_the_cli_writes_the_export(subject: Subject, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    org = subject.team.side.org.slug
    result = CliRunner().invoke(
        app, ["person", "export", subject.person.reference, "--org", org, "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    export.validate_export(document)
    assert document["person"]["email"] == EMAIL
    assert AuditEvent.objects.filter(action="person.exported", via="cli").exists()
    missing = CliRunner().invoke(app, ["person", "export", "nobody", "--org", org])
    assert missing.exit_code == 2
    assert CliRunner().invoke(app, ["person", "export", "x", "--org", "nope"]).exit_code == 2


def test_the_audit_event_holds_ids_and_counts_only(subject: Subject) -> None:
    client = subject.team.side.client(Role.HR)
    _download(
        client,
        reverse("privacy:person_export", args=[subject.team.side.org.slug, subject.person.pk]),
    )
    event = AuditEvent.objects.filter(action="person.exported").latest("seq")
    text = json.dumps(event.data)
    assert NAME not in text and EMAIL not in text and subject.person.reference not in text
    assert event.data["person_id"] == subject.person.pk


def test_user_fixture_has_no_password_in_export(subject: Subject) -> None:
    user = User.objects.get(pk=subject.user.pk)
    text = json.dumps(export.build_export(subject.person, named=True, now=timezone.now()))
    assert user.password not in text


def _queries(subject: Subject) -> int:
    with CaptureQueriesContext(connection) as captured:
        export.build_export(subject.person, named=True, now=timezone.now())
    return len(captured.captured_queries)


def test_the_export_reads_a_fixed_number_of_queries(subject: Subject) -> None:
    """1,000 more records cost no more queries (the measured time is in the report)."""
    before = _queries(subject)
    person, org = subject.person, subject.person.organisation
    PsychometricResult.objects.bulk_create(
        PsychometricResult(
            organisation=org,
            person=person,
            attribute_key="trustworthy",
            provider="X",
            scale="sten",
            value=5,
            sten=5,
            assessed_on=dt.date(2026, 1, 1),
        )
        for _ in range(400)
    )
    QuickCheck.objects.bulk_create(
        QuickCheck(organisation=org, person=person, answers={"q1": True}) for _ in range(300)
    )
    plan = Plan.objects.create(organisation=org, person=person, title="P")
    Action.objects.bulk_create(
        Action(plan=plan, competency_key="k", competency_name="K", kind="C", title=f"t{n}")
        for n in range(300)
    )
    assert _queries(subject) == before
