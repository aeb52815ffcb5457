"""The members API: every role × own and other organisation, guards, mass assignment."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from kamfit.members.models import Invitation
from kamfit.members.tokens import issue_token
from kamfit.orgs.models import Membership, Role
from tests.conftest import ROLES, Personas, Side
from tests.security.members.helpers import ADMINS, api, bearer, membership

pytestmark = pytest.mark.django_db


def call(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(url, body or {}, content_type="application/json")


def operations(side: Side, member: int, invitation: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", api(side), {}),
        ("post", api(side), {"email": "someone@example.com", "role": "participant"}),
        ("patch", api(side, f"{member}/"), {"role": "assessor"}),
        ("delete", api(side, f"{member}/"), {}),
        ("get", api(side, "invitations/"), {}),
        ("delete", api(side, f"invitations/{invitation}/"), {}),
    ]


@pytest.fixture
def pending(personas: Personas, django_capture_on_commit_callbacks: Any) -> dict[str, Invitation]:
    """One pending invitation in each organisation."""
    made = {}
    for side in (personas.a, personas.b):
        with django_capture_on_commit_callbacks(execute=True):
            response = call(
                side.client(Role.OWNER), "post", api(side), {"email": "p@example.com", "role": "hr"}
            )
        assert response.status_code == 201, response.content
        made[side.org.slug] = Invitation.objects.get(pk=response.json()["id"])
    return made


def _snapshot() -> tuple[list[tuple[int, str]], list[tuple[int, Any, Any]]]:
    members = list(Membership.objects.order_by("pk").values_list("pk", "role"))
    invitations = list(
        Invitation.objects.order_by("pk").values_list("pk", "revoked_at", "accepted_at")
    )
    return members, invitations


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ADMINS])
@pytest.mark.parametrize("auth", ["session", "token"])
def test_other_roles_get_403_on_every_members_operation(
    personas: Personas, pending: dict[str, Invitation], role: Role, auth: str
) -> None:
    a = personas.a
    client = a.client(role) if auth == "session" else Client(headers=bearer(_secret(a, role)))
    target = membership(a, Role.ASSESSOR if role != Role.ASSESSOR else Role.MANAGER)
    before = _snapshot()
    for method, url, body in operations(a, target.pk, pending["alpha"].pk):
        assert call(client, method, url, body).status_code == 403, (method, url)
    assert _snapshot() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("auth", ["session", "token"])
def test_another_organisation_answers_404_on_every_members_operation(
    personas: Personas, pending: dict[str, Invitation], role: Role, auth: str
) -> None:
    a, b = personas.a, personas.b
    client = a.client(role) if auth == "session" else Client(headers=bearer(_secret(a, role)))
    target = membership(b, Role.ASSESSOR)
    before = _snapshot()
    for method, url, body in operations(b, target.pk, pending["beta"].pk):
        assert call(client, method, url, body).status_code == 404, (method, url)
    assert _snapshot() == before


@pytest.mark.parametrize("role", ADMINS)
def test_own_organisations_urls_do_not_reach_another_organisations_rows(
    personas: Personas, pending: dict[str, Invitation], role: Role
) -> None:
    a, b = personas.a, personas.b
    foreign = membership(b, Role.ASSESSOR)
    before = _snapshot()
    for method, url, body in operations(a, foreign.pk, pending["beta"].pk)[2:]:
        if "invitations/" in url and method == "get":
            continue
        assert call(a.client(role), method, url, body).status_code == 404, (method, url)
    assert _snapshot() == before


@pytest.mark.parametrize("role", ADMINS)
def test_owner_and_hr_list_invite_change_and_remove(
    personas: Personas, role: Role, django_capture_on_commit_callbacks: Any
) -> None:
    a = personas.a
    client = a.client(role)
    listed = call(client, "get", api(a)).json()
    assert listed["count"] == len(ROLES)
    row = next(r for r in listed["results"] if r["username"] == "alpha-owner")
    assert set(row) == {
        "id", "user", "username", "email", "role", "two_factor", "last_login", "joined_at"
    }  # fmt: skip
    assert row["role"] == "owner"
    with django_capture_on_commit_callbacks(execute=True):
        made = call(client, "post", api(a), {"email": "new@example.com", "role": "director"})
    assert made.status_code == 201
    assert made.json()["state"] == "pending"
    assert mail.outbox[-1].to == ["new@example.com"]
    assert "token" not in made.content.decode().lower()  # the link goes by e-mail only
    invitations = call(client, "get", api(a, "invitations/")).json()
    assert [i["email"] for i in invitations["results"]] == ["new@example.com"]
    target = membership(a, Role.PARTICIPANT)
    changed = call(client, "patch", api(a, f"{target.pk}/"), {"role": "manager"})
    assert changed.status_code == 200
    assert changed.json()["role"] == "manager"
    assert call(client, "delete", api(a, f"{target.pk}/")).status_code == 204
    assert not Membership.objects.filter(pk=target.pk).exists()
    revoke = call(client, "delete", api(a, f"invitations/{made.json()['id']}/"))
    assert revoke.status_code == 204
    again = call(client, "delete", api(a, f"invitations/{made.json()['id']}/"))
    assert again.status_code == 409


def test_the_organisation_and_user_cannot_be_set_through_the_body(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    a, b = personas.a, personas.b
    hr = a.client(Role.HR)
    with django_capture_on_commit_callbacks(execute=True):
        made = call(
            hr,
            "post",
            api(a),
            {"email": "m@example.com", "role": "assessor", "organisation": b.org.pk,
             "organisation_id": b.org.pk, "invited_by": b.users[Role.OWNER].pk},
        )  # fmt: skip
    assert made.status_code == 201
    invitation = Invitation.objects.get(pk=made.json()["id"])
    assert invitation.organisation == a.org
    assert invitation.invited_by == a.users[Role.HR]
    target = membership(a, Role.PARTICIPANT)
    changed = call(
        hr,
        "patch",
        api(a, f"{target.pk}/"),
        {"role": "assessor", "organisation": b.org.pk, "user": a.users[Role.OWNER].pk},
    )
    assert changed.status_code == 200
    target.refresh_from_db()
    assert (target.organisation, target.user, target.role) == (
        a.org, a.users[Role.PARTICIPANT], Role.ASSESSOR
    )  # fmt: skip


def test_hr_cannot_grant_or_take_the_owner_role_through_the_api(personas: Personas) -> None:
    a = personas.a
    hr = a.client(Role.HR)
    owner = membership(a, Role.OWNER)
    director = membership(a, Role.DIRECTOR)
    before = _snapshot()
    assert call(hr, "patch", api(a, f"{director.pk}/"), {"role": "owner"}).status_code == 403
    assert call(hr, "patch", api(a, f"{owner.pk}/"), {"role": "hr"}).status_code == 403
    assert call(hr, "delete", api(a, f"{owner.pk}/")).status_code == 403
    invited = call(hr, "post", api(a), {"email": "o@example.com", "role": "owner"})
    assert invited.status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("role", ADMINS)
def test_nobody_changes_their_own_role_or_removes_themself_through_the_api(
    personas: Personas, role: Role
) -> None:
    a = personas.a
    me = membership(a, role)
    before = _snapshot()
    assert call(a.client(role), "patch", api(a, f"{me.pk}/"), {"role": "owner"}).status_code == 403
    assert call(a.client(role), "delete", api(a, f"{me.pk}/")).status_code == 403
    assert _snapshot() == before


def test_the_organisation_always_keeps_an_owner(personas: Personas) -> None:
    """Two owners demoting each other: the second request comes from a demoted member."""
    a = personas.a
    first = membership(a, Role.OWNER)
    second = membership(a, Role.DIRECTOR)
    owner = a.client(Role.OWNER)
    assert call(owner, "patch", api(a, f"{second.pk}/"), {"role": "owner"}).status_code == 200
    other = a.client(Role.DIRECTOR)  # now an owner
    assert call(other, "patch", api(a, f"{first.pk}/"), {"role": "hr"}).status_code == 200
    assert call(owner, "patch", api(a, f"{second.pk}/"), {"role": "hr"}).status_code == 403
    assert call(owner, "delete", api(a, f"{second.pk}/")).status_code == 403
    assert list(
        Membership.objects.filter(organisation=a.org, role=Role.OWNER).values_list("pk", flat=True)
    ) == [second.pk]


def test_the_last_owner_guard_holds_in_the_service(personas: Personas) -> None:
    """A stale copy of a manager that still says 'owner' cannot remove the last owner."""
    from django.core.exceptions import PermissionDenied

    from kamfit.members import services

    a = personas.a
    first = membership(a, Role.OWNER)
    second = membership(a, Role.DIRECTOR)
    services.change_role(manager=first, member=second, role=Role.OWNER)
    stale = membership(a, Role.OWNER)  # first, read while still an owner
    services.change_role(manager=second, member=first, role=Role.HR)
    with pytest.raises(PermissionDenied):
        services.remove_member(manager=stale, member=second)
    assert Membership.objects.filter(organisation=a.org, role=Role.OWNER).count() == 1


def test_bad_input_names_the_field(personas: Personas) -> None:
    a = personas.a
    hr = a.client(Role.HR)
    bad = call(hr, "post", api(a), {"email": "nope", "role": "king"}).json()
    assert {p["location"] for p in bad["problems"]} == {"email", "role"}
    target = membership(a, Role.PARTICIPANT)
    assert call(hr, "patch", api(a, f"{target.pk}/"), {}).status_code == 400
    assert call(hr, "get", api(a, "abc/")).status_code == 404


def test_the_schema_documents_the_members_operations(personas: Personas) -> None:
    schema = personas.a.client(Role.OWNER).get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    base = "/api/v1/organisations/{org}/members/"
    assert set(paths[base]) >= {"get", "post"}
    assert set(paths[base + "{id}/"]) >= {"patch", "delete"}
    assert set(paths[base + "invitations/"]) >= {"get"}
    assert set(paths[base + "invitations/{id}/"]) >= {"delete"}
    for name in ("Member", "MemberInvite", "MemberInvitation", "MemberRole"):
        assert any(key.startswith(name) for key in schema["components"]["schemas"]), name
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    assert "basicAuth" not in schema["components"]["securitySchemes"]


def _secret(side: Side, role: Role) -> str:
    return issue_token(side.users[role], side.org, f"{role} token")[1]
