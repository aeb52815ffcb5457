"""The two-tenant world the permission matrix is checked against.

Organisations ``alpha`` and ``beta`` are built the same way (one user per role, a
framework with a published and a draft version, a role profile with both, a weighting
exercise, readiness audits, people, assessment cycles in every state, raters, forms,
plans, jobs, psychometrics), so that every URL keyword of every route names a real
object of each organisation. Beta's names carry :data:`CANARY`, so a leak into
alpha's lists, exports or CLI output is a plain substring search. ``gamma`` holds
one consultant who is a member of neither: the unassigned consultant.

The matrix file names objects by the keys of :attr:`Side.objects` (``fw``,
``fw_draft``, ``cycle_open`` …); :func:`url_kwargs` turns them into URL keywords.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

from django.contrib.auth.models import User
from django.test import Client

from kamfit.assessments import services as assess
from kamfit.assessments.models import Assessee, Cycle, Person, Rater
from kamfit.assessments.services import PersonInput, PsychometricInput, RatingInput
from kamfit.audits import services as audits
from kamfit.development import services as plans
from kamfit.development.models import Plan
from kamfit.domain import development
from kamfit.domain import framework as fw
from kamfit.frameworks.models import FrameworkVersion
from kamfit.frameworks.services import (
    copy_framework,
    install_library_framework,
    publish_version,
    start_new_draft,
)
from kamfit.jobs.models import Job, JobKind, JobStatus
from kamfit.jobs.work import output_path
from kamfit.orgs.models import Membership, Organisation, Role
from kamfit.profiles import services as profiles
from kamfit.profiles.models import ProfileVersion

CANARY = "Qzxbeta"  # appears in every name-like field of beta, and nowhere in alpha
ROLES = tuple(Role)
PASSWORD = "matrix-test-password-1"


@dataclass
class Side:
    """One organisation and the objects every route's URL keywords point at."""

    org: Organisation
    users: dict[Role, User]
    objects: dict[str, object] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # tokens, keys, formats
    peers: list[User] = field(default_factory=list)


@dataclass
class World:
    """Alpha, beta, the library framework and the unassigned consultant."""

    alpha: Side
    beta: Side
    library: FrameworkVersion
    stranger: User  # a consultant, member of gamma only
    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, user: User | None) -> Client:
        """Return a signed-in client for ``user`` (or an anonymous one), made once."""
        key = "anonymous" if user is None else user.username
        if key not in self.clients:
            c = Client()
            if user is not None:
                c.force_login(user)
            self.clients[key] = c
        return self.clients[key]


def _user(username: str, first: str, last: str) -> User:
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        first_name=first,
        last_name=last,
        password=PASSWORD,
    )
    return user


def _label(side_name: str, text: str) -> str:
    """A name-like value: beta's carry the canary."""
    return f"{CANARY} {text}" if side_name == "beta" else text


def _people(side: Side, name: str, profile_key: str) -> dict[str, Person]:
    hr = side.users[Role.HR]
    rows = [
        PersonInput(
            "mgr-1",
            _label(name, "Morgan Manager"),
            username=side.users[Role.MANAGER].username,
        ),
        PersonInput(
            "kam-1",
            _label(name, "Pat Participant"),
            manager="mgr-1",
            username=side.users[Role.PARTICIPANT].username,
            background="sales",
            profile=profile_key,
            accounts=(_label(name, "Globex"),),
        ),
        PersonInput(
            "kam-2",
            _label(name, "Casey Colleague"),
            manager="mgr-1",
            background="other",
            profile=profile_key,
        ),
        PersonInput("kam-3", _label(name, "Robin Rep"), background="sales", profile=profile_key),
    ]
    assess.upsert_people(side.org, hr, rows)
    return {p.reference: p for p in Person.objects.filter(organisation=side.org)}


def _answers(version: ProfileVersion, level: int) -> dict[str, RatingInput]:
    keys = version.requirements.filter(included=True).values_list("competency__key", flat=True)
    return {key: RatingInput(level, f"Evidence {key}") for key in keys}


