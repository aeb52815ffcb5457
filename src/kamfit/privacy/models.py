"""Erasure requests: one member asks, a different one approves, kamfit anonymises.

The request row is the non-identifying tombstone that stays after the erasure: ids,
who asked and approved, and when. ``reason`` is chosen from a fixed list rather than
typed, so that it can never carry the erased person's name.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kamfit.assessments.models import Person
from kamfit.orgs.models import Organisation


class ErasureReason(models.TextChoices):
    SUBJECT_REQUEST = "subject_request", "The person asked to be erased"
    LEFT = "left", "The person left the organisation"
    CANDIDATE_REJECTED = "candidate_rejected", "Candidate not selected"
    RETENTION = "retention", "Retention period passed"
    OTHER = "other", "Other lawful reason"


class ErasureState(models.TextChoices):
    PENDING = "pending", "Waiting for a second approver"
    REJECTED = "rejected", "Rejected"
    DONE = "done", "Erased"


class ErasureRequest(models.Model):
    """A request to anonymise one person; executed when a second member approves."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="erasure_requests"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="erasure_requests")
    reason = models.CharField(max_length=20, choices=ErasureReason.choices)
    state = models.CharField(
        max_length=10, choices=ErasureState.choices, default=ErasureState.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    by_system = models.BooleanField(
        default=False, help_text="Erased by the retention rule, not by two members"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(state="pending"),
                name="one_pending_erasure_per_person",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | ~models.Q(approved_by=models.F("requested_by")),
                name="erasure_approver_differs",
            ),
        ]

    def __str__(self) -> str:
        return f"Erasure request {self.pk} for person {self.person_id} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == ErasureState.PENDING
