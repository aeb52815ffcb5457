"""API tokens: the only way into the API besides the session; scoped, expiring, revocable."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from kamfit import terminal
from kamfit.cli import app
from kamfit.domain.errors import ValidationError
from kamfit.members.models import ApiToken
from kamfit.members.tokens import issue_token
from kamfit.orgs.models import Membership, Role
from tests.conftest import ROLES, Personas
from tests.factories import PASSWORD, MembershipFactory
from tests.security.members.helpers import api, bearer, membership

pytestmark = pytest.mark.django_db
FRAMEWORKS = "/api/v1/organisations/{}/frameworks/"


def frameworks(slug: str) -> str:
    return FRAMEWORKS.format(slug)


@pytest.fixture
def alpha_token(personas: Personas) -> tuple[ApiToken, str]:
    return issue_token(personas.a.users[Role.DIRECTOR], personas.a.org, "script")


def test_a_token_is_a_256_bit_secret_of_which_only_the_hash_is_kept(
    alpha_token: tuple[ApiToken, str],
) -> None:
    token, secret = alpha_token
    assert secret.startswith("kf_")
    assert len(secret) == 3 + 43
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[3:11]
    assert token.expires_at - token.created_at < timedelta(days=90, seconds=5)
    assert not ApiToken.objects.filter(secret_hash__contains=secret[3:]).exists()


def test_a_valid_token_opens_its_organisation_and_records_its_use(
    alpha_token: tuple[ApiToken, str], personas: Personas
) -> None:
    token, secret = alpha_token
    response = Client().get(frameworks("alpha"), headers=bearer(secret))
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_does_not_open_another_organisation_even_of_its_user(
    personas: Personas,
) -> None:
    consultant = personas.a.users[Role.CONSULTANT]
    MembershipFactory(user=consultant, organisation=personas.b.org, role=Role.CONSULTANT)
    _, secret = issue_token(consultant, personas.a.org, "alpha only")
    assert Client().get(frameworks("beta"), headers=bearer(secret)).status_code == 404
    assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 200


def test_a_token_answers_404_for_an_organisation_its_user_is_not_in(
    alpha_token: tuple[ApiToken, str],
) -> None:
    _, secret = alpha_token
    assert Client().get(frameworks("beta"), headers=bearer(secret)).status_code == 404


def test_a_revoked_token_is_refused(alpha_token: tuple[ApiToken, str]) -> None:
    token, secret = alpha_token
    token.revoked_at = timezone.now()
    token.save()
    response = Client().get(frameworks("alpha"), headers=bearer(secret))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_refused(alpha_token: tuple[ApiToken, str]) -> None:
    token, secret = alpha_token
    with time_machine.travel(token.expires_at - timedelta(seconds=5)):
        assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 200
    with time_machine.travel(token.expires_at + timedelta(seconds=1)):
        assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 401


def test_an_inactive_users_token_is_refused(
    alpha_token: tuple[ApiToken, str], personas: Personas
) -> None:
    _, secret = alpha_token
    User.objects.filter(pk=personas.a.users[Role.DIRECTOR].pk).update(is_active=False)
    assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 401


def test_a_removed_members_token_is_refused_even_if_not_revoked(
    alpha_token: tuple[ApiToken, str], personas: Personas
) -> None:
    token, secret = alpha_token
    Membership.objects.filter(user=token.user, organisation=personas.a.org).delete()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 401


def test_removal_through_the_api_revokes_the_members_tokens(
    alpha_token: tuple[ApiToken, str], personas: Personas
) -> None:
    token, secret = alpha_token
    director = membership(personas.a, Role.DIRECTOR)
    response = personas.a.client(Role.HR).delete(api(personas.a, f"{director.pk}/"))
    assert response.status_code == 204
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 401


def test_a_wrong_or_malformed_secret_is_refused(alpha_token: tuple[ApiToken, str]) -> None:
    _, secret = alpha_token
    for header in (
        f"Bearer {secret[:-1]}x",
        f"Bearer {secret} extra",
        "Bearer",
        "Bearer kf_",
        f"Bearer {secret[3:]}",
    ):
        response = Client().get(frameworks("alpha"), headers={"Authorization": header})
        assert response.status_code == 401, header


def test_http_basic_authentication_is_refused(personas: Personas) -> None:
    basic = base64.b64encode(f"alpha-director:{PASSWORD}".encode()).decode()
    response = Client().get(frameworks("alpha"), headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 401


def test_a_token_in_the_query_string_or_a_cookie_is_not_accepted(
    alpha_token: tuple[ApiToken, str],
) -> None:
    _, secret = alpha_token
    for name in ("token", "access_token", "api_key", "auth", "bearer"):
        assert Client().get(frameworks("alpha"), {name: secret}).status_code == 401
    client = Client()
    client.cookies["token"] = secret
    assert client.get(frameworks("alpha")).status_code == 401


def test_a_token_acts_with_its_users_role(personas: Personas) -> None:
    _, participant = issue_token(personas.a.users[Role.PARTICIPANT], personas.a.org, "p")
    _, hr = issue_token(personas.a.users[Role.HR], personas.a.org, "h")
    assert Client().get(api(personas.a), headers=bearer(participant)).status_code == 403
    assert Client().get(api(personas.a), headers=bearer(hr)).status_code == 200
    assert Client().get(api(personas.b), headers=bearer(hr)).status_code == 404


def test_the_lifetime_is_at_most_a_year_and_the_name_is_required(personas: Personas) -> None:
    user, org = personas.a.users[Role.HR], personas.a.org
    for days in (0, 366, -1):
        with pytest.raises(ValidationError, match="days"):
            issue_token(user, org, "x", days)
    with pytest.raises(ValidationError, match="name"):
        issue_token(user, org, "  ")
    assert not ApiToken.objects.exists()


# --- The page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_creates_and_revokes_their_own_token_on_the_page(
    personas: Personas, role: Role
) -> None:
    client = personas.a.client(role)
    response = client.post("/account/tokens/", {"name": "sync", "org": "alpha", "days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=personas.a.users[role])
    secret = response.content.decode().split('<code id="secret">')[1].split("<")[0]
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in client.get("/account/tokens/").content.decode()  # shown once
    assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 200
    client.post(f"/account/tokens/{token.pk}/revoke/")
    assert Client().get(frameworks("alpha"), headers=bearer(secret)).status_code == 401


def test_a_token_cannot_be_made_for_an_organisation_one_is_not_in(personas: Personas) -> None:
    client = personas.a.client(Role.OWNER)
    response = client.post("/account/tokens/", {"name": "x", "org": "beta"}, follow=True)
    assert b"org: choose one of your organisations" in response.content
    assert not ApiToken.objects.exists()


def test_nobody_revokes_or_sees_someone_elses_token(personas: Personas) -> None:
    token, _ = issue_token(personas.a.users[Role.PARTICIPANT], personas.a.org, "mine")
    owner = personas.a.client(Role.OWNER)
    assert owner.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert b"mine" not in owner.get("/account/tokens/").content
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_the_token_page_needs_a_signed_in_user(client: Any) -> None:
    assert client.get("/account/tokens/").status_code == 302
    assert client.post("/account/tokens/", {"name": "x", "org": "alpha"}).status_code == 302


# --- The command line ---------------------------------------------------------------------------


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns off a terminal, which would cut the table checked."""
    for console in (terminal.out, terminal.err):
        monkeypatch.setattr(console, "_width", 250)