def _cycles(side: Side, name: str, version: ProfileVersion, people: dict[str, Person]) -> None:
    """A draft, an open and a closed cycle; raters, forms, a release and plans."""
    hr = side.users[Role.HR]
    o = side.objects
    draft = assess.create_cycle(
        side.org, hr, title=_label(name, "Draft review"), profile_version=version
    )
    assess.add_people(draft, hr, [people["kam-3"]])
    cycle = assess.create_cycle(
        side.org, hr, title=_label(name, "Spring review"), profile_version=version
    )
    assess.add_people(cycle, hr, [people["kam-1"], people["kam-2"], people["kam-3"]])
    kam = cycle.assessees.get(person=people["kam-1"])
    colleague = cycle.assessees.get(person=people["kam-2"])
    for user in side.peers:
        assess.add_rater(kam, hr, username=user.username, source="peer")
    assessor = side.users[Role.ASSESSOR]
    own_draft = assess.add_rater(colleague, hr, username=assessor.username, source="other")
    own_submitted = assess.add_rater(kam, hr, username=assessor.username, source="other")
    assess.open_cycle(cycle)
    assess.save_form(assess.draft_form(own_draft, assessor), assessor, _answers(version, 3))
    assess.save_form(
        assess.draft_form(own_submitted, assessor), assessor, _answers(version, 3), submit=True
    )
    for user in side.peers:
        rater = Rater.objects.get(assessee=kam, user=user)
        assess.save_form(assess.draft_form(rater, user), user, _answers(version, 4), submit=True)
    other = cycle.assessees.get(person=people["kam-3"])
    assess.release_results(cycle, hr, [kam, other])
    closed = assess.create_cycle(
        side.org, hr, title=_label(name, "Autumn review"), profile_version=version
    )
    assess.add_people(closed, hr, [people["kam-3"]])
    assess.open_cycle(closed)
    assess.close_cycle(closed)
    plan_released = plans.create_plan(kam, hr, title=_label(name, "Pat plan"))
    plan_unreleased = plans.create_plan(colleague, hr, title=_label(name, "Casey plan"))
    for plan in (plan_released, plan_unreleased):
        plans.add_action(
            plan,
            hr,
            plans.ActionInput(
                competency="negotiation", title=_label(name, "Course"), action_type="course"
            ),
        )
    o.update(
        cycle_draft=draft,
        cycle_open=cycle,
        cycle_closed=closed,
        person_kam=people["kam-1"],
        person_colleague=people["kam-2"],
        person_other=people["kam-3"],
        person_manager=people["mgr-1"],
        rater_own=own_draft,
        rater_own_submitted=own_submitted,
        rater_peer=Rater.objects.get(assessee=kam, user=side.peers[0]),
        plan_released=plan_released,
        plan_unreleased=plan_unreleased,
        action_released=plan_released.actions.order_by("position").first(),
        action_unreleased=plan_unreleased.actions.order_by("position").first(),
    )


def _psychometrics(side: Side, name: str) -> None:
    key = side.values["competency"]
    rows = [
        PsychometricInput(
            "kam-1",
            key,
            _label(name, "Provider"),
            "sten",
            6,
            dt.date(2026, 1, 5),
            instrument=_label(name, "Instrument"),
        )
    ]
    assess.save_psychometrics(side.org, side.users[Role.HR], rows)
    # A quick check by the KAM's line manager, so that answers list one (test_fields.py).
    question = development.shipped_quick_check().questions[0].key
    assess.record_quick_check(
        cast(Person, side.objects["person_kam"]),
        side.users[Role.MANAGER],
        {question: True},
        note=_label(name, "Quick check note"),
    )


def _jobs(side: Side, name: str) -> None:
    """A finished team report (with its file) by the director; a failed import by the KAM."""
    output = f"{name}-report.csv"
    path = output_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"person\n{_label(name, 'Pat Participant')}\n", encoding="utf-8")
    side.objects["job_director"] = Job.objects.create(
        organisation=side.org,
        kind=JobKind.TEAM_REPORT,
        status=JobStatus.DONE,
        filename=f"{name}-report.csv",
        output=output,
        message=_label(name, "Report ready"),
        created_by=side.users[Role.DIRECTOR],
    )
    side.objects["job_participant"] = Job.objects.create(
        organisation=side.org,
        kind=JobKind.IMPORT_PEOPLE,
        status=JobStatus.FAILED,
        filename=f"{name}-people.csv",
        message=_label(name, "Row 2: bad"),
        created_by=side.users[Role.PARTICIPANT],
    )


def _audits(side: Side, name: str) -> None:
    director = side.users[Role.DIRECTOR]
    published = cast(FrameworkVersion, side.objects["fw_published"])
    audit = audits.open_audit(
        organisation=side.org,
        user=director,
        version=published,
        title=_label(name, "Readiness 2026"),
        element_keys=["risk"],
        min_group_size=3,
    )
    audits.invite_member(audit=audit, user=side.users[Role.PARTICIPANT], department="sales")
    _, token = audits.invite_by_link(
        audit=audit, name=_label(name, "Link Respondent"), department="sales"
    )
    closed = audits.open_audit(
        organisation=side.org,
        user=director,
        version=published,
        title=_label(name, "Readiness 2025"),
        element_keys=["risk"],
        min_group_size=3,
    )
    audits.invite_member(audit=closed, user=side.users[Role.PARTICIPANT], department="sales")
    audits.close_audit(audit=closed)
    side.objects.update(audit_open=audit, audit_closed=closed)
    side.values["token"] = token


