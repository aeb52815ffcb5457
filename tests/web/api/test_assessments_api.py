"""The assessment API: people, cycles, raters, rating forms, results, release and plans."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kamfit.assessments import services
from kamfit.assessments.models import (
    Assessee,
    Cycle,
    CycleStatus,
    FormStatus,
    KeyAccount,
    Person,
    PsychometricResult,
    QuickCheck,
    Rater,
    RatingForm,
)
from kamfit.assessments.services import PersonInput
from kamfit.development import services as plans
from kamfit.development.models import Action, Plan
from kamfit.orgs.models import Role
from kamfit.profiles import services as profile_services
from tests.conftest import ROLES, Personas, Side, Team, published_profile
from tests.conftest import TEAM_KEYS as KEYS

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse
    from pytest_django import DjangoAssertNumQueries

pytestmark = pytest.mark.django_db

API = "/api/v1"
JSON = "application/json"
WARWICK = ("Woodburn", "2006", "Warwick Business School")
SECRET = "canary-peer-evidence-7f3a"


def org_url(side: Side, suffix: str) -> str:
    return f"{API}/organisations/{side.org.slug}/{suffix}"


def cycle_url(side: Side, cycle: Cycle, suffix: str = "") -> str:
    return org_url(side, f"cycles/{cycle.pk}/{suffix}")


def send(client: Client, method: str, url: str, body: object = None) -> TestResponse:
    call = getattr(client, method)
    if method in {"get", "delete"}:
        return call(url)  # type: ignore[no-any-return]
    return call(url, json.dumps(body if body is not None else {}), content_type=JSON)  # type: ignore[no-any-return]


def problems(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 400, response.content
    return {p["location"]: p["message"] for p in response.json()["problems"]}


def credited(response: TestResponse) -> bool:
    return all(part in response.json()["source"] for part in WARWICK)


def answers(level: int, evidence: str = "Led the Q3 account review") -> dict[str, Any]:
    return {key: {"level": level, "evidence": evidence} for key in KEYS}


def rate_kam(team: Team, *, self_level: int = 4, manager: int = 3, peers: int = 1) -> None:
    """Every rater of ``kam`` submits: self, manager and the three peers."""
    a = team.side
    team.submit(team.kam, a.users[Role.PARTICIPANT], self_level)
    team.submit(team.kam, a.users[Role.MANAGER], manager)
    for user in team.peers:
        rater = team.rater(team.kam, user)
        form = services.draft_form(rater, user)
        ratings = {k: services.RatingInput(peers, SECRET) for k in KEYS}
        services.save_form(form, user, ratings, submit=True)


def release(team: Team, *people: Person) -> None:
    services.release_results(
        team.cycle, team.side.users[Role.HR], [team.assessee(p) for p in people]
    )


@dataclass
class Foreign:
    """Organisation B's person, cycle, rater, plan and action, which A must never reach."""

    person: Person
    cycle: Cycle
    rater: Rater
    plan: Plan
    action: Action


@pytest.fixture
def b_world(personas: Personas) -> Foreign:
    b = personas.b
    hr = b.users[Role.HR]
    version = published_profile(b, "Beta secret profile")
    member = b.users[Role.PARTICIPANT].username
    services.upsert_people(b.org, hr, [PersonInput("b-1", "Beta Person", username=member)])
    person = Person.objects.get(organisation=b.org)
    cycle = services.create_cycle(b.org, hr, title="Beta cycle", profile_version=version)
    (assessee,) = services.add_people(cycle, hr, [person])
    services.open_cycle(cycle)
    plan = plans.create_plan(assessee, hr)
    action = plans.add_action(
        plan, hr, plans.ActionInput(competency="negotiation", title="Course", action_type="course")
    )
    rater = Rater.objects.get(assessee=assessee)
    return Foreign(person, cycle, rater, plan, action)


def grow(team: Team, extra: int) -> None:
    """Add ``extra`` people to the team's cycle, each rated by a manager and two peers."""
    a = team.side
    hr = a.users[Role.HR]
    rows = [
        PersonInput(
            f"extra-{n}",
            f"Extra {n:02}",
            manager="mgr-1",
            unit="North",
            accounts=(f"Account {n}",),
            profile=team.profile.profile.key,
        )
        for n in range(extra)
    ]
    services.upsert_people(a.org, hr, rows)
    people = list(Person.objects.filter(organisation=a.org, reference__startswith="extra-"))
    services.add_people(team.cycle, hr, people)
    for person in people:
        team.submit(person, a.users[Role.MANAGER], 2)
        assessee = team.assessee(person)
        for user in team.peers[:2]:
            services.add_rater(assessee, hr, username=user.username, source="peer")
            rater = team.rater(person, user)
            form = services.draft_form(rater, user)
            services.save_form(form, user, team.answers(3), submit=True)
        plans.create_plan(assessee, hr)


# --- Tenant scoping ----------------------------------------------------------------------------

ANY_BODY = {
    "name": "Hacked",
    "title": "Hacked",
    "status": "done",
    "people": ["b-1"],
    "all": True,
    "answers": {},
    "reason": "Hacked",
    "submit": True,
    "competency": "negotiation",
    "action_type": "course",
    "note": "x",
}

FOREIGN: dict[str, Callable[[Personas, Foreign], tuple[str, str]]] = {
    "person": lambda p, f: ("get", org_url(p.a, f"people/{f.person.pk}/")),
    "person-patch": lambda p, f: ("patch", org_url(p.a, f"people/{f.person.pk}/")),
    "person-put": lambda p, f: ("put", org_url(p.a, f"people/{f.person.pk}/")),
    "quick-checks": lambda p, f: ("get", org_url(p.a, f"people/{f.person.pk}/quick-checks/")),
    "quick-check-post": lambda p, f: (
        "post",
        org_url(p.a, f"people/{f.person.pk}/quick-checks/"),
    ),
    "psychometrics": lambda p, f: ("get", org_url(p.a, f"people/{f.person.pk}/psychometrics/")),
    "psychometrics-post": lambda p, f: (
        "post",
        org_url(p.a, f"people/{f.person.pk}/psychometrics/"),
    ),
    "cycle": lambda p, f: ("get", cycle_url(p.a, f.cycle)),
    "cycle-patch": lambda p, f: ("patch", cycle_url(p.a, f.cycle)),
    "open": lambda p, f: ("post", cycle_url(p.a, f.cycle, "open/")),
    "close": lambda p, f: ("post", cycle_url(p.a, f.cycle, "close/")),
    "cycle-people": lambda p, f: ("post", cycle_url(p.a, f.cycle, "people/")),
    "cycle-people-delete": lambda p, f: ("delete", cycle_url(p.a, f.cycle, "people/?person=b-1")),
    "raters": lambda p, f: ("get", cycle_url(p.a, f.cycle, "raters/")),
    "rater-delete": lambda p, f: ("delete", cycle_url(p.a, f.cycle, f"raters/{f.rater.pk}/")),
    "results": lambda p, f: ("get", cycle_url(p.a, f.cycle, "results/")),
    "result": lambda p, f: ("get", cycle_url(p.a, f.cycle, f"results/{f.person.pk}/")),
    "release": lambda p, f: ("post", cycle_url(p.a, f.cycle, "release/")),
    "ratings-import": lambda p, f: ("post", cycle_url(p.a, f.cycle, "ratings/import/")),
    "form": lambda p, f: ("get", org_url(p.a, f"rating-forms/{f.rater.pk}/")),
    "form-put": lambda p, f: ("put", org_url(p.a, f"rating-forms/{f.rater.pk}/")),
    "form-amend": lambda p, f: ("post", org_url(p.a, f"rating-forms/{f.rater.pk}/amend/")),
    "plan": lambda p, f: ("get", org_url(p.a, f"plans/{f.plan.pk}/")),
    "plan-actions": lambda p, f: ("post", org_url(p.a, f"plans/{f.plan.pk}/actions/")),
    "plan-action": lambda p, f: (
        "patch",
        org_url(p.a, f"plans/{f.plan.pk}/actions/{f.action.pk}/"),
    ),
    "plan-close": lambda p, f: ("post", org_url(p.a, f"plans/{f.plan.pk}/close/")),
    "b-slug-people": lambda p, f: ("get", org_url(p.b, "people/")),
    "b-slug-cycles": lambda p, f: ("get", org_url(p.b, "cycles/")),
    "b-slug-mine": lambda p, f: ("get", org_url(p.b, "rating-forms/mine/")),
    "b-slug-plans": lambda p, f: ("get", org_url(p.b, "plans/")),
    "b-slug-form": lambda p, f: ("get", org_url(p.b, f"rating-forms/{f.rater.pk}/")),
}


