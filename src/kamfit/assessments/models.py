"""People, assessment cycles, rating forms, psychometric results and the SBI quick check.

A cycle assesses chosen people against one *published* role profile version, so the
levels and weights it scores against never change under it. Each person gets raters
(self, line manager, peers, others); each rater fills a rating form. A submitted form
never changes (database triggers refuse it): an amendment is form number n + 1 with
who, when and why, and the latest submitted number is the one that counts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from kamfit.frameworks.models import Competency
from kamfit.orgs.models import Organisation
from kamfit.profiles.models import Profile, ProfileVersion


class PersonKind(models.TextChoices):
    KAM = "kam", "Key account manager"
    CANDIDATE = "candidate", "Internal candidate"


class Background(models.TextChoices):
    SALES = "sales", "Sales"
    OTHER = "other", "Not sales"
    UNKNOWN = "unknown", "Unknown"


class Person(models.Model):
    """A key account manager or internal candidate of an organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="people")
    reference = models.SlugField(
        max_length=64, help_text="The company's own identifier, e.g. an employee number"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        help_text="The member account with which this person sees their own released results",
    )
    kind = models.CharField(max_length=10, choices=PersonKind.choices, default=PersonKind.KAM)
    job_title = models.CharField(max_length=200, blank=True)
    profile = models.ForeignKey(
        Profile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        help_text="The role profile of the position held or considered for",
    )
    unit = models.CharField(max_length=200, blank=True)
    manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    background = models.CharField(
        max_length=10, choices=Background.choices, default=Background.UNKNOWN
    )
    background_note = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    inactive_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the person was marked inactive; retention counts from here",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # The people list's order: a page is read from the index, never a sort of everyone.
            models.Index(fields=["organisation", "name", "id"], name="person_org_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "reference"], name="person_reference_unique"
            ),
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=models.Q(user__isnull=False),
                name="one_person_per_member",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("assessments:person", args=[self.organisation.slug, self.pk])


class KeyAccount(models.Model):
    """A key account a person holds."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="key_accounts"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "name"], name="key_account_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CycleStatus(models.TextChoices):
    DRAFT = "draft", "Being prepared"
    OPEN = "open", "Open for ratings"
    CLOSED = "closed", "Closed"


class Cycle(models.Model):
    """An assessment of chosen people against one published role profile version."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cycles")
    title = models.CharField(max_length=200)
    profile_version = models.ForeignKey(
        ProfileVersion, on_delete=models.PROTECT, related_name="cycles"
    )
    status = models.CharField(max_length=10, choices=CycleStatus.choices, default=CycleStatus.DRAFT)
    rules = models.JSONField(
        default=dict, blank=True, help_text="Scoring rules: source weights, minimum peers, self"
    )
    due_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("assessments:cycle", args=[self.organisation.slug, self.pk])


class Assessee(models.Model):
    """A person assessed in a cycle, and whether HR has released their results."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="assessees")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="assessments")
    added_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["person__name", "id"]
        constraints = [models.UniqueConstraint(fields=["cycle", "person"], name="assessee_unique")]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.cycle_id}"

    @property
    def is_released(self) -> bool:
        return self.released_at is not None


class Source(models.TextChoices):
    SELF = "self", "Self"
    MANAGER = "manager", "Line manager"
    PEER = "peer", "Peer"
    OTHER = "other", "Other"


class Rater(models.Model):
    """A member asked to rate one assessee, from one source."""

    assessee = models.ForeignKey(Assessee, on_delete=models.CASCADE, related_name="raters")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rater_assignments"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    invited_at = models.DateTimeField(auto_now_add=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["assessee", "source", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assessee", "user"], name="one_rater_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} rates {self.assessee_id} as {self.source}"


class FormStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class RatingForm(models.Model):
    """One version of a rater's form; submitted versions never change."""

    rater = models.ForeignKey(Rater, on_delete=models.CASCADE, related_name="forms")
    number = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT)
    reason = models.CharField(
        max_length=500, blank=True, help_text="Why an amendment was made (versions after 1)"
    )
    revision = models.PositiveIntegerField(
        default=0, help_text="Saves of this version so far: with the number, the form's ETag"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["rater", "number"]
        constraints = [
            models.UniqueConstraint(fields=["rater", "number"], name="rating_form_number_unique"),
            models.UniqueConstraint(
                fields=["rater"],
                condition=models.Q(status="draft"),
                name="one_draft_form_per_rater",
            ),
        ]

    def __str__(self) -> str:
        return f"form {self.number} of rater {self.rater_id} ({self.status})"


class Rating(models.Model):
    """A rater's level for one requirement, with the evidence behind it."""

    form = models.ForeignKey(RatingForm, on_delete=models.CASCADE, related_name="ratings")
    competency = models.ForeignKey(Competency, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: the rater cannot judge this one"
    )
    evidence = models.TextField(blank=True, max_length=4000)

    class Meta:
        ordering = ["form", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "competency"], name="rating_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.competency_id}: {self.level}"


class PsychometricScale(models.TextChoices):
    STEN = "sten", "Sten (1–10)"
    STANINE = "stanine", "Stanine (1–9)"
    PERCENTILE = "percentile", "Percentile (0–100)"
    LEVEL = "level", "Level on the profile's scale"


class PsychometricResult(models.Model):
    """A test provider's score for one attribute of a person.

    The paper: attributes "can be measured by psychological i.e. psychometric
    tests". ``attribute_key`` is the framework competency key the provider's scale
    was mapped to; the latest result per attribute is the one that counts.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="psychometric_results"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="psychometrics")
    attribute_key = models.SlugField(max_length=64)
    provider = models.CharField(max_length=200)
    instrument = models.CharField(max_length=200, blank=True)
    provider_scale = models.CharField(
        max_length=200, blank=True, help_text="The provider's own name for the scale"
    )
    scale = models.CharField(max_length=12, choices=PsychometricScale.choices)
    value = models.FloatField()
    sten = models.FloatField(help_text="The value as a sten, for comparison across providers")
    assessed_on = models.DateField()
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["person", "attribute_key", "-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.attribute_key}: {self.value} {self.scale}"


class QuickCheck(models.Model):
    """The SBI article's nine yes/no questions about an existing key account manager."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="quick_checks"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="quick_checks")
    answers = models.JSONField(default=dict, help_text="{question key: true | false | null}")
    yes_count = models.PositiveSmallIntegerField(default=0)
    answered_count = models.PositiveSmallIntegerField(default=0)
    note = models.TextField(blank=True, max_length=2000)
    answered_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["person", "-answered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.yes_count}/{self.answered_count} yes"