def _profiles(side: Side, name: str) -> ProfileVersion:
    director = side.users[Role.DIRECTOR]
    version = profiles.create_profile(
        organisation=side.org,
        user=director,
        framework_version=cast(FrameworkVersion, side.objects["fw_published"]),
        title=_label(name, "Global account manager"),
        element_keys=["credibility", "risk"],
    )
    profiles.publish_version(version, director)
    version.refresh_from_db()
    draft = profiles.start_new_draft(version.profile, director)
    exercise = profiles.open_exercise(
        organisation=side.org,
        user=side.users[Role.HR],
        version=version,
        title=_label(name, "Weights 2026"),
        method="points",
    )
    profiles.invite_participants(exercise, [(side.users[Role.PARTICIPANT], "sales_director")])
    closed = profiles.open_exercise(
        organisation=side.org,
        user=side.users[Role.HR],
        version=version,
        title=_label(name, "Weights 2025"),
        method="points",
    )
    profiles.invite_participants(closed, [(side.users[Role.PARTICIPANT], "sales_director")])
    profiles.close_exercise(closed)
    side.objects.update(
        profile=version.profile,
        profile_published=version,
        profile_draft=draft,
        exercise_open=exercise,
        exercise_closed=closed,
    )
    return version


def _members(side: Side, name: str) -> None:
    """An invitation, an API token of the KAM, and an erasure request awaiting approval."""
    from kamfit.members import services as members
    from kamfit.members.tokens import issue_token
    from kamfit.privacy import services as privacy

    owner = Membership.objects.get(organisation=side.org, user=side.users[Role.OWNER])
    invitation = members.invite_member(
        manager=owner,
        email=f"newcomer@{name}.example.com",
        role=Role.PARTICIPANT,
        link=lambda token: f"/invite/{token}/",
    )
    # The plain token is only ever mailed: give the invitation one the test knows.
    plain = f"{name}-invitation-token-0123456789abcdef"
    invitation.token_hash = members.hash_invitation_token(plain)
    invitation.save(update_fields=["token_hash"])
    token, _ = issue_token(side.users[Role.PARTICIPANT], side.org, _label(name, "laptop"))
    erasure = privacy.request_erasure(
        person=cast(Person, side.objects["person_other"]),
        actor=side.users[Role.HR],
        reason="left",
    )
    side.objects.update(
        invitation=invitation,
        api_token=token,
        erasure=erasure,
        member_peer=Membership.objects.get(organisation=side.org, user=side.peers[0]),
    )
    side.values["invitation_token"] = plain


def _side(name: str, library: FrameworkVersion) -> Side:
    org = Organisation.objects.create(name=_label(name, f"{name.title()} Ltd"), slug=name)
    users: dict[Role, User] = {}
    for role in ROLES:
        user = _user(f"{name}-{role}", _label(name, "Given"), _label(name, str(role).title()))
        Membership.objects.create(organisation=org, role=role, user=user)
        users[role] = user
    side = Side(org, users)
    for n in (1, 2, 3):
        peer = _user(f"{name}-peer{n}", _label(name, "Peer"), f"Number{n}")
        Membership.objects.create(organisation=org, role=Role.PARTICIPANT, user=peer)
        side.peers.append(peer)
    director = users[Role.DIRECTOR]
    framework = copy_framework(
        organisation=org, user=director, source=library, title=_label(name, "KAM framework")
    )
    published = publish_version(version=framework.versions.get(number=1), user=director)
    draft = start_new_draft(framework=framework, user=director)
    side.objects.update(fw=framework, fw_published=published, fw_draft=draft)
    side.values["element"] = "credibility"
    side.values["competency"] = "analytical"
    version = _profiles(side, name)
    _audits(side, name)
    people = _people(side, name, version.profile.key)
    _cycles(side, name, version, people)
    _psychometrics(side, name)
    _jobs(side, name)
    _members(side, name)
    return side


def build() -> World:
    """Create the whole world in the current database (call inside a transaction)."""
    framework, _ = install_library_framework(doc=fw.shipped())
    library = framework.versions.get(number=1)
    alpha = _side("alpha", library)
    beta = _side("beta", library)
    gamma = Organisation.objects.create(name="Gamma Consulting", slug="gamma")
    stranger = _user("gamma-consultant", "Free", "Consultant")
    Membership.objects.create(organisation=gamma, role=Role.CONSULTANT, user=stranger)
    world = World(alpha, beta, library, stranger)
    # Sign everyone in now: a session made inside a test would vanish with its rollback.
    for user in [*alpha.users.values(), *beta.users.values(), *alpha.peers, stranger, None]:
        world.client(user)
    return world


__all__ = ["CANARY", "ROLES", "Assessee", "Cycle", "Plan", "Side", "World", "build"]
