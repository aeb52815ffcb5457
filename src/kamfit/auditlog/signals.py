"""Record role changes however they are made: admin, shell, scripts, other services.

The members app records invitations, joins, role changes and removals where they
happen (``kamfit.members.services``), in the same transaction. Changes to a
``Membership`` made anywhere else would leave no trace, so these receivers act as the
safety net: once the transaction commits, they record ``member.added``,
``member.role_changed`` or ``member.removed`` unless an equivalent event for the same
membership was recorded in that transaction. The net's entry is written just after
the commit (a crash in between loses it); the services' entries are atomic.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from kamfit.auditlog.models import AuditEvent
from kamfit.auditlog.services import Value, record
from kamfit.orgs.models import Membership

#: What the receivers would record, and the events that already say the same.
EQUIVALENT = {
    "member.added": ("member.added", "member.joined"),
    "member.role_changed": ("member.role_changed",),
    "member.removed": ("member.removed",),
}


def _head() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _record_unless_recorded(
    action: str, membership_id: int, after: int, organisation_id: int, data: dict[str, Value]
) -> None:
    """Record ``action`` unless a service already recorded it for this membership.

    A membership is added and removed once (primary keys are never reused), so any
    earlier such event counts; a role changes many times, so only one recorded since
    the change (``after``) does.
    """
    recorded = AuditEvent.objects.filter(
        action__in=EQUIVALENT[action],
        object_type="orgs.membership",
        object_id=str(membership_id),
    )
    if action == "member.role_changed":
        recorded = recorded.filter(seq__gt=after)
    if not recorded.exists():
        fake = Membership(pk=membership_id)  # only its label and pk are read
        record(action, organisation_id=organisation_id, target=fake, data=data)


def _later(action: str, instance: Membership, data: dict[str, Value]) -> None:
    after = _head() if action == "member.role_changed" else 0
    transaction.on_commit(
        partial(_record_unless_recorded, action, instance.pk, after, instance.organisation_id, data)
    )


@receiver(pre_save, sender=Membership, dispatch_uid="auditlog_membership_pre_save")
def remember_role(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    """Keep the stored role so post_save can tell a change from a plain save."""
    if instance.pk is None or kwargs.get("raw"):
        instance._audit_old_role = None  # type: ignore[attr-defined]
        return
    instance._audit_old_role = (  # type: ignore[attr-defined]
        Membership.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
    )


@receiver(post_save, sender=Membership, dispatch_uid="auditlog_membership_post_save")
def record_membership_saved(
    sender: type[Membership], instance: Membership, created: bool, **kwargs: Any
) -> None:
    """Record a new member, or a changed role."""
    if kwargs.get("raw"):  # loaddata / restore replays history; it is not an event
        return
    if created:
        _later("member.added", instance, {"user_id": instance.user_id, "role": instance.role})
        return
    old = getattr(instance, "_audit_old_role", None)
    if old is not None and old != instance.role:
        data: dict[str, Value] = {"user_id": instance.user_id, "from": old, "to": instance.role}
        _later("member.role_changed", instance, data)


@receiver(post_delete, sender=Membership, dispatch_uid="auditlog_membership_post_delete")
def record_membership_deleted(
    sender: type[Membership], instance: Membership, **kwargs: Any
) -> None:
    """Record a removal (also when a user or a whole organisation is deleted)."""
    _later("member.removed", instance, {"user_id": instance.user_id, "role": instance.role})
