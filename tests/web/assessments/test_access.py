"""Scoping of people, cycles, results, rating forms and plans through kamfit.orgs.access."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kamfit.assessments import services
from kamfit.assessments.models import Person
from kamfit.assessments.services import PersonInput
from kamfit.development.models import Plan
from kamfit.orgs import access
from kamfit.orgs.models import Membership, Role
from tests.conftest import ROLES, Personas, Side, Team

pytestmark = pytest.mark.django_db

MANAGERS_OF_PEOPLE = (Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT)
OTHERS = (Role.MANAGER, Role.ASSESSOR, Role.PARTICIPANT)


def member(side: Side, role: Role) -> Membership:
    return Membership.objects.select_related("organisation").get(
        organisation=side.org, user=side.users[role]
    )


def member_of(side: Side, user: User) -> Membership:
    return Membership.objects.select_related("organisation").get(organisation=side.org, user=user)


def references(people: object) -> set[str]:
    return {p.reference for p in people}  # type: ignore[attr-defined]


def release(team: Team, *people: Person) -> None:
    hr = team.side.users[Role.HR]
    services.release_results(team.cycle, hr, [team.assessee(p) for p in people])


def plan_for(team: Team, person: Person, *, with_cycle: bool = True) -> Plan:
    return Plan.objects.create(
        organisation=team.side.org,
        person=person,
        cycle=team.cycle if with_cycle else None,
        title=f"Plan for {person.reference}",
    )


# --- another organisation: 404 for everything -----------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_another_organisations_objects_answer_404(
    team: Team, personas: Personas, role: Role
) -> None:
    outsider = member(personas.b, role)
    kam = team.kam
    rater = team.rater(kam, team.side.users[Role.MANAGER])
    plan = plan_for(team, kam)
    release(team, kam)  # released, so only the organisation stands in the way
    attempts: list[Callable[[], object]] = [
        lambda: access.access_person(outsider, kam.pk),
        lambda: access.access_person(outsider, kam.pk, action="manage"),
        lambda: access.access_cycle(outsider, team.cycle.pk),
        lambda: access.access_cycle(outsider, team.cycle.pk, action="release"),
        lambda: access.access_assessee(outsider, team.cycle.pk, kam.pk),
        lambda: access.access_rater(outsider, rater.pk),
        lambda: access.access_plan(outsider, plan.pk),
        lambda: access.access_plan(outsider, plan.pk, action="manage"),
    ]
    for attempt in attempts:
        with pytest.raises(Http404):
            attempt()
    assert not access.list_visible_people(outsider).filter(pk=kam.pk).exists()
    assert not access.list_visible_plans(outsider).exists()
    assert not access.list_my_raters(outsider).exists()


def test_lists_hold_only_the_organisations_own_rows(team: Team, personas: Personas) -> None:
    beta = personas.b
    services.upsert_people(beta.org, None, [PersonInput("kam-1", "Beta's Pat")])
    assert references(access.list_people(team.side.org)) == {
        "mgr-1",
        "kam-1",
        "kam-2",
        "kam-3",
        "kam-4",
    }
    assert list(access.list_people(beta.org).values_list("name", flat=True)) == ["Beta's Pat"]
    assert list(access.list_cycles(team.side.org)) == [team.cycle]
    assert not access.list_cycles(beta.org).exists()
    plan = plan_for(team, team.kam)
    assert list(access.list_plans(team.side.org)) == [plan]
    assert not access.list_plans(beta.org).exists()


@pytest.mark.parametrize("pk", ["abc", "", "1.5", None])
def test_malformed_ids_answer_404(team: Team, pk: object) -> None:
    hr = member(team.side, Role.HR)
    for lookup in (
        access.access_person,
        access.access_cycle,
        access.access_rater,
        access.access_plan,
    ):
        with pytest.raises(Http404):
            lookup(hr, pk)  # type: ignore[arg-type]
    with pytest.raises(Http404):
        access.access_assessee(hr, team.cycle.pk, pk)  # type: ignore[arg-type]


# --- people -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", MANAGERS_OF_PEOPLE)
def test_those_who_manage_people_see_and_manage_everyone(team: Team, role: Role) -> None:
    membership = member(team.side, role)
    assert references(access.list_visible_people(membership)) == {
        "mgr-1",
        "kam-1",
        "kam-2",
        "kam-3",
        "kam-4",
    }
    assert access.access_person(membership, team.colleague.pk, action="manage") == team.colleague


def test_a_participant_sees_only_their_own_person(team: Team) -> None:
    participant = member(team.side, Role.PARTICIPANT)
    assert references(access.list_visible_people(participant)) == {"kam-1"}
    assert access.access_person(participant, team.kam.pk) == team.kam
    for person in team.people.values():
        if person != team.kam:
            with pytest.raises(Http404):
                access.access_person(participant, person.pk)
    with pytest.raises(PermissionDenied):
        access.access_person(participant, team.kam.pk, action="manage")


def test_a_line_manager_sees_direct_reports_and_themself(team: Team) -> None:
    manager = member(team.side, Role.MANAGER)
    assert references(access.list_visible_people(manager)) == {"mgr-1", "kam-1", "kam-2", "kam-3"}
    assert access.access_person(manager, team.colleague.pk) == team.colleague
    with pytest.raises(Http404):
        access.access_person(manager, team.people["kam-4"].pk)
    with pytest.raises(PermissionDenied):
        access.access_person(manager, team.colleague.pk, action="manage")


def test_a_member_without_a_person_sees_no_one(team: Team) -> None:
    assessor = member(team.side, Role.ASSESSOR)
    assert not access.list_visible_people(assessor).exists()
    with pytest.raises(Http404):
        access.access_person(assessor, team.colleague.pk)


def test_a_manager_of_a_manager_does_not_see_the_second_level(team: Team) -> None:
    side = team.side
    services.upsert_people(
        side.org,
        None,
        [
            PersonInput("boss-1", "Big Boss", username=side.users[Role.ASSESSOR].username),
            PersonInput(
                "mgr-1",
                "Morgan Manager",
                manager="boss-1",
                username=side.users[Role.MANAGER].username,
            ),
        ],
    )
    boss = member(side, Role.ASSESSOR)
    assert references(access.list_visible_people(boss)) == {"boss-1", "mgr-1"}


# --- cycles -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", OTHERS)
def test_only_those_who_manage_people_open_a_cycle(team: Team, role: Role) -> None:
    membership = member(team.side, role)
    with pytest.raises(PermissionDenied):
        access.access_cycle(membership, team.cycle.pk)
    with pytest.raises(PermissionDenied):
        access.access_cycle(membership, team.cycle.pk, action="release")


@pytest.mark.parametrize("role", MANAGERS_OF_PEOPLE)
def test_managers_of_people_open_a_cycle_but_only_owner_and_hr_release(
    team: Team, role: Role
) -> None:
    membership = member(team.side, role)
    assert access.access_cycle(membership, team.cycle.pk) == team.cycle
    if role in (Role.OWNER, Role.HR):
        assert access.access_cycle(membership, str(team.cycle.pk), action="release") == team.cycle
    else:
        with pytest.raises(PermissionDenied, match="may not release results"):
            access.access_cycle(membership, team.cycle.pk, action="release")


# --- results ----------------------------------------------------------------------------


def test_the_assessed_person_sees_nothing_before_release_and_only_their_own_after(
    team: Team,
) -> None:
    participant = member(team.side, Role.PARTICIPANT)
    with pytest.raises(Http404):
        access.access_assessee(participant, team.cycle.pk, team.kam.pk)

    release(team, team.kam, team.colleague)

    found = access.access_assessee(participant, team.cycle.pk, team.kam.pk)
    assert found == team.assessee(team.kam)
    assert found.is_released
    with pytest.raises(Http404):
        access.access_assessee(participant, team.cycle.pk, team.colleague.pk)  # released too
    with pytest.raises(Http404):
        access.access_assessee(participant, team.cycle.pk + 1000, team.kam.pk)


def test_a_line_manager_sees_a_reports_results_only_after_release(team: Team) -> None:
    manager = member(team.side, Role.MANAGER)
    with pytest.raises(Http404):
        access.access_assessee(manager, team.cycle.pk, team.kam.pk)
    release(team, team.kam, team.people["kam-4"])
    assert access.access_assessee(manager, team.cycle.pk, team.kam.pk) == team.assessee(team.kam)
    with pytest.raises(Http404):
        access.access_assessee(manager, team.cycle.pk, team.colleague.pk)  # not released
    with pytest.raises(Http404):
        access.access_assessee(manager, team.cycle.pk, team.people["kam-4"].pk)  # not a report


def test_a_peer_rater_does_not_see_the_result_of_whom_they_rate(team: Team) -> None:
    release(team, team.kam)
    peer = member_of(team.side, team.peers[0])
    with pytest.raises(Http404):
        access.access_assessee(peer, team.cycle.pk, team.kam.pk)


@pytest.mark.parametrize("role", MANAGERS_OF_PEOPLE)
def test_those_who_manage_people_read_unreleased_results(team: Team, role: Role) -> None:
    membership = member(team.side, role)
    found = access.access_assessee(membership, team.cycle.pk, team.people["kam-4"].pk)
    assert found == team.assessee(team.people["kam-4"])
    assert not found.is_released
    with pytest.raises(Http404):
        access.access_assessee(membership, team.cycle.pk, team.people["mgr-1"].pk)  # not in it


# --- rating forms ----------------------------------------------------------------------


def test_a_rater_opens_only_their_own_forms(team: Team) -> None:
    side = team.side
    participant = member(side, Role.PARTICIPANT)
    own = team.rater(team.kam, side.users[Role.PARTICIPANT])
    managers = team.rater(team.kam, side.users[Role.MANAGER])
    peers = team.rater(team.kam, team.peers[0])

    assert access.access_rater(participant, own.pk) == own
    for rater in (managers, peers):
        with pytest.raises(Http404):
            access.access_rater(participant, rater.pk)
    assert list(access.list_my_raters(participant)) == [own]

    manager = member(side, Role.MANAGER)
    assert {r.assessee.person.reference for r in access.list_my_raters(manager)} == {
        "kam-1",
        "kam-2",
        "kam-3",
    }
    with pytest.raises(Http404):
        access.access_rater(manager, own.pk)
    hr = member(side, Role.HR)  # manages people, yet opens no one else's form
    with pytest.raises(Http404):
        access.access_rater(hr, own.pk)


# --- development plans ----------------------------------------------------------------


def test_a_plan_is_hidden_from_the_person_until_its_results_are_released(team: Team) -> None:
    participant = member(team.side, Role.PARTICIPANT)
    manager = member(team.side, Role.MANAGER)
    plan = plan_for(team, team.kam)
    colleague_plan = plan_for(team, team.colleague)
    standalone = plan_for(team, team.kam, with_cycle=False)

    assert list(access.list_visible_plans(participant)) == [standalone]
    with pytest.raises(Http404):
        access.access_plan(participant, plan.pk)
    assert set(access.list_visible_plans(manager)) == {standalone}

    release(team, team.kam, team.colleague)

    assert set(access.list_visible_plans(participant)) == {plan, standalone}
    assert access.access_plan(participant, plan.pk, action="update") == plan
    with pytest.raises(PermissionDenied):
        access.access_plan(participant, plan.pk, action="manage")
    with pytest.raises(Http404):
        access.access_plan(participant, colleague_plan.pk)
    assert set(access.list_visible_plans(manager)) == {plan, colleague_plan, standalone}
    assert access.list_visible_plans(manager).count() == 3  # no duplicates from the join


def test_a_plan_stays_hidden_when_another_persons_result_is_released(team: Team) -> None:
    participant = member(team.side, Role.PARTICIPANT)
    plan = plan_for(team, team.kam)
    release(team, team.colleague)  # someone else's result in the same cycle
    assert not access.list_visible_plans(participant).exists()
    with pytest.raises(Http404):
        access.access_plan(participant, plan.pk)


@pytest.mark.parametrize("role", MANAGERS_OF_PEOPLE)
def test_those_who_manage_people_see_and_manage_every_plan(team: Team, role: Role) -> None:
    membership = member(team.side, role)
    plan = plan_for(team, team.kam)
    assert list(access.list_visible_plans(membership)) == [plan]
    assert access.access_plan(membership, plan.pk, action="manage") == plan