def snapshot() -> tuple[list[tuple[Any, ...]], ...]:
    """Every row the endpoints write, to prove a refused request changed nothing."""
    return (
        list(Person.objects.order_by("id").values_list("id", "name", "user_id", "manager_id")),
        list(Cycle.objects.order_by("id").values_list("id", "title", "status", "rules")),
        list(Assessee.objects.order_by("id").values_list("id", "released_at")),
        list(Rater.objects.order_by("id").values_list("id", "user_id", "source")),
        list(RatingForm.objects.order_by("id").values_list("id", "number", "status")),
        list(QuickCheck.objects.order_by("id").values_list("id")),
        list(PsychometricResult.objects.order_by("id").values_list("id")),
        list(Plan.objects.order_by("id").values_list("id", "status")),
        list(Action.objects.order_by("id").values_list("id", "title", "status", "progress_note")),
    )


@pytest.mark.parametrize(("role", "target"), [(r, t) for r in ROLES for t in FOREIGN])
def test_every_role_gets_404_for_the_other_organisations_objects(
    personas: Personas, b_world: Foreign, role: Role, target: str
) -> None:
    method, url = FOREIGN[target](personas, b_world)
    before = snapshot()
    response = send(personas.a.client(role), method, url, ANY_BODY)
    assert response.status_code == 404, (target, response.content)
    assert response.json() == {"detail": "Not found."}
    assert snapshot() == before


# --- People ------------------------------------------------------------------------------------


