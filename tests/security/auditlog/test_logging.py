"""No secret reaches the logs, and user input cannot forge a log line (A36, T24).

Canary strings go in as a password, a session id, an API token, a respondent link
token, a rating note and a psychometric value, through sign-in (good and bad), rating
saves, psychometric imports and errors; then the captured records (``caplog``) and
the console handler's output must not hold any of them.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.test import Client
from django.urls import reverse

from kamfit.assessments import services
from kamfit.auditlog.gunicorn import RedactingLogger
from kamfit.auditlog.logfilters import RequestIdFilter, redact
from kamfit.members.tokens import issue_token
from kamfit.orgs.models import Role
from tests.conftest import TEAM_KEYS, Team

pytestmark = pytest.mark.django_db

PASSWORD = "Canary-Pw-7f3a91xq"
WRONG_PASSWORD = "Canary-Wrong-c41d"
NOTE = "CANARY-NOTE-5e8d2b"
VALUE = 7.31415
BAD_VALUE = 42.27182
LINK_TOKEN = "canaryLinkTok3n9Zq"
FAKE_TOKEN = "kf_" + "CanaryFakeToken" * 3


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (with its filters) writes, during the test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, RequestIdFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    # Swapped without setStream(): that flushes the old stream, which pytest's output
    # capture may have closed already.
    old, handler.stream = handler.stream, buffer
    try:
        yield buffer
    finally:
        handler.stream = old


def _everything(caplog: pytest.LogCaptureFixture, console: io.StringIO) -> str:
    records = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    return "\n".join([records, caplog.text, console.getvalue()])


def test_no_canary_reaches_the_logs_through_every_flow(
    team: Team, caplog: pytest.LogCaptureFixture, console: io.StringIO, monkeypatch: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    side = team.side
    peer = team.peers[0]
    peer.set_password(PASSWORD)
    peer.save()
    slug = side.org.slug

    # Sign-in: a failure, then a success; the session id is a canary too.
    browser = Client()
    login = reverse("login")
    browser.post(login, {"username": peer.username, "password": WRONG_PASSWORD})
    assert browser.post(login, {"username": peer.username, "password": PASSWORD}).status_code in {
        200,
        302,
    }
    session_id = next((c.value for c in browser.cookies.values() if "session" in c.key), "")

    # A rating with a note, saved, submitted, then read by HR on the result page.
    rater = team.rater(team.kam, peer)
    key = TEAM_KEYS[0]
    rate = reverse("assessments:rate", args=[slug, rater.pk])
    body = {f"level-{key}": "3", f"evidence-{key}": NOTE, "action": "submit"}
    browser.force_login(peer)
    browser.post(rate, body)
    result = reverse("assessments:result", args=[slug, team.cycle.pk, team.kam.pk])
    assert NOTE in side.client(Role.HR).get(result).content.decode()  # shown, not logged

    # Psychometric results by API token: stored, refused, read back; a forged token.
    _, secret = issue_token(side.users[Role.HR], side.org, "canary")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = reverse("api:person-psychometrics", args=[slug, team.kam.pk])
    row = {"attribute": "trustworthy", "provider": "Hogan", "scale": "sten"}
    row["assessed_on"] = "2024-01-01"
    assert api.post(url, [{**row, "value": VALUE}], content_type="application/json").status_code
    api.post(url, [{**row, "value": BAD_VALUE}], content_type="application/json")
    assert str(VALUE) in api.get(url).content.decode()
    Client(HTTP_AUTHORIZATION=f"Bearer {FAKE_TOKEN}").get(url)

    # A respondent link that does not exist (Django logs its 404 with the path).
    Client().get(reverse("audit_link", args=[LINK_TOKEN]))

    # A server error while a note is being saved: the body must not be logged.
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(services, "save_answers", broken)
    browser.raise_request_exception = False
    other = team.rater(team.kam, team.peers[1])
    crash = reverse("assessments:rate", args=[slug, other.pk])
    browser.force_login(team.peers[1])
    assert browser.post(crash, body).status_code == 500

    logged = _everything(caplog, console)
    assert "the disk is on fire" in logged  # the logs did capture the flows
    canaries = [PASSWORD, WRONG_PASSWORD, NOTE, str(VALUE), str(BAD_VALUE), secret]
    canaries += [LINK_TOKEN, FAKE_TOKEN[3:], session_id]
    found = [c for c in canaries if c and c in logged]
    assert found == []


def test_a_forged_line_break_in_user_input_is_escaped(console: io.StringIO) -> None:
    log = logging.getLogger("kamfit.test")
    log.warning("sign-in failed for %s", "eve\nERROR forged entry\r\x1b[31m")
    lines = console.getvalue().splitlines()
    assert len(lines) == 1
    assert "eve\\nERROR forged entry\\r\\x1b[31m" in lines[0]


def test_log_lines_carry_the_request_id(team: Team, console: io.StringIO) -> None:
    client = team.side.client(Role.HR)
    response = client.get("/o/alpha/no-such-page/")
    assert response.status_code == 404
    assert f"[{response['X-Request-ID']}]" in console.getvalue()


def test_every_response_has_a_fresh_request_id_that_a_client_cannot_choose() -> None:
    client = Client()
    first = client.get(reverse("login"), HTTP_X_REQUEST_ID="a" * 32)
    second = client.get(reverse("login"))
    for response in (first, second):
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert first["X-Request-ID"] != "a" * 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_error_page_shows_the_request_id(team: Team, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "save_answers", broken)
    peer = team.peers[0]
    client = Client(raise_request_exception=False)
    client.force_login(peer)
    rater = team.rater(team.kam, peer)
    response = client.post(
        reverse("assessments:rate", args=["alpha", rater.pk]), {"action": "save"}
    )
    assert response.status_code == 500
    assert response["X-Request-ID"] in response.content.decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /r/abcDEF123/ HTTP/1.1", "GET /r/[redacted]/ HTTP/1.1"),
        ("/invite/tok_en-1?x=1", "/invite/[redacted]?x=1"),
        ("Bearer kf_" + "A" * 43, "Bearer kf_[redacted]"),
        ("/o/alpha/r/ok/", "/o/alpha/r/[redacted]/"),
        ("/rates/12/", "/rates/12/"),
    ],
)
def test_redaction_blanks_link_and_api_tokens(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_gunicorn_access_log_redacts_respondent_link_tokens() -> None:
    from gunicorn.config import Config  # type: ignore[import-untyped]

    class Request:
        method, uri, path, query, version = (
            "GET",
            f"/r/{LINK_TOKEN}/",
            f"/r/{LINK_TOKEN}/",
            "",
            (1, 1),
        )
        headers: ClassVar[list[tuple[str, str]]] = [
            ("REFERER", f"https://kamfit.example/r/{LINK_TOKEN}/")
        ]

    class Response:
        status, sent = "200 OK", 10
        headers: ClassVar[list[tuple[str, str]]] = []

    environ = {
        "REMOTE_ADDR": "10.0.0.1",
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/r/{LINK_TOKEN}/",
        "PATH_INFO": f"/r/{LINK_TOKEN}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://kamfit.example/r/{LINK_TOKEN}/",
    }
    import datetime as dt

    atoms = RedactingLogger(Config()).atoms(Response(), Request(), environ, dt.timedelta(0))
    assert LINK_TOKEN not in repr(atoms)
    assert atoms["r"] == "GET /r/[redacted]/ HTTP/1.1"


def test_serve_production_uses_the_redacting_logger() -> None:
    import inspect

    from kamfit import cli

    source = inspect.getsource(cli._serve_production)
    assert '"--logger-class", "kamfit.auditlog.gunicorn.RedactingLogger"' in source
