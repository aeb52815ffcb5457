"""No lost update (A25): every editable record's API answers an ETag and honours If-Match.

For each record: its GET answers an ``ETag`` that stays the same while nothing changes; a
write with the tag just read succeeds and answers the record's new ETag (the one the next
GET gives); repeating a write with the tag read *before* that change answers 412 and
changes nothing in the database. A write without If-Match still works, as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client

from kamfit.audits import services as audit_services
from kamfit.development import services as plans
from kamfit.orgs.models import Role
from kamfit.profiles import services as profile_services
from tests.conftest import Team, published_profile
from tests.ops.dbhash import table_hashes
from tests.web.api.test_assessments_api import rate_kam

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

API = "/api/v1/organisations/alpha"
# Rows an attempt may add without changing any record: the audit trail and sessions.
_BOOKKEEPING = ("auditlog_", "django_session", "axes_", "members_")


@dataclass(frozen=True)
class Case:
    """One editable record: who writes, where it is read, and the write to make."""

    role: Role
    read: str
    method: str
    write: str
    body: Callable[[dict[str, Any]], Any] | None = None  # from the GET's JSON


def _rows() -> dict[str, str]:
    with connection.cursor() as cursor:
        hashes = table_hashes(cursor, connection.vendor)
    return {k: v for k, v in hashes.items() if not k.startswith(_BOOKKEEPING)}


def _send(
    client: Client, method: str, url: str, body: object = None, tag: str | None = None
) -> TestResponse:
    headers = {"HTTP_IF_MATCH": tag} if tag is not None else {}
    call = getattr(client, method)
    if method == "delete":
        return call(url, **headers)  # type: ignore[no-any-return]
    data = json.dumps(body if body is not None else {})
    return call(url, data, content_type="application/json", **headers)  # type: ignore[no-any-return]


def _cycle(team: Team) -> str:
    return f"{API}/cycles/{team.cycle.pk}/"


def _plan(team: Team) -> tuple[str, int]:
    rate_kam(team)
    plan = plans.create_plan(team.assessee(team.kam), team.side.users[Role.HR])
    return f"{API}/plans/{plan.pk}/", plan.actions.order_by("id").first().pk  # type: ignore[union-attr]


def _audit(team: Team) -> str:
    audit = audit_services.open_audit(
        organisation=team.side.org,
        user=team.side.users[Role.DIRECTOR],
        version=team.side.published,
        title="Readiness 2026",
        element_keys=["risk"],
        min_group_size=3,
    )
    audit_services.invite_member(
        audit=audit, user=team.side.users[Role.PARTICIPANT], department="sales"
    )
    return f"{API}/audits/{audit.pk}/"


def _profile_draft(team: Team) -> str:
    version = published_profile(team.side, title="Strategic account manager")
    draft = profile_services.start_new_draft(version.profile, team.side.users[Role.DIRECTOR])
    return f"{API}/profiles/{version.profile.pk}/versions/{draft.number}/"


def _exercise(team: Team) -> str:
    exercise = profile_services.open_exercise(
        organisation=team.side.org,
        user=team.side.users[Role.HR],
        version=team.profile,
        title="Weights 2026",
        method="points",
    )
    return f"{API}/weighting-exercises/{exercise.pk}/"


def _framework_draft(team: Team) -> str:
    return f"{API}/frameworks/{team.side.framework.pk}/versions/{team.side.draft.number}/"


def _retitled(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "title": f"{doc['title']} (edited)"}


def _answers(doc: dict[str, Any]) -> dict[str, Any]:
    answers = [{"item": i["id"], "rating": "good", "comment": ""} for i in doc["items"]]
    return {"answers": answers, "submit": False}


def _person(team: Team, method: str, body: dict[str, str]) -> Case:
    return Case(Role.HR, f"{API}/people/{team.colleague.pk}/", method, "", lambda d: body)


def _cycle_case(team: Team, method: str, write: str, body: object = None) -> Case:
    return Case(Role.HR, _cycle(team), method, write, (lambda d: body) if body else None)


def _plan_action(team: Team) -> Case:
    url, action = _plan(team)
    return Case(Role.HR, url, "patch", f"actions/{action}/", lambda d: {"progress_note": "Half"})


def _rater(team: Team) -> Case:
    rater = team.rater(team.kam, team.peers[0])
    return _cycle_case(team, "delete", f"raters/{rater.pk}/")


BUILDERS: dict[str, Callable[[Team], Case]] = {
    "person PUT": lambda t: _person(t, "put", {"name": "Casey Renamed"}),
    "person PATCH": lambda t: _person(t, "patch", {"unit": "North"}),
    "cycle PATCH": lambda t: _cycle_case(t, "patch", "", {"title": "Autumn review"}),
    "cycle close": lambda t: _cycle_case(t, "post", "close/"),
    "cycle remove person": lambda t: _cycle_case(t, "delete", "people/?person=kam-4"),
    "cycle add rater": lambda t: _cycle_case(
        t, "post", "raters/", {"person": "kam-3", "username": "alpha-peer2", "source": "peer"}
    ),
    "cycle remove rater": _rater,
    "plan action PATCH": _plan_action,
    "plan close": lambda t: Case(Role.HR, _plan(t)[0], "post", "close/"),
    "audit close": lambda t: Case(Role.DIRECTOR, _audit(t), "post", "close/"),
    "my audit answers PUT": lambda t: Case(
        Role.PARTICIPANT, _audit(t) + "my-response/", "put", "", _answers
    ),
    "profile version PATCH": lambda t: Case(
        Role.DIRECTOR, _profile_draft(t), "patch", "", lambda d: {"title": "Key AM"}
    ),
    "profile version publish": lambda t: Case(Role.DIRECTOR, _profile_draft(t), "post", "publish/"),
    "weighting exercise close": lambda t: Case(Role.HR, _exercise(t), "post", "close/"),
    "framework draft PUT": lambda t: Case(Role.DIRECTOR, _framework_draft(t), "put", "", _retitled),
}
CASES = list(BUILDERS)


def _tag(response: TestResponse) -> str:
    assert response.status_code == 200, response.content
    tag = response.headers.get("ETag", "")
    assert tag.startswith('"') and len(tag) == 66, tag  # a quoted SHA-256
    return tag


@pytest.mark.parametrize("name", CASES)
def test_a_stale_if_match_answers_412_and_changes_nothing(team: Team, name: str) -> None:
    case = BUILDERS[name](team)
    client = team.side.client(case.role)
    first = client.get(case.read)
    tag = _tag(first)
    assert _tag(client.get(case.read)) == tag  # stable while nothing changes
    body = case.body(first.json()) if case.body else None

    wrong = _send(client, case.method, case.read + case.write, body, '"' + "0" * 64 + '"')
    assert wrong.status_code == 412, wrong.content

    done = _send(client, case.method, case.read + case.write, body, tag)
    assert done.status_code in {200, 201, 204}, done.content
    new = done.headers.get("ETag")
    assert new is not None and new != tag
    assert _tag(client.get(case.read)) == new  # the answer's ETag is the record's new one

    before = _rows()
    again = _send(client, case.method, case.read + case.write, body, tag)  # the lost update
    # 412 for a write that would have worked on the version named; a write the new state
    # refuses anyway gets that refusal (closing a closed cycle 409, removing a removed
    # rater 404, adding a rater twice 400, editing a published version 403). Never a change.
    assert again.status_code in {400, 403, 404, 409, 412}, again.content
    if again.status_code == 412:
        assert "changed since you read it" in again.json()["detail"]
    assert _rows() == before


def test_an_invalid_body_with_a_stale_if_match_answers_400_not_412(team: Team) -> None:
    client = team.side.client(Role.HR)
    url = f"{API}/people/{team.colleague.pk}/"
    before = _rows()
    wrong = _send(client, "patch", url, {"active": "not a boolean"}, '"' + "0" * 64 + '"')
    assert wrong.status_code == 400, wrong.content
    assert _rows() == before


def test_a_weak_or_unquoted_if_match_is_the_same_tag(team: Team) -> None:
    client = team.side.client(Role.HR)
    url = f"{API}/people/{team.colleague.pk}/"
    tag = _tag(client.get(url)).strip('"')
    assert _send(client, "patch", url, {"unit": "South"}, f'W/"{tag}"').status_code == 200
    tag = _tag(client.get(url)).strip('"')
    assert _send(client, "patch", url, {"unit": "East"}, tag).status_code == 200


def test_a_write_without_if_match_works_as_before(team: Team) -> None:
    client = team.side.client(Role.HR)
    url = f"{API}/people/{team.colleague.pk}/"
    before = _tag(client.get(url))
    response = _send(client, "patch", url, {"unit": "West"})
    assert response.status_code == 200
    assert response.json()["unit"] == "West"
    assert response.headers["ETag"] != before


def test_another_organisations_record_answers_404_not_412(team: Team) -> None:
    beta = team.side.client(Role.HR)
    url = f"/api/v1/organisations/beta/people/{team.colleague.pk}/"
    response = _send(beta, "patch", url, {"unit": "X"}, '"' + "0" * 64 + '"')
    assert response.status_code == 404


def test_the_schema_declares_if_match_etag_and_412(team: Team) -> None:
    client = team.side.client(Role.HR)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    person = schema["paths"]["/api/v1/organisations/{org}/people/{id}/"]
    names = [p["name"] for p in person["patch"]["parameters"] if p["in"] == "header"]
    assert "If-Match" in names
    assert "412" in person["patch"]["responses"]
    assert "ETag" in person["get"]["responses"]["200"].get("headers", {})