def test_hr_lists_people_with_manager_accounts_and_profile(team: Team) -> None:
    a = team.side
    response = a.client(Role.HR).get(org_url(a, "people/"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    kam = next(p for p in body["results"] if p["reference"] == "kam-1")
    assert kam == {
        "id": team.kam.pk,
        "reference": "kam-1",
        "name": "Pat Participant",
        "email": "",
        "kind": "kam",
        "job_title": "",
        "unit": "",
        "manager": {
            "id": team.people["mgr-1"].pk,
            "reference": "mgr-1",
            "name": "Morgan Manager",
        },
        "username": a.users[Role.PARTICIPANT].username,
        "profile": team.profile.profile.key,
        "background": "sales",
        "background_note": "",
        "accounts": ["Globex", "Initech"],
        "active": True,
        "created_at": kam["created_at"],
        "updated_at": kam["updated_at"],
    }
    assert next(p for p in body["results"] if p["reference"] == "mgr-1")["manager"] is None


def test_the_people_list_filters_by_kind_unit_and_text(team: Team) -> None:
    a = team.side
    hr = a.users[Role.HR]
    services.upsert_people(
        a.org, hr, [PersonInput("cand-1", "Chris Candidate", kind="candidate", unit="North")]
    )
    client = a.client(Role.HR)

    def refs(query: str) -> list[str]:
        response = client.get(org_url(a, f"people/?{query}"))
        assert response.status_code == 200, response.content
        return [p["reference"] for p in response.json()["results"]]

    assert refs("kind=candidate") == ["cand-1"]
    assert refs("unit=North") == ["cand-1"]
    assert refs("q=ROBIN") == ["kam-3"]
    assert refs("q=kam-") == ["kam-2", "kam-1", "kam-3", "kam-4"]  # by name
    assert refs("kind=kam&q=chris") == []
    assert problems(client.get(org_url(a, "people/?kind=boss"))) == {"kind": "use kam or candidate"}


def test_participants_and_line_managers_list_only_whom_they_may_see(team: Team) -> None:
    a = team.side

    def names(role: Role) -> set[str]:
        return {p["reference"] for p in a.client(role).get(org_url(a, "people/")).json()["results"]}

    assert names(Role.PARTICIPANT) == {"kam-1"}
    assert names(Role.MANAGER) == {"mgr-1", "kam-1", "kam-2", "kam-3"}
    assert names(Role.ASSESSOR) == set()
    assert names(Role.CONSULTANT) == {"mgr-1", "kam-1", "kam-2", "kam-3", "kam-4"}


def test_hr_adds_a_person(team: Team) -> None:
    a = team.side
    body = {
        "reference": "kam-9",
        "name": "Nia New",
        "email": "nia@example.com",
        "kind": "candidate",
        "manager": "mgr-1",
        "background": "other",
        "profile": team.profile.profile.key,
        "username": a.users[Role.ASSESSOR].username,
        "accounts": ["Umbrella", "Acme"],
    }
    response = send(a.client(Role.HR), "post", org_url(a, "people/"), body)
    assert response.status_code == 201, response.content
    person = response.json()
    assert (person["reference"], person["kind"], person["background"]) == (
        "kam-9",
        "candidate",
        "other",
    )
    assert person["manager"]["reference"] == "mgr-1"
    assert person["accounts"] == ["Umbrella", "Acme"]
    assert person["username"] == a.users[Role.ASSESSOR].username
    stored = Person.objects.get(organisation=a.org, reference="kam-9")
    assert stored.user == a.users[Role.ASSESSOR]
    assert list(stored.accounts.values_list("name", flat=True)) == ["Umbrella", "Acme"]


def test_adding_a_person_with_bad_fields_names_each_field(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    url = org_url(a, "people/")
    before = snapshot()
    bad = {
        "reference": "no spaces allowed",
        "name": "",
        "email": "not-an-address",
        "manager": "nobody",
        "profile": "no-such-profile",
        "username": "stranger",
    }
    found = problems(send(client, "post", url, bad))
    assert set(found) == {"reference", "name", "email", "manager", "profile", "username"}
    assert "not a member" in found["username"]
    assert set(problems(send(client, "post", url, {"name": "X", "kind": "boss"}))) == {
        "reference",
        "kind",
    }
    taken = problems(send(client, "post", url, {"reference": "kam-1", "name": "Twin"}))
    assert taken == {"reference": "'kam-1' is already in use"}
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ASSESSOR, Role.PARTICIPANT])
def test_roles_that_do_not_manage_people_cannot_add_or_change_them(team: Team, role: Role) -> None:
    a = team.side
    client = a.client(role)
    before = snapshot()
    response = send(client, "post", org_url(a, "people/"), {"reference": "x-1", "name": "X"})
    assert response.status_code == 403
    assert "may not add people" in response.json()["detail"]
    own = a.users[role].people.first()
    if own is not None:  # their own record: visible, yet not theirs to change
        url = org_url(a, f"people/{own.pk}/")
        assert send(client, "patch", url, {"name": "Renamed"}).status_code == 403
    assert snapshot() == before


def test_a_person_is_visible_to_themself_and_their_manager_only(team: Team) -> None:
    a = team.side
    kam = org_url(a, f"people/{team.kam.pk}/")
    colleague = org_url(a, f"people/{team.colleague.pk}/")
    assert a.client(Role.PARTICIPANT).get(kam).json()["reference"] == "kam-1"
    assert a.client(Role.PARTICIPANT).get(colleague).status_code == 404
    assert a.client(Role.MANAGER).get(colleague).status_code == 200
    assert a.client(Role.ASSESSOR).get(kam).status_code == 404
    assert a.client(Role.DIRECTOR).get(colleague).status_code == 200
    assert a.client(Role.HR).get(org_url(a, "people/999999/")).status_code == 404


def test_patch_changes_only_what_is_sent_and_put_replaces_everything(team: Team) -> None:
    a = team.side
    url = org_url(a, f"people/{team.kam.pk}/")
    client = a.client(Role.HR)
    response = send(client, "patch", url, {"job_title": "Global KAM", "accounts": ["Globex"]})
    assert response.status_code == 200, response.content
    person = response.json()
    assert (person["job_title"], person["accounts"], person["name"]) == (
        "Global KAM",
        ["Globex"],
        "Pat Participant",
    )
    assert person["manager"]["reference"] == "mgr-1"
    assert person["username"] == a.users[Role.PARTICIPANT].username
    replaced = send(client, "put", url, {"name": "Pat P."}).json()
    assert replaced["reference"] == "kam-1"
    assert (replaced["manager"], replaced["username"], replaced["accounts"]) == (None, None, [])
    assert replaced["job_title"] == "" and replaced["background"] == "unknown"
    assert problems(send(client, "put", url, {})) == {"name": "This field is required."}
    loop = problems(
        send(
            client, "patch", org_url(a, f"people/{team.people['mgr-1'].pk}/"), {"manager": "kam-2"}
        )
    )
    assert "loop" in loop["manager"]
    assert KeyAccount.objects.filter(person=team.kam).count() == 0


def test_a_line_manager_records_a_quick_check_for_their_report(team: Team) -> None:
    a = team.side
    url = org_url(a, f"people/{team.kam.pk}/quick-checks/")
    body = {
        "answers": {"top-decision-makers": True, "knows-the-competition": False},
        "note": "Strong with buyers",
    }
    response = send(a.client(Role.MANAGER), "post", url, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert len(data["questions"]) == 9
    assert data["source"].startswith("Staples, J.")
    (check,) = data["checks"]
    assert (check["yes_count"], check["answered_count"], check["note"]) == (1, 2, body["note"])
    assert check["answers"]["top-decision-makers"] is True
    assert check["answers"]["realistic-goals"] is None
    assert check["answered_by"] == a.users[Role.MANAGER].username
    assert a.client(Role.HR).get(url).json()["checks"][0]["id"] == check["id"]
    hr = send(a.client(Role.HR), "post", url, {"answers": {"realistic-goals": None}})
    assert problems(hr) == {"answers": "answer at least one question"}
    unknown = send(a.client(Role.HR), "post", url, {"answers": {"nope": True}})
    assert problems(unknown) == {"answers.nope": "unknown question 'nope'"}
    wrong = send(a.client(Role.HR), "post", url, {"answers": {"realistic-goals": "maybe"}})
    assert set(problems(wrong)) == {"answers.realistic-goals"}


def test_the_person_themself_may_not_keep_their_own_quick_checks(team: Team) -> None:
    a = team.side
    url = org_url(a, f"people/{team.kam.pk}/quick-checks/")
    client = a.client(Role.PARTICIPANT)
    assert client.get(url).status_code == 403
    body = {"answers": {"top-decision-makers": True}}
    assert send(client, "post", url, body).status_code == 403
    kam4 = org_url(a, f"people/{team.people['kam-4'].pk}/quick-checks/")
    assert a.client(Role.MANAGER).get(kam4).status_code == 404  # not their report
    assert not QuickCheck.objects.exists()


def test_hr_stores_and_reads_psychometric_results(team: Team) -> None:
    a = team.side
    url = org_url(a, f"people/{team.kam.pk}/psychometrics/")
    rows = [
        {
            "attribute": "networking",
            "provider": "TestCo",
            "scale": "sten",
            "value": 7,
            "assessed_on": "2025-01-15",
        },
        {
            "attribute": "trustworthy",
            "provider": "TestCo",
            "scale": "percentile",
            "value": 50,
            "assessed_on": "2025-01-15",
            "instrument": "OPQ",
        },
    ]
    response = send(a.client(Role.HR), "post", url, rows)
    assert response.status_code == 201, response.content
    stored = {r["attribute"]: r for r in response.json()}
    assert stored["networking"]["sten"] == pytest.approx(7)
    assert stored["trustworthy"]["instrument"] == "OPQ"
    assert a.client(Role.CONSULTANT).get(url).json() == response.json()
    malformed = [rows[0], {**rows[0], "scale": "iq"}, {"value": "x"}]
    assert set(problems(send(a.client(Role.HR), "post", url, malformed))) == {
        "[1].scale",
        "[2].attribute",
        "[2].provider",
        "[2].scale",
        "[2].value",
        "[2].assessed_on",
    }
    not_an_attribute = [rows[0], {**rows[0], "attribute": "negotiation"}]
    assert problems(send(a.client(Role.HR), "post", url, not_an_attribute)) == {
        "result 2, column attribute": "'negotiation' is not an attribute (A or C/A) of the "
        "frameworks in use"
    }
    future = [{**rows[0], "assessed_on": "2999-01-01"}]
    assert problems(send(a.client(Role.HR), "post", url, future)) == {
        "result 1, column assessed_on": "a date in the future"
    }
    assert problems(send(a.client(Role.HR), "post", url, {"not": "a list"})) == {
        "": "send a JSON list"
    }
    assert PsychometricResult.objects.count() == 2


@pytest.mark.parametrize("role", [Role.MANAGER, Role.PARTICIPANT])
def test_psychometric_results_are_for_those_who_manage_people_only(team: Team, role: Role) -> None:
    a = team.side
    url = org_url(a, f"people/{team.kam.pk}/psychometrics/")
    assert a.client(role).get(url).status_code == 403
    row = {"attribute": "networking", "provider": "T", "scale": "sten", "value": 7}
    assert send(
        a.client(role), "post", url, [{**row, "assessed_on": "2025-01-01"}]
    ).status_code == (403)


def test_people_and_psychometric_results_import_from_csv(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    people = b"reference,name,manager,accounts\nkam-7,Kim Import,mgr-1,Globex;Hooli\n"
    response = client.post(
        org_url(a, "people/import/"),
        {"file": SimpleUploadedFile("people.csv", people, content_type="text/csv")},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 0}
    kim = Person.objects.get(organisation=a.org, reference="kam-7")
    assert kim.manager == team.people["mgr-1"]
    scores = (
        b"person,attribute,provider,scale,value,assessed_on\nkam-7,networking,T,sten,6,2025-02-01\n"
    )
    response = client.post(
        org_url(a, "psychometrics/import/"), {"file": SimpleUploadedFile("p.csv", scores)}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1}
    bad = b"reference,name,manager\nkam-8,,nobody\n"
    response = client.post(org_url(a, "people/import/"), {"file": SimpleUploadedFile("b.csv", bad)})
    assert set(problems(response)) == {"row 2, column name", "row 2, column manager"}
    assert problems(client.post(org_url(a, "people/import/"), {})) == {
        "file": "send a CSV or XLSX file in the field “file”"
    }
    refused = a.client(Role.MANAGER).post(
        org_url(a, "people/import/"), {"file": SimpleUploadedFile("p.csv", people)}
    )
    assert refused.status_code == 403


# --- Cycles ------------------------------------------------------------------------------------


def test_hr_prepares_a_cycle_with_people(team: Team) -> None:
    a = team.side
    body = {
        "title": "Autumn review",
        "profile": team.profile.profile_id,
        "version": team.profile.number,
        "rules": {"min_peers": 2, "source_weights": {"manager": 2}},
        "due_on": "2026-10-31",
        "note": "Annual",
        "people": ["kam-1", "kam-2"],
    }
    response = send(a.client(Role.HR), "post", org_url(a, "cycles/"), body)
    assert response.status_code == 201, response.content
    cycle = response.json()
    assert (cycle["title"], cycle["status"], cycle["due_on"], cycle["people"]) == (
        "Autumn review",
        "draft",
        "2026-10-31",
        2,
    )
    assert cycle["profile_version"] == {
        "id": team.profile.pk,
        "profile": team.profile.profile_id,
        "number": team.profile.number,
        "title": team.profile.title,
    }
    assert cycle["rules"]["min_peers"] == 2
    assert cycle["rules"]["source_weights"]["manager"] == 2
    progress = {row["person"]["reference"]: row for row in cycle["assessees"]}
    assert (progress["kam-1"]["invited"], progress["kam-1"]["submitted"]) == (2, 0)  # self, mgr
    assert progress["kam-2"]["invited"] == 1  # no account: the manager only
    assert progress["kam-1"]["released_at"] is None


def test_preparing_a_cycle_with_bad_input_names_each_field(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    url = org_url(a, "cycles/")
    good = {"title": "T", "profile": team.profile.profile_id, "version": team.profile.number}
    before = snapshot()
    assert problems(send(client, "post", url, {**good, "profile": 999999})) == {
        "profile": "unknown role profile"
    }
    assert problems(send(client, "post", url, {**good, "version": 99})) == {
        "version": "unknown version of this profile"
    }
    assert problems(send(client, "post", url, {**good, "people": ["kam-1", "ghost"]})) == {
        "people[1]": "no person with reference 'ghost'"
    }
    assert problems(send(client, "post", url, {**good, "title": "  "})) == {
        "title": "a title is required"
    }
    bad_rules = problems(send(client, "post", url, {**good, "rules": {"min_peers": 0}}))
    assert bad_rules == {"rules.min_peers": "must be a whole number from 1 to 20"}
    assert set(problems(send(client, "post", url, {"title": "T"}))) == {"profile", "version"}
    draft = profile_services.start_new_draft(team.profile.profile, a.users[Role.DIRECTOR])
    drafted = problems(send(client, "post", url, {**good, "version": draft.number}))
    assert set(drafted) == {"version"}
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ASSESSOR, Role.PARTICIPANT])
def test_only_those_who_manage_people_run_cycles(team: Team, role: Role) -> None:
    a = team.side
    client = a.client(role)
    assert client.get(org_url(a, "cycles/")).status_code == 403
    assert client.get(cycle_url(a, team.cycle)).status_code == 403
    assert client.get(cycle_url(a, team.cycle, "results/")).status_code == 403
    assert client.get(cycle_url(a, team.cycle, "raters/")).status_code == 403
    body = {"title": "T", "profile": team.profile.profile_id, "version": 1}
    assert send(client, "post", org_url(a, "cycles/"), body).status_code == 403


def test_the_cycle_list_and_detail_show_each_persons_progress(team: Team) -> None:
    a = team.side
    team.submit(team.kam, a.users[Role.MANAGER], 3)
    listed = a.client(Role.DIRECTOR).get(org_url(a, "cycles/")).json()
    assert listed["count"] == 1
    assert (listed["results"][0]["status"], listed["results"][0]["people"]) == ("open", 4)
    detail = a.client(Role.DIRECTOR).get(cycle_url(a, team.cycle)).json()
    progress = {
        row["person"]["reference"]: (row["invited"], row["submitted"])
        for row in detail["assessees"]
    }
    assert progress == {"kam-1": (5, 1), "kam-2": (2, 0), "kam-3": (1, 0), "kam-4": (0, 0)}


def test_hr_changes_a_cycle_until_it_is_closed(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    url = cycle_url(a, team.cycle)
    body = {
        "title": "Spring review 2026",
        "due_on": "2026-06-30",
        "note": "Extended",
        "rules": {"include_self": True},
    }
    changed = send(client, "patch", url, body)
    assert changed.status_code == 200, changed.content
    data = changed.json()
    assert (data["title"], data["due_on"], data["note"]) == (
        "Spring review 2026",
        "2026-06-30",
        "Extended",
    )
    assert data["rules"]["include_self"] is True
    assert problems(send(client, "patch", url, {"rules": {"source_weights": {"peer": 11}}})) == {
        "rules.source_weights.peer": "must be a number between 0 and 10"
    }
    assert problems(send(client, "patch", url, {"due_on": "soon"})).keys() == {"due_on"}
    assert problems(send(client, "patch", url, {})) == {"": "nothing to change"}
    closed = send(client, "post", cycle_url(a, team.cycle, "close/"))
    assert closed.json()["status"] == "closed"
    assert send(client, "patch", url, {"title": "Too late"}).status_code == 409
    assert send(client, "post", cycle_url(a, team.cycle, "close/")).status_code == 409
    assert send(client, "post", cycle_url(a, team.cycle, "open/")).status_code == 409


def test_a_prepared_cycle_opens_once_it_has_people(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    body = {"title": "Empty", "profile": team.profile.profile_id, "version": team.profile.number}
    empty = send(client, "post", org_url(a, "cycles/"), body).json()
    cycle = Cycle.objects.get(pk=empty["id"])
    assert problems(send(client, "post", cycle_url(a, cycle, "open/"))) == {
        "people": "add the people to assess first"
    }
    added = send(client, "post", cycle_url(a, cycle, "people/"), {"people": ["kam-3", "kam-3"]})
    assert [r["person"]["reference"] for r in added.json()["assessees"]] == ["kam-3"]
    assert problems(
        send(client, "post", cycle_url(a, cycle, "people/"), {"people": []})
    ).keys() == {"people"}
    opened = send(client, "post", cycle_url(a, cycle, "open/"))
    assert (opened.status_code, opened.json()["status"]) == (200, "open")
    assert opened.json()["opened_at"] is not None


def test_a_person_leaves_a_cycle_until_someone_has_rated_them(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    url = cycle_url(a, team.cycle, "people/")
    assert client.delete(url + "?person=kam-4").status_code == 204
    assert not Assessee.objects.filter(cycle=team.cycle, person__reference="kam-4").exists()
    assert client.delete(url + "?person=kam-4").status_code == 404
    assert problems(client.delete(url)) == {"person": "give the person's reference"}
    team.submit(team.kam, a.users[Role.MANAGER], 3)
    refused = client.delete(url + "?person=kam-1")
    assert refused.status_code == 409
    assert "stay on record" in refused.json()["detail"]


def test_hr_asks_and_withdraws_raters(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    url = cycle_url(a, team.cycle, "raters/")
    team.submit(team.kam, a.users[Role.MANAGER], 3)
    listed = client.get(url).json()
    assert len(listed) == 8
    mine = {(r["person"]["reference"], r["username"]): r for r in listed}
    assert mine["kam-1", a.users[Role.MANAGER].username]["status"] == "submitted"
    assert mine["kam-1", a.users[Role.PARTICIPANT].username]["source"] == "self"
    assert mine["kam-1", a.users[Role.PARTICIPANT].username]["status"] == "not_started"
    body = {"person": "kam-3", "username": a.users[Role.CONSULTANT].username, "source": "other"}
    added = send(client, "post", url, body)
    assert added.status_code == 201, added.content
    assert added.json()["status"] == "not_started"
    assert problems(send(client, "post", url, body)) == {
        "username": f"{a.users[Role.CONSULTANT].username} already rates this person"
    }
    self_wrong = {**body, "username": a.users[Role.OWNER].username, "source": "self"}
    assert problems(send(client, "post", url, self_wrong)) == {
        "source": "only the person themself rates as self"
    }
    assert problems(send(client, "post", url, {**body, "person": "mgr-1"})) == {
        "person": "not assessed in this cycle"
    }
    assert problems(send(client, "post", url, {**body, "source": "boss"})).keys() == {"source"}
    assert client.delete(f"{url}{added.json()['id']}/").status_code == 204
    submitted = team.rater(team.kam, a.users[Role.MANAGER])
    assert client.delete(f"{url}{submitted.pk}/").status_code == 409
    assert client.delete(f"{url}999999/").status_code == 404


def test_ratings_import_stores_submitted_forms(team: Team) -> None:
    a = team.side
    client = a.client(Role.HR)
    url = cycle_url(a, team.cycle, "ratings/import/")
    manager = a.users[Role.MANAGER].username
    good = (
        "person,rater,source,competency,level,evidence\n"
        f"kam-3,{manager},manager,negotiation,4,Won the tender\n"
    )
    response = client.post(url, {"file": SimpleUploadedFile("r.csv", good.encode())})
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1}
    bad = good.replace(",4,", ",9,")
    assert set(problems(client.post(url, {"file": SimpleUploadedFile("r.csv", bad.encode())}))) == {
        "row 2, column level"
    }
    assert a.client(Role.PARTICIPANT).post(url, {}).status_code == 403


# --- Results and release -----------------------------------------------------------------------


def test_team_results_show_fit_gaps_make_or_buy_and_bench_strength(team: Team) -> None:
    a = team.side
    rate_kam(team)
    team.submit(team.colleague, a.users[Role.MANAGER], 4)
    response = a.client(Role.HR).get(cycle_url(a, team.cycle, "results/"))
    assert response.status_code == 200, response.content
    data = response.json()
    assert credited(response)
    assert [c["key"] for c in data["columns"]] == list(KEYS)
    assert data["columns"][0] == {
        "key": "analytical",
        "name": data["columns"][0]["name"],
        "kind": "C/A",
        "required": 3,
        "weight": pytest.approx(9.1),
    }
    rows = {r["person"]["reference"]: r for r in data["people"]}
    assert data["people"][0]["person"]["reference"] == "kam-2"  # best fit first
    kam = rows["kam-1"]
    # Manager 3 and the three peers' mean 1 weigh equally; self is left out by default.
    assert kam["combined"] == [pytest.approx(2)] * len(KEYS)
    assert kam["gaps"] == [pytest.approx(-1)] * len(KEYS)
    assert (kam["invited"], kam["submitted"], kam["released"]) == (5, 5, False)
    assert kam["coverage"] == pytest.approx(1)
    assert 0 < kam["fit"] < 100
    assert rows["kam-2"]["fit"] == pytest.approx(100)
    assert rows["kam-4"]["fit"] is None and rows["kam-4"]["combined"] == [None] * len(KEYS)
    assert rows["kam-4"]["band"]["code"] == -1
    assert set(data["make_or_buy"]) == {"lines", "develop_share", "select_share", "headline"}
    (bench,) = data["bench_strength"]
    assert bench["profile"]["key"] == team.profile.profile.key
    assert sum(bench["counts"].values()) == 4
    assert [p["person"]["reference"] for p in bench["ready"]] == ["kam-2"]
    assert SECRET not in response.content.decode()


def test_hr_reads_a_persons_result_with_named_self_and_manager_evidence(team: Team) -> None:
    a = team.side
    rate_kam(team)
    response = a.client(Role.HR).get(cycle_url(a, team.cycle, f"results/{team.kam.pk}/"))
    assert response.status_code == 200, response.content
    data = response.json()
    assert credited(response)
    assert data["person"]["reference"] == "kam-1"
    # One person with a fit in the cycle: a rank among fewer than k (5) is not shown.
    assert data["percentile"] is None
    assert data["released_at"] is None
    line = data["lines"][0]
    assert (line["key"], line["combined"], line["gap"]) == ("analytical", 2, -1)
    assert line["self_rating"] == 4 and line["others"] == 2
    assert line["blind_spot"] is True
    assert data["blind_spots"] == list(KEYS)
    sources = {c["source"]: c for c in line["sources"]}
    assert sources["peer"] == {
        "source": "peer",
        "label": "Peer",
        "mean": 1,
        "count": 3,
        "counted": True,
    }
    assert sources["self"]["counted"] is False
    raters = {(e["source"], e["rater"]) for e in line["evidence"]}
    assert raters == {
        ("self", a.users[Role.PARTICIPANT].username),
        ("manager", a.users[Role.MANAGER].username),
        ("peer", ""),
    }
    assert {e["level"] for e in line["evidence"] if e["source"] == "peer"} == {1}
    assert [level["level"] for level in data["scale"]] == [1, 2, 3, 4, 5]


def test_the_assessed_person_reads_their_result_only_once_released(team: Team) -> None:
    a = team.side
    rate_kam(team)
    client = a.client(Role.PARTICIPANT)
    own = cycle_url(a, team.cycle, f"results/{team.kam.pk}/")
    colleague = cycle_url(a, team.cycle, f"results/{team.colleague.pk}/")
    assert client.get(own).status_code == 404
    assert a.client(Role.MANAGER).get(own).status_code == 404
    release(team, team.kam)
    response = client.get(own)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["percentile"] is None
    assert data["released_at"] is not None
    every_rater = {e["rater"] for line in data["lines"] for e in line["evidence"]}
    assert every_rater == {""}  # nobody is named to the person, peers least of all
    levels = {(e["source"], e["level"]) for line in data["lines"] for e in line["evidence"]}
    assert levels == {("self", 4), ("manager", 3), ("peer", None)}  # no single peer's level
    for peer in team.peers:
        assert peer.username not in response.content.decode()
    assert client.get(colleague).status_code == 404
    assert a.client(Role.MANAGER).get(own).status_code == 200
    assert a.client(Role.ASSESSOR).get(own).status_code == 404
    release(team, team.colleague)
    assert client.get(colleague).status_code == 404


def test_owner_and_hr_release_results_and_a_director_may_not(team: Team) -> None:
    a = team.side
    url = cycle_url(a, team.cycle, "release/")
    refused = send(a.client(Role.DIRECTOR), "post", url, {"all": True})
    assert refused.status_code == 403
    assert "may not release results" in refused.json()["detail"]
    assert not Assessee.objects.filter(released_at__isnull=False).exists()
    hr = a.client(Role.HR)
    assert send(hr, "post", url, {"people": ["kam-1"]}).json() == {"released": 1}
    assert send(hr, "post", url, {"people": ["kam-1"]}).json() == {"released": 0}
    assert send(a.client(Role.OWNER), "post", url, {"all": True}).json() == {"released": 3}
    assert problems(send(hr, "post", url, {})) == {"people": "give either people or all: true"}
    both = send(hr, "post", url, {"all": True, "people": ["kam-1"]})
    assert problems(both) == {"people": "give either people or all: true"}
    assert problems(send(hr, "post", url, {"people": ["mgr-1"]})) == {
        "people[0]": "not assessed in this cycle"
    }
    for role in (Role.MANAGER, Role.PARTICIPANT, Role.CONSULTANT):
        assert send(a.client(role), "post", url, {"all": True}).status_code == 403


# --- Rating forms ------------------------------------------------------------------------------


def test_a_rater_lists_the_forms_asked_of_them(team: Team) -> None:
    a = team.side
    team.submit(team.kam, a.users[Role.MANAGER], 3)
    mine = a.client(Role.MANAGER).get(org_url(a, "rating-forms/mine/")).json()
    assert {(r["person"]["reference"], r["source"], r["status"]) for r in mine} == {
        ("kam-1", "manager", "submitted"),
        ("kam-2", "manager", "not_started"),
        ("kam-3", "manager", "not_started"),
    }
    assert mine[0]["cycle"] == {"id": team.cycle.pk, "title": "Spring review", "status": "open"}
    participant = a.client(Role.PARTICIPANT).get(org_url(a, "rating-forms/mine/")).json()
    assert [(r["person"]["reference"], r["source"]) for r in participant] == [("kam-1", "self")]
    assert a.client(Role.DIRECTOR).get(org_url(a, "rating-forms/mine/")).json() == []


def test_a_rater_fills_in_saves_and_submits_their_form(team: Team) -> None:
    a = team.side
    client = a.client(Role.MANAGER)
    rater = team.rater(team.kam, a.users[Role.MANAGER])
    url = org_url(a, f"rating-forms/{rater.pk}/")
    blank = client.get(url)
    assert blank.status_code == 200
    form = blank.json()
    assert credited(blank)
    assert (form["number"], form["rater"]["status"], form["editable"]) == (
        None,
        "not_started",
        True,
    )
    assert [r["key"] for r in form["requirements"]] == list(KEYS)
    assert form["requirements"][0]["level"] is None
    assert [(lv["level"], bool(lv["name"])) for lv in form["scale"]] == [
        (n, True) for n in range(1, 6)
    ]
    assert not RatingForm.objects.filter(rater=rater).exists()  # reading starts nothing
    draft = send(client, "put", url, {"answers": {"negotiation": {"level": 4}}})
    assert draft.status_code == 200, draft.content
    saved = {r["key"]: r for r in draft.json()["requirements"]}
    assert (saved["negotiation"]["level"], draft.json()["rater"]["status"]) == (4, "draft")
    no_evidence = send(client, "put", url, {"submit": True})
    assert problems(no_evidence) == {
        "answers.negotiation.evidence": "give the evidence or behaviour behind this rating"
    }
    submitted = send(client, "put", url, {"answers": answers(3), "submit": True})
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert (body["number"], body["rater"]["status"], body["editable"], body["may_amend"]) == (
        1,
        "submitted",
        False,
        True,
    )
    again = send(client, "put", url, {"answers": answers(5)})
    assert again.status_code == 409
    assert "amend" in again.json()["detail"]


def test_a_save_based_on_an_old_etag_is_refused_with_412(team: Team) -> None:
    a = team.side
    rater = team.rater(team.kam, a.users[Role.MANAGER])
    url = org_url(a, f"rating-forms/{rater.pk}/")
    tab_1, tab_2 = a.client(Role.MANAGER), a.client(Role.MANAGER)
    read = tab_1.get(url)
    assert (read["ETag"], read.json()["tag"]) == ('"0.0"', "0.0")
    assert tab_2.get(url)["ETag"] == '"0.0"'

    def put(client: Client, level: int, etag: str, **extra: Any) -> TestResponse:
        body = json.dumps({"answers": answers(level), **extra})
        return client.put(url, body, content_type="application/json", headers={"If-Match": etag})

    first = put(tab_1, 4, '"0.0"')
    assert (first.status_code, first["ETag"]) == (200, '"1.1"')
    lost = put(tab_2, 2, '"0.0"')  # tab 2 still shows the blank form
    assert lost.status_code == 412
    assert "reload" in lost.json()["detail"]
    kept = RatingForm.objects.get(rater=rater)
    assert (kept.revision, {r.level for r in kept.ratings.all()}) == (1, {4})
    assert put(tab_2, 2, 'W/"1.1"').status_code == 200  # after reloading (weak form accepted)
    stale_submit = put(tab_1, 5, '"1.1"', submit=True)
    assert stale_submit.status_code == 412
    assert RatingForm.objects.get(rater=rater).status == FormStatus.DRAFT
    done = put(tab_1, 5, '"1.2"', submit=True)
    assert (done.status_code, done["ETag"]) == (200, '"1.3"')
    assert put(tab_2, 1, '"1.3"').status_code == 409  # final: amend instead
    amended = send(tab_2, "post", f"{url}amend/", {"reason": "New evidence"})
    assert (amended.status_code, amended["ETag"]) == (201, '"2.0"')
    assert put(tab_1, 1, '"1.3"').status_code == 412  # a new version is open meanwhile


def test_a_save_without_if_match_still_works(team: Team) -> None:
    a = team.side
    rater = team.rater(team.kam, a.users[Role.MANAGER])
    url = org_url(a, f"rating-forms/{rater.pk}/")
    client = a.client(Role.MANAGER)
    for level in (2, 3):
        assert send(client, "put", url, {"answers": answers(level)}).status_code == 200
    assert RatingForm.objects.get(rater=rater).revision == 2


def test_a_form_with_bad_answers_names_each_answer(team: Team) -> None:
    a = team.side
    client = a.client(Role.MANAGER)
    rater = team.rater(team.colleague, a.users[Role.MANAGER])
    url = org_url(a, f"rating-forms/{rater.pk}/")
    bad = {
        "answers": {
            "negotiation": {"level": 9, "evidence": "x"},
            "nope": {"level": 2, "evidence": "x"},
            "listening": {"level": "high"},
        }
    }
    assert set(problems(send(client, "put", url, bad))) == {"answers.listening.level"}
    del bad["answers"]["listening"]
    assert problems(send(client, "put", url, bad)) == {
        "answers.nope": "not a requirement of this profile",
        "answers.negotiation.level": "must be a level from 1 to 5",
    }
    assert problems(send(client, "put", url, {"answers": {}, "submit": True})) == {
        "answers": "rate at least one requirement before submitting"
    }
    assert not RatingForm.objects.filter(rater=rater).exists()  # nothing half-started


def test_an_amendment_is_a_new_version_with_a_reason(team: Team) -> None:
    a = team.side
    client = a.client(Role.MANAGER)
    team.submit(team.kam, a.users[Role.MANAGER], 3)
    rater = team.rater(team.kam, a.users[Role.MANAGER])
    url = org_url(a, f"rating-forms/{rater.pk}/amend/")
    assert problems(send(client, "post", url, {"reason": " "})) == {
        "reason": "say why the submitted ratings need amending"
    }
    response = send(client, "post", url, {"reason": "New evidence from the Q3 review"})
    assert response.status_code == 201, response.content
    form = response.json()
    assert (form["number"], form["rater"]["status"], form["reason"]) == (
        2,
        "draft",
        "New evidence from the Q3 review",
    )
    assert {r["level"] for r in form["requirements"]} == {3}  # copied from version 1
    assert send(client, "post", url, {"reason": "Twice"}).status_code == 409
    first = RatingForm.objects.get(rater=rater, number=1)
    assert first.status == "submitted"


def test_a_rater_never_opens_someone_elses_form(team: Team) -> None:
    a = team.side
    theirs = team.rater(team.kam, team.peers[0])
    for role in ROLES:
        client = a.client(role)
        url = org_url(a, f"rating-forms/{theirs.pk}/")
        assert client.get(url).status_code == 404
        assert send(client, "put", url, {"answers": answers(1), "submit": True}).status_code == 404
        assert send(client, "post", url + "amend/", {"reason": "x"}).status_code == 404
    assert not RatingForm.objects.filter(rater=theirs).exists()


# --- Development plans -------------------------------------------------------------------------


def planned(team: Team) -> Plan:
    rate_kam(team)
    return plans.create_plan(team.assessee(team.kam), team.side.users[Role.HR])


def test_hr_makes_a_plan_from_a_persons_gaps(team: Team) -> None:
    a = team.side
    rate_kam(team)
    body = {"cycle": team.cycle.pk, "person": "kam-1"}
    response = send(a.client(Role.HR), "post", org_url(a, "plans/"), body)
    assert response.status_code == 201, response.content
    plan = response.json()
    assert credited(response)
    assert plan["title"] == "Development plan: Spring review"
    assert (plan["status"], plan["person"]["reference"], plan["cycle"]["id"]) == (
        "active",
        "kam-1",
        team.cycle.pk,
    )
    assert plan["total"] == len(plan["actions"]) > 0
    action = plan["actions"][0]
    assert action["baseline"] == pytest.approx(2)
    assert (action["latest"], action["change"], action["reached"]) == (None, None, False)
    assert problems(
        send(a.client(Role.HR), "post", org_url(a, "plans/"), {**body, "cycle": 0})
    ) == {"cycle": "unknown assessment cycle"}
    assert problems(
        send(a.client(Role.HR), "post", org_url(a, "plans/"), {**body, "person": "mgr-1"})
    ) == {"person": "not assessed in this cycle"}
    refused = send(a.client(Role.MANAGER), "post", org_url(a, "plans/"), body)
    assert refused.status_code == 403


def test_the_person_and_their_manager_see_a_plan_once_released(team: Team) -> None:
    a = team.side
    plan = planned(team)
    url = org_url(a, f"plans/{plan.pk}/")
    for role in (Role.PARTICIPANT, Role.MANAGER):
        assert a.client(role).get(org_url(a, "plans/")).json()["count"] == 0
        assert a.client(role).get(url).status_code == 404
    release(team, team.kam)
    for role in (Role.PARTICIPANT, Role.MANAGER, Role.HR):
        listed = a.client(role).get(org_url(a, "plans/")).json()
        assert [p["id"] for p in listed["results"]] == [plan.pk]
        assert a.client(role).get(url).status_code == 200
    assert a.client(Role.ASSESSOR).get(url).status_code == 404


def test_hr_adds_an_action_that_suits_the_requirements_kind(team: Team) -> None:
    a = team.side
    plan = planned(team)
    url = org_url(a, f"plans/{plan.pk}/actions/")
    body = {
        "competency": "negotiation",
        "title": "Negotiation masterclass",
        "action_type": "course",
        "owner": a.users[Role.MANAGER].username,
        "due_on": "2026-09-30",
    }
    response = send(a.client(Role.HR), "post", url, body)
    assert response.status_code == 201, response.content
    action = response.json()
    assert (action["competency"], action["kind"], action["status"], action["owner"]) == (
        "negotiation",
        "C",
        "planned",
        a.users[Role.MANAGER].username,
    )
    unsuited = problems(send(a.client(Role.HR), "post", url, {**body, "competency": "trustworthy"}))
    assert set(unsuited) == {"action_type"}
    assert set(problems(send(a.client(Role.HR), "post", url, {"title": ""}))) == {
        "competency",
        "action_type",
    }
    release(team, team.kam)
    assert send(a.client(Role.MANAGER), "post", url, body).status_code == 403


def test_a_manager_updates_an_actions_progress_but_not_its_title(team: Team) -> None:
    a = team.side
    plan = planned(team)
    release(team, team.kam)
    action = plan.actions.first()
    assert action is not None
    url = org_url(a, f"plans/{plan.pk}/actions/{action.pk}/")
    manager = a.client(Role.MANAGER)
    refused = send(manager, "patch", url, {"title": "Something easier", "status": "done"})
    assert refused.status_code == 403
    assert "not title" in refused.json()["detail"]
    response = send(manager, "patch", url, {"status": "in_progress"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress"
    note = send(a.client(Role.PARTICIPANT), "patch", url, {"progress_note": "Booked for May"})
    assert (note.json()["progress_note"], note.json()["status"]) == (
        "Booked for May",
        "in_progress",
    )
    assert problems(send(manager, "patch", url, {"status": "finished"})).keys() == {"status"}
    hr = send(a.client(Role.HR), "patch", url, {"title": "Renamed", "status": "done"})
    assert (hr.json()["title"], hr.json()["status"]) == ("Renamed", "done")
    action.refresh_from_db()
    assert (action.title, action.status, action.progress_note) == (
        "Renamed",
        "done",
        "Booked for May",
    )
    assert (
        send(manager, "patch", org_url(a, f"plans/{plan.pk}/actions/999999/"), {}).status_code
        == 404
    )


def test_closing_a_plan_freezes_it(team: Team) -> None:
    a = team.side
    plan = planned(team)
    url = org_url(a, f"plans/{plan.pk}/close/")
    release(team, team.kam)
    assert send(a.client(Role.MANAGER), "post", url).status_code == 403
    closed = send(a.client(Role.HR), "post", url)
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert send(a.client(Role.HR), "post", url).status_code == 409
    action = plan.actions.first()
    assert action is not None
    change = org_url(a, f"plans/{plan.pk}/actions/{action.pk}/")
    assert send(a.client(Role.PARTICIPANT), "patch", change, {"status": "done"}).status_code == 409


# --- Query counts ------------------------------------------------------------------------------

# The most queries each list may take (measured: 6, 6, 6, 5, 14, 13, 4, 5); the test checks
# that 30 people take exactly as many as 4.
QUERIES: dict[str, tuple[Role, Callable[[Team], str], int]] = {
    # session, user, membership, count, page, key accounts
    "people": (Role.HR, lambda t: org_url(t.side, "people/"), 6),
    "people-of-a-manager": (Role.MANAGER, lambda t: org_url(t.side, "people/"), 6),
    # session, user, membership, cycle, cycle with counts, assessees with counts
    "cycle": (Role.HR, lambda t: cycle_url(t.side, t.cycle), 6),
    "raters": (Role.HR, lambda t: cycle_url(t.side, t.cycle, "raters/"), 5),
    # access, then load_cycle (requirements, people, change stamps, the readiness audit)
    # and bench strength; the person's result adds their evidence, and recording that the
    # notes were read (the audit trail: savepoint, [PostgreSQL lock], chain head, insert)
    "results": (Role.HR, lambda t: cycle_url(t.side, t.cycle, "results/"), 15),
    "result": (Role.HR, lambda t: cycle_url(t.side, t.cycle, f"results/{t.kam.pk}/"), 18),
    "mine": (Role.MANAGER, lambda t: org_url(t.side, "rating-forms/mine/"), 4),
    "plans": (Role.HR, lambda t: org_url(t.side, "plans/"), 5),
}


@pytest.mark.parametrize("endpoint", list(QUERIES))
def test_lists_of_people_take_as_many_queries_for_30_people_as_for_4(
    team: Team, django_assert_num_queries: DjangoAssertNumQueries, endpoint: str
) -> None:
    rate_kam(team)
    plans.create_plan(team.assessee(team.kam), team.side.users[Role.HR])
    role, url, ceiling = QUERIES[endpoint]
    client = team.side.client(role)
    client.get(url(team))  # warm the session (and the cycle's cached arrays)
    with CaptureQueriesContext(connection) as four:
        client.get(url(team))
    measured = len(four)  # now: the next request clears the connection's log
    assert 0 < measured <= ceiling
    grow(team, 26)
    client.get(url(team))
    with django_assert_num_queries(measured):
        response = client.get(url(team))
    assert response.status_code == 200
    body = response.json()
    if endpoint == "results":
        assert len(body["people"]) == 30
    if endpoint == "cycle":
        assert len(body["assessees"]) == 30
    if endpoint in {"people", "plans"}:
        assert body["count"] == {"people": 31, "plans": 27}[endpoint]


# --- Schema ------------------------------------------------------------------------------------


def test_the_schema_lists_every_assessment_path_with_named_enums(personas: Personas) -> None:
    schema = yaml.safe_load(personas.a.client(Role.PARTICIPANT).get(f"{API}/schema/").content)
    org = f"{API}/organisations/{{org}}/"
    cycle = f"{org}cycles/{{id}}/"
    plan = f"{org}plans/{{id}}/"
    assert {
        f"{org}people/",
        f"{org}people/import/",
        f"{org}people/{{id}}/",
        f"{org}people/{{id}}/quick-checks/",
        f"{org}people/{{id}}/psychometrics/",
        f"{org}psychometrics/import/",
        f"{org}cycles/",
        cycle,
        f"{cycle}open/",
        f"{cycle}close/",
        f"{cycle}people/",
        f"{cycle}raters/",
        f"{cycle}raters/{{rater}}/",
        f"{cycle}results/",
        f"{cycle}results/{{person}}/",
        f"{cycle}release/",
        f"{cycle}ratings/import/",
        f"{org}rating-forms/mine/",
        f"{org}rating-forms/{{id}}/",
        f"{org}rating-forms/{{id}}/amend/",
        f"{org}plans/",
        plan,
        f"{plan}actions/",
        f"{plan}actions/{{action}}/",
        f"{plan}close/",
    } <= set(schema["paths"])
    assert set(schema["paths"][f"{org}people/{{id}}/"]) == {"get", "put", "patch"}
    assert set(schema["paths"][f"{cycle}people/"]) == {"post", "delete"}
    components = schema["components"]["schemas"]
    assert components["CycleStatusEnum"]["enum"] == [s.value for s in CycleStatus]
    assert components["PersonKindEnum"]["enum"] == ["kam", "candidate"]
    assert components["RaterSourceEnum"]["enum"] == ["self", "manager", "peer", "other"]
    # The choice sets already published keep their names and values.
    assert components["KindEnum"]["enum"] == ["litmus", "responsibility"]
    assert components["VersionStatusEnum"]["enum"] == ["draft", "published"]
