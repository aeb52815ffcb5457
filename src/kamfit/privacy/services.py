"""Privacy writes: export a person's data, erase with two approvers, apply retention.

Erasure anonymises in one transaction and leaves a tombstone: the person row (as
"Erased person <id>", reference "erased-<id>"), their scores as numbers, the request
row (ids, dates, a reason code) and the audit trail (ids and counts only, never a
name). Free text about the person is blanked, key accounts deleted, and their account
anonymised and deactivated, or only unlinked if it belongs to another organisation.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from kamfit.assessments.models import (
    KeyAccount,
    Person,
    PersonKind,
    QuickCheck,
    Rating,
    RatingForm,
)
from kamfit.auditlog.context import acting_via
from kamfit.auditlog.services import record
from kamfit.development.models import Action, Plan
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.members.models import ApiToken, Invitation
from kamfit.orgs.models import Membership, Organisation
from kamfit.privacy import export
from kamfit.privacy.models import ErasureReason, ErasureRequest, ErasureState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "GROUP_SIZE_RANGE",
    "RETENTION_MONTHS_RANGE",
    "RetentionCandidate",
    "approve_erasure",
    "erase_person",
    "export_person",
    "list_retention_due",
    "months_before",
    "reject_erasure",
    "request_erasure",
    "run_retention",
    "run_retention_everywhere",
    "update_privacy_settings",
]

GROUP_SIZE_RANGE = (3, 10)
# Sessions and second factors of an erased account: deleted, never kept or exported.
CREDENTIAL_MODELS = (
    "accounts.UserSession",
    "accounts.RecoveryCodeDevice",
    "otp_totp.TOTPDevice",
    "otp_static.StaticDevice",
)
RETENTION_MONTHS_RANGE = (1, 120)


def export_person(*, person: Person, actor: User | None, named: bool) -> dict[str, Any]:
    """Return the person's export (validated against the schema) and log that it was taken."""
    document = export.build_export(person, named=named, now=timezone.now())
    export.validate_export(document)
    with transaction.atomic():
        record(
            "person.exported",
            actor=actor,
            organisation=person.organisation,
            target=person,
            data={
                "person_id": person.pk,
                "view": document["view"],
                "assessments": len(document["assessments"]),
                "psychometrics": len(document["psychometrics"]),
            },
        )
    return document


def _linked_to(person: Person, user: User) -> bool:
    return person.user_id is not None and person.user_id == user.pk


def request_erasure(*, person: Person, actor: User, reason: str) -> ErasureRequest:
    """Ask for a person's erasure; a different member must approve it."""
    if reason not in ErasureReason.values or reason == ErasureReason.RETENTION:
        choices = ", ".join(v for v in ErasureReason.values if v != ErasureReason.RETENTION)
        raise ValidationError([Problem("reason", f"must be one of: {choices}")])
    if _linked_to(person, actor):
        raise NotPermitted("You may not request the erasure of your own person record.")
    if ErasureRequest.objects.filter(person=person, state=ErasureState.DONE).exists():
        raise NotPermitted("This person has been erased already.")
    with transaction.atomic():
        if (
            ErasureRequest.objects.select_for_update()
            .filter(person=person, state=ErasureState.PENDING)
            .exists()
        ):
            raise NotPermitted("An erasure request for this person is waiting for approval.")
        erasure = ErasureRequest.objects.create(
            organisation=person.organisation, person=person, reason=reason, requested_by=actor
        )
        record(
            "person.erasure_requested",
            actor=actor,
            organisation=person.organisation,
            target=person,
            data={"person_id": person.pk, "erasure_id": erasure.pk, "reason": reason},
        )
    return erasure


def _pending(erasure: ErasureRequest) -> ErasureRequest:
    locked = ErasureRequest.objects.select_for_update().select_related("person__organisation")
    current = locked.get(pk=erasure.pk)
    if current.state != ErasureState.PENDING:
        raise NotPermitted(f"This erasure request is {current.get_state_display().lower()}.")
    return current


