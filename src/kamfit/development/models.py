"""Development plans: actions that close a person's gaps, owned, dated and tracked.

The kind of a gap decides the kind of action (Woodburn 2006, section 2.4): courses
and workshops for competencies, coaching, mentoring and stretch assignments for
attributes. Each action keeps the score it started from, so the next cycle shows
the change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from kamfit.assessments.models import Cycle, Person
from kamfit.orgs.models import Organisation


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Plan(models.Model):
    """A person's development plan, usually made from one cycle's gaps."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="development_plans"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="plans")
    cycle = models.ForeignKey(
        Cycle, on_delete=models.SET_NULL, null=True, blank=True, related_name="plans"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("development:plan", args=[self.organisation.slug, self.pk])


class ActionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class Action(models.Model):
    """One development action of a plan, for one competency or attribute."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveIntegerField(default=0)
    competency_key = models.SlugField(max_length=64)
    competency_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=3)
    action_type = models.CharField(max_length=40)
    catalogue_key = models.CharField(max_length=80, blank=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, max_length=2000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    baseline = models.FloatField(
        null=True, blank=True, help_text="Combined score when the action was planned"
    )
    required_level = models.FloatField(null=True, blank=True)
    progress_note = models.TextField(blank=True, max_length=2000)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title
