"""Only owner and HR read their organisation's trail: page, API and filters (A37, T23)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kamfit.auditlog.services import record
from kamfit.orgs.models import Role
from tests.conftest import Personas
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _user(**kwargs: Any) -> User:
    return cast(User, UserFactory(**kwargs))


READERS = {Role.OWNER, Role.HR}


def _urls(slug: str) -> list[str]:
    return [reverse("auditlog:list", args=[slug]), reverse("api:audit-log", args=[slug])]


@pytest.mark.parametrize("role", list(Role))
def test_only_owner_and_hr_read_the_trail(personas: Personas, role: Role) -> None:
    side = personas.a
    record("auth.login", actor=side.users[role], organisation=side.org)
    for url in _urls(side.org.slug):
        response = side.client(role).get(url)
        assert response.status_code == (200 if role in READERS else 403), (url, role)


@pytest.mark.parametrize("role", sorted(READERS))
def test_another_organisations_trail_answers_404(personas: Personas, role: Role) -> None:
    for url in _urls(personas.b.org.slug):
        assert personas.a.client(role).get(url).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(personas: Personas) -> None:
    from django.test import Client

    page, api = _urls(personas.a.org.slug)
    assert Client().get(page).status_code == 302
    assert Client().get(api).status_code in {401, 403}


def test_the_api_lists_only_this_organisations_events_newest_first(personas: Personas) -> None:
    a, b = personas.a, personas.b
    record("auth.login", actor=a.users[Role.HR], organisation=a.org)
    record("auth.login", actor=b.users[Role.HR], organisation=b.org)
    record("results.released", actor=a.users[Role.HR], organisation=a.org, data={"released": 2})
    body = a.client(Role.HR).get(reverse("api:audit-log", args=[a.org.slug])).json()
    rows = body["results"]
    assert [r["action"] for r in rows] == ["results.released", "auth.login"]
    assert rows[0]["actor"] == a.users[Role.HR].username
    assert rows[0]["details"] == {"released": 2}
    assert rows[0]["via"] == "system"
    assert set(rows[0]) >= {"seq", "at", "object_type", "object_id", "request_id", "ip", "hash"}


def test_the_actor_is_shown_by_current_name_or_as_user_id_once_deleted(
    personas: Personas,
) -> None:
    side = personas.a
    user = _user(username="before")
    record("auth.login", actor=user, organisation=side.org)
    url = reverse("api:audit-log", args=[side.org.slug])
    user.username = "after"
    user.save()
    assert side.client(Role.HR).get(url).json()["results"][0]["actor"] == "after"
    user_id = user.pk
    user.delete()
    assert side.client(Role.HR).get(url).json()["results"][0]["actor"] == f"user #{user_id}"
    page = side.client(Role.HR).get(reverse("auditlog:list", args=[side.org.slug]))
    assert f"user #{user_id}" in page.content.decode()


def test_filters_by_action_family_actor_and_dates(personas: Personas) -> None:
    side = personas.a
    hr, owner = side.users[Role.HR], side.users[Role.OWNER]
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        record("auth.login", actor=hr, organisation=side.org)
    with time_machine.travel(dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC), tick=False):
        record("auth.logout", actor=hr, organisation=side.org)
        record("results.released", actor=owner, organisation=side.org)
    url = reverse("api:audit-log", args=[side.org.slug])
    client = side.client(Role.HR)

    def actions(**params: str) -> list[str]:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return [r["action"] for r in response.json()["results"]]

    assert actions(action="auth") == ["auth.logout", "auth.login"]
    assert actions(action="auth.login") == ["auth.login"]
    assert actions(actor=owner.username) == ["results.released"]
    assert actions(actor=str(hr.pk)) == ["auth.logout", "auth.login"]
    assert actions(since="2026-03-02") == ["results.released", "auth.logout"]
    assert actions(until="2026-03-01") == ["auth.login"]
    bad = client.get(url, {"since": "March", "action": "DROP TABLE"})
    assert bad.status_code == 400
    locations = {p["location"] for p in bad.json()["problems"]}
    assert locations == {"since", "action"}
    assert actions(actor="9" * 30) == []  # no such user, and no integer overflow
    assert actions(actor="\u00b2") == []  # a digit that is not 0-9
    assert actions(until="9999-12-31") == ["results.released", "auth.logout", "auth.login"]
    assert client.get(url, {"actor": "eve\x00"}).status_code == 400
    page = client.get(reverse("auditlog:list", args=[side.org.slug]), {"since": "March"})
    assert page.status_code == 200
    assert "since: &#x27;March&#x27; is not a date" in page.content.decode()


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["auditlog:list", "api:audit-log"])
def test_a_page_of_events_takes_the_same_queries_for_3_or_60_events(
    personas: Personas, name: str
) -> None:
    side = personas.a
    client = side.client(Role.OWNER)
    url = reverse(name, args=[side.org.slug])
    users = [_user() for _ in range(3)]
    for user in users:
        record("auth.login", actor=user, organisation=side.org)
    client.get(url)  # the session, warmed
    few = _queries(client, url)
    for n in range(57):
        record("auth.login", actor=users[n % 3] if n % 2 else _user(), organisation=side.org)
    assert _queries(client, url) == few
