"""A person with something in every export section, and distinctive identifiers to hunt for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from kamfit.assessments import services as assessment_services
from kamfit.assessments.models import Person, PsychometricResult, QuickCheck, Rating
from kamfit.assessments.services import RatingInput
from kamfit.audits.models import Answer, Audit, AuditItem, Respondent
from kamfit.development.models import Action, Plan
from kamfit.jobs.models import Job, JobKind
from kamfit.members.models import ApiToken
from kamfit.orgs.models import Role
from kamfit.profiles.models import Participant, WeightingExercise
from tests.conftest import Team

NAME = "Zelda Quixote"
SURNAME = "Quixote"
EMAIL = "zelda.quixote@example.test"
REFERENCE = "zq-4711"


@dataclass
class Subject:
    """The team's participant KAM, renamed and given data in every export section."""

    team: Team
    person: Person
    user: User

    @property
    def identifiers(self) -> tuple[str, ...]:
        return (SURNAME, EMAIL, REFERENCE, self.username)

    username: str = ""


def _answers(team: Team, level: int, text: str) -> dict[str, RatingInput]:
    return {key: RatingInput(level, text) for key in team.answers(level)}


def populate(team: Team) -> Subject:
    """Fill every section of the export for ``team.kam``; return it."""
    side = team.side
    hr = side.users[Role.HR]
    user = side.users[Role.PARTICIPANT]
    Person.objects.filter(pk=team.kam.pk).update(name=NAME, email=EMAIL, reference=REFERENCE)
    User.objects.filter(pk=user.pk).update(first_name="Zelda", last_name=SURNAME, email=EMAIL)
    person = Person.objects.select_related("organisation").get(pk=team.kam.pk)
    note = f"{NAME} ({EMAIL}, {REFERENCE}) did well"
    # Forms about them: self, manager, three peers; one peer amends with a reason.
    for rater_user in [user, side.users[Role.MANAGER], *team.peers]:
        rater = team.rater(person, rater_user)
        form = assessment_services.draft_form(rater, rater_user)
        assessment_services.save_form(form, rater_user, _answers(team, 3, note), submit=True)
    rater = team.rater(person, team.peers[0])
    form = assessment_services.amend_form(rater, team.peers[0], reason=f"Spoke to {NAME}")
    assessment_services.save_form(form, team.peers[0], _answers(team, 4, note), submit=True)
    # A form they wrote about a colleague.
    colleague = team.assessee(team.colleague)
    assessment_services.add_rater(colleague, hr, username=user.username, source="peer")
    team.submit(team.colleague, user, 2)
    PsychometricResult.objects.create(
        organisation=side.org,
        person=person,
        attribute_key="trustworthy",
        provider="Acme Tests",
        scale="sten",
        value=7,
        sten=7,
        assessed_on=dt.date(2026, 1, 5),
    )
    QuickCheck.objects.create(
        organisation=side.org, person=person, answers={"q1": True}, yes_count=1, note=note
    )
    plan = Plan.objects.create(
        organisation=side.org, person=person, cycle=team.cycle, title=f"Plan for {NAME}"
    )
    Action.objects.create(
        plan=plan,
        competency_key="trustworthy",
        competency_name="Trustworthy",
        kind="A",
        action_type="coaching",
        title=f"Coaching for {NAME}",
        description=note,
        progress_note=note,
    )
    audit = Audit.objects.create(organisation=side.org, version=side.published, title="Readiness")
    item = AuditItem.objects.create(audit=audit, position=1, kind="litmus", key="l1", text="Q?")
    respondent = Respondent.objects.create(audit=audit, user=user, department="kam")
    Answer.objects.create(respondent=respondent, item=item, rating="good", comment="fine")
    exercise = WeightingExercise.objects.create(
        organisation=side.org, profile_version=team.profile, title="Weights", method="points"
    )
    Participant.objects.create(exercise=exercise, user=user, function="kam", answers={"a": 50})
    Job.objects.create(organisation=side.org, kind=JobKind.IMPORT_PEOPLE, created_by=user)
    ApiToken.objects.create(
        user=user,
        organisation=side.org,
        name="laptop",
        prefix="abcd1234",
        secret_hash="0" * 64,
        expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    assert Rating.objects.filter(form__rater__assessee__person=person).exists()
    user.refresh_from_db()
    return Subject(team, person, user, user.username)


@pytest.fixture
def subject(team: Team) -> Subject:
    return populate(team)
