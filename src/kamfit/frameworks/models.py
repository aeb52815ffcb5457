"""Frameworks and their versions, stored as rows per version.

Every row of a version's content (roles, elements, responsibilities, competencies,
citations) names its version, so a version loads in a fixed number of queries and
a published version's rows can be frozen by database triggers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from kamfit.domain.framework import Kind
from kamfit.orgs.models import Organisation


class Framework(models.Model):
    """A framework owned by an organisation, or a shipped one in the library (no owner).

    ``title`` is the name lists show: that of the latest published version (or of
    the first draft). Each version keeps its own title, description and source.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="frameworks"
    )
    key = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "FrameworkVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="copies",
        help_text="The version this framework was copied from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "key"], name="framework_key_unique_in_org"
            ),
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(organisation__isnull=True),
                name="library_framework_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_library(self) -> bool:
        return self.organisation_id is None

    @property
    def latest_published(self) -> FrameworkVersion | None:
        """Return the newest published version (uses prefetched versions when present)."""
        published = [v for v in self.versions.all() if v.status == VersionStatus.PUBLISHED]
        return max(published, key=lambda v: v.number, default=None)


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class FrameworkVersion(models.Model):
    """A numbered version of a framework; once published it never changes."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    citation = models.TextField(blank=True)
    source_note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    note = models.CharField(max_length=300, blank=True)
    guidance = models.JSONField(default=dict, blank=True)
    litmus = models.JSONField(null=True, blank=True)
    # Null means kamfit's default scale. Nullable with no default, so adding it is an
    # ALTER TABLE that keeps the triggers freezing published versions.
    scale = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["framework", "number"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["framework"],
                condition=models.Q(status="draft"),
                name="one_draft_per_framework",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.framework} v{self.number} ({self.status})"

    def get_absolute_url(self) -> str:
        fw = self.framework
        org = fw.organisation.slug if fw.organisation else None
        return reverse("frameworks:version", args=[org, fw.pk, self.number]) if org else ""

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED


class VersionRow(models.Model):
    """Fields shared by every row of a version's content."""

    version = models.ForeignKey(FrameworkVersion, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]


class Role(VersionRow):
    """A main role of KAM (Delivering strategy, Working with customers, …)."""

    key = models.SlugField(max_length=64)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    aims = models.JSONField(default=list, blank=True)

    class Meta(VersionRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="role_key_unique_in_version")
        ]

    def __str__(self) -> str:
        return self.title


class RoleElement(VersionRow):
    """A role element: one row of the paper's section 3 and 4 tables."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="elements")
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    figure_title = models.CharField(max_length=300, blank=True)

    class Meta(VersionRow.Meta):
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="element_key_unique_in_version")
        ]

    def __str__(self) -> str:
        return f"{self.label} — {self.title}"


class Party(models.TextChoices):
    COMPANY = "company", "Role of company"
    KAM = "kam", "Role of key account manager"


class Responsibility(VersionRow):
    """A bullet of the company's or the key account manager's side of an element."""

    element = models.ForeignKey(
        RoleElement, on_delete=models.CASCADE, related_name="responsibilities"
    )
    party = models.CharField(max_length=10, choices=Party.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    text = models.TextField()

    def __str__(self) -> str:
        return self.text


class Competency(VersionRow):
    """A canonical catalogue entry of a version: a competency, an attribute or both."""

    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=3, choices=[(k.value, k.label) for k in Kind])
    kind_source = models.CharField(max_length=20, default="organisation")
    table3_position = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)

    class Meta(VersionRow.Meta):
        verbose_name_plural = "competencies"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key"], name="competency_key_unique_in_version"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Citation(VersionRow):
    """A competency/attribute as worded at one role element, linked to the catalogue."""

    element = models.ForeignKey(RoleElement, on_delete=models.CASCADE, related_name="citations")
    wording = models.CharField(max_length=300)
    competencies = models.ManyToManyField(Competency, related_name="citations")

    def __str__(self) -> str:
        return self.wording
