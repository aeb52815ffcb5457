"""Invitation links: random, hashed, single-use, expiring, revocable; joining by them."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, cast

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from kamfit.members.models import Invitation
from kamfit.orgs.models import Membership, Role
from tests.conftest import Personas
from tests.factories import UserFactory
from tests.security.members.helpers import invite, page

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "violet-anchor-marmalade-42"


@pytest.fixture
def invited(personas: Personas, django_capture_on_commit_callbacks: Any) -> tuple[Invitation, str]:
    invitation, token = invite(
        personas.a.client(Role.HR),
        personas.a,
        "newcomer@example.com",
        "assessor",
        django_capture_on_commit_callbacks,
    )
    assert invitation is not None
    assert token is not None
    return invitation, token


def join(token: str, username: str = "newcomer", password: str = GOOD_PASSWORD) -> Any:
    return Client().post(f"/invite/{token}/", {"username": username, "password": password})


def test_only_the_sha256_of_a_128_bit_token_is_stored(invited: tuple[Invitation, str]) -> None:
    invitation, token = invited
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert invitation.expires_at - invitation.sent_at == timedelta(hours=72)


def test_a_visitor_creates_an_account_and_joins_with_the_role(
    invited: tuple[Invitation, str], personas: Personas
) -> None:
    _, token = invited
    assert Client().get(f"/invite/{token}/").status_code == 200
    response = join(token)
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert user.email == "newcomer@example.com"
    assert user.check_password(GOOD_PASSWORD)
    assert Membership.objects.get(user=user).role == Role.ASSESSOR
    assert Membership.objects.get(user=user).organisation == personas.a.org


def test_the_link_works_once(invited: tuple[Invitation, str]) -> None:
    _, token = invited
    join(token)
    again = join(token, username="someone-else")
    assert again.status_code == 410
    assert not User.objects.filter(username="someone-else").exists()


def test_used_expired_revoked_and_unknown_links_answer_alike(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    a = personas.a
    hr = a.client(Role.HR)
    bodies = {}
    _, used_token = invite(
        hr, a, "used@example.com", "participant", django_capture_on_commit_callbacks
    )
    assert used_token
    join(used_token, "used-user")
    _, expired_token = invite(
        hr, a, "late@example.com", "participant", django_capture_on_commit_callbacks
    )
    revoked, revoked_token = invite(
        hr, a, "gone@example.com", "participant", django_capture_on_commit_callbacks
    )
    assert revoked is not None
    hr.post(page(a, f"invitations/{revoked.pk}/revoke/"))
    with time_machine.travel(timezone.now() + timedelta(hours=72, seconds=1)):
        for name, token in [
            ("used", used_token),
            ("expired", expired_token),
            ("revoked", revoked_token),
            ("unknown", "A" * 43),
        ]:
            response = Client().get(f"/invite/{token}/")
            assert response.status_code == 410, name
            bodies[name] = response.content
    assert len(set(bodies.values())) == 1


def test_an_expired_link_creates_no_account(invited: tuple[Invitation, str]) -> None:
    _, token = invited
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        assert join(token).status_code == 410
    assert not User.objects.filter(username="newcomer").exists()


def test_a_link_still_works_just_before_it_expires(invited: tuple[Invitation, str]) -> None:
    _, token = invited
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert join(token).status_code == 302


def test_sending_again_makes_the_old_link_void(
    invited: tuple[Invitation, str], personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    invitation, old = invited
    with django_capture_on_commit_callbacks(execute=True):
        personas.a.client(Role.HR).post(page(personas.a, f"invitations/{invitation.pk}/resend/"))
    assert len(mail.outbox) == 2
    new = mail.outbox[-1].body.split("/invite/")[1].split("/")[0]
    assert new != old
    assert join(old).status_code == 410
    assert join(new).status_code == 302


def test_inviting_the_same_address_again_replaces_the_pending_link(
    invited: tuple[Invitation, str], personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    first, old = invited
    invite(
        personas.a.client(Role.HR),
        personas.a,
        "newcomer@example.com",
        "manager",
        django_capture_on_commit_callbacks,
    )
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert join(old).status_code == 410


def test_the_password_rules_apply_when_joining(invited: tuple[Invitation, str]) -> None:
    _, token = invited
    for weak in ("short", "password123", "newcomer-newcomer"):
        response = join(token, password=weak)
        assert response.status_code == 200
        assert b"password" in response.content
    assert not User.objects.filter(username="newcomer").exists()


def test_a_taken_username_is_refused_with_its_field(
    invited: tuple[Invitation, str], personas: Personas
) -> None:
    _, token = invited
    response = join(token, username="alpha-owner")
    assert b"username: this username is taken" in response.content
    assert Invitation.objects.get().accepted_at is None


def test_a_signed_in_user_with_the_invited_address_joins(
    invited: tuple[Invitation, str], personas: Personas
) -> None:
    _, token = invited
    user = cast(User, UserFactory(username="existing", email="NewComer@example.com"))
    client = Client()
    client.force_login(user)
    assert client.post(f"/invite/{token}/").status_code == 302
    assert Membership.objects.get(user=user, organisation=personas.a.org).role == Role.ASSESSOR


def test_a_signed_in_user_with_another_address_cannot_use_a_forwarded_link(
    invited: tuple[Invitation, str], personas: Personas
) -> None:
    _, token = invited
    client = personas.b.client(Role.OWNER)  # beta-owner@example.com
    response = client.post(f"/invite/{token}/")
    assert response.status_code == 200
    assert b"another e-mail address" in response.content
    assert not Membership.objects.filter(
        user=personas.b.users[Role.OWNER], organisation=personas.a.org
    ).exists()
    assert Invitation.objects.get().accepted_at is None


def test_revoking_a_used_invitation_is_refused(
    invited: tuple[Invitation, str], personas: Personas
) -> None:
    invitation, token = invited
    join(token)
    response = personas.a.client(Role.HR).post(
        page(personas.a, f"invitations/{invitation.pk}/revoke/"), follow=True
    )
    assert b"accepted already" in response.content


def test_the_invitation_page_loads_nothing_from_elsewhere(invited: tuple[Invitation, str]) -> None:
    _, token = invited
    body = Client().get(f"/invite/{token}/").content.decode()
    assert "http://" not in body
    assert "https://" not in body
    assert token not in body  # the form posts to the same URL; the token is not repeated


def test_invalid_addresses_and_roles_are_refused_by_field(personas: Personas) -> None:
    hr = personas.a.client(Role.HR)
    response = hr.post(
        page(personas.a, "invite/"), {"email": "not-an-address", "role": "hr"}, follow=True
    )
    assert b"email: not a valid e-mail address" in response.content
    response = hr.post(
        page(personas.a, "invite/"), {"email": "x@example.com", "role": "king"}, follow=True
    )
    assert b"role: &#x27;king&#x27; is not a role" in response.content
    response = hr.post(
        page(personas.a, "invite/"),
        {"email": "Alpha-Director@example.com", "role": "hr"},
        follow=True,
    )
    assert b"belongs to a member already" in response.content
    assert not Invitation.objects.exists()


def test_a_failing_mail_server_keeps_the_invitation_to_send_again(
    personas: Personas,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(**kwargs: object) -> None:
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("kamfit.members.services.send_mail", refuse)
    invitation, token = invite(
        personas.a.client(Role.HR), personas.a, "offline@example.com", "assessor",
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert invitation is not None
    assert token is None
    assert "could not be sent" in caplog.text
    assert "offline@example.com" not in caplog.text
