"""T11 / A5: TOTP two-factor authentication, enforced for owner, HR, director, consultant, staff."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kamfit.accounts.mfa import PENDING_KEY
from kamfit.accounts.models import RecoveryCode
from kamfit.orgs.models import Role
from tests.conftest import ROLES, Personas
from tests.factories import MembershipFactory

from .helpers import PASSWORD, code_at, enrol, events, login, make_user

pytestmark = pytest.mark.django_db
MFA_ON = override_settings(MFA_REQUIRED=True)
ENROL = "/account/mfa/enrol/"
VERIFY = "/account/mfa/verify/"
# The only paths a signed-in but unverified user may reach.
ALLOWED = {"login", "logout", "accounts:mfa_enrol", "accounts:mfa_verify", "healthz"}


def _sample(pattern: str) -> str:
    """Turn one URL pattern (route or regex) into a concrete path."""
    samples = {"int": "1", "slug": "alpha", "str": "x", "path": "x/y", "uuid": "0" * 32}
    text = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: samples.get(m.group(1) or "str", "x"), pattern)
    text = re.sub(
        r"\(\?P<\w+>([^)]*)\)",
        lambda m: m.group(1).split("|")[0] if "|" in m.group(1) else "1",
        text,
    )
    return re.sub(r"[\^$\\?]|\\Z", "", text)


def all_patterns() -> list[tuple[str, str]]:
    """Every URL pattern of the project as (name, sample path), by walking the resolver."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, ns: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{ns}{p.namespace}:" if p.namespace else ns
                walk(p.url_patterns, prefix + str(p.pattern), inner)
            else:
                found.append((f"{ns}{p.name or ''}", "/" + _sample(prefix + str(p.pattern))))

    walk(get_resolver().url_patterns, "", "")
    return found


PATTERNS = all_patterns()


def test_the_resolver_walk_finds_every_kind_of_route() -> None:
    names = {name for name, _ in PATTERNS}
    assert {"home", "login", "accounts:overview", "admin:index", "api:frameworks"} <= names
    assert len(PATTERNS) > 100


@MFA_ON
def test_unverified_staff_reaches_no_page_and_no_api_operation(db: None) -> None:
    staff = make_user("staffer", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    checked = 0
    for name, path in PATTERNS:
        if name in ALLOWED:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if path.startswith("/api/"):
                assert response.status_code == 403, (name, path, method)
                assert response.json()["code"] == "mfa_required", (name, path)
                assert "two-factor" in response.json()["detail"]
            else:
                assert response.status_code == 302, (name, path, method, response.status_code)
                assert response["Location"].startswith(ENROL), (name, path)
        checked += 1
    assert checked == len(PATTERNS) - len(ALLOWED)


@MFA_ON
def test_unverified_enrolled_staff_is_sent_to_verification(db: None) -> None:
    staff = make_user("staffer", is_staff=True)
    enrol(staff)
    client = Client()
    assert login(client, "staffer") == 302
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert client.get(VERIFY).status_code == 200


@MFA_ON
@pytest.mark.parametrize("role", ROLES)
def test_enforced_exactly_for_owner_hr_director_consultant(personas: Personas, role: Role) -> None:
    response = personas.a.client(role).get(reverse("frameworks:list", args=["alpha"]))
    if role in {Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT}:
        assert response.status_code == 302
        assert response["Location"].startswith(ENROL)
    else:
        assert response.status_code == 200


@MFA_ON
def test_api_answers_403_mfa_required_to_an_unverified_hr(personas: Personas) -> None:
    response = personas.a.client(Role.HR).get("/api/v1/organisations/")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "This account needs two-factor authentication: "
        "sign in with your authenticator app first.",
        "code": "mfa_required",
    }


def test_mfa_is_not_enforced_when_the_setting_is_off(personas: Personas) -> None:
    response = personas.a.client(Role.OWNER).get(reverse("frameworks:list", args=["alpha"]))
    assert response.status_code == 200


