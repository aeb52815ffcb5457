"""Assessment services: people, cycles, rating forms, imports, psychometrics, quick checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kamfit.assessments import services
from kamfit.assessments.models import (
    Assessee,
    CycleStatus,
    FormStatus,
    KeyAccount,
    Person,
    PsychometricResult,
    QuickCheck,
    Rater,
    Rating,
    RatingForm,
)
from kamfit.assessments.services import (
    ImportedRating,
    PersonInput,
    PsychometricInput,
    RatingInput,
)
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.frameworks.models import Competency
from kamfit.frameworks.services import unfrozen
from kamfit.orgs.models import Membership, Role
from kamfit.profiles import services as profile_services
from tests.conftest import TEAM_KEYS as KEYS
from tests.conftest import Personas, Side, Team, published_profile

pytestmark = pytest.mark.django_db


def locations(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p.location for p in exc.value.problems]


def messages(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p.message for p in exc.value.problems]


def people_of(side: Side) -> dict[str, Person]:
    return {p.reference: p for p in Person.objects.filter(organisation=side.org)}


def raters_of(assessee: Assessee) -> set[tuple[str, str]]:
    return set(assessee.raters.values_list("source", "user__username"))


def form_levels(form: RatingForm) -> dict[str, int | None]:
    return dict(form.ratings.values_list("competency__key", "level"))


# --- people ----------------------------------------------------------------------------


def test_upsert_people_creates_with_a_manager_named_later_in_the_same_batch(
    personas: Personas,
) -> None:
    side = personas.a
    profile = published_profile(side)
    rows = [
        PersonInput(
            " kam-1 ",
            " Pat Participant ",
            email="pat@example.com",
            job_title="Global account manager",
            unit="Industrial",
            manager="mgr-1",  # defined by the next row
            background="sales",
            background_note="Ten years in field sales",
            profile=profile.profile.key,
            username=side.users[Role.PARTICIPANT].username,
            accounts=("Globex", " Initech ", "Globex", ""),
        ),
        PersonInput("mgr-1", "Morgan Manager", kind="candidate"),
    ]

    assert services.upsert_people(side.org, side.users[Role.HR], rows) == (2, 0)

    people = people_of(side)
    assert set(people) == {"kam-1", "mgr-1"}
    kam = people["kam-1"]
    assert (kam.name, kam.email, kam.job_title, kam.unit) == (
        "Pat Participant",
        "pat@example.com",
        "Global account manager",
        "Industrial",
    )
    assert (kam.background, kam.background_note, kam.kind) == (
        "sales",
        "Ten years in field sales",
        "kam",
    )
    assert kam.manager == people["mgr-1"]
    assert kam.profile == profile.profile
    assert kam.user == side.users[Role.PARTICIPANT]
    assert list(kam.accounts.values_list("name", "position")) == [("Globex", 0), ("Initech", 1)]
    assert people["mgr-1"].kind == "candidate"
    assert people["mgr-1"].manager is None
    assert people["mgr-1"].user is None


def test_upsert_people_updates_by_reference_and_keeps_accounts_when_none(
    personas: Personas,
) -> None:
    side = personas.a
    hr = side.users[Role.HR]
    services.upsert_people(
        side.org,
        hr,
        [
            PersonInput("mgr-1", "Morgan Manager"),
            PersonInput("kam-1", "Pat", manager="mgr-1", accounts=("Globex", "Initech")),
        ],
    )
    first_pk = people_of(side)["kam-1"].pk

    created_updated = services.upsert_people(
        side.org, hr, [PersonInput("kam-1", "Pat Renamed", unit="Retail")]
    )

    assert created_updated == (0, 1)
    kam = Person.objects.get(organisation=side.org, reference="kam-1")
    assert (kam.pk, kam.name, kam.unit) == (first_pk, "Pat Renamed", "Retail")
    assert kam.manager is None  # the row names no manager: the link is cleared
    assert list(kam.accounts.values_list("name", flat=True)) == ["Globex", "Initech"]

    services.upsert_people(
        side.org, hr, [PersonInput("kam-1", "Pat Renamed", accounts=("Umbrella", "Initech"))]
    )
    assert list(kam.accounts.values_list("name", "position")) == [
        ("Umbrella", 0),
        ("Initech", 1),
    ]
    services.upsert_people(side.org, hr, [PersonInput("kam-1", "Pat Renamed", accounts=())])
    assert not kam.accounts.exists()
    assert Person.objects.filter(organisation=side.org).count() == 2


def test_upsert_people_names_unknown_profile_manager_and_username(personas: Personas) -> None:
    side = personas.a
    other_member = personas.b.users[Role.PARTICIPANT].username
    rows = [PersonInput("kam-9", "Nine", profile="no-such", manager="ghost", username=other_member)]

    with pytest.raises(ValidationError) as exc:
        services.upsert_people(side.org, None, rows)

    assert locations(exc) == ["manager", "profile", "username"]
    assert messages(exc) == [
        "no person with reference 'ghost'",
        "no role profile with key 'no-such'",
        "'beta-participant' is not a member of this organisation",
    ]


def test_upsert_people_labels_problems_with_row_and_column(personas: Personas) -> None:
    side = personas.a
    rows = [
        PersonInput("kam-1", "Fine"),
        PersonInput("kam 2", "", email="nope", kind="boss", background="golf", manager="kam 2"),
        PersonInput("kam-1", "Again"),
    ]

    with pytest.raises(ValidationError) as exc:
        services.upsert_people(side.org, None, rows, where=["row 2", "row 3", "row 4"])

    assert locations(exc) == [
        "row 3, column reference",
        "row 3, column name",
        "row 3, column email",
        "row 3, column kind",
        "row 3, column background",
        "row 3, column manager",
        "row 4, column reference",
    ]
    assert exc.value.problems[-1].message == "'kam-1' also appears in row 2"
    assert not Person.objects.filter(organisation=side.org).exists()


def test_upsert_people_is_all_or_nothing(team: Team) -> None:
    side = team.side
    before = list(Person.objects.filter(organisation=side.org).values_list("reference", "name"))
    rows = [
        PersonInput("kam-1", "Renamed"),  # fine on its own
        PersonInput("new-1", "New person"),  # fine on its own
        PersonInput("new-2", "Bad", profile="no-such"),
    ]

    with pytest.raises(ValidationError) as exc:
        services.upsert_people(side.org, None, rows, where=["row 2", "row 3", "row 4"])

    assert locations(exc) == ["row 4, column profile"]
    after = list(Person.objects.filter(organisation=side.org).values_list("reference", "name"))
    assert after == before


def test_upsert_people_refuses_a_manager_loop(team: Team) -> None:
    side = team.side
    # mgr-1 manages kam-1 already; making kam-1 manage mgr-1 closes a loop.
    with pytest.raises(ValidationError) as exc:
        services.upsert_people(
            side.org, None, [PersonInput("mgr-1", "Morgan Manager", manager="kam-1")]
        )
    assert locations(exc) == ["manager"]
    assert exc.value.problems[0].message.startswith("managers form a loop through ")

    with pytest.raises(ValidationError) as exc:
        services.upsert_people(
            side.org,
            None,
            [PersonInput("x-1", "X", manager="x-2"), PersonInput("x-2", "Y", manager="x-1")],
        )
    assert locations(exc) == ["manager"]

    with pytest.raises(ValidationError) as exc:
        services.upsert_people(side.org, None, [PersonInput("x-1", "X", manager="x-1")])
    assert messages(exc) == ["a person cannot be their own manager"]
    team.people["mgr-1"].refresh_from_db()
    assert team.people["mgr-1"].manager_id is None
    assert not Person.objects.filter(organisation=side.org, reference__startswith="x-").exists()


def test_upsert_people_refuses_a_member_already_linked_to_another_person(team: Team) -> None:
    side = team.side
    participant = side.users[Role.PARTICIPANT].username  # linked to kam-1

    with pytest.raises(ValidationError) as exc:
        services.upsert_people(
            side.org, None, [PersonInput("kam-9", "Nine", username=participant)], where=["row 2"]
        )

    assert locations(exc) == ["row 2, column username"]
    assert messages(exc) == [f"{participant!r} is already linked to another person"]
    # The person it is linked to keeps it on re-import.
    assert services.upsert_people(
        side.org, None, [PersonInput("kam-1", "Pat Participant", username=participant)]
    ) == (0, 1)


def test_upsert_people_refuses_one_member_linked_twice_in_the_same_batch(
    personas: Personas,
) -> None:
    side = personas.a
    consultant = side.users[Role.CONSULTANT].username
    rows = [
        PersonInput("kam-1", "One", username=consultant),
        PersonInput("kam-2", "Two", username=consultant),
    ]

    with pytest.raises(ValidationError) as exc:
        services.upsert_people(side.org, None, rows, where=["row 2", "row 3"])

    assert locations(exc) == ["row 3, column username"]
    assert "also linked in row 2" in exc.value.problems[0].message
    assert not Person.objects.filter(organisation=side.org).exists()


def test_upsert_people_does_not_read_another_organisations_people_or_profiles(
    team: Team, personas: Personas
) -> None:
    beta = personas.b
    key = team.profile.profile.key  # Alpha's profile
    with pytest.raises(ValidationError) as exc:
        services.upsert_people(
            beta.org, None, [PersonInput("kam-9", "Nine", manager="mgr-1", profile=key)]
        )
    assert locations(exc) == ["manager", "profile"]
    # The same reference is a different person in each organisation.
    assert services.upsert_people(beta.org, None, [PersonInput("kam-1", "Beta's Pat")]) == (1, 0)
    assert Person.objects.get(organisation=team.side.org, reference="kam-1").name == (
        "Pat Participant"
    )


def test_upsert_people_reads_existing_people_in_a_fixed_number_of_queries(
    personas: Personas,
) -> None:
    side = personas.a

    def existing(n: int) -> None:
        rows = [PersonInput("boss", "Boss")]
        rows += [PersonInput(f"p-{i}", f"Person {i}", manager="boss") for i in range(n)]
        services.upsert_people(side.org, None, rows)

    def queries(reference: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            services.upsert_people(side.org, None, [PersonInput(reference, "New", manager="boss")])
        return len(captured)

    existing(3)
    few = queries("new-1")
    existing(25)
    assert queries("new-2") == few


# --- cycles ----------------------------------------------------------------------------


def test_create_cycle_refuses_a_draft_or_foreign_profile_version(personas: Personas) -> None:
    side = personas.a
    draft = profile_services.create_profile(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        framework_version=side.published,
        title="Draft role",
        element_keys=["risk"],
    )
    with pytest.raises(ValidationError) as exc:
        services.create_cycle(side.org, None, title="Q1", profile_version=draft)
    assert locations(exc) == ["profile_version"]
    assert "published" in messages(exc)[0]

    foreign = published_profile(personas.b)
    with pytest.raises(ValidationError) as exc:
        services.create_cycle(side.org, None, title="Q1", profile_version=foreign)
    assert messages(exc) == ["no such role profile version"]

    mine = published_profile(side)
    with pytest.raises(ValidationError) as exc:
        services.create_cycle(side.org, None, title="  ", profile_version=mine)
    assert locations(exc) == ["title"]
    cycle = services.create_cycle(side.org, None, title=" Q1 ", profile_version=mine)
    assert (cycle.title, cycle.status, cycle.organisation) == ("Q1", CycleStatus.DRAFT, side.org)


def test_add_people_adds_self_and_manager_raters(team: Team) -> None:
    users = team.side.users
    participant, manager = users[Role.PARTICIPANT].username, users[Role.MANAGER].username
    peers = {("peer", u.username) for u in team.peers}

    assert raters_of(team.assessee(team.kam)) == {
        ("self", participant),
        ("manager", manager),
        *peers,
    }
    assert raters_of(team.assessee(team.colleague)) == {
        ("manager", manager),
        ("other", users[Role.ASSESSOR].username),
    }
    assert raters_of(team.assessee(team.people["kam-3"])) == {("manager", manager)}
    assert raters_of(team.assessee(team.people["kam-4"])) == set()  # no account, no manager
    assert not Assessee.objects.filter(cycle=team.cycle, person=team.people["mgr-1"]).exists()


def test_add_people_makes_raters_of_members_only_and_skips_those_already_in(
    team: Team,
) -> None:
    side = team.side
    Membership.objects.filter(user=side.users[Role.MANAGER], organisation=side.org).delete()
    cycle = services.create_cycle(side.org, None, title="Autumn", profile_version=team.profile)

    added = services.add_people(cycle, None, [team.kam, team.people["kam-3"]])
    again = services.add_people(cycle, None, [team.kam])

    assert sorted(a.person.reference for a in added) == ["kam-1", "kam-3"]
    assert again == []
    assert Assessee.objects.filter(cycle=cycle).count() == 2
    assert raters_of(cycle.assessees.get(person=team.kam)) == {
        ("self", side.users[Role.PARTICIPANT].username)
    }
    assert raters_of(cycle.assessees.get(person=team.people["kam-3"])) == set()


def test_add_people_takes_a_person_named_twice_once(team: Team) -> None:
    cycle = services.create_cycle(team.side.org, None, title="Autumn", profile_version=team.profile)
    added = services.add_people(cycle, None, [team.kam, team.kam])
    assert [a.person for a in added] == [team.kam]
    assert cycle.assessees.count() == 1
    assert cycle.assessees.get().raters.count() == 2  # self and manager, once each


def test_add_people_refuses_another_organisations_person(team: Team, personas: Personas) -> None:
    services.upsert_people(personas.b.org, None, [PersonInput("b-1", "Beta person")])
    stranger = Person.objects.get(organisation=personas.b.org)
    cycle = services.create_cycle(team.side.org, None, title="Autumn", profile_version=team.profile)
    with pytest.raises(ValidationError) as exc:
        services.add_people(cycle, None, [team.kam, stranger])
    assert messages(exc) == ["no such person"]
    assert not cycle.assessees.exists()


def test_a_cycle_opens_only_with_people_and_once(team: Team) -> None:
    empty = services.create_cycle(team.side.org, None, title="Empty", profile_version=team.profile)
    with pytest.raises(ValidationError) as exc:
        services.open_cycle(empty)
    assert locations(exc) == ["people"]
    empty.refresh_from_db()
    assert (empty.status, empty.opened_at) == (CycleStatus.DRAFT, None)

    team.cycle.refresh_from_db()
    assert team.cycle.status == CycleStatus.OPEN
    assert team.cycle.opened_at is not None
    with pytest.raises(NotPermitted):
        services.open_cycle(team.cycle)


def test_a_closed_cycle_refuses_every_change(team: Team) -> None:
    side, cycle = team.side, team.cycle
    team.submit(team.kam, side.users[Role.MANAGER], 3)
    self_rater = team.rater(team.kam, side.users[Role.PARTICIPANT])
    services.draft_form(self_rater, None)  # an unsubmitted draft, left behind
    # Each attempt reads the cycle afresh, as a request would.
    other = team.rater(team.colleague, side.users[Role.ASSESSOR])
    services.close_cycle(cycle)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.CLOSED
    assert cycle.closed_at is not None
    title = cycle.title

    attempts: list[Callable[[], object]] = [
        lambda: services.close_cycle(cycle),
        lambda: services.open_cycle(cycle),
        lambda: services.update_cycle(cycle, title="Renamed"),
        lambda: services.add_people(cycle, None, [team.people["mgr-1"]]),
        lambda: services.add_rater(
            team.assessee(team.people["kam-4"]),
            None,
            username=side.users[Role.CONSULTANT].username,
            source="other",
        ),
        lambda: services.remove_rater(other),
        lambda: services.remove_assessee(team.assessee(team.people["kam-4"])),
        lambda: services.amend_form(
            team.rater(team.kam, side.users[Role.MANAGER]), None, reason="Typo"
        ),
        lambda: services.save_form(
            services.draft_form(team.rater(team.kam, side.users[Role.PARTICIPANT]), None),
            None,
            team.answers(2),
            submit=True,
        ),
        lambda: services.draft_form(team.rater(team.kam, team.peers[0]), None),
        lambda: services.import_ratings(cycle, None, []),
    ]
    for n, attempt in enumerate(attempts):
        with pytest.raises(NotPermitted):
            attempt()
            pytest.fail(f"attempt {n} was allowed")

    cycle.refresh_from_db()
    assert (cycle.title, cycle.status) == (title, CycleStatus.CLOSED)
    assert cycle.assessees.count() == 4
    assert Rater.objects.filter(pk=other.pk).exists()
    assert RatingForm.objects.filter(rater__assessee__cycle=cycle).count() == 2


def test_update_cycle_changes_title_due_date_and_note(team: Team) -> None:
    due = dt.date(2031, 5, 1)
    cycle = services.update_cycle(team.cycle, title=" Summer ", due_on=due, note=" Bring data ")
    cycle.refresh_from_db()
    assert (cycle.title, cycle.due_on, cycle.note) == ("Summer", due, "Bring data")
    with pytest.raises(ValidationError) as exc:
        services.update_cycle(team.cycle, title="x" * 201)
    assert locations(exc) == ["title"]


def test_release_results_only_after_opening_and_counts_new_releases(team: Team) -> None:
    side = team.side
    hr = side.users[Role.HR]
    draft = services.create_cycle(side.org, hr, title="Later", profile_version=team.profile)
    services.add_people(draft, hr, [team.kam])
    with pytest.raises(NotPermitted):
        services.release_results(draft, hr, list(draft.assessees.all()))
    assert not draft.assessees.filter(released_at__isnull=False).exists()

    kam, colleague = team.assessee(team.kam), team.assessee(team.colleague)
    foreign = draft.assessees.get()  # of another cycle: ignored
    assert services.release_results(team.cycle, hr, [kam, foreign]) == 1
    assert services.release_results(team.cycle, hr, [kam, colleague]) == 1
    assert services.release_results(team.cycle, hr, [kam, colleague]) == 0
    kam.refresh_from_db()
    foreign.refresh_from_db()
    assert kam.is_released
    assert kam.released_by == hr
    assert not foreign.is_released
    assert set(team.cycle.assessees.filter(released_at__isnull=False)) == {kam, colleague}

    services.close_cycle(team.cycle)
    assert services.release_results(team.cycle, hr, list(team.cycle.assessees.all())) == 2


def test_add_rater_checks_member_source_and_duplicates(team: Team, personas: Personas) -> None:
    side = team.side
    assessee = team.assessee(team.people["kam-4"])
    consultant = side.users[Role.CONSULTANT].username

    def refused(username: str, source: str) -> tuple[list[str], list[str]]:
        with pytest.raises(ValidationError) as exc:
            services.add_rater(assessee, None, username=username, source=source)
        return locations(exc), messages(exc)

    assert refused(consultant, "boss")[0] == ["source"]
    assert refused(personas.b.users[Role.HR].username, "peer") == (
        ["username"],
        ["'beta-hr' is not a member of this organisation"],
    )
    assert refused(consultant, "self") == (
        ["source"],
        ["only the person themself rates as self"],
    )
    kam = team.assessee(team.kam)
    with pytest.raises(ValidationError) as exc:
        services.add_rater(kam, None, username=side.users[Role.PARTICIPANT].username, source="peer")
    assert messages(exc) == ["the person's own account rates as self"]

    rater = services.add_rater(assessee, side.users[Role.HR], username=consultant, source="peer")
    assert (rater.source, rater.user.username, rater.invited_by) == (
        "peer",
        consultant,
        side.users[Role.HR],
    )
    assert refused(consultant, "other") == (
        ["username"],
        [f"{consultant} already rates this person"],
    )


def test_remove_rater_and_assessee_only_without_submitted_forms(team: Team) -> None:
    side = team.side
    manager = side.users[Role.MANAGER]
    peer = team.rater(team.kam, team.peers[0])
    services.save_form(services.draft_form(peer, None), None, team.answers(3))  # a draft
    services.remove_rater(peer)
    assert not Rater.objects.filter(pk=peer.pk).exists()

    team.submit(team.kam, manager, 3)
    with pytest.raises(NotPermitted):
        services.remove_rater(team.rater(team.kam, manager))
    with pytest.raises(NotPermitted):
        services.remove_assessee(team.assessee(team.kam))
    assert team.rater(team.kam, manager).forms.count() == 1

    colleague = team.assessee(team.colleague)
    services.draft_form(team.rater(team.colleague, manager), None)
    services.remove_assessee(colleague)
    assert not Assessee.objects.filter(pk=colleague.pk).exists()
    assert not Rater.objects.filter(assessee_id=colleague.pk).exists()


# --- rating forms ----------------------------------------------------------------------


def test_a_form_goes_from_draft_to_saved_to_submitted(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    rater = team.rater(team.kam, manager)

    form = services.draft_form(rater, manager)
    assert (form.number, form.status, form.created_by) == (1, FormStatus.DRAFT, manager)
    assert services.draft_form(rater, manager) == form  # the same draft, not a new one

    partial = {
        "negotiation": RatingInput(4, " Closed the Globex renewal "),
        "listening": RatingInput(None, "Could not observe"),
        "trustworthy": RatingInput(2),  # no evidence yet: fine for a draft
        "networking": RatingInput(None, "  "),  # nothing at all: not stored
    }
    services.save_form(form, manager, partial)
    form.refresh_from_db()
    assert form.status == FormStatus.DRAFT
    assert form_levels(form) == {"negotiation": 4, "listening": None, "trustworthy": 2}
    assert form.ratings.get(competency__key="negotiation").evidence == "Closed the Globex renewal"

    services.save_form(form, manager, team.answers(3), submit=True)
    form.refresh_from_db()
    assert form.status == FormStatus.SUBMITTED
    assert form.submitted_by == manager
    assert form.submitted_at is not None
    assert form_levels(form) == dict.fromkeys(KEYS, 3)  # the whole form is replaced


def test_submit_needs_evidence_for_every_rating(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    form = services.draft_form(team.rater(team.kam, manager), manager)
    answers = team.answers(3)
    answers["negotiation"] = RatingInput(4, "   ")
    answers["listening"] = RatingInput(2)

    with pytest.raises(ValidationError) as exc:
        services.save_form(form, manager, answers, submit=True)

    assert locations(exc) == ["negotiation.evidence", "listening.evidence"]
    form.refresh_from_db()
    assert form.status == FormStatus.DRAFT
    assert not form.ratings.exists()

    with pytest.raises(ValidationError) as exc:
        services.save_form(form, manager, {"negotiation": RatingInput(None, "x")}, submit=True)
    assert locations(exc) == ["ratings"]


def test_save_form_refuses_levels_off_the_scale_and_unknown_keys(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    form = services.draft_form(team.rater(team.kam, manager), manager)
    answers = {
        "negotiation": RatingInput(6, "Too high"),
        "listening": RatingInput(0, "Too low"),
        "knowledge": RatingInput(3, "A competency of the framework, not of this profile"),
        "no-such": RatingInput(3, "x"),
        "trustworthy": RatingInput(5, "x" * 4001),
    }

    with pytest.raises(ValidationError) as exc:
        services.save_form(form, manager, answers)

    assert sorted(locations(exc)) == [
        "knowledge",
        "listening.level",
        "negotiation.level",
        "no-such",
        "trustworthy.evidence",
    ]
    assert "must be a level from 1 to 5" in messages(exc)
    assert not form.ratings.exists()


def test_a_submitted_form_refuses_saving_and_a_second_draft(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    form = team.submit(team.kam, manager, 3)
    with pytest.raises(NotPermitted):
        services.save_form(form, manager, team.answers(1))
    with pytest.raises(NotPermitted):
        services.save_form(form, manager, team.answers(1), submit=True)
    with pytest.raises(NotPermitted):
        services.draft_form(form.rater, manager)
    assert form_levels(form) == dict.fromkeys(KEYS, 3)


def test_a_stale_copy_of_a_form_submitted_meanwhile_is_refused(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    form = services.draft_form(team.rater(team.kam, manager), manager)
    stale = RatingForm.objects.get(pk=form.pk)  # a second tab, opened before the submit
    services.save_form(form, manager, team.answers(3), submit=True)

    for submit in (False, True):
        with pytest.raises(NotPermitted):
            services.save_form(stale, manager, team.answers(1), submit=submit)

    form.refresh_from_db()
    assert form.status == FormStatus.SUBMITTED
    assert form_levels(form) == dict.fromkeys(KEYS, 3)


def test_no_form_before_the_cycle_opens(team: Team) -> None:
    side = team.side
    cycle = services.create_cycle(side.org, None, title="Later", profile_version=team.profile)
    services.add_people(cycle, None, [team.kam])
    rater = cycle.assessees.get().raters.get(source="manager")
    with pytest.raises(NotPermitted):
        services.draft_form(rater, None)
    assert not rater.forms.exists()


def test_amend_needs_a_reason_and_creates_the_next_version(team: Team) -> None:
    manager = team.side.users[Role.MANAGER]
    hr = team.side.users[Role.HR]
    rater = team.rater(team.kam, manager)
    with pytest.raises(NotPermitted):
        services.amend_form(rater, hr, reason="Nothing submitted yet")
    first = team.submit(team.kam, manager, 3)

    with pytest.raises(ValidationError) as exc:
        services.amend_form(rater, hr, reason="   ")
    assert locations(exc) == ["reason"]
    with pytest.raises(ValidationError) as exc:
        services.amend_form(rater, hr, reason="x" * 501)
    assert locations(exc) == ["reason"]

    second = services.amend_form(rater, hr, reason=" Wrong person rated ")
    assert (second.number, second.status, second.reason, second.created_by) == (
        2,
        FormStatus.DRAFT,
        "Wrong person rated",
        hr,
    )
    assert form_levels(second) == dict.fromkeys(KEYS, 3)
    assert list(second.ratings.values_list("evidence", flat=True)) == list(
        first.ratings.values_list("evidence", flat=True)
    )
    with pytest.raises(NotPermitted):
        services.amend_form(rater, hr, reason="Again")  # a draft is open already
    assert services.draft_form(rater, manager) == second

    answers = team.answers(3) | {"negotiation": RatingInput(5, "Won the tender")}
    services.save_form(second, manager, answers, submit=True)
    first.refresh_from_db()
    assert first.status == FormStatus.SUBMITTED
    assert form_levels(first) == dict.fromkeys(KEYS, 3)
    assert form_levels(second)["negotiation"] == 5
    assert list(rater.forms.values_list("number", "status")) == [
        (1, "submitted"),
        (2, "submitted"),
    ]


def raw(sql: str, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])


def test_the_database_refuses_changes_to_a_submitted_form(team: Team) -> None:
    form = team.submit(team.kam, team.side.users[Role.MANAGER], 3)
    outsider = Competency.objects.get(version=team.side.published, key="knowledge")
    form.reason = "changed"

    attempts: list[Callable[[], object]] = [
        lambda: RatingForm.objects.filter(pk=form.pk).update(reason="changed"),
        lambda: RatingForm.objects.filter(pk=form.pk).update(status=FormStatus.DRAFT),
        lambda: RatingForm.objects.filter(pk=form.pk).delete(),
        lambda: form.save(),
        lambda: Rating.objects.filter(form=form).update(level=1),
        lambda: Rating.objects.filter(form=form, competency__key="negotiation").delete(),
        lambda: Rating.objects.create(form=form, competency=outsider, level=1, evidence="x"),
        lambda: raw("UPDATE assessments_ratingform SET reason = 'raw' WHERE id = %s", form.pk),
        lambda: raw("DELETE FROM assessments_ratingform WHERE id = %s", form.pk),
        lambda: raw("UPDATE assessments_rating SET level = 5 WHERE form_id = %s", form.pk),
        lambda: raw("DELETE FROM assessments_rating WHERE form_id = %s", form.pk),
    ]
    for n, attempt in enumerate(attempts):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            attempt()
            pytest.fail(f"attempt {n} was allowed")

    form.refresh_from_db()
    assert (form.status, form.reason) == (FormStatus.SUBMITTED, "")
    assert form_levels(form) == dict.fromkeys(KEYS, 3)


def test_unfrozen_lets_erasure_change_a_submitted_form(team: Team) -> None:
    form = team.submit(team.kam, team.side.users[Role.MANAGER], 3)
    with unfrozen("test: erasure"):
        assert Rating.objects.filter(form=form).update(level=1) == len(KEYS)
        RatingForm.objects.filter(pk=form.pk).update(reason="erased")
    form.refresh_from_db()
    assert form.reason == "erased"
    assert form_levels(form) == dict.fromkeys(KEYS, 1)
    with unfrozen("test: erasure"):
        RatingForm.objects.filter(pk=form.pk).delete()
    assert not RatingForm.objects.filter(pk=form.pk).exists()
    assert not Rating.objects.filter(form_id=form.pk).exists()
    # Outside the block the triggers are back.
    other = team.submit(team.kam, team.peers[0], 2)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        RatingForm.objects.filter(pk=other.pk).delete()


# --- importing ratings -----------------------------------------------------------------


def imported(
    person: str, rater: str, source: str, levels: dict[str, int | None]
) -> list[ImportedRating]:
    return [
        ImportedRating(person, rater, source, key, level, f"Seen: {key}" if level else "")
        for key, level in levels.items()
    ]


def test_import_ratings_groups_rows_into_submitted_forms(team: Team) -> None:
    side = team.side
    hr = side.users[Role.HR]
    manager = side.users[Role.MANAGER].username
    consultant = side.users[Role.CONSULTANT].username
    rows = [
        *imported("kam-1", manager, "manager", {"negotiation": 4, "listening": 2}),
        *imported("kam-2", manager, "manager", {"negotiation": 3}),
        *imported("kam-1", consultant, "other", {"trustworthy": 5, "networking": None}),
        *imported("kam-1", manager, "manager", {"analytical": 1}),
    ]

    assert services.import_ratings(team.cycle, hr, rows) == 3

    kam_manager = team.rater(team.kam, side.users[Role.MANAGER]).forms.get()
    assert (kam_manager.number, kam_manager.status, kam_manager.reason) == (1, "submitted", "")
    assert (kam_manager.submitted_by, kam_manager.created_by) == (hr, hr)
    assert form_levels(kam_manager) == {"negotiation": 4, "listening": 2, "analytical": 1}
    colleague = team.rater(team.colleague, side.users[Role.MANAGER]).forms.get()
    assert form_levels(colleague) == {"negotiation": 3}
    new_rater = team.rater(team.kam, side.users[Role.CONSULTANT])  # created by the import
    assert (new_rater.source, new_rater.invited_by) == ("other", hr)
    assert form_levels(new_rater.forms.get()) == {"trustworthy": 5, "networking": None}


def test_import_ratings_amends_a_submitted_form_with_the_reason(team: Team) -> None:
    side = team.side
    manager = side.users[Role.MANAGER]
    team.submit(team.kam, manager, 3)
    peer_draft = services.draft_form(team.rater(team.kam, team.peers[0]), None)
    rows = [
        *imported("kam-1", manager.username, "manager", {"negotiation": 5}),
        *imported("kam-1", team.peers[0].username, "peer", {"negotiation": 2}),
    ]

    written = services.import_ratings(team.cycle, None, rows, reason="Paper forms of May")

    assert written == 2
    forms = team.rater(team.kam, manager).forms.order_by("number")
    assert list(forms.values_list("number", "status", "reason")) == [
        (1, "submitted", ""),
        (2, "submitted", "Paper forms of May"),
    ]
    assert form_levels(forms[0]) == dict.fromkeys(KEYS, 3)  # version 1 unchanged
    # The amendment corrects the imported requirement and keeps the rater's others.
    assert form_levels(forms[1]) == dict.fromkeys(KEYS, 3) | {"negotiation": 5}
    assert forms[1].ratings.get(competency__key="negotiation").evidence == "Seen: negotiation"
    assert forms[1].ratings.get(competency__key="listening").evidence == (
        "Evidence for listening at 3"
    )
    # An unsubmitted draft gives way to the imported ratings.
    assert not RatingForm.objects.filter(pk=peer_draft.pk).exists()
    peer_forms = team.rater(team.kam, team.peers[0]).forms.all()
    assert list(peer_forms.values_list("number", "status", "reason")) == [(1, "submitted", "")]


def test_import_ratings_refuses_bad_rows_by_row_and_column(team: Team) -> None:
    side = team.side
    manager = side.users[Role.MANAGER].username
    rows = [
        ImportedRating("kam-1", manager, "manager", "negotiation", 3, "Fine"),
        ImportedRating("mgr-1", manager, "manager", "negotiation", 3, "Not assessed"),
        ImportedRating("kam-1", "beta-hr", "peer", "negotiation", 3, "Not a member"),
        ImportedRating("kam-1", manager, "boss", "knowledge", 6, ""),
        ImportedRating("kam-1", manager, "manager", "negotiation", 4, "Twice"),
        ImportedRating("kam-2", manager, "peer", "negotiation", 2, "Rates as manager"),
    ]

    with pytest.raises(ValidationError) as exc:
        services.import_ratings(
            team.cycle, None, rows, where=[f"row {n}" for n in range(2, 2 + len(rows))]
        )

    assert locations(exc) == [
        "row 3, column person",
        "row 4, column rater",
        "row 5, column source",
        "row 5, column competency",
        "row 5, column level",
        "row 5, column evidence",
        "row 6, column competency",
        "row 7, column source",
    ]
    assert exc.value.problems[-1].message == "alpha-manager rates this person as manager"
    assert not RatingForm.objects.filter(rater__assessee__cycle=team.cycle).exists()


def test_import_ratings_takes_self_ratings_only_from_the_persons_account(team: Team) -> None:
    side = team.side
    participant = side.users[Role.PARTICIPANT].username
    consultant = side.users[Role.CONSULTANT].username
    raters_before = Rater.objects.filter(assessee__cycle=team.cycle).count()
    for rows in (
        imported("kam-2", consultant, "self", {"negotiation": 3}),  # not kam-2's account
        imported("kam-4", participant, "self", {"negotiation": 3}),  # someone else's self
        imported("kam-1", consultant, "self", {"negotiation": 3}),  # not kam-1's account
    ):
        with pytest.raises(ValidationError) as exc:
            services.import_ratings(team.cycle, None, rows, where=["row 2"])
        assert locations(exc) == ["row 2, column source"]
        assert messages(exc) == ["self ratings come from the person's own account only"]

    assert (
        services.import_ratings(
            team.cycle, None, imported("kam-1", participant, "self", {"negotiation": 3})
        )
        == 1
    )
    assert Rater.objects.filter(assessee__cycle=team.cycle).count() == raters_before


def test_import_ratings_refuses_two_sources_for_one_new_rater(team: Team) -> None:
    consultant = team.side.users[Role.CONSULTANT].username
    rows = [
        *imported("kam-4", consultant, "peer", {"negotiation": 3}),
        *imported("kam-4", consultant, "other", {"listening": 3}),
    ]
    with pytest.raises(ValidationError) as exc:
        services.import_ratings(team.cycle, None, rows, where=["row 2", "row 3"])
    assert locations(exc) == ["row 3, column source"]
    assert not Rater.objects.filter(assessee__person=team.people["kam-4"]).exists()


def test_import_ratings_needs_an_open_cycle(team: Team) -> None:
    cycle = services.create_cycle(team.side.org, None, title="Later", profile_version=team.profile)
    services.add_people(cycle, None, [team.kam])
    rows = imported("kam-1", team.side.users[Role.MANAGER].username, "manager", {"negotiation": 3})
    with pytest.raises(NotPermitted):
        services.import_ratings(cycle, None, rows)
    assert not RatingForm.objects.filter(rater__assessee__cycle=cycle).exists()


# --- psychometrics and the quick check ------------------------------------------------------


def psychometric(
    attribute: str,
    scale: str,
    value: float,
    *,
    person: str = "kam-1",
    assessed_on: dt.date | None = None,
) -> PsychometricInput:
    on = assessed_on or dt.date(2020, 1, 1)
    return PsychometricInput(person, attribute, "Talent Q", scale, value, on)


def test_save_psychometrics_stores_every_scale_also_as_a_sten(team: Team) -> None:
    hr = team.side.users[Role.HR]
    rows = [
        psychometric("trustworthy", "sten", 7),
        psychometric("trustworthy", "percentile", 50),
        psychometric("trustworthy", "percentile", 84.134474607),  # z = 1
        psychometric("networking", "stanine", 7),  # z = (7 - 5) / 2 = 1
        psychometric("networking", "stanine", 1),  # z = -2: sten 1.5
        psychometric("listening", "level", 3),  # the middle of 1-5
        psychometric("listening", "level", 5),
        psychometric("listening", "level", 1),
    ]

    assert services.save_psychometrics(team.side.org, hr, rows) == 8

    stored = PsychometricResult.objects.order_by("id")
    assert [(r.attribute_key, r.scale, r.value, r.sten) for r in stored] == [
        ("trustworthy", "sten", 7.0, 7.0),
        ("trustworthy", "percentile", 50.0, 5.5),
        ("trustworthy", "percentile", 84.134474607, 7.5),
        ("networking", "stanine", 7.0, 7.5),
        ("networking", "stanine", 1.0, 1.5),
        ("listening", "level", 3.0, 5.5),
        ("listening", "level", 5.0, 10.0),
        ("listening", "level", 1.0, 1.0),
    ]
    first = stored[0]
    assert (first.person, first.organisation, first.provider, first.imported_by) == (
        team.kam,
        team.side.org,
        "Talent Q",
        hr,
    )
    assert first.assessed_on == dt.date(2020, 1, 1)


def test_save_psychometrics_refuses_values_off_their_scale(team: Team) -> None:
    rows = [
        psychometric("trustworthy", "sten", 11),
        psychometric("trustworthy", "sten", 0.5),
        psychometric("trustworthy", "percentile", 100),
        psychometric("trustworthy", "percentile", 0),
        psychometric("trustworthy", "stanine", 10),
        psychometric("trustworthy", "level", 6),
        psychometric("trustworthy", "sten", float("nan")),
    ]
    with pytest.raises(ValidationError) as exc:
        services.save_psychometrics(
            team.side.org, None, rows, where=[f"row {n}" for n in range(2, 9)]
        )
    assert locations(exc) == [f"row {n}, column value" for n in range(2, 9)]
    assert messages(exc)[0] == "a sten must be from 1 to 10"
    assert messages(exc)[2] == "a percentile must be above 0 and below 100"
    assert not PsychometricResult.objects.exists()


def test_save_psychometrics_refuses_non_attributes_unknown_people_and_future_dates(
    team: Team,
) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    rows = [
        psychometric("negotiation", "sten", 5),  # kind C: a competency, not an attribute
        psychometric("no-such", "sten", 5),
        psychometric("trustworthy", "sten", 5, person="nobody"),
        psychometric("trustworthy", "sten", 5, assessed_on=tomorrow),
        psychometric("trustworthy", "grade", 5),
        PsychometricInput("kam-1", "trustworthy", " ", "sten", 5, dt.date(2020, 1, 1)),
    ]

    with pytest.raises(ValidationError) as exc:
        services.save_psychometrics(team.side.org, None, rows)

    assert locations(exc) == [
        "result 1, column attribute",
        "result 2, column attribute",
        "result 3, column person",
        "result 4, column assessed_on",
        "result 5, column scale",
        "result 6, column provider",
    ]
    assert messages(exc)[0] == (
        "'negotiation' is not an attribute (A or C/A) of the frameworks in use"
    )
    assert not PsychometricResult.objects.exists()


def test_save_psychometrics_knows_only_the_frameworks_an_organisation_uses(
    team: Team, personas: Personas
) -> None:
    services.upsert_people(personas.b.org, None, [PersonInput("kam-1", "Beta's Pat")])
    row = psychometric("trustworthy", "sten", 5)
    with pytest.raises(ValidationError) as exc:
        services.save_psychometrics(personas.b.org, None, [row], where=["row 2"])
    assert locations(exc) == ["row 2, column attribute"]  # Beta has no role profile yet
    assert services.save_psychometrics(team.side.org, None, [row]) == 1
    stored = PsychometricResult.objects.get()
    assert stored.organisation == team.side.org
    assert stored.person == team.kam


def test_record_quick_check_counts_yes_and_answered(team: Team) -> None:
    hr = team.side.users[Role.HR]
    answers: dict[str, bool | None] = {
        "top-decision-makers": True,
        "knows-the-competition": False,
        "realistic-goals": None,
    }
    check = services.record_quick_check(team.kam, hr, answers, note=" First look ")
    check.refresh_from_db()
    assert (check.yes_count, check.answered_count, check.note) == (1, 2, "First look")
    assert (check.organisation, check.person, check.answered_by) == (team.side.org, team.kam, hr)
    assert len(check.answers) == 9
    assert check.answers["top-decision-makers"] is True
    assert check.answers["realistic-goals"] is None

    with pytest.raises(ValidationError) as exc:
        services.record_quick_check(team.kam, hr, {"realistic-goals": None})
    assert locations(exc) == ["answers"]
    with pytest.raises(ValidationError) as exc:
        services.record_quick_check(team.kam, hr, {"no-such": True})
    assert locations(exc) == ["answers.no-such"]
    assert QuickCheck.objects.count() == 1


def test_key_accounts_belong_to_the_persons_organisation(team: Team) -> None:
    assert set(KeyAccount.objects.values_list("organisation_id", flat=True)) == {team.side.org.pk}


def test_a_draft_rating_cannot_be_moved_onto_a_submitted_form(team: Team) -> None:
    submitted = team.submit(team.kam, team.side.users[Role.MANAGER], 3)
    peer = team.peers[0]
    draft = services.draft_form(team.rater(team.kam, peer), peer)
    services.save_form(draft, peer, team.answers(2))
    moved = draft.ratings.first()
    assert moved is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        Rating.objects.filter(pk=moved.pk).update(form=submitted)
    assert Rating.objects.get(pk=moved.pk).form_id == draft.pk
