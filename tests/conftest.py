"""Fixtures every capability reuses: the library framework and two organisations of personas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kamfit.assessments import services as assessment_services
from kamfit.assessments.models import Assessee, Cycle, Person, Rater, RatingForm
from kamfit.assessments.services import PersonInput, RatingInput
from kamfit.domain import framework as fw
from kamfit.frameworks.models import Framework, FrameworkVersion
from kamfit.frameworks.services import (
    copy_framework,
    install_library_framework,
    publish_version,
    start_new_draft,
    unfrozen,
)
from kamfit.orgs.models import Organisation, Role
from kamfit.profiles import services as profile_services
from kamfit.profiles.models import ProfileVersion
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

ROLES = tuple(Role)
EDITORS = (Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT)
PUBLISHERS = (Role.OWNER, Role.HR, Role.DIRECTOR)


@dataclass
class Side:
    """One organisation with one user per role, a published framework and a draft."""

    org: Organisation
    users: dict[Role, User]
    framework: Framework
    published: FrameworkVersion
    draft: FrameworkVersion
    clients: dict[Role, Client] = field(default_factory=dict)

    def client(self, role: Role) -> Client:
        if role not in self.clients:
            c = Client()
            c.force_login(self.users[role])
            self.clients[role] = c
        return self.clients[role]


@dataclass
class Personas:
    """Two organisations (``a`` and ``b``) and the shipped library framework."""

    a: Side
    b: Side
    library: Framework
    library_version: FrameworkVersion


@pytest.fixture
def library(db: None) -> FrameworkVersion:
    framework, _ = install_library_framework(doc=fw.shipped())
    return framework.versions.get(number=1)


def _side(name: str, library_version: FrameworkVersion) -> Side:
    org = cast(Organisation, OrganisationFactory(name=f"{name} Ltd", slug=name.lower()))
    users: dict[Role, User] = {}
    for role in ROLES:
        user = cast(User, UserFactory(username=f"{name.lower()}-{role}"))
        MembershipFactory(organisation=org, role=role, user=user)
        users[role] = user
    director = users[Role.DIRECTOR]
    framework = copy_framework(
        organisation=org, user=director, source=library_version, title=f"{name} KAM framework"
    )
    published = publish_version(version=framework.versions.get(number=1), user=director)
    draft = start_new_draft(framework=framework, user=director)
    return Side(org, users, framework, published, draft)


@pytest.fixture
def personas(library: FrameworkVersion) -> Personas:
    """Organisations A and B, each with one user per role, a published v1 and a draft v2."""
    return Personas(_side("Alpha", library), _side("Beta", library), library.framework, library)


# The requirements of the team's profile (credibility + risk of the shipped framework),
# in catalogue order.
TEAM_KEYS = [
    "analytical",
    "networking",
    "influencing",
    "financially-aware",
    "communication",
    "vision-creativity",
    "trustworthy",
    "credibility-experience",
    "negotiation",
    "listening",
    "calculated-risk-taking",
]


@dataclass
class Team:
    """Side A with a published profile, five people and an open cycle.

    ``kam`` is the participant user's own person record, managed by the line manager
    user's person; ``colleague`` has no account. Three peers (extra members) rate
    ``kam`` so the peer source counts (minimum 3). Nothing is submitted yet.
    """

    side: Side
    profile: ProfileVersion
    people: dict[str, Person]
    peers: list[User]
    cycle: Cycle

    @property
    def kam(self) -> Person:
        return self.people["kam-1"]

    @property
    def colleague(self) -> Person:
        return self.people["kam-2"]

    def assessee(self, person: Person) -> Assessee:
        return self.cycle.assessees.get(person=person)

    def rater(self, person: Person, user: User) -> Rater:
        return Rater.objects.get(assessee__cycle=self.cycle, assessee__person=person, user=user)

    def answers(self, level: int) -> dict[str, RatingInput]:
        keys = self.profile.requirements.filter(included=True).values_list(
            "competency__key", flat=True
        )
        return {key: RatingInput(level, f"Evidence for {key} at {level}") for key in keys}

    def submit(self, person: Person, user: User, level: int) -> RatingForm:
        rater = self.rater(person, user)
        form = assessment_services.draft_form(rater, user)
        return assessment_services.save_form(form, user, self.answers(level), submit=True)


def published_profile(side: Side, title: str = "Global account manager") -> ProfileVersion:
    director = side.users[Role.DIRECTOR]
    version = profile_services.create_profile(
        organisation=side.org,
        user=director,
        framework_version=side.published,
        title=title,
        element_keys=["credibility", "risk"],
    )
    profile_services.publish_version(version, director)
    version.refresh_from_db()
    return version


@pytest.fixture
def team(personas: Personas) -> Team:
    side = personas.a
    hr = side.users[Role.HR]
    version = published_profile(side)
    peers = []
    for n in (1, 2, 3):
        user = cast(User, UserFactory(username=f"alpha-peer{n}"))
        MembershipFactory(organisation=side.org, role=Role.PARTICIPANT, user=user)
        peers.append(user)
    key = version.profile.key
    rows = [
        PersonInput("mgr-1", "Morgan Manager", username=side.users[Role.MANAGER].username),
        PersonInput(
            "kam-1",
            "Pat Participant",
            manager="mgr-1",
            username=side.users[Role.PARTICIPANT].username,
            background="sales",
            profile=key,
            accounts=("Globex", "Initech"),
        ),
        PersonInput("kam-2", "Casey Colleague", manager="mgr-1", background="other", profile=key),
        PersonInput("kam-3", "Robin Rep", manager="mgr-1", background="sales", profile=key),
        PersonInput("kam-4", "Sam Seller", background="sales", profile=key),
    ]
    assessment_services.upsert_people(side.org, hr, rows)
    people = {p.reference: p for p in Person.objects.filter(organisation=side.org)}
    cycle = assessment_services.create_cycle(
        side.org, hr, title="Spring review", profile_version=version
    )
    assessment_services.add_people(
        cycle, hr, [people[r] for r in ("kam-1", "kam-2", "kam-3", "kam-4")]
    )
    assessee = cycle.assessees.get(person=people["kam-1"])
    for user in peers:
        assessment_services.add_rater(assessee, hr, username=user.username, source="peer")
    assessment_services.add_rater(
        cycle.assessees.get(person=people["kam-2"]),
        hr,
        username=side.users[Role.ASSESSOR].username,
        source="other",
    )
    assessment_services.open_cycle(cycle)
    return Team(side, version, people, peers, cycle)


@pytest.fixture(autouse=True)
def _empty_audit_trail_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let a transactional test's flush run: the audit trail refuses plain DELETEs.

    SQLite's flush deletes row by row, which the append-only trigger refuses; a
    deliberate purge (``unfrozen``) clears the trail first, as ``kamfit restore`` does.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and bool(marker.kwargs.get("transaction"))) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so it is torn down after
    yield
    from kamfit.auditlog.models import AuditEvent

    with unfrozen("test teardown: empty the audit trail"):
        AuditEvent.objects.all().delete()