def approve_erasure(*, erasure: ErasureRequest, actor: User) -> ErasureRequest:
    """Approve as the second member and erase the person at once, in one transaction."""
    if erasure.requested_by_id == actor.pk:
        raise NotPermitted("A second member must approve: you requested this erasure.")
    if _linked_to(erasure.person, actor):
        raise NotPermitted("You may not approve the erasure of your own person record.")
    with transaction.atomic():
        current = _pending(erasure)
        now = timezone.now()
        current.approved_by = actor
        current.approved_at = now
        current.save(update_fields=["approved_by", "approved_at"])
        record(
            "person.erasure_approved",
            actor=actor,
            organisation=current.organisation,
            target=current.person,
            data={"person_id": current.person_id, "erasure_id": current.pk},
        )
        erase_person(person=current.person, erasure=current, actor=actor)
    return current


def reject_erasure(*, erasure: ErasureRequest, actor: User) -> ErasureRequest:
    """Reject (or withdraw) a pending request; nothing about the person changes."""
    with transaction.atomic():
        current = _pending(erasure)
        current.state = ErasureState.REJECTED
        current.rejected_by = actor
        current.rejected_at = timezone.now()
        current.save(update_fields=["state", "rejected_by", "rejected_at"])
        record(
            "person.erasure_rejected",
            actor=actor,
            organisation=current.organisation,
            target=current.person,
            data={"person_id": current.person_id, "erasure_id": current.pk},
        )
    return current


def _erase_account(person: Person, user_id: int) -> str:
    """Anonymise and deactivate the account, or only unlink it if it has another organisation."""
    others = Membership.objects.filter(user_id=user_id).exclude(
        organisation_id=person.organisation_id
    )
    if others.exists():
        return "unlinked"
    user = get_user_model().objects.get(pk=user_id)
    old_username, old_email = user.get_username(), getattr(user, "email", "")
    user.username = f"erased-{person.pk}"
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    ApiToken.objects.filter(user_id=user_id).delete()
    if old_email:
        Invitation.objects.filter(email__iexact=old_email).delete()
    for label in CREDENTIAL_MODELS:
        model = _model(label)
        if model is not None:
            model._default_manager.filter(user_id=user_id).delete()
    for label in ("axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"):
        model = _model(label)
        if model is not None:
            model._default_manager.filter(username=old_username).delete()
    return "anonymised"


def _model(label: str) -> type[Model] | None:
    """Return an installed model by label, or None (second factors and lockout are optional)."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _blank_free_text(person: Person) -> dict[str, int]:
    """Blank every note written about the person; scores and levels stay."""
    about = Q(form__rater__assessee__person=person)
    counts = {
        "evidence": Rating.objects.filter(about).exclude(evidence="").update(evidence=""),
        "form_reasons": RatingForm.objects.filter(rater__assessee__person=person)
        .exclude(reason="")
        .update(reason=""),
        "quick_check_notes": QuickCheck.objects.filter(person=person)
        .exclude(note="")
        .update(note=""),
    }
    plans = Plan.objects.filter(person=person)
    actions = Action.objects.filter(plan__in=plans)
    counts["action_texts"] = actions.update(description="", progress_note="")
    actions.filter(catalogue_key="").update(title="Erased action")
    for plan in plans:
        plan.title = f"Plan {plan.pk}"
        plan.save(update_fields=["title"])
    counts["key_accounts"] = KeyAccount.objects.filter(person=person).delete()[0]
    if person.email:
        counts["invitations"] = Invitation.objects.filter(
            organisation_id=person.organisation_id, email__iexact=person.email
        ).delete()[0]
    return counts


def erase_person(
    *, person: Person, erasure: ErasureRequest, actor: User | None
) -> dict[str, int | str]:
    """Anonymise the person in one transaction (see the module docstring)."""
    with transaction.atomic():
        counts: dict[str, int | str] = dict(_blank_free_text(person))
        user_id = person.user_id
        person.name = f"Erased person {person.pk}"
        person.email = ""
        person.reference = f"erased-{person.pk}"
        person.job_title = ""
        person.unit = ""
        person.background_note = ""
        person.user = None
        person.active = False
        person.inactive_since = person.inactive_since or timezone.now()
        person.save()
        if user_id is not None:
            counts["account"] = _erase_account(person, user_id)
        erasure.state = ErasureState.DONE
        erasure.executed_at = timezone.now()
        erasure.save(update_fields=["state", "executed_at"])
        record(
            "person.erased",
            actor=actor,
            organisation=person.organisation,
            target=person,
            data={"person_id": person.pk, "erasure_id": erasure.pk, **counts},
        )
    return counts


# --- retention --------------------------------------------------------------------------


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """Return the same day and time ``months`` calendar months earlier (clamped to the month)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class RetentionCandidate:
    """A person due for erasure by the retention rule, and which rule applies."""

    person: Person
    rule: str  # "candidate" or "leaver"


