"""The stricter per-user limit on bulk exports (RELIABILITY A20, T10).

``KAMFIT_EXPORT_RATE`` (default 30 exports every 10 minutes) counts file downloads on
the pages and export operations on the API in one per-user count. The test settings
switch it off (``EXPORT_RATE = None``); these tests switch it on with
``override_settings`` at 3 every 10 minutes, and freeze the clock with time-machine so
that ``Retry-After`` is exact.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from kamfit.auditlog.models import AuditEvent
from kamfit.audits import services as audit_services
from kamfit.members.tokens import issue_token
from kamfit.orgs.models import Role
from kamfit.web.export_limit import ExportRateThrottle, describe_rate, parse_rate
from tests.conftest import Personas, Side, Team

pytestmark = pytest.mark.django_db

LIMIT = 3
RATE = f"{LIMIT}/10min"
WINDOW = 600
SAID = "at most 3 exports every 10 minutes per user"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A frozen clock, so that every export in a test falls at the same instant."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def export_limit(clock: time_machine.Traveller) -> Iterator[None]:
    """The production limit, small: 3 exports every 10 minutes, from an empty count."""
    cache.clear()
    with override_settings(EXPORT_RATE=RATE):
        yield
    cache.clear()


def web_export(side: Side) -> str:
    """A page download: the organisation's people as CSV (owner, HR)."""
    return reverse("assessments:people_export", args=[side.org.slug])


def api_export(side: Side, pk: int | None = None) -> str:
    """An API export: the published framework version converted to CASE 1.0."""
    url = reverse("api:version", args=[side.org.slug, pk or side.framework.pk, 1])
    return url + "?as=case"


def fill(client: Client, url: str, times: int = LIMIT) -> None:
    for n in range(times):
        response = client.get(url)
        assert response.status_code == 200, (n, response.status_code)


def assert_api_refused(response: Any, retry_after: int = WINDOW) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    body = response.json()
    assert set(body) == {"detail"}  # the shared error shape
    assert SAID in body["detail"]


def assert_page_refused(response: Any, retry_after: int = WINDOW) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Too many exports" in page
    assert SAID in page
    assert "error id" in page


