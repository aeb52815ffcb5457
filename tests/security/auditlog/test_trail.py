"""The audit trail itself: appends, refusals, append-only triggers, the hash chain (A37, T23)."""

from __future__ import annotations

import threading
from datetime import UTC
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from kamfit.auditlog.models import AuditEvent
from kamfit.auditlog.services import (
    GENESIS,
    AuditDataRefused,
    entry_hash,
    record,
    verify_chain,
)
from kamfit.orgs.models import Organisation
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _org() -> Organisation:
    return cast(Organisation, OrganisationFactory())


def _user(**kwargs: Any) -> User:
    return cast(User, UserFactory(**kwargs))


def _tamper(sql: str, params: list[str | int]) -> None:
    """Change the log the way someone with the database's keys could: triggers dropped."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE auditlog_auditevent DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE auditlog_auditevent ENABLE TRIGGER USER")
        else:
            for op in ("update", "delete"):
                cursor.execute(f"DROP TRIGGER auditevent_append_only_{op}")
            cursor.execute(sql, params)


def test_record_appends_a_chained_entry_with_every_field() -> None:
    org = _org()
    user = _user()
    record("results.released", actor=user, organisation=org, target=org, data={"released": 3})
    record("cycle.opened", organisation=org)
    first, second = AuditEvent.objects.order_by("seq")
    assert (first.seq, second.seq) == (1, 2)
    assert first.actor_id == user.pk
    assert first.organisation_id == org.pk
    assert (first.object_type, first.object_id) == ("orgs.organisation", str(org.pk))
    assert first.data == {"released": 3}
    assert first.at.tzinfo is not None
    assert first.at.utcoffset() == UTC.utcoffset(None)
    assert first.via == "system"
    assert first.prev_hash == GENESIS
    assert first.hash == entry_hash(GENESIS, first)
    assert second.prev_hash == first.hash
    assert verify_chain() == (2, None)


def test_an_entry_rolls_back_with_the_change_it_describes() -> None:
    org = _org()
    with pytest.raises(RuntimeError), transaction.atomic():
        record("cycle.created", organisation=org)
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.exists()
    record("cycle.created", organisation=org)  # the next entry starts the chain cleanly
    assert verify_chain() == (1, None)


@pytest.mark.parametrize(
    ("action", "data", "reason"),
    [
        ("auth.login", {"email": "ada@example.com"}, "not free text"),
        ("auth.login", {"note": "Great negotiator, weak on finance"}, "not free text"),
        ("auth.login", {"name": "Ada"}, "not free text"),
        ("auth.login", {"token": "x" * 65}, "not free text"),
        ("auth.login", {"Bad Key": 1}, "snake_case"),
        ("auth.login", {"value": float("nan")}, "finite"),
        ("auth.login", {"value": [1, 2]}, "a code, a number or a flag"),
        ("auth.login", {f"k{i}": i for i in range(21)}, "at most 20"),
        ("Login", None, "dotted code"),
        ("auth", None, "dotted code"),
        ("auth.login\nauth.logout", None, "dotted code"),
    ],
)
def test_record_refuses_anything_but_ids_codes_and_counts(
    action: str, data: dict[str, object] | None, reason: str
) -> None:
    with pytest.raises(AuditDataRefused, match=reason):
        record(action, data=data)  # type: ignore[arg-type]
    assert not AuditEvent.objects.exists()


def test_record_refuses_an_unknown_channel() -> None:
    with pytest.raises(AuditDataRefused, match="via"):
        record("auth.login", via="carrier-pigeon")


def test_direct_update_is_refused_by_the_database() -> None:
    record("auth.login", data={"ok": True})
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(action="auth.logout")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE auditlog_auditevent SET data = %s", ['{"ok": false}'])
    assert AuditEvent.objects.get().action == "auth.login"


def test_direct_delete_is_refused_by_the_database() -> None:
    record("auth.login")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM auditlog_auditevent")
    assert AuditEvent.objects.count() == 1


def test_deleting_a_user_or_organisation_leaves_the_log_alone() -> None:
    org = _org()
    user = _user()
    ids = (user.pk, org.pk)
    record("auth.login", actor=user, organisation=org)
    user.delete()
    Organisation.objects.filter(pk=org.pk).delete()
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor_id, event.organisation_id) == ids
    assert verify_chain()[1] is None


def test_verify_names_the_row_whose_content_was_changed() -> None:
    for n in range(5):
        record("form.submitted", data={"number": n})
    _tamper("UPDATE auditlog_auditevent SET data = %s WHERE seq = %s", ['{"number": 9}', 3])
    checked, broken = verify_chain()
    assert checked == 2
    assert broken is not None
    assert (broken.seq, broken.reason) == (3, "content does not match its hash")


def test_verify_names_a_removed_row() -> None:
    for n in range(4):
        record("form.submitted", data={"number": n})
    _tamper("DELETE FROM auditlog_auditevent WHERE seq = %s", [2])
    checked, broken = verify_chain()
    assert (checked, broken and broken.seq, broken and broken.reason) == (
        1,
        3,
        "entry 2 is missing",
    )


def test_verify_names_a_row_rewritten_with_a_fresh_hash() -> None:
    """Recomputing the changed row's own hash still breaks the next row's link."""
    for n in range(3):
        record("form.submitted", data={"number": n})
    forged = AuditEvent.objects.get(seq=2)
    forged.data = {"number": 7}
    _tamper(
        "UPDATE auditlog_auditevent SET data = %s, hash = %s WHERE seq = 2",
        ['{"number": 7}', entry_hash(forged.prev_hash, forged)],
    )
    _, broken = verify_chain()
    assert broken is not None
    assert (broken.seq, broken.reason) == (3, "prev_hash does not match the entry before")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain_on_postgresql() -> None:
    """Eight threads append at once: the advisory lock keeps one gapless chain."""
    org = _org()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def append(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                with transaction.atomic():
                    record("form.submitted", organisation=org, data={"thread": n, "i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEvent.objects.count() == 200
    assert verify_chain() == (200, None)
