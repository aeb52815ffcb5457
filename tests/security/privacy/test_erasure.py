"""T30: erasure needs two different approvers, refuses self-purge, and leaves no identifier."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from kamfit.assessments.models import FormStatus, KeyAccount, Person, Rating, RatingForm
from kamfit.auditlog.models import AuditEvent
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.orgs.models import Role
from kamfit.privacy import services
from kamfit.privacy.models import ErasureRequest, ErasureState
from tests.conftest import ROLES, Personas
from tests.factories import MembershipFactory, OrganisationFactory
from tests.security.privacy.conftest import Subject


def _hits(needle: str) -> list[str]:
    """Every (table.column) of every table whose text contains ``needle``, case-insensitive."""
    found = []
    intro = connection.introspection
    with connection.cursor() as cursor:
        for table in intro.table_names(cursor):
            for column in intro.get_table_description(cursor, table):
                name = connection.ops.quote_name(column.name)
                sql = (
                    f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} "  # noqa: S608
                    f"WHERE LOWER(CAST({name} AS TEXT)) LIKE %s"
                )
                cursor.execute(sql, [f"%{needle.lower()}%"])
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


def _request_and_approve(subject: Subject) -> ErasureRequest:
    side = subject.team.side
    erasure = services.request_erasure(
        person=subject.person, actor=side.users[Role.HR], reason="subject_request"
    )
    return services.approve_erasure(erasure=erasure, actor=side.users[Role.OWNER])


def test_the_search_finds_the_identifiers_before_erasure(subject: Subject) -> None:
    for needle in subject.identifiers:
        assert _hits(needle), needle  # the search works: it must find them first


def test_after_erasure_no_text_column_of_any_table_holds_an_identifier(subject: Subject) -> None:
    _request_and_approve(subject)
    for needle in subject.identifiers:
        assert _hits(needle) == [], needle
    person = Person.objects.get(pk=subject.person.pk)
    assert person.name == f"Erased person {person.pk}"
    assert person.reference == f"erased-{person.pk}"
    assert (person.email, person.job_title, person.unit, person.user_id) == ("", "", "", None)
    assert not KeyAccount.objects.filter(person=person).exists()
    user = User.objects.get(pk=subject.user.pk)
    assert user.username == f"erased-{person.pk}" and not user.is_active
    assert not user.has_usable_password()
    # Scores remain, as anonymised numbers only.
    ratings = Rating.objects.filter(form__rater__assessee__person=person)
    assert ratings.exists() and not ratings.exclude(evidence="").exists()
    assert set(ratings.values_list("level", flat=True)) == {3, 4}
    assert person.psychometrics.get().value == 7
    actions = [e.action for e in AuditEvent.objects.order_by("seq")]
    steps = ["person.erasure_requested", "person.erasure_approved", "person.erased"]
    assert [a for a in actions if a in steps] == steps


def test_an_account_of_another_organisation_is_only_unlinked(subject: Subject) -> None:
    MembershipFactory(organisation=OrganisationFactory(), user=subject.user, role=Role.PARTICIPANT)
    _request_and_approve(subject)
    user = User.objects.get(pk=subject.user.pk)
    assert user.username == subject.username and user.is_active
    assert Person.objects.get(pk=subject.person.pk).user_id is None


def test_one_approver_is_not_enough(subject: Subject) -> None:
    hr = subject.team.side.users[Role.HR]
    erasure = services.request_erasure(person=subject.person, actor=hr, reason="left")
    with pytest.raises(NotPermitted, match="second member"):
        services.approve_erasure(erasure=erasure, actor=hr)
    assert Person.objects.get(pk=subject.person.pk).name == subject.person.name
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.PENDING and erasure.approved_by is None
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        ErasureRequest.objects.filter(pk=erasure.pk).update(approved_by=hr)


def test_self_purge_is_refused(subject: Subject) -> None:
    side = subject.team.side
    hr = side.users[Role.HR]
    # HR's own person record: HR may neither request nor approve its erasure.
    own = Person.objects.create(organisation=side.org, reference="hr-self", name="H R", user=hr)
    with pytest.raises(NotPermitted, match="your own"):
        services.request_erasure(person=own, actor=hr, reason="left")
    erasure = services.request_erasure(person=own, actor=side.users[Role.OWNER], reason="left")
    with pytest.raises(NotPermitted, match="your own"):
        services.approve_erasure(erasure=erasure, actor=hr)
    assert Person.objects.get(pk=own.pk).name == "H R"


def test_a_second_request_while_one_waits_and_a_bad_reason_are_refused(subject: Subject) -> None:
    hr = subject.team.side.users[Role.HR]
    with pytest.raises(ValidationError, match="reason"):
        services.request_erasure(person=subject.person, actor=hr, reason="because")
    services.request_erasure(person=subject.person, actor=hr, reason="left")
    with pytest.raises(NotPermitted, match="waiting"):
        services.request_erasure(person=subject.person, actor=hr, reason="left")


def test_a_rejected_request_changes_nothing_and_cannot_be_approved(subject: Subject) -> None:
    side = subject.team.side
    erasure = services.request_erasure(
        person=subject.person, actor=side.users[Role.HR], reason="left"
    )
    services.reject_erasure(erasure=erasure, actor=side.users[Role.OWNER])
    with pytest.raises(NotPermitted, match="rejected"):
        services.approve_erasure(erasure=erasure, actor=side.users[Role.OWNER])
    assert Person.objects.get(pk=subject.person.pk).email == subject.person.email


def test_the_pages_run_the_two_step_erasure(subject: Subject) -> None:
    side = subject.team.side
    slug, pk = side.org.slug, subject.person.pk
    hr, owner = side.client(Role.HR), side.client(Role.OWNER)
    url = reverse("privacy:erasure_request", args=[slug, pk])
    assert hr.get(url).status_code == 200
    assert hr.post(url, {"reason": "left"}).status_code == 302
    erasure = ErasureRequest.objects.get(person_id=pk)
    page = hr.get(reverse("assessments:person", args=[slug, pk])).content.decode()
    assert "Erasure requested" in page
    approve = reverse("privacy:erasure_approve", args=[slug, erasure.pk])
    hr.post(approve)  # the requester: refused with a message
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.PENDING
    assert owner.post(approve).status_code == 302
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.DONE
    assert "Erased person" in owner.get(reverse("privacy:erasures", args=[slug])).content.decode()


@pytest.mark.parametrize("role", [r for r in ROLES if r not in (Role.OWNER, Role.HR)])
def test_every_other_role_is_refused(subject: Subject, role: Role) -> None:
    side = subject.team.side
    slug = side.org.slug
    erasure = services.request_erasure(
        person=subject.person, actor=side.users[Role.HR], reason="left"
    )
    client = side.client(role)
    # The colleague is visible to roles that manage people, and the manager's report.
    visible_pk = subject.team.colleague.pk
    for method, url in [
        ("get", reverse("privacy:erasures", args=[slug])),
        ("get", reverse("privacy:overview", args=[slug])),
        ("get", reverse("privacy:settings", args=[slug])),
        ("post", reverse("privacy:erasure_approve", args=[slug, erasure.pk])),
        ("post", reverse("privacy:erasure_reject", args=[slug, erasure.pk])),
    ]:
        assert getattr(client, method)(url).status_code == 403, url
    answer = client.post(
        reverse("privacy:erasure_request", args=[slug, visible_pk]), {"reason": "left"}
    )
    assert answer.status_code in {403, 404}  # 404 for roles that do not see the colleague
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.PENDING
    assert ErasureRequest.objects.count() == 1


@pytest.mark.parametrize("role", ROLES)
def test_another_organisation_answers_404(subject: Subject, personas: Personas, role: Role) -> None:
    side = subject.team.side
    erasure = services.request_erasure(
        person=subject.person, actor=side.users[Role.HR], reason="left"
    )
    client = personas.b.client(role)
    for slug in (side.org.slug, personas.b.org.slug):
        for url in (
            reverse("privacy:erasure_approve", args=[slug, erasure.pk]),
            reverse("privacy:erasure_reject", args=[slug, erasure.pk]),
            reverse("privacy:erasure_request", args=[slug, subject.person.pk]),
        ):
            assert client.post(url, {"reason": "left"}).status_code == 404, (slug, url)
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.PENDING


# --- the frozen-form triggers let erasure blank text, and nothing else -----------------------


def _submitted_rating(subject: Subject) -> Rating:
    return Rating.objects.filter(
        form__rater__assessee__person=subject.person, form__status=FormStatus.SUBMITTED
    ).first()  # type: ignore[return-value]


def _refused(statement: str, params: list[int | str]) -> None:
    with (
        pytest.raises(Exception, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def test_the_triggers_allow_blanking_evidence_only(subject: Subject) -> None:
    rating = _submitted_rating(subject)
    assert rating.evidence
    _refused("UPDATE assessments_rating SET evidence = %s WHERE id = %s", ["rewritten", rating.pk])
    _refused("UPDATE assessments_rating SET level = 1 WHERE id = %s", [rating.pk])
    _refused("UPDATE assessments_rating SET evidence = '', level = 1 WHERE id = %s", [rating.pk])
    _refused("DELETE FROM assessments_rating WHERE id = %s", [rating.pk])
    _refused(
        "INSERT INTO assessments_rating (form_id, competency_id, level, evidence) "
        "SELECT form_id, competency_id, level, '' FROM assessments_rating WHERE id = %s",
        [rating.pk],
    )
    Rating.objects.filter(pk=rating.pk).update(evidence="")
    rating.refresh_from_db()
    assert rating.evidence == ""


def test_the_triggers_allow_blanking_an_amendment_reason_only(subject: Subject) -> None:
    form = RatingForm.objects.exclude(reason="").get(status=FormStatus.SUBMITTED)
    _refused("UPDATE assessments_ratingform SET reason = %s WHERE id = %s", ["new", form.pk])
    _refused("UPDATE assessments_ratingform SET revision = revision + 1 WHERE id = %s", [form.pk])
    _refused(
        "UPDATE assessments_ratingform SET reason = '', status = 'draft' WHERE id = %s", [form.pk]
    )
    _refused("DELETE FROM assessments_ratingform WHERE id = %s", [form.pk])
    RatingForm.objects.filter(pk=form.pk).update(reason="")
    assert RatingForm.objects.get(pk=form.pk).reason == ""