@pytest.mark.usefixtures("wide_console")
def test_the_cli_creates_lists_and_revokes_tokens(personas: Personas) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "token",
            "create",
            "--user",
            "alpha-hr",
            "--org",
            "alpha",
            "--name",
            "HRIS",
            "--days",
            "7",
        ],
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("kf_")
    token = ApiToken.objects.get()
    assert (token.expires_at - token.created_at).days == 6  # 7 days less the seconds elapsed
    listed = runner.invoke(app, ["token", "list", "--user", "alpha-hr"])
    assert listed.exit_code == 0
    assert "HRIS" in listed.stdout
    assert secret not in listed.stdout
    assert f"kf_{token.prefix}" in listed.stdout
    revoked = runner.invoke(app, ["token", "revoke", str(token.pk)])
    assert revoked.exit_code == 0
    assert ApiToken.objects.get().revoked_at is not None


def test_the_cli_refuses_non_members_unknown_users_and_bad_lifetimes(personas: Personas) -> None:
    runner = CliRunner()
    base = ["token", "create", "--name", "x"]
    assert runner.invoke(app, [*base, "--user", "alpha-hr", "--org", "beta"]).exit_code == 2
    assert runner.invoke(app, [*base, "--user", "nobody", "--org", "alpha"]).exit_code == 2
    assert runner.invoke(app, [*base, "--user", "alpha-hr", "--org", "nowhere"]).exit_code == 2
    long = runner.invoke(app, [*base, "--user", "alpha-hr", "--org", "alpha", "--days", "400"])
    assert long.exit_code == 1
    assert "days" in long.stderr
    assert runner.invoke(app, ["token", "revoke", "999"]).exit_code == 2
    assert not ApiToken.objects.exists()


# --- The rate limit (A20) -----------------------------------------------------------------------


@pytest.fixture
def api_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production throttle (test settings turn it off): 200 requests a minute per user."""
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle
    from rest_framework.views import APIView

    monkeypatch.setattr(APIView, "throttle_classes", [UserRateThrottle])
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "200/min"})
    cache.clear()


@pytest.mark.usefixtures("api_rate_limit")
def test_the_201st_request_in_a_minute_with_one_token_gets_429(personas: Personas) -> None:
    _, secret = issue_token(personas.a.users[Role.HR], personas.a.org, "busy script")
    client = Client(headers=bearer(secret))
    url = api(personas.a, "invitations/")
    with time_machine.travel(timezone.now(), tick=False):
        answers = [client.get(url).status_code for _ in range(200)]
        refused = client.get(url)
    assert answers == [200] * 200
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    # Another user's token has its own budget.
    _, other = issue_token(personas.a.users[Role.OWNER], personas.a.org, "other")
    assert Client(headers=bearer(other)).get(url).status_code == 200


def test_a_token_lists_only_its_own_organisation_though_its_user_has_more(
    personas: Personas,
) -> None:
    user = personas.a.users[Role.DIRECTOR]
    MembershipFactory(organisation=personas.b.org, user=user, role=Role.CONSULTANT)
    _token, secret = issue_token(user, personas.a.org, "script")
    by_token = Client().get("/api/v1/organisations/", headers=bearer(secret))
    assert [m["organisation"] for m in by_token.json()["results"]] == ["alpha"]
    session = Client()
    session.force_login(user)
    by_session = session.get("/api/v1/organisations/")
    assert sorted(m["organisation"] for m in by_session.json()["results"]) == [
        "alpha",
        "beta",
    ]