@MFA_ON
def test_enrolment_shows_qr_and_secret_then_confirms_with_a_code(personas: Personas) -> None:
    client = personas.a.client(Role.HR)
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg class="qr"' in html
    assert "<script" not in html.split("<main>")[1]
    user = personas.a.users[Role.HR]
    assert not TOTPDevice.objects.filter(user=user).exists()  # a GET stores nothing
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", html)
    again = re.search(r"<code>([A-Z2-7 ]+)</code>", client.get(ENROL).content.decode())
    assert secret and again and again.group(1) == secret.group(1)  # the same until confirmed
    # the authenticator app's copy of the secret shown on the page
    device = TOTPDevice(user=user, key=client.session[PENDING_KEY], tolerance=1, step=30)
    assert secret is not None and len(secret.group(1).replace(" ", "")) == 32

    wrong = client.post(ENROL, {"code": "000000" if code_at(device) != "000000" else "111111"})
    assert "wrong or expired" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    assert pending.throttling_failure_count == 1  # the next try must wait (django-otp)
    pending.throttle_reset()

    done = client.post(ENROL, {"code": code_at(device)})
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{8})</code>", done.content.decode())
    assert len(codes) == 10
    assert client.get(reverse("frameworks:list", args=["alpha"])).status_code == 200
    assert [e.actor_id for e in events("mfa.enabled")] == [device.user_id]
    # stored hashed: no code appears in the table, each one checks against its hash
    stored = list(RecoveryCode.objects.filter(device__user=device.user))
    assert len(stored) == 10
    for code in codes:
        lookup, secret_part = code.split("-")
        row = next(r for r in stored if r.lookup == lookup)
        assert secret_part not in row.secret_hash
        assert check_password(secret_part, row.secret_hash)


@MFA_ON
def test_two_step_login_then_a_replayed_code_is_refused(db: None) -> None:
    user = make_user("hanna")
    device, _ = enrol(user)
    first = Client()
    assert login(first, "hanna") == 302
    assert first.get("/").status_code == 302  # enrolled: verification even without a role
    code = code_at(device)
    response = first.post(VERIFY, {"code": code, "next": "/account/"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert first.get("/account/").status_code == 200

    second = Client()
    login(second, "hanna")
    replay = second.post(VERIFY, {"code": code})
    assert replay.status_code == 200
    assert "already used" in replay.content.decode()
    assert second.get("/account/")["Location"].startswith(VERIFY)


@pytest.mark.parametrize(
    ("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_only_the_current_step_plus_or_minus_one_is_accepted(
    db: None, steps: int, accepted: bool
) -> None:
    user = make_user("stepper")
    device, _ = enrol(user)
    client = Client()
    login(client, "stepper")
    client.post(VERIFY, {"code": code_at(device, steps=steps)})
    assert (client.get("/account/").status_code == 200) is accepted


def test_a_recovery_code_works_once(db: None) -> None:
    user = make_user("recover")
    _, codes = enrol(user)
    first = Client()
    login(first, "recover")
    assert first.post(VERIFY, {"code": codes[0]}).status_code == 302
    assert first.get("/account/").status_code == 200
    assert [e.data["codes_left"] for e in events("mfa.recovery_used")] == [9]

    second = Client()
    login(second, "recover")
    assert second.post(VERIFY, {"code": codes[0]}).status_code == 200
    assert second.get("/account/").status_code == 302
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):  # past the throttle
        assert second.post(VERIFY, {"code": codes[1]}).status_code == 302


def test_disabling_mfa_needs_the_current_password(db: None) -> None:
    user = make_user("disabler")
    device, _ = enrol(user)
    client = Client()
    login(client, "disabler")
    client.post(VERIFY, {"code": code_at(device)})
    wrong = client.post("/account/mfa/disable/", {"password": "not my password"})
    assert "not your current password" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()
    client.post("/account/mfa/disable/", {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(device__user=user).exists()
    assert len(events("mfa.disabled")) == 1


def test_new_recovery_codes_need_the_password_and_replace_the_old(db: None) -> None:
    user = make_user("renew")
    device, old = enrol(user)
    client = Client()
    login(client, "renew")
    client.post(VERIFY, {"code": code_at(device)})
    refused = client.post("/account/mfa/recovery-codes/", {"password": "guess"})
    assert "not your current password" in refused.content.decode()
    page = client.post("/account/mfa/recovery-codes/", {"password": PASSWORD})
    new = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{8})</code>", page.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    other = Client()
    login(other, "renew")
    assert other.post(VERIFY, {"code": old[0]}).status_code == 200  # the old set is gone


@MFA_ON
def test_a_role_given_later_makes_mfa_required_at_once(personas: Personas) -> None:
    user = make_user("late")
    client = Client()
    client.force_login(user)
    assert client.get("/account/").status_code == 200
    MembershipFactory(user=user, organisation=personas.a.org, role=Role.DIRECTOR)
    assert client.get("/account/")["Location"].startswith(ENROL)
