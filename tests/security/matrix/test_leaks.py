"""Tenant leaks outside the route matrix, mass assignment, and failing closed (A16–A18).

Beta's names all carry the canary; alpha's members must never see it: in search and
filter answers, the job-description PDF (checked on the HTML WeasyPrint renders, as
the PDF's text is compressed glyph ids) or the CLI. Read-only fields written through
the API are ignored or refused and the row stays as it was. An exception inside a
permission check answers 403 or 500 and never data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from django.db.models import Model
from django.forms.models import model_to_dict
from django.http import HttpResponseBase
from django.test import Client
from typer.testing import CliRunner

from kamfit.cli import app
from kamfit.orgs import access
from kamfit.orgs.models import Role
from kamfit.profiles import documents
from tests.security.matrix.routes import send
from tests.security.matrix.world import CANARY, World

pytestmark = [
    pytest.mark.django_db,
    # Results of a cycle with no submitted form average an empty array (numpy warns);
    # reported as an open issue, not an access-control one.
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
]

API = "/api/v1/organisations/alpha"
SEARCHES = ("search", "q", "name", "person", "ordering", "status", "unit")
# A prefix of the canary: a page may echo the search box back, but a row of beta would
# bring the whole canary with it.
PROBE = CANARY[:-1]
LISTS = (
    "people/",
    "cycles/",
    "plans/",
    "jobs/",
    "audits/",
    "audits/mine/",
    "profiles/",
    "profiles/compare/",
    "weighting-exercises/",
    "weighting-exercises/mine/",
    "frameworks/",
    "rating-forms/mine/",
    "members/",
    "members/invitations/",
    "audit-log/",
)
PAGES = ("people/", "assessments/", "development/", "jobs/", "audits/", "profiles/", "frameworks/")


@pytest.mark.parametrize("role", list(Role))
def test_search_filter_and_order_never_reach_beta(world: World, role: Role) -> None:
    client = world.client(world.alpha.users[role])
    leaks = []
    for path in LISTS:
        for param in SEARCHES:
            response = send(client, "api", "GET", f"{API}/{path}?{param}={PROBE}")
            if CANARY in _text(response):
                leaks.append(f"{path}?{param}")
    for path in PAGES:
        response = send(client, "web", "GET", f"/o/alpha/{path}?q={PROBE}&search={PROBE}")
        if CANARY in _text(response):
            leaks.append(f"page {path}")
    assert not leaks


def test_the_search_can_fail(world: World) -> None:
    """The same search on beta's own API does show beta's rows: the check above can fail."""
    client = world.client(world.beta.users[Role.HR])
    response = send(client, "api", "GET", "/api/v1/organisations/beta/people/")
    assert CANARY in _text(response)


def test_job_description_pdf_shows_only_alpha(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    real = documents.HTML  # type: ignore[attr-defined]

    def recording(*args: Any, **kwargs: Any) -> Any:
        rendered.append(str(kwargs.get("string", "")))
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "HTML", recording)
    profile = world.alpha.objects["profile"]
    for role in Role:
        client = world.client(world.alpha.users[role])
        url = f"/o/alpha/profiles/{profile.pk}/v1/job-description.pdf"  # type: ignore[attr-defined]
        response = send(client, "web", "GET", url)
        assert response.status_code == 200
        assert response.content.startswith(b"%PDF")  # type: ignore[attr-defined]
    assert rendered  # rendered once per version at least (the file may be reused)
    assert all("Global account manager" in html for html in rendered)
    assert not any(CANARY in html for html in rendered)


CLI = (
    ("assess", "people", "--org", "alpha", "--as", "alpha-hr"),
    ("assess", "cycles", "--org", "alpha", "--as", "alpha-hr"),
    ("profile", "list", "--org", "alpha"),
    ("profile", "exercise", "list", "--org", "alpha"),
    ("audit", "list", "--org", "alpha"),
)


@pytest.mark.parametrize("argv", CLI, ids=[" ".join(a[:2]) for a in CLI])
def test_cli_lists_show_only_the_organisation_asked_for(
    world: World, argv: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(app, list(argv))
    assert result.exit_code == 0, result.output
    assert CANARY not in result.output
    beta = CliRunner().invoke(app, [a.replace("alpha", "beta") for a in argv])
    assert beta.exit_code == 0, beta.output
    assert CANARY in beta.output  # the same list for beta names beta's rows: it can fail


def test_cli_results_show_only_alpha(world: World) -> None:
    cycle = world.alpha.objects["cycle_open"]
    argv = ["assess", "results", str(cycle.pk), "--org", "alpha", "--as", "alpha-hr"]  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, [*argv, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "Pat Participant" in result.output
    assert CANARY not in result.output
    foreign = world.beta.objects["cycle_open"]
    argv[2] = str(foreign.pk)  # type: ignore[attr-defined]
    assert CliRunner().invoke(app, argv).exit_code != 0  # beta's cycle does not exist for alpha


# --- mass assignment (A17, T4) ---------------------------------------------------------

READ_ONLY = {
    "organisation": "beta",
    "organisation_id": "beta",
    "status": "closed",
    "submitted_at": "2020-01-01T00:00:00Z",
    "version": 99,
    "released": True,
    "released_at": "2020-01-01T00:00:00Z",
    "person": "other",
    "person_id": "other",
    "revision": 99,
    "number": 99,
    "owner": "other",
    "user": "other",
    "created_by": "other",
}


def _payload(world: World, extra: dict[str, object]) -> dict[str, object]:
    beta_org = world.beta.org.pk
    other = world.beta.objects["person_kam"].pk  # type: ignore[attr-defined]
    values = {
        k: (beta_org if v == "beta" else other if v == "other" else v) for k, v in READ_ONLY.items()
    }
    return {**extra, **values}


WRITES: list[tuple[str, str, str, Callable[[World], dict[str, object]], Role]] = [
    ("PATCH", "people/{person_kam}/", "person_kam", lambda w: {"job_title": "Lead"}, Role.HR),
    (
        "PUT",
        "people/{person_kam}/",
        "person_kam",
        lambda w: {"name": "Pat P", "username": "alpha-participant"},
        Role.HR,
    ),
    ("PATCH", "cycles/{cycle_open}/", "cycle_open", lambda w: {"title": "Renamed"}, Role.HR),
    ("PUT", "rating-forms/{rater_own}/", "rater_own", lambda w: {"answers": {}}, Role.ASSESSOR),
    (
        "PATCH",
        "profiles/{profile}/versions/2/",
        "profile_draft",
        lambda w: {"title": "Renamed"},
        Role.DIRECTOR,
    ),
    (
        "PATCH",
        "plans/{plan_released}/actions/{action_released}/",
        "action_released",
        lambda w: {"progress": 50},
        Role.PARTICIPANT,
    ),
    ("PATCH", "members/{member_peer}/", "member_peer", lambda w: {"role": "assessor"}, Role.OWNER),
]


@pytest.mark.parametrize(
    ("method", "path", "key", "extra", "role"), WRITES, ids=[f"{m} {p}" for m, p, *_ in WRITES]
)
def test_read_only_fields_are_ignored_or_refused(  # noqa: PLR0917 - the parameters of one case
    world: World,
    method: str,
    path: str,
    key: str,
    extra: Callable[[World], dict[str, object]],
    role: Role,
) -> None:
    from django.db import transaction

    side = world.alpha
    url = f"{API}/" + path.format(**{k: getattr(v, "pk", v) for k, v in side.objects.items()})
    row = cast(Model, side.objects[key])
    model = type(row)
    guarded = [
        f.name for f in model._meta.concrete_fields if f.name in READ_ONLY or f.attname in READ_ONLY
    ]
    assert guarded, f"{model.__name__} has none of the read-only fields"
    client = world.client(side.users[role])
    with transaction.atomic():
        before = model_to_dict(model._default_manager.get(pk=row.pk), fields=guarded)
        call = getattr(client, method.lower())
        response = call(url, _payload(world, extra(world)), content_type="application/json")
        after = model_to_dict(model._default_manager.get(pk=row.pk), fields=guarded)
        transaction.set_rollback(True)
    assert response.status_code in {200, 400, 409, 412, 422}, response.content
    assert after == before, f"{method} {url} changed read-only fields"


# --- failing closed (A18) --------------------------------------------------------------


def _text(response: HttpResponseBase) -> str:
    content: bytes = getattr(response, "content", b"")
    return content.decode("utf-8", "replace")


def _boom(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("permission check failed")


FAIL_CLOSED = [
    ("list_memberships", "/o/alpha/people/"),
    ("list_memberships", f"{API}/people/"),
    ("list_memberships", f"{API}/cycles/"),
    ("may", f"{API}/people/{{person_kam}}/psychometrics/"),
    ("may", "/o/alpha/assessments/{cycle_open}/team/"),
]


@pytest.mark.parametrize(("check", "url"), FAIL_CLOSED, ids=[f"{c} {u}" for c, u in FAIL_CLOSED])
def test_an_exception_in_a_permission_check_gives_no_data(
    world: World, monkeypatch: pytest.MonkeyPatch, check: str, url: str
) -> None:
    monkeypatch.setattr(access, check, _boom)
    client = Client(raise_request_exception=False)
    client.cookies = world.client(world.alpha.users[Role.HR]).cookies
    path = url.format(**{k: getattr(v, "pk", v) for k, v in world.alpha.objects.items()})
    response = send(client, "api" if path.startswith("/api/") else "web", "GET", path)
    assert response.status_code in {403, 500}, (check, path, response.status_code)
    body = _text(response)
    assert "Pat Participant" not in body
    assert "Casey Colleague" not in body
