"""T7: the permission property, as a Hypothesis rule-based state machine.

Each example starts from two organisations (each with a founding owner and a
published role profile) and four users who belong nowhere. An initial step gives
them drawn roles in alpha, three people linked to drawn members, an open cycle and
drawn releases; then up to ``KAMFIT_T7_STEPS`` random steps go through kamfit's own
services: new organisations, invitations accepted with a role, role changes,
removals, consultants assigned to and withdrawn from client organisations, users
deactivated, reactivated and signing in again, people created and linked to accounts
and line managers, cycles created, opened and closed, people enrolled and taken out,
raters added and withdrawn, rating forms submitted and results released.

After every step the API's answers are compared with :mod:`.policy`, a model written
from the documentation that imports nothing from kamfit. Every pair whose answer the
step can change is asked (``api_agrees_with_policy``):

- the lists the step affects (people, cycles, "my rating forms", members: the status
  and the exact set of ids), in the organisation it touched, for the four users and
  that organisation's founder;
- for a user whose membership changed, all four lists and every cycle, result and
  rating form of that organisation; for one whose account or sessions changed,
  ``/organisations/`` and the people list of every organisation;
- the detail of each object the step created, changed or deleted, for those users.

The ``probe`` step adds triples drawn by Hypothesis: any user, any object, asked for
under any organisation's URL (another organisation's id under one's own: 404).

Every example runs inside one transaction that is rolled back, so each starts from
the same clean state. The run is reproducible: the seed is fixed (``KAMFIT_T7_SEED``)
and printed. See ``docs/security/fuzzing.md`` ("Permission state machine (T7)").
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from collections.abc import Iterable
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    precondition,
    rule,
)

from kamfit.accounts.services import deactivate_user
from kamfit.assessments import services as assessments
from kamfit.assessments.models import Assessee, Cycle, Person, Rater
from kamfit.domain.errors import ValidationError
from kamfit.frameworks.models import FrameworkVersion
from kamfit.members import services as members
from kamfit.orgs.models import Membership, Organisation, Role
from kamfit.profiles import services as profiles
from kamfit.profiles.models import ProfileVersion
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.security.statemachine.policy import (
    MANAGE_PEOPLE,
    OK,
    ROLES,
    Answer,
    CycleM,
    PersonM,
    RaterM,
    UserM,
    World,
)

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("KAMFIT_T7_EXAMPLES", "20"))
STEPS = int(os.environ.get("KAMFIT_T7_STEPS", "30"))
SEED = int(os.environ.get("KAMFIT_T7_SEED", "20261124"))
POOL = 4  # users who start with no membership at all
MAX_ORGS = 3
MAX_PEOPLE = 8  # per organisation: every list fits on one API page (50)
MAX_CYCLES = 3
API = "/api/v1/organisations/"
LISTS = ("people", "cycles", "forms", "members")
SOURCES = ("peer", "other")

# Figures printed at the end: examples, steps, requests and answers by status.
TALLY: dict[str, int] = {}
pick = st.integers(min_value=0, max_value=255)
roles = st.sampled_from(ROLES)


@dataclasses.dataclass
class Base:
    """What every example starts from; built once per test, outside the examples."""

    library: FrameworkVersion
    orgs: list[tuple[Organisation, User, ProfileVersion]]
    pool: list[User]


def _choose(items: Iterable[Any], n: int) -> Any:
    seq = sorted(items)
    return seq[n % len(seq)]


def _profile(org: Organisation, owner: User, library: FrameworkVersion) -> ProfileVersion:
    """A published role profile on the shipped framework, as HR would build one."""
    version = profiles.create_profile(
        organisation=org,
        user=owner,
        framework_version=library,
        title="Key account manager",
        element_keys=["credibility", "risk"],
    )
    profiles.publish_version(version, owner)
    version.refresh_from_db()
    return version


def _organisation(
    slug: str, library: FrameworkVersion
) -> tuple[Organisation, User, ProfileVersion]:
    org = cast(Organisation, OrganisationFactory(name=f"{slug.title()} Ltd", slug=slug))
    owner = cast(User, UserFactory(username=f"{slug}-founder"))
    MembershipFactory(organisation=org, user=owner, role=Role.OWNER)
    return org, owner, _profile(org, owner, library)


class PermissionMachine(RuleBasedStateMachine):
    """Random changes through kamfit's services; the API must agree with the policy."""

    base: Base

    def __init__(self) -> None:
        super().__init__()
        TALLY["examples"] += 1
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.w = World()
        self.founders: dict[int, User] = {}  # org pk → its founding owner (never changes)
        self.profile: dict[int, ProfileVersion] = {}
        self.pool = list(self.base.pool)
        self.clients: dict[int, Client] = {}
        for org, owner, version in self.base.orgs:
            self._adopt(org, owner, version)
        for user in self.pool:
            self.w.users[user.pk] = UserM(user.username)
            self._sign_in(user.pk)
        self._touch()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        cache.clear()
        if TALLY["examples"] % 10 == 0:  # progress, for long runs
            print(f"T7: {TALLY['examples']} examples run", file=sys.stderr, flush=True)

    # --- bookkeeping ----------------------------------------------------------------

    def _adopt(self, org: Organisation, owner: User, version: ProfileVersion) -> None:
        self.w.orgs[org.pk] = org.slug
        self.founders[org.pk] = owner
        self.profile[org.pk] = version
        self.w.users[owner.pk] = UserM(owner.username)
        membership = Membership.objects.get(organisation=org, user=owner)
        self.w.roles[(owner.pk, org.pk)] = Role.OWNER.value
        self.w.memberships[(owner.pk, org.pk)] = membership.pk
        self._sign_in(owner.pk)

    def _sign_in(self, user: int) -> None:
        client = Client()
        client.force_login(User.objects.get(pk=user))
        self.clients[user] = client
        self.w.users[user].signed_in = True

    def _touch(
        self,
        orgs: Iterable[int] = (),
        kinds: Iterable[str] = (),
        users: Iterable[int] = (),
        objects: Iterable[tuple[Any, ...]] = (),
    ) -> None:
        """Note what a step changed, so the invariant checks every pair it may affect.

        ``kinds`` of lists of ``orgs`` for every user who could be a member; each of the
        ``users``' standing everywhere (their account changed); the detail of ``objects``
        for every user.
        """
        self.touched_orgs = {org: frozenset(kinds) for org in orgs}
        self.touched_users = set(users)
        self.touched_objects = list(objects)
        self.touched_members: list[tuple[int, int]] = []

    def _touch_member(self, user: int, org: int, *, account: bool = False) -> None:
        """A membership changed: the members list of ``org`` for everyone, and the user's
        every list and their answer on each cycle, result and rating form of ``org``.
        ``account``: their sessions ended too, so check their standing everywhere."""
        self._touch(orgs=[org], kinds=["members"], users=[user] if account else [])
        self.touched_members = [(user, org)]

    def _objects_of(self, org: int) -> list[tuple[Any, ...]]:
        w = self.w
        objects: list[tuple[Any, ...]] = [("cycle", c) for c in w.cycles if w.cycles[c].org == org]
        objects += [("result", c, p) for (c, p) in w.released if w.cycles[c].org == org]
        objects += [("form", r) for r, m in w.raters.items() if w.cycles[m.cycle].org == org]
        return objects

    def _manager(self, org: int) -> Membership:
        return Membership.objects.select_related("organisation", "user").get(
            organisation_id=org, user=self.founders[org]
        )

    def _pool_ids(self) -> list[int]:
        return [u.pk for u in self.pool]

    def _members(self, org: int) -> list[int]:
        return sorted(u for (u, o) in self.w.roles if o == org)

    def _org_people(self, org: int) -> list[int]:
        return sorted(pk for pk, p in self.w.people.items() if p.org == org)

    def _assessees(self, *, open_only: bool = False) -> list[tuple[int, int]]:
        return sorted(
            key
            for key in self.w.released
            if not open_only or self.w.cycles[key[0]].status != "closed"
        )

    # --- a populated start ---------------------------------------------------------

    @initialize(
        given=st.lists(roles, min_size=POOL, max_size=POOL),
        links=st.lists(st.none() | pick, min_size=3, max_size=3),
        released=st.lists(st.booleans(), min_size=3, max_size=3),
    )
    def populate(self, given: list[str], links: list[int | None], released: list[bool]) -> None:
        """Start from a working organisation, so that 30 steps reach deep states: the
        pool joins alpha with drawn roles; three people (two reporting to the first)
        are linked to drawn members; a cycle assesses them, is open, and the drawn
        results are released."""
        for role in given:
            self.join(0, 0, role)
        for n, link in enumerate(links):
            self.add_person(0, link, None if n == 0 else 0)
        self.create_cycle(0)
        for _ in links:
            self.enrol(0, 0)
        self.open_cycle(0)
        for n, release in reversed(list(enumerate(released))):
            if release:
                self.release(n)
        alpha = min(self.w.orgs)
        self._touch(orgs=[alpha], kinds=LISTS, objects=self._objects_of(alpha))

    # --- organisations and memberships ---------------------------------------------

    @precondition(lambda self: len(self.w.orgs) < MAX_ORGS)
    @rule()
    def create_organisation(self) -> None:
        slug = f"org{len(self.w.orgs) + 1}"
        org, owner, version = _organisation(slug, self.base.library)
        self._adopt(org, owner, version)
        self._touch(orgs=[org.pk], kinds=LISTS, users=[owner.pk])

    @rule(who=pick, where=pick, role=roles)
    def join(self, who: int, where: int, role: str) -> None:
        """An owner invites a pool user with a role; the user accepts."""
        org = _choose(self.w.orgs, where)
        outside = [u for u in self._pool_ids() if (u, org) not in self.w.roles]
        if not outside:
            return
        user = User.objects.get(pk=_choose(outside, who))
        invitation = members.invite_member(
            manager=self._manager(org), email=user.email, role=role, link=lambda t: f"/i/{t}"
        )
        membership = members.accept_invitation(invitation=invitation, user=user)
        self.w.roles[(user.pk, org)] = role
        self.w.memberships[(user.pk, org)] = membership.pk
        self._touch_member(user.pk, org)

    @rule(who=pick, where=pick)
    def assign_consultant(self, who: int, where: int) -> None:
        """An outside consultant is given the consultant role in a client organisation."""
        self.join(who, where, Role.CONSULTANT.value)

    def _pool_memberships(self, role: str | None = None) -> list[tuple[int, int]]:
        return sorted(
            key
            for key, r in self.w.roles.items()
            if key[0] in self._pool_ids() and (role is None or r == role)
        )

    @precondition(lambda self: self._pool_memberships())
    @rule(which=pick, role=roles)
    def change_role(self, which: int, role: str) -> None:
        user, org = _choose(self._pool_memberships(), which)
        member = Membership.objects.get(pk=self.w.memberships[(user, org)])
        members.change_role(manager=self._manager(org), member=member, role=role)
        self.w.roles[(user, org)] = role
        self._touch_member(user, org)

    def _remove(self, user: int, org: int) -> None:
        member = Membership.objects.get(pk=self.w.memberships[(user, org)])
        members.remove_member(manager=self._manager(org), member=member)
        del self.w.roles[(user, org)]
        del self.w.memberships[(user, org)]
        self.w.users[user].signed_in = False  # A9: removal ends every session at once
        self._touch_member(user, org, account=True)

    @precondition(lambda self: self._pool_memberships())
    @rule(which=pick)
    def remove_member(self, which: int) -> None:
        self._remove(*_choose(self._pool_memberships(), which))

    @precondition(lambda self: self._pool_memberships(Role.CONSULTANT.value))
    @rule(which=pick)
    def unassign_consultant(self, which: int) -> None:
        """The consultant's engagement ends: they leave the client organisation."""
        self._remove(*_choose(self._pool_memberships(Role.CONSULTANT.value), which))

    # --- accounts -------------------------------------------------------------------

    @rule(who=pick)
    def deactivate(self, who: int) -> None:
        user = User.objects.get(pk=_choose(self._pool_ids(), who))
        if not user.is_active:
            return
        deactivate_user(user)
        self.w.users[user.pk].active = False
        self.w.users[user.pk].signed_in = False  # A9: deactivation ends every session
        self._touch(users=[user.pk])

    @rule(who=pick)
    def reactivate(self, who: int) -> None:
        """An administrator ticks "active" again (the admin site's plain save)."""
        user = User.objects.get(pk=_choose(self._pool_ids(), who))
        user.is_active = True
        user.save(update_fields=["is_active"])
        self.w.users[user.pk].active = True
        self._touch(users=[user.pk])

    @rule(who=pick)
    def sign_in(self, who: int) -> None:
        user = _choose(self._pool_ids(), who)
        self._sign_in(user)
        self._touch(users=[user])

    # --- people ---------------------------------------------------------------------

    def _linkable(self, org: int, person: int | None = None) -> list[int]:
        """Members not yet linked to another person of the organisation."""
        taken = {p.user for pk, p in self.w.people.items() if p.org == org and pk != person}
        return [u for u in self._members(org) if u not in taken]

    def _save_person(self, person: Person | None, org: int, row: assessments.PersonInput) -> int:
        owner = self.founders[org]
        assessments.upsert_people(Organisation.objects.get(pk=org), owner, [row])
        return Person.objects.get(organisation_id=org, reference=row.reference).pk

    @rule(where=pick, link=st.none() | pick, boss=st.none() | pick)
    def add_person(self, where: int, link: int | None, boss: int | None) -> None:
        org = _choose(self.w.orgs, where)
        people = self._org_people(org)
        if len(people) >= MAX_PEOPLE:
            return
        linkable = self._linkable(org)
        user = _choose(linkable, link) if link is not None and linkable else None
        manager = _choose(people, boss) if boss is not None and people else None
        reference = f"p{len(self.w.people) + 1}"
        row = assessments.PersonInput(
            reference=reference,
            name=f"Person {reference}",
            username=self.w.users[user].username if user else "",
            manager=self.w.people[manager].reference if manager else "",
        )
        pk = self._save_person(None, org, row)
        self.w.people[pk] = PersonM(org, reference, user, manager)
        self._touch(orgs=[org], kinds=["people"], objects=[("person", pk)])

    @precondition(lambda self: self.w.people)
    @rule(which=pick, link=st.none() | pick)
    def relink_person(self, which: int, link: int | None) -> None:
        """Link a person to a member account (or unlink): that account sees the person."""
        pk = _choose(self.w.people, which)
        p = self.w.people[pk]
        linkable = self._linkable(p.org, pk)
        user = _choose(linkable, link) if link is not None and linkable else None
        person = Person.objects.select_related("manager", "profile", "user").get(pk=pk)
        row = dataclasses.replace(
            assessments.current_input(person),
            username=self.w.users[user].username if user else "",
        )
        self._save_person(person, p.org, row)
        p.user = user
        self._touch(orgs=[p.org], kinds=["people"], objects=self._person_objects(pk))

    @precondition(lambda self: self.w.people)
    @rule(which=pick, boss=st.none() | pick)
    def change_manager(self, which: int, boss: int | None) -> None:
        """Move a person under another line manager (one added before them: no loops)."""
        pk = _choose(self.w.people, which)
        p = self.w.people[pk]
        earlier = [q for q in self._org_people(p.org) if q < pk]
        manager = _choose(earlier, boss) if boss is not None and earlier else None
        person = Person.objects.select_related("manager", "profile", "user").get(pk=pk)
        row = dataclasses.replace(
            assessments.current_input(person),
            manager=self.w.people[manager].reference if manager else "",
        )
        if p.user is not None and (p.user, p.org) not in self.w.roles:
            # Linked to an account that has left: kamfit refuses to save the person
            # until the link is changed (relink_person), so nothing changes.
            with pytest.raises(ValidationError, match="not a member of this organisation"):
                self._save_person(person, p.org, row)
            self._touch(objects=[("person", pk)])
            return
        self._save_person(person, p.org, row)
        p.manager = manager
        self._touch(orgs=[p.org], kinds=["people"], objects=self._person_objects(pk))

    def _results_of(self, cycle: int) -> list[tuple[Any, ...]]:
        return [("result", c, p) for (c, p) in self.w.released if c == cycle]

    def _person_objects(self, person: int) -> list[tuple[Any, ...]]:
        """The person, their results, and their direct reports' (their manager reads them)."""
        reports = {pk for pk, p in self.w.people.items() if p.manager == person}
        objects: list[tuple[Any, ...]] = [("person", person)]
        objects += [("result", c, p) for (c, p) in self.w.released if p in reports | {person}]
        return objects

    # --- cycles, raters, forms, releases -------------------------------------------

    @precondition(lambda self: len(self.w.cycles) < MAX_CYCLES)
    @rule(where=pick)
    def create_cycle(self, where: int) -> None:
        org = _choose(self.w.orgs, where)
        cycle = assessments.create_cycle(
            Organisation.objects.get(pk=org),
            self.founders[org],
            title="Review",
            profile_version=self.profile[org],
        )
        self.w.cycles[cycle.pk] = CycleM(org)
        self._touch(orgs=[org], kinds=["cycles"], objects=[("cycle", cycle.pk)])

    @precondition(lambda self: any(c.status != "closed" for c in self.w.cycles.values()))
    @rule(which=pick, whom=pick)
    def enrol(self, which: int, whom: int) -> None:
        """Add a person to a cycle: a self rater and a line-manager rater come with them."""
        pk = _choose([k for k, c in self.w.cycles.items() if c.status != "closed"], which)
        c = self.w.cycles[pk]
        candidates = [p for p in self._org_people(c.org) if (pk, p) not in self.w.released]
        if not candidates:
            return
        person = _choose(candidates, whom)
        cycle = Cycle.objects.select_related("organisation").get(pk=pk)
        assessments.add_people(cycle, self.founders[c.org], [Person.objects.get(pk=person)])
        self.w.released[(pk, person)] = False
        expected = self._automatic_raters(c.org, person)
        made = {
            (r.user_id, r.source): r.pk
            for r in Rater.objects.filter(assessee__cycle_id=pk, assessee__person_id=person)
        }
        assert set(made) == expected, f"raters made on enrolment: {made}, expected {expected}"
        for (user, source), rater in made.items():
            self.w.raters[rater] = RaterM(pk, person, user, source)
        objects = [("result", pk, person)] + [("form", r) for r in made.values()]
        self._touch(orgs=[c.org], kinds=["forms"], objects=[("cycle", pk), *objects])

    def _automatic_raters(self, org: int, person: int) -> set[tuple[int, str]]:
        """docs/user/assessments.md: a self rater if linked to a member account, and
        the line manager if the manager has one."""
        p = self.w.people[person]
        out = set()
        if p.user is not None and (p.user, org) in self.w.roles:
            out.add((p.user, "self"))
        boss = self.w.people[p.manager].user if p.manager is not None else None
        if boss is not None and (boss, org) in self.w.roles and boss != p.user:
            out.add((boss, "manager"))
        return out

    @precondition(lambda self: self._assessees(open_only=True))
    @rule(which=pick, who=pick, source=st.sampled_from(SOURCES))
    def add_rater(self, which: int, who: int, source: str) -> None:
        cycle, person = _choose(self._assessees(open_only=True), which)
        org = self.w.cycles[cycle].org
        rating = {r.user for r in self.w.raters.values() if (r.cycle, r.person) == (cycle, person)}
        mine = self.w.people[person].user
        candidates = [u for u in self._members(org) if u not in rating and u != mine]
        if not candidates:
            return
        user = _choose(candidates, who)
        assessee = Assessee.objects.select_related("cycle", "person").get(
            cycle_id=cycle, person_id=person
        )
        rater = assessments.add_rater(
            assessee, self.founders[org], username=self.w.users[user].username, source=source
        )
        self.w.raters[rater.pk] = RaterM(cycle, person, user, source)
        self._touch(orgs=[org], kinds=["forms"], objects=[("form", rater.pk)])

    def _withdrawable(self) -> list[int]:
        return sorted(
            pk
            for pk, r in self.w.raters.items()
            if not r.submitted and self.w.cycles[r.cycle].status != "closed"
        )

    @precondition(lambda self: self._withdrawable())
    @rule(which=pick)
    def withdraw_rater(self, which: int) -> None:
        pk = _choose(self._withdrawable(), which)
        r = self.w.raters.pop(pk)
        assessments.remove_rater(Rater.objects.select_related("assessee__cycle").get(pk=pk))
        org = self.w.cycles[r.cycle].org
        self._touch(orgs=[org], kinds=["forms"], objects=[("form", pk, org)])

    def _droppable(self) -> list[tuple[int, int]]:
        submitted = {(r.cycle, r.person) for r in self.w.raters.values() if r.submitted}
        return [k for k in self._assessees(open_only=True) if k not in submitted]

    @precondition(lambda self: self._droppable())
    @rule(which=pick)
    def drop_from_cycle(self, which: int) -> None:
        cycle, person = _choose(self._droppable(), which)
        assessee = Assessee.objects.select_related("cycle").get(cycle_id=cycle, person_id=person)
        assessments.remove_assessee(assessee)
        del self.w.released[(cycle, person)]
        gone = [pk for pk, r in self.w.raters.items() if (r.cycle, r.person) == (cycle, person)]
        for pk in gone:
            del self.w.raters[pk]
        org = self.w.cycles[cycle].org
        self._touch(
            orgs=[org],
            kinds=["forms"],
            objects=[("result", cycle, person), *(("form", g, org) for g in gone)],
        )

    def _cycles_in(self, status: str) -> list[int]:
        return sorted(pk for pk, c in self.w.cycles.items() if c.status == status)

    @precondition(lambda self: any(self.w.cycles[c].status == "draft" for c, _ in self.w.released))
    @rule(which=pick)
    def open_cycle(self, which: int) -> None:
        ready = sorted({c for c, _ in self.w.released if self.w.cycles[c].status == "draft"})
        pk = _choose(ready, which)
        assessments.open_cycle(Cycle.objects.get(pk=pk))
        self.w.cycles[pk].status = "open"
        self._touch(objects=[("cycle", pk), *self._results_of(pk)])

    @precondition(lambda self: self._cycles_in("open"))
    @rule(which=pick)
    def close_cycle(self, which: int) -> None:
        pk = _choose(self._cycles_in("open"), which)
        assessments.close_cycle(Cycle.objects.get(pk=pk))
        self.w.cycles[pk].status = "closed"
        self._touch(objects=[("cycle", pk), *self._results_of(pk)])

    def _submittable(self) -> list[int]:
        return sorted(
            pk
            for pk, r in self.w.raters.items()
            if not r.submitted and self.w.cycles[r.cycle].status == "open"
        )

    @precondition(lambda self: self._submittable())
    @rule(which=pick, level=st.integers(1, 5))
    def submit_form(self, which: int, level: int) -> None:
        """A rater submits their 360 rating form (kamfit has no interview scorecards)."""
        pk = _choose(self._submittable(), which)
        rater = Rater.objects.select_related("assessee__cycle__profile_version", "user").get(pk=pk)
        version = rater.assessee.cycle.profile_version
        keys = version.requirements.filter(included=True).values_list("competency__key", flat=True)
        answers = {k: assessments.RatingInput(level, f"Seen at level {level}") for k in keys}
        form = assessments.draft_form(rater, rater.user)
        assessments.save_form(form, rater.user, answers, submit=True)
        r = self.w.raters[pk]
        r.submitted = True
        org = self.w.cycles[r.cycle].org
        self._touch(
            orgs=[org], kinds=["forms"], objects=[("form", pk), ("result", r.cycle, r.person)]
        )

    def _releasable(self) -> list[tuple[int, int]]:
        return sorted(
            k
            for k, released in self.w.released.items()
            if not released and self.w.cycles[k[0]].status != "draft"
        )

    @precondition(lambda self: self._releasable())
    @rule(which=pick)
    def release(self, which: int) -> None:
        """HR releases one person's results to them and their line manager."""
        cycle, person = _choose(self._releasable(), which)
        org = self.w.cycles[cycle].org
        assessee = Assessee.objects.get(cycle_id=cycle, person_id=person)
        released = assessments.release_results(
            Cycle.objects.get(pk=cycle), self.founders[org], [assessee]
        )
        assert released == 1
        self.w.released[(cycle, person)] = True
        self._touch(objects=[("result", cycle, person)])

    # --- the property ---------------------------------------------------------------

    def _get(self, user: int, url: str) -> tuple[int, Any]:
        TALLY["requests"] += 1
        response = self.clients[user].get(url, HTTP_ACCEPT="application/json")
        body = response.json() if response.status_code == OK else None
        return response.status_code, body

    def _check(self, user: int, url: str, expected: Answer, key: str | None = None) -> None:
        status, body = self._get(user, url)
        TALLY[f"answered {status}"] = TALLY.get(f"answered {status}", 0) + 1
        who = f"{self.w.users[user].username} GET {url}"
        assert status == expected.status, f"{who}: {status}, the policy says {expected.status}"
        if expected.ids is None or body is None:
            return
        rows = body["results"] if isinstance(body, dict) else body
        got = frozenset(
            (r["organisation"], r["role"]) if key == "organisation" else r["id"] for r in rows
        )
        assert got == expected.ids, (
            f"{who}: lists {sorted(got, key=str)}, the policy says {sorted(expected.ids, key=str)}"
        )

    def _list(self, user: int, org: int, kind: str) -> None:
        w, base = self.w, f"{API}{self.w.orgs[org]}/"
        if kind == "people":
            self._check(user, f"{base}people/", w.people_list(user, org))
        elif kind == "cycles":
            self._check(user, f"{base}cycles/", w.cycle_list(user, org))
        elif kind == "forms":
            self._check(user, f"{base}rating-forms/mine/", w.my_forms(user, org))
        else:
            self._check(user, f"{base}members/", w.member_list(user, org))

    def _detail(self, user: int, obj: tuple[Any, ...], org: int | None = None) -> None:
        """Check one object under ``org``'s URL (default: its own organisation's)."""
        w, kind = self.w, obj[0]
        if kind == "person" and obj[1] in w.people:
            org = w.people[obj[1]].org if org is None else org
            url = f"{API}{w.orgs[org]}/people/{obj[1]}/"
            self._check(user, url, w.person_detail(user, org, obj[1]))
        elif kind == "cycle" and obj[1] in w.cycles:
            org = w.cycles[obj[1]].org if org is None else org
            url = f"{API}{w.orgs[org]}/cycles/{obj[1]}/"
            self._check(user, url, w.cycle_detail(user, org, obj[1]))
        elif kind == "result" and obj[1] in w.cycles and obj[2] in w.people:
            org = w.cycles[obj[1]].org if org is None else org
            url = f"{API}{w.orgs[org]}/cycles/{obj[1]}/results/{obj[2]}/"
            expected = w.result(user, org, obj[1], obj[2])
            if expected.status == OK and w.role(user, org) not in MANAGE_PEOPLE:
                TALLY["released results read"] = TALLY.get("released results read", 0) + 1
            self._check(user, url, expected)
        elif kind == "form" and obj[1] in w.raters:
            org = w.cycles[w.raters[obj[1]].cycle].org if org is None else org
            url = f"{API}{w.orgs[org]}/rating-forms/{obj[1]}/"
            self._check(user, url, w.form_detail(user, org, obj[1]))
        elif kind == "form":  # withdrawn: its old address answers as if it never existed
            org = int(obj[2]) if org is None else org
            self._check(user, f"{API}{w.orgs[org]}/rating-forms/{obj[1]}/", w.gone(user, org))

    @invariant()
    def api_agrees_with_policy(self) -> None:
        """Every (user, object) pair whose answer the last step may have changed."""
        TALLY["steps"] += 1
        checks: set[tuple[int, int, str]] = set()
        for org, kinds in self.touched_orgs.items():
            checks |= {(user, org, kind) for user in self._users_of(org) for kind in kinds}
        for user, org in self.touched_members:
            checks |= {(user, org, kind) for kind in LISTS}
        for user in self.touched_users:  # signed out or in: the same answer on every list
            self._check(user, API, self.w.organisations(user), key="organisation")
            checks |= {(user, org, "people") for org in self.w.orgs}
        for user, org, kind in sorted(checks):
            self._list(user, org, kind)
        for obj in self.touched_objects:
            for user in self._users_of(self._org_of(obj)):
                self._detail(user, obj)
        for user, org in self.touched_members:
            for obj in self._objects_of(org):
                self._detail(user, obj)
        for user in self.touched_users:  # a user whose session ended signs in again
            if self.w.users[user].active and not self.w.users[user].signed_in:
                self._sign_in(user)
                self._check(user, API, self.w.organisations(user), key="organisation")
        self._touch()

    def _users_of(self, org: int) -> list[int]:
        """Everyone who is or could become a member of ``org``: the pool and its founder."""
        return [*self._pool_ids(), self.founders[org].pk]

    def _org_of(self, obj: tuple[Any, ...]) -> int:
        w = self.w
        if obj[0] == "person":
            return w.people[obj[1]].org
        if obj[0] in {"cycle", "result"}:
            return w.cycles[obj[1]].org
        return w.cycles[w.raters[obj[1]].cycle].org if obj[1] in w.raters else int(obj[2])

    @rule(
        probes=st.lists(
            st.tuples(pick, st.sampled_from(["person", "cycle", "result", "form"]), pick, pick),
            min_size=1,
            max_size=6,
        )
    )
    def probe(self, probes: list[tuple[int, str, int, int]]) -> None:
        """Extra checks drawn by Hypothesis: any user, any object, under any organisation."""
        for who, kind, which, where in probes:
            user = _choose(self.w.users, who)
            org = _choose(self.w.orgs, where)
            if kind == "person" and self.w.people:
                self._detail(user, ("person", _choose(self.w.people, which)), org)
            elif kind == "cycle" and self.w.cycles:
                self._detail(user, ("cycle", _choose(self.w.cycles, which)), org)
            elif kind == "result" and self.w.released:
                self._detail(user, ("result", *_choose(self.w.released, which)), org)
            elif kind == "form" and self.w.raters:
                self._detail(user, ("form", _choose(self.w.raters, which)), org)
            for listed in LISTS:
                self._list(user, org, listed)