def list_retention_due(org: Organisation, now: dt.datetime) -> list[RetentionCandidate]:
    """Return the inactive people whose retention period has passed, not erased yet."""
    rules = (
        (PersonKind.CANDIDATE, org.retention_candidate_months, "candidate"),
        (PersonKind.KAM, org.retention_leaver_months, "leaver"),
    )
    due: list[RetentionCandidate] = []
    for kind, months, rule in rules:
        cutoff = months_before(now, months)
        people = (
            Person.objects.filter(organisation=org, kind=kind, active=False)
            .filter(inactive_since__isnull=False, inactive_since__lte=cutoff)
            .exclude(erasure_requests__state=ErasureState.DONE)
            .select_related("organisation")
            .order_by("id")
        )
        due.extend(RetentionCandidate(p, rule) for p in people)
    return due


def run_retention(
    org: Organisation, *, now: dt.datetime | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Erase everyone whose retention period has passed, as the system; return counts."""
    now = now or timezone.now()
    due = list_retention_due(org, now)
    counts = {"candidate": 0, "leaver": 0}
    for item in due:
        counts[item.rule] += 1
    if dry_run or not due:
        return counts
    with transaction.atomic():
        for item in due:
            ErasureRequest.objects.filter(person=item.person, state=ErasureState.PENDING).update(
                state=ErasureState.REJECTED, rejected_at=now
            )
            erasure = ErasureRequest.objects.create(
                organisation=org,
                person=item.person,
                reason=ErasureReason.RETENTION,
                by_system=True,
                approved_at=now,
            )
            erase_person(person=item.person, erasure=erasure, actor=None)
        record(
            "retention.purged",
            organisation=org,
            data={"candidates": counts["candidate"], "leavers": counts["leaver"]},
        )
    return counts


def run_retention_everywhere(now: dt.datetime | None = None) -> int:
    """Apply every organisation's retention rules as the system; return how many were erased."""
    erased = 0
    with acting_via("system"):
        for org in Organisation.objects.order_by("id"):
            counts = run_retention(org, now=now)
            erased += counts["candidate"] + counts["leaver"]
    return erased


def update_privacy_settings(
    *, org: Organisation, actor: User, values: dict[str, str]
) -> Organisation:
    """Set the retention periods and the minimum group size; name each bad field."""
    limits = {
        "retention_candidate_months": RETENTION_MONTHS_RANGE,
        "retention_leaver_months": RETENTION_MONTHS_RANGE,
        "min_group_size": GROUP_SIZE_RANGE,
    }
    parsed: dict[str, int] = {}
    problems = []
    for name, (low, high) in limits.items():
        raw = values.get(name, "").strip()
        try:
            number = int(raw)
        except ValueError:
            problems.append(Problem(name, f"must be a whole number from {low} to {high}"))
            continue
        if not low <= number <= high:
            problems.append(Problem(name, f"must be from {low} to {high}, not {number}"))
            continue
        parsed[name] = number
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        for name, number in parsed.items():
            setattr(org, name, number)
        org.save(update_fields=list(parsed))
        record("privacy.settings_changed", actor=actor, organisation=org, data=dict(parsed))
    return org
