"""Writes to readiness audits: open, invite, answer, submit, close, repeat, import."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from kamfit.audits.models import (
    Answer,
    Audit,
    AuditItem,
    AuditStatus,
    Department,
    ItemKind,
    Rating,
    Respondent,
    RespondentStatus,
    Scope,
)
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.domain.readiness import MIN_GROUP_CEILING, MIN_GROUP_FLOOR
from kamfit.domain.titles import derived_title
from kamfit.frameworks.models import FrameworkVersion, VersionStatus
from kamfit.frameworks.queries import get_version_rows
from kamfit.orgs.models import Membership, Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "AnswerInput",
    "PaperResponse",
    "close_audit",
    "hash_token",
    "import_paper_answers",
    "invite_by_link",
    "invite_member",
    "open_audit",
    "remove_respondent",
    "repeat_audit",
    "save_answers",
    "submit_answers",
]

#: The title column's length: a derived title ("… (repeat)") must fit it.
TITLE_LENGTH: int = Audit._meta.get_field("title").max_length  # type: ignore[assignment]


def hash_token(token: str) -> str:
    """Return the stored form of a respondent link's secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_settings(
    version: FrameworkVersion, organisation: Organisation, min_group_size: int
) -> list[Problem]:
    problems = []
    if version.status != VersionStatus.PUBLISHED:
        problems.append(Problem("version", "an audit needs a published framework version"))
    owner = version.framework.organisation_id
    if owner is not None and owner != organisation.pk:
        problems.append(Problem("version", "unknown framework version"))
    if not MIN_GROUP_FLOOR <= min_group_size <= MIN_GROUP_CEILING:
        problems.append(
            Problem(
                "min_group_size",
                f"must be between {MIN_GROUP_FLOOR} and {MIN_GROUP_CEILING} respondents",
            )
        )
    return problems


def _check_scope(
    title: str,
    scope: str,
    element_keys: Sequence[str],
    known: Iterable[str],
    has_litmus: bool,
) -> list[Problem]:
    problems = [] if title.strip() else [Problem("title", "empty text")]
    if scope not in Scope.values:
        problems.append(Problem("scope", f"unknown scope {scope!r}"))
    known = set(known)
    problems += [
        Problem("elements", f"unknown role element {k!r}") for k in element_keys if k not in known
    ]
    if scope == Scope.FULL and not element_keys:
        problems.append(Problem("elements", "choose at least one role element"))
    if scope == Scope.LITMUS and not has_litmus:
        problems.append(Problem("scope", "this framework version has no litmus test"))
    return problems


@transaction.atomic
def open_audit(
    *,
    organisation: Organisation,
    user: User | None,
    version: FrameworkVersion,
    title: str,
    scope: str = Scope.FULL,
    element_keys: Sequence[str] = (),
    min_group_size: int = 5,
    previous: Audit | None = None,
) -> Audit:
    """Open an audit and freeze its questions from a published framework version.

    The litmus test comes first; with the full scope, every company
    responsibility of the chosen role elements follows, in the paper's order.
    """
    rows = get_version_rows(version)
    known = {er.element.key: er for er in rows.elements}
    problems = _check_settings(version, organisation, min_group_size)
    problems += _check_scope(title, scope, element_keys, known.keys(), bool(version.litmus))
    if problems:
        raise ValidationError(problems)
    audit = Audit.objects.create(
        organisation=organisation,
        version=version,
        title=title.strip(),
        scope=scope,
        min_group_size=min_group_size,
        previous=previous,
        created_by=user,
    )
    chosen = set(element_keys) if scope == Scope.FULL else set()
    items: list[AuditItem] = []
    litmus = version.litmus or {}
    for item in litmus.get("items", []):
        items.append(
            AuditItem(
                audit=audit, kind=ItemKind.LITMUS, key=f"litmus:{item['key']}", text=item["text"]
            )
        )
    for role, elements in rows.roles:
        for er in elements:
            if er.element.key not in chosen:
                continue
            taken: set[str] = set()
            for bullet in er.company:
                text = bullet.row.text
                if bullet.children:
                    text += " (" + "; ".join(c.text for c in bullet.children) + ")"
                slug = slugify(bullet.row.text.replace("/", " "))[:80] or "item"
                key, n = f"{er.element.key}:{slug}", 2
                while key in taken:
                    key, n = f"{er.element.key}:{slug}-{n}", n + 1
                taken.add(key)
                items.append(
                    AuditItem(
                        audit=audit,
                        kind=ItemKind.RESPONSIBILITY,
                        key=key,
                        text=text,
                        role_title=role.title,
                        element_key=er.element.key,
                        element_title=f"{er.element.label} — {er.element.title}",
                    )
                )
    for position, item in enumerate(items):
        item.position = position
    AuditItem.objects.bulk_create(items)
    if chosen:
        audit.elements.set([known[k].element for k in element_keys])
    return audit


