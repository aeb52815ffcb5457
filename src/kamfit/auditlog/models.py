"""One audit event: who did what to which object, when, from where, chained by hash."""

from __future__ import annotations

from django.db import models


class Via(models.TextChoices):
    """How the actor reached kamfit."""

    SESSION = "session", "Browser session"
    TOKEN = "token", "API token"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System (jobs, retention)"


class AuditEvent(models.Model):
    """An append-only log row; triggers refuse UPDATE and DELETE (migration 0002).

    Actor, organisation and object are plain columns, not foreign keys: removing a
    user or an organisation must never cascade into (or be blocked by) the log.
    ``seq`` is assigned as head + 1 under a lock, so the chain is gapless and a
    missing row shows as a gap as well as a broken hash.
    """

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["organisation_id", "action", "seq"], name="auditevent_org_action"),
            models.Index(
                fields=["organisation_id", "actor_id", "seq"], name="auditevent_org_actor"
            ),
            models.Index(fields=["object_type", "object_id"], name="auditevent_object"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} at {self.at:%Y-%m-%d %H:%M:%S}Z"
