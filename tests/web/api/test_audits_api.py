"""The readiness audit API: tenant scoping, roles, opening, answering, closing and results."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from django.test import Client

from kamfit.audits import services
from kamfit.audits.models import Answer, Audit, AuditItem, Respondent
from kamfit.audits.services import AnswerInput
from kamfit.orgs.models import Role
from tests.conftest import ROLES, Personas, Side

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

API = "/api/v1"
JSON = "application/json"
MANAGERS = (Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT)
READERS = (*MANAGERS, Role.MANAGER)
SECRET = "only-the-assessor-wrote-this"


def audits_url(side: Side) -> str:
    return f"{API}/organisations/{side.org.slug}/audits/"


def audit_url(side: Side, audit: Audit, suffix: str = "") -> str:
    return f"{audits_url(side)}{audit.pk}/{suffix}"


def send(client: Client, method: str, url: str, body: object = None) -> TestResponse:
    call = getattr(client, method)
    if method == "get":
        return call(url)  # type: ignore[no-any-return]
    return call(url, json.dumps(body or {}), content_type=JSON)  # type: ignore[no-any-return]


def opened(side: Side, title: str = "Readiness 2026", min_group_size: int = 3) -> Audit:
    # The organisation's k is a floor for every audit's (issue 5): lower it to the audit's.
    side.org.min_group_size = min(side.org.min_group_size, min_group_size)
    side.org.save(update_fields=["min_group_size"])
    return services.open_audit(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        version=side.published,
        title=title,
        element_keys=["risk"],
        min_group_size=min_group_size,
    )


def invited(side: Side, audit: Audit, role: Role, department: str = "sales") -> Respondent:
    return services.invite_member(audit=audit, user=side.users[role], department=department)


def every_answer(audit: Audit, rating: str = "good", comment: str = "") -> list[dict[str, Any]]:
    return [
        {"item": item.pk, "rating": rating, "comment": comment}
        for item in AuditItem.objects.filter(audit=audit)
    ]


def on_paper(audit: Audit, *ratings: str, department: str = "sales") -> None:
    """Store one submitted paper response per rating, answering every item with it."""
    keys = list(AuditItem.objects.filter(audit=audit).values_list("key", flat=True))
    services.import_paper_answers(
        audit=audit,
        responses=[
            services.PaperResponse(f"Sheet {n}", department, dict.fromkeys(keys, AnswerInput(r)))
            for n, r in enumerate(ratings)
        ],
    )


def open_body(side: Side, **changes: object) -> dict[str, Any]:
    body = {
        "title": "Readiness 2027",
        "framework": side.framework.pk,
        "version": side.published.number,
        "scope": "full",
        "elements": ["risk", "planning"],
        "min_group_size": 5,
    }
    return body | changes


def snapshot() -> tuple[list[tuple[Any, ...]], ...]:
    """Every audit, respondent and answer, to prove nothing changed."""
    return (
        list(Audit.objects.order_by("id").values_list("id", "title", "status")),
        list(Respondent.objects.order_by("id").values_list("id", "user_id", "status")),
        list(Answer.objects.order_by("id").values_list("id", "rating", "comment")),
    )


def problems(response: TestResponse) -> list[tuple[str, str]]:
    return [(p["location"], p["message"]) for p in response.json()["problems"]]


@pytest.fixture
def a_audit(personas: Personas) -> Audit:
    return opened(personas.a)


@pytest.fixture
def b_audit(personas: Personas) -> Audit:
    audit = opened(personas.b, title="Beta readiness")
    for role in ROLES:
        invited(personas.b, audit, role)
    return audit


# --- Tenant scoping ----------------------------------------------------------------------------

ANY_BODY = {
    "title": "Hacked",
    "name": "Mallory",
    "department": "sales",
    "answers": [],
    "submit": True,
}

# Org B's audit reached by a member of A: (method, url builder).
FOREIGN: dict[str, Callable[[Personas, Audit], tuple[str, str]]] = {
    "detail": lambda p, b: ("get", audit_url(p.a, b)),
    "results": lambda p, b: ("get", audit_url(p.a, b, "results/")),
    "invite": lambda p, b: ("post", audit_url(p.a, b, "respondents/")),
    "close": lambda p, b: ("post", audit_url(p.a, b, "close/")),
    "repeat": lambda p, b: ("post", audit_url(p.a, b, "repeat/")),
    "my-response": lambda p, b: ("get", audit_url(p.a, b, "my-response/")),
    "my-response-put": lambda p, b: ("put", audit_url(p.a, b, "my-response/")),
    "b-slug-list": lambda p, b: ("get", audits_url(p.b)),
    "b-slug-open": lambda p, b: ("post", audits_url(p.b)),
    "b-slug-detail": lambda p, b: ("get", audit_url(p.b, b)),
    "b-slug-results": lambda p, b: ("get", audit_url(p.b, b, "results/")),
    "b-slug-invite": lambda p, b: ("post", audit_url(p.b, b, "respondents/")),
    "b-slug-close": lambda p, b: ("post", audit_url(p.b, b, "close/")),
    "b-slug-repeat": lambda p, b: ("post", audit_url(p.b, b, "repeat/")),
    "b-slug-my-response": lambda p, b: ("get", audit_url(p.b, b, "my-response/")),
    "b-slug-my-response-put": lambda p, b: ("put", audit_url(p.b, b, "my-response/")),
}


@pytest.mark.parametrize(("role", "target"), [(r, t) for r in ROLES for t in FOREIGN])
def test_every_role_gets_404_for_the_other_organisations_audit_on_every_endpoint(
    personas: Personas, b_audit: Audit, role: Role, target: str
) -> None:
    method, url = FOREIGN[target](personas, b_audit)
    body = ANY_BODY | {"framework": personas.b.framework.pk, "version": 1, "elements": ["risk"]}
    before = snapshot()
    response = send(personas.a.client(role), method, url, body)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", ["", "results/", "my-response/"])
def test_anonymous_visitors_are_refused_on_the_audit_endpoints(
    personas: Personas, a_audit: Audit, endpoint: str
) -> None:
    response = Client().get(audit_url(personas.a, a_audit, endpoint))
    assert response.status_code in {401, 403}


# --- Roles in one's own organisation -----------------------------------------------------------

# What each action needs: (method, url builder, body builder, success status, roles allowed).
Url = Callable[[Side, Audit], str]
Body = Callable[[Side], object]
OWN: dict[str, tuple[str, Url, Body, int, tuple[Role, ...]]] = {
    "list": ("get", lambda s, a: audits_url(s), lambda s: None, 200, READERS),
    "detail": ("get", lambda s, a: audit_url(s, a), lambda s: None, 200, READERS),
    "results": ("get", lambda s, a: audit_url(s, a, "results/"), lambda s: None, 200, READERS),
    "open": ("post", lambda s, a: audits_url(s), open_body, 201, MANAGERS),
    "invite": (
        "post",
        lambda s, a: audit_url(s, a, "respondents/"),
        lambda s: {"name": "Pat Paper", "department": "finance"},
        201,
        MANAGERS,
    ),
    "close": ("post", lambda s, a: audit_url(s, a, "close/"), lambda s: None, 200, MANAGERS),
    "repeat": ("post", lambda s, a: audit_url(s, a, "repeat/"), lambda s: None, 201, MANAGERS),
}


@pytest.mark.parametrize(("role", "action"), [(r, a) for r in ROLES for a in OWN])
def test_each_role_may_do_exactly_what_its_audit_permissions_allow(
    personas: Personas, a_audit: Audit, role: Role, action: str
) -> None:
    method, url, body, success, allowed = OWN[action]
    side = personas.a
    before = snapshot()
    response = send(side.client(role), method, url(side, a_audit), body(side))
    if role in allowed:
        assert response.status_code == success, response.content
        return
    assert response.status_code == 403
    assert "may not" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("role", READERS)
def test_only_roles_that_manage_audits_see_who_was_asked(
    personas: Personas, a_audit: Audit, role: Role
) -> None:
    a = personas.a
    invited(a, a_audit, Role.PARTICIPANT, "kam")
    detail = a.client(role).get(audit_url(a, a_audit)).json()
    assert detail["invited"] == 1
    if role not in MANAGERS:
        assert detail["respondents"] is None
        return
    assert detail["respondents"] == [
        {
            "id": Respondent.objects.get().pk,
            "name": "alpha-participant",
            "department": "kam",
            "how": "member",
            "status": "invited",
        }
    ]


def test_the_list_is_paginated_with_the_documented_fields(
    personas: Personas, a_audit: Audit
) -> None:
    a = personas.a
    invited(a, a_audit, Role.PARTICIPANT)
    body = a.client(Role.MANAGER).get(audits_url(a)).json()
    assert body["count"] == 1
    assert body["next"] is None
    [row] = body["results"]
    assert row == {
        "id": a_audit.pk,
        "title": "Readiness 2026",
        "version": {"framework": a.framework.pk, "number": 1},
        "scope": "full",
        "status": "open",
        "min_group_size": 3,
        "created_at": row["created_at"],
        "previous": None,
        "invited": 1,
        "submitted": 0,
    }


# --- Opening an audit --------------------------------------------------------------------------


def test_opening_an_audit_freezes_its_questions_and_answers_201(personas: Personas) -> None:
    a = personas.a
    response = send(a.client(Role.HR), "post", audits_url(a), open_body(a))
    assert response.status_code == 201
    body = response.json()
    audit = Audit.objects.get(pk=body["id"])
    assert audit.organisation == a.org
    assert body["elements"] == ["risk", "planning"]
    assert body["questions"] == AuditItem.objects.filter(audit=audit).count() == 7 + 2 + 5
    assert body["respondents"] == []
    assert (body["status"], body["min_group_size"], body["closed_at"]) == ("open", 5, None)


def test_an_audit_may_use_the_shipped_library_version(personas: Personas) -> None:
    a = personas.a
    body = open_body(a, framework=personas.library.pk, scope="litmus", elements=[])
    response = send(a.client(Role.OWNER), "post", audits_url(a), body)
    assert response.status_code == 201
    assert response.json()["version"] == {"framework": personas.library.pk, "number": 1}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"elements": ["risk", "nope"]}, [("elements", "unknown role element 'nope'")]),
        (
            {"min_group_size": 2},
            [("min_group_size", "must be between 3 and 10 respondents")],
        ),
        (
            {"min_group_size": 11, "elements": ["nope"], "title": " "},
            [
                ("min_group_size", "must be between 3 and 10 respondents"),
                ("title", "empty text"),
                ("elements", "unknown role element 'nope'"),
            ],
        ),
        ({"elements": []}, [("elements", "choose at least one role element")]),
        ({"version": 2}, [("version", "an audit needs a published framework version")]),
        ({"version": 9}, [("version", "unknown version of this framework")]),
        ({"scope": "everything"}, [("scope", '"everything" is not a valid choice.')]),
        ({"min_group_size": "five"}, [("min_group_size", "A valid integer is required.")]),
        ({"title": None}, [("title", "This field may not be null.")]),
    ],
    ids=[
        "unknown-element",
        "group-of-2",
        "every-problem-at-once",
        "no-element",
        "draft",
        "no-such-version",
        "unknown-scope",
        "not-a-number",
        "no-title",
    ],
)
def test_opening_an_audit_with_bad_input_answers_400_naming_each_field(
    personas: Personas, changes: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    a = personas.a
    before = snapshot()
    response = send(a.client(Role.DIRECTOR), "post", audits_url(a), open_body(a, **changes))
    assert response.status_code == 400
    assert response.json()["detail"] == "invalid"
    assert problems(response) == expected
    assert snapshot() == before


def test_another_organisations_framework_is_unknown_when_opening_an_audit(
    personas: Personas,
) -> None:
    a = personas.a
    body = open_body(a, framework=personas.b.framework.pk)
    response = send(a.client(Role.OWNER), "post", audits_url(a), body)
    assert response.status_code == 400
    assert problems(response) == [("framework", "unknown framework")]
    assert not Audit.objects.exists()


# --- Respondents and answers -------------------------------------------------------------------


def test_a_member_is_invited_answers_submits_and_cannot_change_the_answers_after(
    personas: Personas, a_audit: Audit
) -> None:
    a = personas.a
    participant = a.users[Role.PARTICIPANT]
    invite = {"user": participant.pk, "department": "supply_chain"}
    url = audit_url(a, a_audit, "respondents/")
    response = send(a.client(Role.CONSULTANT), "post", url, invite)
    assert response.status_code == 201
    created = response.json()
    assert created | {"id": 0} == {
        "id": 0,
        "name": "alpha-participant",
        "department": "supply_chain",
        "how": "member",
        "status": "invited",
        "link": None,
    }

    client, url = a.client(Role.PARTICIPANT), audit_url(a, a_audit, "my-response/")
    mine = client.get(url).json()
    assert (mine["id"], mine["status"]) == (created["id"], "invited")
    assert mine["audit"] == {"id": a_audit.pk, "title": "Readiness 2026", "open": True}
    assert len(mine["items"]) == 9
    assert {(i["rating"], i["comment"]) for i in mine["items"]} == {(None, "")}
    first = mine["items"][0]
    assert (first["kind"], first["role"], first["element"]) == ("litmus", None, None)
    assert mine["items"][-1]["kind"] == "responsibility"

    some = [{"item": first["id"], "rating": "dont_know", "comment": "  New here  "}]
    saved = send(client, "put", url, {"answers": some}).json()
    assert saved["status"] == "started"
    assert (saved["items"][0]["rating"], saved["items"][0]["comment"]) == ("dont_know", "New here")
    assert saved["items"][1]["rating"] is None

    send(client, "put", url, {"answers": every_answer(a_audit, "fair")})
    done = send(client, "put", url, {"submit": True})
    assert done.status_code == 200
    assert done.json()["status"] == "submitted"
    assert {i["rating"] for i in done.json()["items"]} == {"fair"}

    before = snapshot()
    again = send(client, "put", url, {"answers": every_answer(a_audit, "poor"), "submit": True})
    assert again.status_code == 409
    assert again.json() == {"detail": "These answers were submitted and are final."}
    assert snapshot() == before
    assert client.get(url).json()["status"] == "submitted"


def test_submitting_needs_an_answer_to_every_item_but_keeps_those_given(
    personas: Personas, a_audit: Audit
) -> None:
    a = personas.a
    invited(a, a_audit, Role.ASSESSOR)
    url, client = audit_url(a, a_audit, "my-response/"), a.client(Role.ASSESSOR)
    body = {"answers": every_answer(a_audit)[:3], "submit": True}
    response = send(client, "put", url, body)
    assert response.status_code == 400
    assert problems(response) == [("answers", "6 question(s) still need an answer (or Don't know)")]
    mine = client.get(url).json()
    assert mine["status"] == "started"
    assert [i["rating"] for i in mine["items"]] == ["good"] * 3 + [None] * 6


def test_bad_answers_are_located_and_nothing_is_saved(
    personas: Personas, a_audit: Audit, b_audit: Audit
) -> None:
    a = personas.a
    invited(a, a_audit, Role.ASSESSOR)
    url = audit_url(a, a_audit, "my-response/")
    client = a.client(Role.ASSESSOR)
    first, second = AuditItem.objects.filter(audit=a_audit)[:2]
    foreign = AuditItem.objects.filter(audit=b_audit).first()
    assert foreign is not None
    before = snapshot()
    bad_rating = {"answers": [{"item": first.pk, "rating": "great"}]}
    response = send(client, "put", url, bad_rating)
    assert problems(response) == [("answers[0].rating", '"great" is not a valid choice.')]
    twice = {"answers": [{"item": second.pk, "rating": "good"}] * 2}
    assert problems(send(client, "put", url, twice)) == [("answers[1].item", "the same item twice")]
    other = {"answers": [{"item": foreign.pk, "rating": "good"}]}
    response = send(client, "put", url, other)
    assert response.status_code == 400
    assert problems(response) == [(f"item {foreign.pk}", "not a question of this audit")]
    assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_a_member_who_was_not_invited_gets_404_for_my_response(
    personas: Personas, a_audit: Audit, role: Role
) -> None:
    a = personas.a
    url = audit_url(a, a_audit, "my-response/")
    assert a.client(role).get(url).status_code == 404
    response = send(a.client(role), "put", url, {"answers": every_answer(a_audit)})
    assert response.status_code == 404
    assert not Answer.objects.exists()


def test_a_private_link_is_answered_once_with_its_absolute_url(
    personas: Personas, a_audit: Audit
) -> None:
    a = personas.a
    body = {"name": "Sam Supplier", "department": "customer_service"}
    response = send(a.client(Role.OWNER), "post", audit_url(a, a_audit, "respondents/"), body)
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "Sam Supplier"
    assert (created["how"], created["status"]) == ("link", "invited")
    assert created["link"].startswith("http://testserver/r/")
    assert Client().get(created["link"]).status_code == 200
    detail = a.client(Role.OWNER).get(audit_url(a, a_audit)).content.decode()
    assert created["link"].removeprefix("http://testserver") not in detail
    assert "link" not in a.client(Role.OWNER).get(audit_url(a, a_audit)).json()["respondents"][0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"department": "sales"}, ("user", "give either user (a member's ID) or name")),
        ({"user": 1, "name": "X", "department": "sales"}, ("user", "give either user")),
        ({"name": " ", "department": "sales"}, ("name", "empty text")),
        ({"name": "X", "department": "legal"}, ("department", '"legal" is not a valid choice.')),
    ],
    ids=["neither", "both", "blank-name", "unknown-department"],
)
def test_inviting_with_bad_input_answers_400(
    personas: Personas, a_audit: Audit, body: dict[str, object], expected: tuple[str, str]
) -> None:
    a = personas.a
    response = send(a.client(Role.HR), "post", audit_url(a, a_audit, "respondents/"), body)
    assert response.status_code == 400
    [(location, message)] = problems(response)
    assert (location, message[: len(expected[1])]) == expected
    assert not Respondent.objects.exists()


def test_only_members_of_the_organisation_are_invited_and_only_once(
    personas: Personas, a_audit: Audit
) -> None:
    a, url = personas.a, audit_url(personas.a, a_audit, "respondents/")
    client = a.client(Role.DIRECTOR)
    outsider = {"user": personas.b.users[Role.OWNER].pk, "department": "sales"}
    response = send(client, "post", url, outsider)
    assert problems(response) == [("user", "not a member of this organisation")]
    member = {"user": a.users[Role.MANAGER].pk, "department": "sales"}
    assert send(client, "post", url, member).status_code == 201
    response = send(client, "post", url, member)
    assert problems(response) == [("user", "alpha-manager is already invited")]
    assert Respondent.objects.count() == 1


# --- Closing and repeating ---------------------------------------------------------------------


def test_a_closed_audit_refuses_closing_inviting_and_answering_with_409(
    personas: Personas, a_audit: Audit
) -> None:
    a, client = personas.a, personas.a.client(Role.DIRECTOR)
    invited(a, a_audit, Role.PARTICIPANT)
    response = send(client, "post", audit_url(a, a_audit, "close/"))
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["closed_at"] is not None
    before = snapshot()
    assert send(client, "post", audit_url(a, a_audit, "close/")).status_code == 409
    invite = {"name": "Late Larry", "department": "it"}
    response = send(client, "post", audit_url(a, a_audit, "respondents/"), invite)
    assert response.status_code == 409
    assert response.json() == {"detail": "This audit is closed."}
    answer = {"answers": every_answer(a_audit)}
    url = audit_url(a, a_audit, "my-response/")
    assert send(a.client(Role.PARTICIPANT), "put", url, answer).status_code == 409
    assert a.client(Role.PARTICIPANT).get(url).json()["audit"]["open"] is False
    assert snapshot() == before


def test_a_repeated_audit_points_to_the_previous_one_and_shows_the_change(
    personas: Personas, a_audit: Audit
) -> None:
    a, client = personas.a, personas.a.client(Role.DIRECTOR)
    on_paper(a_audit, "poor", "poor", "poor")
    response = send(client, "post", audit_url(a, a_audit, "repeat/"), {"title": "Next year"})
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["previous"]) == ("Next year", a_audit.pk)
    assert body["elements"] == ["risk"]
    repeat = Audit.objects.get(pk=body["id"])
    on_paper(repeat, "good", "good", "fair")
    results = client.get(audit_url(a, repeat, "results/")).json()
    changes = [x["change"] for x in results["litmus"] + results["responsibilities"]]
    assert changes == [pytest.approx(250 / 3)] * 9
    untitled = send(client, "post", audit_url(a, a_audit, "repeat/")).json()
    assert untitled["title"] == "Readiness 2026 (repeat)"


# --- Results and anonymity ---------------------------------------------------------------------


def test_results_hold_the_aggregates_and_never_a_respondents_answers(
    personas: Personas, a_audit: Audit
) -> None:
    a = personas.a
    ratings = ((Role.PARTICIPANT, "good"), (Role.ASSESSOR, "fair"), (Role.MANAGER, "dont_know"))
    for role, rating in ratings:
        respondent = invited(a, a_audit, role)
        answers = {
            i.pk: AnswerInput(rating, f"{SECRET} {role}")
            for i in AuditItem.objects.filter(audit=a_audit)
        }
        services.save_answers(respondent=respondent, answers=answers, submit=True)
    invited(a, a_audit, Role.OWNER)
    response = a.client(Role.MANAGER).get(audit_url(a, a_audit, "results/"))
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert "alpha-participant" not in response.content.decode()
    r = response.json()
    assert (r["invited"], r["submitted"], r["response_rate"]) == (4, 3, 0.75)
    assert r["withheld"] is False
    item = r["litmus"][0]
    assert item | {"key": "", "text": ""} == {
        "key": "",
        "text": "",
        "element": None,
        "score": 75.0,
        "answered": 2,
        "dont_know": 1,
        "counts": {"poor": 0, "fair": 1, "good": 1},
        "spread": 25.0,
        "change": None,
    }
    assert {x["element"] for x in r["responsibilities"]} == {"risk"}
    assert [(e["key"], e["score"]) for e in r["elements"]] == [("risk", 75.0)]
    assert [x["title"] for x in r["roles"]] == ["Delivering strategy"]
    assert len(r["weakest"]) == 5
    assert r["breakdown"]["labels"] == []
    assert r["breakdown"]["means"] == []
    assert "No breakdown by department is shown" in r["breakdown"]["note"]


def test_a_department_of_two_respondents_never_shows_in_the_results(personas: Personas) -> None:
    a = personas.a
    a.org.min_group_size = 3  # the organisation's k is a floor for the audit's (issue 5)
    a.org.save(update_fields=["min_group_size"])
    audit = services.open_audit(
        organisation=a.org,
        user=a.users[Role.OWNER],
        version=a.published,
        title="Litmus",
        scope="litmus",
        min_group_size=3,
    )
    on_paper(audit, *["good"] * 4, department="sales")
    on_paper(audit, *["fair"] * 3, department="marketing")
    on_paper(audit, *["poor"] * 2, department="finance")
    r = a.client(Role.DIRECTOR).get(audit_url(a, audit, "results/")).json()
    breakdown = r["breakdown"]
    assert breakdown["labels"] == ["Sales", "Other departments"]
    assert breakdown["sizes"] == [4, 5]
    assert "Finance" not in json.dumps(r)
    assert {tuple(row["means"]) for row in breakdown["means"]} == {(100.0, 30.0)}
    assert {tuple(row["suppressed"]) for row in breakdown["means"]} == {(False, False)}
    assert breakdown["min_group_size"] == 3
    assert "pooled" in breakdown["note"]
    assert r["litmus"][0]["counts"] == {"poor": 2, "fair": 3, "good": 4}
    # At the organisation's default k of 5, Sales (4) is too small and nothing is left
    # to break down: the audit's own 3 does not lower it.
    a.org.min_group_size = 5
    a.org.save(update_fields=["min_group_size"])
    r = a.client(Role.DIRECTOR).get(audit_url(a, audit, "results/")).json()
    assert (r["breakdown"]["labels"], r["breakdown"]["min_group_size"]) == ([], 5)


def test_a_participant_never_reaches_another_respondents_answers(
    personas: Personas, a_audit: Audit
) -> None:
    a = personas.a
    other = invited(a, a_audit, Role.ASSESSOR)
    answers = {i.pk: AnswerInput("poor", SECRET) for i in AuditItem.objects.filter(audit=a_audit)}
    services.save_answers(respondent=other, answers=answers, submit=True)
    invited(a, a_audit, Role.PARTICIPANT)
    client = a.client(Role.PARTICIPANT)
    mine = audit_url(a, a_audit, "my-response/")
    send(client, "put", mine, {"answers": every_answer(a_audit, "good", "my own view")})
    responses = [
        client.get(audits_url(a)),
        client.get(audit_url(a, a_audit)),
        client.get(audit_url(a, a_audit, "results/")),
        client.get(mine),
        send(client, "put", mine, {"answers": []}),
        send(client, "post", audit_url(a, a_audit, "respondents/"), {"name": "X"}),
        client.get(f"{API}/schema/?format=json"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 200, 200, 403, 200]
    for response in responses:
        assert SECRET not in response.content.decode()
        assert "poor" not in json.dumps(response.json().get("items", []))
    items = client.get(mine).json()["items"]
    assert {(i["rating"], i["comment"]) for i in items} == {("good", "my own view")}
    for role in READERS:
        for url in (audit_url(a, a_audit), audit_url(a, a_audit, "results/")):
            assert SECRET not in a.client(role).get(url).content.decode()


def test_results_show_no_score_until_enough_people_have_submitted(
    personas: Personas, a_audit: Audit
) -> None:
    a = personas.a
    on_paper(a_audit, "good", "poor")
    r = a.client(Role.OWNER).get(audit_url(a, a_audit, "results/")).json()
    assert (r["submitted"], r["withheld"]) == (2, True)
    assert r["litmus"] == r["responsibilities"] == r["elements"] == r["weakest"] == []
    assert r["breakdown"]["means"] == []
    assert "at least 3 respondents have submitted" in r["breakdown"]["note"]


def test_the_schema_lists_every_audit_path(personas: Personas) -> None:
    schema = yaml.safe_load(personas.a.client(Role.PARTICIPANT).get(f"{API}/schema/").content)
    audit = f"{API}/organisations/{{org}}/audits/{{id}}/"
    assert {
        f"{API}/organisations/{{org}}/audits/",
        audit,
        f"{audit}results/",
        f"{audit}respondents/",
        f"{audit}close/",
        f"{audit}repeat/",
        f"{audit}my-response/",
    } <= set(schema["paths"])
    assert set(schema["paths"][f"{audit}my-response/"]) == {"get", "put"}


def test_a_participant_finds_the_audits_they_are_asked_to_answer(personas: Personas) -> None:
    a, b = personas.a, personas.b
    audit = services.open_audit(
        organisation=a.org,
        user=None,
        version=a.published,
        title="Mine to answer",
        element_keys=["risk"],
    )
    services.open_audit(
        organisation=a.org, user=None, version=a.published, title="Not mine", element_keys=["risk"]
    )
    services.invite_member(audit=audit, user=a.users[Role.PARTICIPANT], department="sales")
    url = f"/api/v1/organisations/{a.org.slug}/audits/mine/"
    response = a.client(Role.PARTICIPANT).get(url)
    assert response.status_code == 200
    assert response.json() == [
        {"audit": {"id": audit.pk, "title": "Mine to answer", "open": True}, "status": "invited"}
    ]
    assert a.client(Role.DIRECTOR).get(url).json() == []
    assert b.client(Role.PARTICIPANT).get(url).status_code == 404
