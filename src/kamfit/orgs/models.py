"""Organisations (tenants) and who belongs to them with which role."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    """What a member may do in one organisation."""

    OWNER = "owner", "Owner"
    HR = "hr", "HR"
    DIRECTOR = "director", "Director"
    MANAGER = "manager", "Line manager"
    ASSESSOR = "assessor", "Assessor"
    PARTICIPANT = "participant", "Participant"
    CONSULTANT = "consultant", "Consultant"


class Organisation(models.Model):
    """A supplier company using kamfit; every tenant row belongs to one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    min_group_size = models.PositiveSmallIntegerField(
        default=5,
        help_text=(
            "The smallest group whose aggregate results are shown (k); 3 to 10. "
            "360 rater groups use 3 whatever this says."
        ),
    )
    retention_candidate_months = models.PositiveSmallIntegerField(
        default=6,
        help_text="Months after an internal candidate was marked inactive before erasure",
    )
    retention_leaver_months = models.PositiveSmallIntegerField(
        default=24,
        help_text="Months after a key account manager was marked inactive before erasure",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_group_size__gte=3, min_group_size__lte=10),
                name="org_min_group_size_3_to_10",
            ),
            models.CheckConstraint(
                condition=models.Q(retention_candidate_months__gte=1)
                & models.Q(retention_leaver_months__gte=1),
                name="org_retention_at_least_a_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organisation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organisation}"
