"""T9: no state change without a CSRF token, and no GET changes the database (A12).

Every route gets POST, PUT, PATCH and DELETE from a signed-in (cookie) user without a
token: each must answer 403 before the view runs. Then every route is read with GET by
every role, and the database content hash must not move.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from kamfit.orgs.models import Role
from tests.conftest import Team
from tests.ops.dbhash import changed_tables, table_hashes
from tests.security.hardening.routes import World, all_routes, url_of

UNSAFE = ("post", "put", "patch", "delete")
# Rows a read is meant to write: the session (last activity, for the idle timeout) and
# the audit trail, which records reads of sensitive data (RELIABILITY A35, T31).
WRITTEN_BY_READS = ("django_session", "accounts_usersession", "auditlog_")
# Views exempt from Django's CSRF middleware that check the token themselves after
# refusing other methods (so PUT, PATCH and DELETE get 405 without running).
OWN_CSRF_CHECK = {"audits:import"}


@pytest.mark.parametrize("method", UNSAFE)
def test_unsafe_methods_without_a_csrf_token_are_refused_on_every_route(
    world: World, team: Team, method: str
) -> None:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(team.side.users[Role.HR])
    client.get("/", secure=True)  # a CSRF cookie, as a browser would hold
    before = _hashes()
    answers = {
        route.name: getattr(client, method)(url_of(route, world), secure=True).status_code
        for route in all_routes()
    }
    refused = {403, 405} if method != "post" else {403}
    wrong = {
        name: code
        for name, code in answers.items()
        if code != 403 and not (name in OWN_CSRF_CHECK and code in refused)
    }
    assert wrong == {}
    assert changed_tables(before, _hashes()) == []


def test_every_get_as_every_role_leaves_the_database_unchanged(world: World, team: Team) -> None:
    before = _hashes()
    clients = [Client(raise_request_exception=False)]
    for role in Role:
        client = Client(raise_request_exception=False)
        client.force_login(team.side.users[role])
        clients.append(client)
    before = _hashes()  # after the logins, which write sessions
    errors = []
    for client in clients:
        for route in all_routes():
            response = client.get(url_of(route, world), secure=True)
            if response.status_code >= 500:
                errors.append(route.name)
    assert errors == []
    assert changed_tables(before, _hashes()) == []


def test_the_mfa_enrolment_page_changes_nothing_on_get(world: World, team: Team) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(team.side.users[Role.PARTICIPANT])
    before = _hashes()
    client.get("/account/mfa/enrol/", secure=True)
    assert changed_tables(before, _hashes()) == []


def test_the_database_hash_sees_a_change(world: World, team: Team) -> None:
    """The check above can fail: a changed row changes its table's hash."""
    before = _hashes()
    team.kam.job_title = "Changed"
    team.kam.save()
    assert changed_tables(before, _hashes()) == ["assessments_person"]


def _hashes() -> dict[str, str]:
    with connection.cursor() as cursor:
        hashes = table_hashes(cursor, connection.vendor)
    return {t: h for t, h in hashes.items() if not t.startswith(WRITTEN_BY_READS)}
