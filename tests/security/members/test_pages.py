"""The members pages: every role × own and other organisation, and the guards."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from kamfit.members.models import Invitation
from kamfit.members.tokens import issue_token
from kamfit.orgs.models import Membership, Role
from tests.conftest import ROLES, Personas
from tests.security.members.helpers import ADMINS, invite, membership, page

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ROLES)
def test_the_members_page_opens_for_owner_and_hr_only(personas: Personas, role: Role) -> None:
    response = personas.a.client(role).get(page(personas.a))
    assert response.status_code == (200 if role in ADMINS else 403)
    if role in ADMINS:
        body = response.content.decode()
        for user in personas.a.users.values():
            assert user.get_username() in body
        assert "beta-owner" not in body  # never another organisation's members


@pytest.mark.parametrize("role", ROLES)
def test_another_organisations_members_page_answers_404(personas: Personas, role: Role) -> None:
    assert personas.a.client(role).get(page(personas.b)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(personas: Personas, client: Any) -> None:
    response = client.get(page(personas.a))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ADMINS])
def test_other_roles_can_neither_invite_nor_change_nor_remove(
    personas: Personas, role: Role, django_capture_on_commit_callbacks: Any
) -> None:
    a = personas.a
    client = a.client(role)
    target = membership(a, Role.PARTICIPANT if role != Role.PARTICIPANT else Role.ASSESSOR)
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post(page(a, "invite/"), {"email": "x@example.com", "role": "hr"})
    changed = client.post(page(a, f"{target.pk}/role/"), {"role": "owner"})
    removed = client.post(page(a, f"{target.pk}/remove/"))
    assert [invited.status_code, changed.status_code, removed.status_code] == [403, 403, 403]
    assert not Invitation.objects.exists()
    assert not mail.outbox
    assert Membership.objects.get(pk=target.pk).role == target.role


@pytest.mark.parametrize("role", ADMINS)
def test_admins_cannot_touch_another_organisations_members(personas: Personas, role: Role) -> None:
    a, b = personas.a, personas.b
    foreign = membership(b, Role.PARTICIPANT)
    client = a.client(role)
    assert client.post(page(a, f"{foreign.pk}/role/"), {"role": "hr"}).status_code == 404
    assert client.post(page(a, f"{foreign.pk}/remove/")).status_code == 404
    assert client.post(page(b, f"{foreign.pk}/remove/")).status_code == 404
    assert Membership.objects.get(pk=foreign.pk).role == Role.PARTICIPANT


@pytest.mark.parametrize("role", ADMINS)
def test_admins_cannot_revoke_or_resend_another_organisations_invitation(
    personas: Personas, role: Role, django_capture_on_commit_callbacks: Any
) -> None:
    a, b = personas.a, personas.b
    foreign, _ = invite(
        b.client(Role.OWNER), b, "guest@example.com", "hr", django_capture_on_commit_callbacks
    )
    assert foreign is not None
    for action in ("revoke", "resend"):
        url = page(a, f"invitations/{foreign.pk}/{action}/")
        assert a.client(role).post(url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None
    assert len(mail.outbox) == 1


def test_hr_invites_changes_a_role_and_removes_a_member(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    a = personas.a
    hr = a.client(Role.HR)
    invitation, token = invite(
        hr, a, "new@example.com", "assessor", django_capture_on_commit_callbacks
    )
    assert invitation is not None
    assert token
    assert invitation.role == Role.ASSESSOR
    assert mail.outbox[-1].to == ["new@example.com"]
    target = membership(a, Role.PARTICIPANT)
    hr.post(page(a, f"{target.pk}/role/"), {"role": "manager"})
    assert Membership.objects.get(pk=target.pk).role == Role.MANAGER
    _, secret = issue_token(target.user, a.org, "script")
    response = hr.post(page(a, f"{target.pk}/remove/"))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert target.user.api_tokens.get().revoked_at is not None
    assert secret  # the secret no longer opens anything (see test_tokens)


def test_hr_cannot_grant_the_owner_role_nor_touch_an_owner(personas: Personas) -> None:
    a = personas.a
    hr = a.client(Role.HR)
    target = membership(a, Role.DIRECTOR)
    owner = membership(a, Role.OWNER)
    response = hr.post(page(a, f"{target.pk}/role/"), {"role": "owner"}, follow=True)
    assert "Only an owner" in response.content.decode()
    hr.post(page(a, f"{owner.pk}/role/"), {"role": "participant"})
    hr.post(page(a, f"{owner.pk}/remove/"))
    assert Membership.objects.get(pk=target.pk).role == Role.DIRECTOR
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_hr_cannot_invite_an_owner(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    a = personas.a
    invitation, token = invite(
        a.client(Role.HR), a, "boss@example.com", "owner", django_capture_on_commit_callbacks
    )
    assert invitation is None
    assert token is None


@pytest.mark.parametrize("role", ADMINS)
def test_nobody_changes_their_own_role_or_removes_themself(personas: Personas, role: Role) -> None:
    a = personas.a
    me = membership(a, role)
    client = a.client(role)
    response = client.post(page(a, f"{me.pk}/role/"), {"role": "participant"}, follow=True)
    assert "cannot change your own role" in response.content.decode()
    response = client.post(page(a, f"{me.pk}/remove/"), follow=True)
    assert "cannot remove yourself" in response.content.decode()
    assert Membership.objects.get(pk=me.pk).role == role


def test_an_owner_hands_over_but_the_last_owner_stays(personas: Personas) -> None:
    a = personas.a
    owner = membership(a, Role.OWNER)
    director = membership(a, Role.DIRECTOR)
    a.client(Role.OWNER).post(page(a, f"{director.pk}/role/"), {"role": "owner"})
    assert Membership.objects.get(pk=director.pk).role == Role.OWNER
    # The new owner demotes the first; now they are the last owner and cannot leave.
    a.client(Role.DIRECTOR).post(page(a, f"{owner.pk}/role/"), {"role": "hr"})
    assert Membership.objects.get(pk=owner.pk).role == Role.HR
    assert Membership.objects.filter(organisation=a.org, role=Role.OWNER).count() == 1


def test_the_members_page_shows_roles_and_two_factor_status(personas: Personas) -> None:
    body = personas.a.client(Role.OWNER).get(page(personas.a)).content.decode()
    assert "Line manager" in body
    assert "Two-factor" in body
    assert "alpha-owner@example.com" in body


def test_a_removed_member_is_signed_out_at_once(personas: Personas) -> None:
    a = personas.a
    target = membership(a, Role.ASSESSOR)
    theirs = a.client(Role.ASSESSOR)
    assert theirs.get("/account/tokens/").status_code == 200
    a.client(Role.HR).post(page(a, f"{target.pk}/remove/"))
    response = theirs.get("/account/tokens/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