# --- parsing and the switch ---------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("30/10min", (30, 600)), ("200/min", (200, 60)), ("5/2h", (5, 7200)), ("1/day", (1, 86400))],
)
def test_rates_are_read_with_a_multiple_of_the_unit(rate: str, parsed: tuple[int, int]) -> None:
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "30", "0/min", "30/0min", "30 per 10 min", "-1/min"])
def test_a_bad_rate_is_refused_with_the_format(rate: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 30/10min"):
        parse_rate(rate)


def test_the_limit_is_said_in_plain_words() -> None:
    assert describe_rate(30, 600) == "30 exports every 10 minutes"
    assert describe_rate(1, 3600) == "1 export every hour"
    assert describe_rate(200, 60) == "200 exports every minute"


@pytest.mark.parametrize("value", ["lots", "30/fortnight", "0/10min"])
def test_a_bad_setting_stops_start_up_naming_the_variable(value: str) -> None:
    env = {**os.environ, "KAMFIT_EXPORT_RATE": value, "KAMFIT_SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [sys.executable, "-c", "import kamfit.web.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"KAMFIT_EXPORT_RATE={value!r}" in result.stderr


def test_the_default_is_30_every_10_minutes() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KAMFIT_EXPORT_RATE"}
    env["KAMFIT_SECRET_KEY"] = "x" * 50
    result = subprocess.run(
        [sys.executable, "-c", "from kamfit.web import settings; print(settings.EXPORT_RATE)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "30/10min"


def test_the_test_settings_leave_exports_unlimited(personas: Personas) -> None:
    cache.clear()
    client = personas.a.client(Role.HR)
    for url in (web_export(personas.a), api_export(personas.a)):
        assert [client.get(url).status_code for _ in range(35)] == [200] * 35


def test_anonymous_requests_are_never_counted() -> None:
    """Respondents answer through anonymous links: nothing they do uses a count."""
    with override_settings(EXPORT_RATE="1/10min"):
        throttle = ExportRateThrottle()
        assert all(throttle.allow_user(AnonymousUser()) for _ in range(5))
        assert throttle.key_for(AnonymousUser()) is None


# --- the limit on each channel -------------------------------------------------------


@pytest.mark.usefixtures("export_limit")
def test_the_api_export_over_the_limit_answers_429_with_retry_after(personas: Personas) -> None:
    client = personas.a.client(Role.HR)
    fill(client, api_export(personas.a))
    refused = client.get(api_export(personas.a))
    assert_api_refused(refused)
    assert "Expected available in 600 seconds" in refused.json()["detail"]


@pytest.mark.usefixtures("export_limit")
def test_a_page_download_over_the_limit_answers_a_429_page(personas: Personas) -> None:
    client = personas.a.client(Role.HR)
    fill(client, web_export(personas.a))
    refused = client.get(web_export(personas.a))
    assert_page_refused(refused)
    assert "Please try again in 10 minutes" in refused.content.decode()


@pytest.mark.usefixtures("export_limit")
def test_a_token_counts_with_the_session_of_the_same_user(personas: Personas) -> None:
    _, secret = issue_token(personas.a.users[Role.HR], personas.a.org, "script")
    script = Client(headers={"Authorization": f"Bearer {secret}"})
    fill(script, api_export(personas.a), times=2)
    fill(personas.a.client(Role.HR), web_export(personas.a), times=1)
    assert_api_refused(script.get(api_export(personas.a)))


@pytest.mark.usefixtures("export_limit")
def test_an_export_on_one_channel_counts_on_the_other(personas: Personas) -> None:
    client = personas.a.client(Role.HR)
    fill(client, api_export(personas.a), times=2)
    fill(client, web_export(personas.a), times=1)
    assert_page_refused(client.get(web_export(personas.a)))
    assert_api_refused(client.get(api_export(personas.a)))


def test_exports_work_again_once_the_window_has_passed(
    personas: Personas, export_limit: None, clock: time_machine.Traveller
) -> None:
    client = personas.a.client(Role.HR)
    fill(client, web_export(personas.a))
    clock.shift(dt.timedelta(seconds=WINDOW - 240))
    assert_page_refused(client.get(web_export(personas.a)), retry_after=240)
    assert_api_refused(client.get(api_export(personas.a)), retry_after=240)
    clock.shift(dt.timedelta(seconds=240))
    assert client.get(web_export(personas.a)).status_code == 200
    assert client.get(api_export(personas.a)).status_code == 200


@pytest.mark.usefixtures("export_limit")
def test_one_users_exports_do_not_limit_another(personas: Personas) -> None:
    fill(personas.a.client(Role.HR), web_export(personas.a))
    assert personas.a.client(Role.HR).get(web_export(personas.a)).status_code == 429
    assert personas.a.client(Role.OWNER).get(web_export(personas.a)).status_code == 200
    assert personas.a.client(Role.OWNER).get(api_export(personas.a)).status_code == 200
    assert personas.b.client(Role.HR).get(web_export(personas.b)).status_code == 200


@pytest.mark.usefixtures("export_limit")
def test_ordinary_reads_are_not_counted(team: Team) -> None:
    side, profile = team.side, team.profile
    slug, pk, number = side.org.slug, profile.profile.pk, profile.number
    reads = [
        reverse("assessments:people", args=[slug]),
        reverse("assessments:person", args=[slug, team.kam.pk]),
        reverse("assessments:team", args=[slug, team.cycle.pk]),
        reverse("profiles:jd", args=[slug, pk, number]),  # the page, not a file
        reverse("assessments:people_template", args=[slug, "people"]),  # a blank header
        reverse("frameworks:version", args=[slug, side.framework.pk, 1]),
        reverse("api:people", args=[slug]),
        reverse("api:person", args=[slug, team.kam.pk]),
        reverse("api:version", args=[slug, side.framework.pk, 1]),  # the JSON read
        reverse("api:job-description", args=[slug, pk, number]),  # JSON, no document
        reverse("api:cycle-results", args=[slug, team.cycle.pk]),
    ]
    client = side.client(Role.HR)
    for url in reads * 2:
        assert client.get(url).status_code == 200, url
    fill(client, web_export(side))
    assert client.get(web_export(side)).status_code == 429
    for url in reads:  # a user over the export limit still works
        assert client.get(url).status_code == 200, url


def _exports(team: Team) -> list[str]:
    """Every export address, pages and API (docs/security/hardening.md lists them)."""
    side, profile = team.side, team.profile
    slug, pk, number = side.org.slug, profile.profile.pk, profile.number
    side.org.min_group_size = 3
    side.org.save(update_fields=["min_group_size"])
    audit = audit_services.open_audit(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        version=side.published,
        title="Readiness",
        element_keys=["risk"],
        min_group_size=3,
    )
    return [
        reverse("assessments:people_export", args=[slug]),
        reverse("assessments:team_export", args=[slug, team.cycle.pk, "csv"]),
        reverse("assessments:team_export", args=[slug, team.cycle.pk, "xlsx"]),
        reverse("audits:export", args=[slug, audit.pk, "results", "csv"]),
        reverse("audits:export", args=[slug, audit.pk, "answers", "xlsx"]),
        reverse("frameworks:export", args=[slug, side.framework.pk, 1, "case"]),
        reverse("frameworks:export", args=[slug, side.framework.pk, 1, "json"]),
        reverse("profiles:jd_file", args=[slug, pk, number, "md"]),
        reverse("privacy:person_export", args=[slug, team.kam.pk]),
        reverse("privacy:my_export", args=[slug]),
        reverse("jobs:download", args=[slug, 999_999]),
        reverse("api:person-export", args=[slug, team.kam.pk]),
        reverse("api:job-description", args=[slug, pk, number]) + "?format=md",
        reverse("api:version", args=[slug, side.framework.pk, 1]) + "?as=yaml",
        reverse("api:version", args=[slug, side.framework.pk, 1]) + "?as=case",
    ]


def test_every_export_address_is_counted(team: Team, clock: time_machine.Traveller) -> None:
    """With one export allowed, the second request to any export address answers 429."""
    urls = _exports(team)
    client = team.side.client(Role.HR)
    with override_settings(EXPORT_RATE="1/10min"):
        for url in urls:
            cache.clear()
            first = client.get(url)
            assert first.status_code != 429, url
            refused = client.get(url)
            assert refused.status_code == 429, url
            assert refused["Retry-After"] == str(WINDOW), url
    cache.clear()


def test_a_blank_audit_answer_sheet_is_not_an_export(
    team: Team, clock: time_machine.Traveller
) -> None:
    urls = _exports(team)
    audit_pk = int(urls[3].split("/audits/")[1].split("/")[0])
    sheet = reverse("audits:export", args=[team.side.org.slug, audit_pk, "template", "xlsx"])
    client = team.side.client(Role.DIRECTOR)
    with override_settings(EXPORT_RATE="1/10min"):
        cache.clear()
        assert [client.get(sheet).status_code for _ in range(3)] == [200] * 3
    cache.clear()


# --- the audit trail -----------------------------------------------------------------


@pytest.mark.usefixtures("export_limit")
def test_each_refusal_is_in_the_audit_log_with_the_scope(personas: Personas) -> None:
    side = personas.a
    client = side.client(Role.HR)
    fill(client, web_export(side))
    page = client.get(web_export(side))
    api = client.get(api_export(side))
    assert (page.status_code, api.status_code) == (429, 429)
    events = list(AuditEvent.objects.filter(action="ratelimit.hit").order_by("seq"))
    assert [e.data for e in events] == [
        {"url_name": "assessments:people_export", "scope": "export"},
        {"url_name": "api:version", "scope": "export"},
    ]
    for event, response in zip(events, (page, api), strict=True):
        assert event.actor_id == side.users[Role.HR].pk
        assert event.organisation_id == side.org.pk
        assert event.request_id == response["X-Request-ID"]


# --- forbidden paths -----------------------------------------------------------------


@pytest.mark.usefixtures("export_limit")
def test_over_the_limit_another_organisations_export_is_429_like_any_other(
    personas: Personas,
) -> None:
    """The limit is checked first: 429 whether the object exists, is another's or not.

    Under the limit, another organisation's object and a missing one both answer 404.
    Over it, both answer the same 429: the answer never depends on what exists
    elsewhere, so it is no existence oracle, and no data of the other organisation is
    in it.
    """
    a, b = personas.a, personas.b
    client = b.client(Role.HR)
    missing = 999_999
    others = [web_export(a), api_export(a), api_export(b, pk=a.framework.pk)]
    nowhere = [
        reverse("assessments:people_export", args=["no-such-org"]),
        api_export(b, pk=missing),
        api_export(a, pk=missing),
    ]
    for url in others + nowhere:  # each from an empty count: under the limit
        cache.clear()
        assert client.get(url).status_code == 404, url
    cache.clear()
    fill(client, web_export(b))
    refused = [client.get(url) for url in others + nowhere]
    assert [r.status_code for r in refused] == [429] * 6
    assert_page_refused(refused[0])
    assert_page_refused(refused[3])
    api_bodies = {r.content for r in refused if r["Content-Type"].startswith("application/json")}
    assert len(api_bodies) == 1  # the other organisation's object, a missing one: the same
    for response in refused:
        assert a.framework.title.encode() not in response.content
        assert b"alpha" not in response.content
    hits = AuditEvent.objects.filter(action="ratelimit.hit")
    assert hits.count() == 6
    assert not hits.filter(organisation_id=a.org.pk).exists()  # not b's user's organisation


def test_a_role_without_the_export_still_gets_403_under_the_limit(
    personas: Personas, export_limit: None
) -> None:
    client = personas.a.client(Role.PARTICIPANT)
    assert client.get(web_export(personas.a)).status_code == 403
    assert not AuditEvent.objects.filter(action="ratelimit.hit").exists()
