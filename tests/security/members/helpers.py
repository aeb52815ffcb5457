"""What the members tests share: URLs, sending an invitation, reading its link."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client

from kamfit.members.models import Invitation
from kamfit.orgs.models import Membership, Role
from tests.conftest import Side

LINK = re.compile(r"https?://[^/\s]+/invite/([A-Za-z0-9_-]+)/")
ADMINS = (Role.OWNER, Role.HR)


def membership(side: Side, role: Role) -> Membership:
    return Membership.objects.get(organisation=side.org, user=side.users[role])


def page(side: Side, suffix: str = "") -> str:
    return f"/o/{side.org.slug}/members/{suffix}"


def api(side: Side, suffix: str = "") -> str:
    return f"/api/v1/organisations/{side.org.slug}/members/{suffix}"


def last_token() -> str:
    """The token in the last e-mail sent (the invitation link)."""
    match = LINK.search(str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(1)


def invite(
    client: Client, side: Side, email: str, role: str, capture: Any
) -> tuple[Invitation | None, str | None]:
    """Invite through the page; return the invitation and its plain token (None if refused)."""
    before = len(mail.outbox)
    with capture(execute=True):
        client.post(page(side, "invite/"), {"email": email, "role": role})
    invitation = Invitation.objects.filter(organisation=side.org, email=email).first()
    return invitation, (last_token() if len(mail.outbox) > before else None)


def bearer(secret: str) -> dict[str, str]:
    """The headers of an API call with a token."""
    return {"Authorization": f"Bearer {secret}"}
