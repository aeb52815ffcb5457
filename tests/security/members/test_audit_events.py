"""What the members capability writes to the audit trail: codes and ids, never secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kamfit.auditlog.models import AuditEvent
from kamfit.members.tokens import issue_token
from kamfit.orgs.models import Role
from tests.conftest import Personas
from tests.security.members.helpers import api, bearer, invite, membership, page

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_every_membership_change_is_recorded_without_addresses_or_tokens(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    a = personas.a
    hr = a.client(Role.HR)
    invitation, token = invite(
        hr, a, "audit-me@example.com", "assessor", django_capture_on_commit_callbacks
    )
    assert invitation is not None
    assert token is not None
    with django_capture_on_commit_callbacks(execute=True):
        hr.post(page(a, f"invitations/{invitation.pk}/resend/"))
    second, _ = invite(hr, a, "other@example.com", "assessor", django_capture_on_commit_callbacks)
    assert second is not None
    hr.post(page(a, f"invitations/{second.pk}/revoke/"))
    target = membership(a, Role.PARTICIPANT)
    hr.post(page(a, f"{target.pk}/role/"), {"role": "manager"})
    _, secret = issue_token(target.user, a.org, "script")
    hr.post(page(a, f"{target.pk}/remove/"))
    recorded = actions()
    for action in (
        "member.invited",
        "invitation.revoked",
        "member.role_changed",
        "token.created",
        "member.removed",
        "token.revoked",
    ):
        assert action in recorded, action
    dump = json.dumps(list(AuditEvent.objects.values("data", "object_type", "object_id")))
    for secretish in ("audit-me@example.com", "other@example.com", token, secret, secret[3:]):
        assert secretish not in dump
    changed = AuditEvent.objects.get(action="member.role_changed")
    assert changed.data == {"user_id": target.user_id, "from": "participant", "to": "manager"}
    assert changed.organisation_id == a.org.pk
    assert changed.actor_id == a.users[Role.HR].pk


def test_joining_is_recorded(personas: Personas, django_capture_on_commit_callbacks: Any) -> None:
    _, token = invite(
        personas.a.client(Role.OWNER),
        personas.a,
        "j@example.com",
        "hr",
        django_capture_on_commit_callbacks,
    )
    Client().post(f"/invite/{token}/", {"username": "joiner", "password": "violet-anchor-42-x"})
    joined = AuditEvent.objects.get(action="member.joined")
    assert joined.data["role"] == "hr"
    assert joined.organisation_id == personas.a.org.pk


def test_a_change_made_with_a_token_is_flagged_as_token_use(personas: Personas) -> None:
    a = personas.a
    _, secret = issue_token(a.users[Role.OWNER], a.org, "admin script")
    target = membership(a, Role.ASSESSOR)
    response = Client(headers=bearer(secret)).patch(
        api(a, f"{target.pk}/"), {"role": "director"}, content_type="application/json"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.via == "token"
    assert event.actor_id == a.users[Role.OWNER].pk
