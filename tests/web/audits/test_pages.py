"""Audit pages: who sees what, other organisations, private links, anonymity, query counts."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kamfit.audits import services
from kamfit.audits.models import (
    Answer,
    Audit,
    AuditItem,
    AuditStatus,
    Rating,
    Respondent,
    RespondentStatus,
)
from kamfit.orgs.models import Role
from tests.conftest import EDITORS, ROLES, Personas, Side

pytestmark = pytest.mark.django_db

MANAGERS = EDITORS  # MANAGE_AUDIT: owner, HR, director, consultant
READERS = (*EDITORS, Role.MANAGER)  # VIEW_AUDIT_RESULTS adds the line manager
OTHERS = tuple(r for r in ROLES if r not in MANAGERS)
NON_READERS = tuple(r for r in ROLES if r not in READERS)


def url(side: Side, name: str, audit: Audit | None = None) -> str:
    return reverse(f"audits:{name}", args=[side.org.slug] + ([audit.pk] if audit else []))


def db_hash() -> str:
    """Hash every audit row, to prove a refused request changed nothing."""
    digest = hashlib.sha256()
    for model in (Audit, AuditItem, Respondent, Answer):
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    digest.update(repr(list(Audit.elements.through.objects.values_list())).encode())
    return digest.hexdigest()


def open_audit(side: Side, elements: tuple[str, ...] = ("risk",), **kwargs: Any) -> Audit:
    # The organisation's k is a floor for every audit's (issue 5): lower it to the audit's.
    side.org.min_group_size = min(side.org.min_group_size, kwargs.get("min_group_size", 5))
    side.org.save(update_fields=["min_group_size"])
    return services.open_audit(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        version=side.published,
        title=kwargs.pop("title", f"{side.org.name} readiness"),
        element_keys=list(elements),
        **kwargs,
    )


def items_of(audit: Audit) -> list[AuditItem]:
    return list(AuditItem.objects.filter(audit=audit))


def form(
    audit: Audit, rating: str, *, comment: str = "", count: int | None = None
) -> dict[str, str]:
    """POST data answering the first ``count`` items (all by default)."""
    data = {}
    for item in items_of(audit)[:count]:
        data[f"rating-{item.pk}"] = rating
        data[f"comment-{item.pk}"] = comment
    return data


def submitted_by_link(audit: Audit, department: str, rating: str, n: int) -> None:
    answers = {i.pk: services.AnswerInput(rating) for i in items_of(audit)}
    for k in range(n):
        respondent, _ = services.invite_by_link(
            audit=audit, name=f"{department} {k}", department=department
        )
        services.save_answers(respondent=respondent, answers=answers, submit=True)


def body(response: Any) -> str:
    return str(response.content.decode())


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def audit(personas: Personas) -> Audit:
    return open_audit(personas.a)


# --- Who sees what -------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_list_page_per_role(personas: Personas, audit: Audit, role: Role) -> None:
    a = personas.a
    response = a.client(role).get(url(a, "list"))
    assert response.status_code == 200
    page = body(response)
    assert ("Alpha Ltd readiness" in page) == (role in READERS)
    assert (f'href="{url(a, "new")}"' in page) == (role in MANAGERS)
    assert (f'href="{url(a, "detail", audit)}"' in page) == (role in MANAGERS)
    assert (f'href="{url(a, "results", audit)}"' in page) == (role in READERS)
    assert "Your audits to answer" not in page


@pytest.mark.parametrize("role", ROLES)
def test_new_detail_and_results_pages_per_role(
    personas: Personas, audit: Audit, role: Role
) -> None:
    a = personas.a
    client = a.client(role)
    expected_manage = 200 if role in MANAGERS else 403
    assert client.get(url(a, "new")).status_code == expected_manage
    assert client.get(url(a, "detail", audit)).status_code == expected_manage
    results = client.get(url(a, "results", audit))
    assert results.status_code == (200 if role in READERS else 403)
    # Nobody reaches a respond page without being invited to answer.
    assert client.get(url(a, "respond", audit)).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_every_role_answers_only_when_invited(personas: Personas, audit: Audit, role: Role) -> None:
    a = personas.a
    services.invite_member(audit=audit, user=a.users[role], department="sales")
    client = a.client(role)
    listing = body(client.get(url(a, "list")))
    assert "Your audits to answer" in listing
    assert url(a, "respond", audit) in listing
    response = client.get(url(a, "respond", audit))
    assert response.status_code == 200
    assert "Submit my answers" in body(response)
    assert "Woodburn, D. (2006)" in body(response)
    # Being a respondent grants nothing more.
    assert client.get(url(a, "detail", audit)).status_code == (200 if role in MANAGERS else 403)
    assert client.get(url(a, "results", audit)).status_code == (200 if role in READERS else 403)


@pytest.mark.parametrize("role", OTHERS)
def test_roles_that_may_not_manage_cannot_open_invite_close_or_repeat(
    personas: Personas, audit: Audit, role: Role
) -> None:
    a = personas.a
    client = a.client(role)
    before = db_hash()
    new = client.post(url(a, "new"), {"title": "Mine", "scope": "litmus", "min_group_size": "5"})
    assert new.status_code == 403
    invite = client.post(url(a, "invite", audit), {"name": "Pat", "department": "sales"})
    assert invite.status_code == 403
    assert client.post(url(a, "close", audit)).status_code == 403
    assert client.post(url(a, "repeat", audit)).status_code == 403
    assert db_hash() == before


@pytest.mark.parametrize("role", MANAGERS)
def test_managers_open_invite_close_and_repeat(personas: Personas, role: Role) -> None:
    a = personas.a
    client = a.client(role)
    response = client.post(
        url(a, "new"),
        {
            "version": a.published.pk,
            "title": "Spring check",
            "scope": "full",
            "elements": ["credibility", "risk"],
            "min_group_size": "4",
        },
    )
    audit = Audit.objects.get(title="Spring check")
    assert response.status_code == 302
    assert response["Location"] == url(a, "detail", audit)
    assert (audit.organisation, audit.version, audit.min_group_size) == (a.org, a.published, 4)
    assert audit.created_by == a.users[role]
    assert AuditItem.objects.filter(audit=audit).count() == 7 + 6 + 2

    member = a.users[Role.PARTICIPANT]
    client.post(url(a, "invite", audit), {"user": member.pk, "department": "kam"})
    assert Respondent.objects.get(audit=audit, user=member).department == "kam"
    detail = body(client.get(url(a, "detail", audit)))
    assert "on Alpha KAM framework v1" in detail
    assert "15 questions" in detail

    client.post(url(a, "close", audit))
    audit.refresh_from_db()
    assert audit.status == AuditStatus.CLOSED
    closed = body(client.get(url(a, "detail", audit)))
    assert "Invite a member" not in closed

    client.post(url(a, "repeat", audit), {"title": "Autumn check"})
    repeat = Audit.objects.get(title="Autumn check")
    assert (repeat.previous, repeat.status) == (audit, AuditStatus.OPEN)


def test_new_audit_form_shows_problems_and_stores_nothing(personas: Personas) -> None:
    a = personas.a
    client = a.client(Role.DIRECTOR)
    page = body(client.get(url(a, "new")))
    assert "Alpha KAM framework v1" in page
    assert "Alpha KAM framework v2" not in page  # drafts are not offered
    assert "Beta KAM framework" not in page
    before = db_hash()
    for data in (
        {"version": a.published.pk, "title": "  ", "scope": "full", "elements": ["risk"]},
        {"version": a.published.pk, "title": "T", "scope": "full"},
        {"version": a.published.pk, "title": "T", "scope": "litmus", "min_group_size": "2"},
        {"version": a.published.pk, "title": "T", "scope": "litmus", "min_group_size": "x"},
    ):
        response = client.post(url(a, "new"), data)
        assert response.status_code == 200
        assert messages_of(response), data
    assert db_hash() == before


def test_new_audit_never_runs_on_another_organisations_version(personas: Personas) -> None:
    a, b = personas.a, personas.b
    client = a.client(Role.DIRECTOR)
    client.post(
        url(a, "new"),
        {"version": b.published.pk, "title": "Sneaky", "scope": "litmus", "min_group_size": "5"},
    )
    assert not Audit.objects.filter(version=b.published).exists()


def test_a_manager_cannot_invite_a_member_of_another_organisation(
    personas: Personas, audit: Audit
) -> None:
    a = personas.a
    before = db_hash()
    outsider = personas.b.users[Role.PARTICIPANT]
    response = a.client(Role.HR).post(
        url(a, "invite", audit), {"user": outsider.pk, "department": "sales"}
    )
    assert response.status_code == 404
    assert db_hash() == before


# --- Other organisations ---------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_other_organisations_audit_is_404_for_every_role(personas: Personas, role: Role) -> None:
    a, b = personas.a, personas.b
    theirs = open_audit(b, ("credibility",))
    services.invite_member(audit=theirs, user=b.users[role], department="sales")
    submitted_by_link(theirs, "sales", Rating.GOOD, 1)
    client = a.client(role)
    before = db_hash()
    for side in (a, b):  # under A's slug, and under B's, of which A's user is not a member
        for name in ("detail", "results", "respond"):
            assert client.get(url(side, name, theirs)).status_code == 404, (side, name)
        assert client.post(url(side, "respond", theirs), form(theirs, "poor")).status_code == 404
        posts = {
            "invite": {"name": "Mole", "department": "sales"},
            "close": {},
            "repeat": {"title": "Hijack"},
        }
        for name, data in posts.items():
            assert client.post(url(side, name, theirs), data).status_code == 404, (side, name)
    assert db_hash() == before
    assert b.client(role).get(url(b, "respond", theirs)).status_code == 200


def test_list_shows_only_the_organisations_own_audits(personas: Personas) -> None:
    open_audit(personas.a, title="Our audit")
    open_audit(personas.b, title="Their audit")
    page = body(personas.a.client(Role.OWNER).get(url(personas.a, "list")))
    assert "Our audit" in page
    assert "Their audit" not in page


# --- Private links ---------------------------------------------------------------------


def test_private_link_flow_without_an_account(personas: Personas, audit: Audit) -> None:
    a = personas.a
    director = a.client(Role.DIRECTOR)
    director.post(url(a, "invite", audit), {"name": "Pat Outsider", "department": "marketing"})
    detail = body(director.get(url(a, "detail", audit)))
    found = re.search(r'value="(http://testserver/r/([^/"]+)/)"', detail)
    assert found, "the new link is shown"
    link, token = found.group(1), found.group(2)
    respondent = Respondent.objects.get(audit=audit)
    assert (respondent.name, respondent.department, respondent.user) == (
        "Pat Outsider",
        "marketing",
        None,
    )
    assert token not in repr(list(Respondent.objects.values_list()))
    assert token not in body(director.get(url(a, "detail", audit)))  # shown once

    anonymous = Client()
    path = reverse("audit_link", args=[token])
    assert link.endswith(path)
    page = body(anonymous.get(path))
    assert audit.title in page
    assert "Alpha Ltd" in page
    assert "Readiness audits" not in page  # no organisation navigation for outsiders
    assert "0 of 9 answered" in page

    saved = anonymous.post(path, {**form(audit, Rating.FAIR, count=4), "save": ""})
    assert saved.status_code == 302
    assert saved["Location"] == path
    respondent.refresh_from_db()
    assert respondent.status == RespondentStatus.STARTED
    assert "4 of 9 answered" in body(anonymous.get(path))

    anonymous.post(path, {**form(audit, Rating.DONT_KNOW), "submit": ""})
    respondent.refresh_from_db()
    assert respondent.status == RespondentStatus.SUBMITTED
    assert set(respondent.answers.values_list("rating", flat=True)) == {Rating.DONT_KNOW}

    final = body(anonymous.get(path))
    assert "your answers are final" in final
    assert "Submit my answers" not in final
    assert "<fieldset disabled>" in final
    before = db_hash()
    response = anonymous.post(path, {**form(audit, Rating.GOOD), "submit": ""}, follow=True)
    assert "final" in " ".join(messages_of(response))
    assert db_hash() == before


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 43, ""])
def test_a_wrong_private_link_is_404(personas: Personas, audit: Audit, token: str) -> None:
    services.invite_by_link(audit=audit, name="Pat", department="sales")
    member = services.invite_member(audit=audit, user=personas.a.users[Role.HR], department="hr")
    assert member.token_hash == ""
    before = db_hash()
    path = f"/r/{token}/"
    assert Client().get(path).status_code == 404
    assert Client().post(path, form(audit, Rating.GOOD)).status_code == 404
    assert db_hash() == before


def test_a_private_link_on_a_closed_audit_is_read_only(personas: Personas, audit: Audit) -> None:
    _, token = services.invite_by_link(audit=audit, name="Pat", department="sales")
    services.close_audit(audit=audit)
    path = reverse("audit_link", args=[token])
    page = body(Client().get(path))
    assert "This audit is closed." in page
    assert "Submit my answers" not in page
    before = db_hash()
    response = Client().post(path, {**form(audit, Rating.GOOD), "submit": ""}, follow=True)
    assert "closed" in " ".join(messages_of(response))
    assert db_hash() == before


# --- Respondents never see each other's answers ------------------------------------------


def test_a_respondent_never_sees_another_respondents_answers(
    personas: Personas, audit: Audit
) -> None:
    a = personas.a
    secret = "Unique-comment-7f3a9: the warehouse ignores us"
    services.invite_member(audit=audit, user=a.users[Role.PARTICIPANT], department="kam")
    services.invite_member(audit=audit, user=a.users[Role.ASSESSOR], department="sales")
    _, token = services.invite_by_link(audit=audit, name="Pat", department="sales")
    first = a.client(Role.PARTICIPANT)
    first.post(url(a, "respond", audit), {**form(audit, Rating.POOR, comment=secret), "save": ""})
    assert secret in body(first.get(url(a, "respond", audit)))  # one's own, for oneself
    first.post(url(a, "respond", audit), {**form(audit, Rating.POOR, comment=secret), "submit": ""})
    assert Answer.objects.filter(comment=secret).count() == 9

    second = body(a.client(Role.ASSESSOR).get(url(a, "respond", audit)))
    assert secret not in second
    assert "checked" not in second
    assert "0 of 9 answered" in second
    outsider = body(Client().get(reverse("audit_link", args=[token])))
    assert secret not in outsider
    assert "checked" not in outsider
    # Comments are not shown in results, nor on the respondents page.
    for role in READERS:
        assert secret not in body(a.client(role).get(url(a, "results", audit)))
    assert secret not in body(a.client(Role.DIRECTOR).get(url(a, "detail", audit)))
    assert secret not in body(a.client(Role.PARTICIPANT).get(url(a, "list")))


def test_a_refused_submit_keeps_the_answers_posted_with_it(
    personas: Personas, audit: Audit
) -> None:
    _, token = services.invite_by_link(audit=audit, name="Pat", department="sales")
    path = reverse("audit_link", args=[token])
    data = {**form(audit, Rating.GOOD, count=8), "submit": ""}
    response = Client().post(path, data, follow=True)
    assert "1 question(s) still need an answer" in " ".join(messages_of(response))
    assert Respondent.objects.get(audit=audit).status != RespondentStatus.SUBMITTED
    assert Answer.objects.count() == 8


# --- Results ---------------------------------------------------------------------------


def breakdown_header(page: str) -> str:
    """Return the header row of the "By department" table ('' when there is none)."""
    section = page.split("<h2>By department</h2>", 1)[1].split("<h2>", 1)[0]
    found = re.search(r"<thead>(.*?)</thead>", section, re.S)
    return found.group(1) if found else ""


def test_a_department_of_two_never_appears_in_the_results(personas: Personas) -> None:
    a = personas.a
    audit = open_audit(a, ("risk",))
    submitted_by_link(audit, "sales", Rating.GOOD, 6)
    submitted_by_link(audit, "marketing", Rating.FAIR, 5)
    submitted_by_link(audit, "finance", Rating.POOR, 2)

    page = body(a.client(Role.DIRECTOR).get(url(a, "results", audit)))
    header = breakdown_header(page)
    assert "Sales <span" in header
    assert "(n=6)" in header
    assert "Other departments" in header
    assert "(n=7)" in header  # Finance pooled, and Marketing with it (complementary suppression)
    assert "Finance" not in header
    assert "Marketing" not in header
    assert "Finance" not in page
    assert "1 department with fewer than 5 respondents is pooled as Other departments." in page
    assert "1 larger department is pooled as well" in page
    assert "13 of 13 respondents submitted (response rate 100%)" in page


def test_no_breakdown_when_fewer_than_two_groups_remain(personas: Personas) -> None:
    a = personas.a
    audit = open_audit(a, ("risk",))
    submitted_by_link(audit, "sales", Rating.GOOD, 6)
    submitted_by_link(audit, "finance", Rating.POOR, 2)
    page = body(a.client(Role.MANAGER).get(url(a, "results", audit)))
    assert breakdown_header(page) == ""
    assert "No breakdown by department is shown" in page
    assert "Sales" not in page


def test_min_group_size_three_shows_a_department_of_three(personas: Personas) -> None:
    a = personas.a
    audit = open_audit(a, ("risk",), min_group_size=3)
    submitted_by_link(audit, "sales", Rating.GOOD, 3)
    submitted_by_link(audit, "finance", Rating.POOR, 3)
    header = breakdown_header(body(a.client(Role.HR).get(url(a, "results", audit))))
    assert "Sales" in header
    assert "Finance" in header
    assert "Other departments" not in header


def test_results_page_shows_scores_and_credits_woodburn(personas: Personas) -> None:
    a = personas.a
    audit = open_audit(a, ("credibility", "risk"), min_group_size=3)
    submitted_by_link(audit, "sales", Rating.GOOD, 2)
    services.invite_by_link(audit=audit, name="Late", department="it")
    page = body(a.client(Role.MANAGER).get(url(a, "results", audit)))
    # Fewer answers than the minimum group: no score at all, so nobody can be recognised.
    assert "Results appear once at least 3 respondents have submitted (2 so far)" in page
    assert "By role of KAM" not in page
    submitted_by_link(audit, "sales", Rating.GOOD, 1)
    page = body(a.client(Role.MANAGER).get(url(a, "results", audit)))
    assert "3 of 4 respondents submitted (response rate 75%)" in page
    assert "Litmus test for KAM-effective organisations" in page
    assert "Take decisions and follow them through" in page
    assert "By role of KAM" in page
    assert "Working with customers" in page
    assert "Credibility — Providing suppliers’ credibility with customers" in page
    assert "Weakest areas" in page
    assert "Where opinion splits most" in page
    assert "Woodburn, D. (2006). Competencies for key account managers" in page
    assert f'href="{url(a, "detail", audit)}"' not in page  # a line manager does not manage audits
    empty = open_audit(a, title="Nobody yet")
    page = body(a.client(Role.MANAGER).get(url(a, "results", empty)))
    assert "Results appear once at least 5 respondents have submitted (0 so far)" in page


def test_repeat_results_show_the_change(personas: Personas) -> None:
    a = personas.a
    first = open_audit(a, ("risk",), min_group_size=3)
    submitted_by_link(first, "sales", Rating.POOR, 3)
    again = services.repeat_audit(audit=first, user=None)
    submitted_by_link(again, "sales", Rating.FAIR, 3)
    page = body(a.client(Role.DIRECTOR).get(url(a, "results", again)))
    assert "<th>Change</th>" in page
    assert "<td>+50</td>" in page
    assert f"Changes are in points since <em>{first.title}</em>" in page


def results_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_results_page_query_count_does_not_grow_with_respondents(personas: Personas) -> None:
    a = personas.a
    client = a.client(Role.DIRECTOR)
    counts = []
    for n in (10, 40):
        audit = open_audit(a, ("credibility", "risk"), title=f"{n} respondents")
        departments = ("sales", "finance", "kam", "it")
        for k, department in enumerate(departments):
            rating = (Rating.POOR, Rating.FAIR, Rating.GOOD, Rating.DONT_KNOW)[k]
            submitted_by_link(audit, department, rating, n // len(departments))
        repeat = services.repeat_audit(audit=audit, user=None)
        submitted_by_link(repeat, "sales", Rating.GOOD, n)
        counts.append(
            (
                results_queries(client, url(a, "results", audit)),
                results_queries(client, url(a, "results", repeat)),
            )
        )
    assert counts[0] == counts[1]
    assert max(counts[1]) <= 20