@pytest.fixture
def base(library: FrameworkVersion) -> Base:
    orgs = [_organisation(slug, library) for slug in ("alpha", "beta")]
    pool = [cast(User, UserFactory(username=f"pool{n}")) for n in range(POOL)]
    return Base(library, orgs, pool)


def test_t7_api_visibility_equals_the_policy(base: Base) -> None:
    PermissionMachine.base = base
    TALLY.clear()
    TALLY.update(examples=0, steps=0, requests=0)
    print(
        f"T7: seed {SEED}, {EXAMPLES} examples × up to {STEPS} steps "
        "(KAMFIT_T7_SEED, KAMFIT_T7_EXAMPLES, KAMFIT_T7_STEPS)",
        file=sys.stderr,
    )
    run = get_state_machine_test(
        PermissionMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    quiet = logging.getLogger("django.request")  # every 401/403/404 would log a warning
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    started = time.monotonic()
    try:
        seed(SEED)(run)()
    finally:
        quiet.setLevel(level)
        steps = TALLY["steps"] - TALLY["examples"]  # the invariant also runs before step 1
        print(
            f"T7: seed {SEED}: {TALLY['examples']} examples, {steps} steps, "
            f"{TALLY['requests']} API requests in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        answers = {
            k: v for k, v in sorted(TALLY.items()) if k not in {"examples", "steps", "requests"}
        }
        print(f"T7: {answers}", file=sys.stderr)