@transaction.atomic
def repeat_audit(*, audit: Audit, user: User | None, title: str | None = None) -> Audit:
    """Open the same audit again, to see the change per item later."""
    keys = list(audit.elements.order_by("position").values_list("key", flat=True))
    return open_audit(
        organisation=audit.organisation,
        user=user,
        version=audit.version,
        title=title or derived_title(audit.title, " (repeat)", TITLE_LENGTH),
        scope=audit.scope,
        element_keys=keys,
        min_group_size=audit.min_group_size,
        previous=audit,
    )


def _department(value: str) -> str:
    if value not in Department.values:
        raise ValidationError([Problem("department", f"unknown department {value!r}")])
    return value


def _require_open(audit: Audit) -> None:
    if audit.status != AuditStatus.OPEN:
        raise NotPermitted("This audit is closed.")


@transaction.atomic
def invite_member(*, audit: Audit, user: User, department: str) -> Respondent:
    """Ask a member of the audit's organisation to answer (once)."""
    _require_open(audit)
    if not Membership.objects.filter(user=user, organisation_id=audit.organisation_id).exists():
        raise ValidationError([Problem("user", "not a member of this organisation")])
    if Respondent.objects.filter(audit=audit, user=user).exists():
        raise ValidationError([Problem("user", f"{user} is already invited")])
    return Respondent.objects.create(audit=audit, user=user, department=_department(department))


@transaction.atomic
def invite_by_link(*, audit: Audit, name: str, department: str) -> tuple[Respondent, str]:
    """Create a private answer link for someone without an account.

    Returns the respondent and the link's secret, which is shown once and
    stored only as a hash.
    """
    _require_open(audit)
    if not name.strip():
        raise ValidationError([Problem("name", "empty text")])
    token = secrets.token_urlsafe(32)
    respondent = Respondent.objects.create(
        audit=audit,
        name=name.strip(),
        department=_department(department),
        token_hash=hash_token(token),
    )
    return respondent, token


@dataclass(frozen=True)
class AnswerInput:
    """A rating (one of :class:`Rating`) and an optional comment for one item."""

    rating: str
    comment: str = ""


def save_answers(
    *, respondent: Respondent, answers: Mapping[int, AnswerInput], submit: bool = False
) -> Respondent:
    """Save a respondent's answers; with ``submit`` they become final.

    The answers are saved first, so a submission refused for a missing answer
    keeps everything already given.
    """
    respondent = _store_answers(respondent, answers)
    return submit_answers(respondent=respondent) if submit else respondent


@transaction.atomic
def submit_answers(*, respondent: Respondent) -> Respondent:
    """Make a respondent's answers final; every item needs one ("don't know" counts)."""
    respondent = Respondent.objects.select_for_update().get(pk=respondent.pk)
    if respondent.is_submitted:
        raise NotPermitted("These answers were submitted and are final.")
    _require_open(respondent.audit)
    total = AuditItem.objects.filter(audit_id=respondent.audit_id).count()
    missing = total - Answer.objects.filter(respondent=respondent).count()
    if missing:
        raise ValidationError(
            [Problem("answers", f"{missing} question(s) still need an answer (or Don't know)")]
        )
    respondent.status = RespondentStatus.SUBMITTED
    respondent.submitted_at = timezone.now()
    respondent.save(update_fields=["status", "submitted_at"])
    return respondent


