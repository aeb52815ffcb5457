"""Role profiles, their versions and the weighting exercises that set their weights.

A profile version is built on one published framework version and, once published,
never changes (database triggers refuse it): assessments point at a published profile
version, so changing weights later means a new version and never rewrites past results.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from kamfit.domain.profiles import SELLING_LIMIT
from kamfit.frameworks.models import Competency, FrameworkVersion, RoleElement
from kamfit.orgs.models import Organisation


class Profile(models.Model):
    """A KAM position of an organisation, e.g. "Global account manager"."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="profiles"
    )
    key = models.SlugField(max_length=64)
    title = models.CharField(max_length=200, help_text="That of the latest version")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="profile_key_unique")
        ]

    def __str__(self) -> str:
        return self.title


class ProfileStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class WeightsOrigin(models.TextChoices):
    EQUAL = "equal", "Equal weights"
    MANUAL = "manual", "Set by hand"
    EXERCISE = "exercise", "Adopted from a weighting exercise"


class ProfileVersion(models.Model):
    """A numbered version of a profile; once published it never changes."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    framework_version = models.ForeignKey(
        FrameworkVersion, on_delete=models.PROTECT, related_name="profile_versions"
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=4000)
    status = models.CharField(
        max_length=10, choices=ProfileStatus.choices, default=ProfileStatus.DRAFT
    )
    time_allocation = models.JSONField(
        default=dict, blank=True, help_text="Percent of the role's time per activity area key"
    )
    selling_limit = models.FloatField(default=SELLING_LIMIT)
    weights_origin = models.CharField(
        max_length=10, choices=WeightsOrigin.choices, default=WeightsOrigin.EQUAL
    )
    weights_note = models.JSONField(
        default=dict, blank=True, help_text="Where adopted weights came from"
    )
    note = models.CharField(max_length=300, blank=True, help_text="What changed")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["profile", "number"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "number"], name="profile_version_unique"),
            models.UniqueConstraint(
                fields=["profile"],
                condition=models.Q(status="draft"),
                name="one_draft_per_profile",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse(
            "profiles:version",
            args=[self.profile.organisation.slug, self.profile_id, self.number],
        )

    @property
    def is_published(self) -> bool:
        return self.status == ProfileStatus.PUBLISHED


class ProfileElement(models.Model):
    """A role element of the framework version that the position covers."""

    version = models.ForeignKey(ProfileVersion, on_delete=models.CASCADE, related_name="scope")
    element = models.ForeignKey(RoleElement, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["element__role__position", "element__position", "element_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "element"], name="profile_element_unique")
        ]

    def __str__(self) -> str:
        return str(self.element_id)


class Origin(models.TextChoices):
    ELEMENT = "element", "Cited at a role element in scope"
    ADDED = "added", "Added to the profile"


class Requirement(models.Model):
    """A competency or attribute of the profile: required level and weight (percent).

    Requirements that follow from the elements in scope stay as rows when removed
    (``included`` false) so that changing the scope later does not bring them back.
    """

    version = models.ForeignKey(
        ProfileVersion, on_delete=models.CASCADE, related_name="requirements"
    )
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.ELEMENT)
    included = models.BooleanField(default=True)
    required_level = models.PositiveSmallIntegerField(default=3)
    weight = models.FloatField(default=0.0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "competency"], name="profile_requirement_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gte=0) & models.Q(weight__lte=100),
                name="requirement_weight_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competency_id}: level {self.required_level}, {self.weight:.1f}%"


class Method(models.TextChoices):
    POINTS = "points", "Points allocation"
    RANKING = "ranking", "Ranking"
    AHP = "ahp", "Pairwise comparison (AHP)"


class ExerciseStatus(models.TextChoices):
    OPEN = "open", "Open for answers"
    CLOSED = "closed", "Closed"


class WeightingExercise(models.Model):
    """Stakeholders weight a profile version's requirements by one method.

    The items (and, for AHP, their groups) are frozen when the exercise opens, so a
    later change of the profile does not change what people answered.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="weighting_exercises"
    )
    profile_version = models.ForeignKey(
        ProfileVersion, on_delete=models.PROTECT, related_name="exercises"
    )
    title = models.CharField(max_length=200)
    method = models.CharField(max_length=10, choices=Method.choices)
    total_points = models.PositiveSmallIntegerField(default=100)
    items = models.JSONField(default=list, help_text="[{key, name, kind}] frozen at opening")
    groups = models.JSONField(default=list, help_text="AHP groups [{key, label, members}]")
    status = models.CharField(
        max_length=10, choices=ExerciseStatus.choices, default=ExerciseStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    adopted_at = models.DateTimeField(null=True, blank=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    adopted_into = models.ForeignKey(
        ProfileVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("profiles:exercise", args=[self.organisation.slug, self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == ExerciseStatus.OPEN


class Function(models.TextChoices):
    """The stakeholder's function: whose view a set of weights represents."""

    SALES_DIRECTOR = "sales_director", "Sales director"
    KAM_DIRECTOR = "kam_director", "KAM director"
    HR = "hr", "HR"
    SENIOR_MANAGEMENT = "senior_management", "Senior management"
    MARKETING = "marketing", "Marketing"
    OPERATIONS = "operations", "Supply chain & operations"
    FINANCE = "finance", "Finance"
    KAM = "kam", "Key account manager"
    LINE_MANAGER = "line_manager", "Line manager"
    OTHER = "other", "Other function"


class ParticipantStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    STARTED = "started", "Started"
    SUBMITTED = "submitted", "Submitted"


class Participant(models.Model):
    """A stakeholder asked to weight: their saved or submitted answers.

    ``answers`` holds points ``{key: points}``, ranks ``{key: rank}`` or AHP judgements
    ``{group_key: {"i-j": value}}`` (local positions, value = how many times more
    important i is than j). Once submitted, answers are final.
    """

    exercise = models.ForeignKey(
        WeightingExercise, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    function = models.CharField(max_length=20, choices=Function.choices)
    status = models.CharField(
        max_length=10, choices=ParticipantStatus.choices, default=ParticipantStatus.INVITED
    )
    answers = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "user"], name="one_participation")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.exercise_id}"

    @property
    def is_submitted(self) -> bool:
        return self.status == ParticipantStatus.SUBMITTED
