"""Readiness audits: items frozen from a published framework version, respondents, answers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from kamfit.frameworks.models import FrameworkVersion, RoleElement
from kamfit.orgs.models import Organisation


class Scope(models.TextChoices):
    LITMUS = "litmus", "Litmus test only"
    FULL = "full", "Litmus test and company responsibilities of chosen role elements"


class AuditStatus(models.TextChoices):
    OPEN = "open", "Open for answers"
    CLOSED = "closed", "Closed"


class Department(models.TextChoices):
    SALES = "sales", "Sales"
    KAM = "kam", "Key account management"
    MARKETING = "marketing", "Marketing"
    SUPPLY_CHAIN = "supply_chain", "Supply chain & operations"
    FINANCE = "finance", "Finance"
    IT = "it", "IT"
    HR = "hr", "HR"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    PRODUCT = "product", "Product & R&D"
    SENIOR_MANAGEMENT = "senior_management", "Senior management"
    OTHER = "other", "Other"


class Rating(models.TextChoices):
    """The paper's scale, plus "don't know", which is not a score."""

    POOR = "poor", "Poor"
    FAIR = "fair", "Fair"
    GOOD = "good", "Good"
    DONT_KNOW = "dont_know", "Don't know"


class Audit(models.Model):
    """One run of the readiness audit on a published framework version."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="audits")
    version = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="audits")
    title = models.CharField(max_length=200)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FULL)
    elements = models.ManyToManyField(RoleElement, blank=True, related_name="+")
    min_group_size = models.PositiveSmallIntegerField(default=5)
    status = models.CharField(max_length=10, choices=AuditStatus.choices, default=AuditStatus.OPEN)
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="repeats"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("audits:detail", args=[self.organisation.slug, self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == AuditStatus.OPEN


class ItemKind(models.TextChoices):
    LITMUS = "litmus", "Litmus test"
    RESPONSIBILITY = "responsibility", "Company responsibility"


class AuditItem(models.Model):
    """A question of an audit, frozen when the audit opens."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    key = models.CharField(max_length=120, help_text="Stable across repeated audits")
    text = models.TextField()
    role_title = models.CharField(max_length=300, blank=True)
    element_key = models.CharField(max_length=64, blank=True)
    element_title = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "key"], name="audit_item_key_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class RespondentStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    STARTED = "started", "Started"
    SUBMITTED = "submitted", "Submitted"


class Respondent(models.Model):
    """Someone asked to answer an audit: a member, or a person with a private link."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="respondents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    name = models.CharField(
        max_length=200, blank=True, help_text="For respondents without an account"
    )
    department = models.CharField(max_length=30, choices=Department.choices)
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=10, choices=RespondentStatus.choices, default=RespondentStatus.INVITED
    )
    on_paper = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit", "user"],
                condition=models.Q(user__isnull=False),
                name="one_response_per_member",
            )
        ]

    def __str__(self) -> str:
        return self.name or (str(self.user) if self.user_id else f"Respondent {self.pk}")

    @property
    def is_submitted(self) -> bool:
        return self.status == RespondentStatus.SUBMITTED


class Answer(models.Model):
    """One rating (and optional comment) by one respondent on one item."""

    respondent = models.ForeignKey(Respondent, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(AuditItem, on_delete=models.CASCADE, related_name="answers")
    rating = models.CharField(max_length=10, choices=Rating.choices)
    comment = models.TextField(blank=True, max_length=2000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["respondent", "item"], name="one_answer_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.rating}"