@transaction.atomic
def remove_respondent(*, respondent: Respondent) -> None:
    """Withdraw an invitation (e.g. a lost link) that has not been answered yet."""
    if respondent.is_submitted:
        raise NotPermitted("A submitted response cannot be removed.")
    _require_open(respondent.audit)
    respondent.delete()


@transaction.atomic
def _store_answers(respondent: Respondent, answers: Mapping[int, AnswerInput]) -> Respondent:
    respondent = Respondent.objects.select_for_update().get(pk=respondent.pk)
    if respondent.is_submitted:
        raise NotPermitted("These answers were submitted and are final.")
    _require_open(respondent.audit)
    items = {i.pk: i for i in AuditItem.objects.filter(audit_id=respondent.audit_id)}
    problems = []
    for item_id, answer in answers.items():
        if item_id not in items:
            problems.append(Problem(f"item {item_id}", "not a question of this audit"))
        elif answer.rating not in Rating.values:
            problems.append(Problem(f"item {item_id}", f"unknown rating {answer.rating!r}"))
        elif len(answer.comment) > 2000:
            problems.append(Problem(f"item {item_id}", "comment longer than 2000 characters"))
    if problems:
        raise ValidationError(problems)
    existing = {a.item_id: a for a in Answer.objects.filter(respondent=respondent)}
    new, changed = [], []
    for item_id, answer in answers.items():
        if (row := existing.get(item_id)) is None:
            new.append(
                Answer(
                    respondent=respondent,
                    item_id=item_id,
                    rating=answer.rating,
                    comment=answer.comment.strip(),
                )
            )
        else:
            row.rating, row.comment = answer.rating, answer.comment.strip()
            changed.append(row)
    Answer.objects.bulk_create(new)
    Answer.objects.bulk_update(changed, ["rating", "comment"])
    if respondent.status == RespondentStatus.INVITED and answers:
        respondent.status = RespondentStatus.STARTED
        respondent.save(update_fields=["status"])
    return respondent


@transaction.atomic
def close_audit(*, audit: Audit) -> Audit:
    """Stop taking answers; results stay."""
    _require_open(audit)
    audit.status = AuditStatus.CLOSED
    audit.closed_at = timezone.now()
    audit.save(update_fields=["status", "closed_at"])
    return audit


@dataclass(frozen=True)
class PaperResponse:
    """One respondent's answers collected on paper, as read from a spreadsheet row."""

    label: str
    department: str
    answers: Mapping[str, AnswerInput]  # by item key


@transaction.atomic
def import_paper_answers(*, audit: Audit, responses: Sequence[PaperResponse]) -> int:
    """Store answers collected on paper as submitted responses, all or nothing."""
    audit = Audit.objects.select_for_update().get(pk=audit.pk)  # no close in between
    _require_open(audit)
    items = {i.key: i.pk for i in AuditItem.objects.filter(audit=audit)}
    problems: list[Problem] = []
    for n, response in enumerate(responses, start=1):
        if not response.label.strip() or len(response.label) > 200:
            problems.append(Problem(f"row {n}, respondent", "needs a label of 1 to 200 characters"))
        if response.department not in Department.values:
            problems.append(Problem(f"row {n}, department", f"unknown {response.department!r}"))
        missing = set(items) - set(response.answers)
        if missing:
            problems.append(Problem(f"row {n}", f"{len(missing)} question(s) without an answer"))
        for key, answer in response.answers.items():
            if key not in items:
                problems.append(Problem(f"row {n}, {key}", "not a question of this audit"))
            elif answer.rating not in Rating.values:
                problems.append(Problem(f"row {n}, {key}", f"unknown rating {answer.rating!r}"))
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    respondents = Respondent.objects.bulk_create(
        Respondent(
            audit=audit,
            name=r.label,
            department=r.department,
            status=RespondentStatus.SUBMITTED,
            on_paper=True,
            submitted_at=now,
        )
        for r in responses
    )
    Answer.objects.bulk_create(
        Answer(respondent=row, item_id=items[key], rating=a.rating, comment=a.comment)
        for row, r in zip(respondents, responses, strict=True)
        for key, a in r.answers.items()
    )
    return len(respondents)
