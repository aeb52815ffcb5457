"""Changes to development plans: made from a cycle's gaps, then kept up by people.

Those who manage people make plans and change their actions; the person and their
line manager update an action's status and progress note. Bad input raises
:class:`~kamfit.domain.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from kamfit.assessments.models import Assessee
from kamfit.assessments.queries import CycleData, load_cycle
from kamfit.development.models import Action, ActionStatus, Plan, PlanStatus
from kamfit.domain import development
from kamfit.domain.errors import NotPermitted, Problem, ValidationError
from kamfit.frameworks.models import Competency

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "ActionInput",
    "add_action",
    "close_plan",
    "create_plan",
    "remove_action",
    "suggestions_for",
    "update_action",
    "update_progress",
]

MAX_TITLE = 300


def _invalid(location: str, message: str) -> ValidationError:
    return ValidationError([Problem(location, message)])


def suggestions_for(data: CycleData, row: int) -> tuple[development.Suggestion, ...]:
    """Catalogue actions for the gaps of the person in ``row`` of a scored cycle."""
    gaps = {
        c.key: float(data.scores.gaps[row, j])
        for j, c in enumerate(data.columns)
        if data.scores.gaps[row, j] == data.scores.gaps[row, j]  # not NaN
    }
    return development.suggest_plan(
        gaps,
        {c.key: c.weight for c in data.columns},
        {c.key: c.name for c in data.columns},
        {c.key: c.kind for c in data.columns},
        development.shipped_catalogue(),
    )


def create_plan(
    assessee: Assessee,
    actor: User | None,
    *,
    title: str = "",
    owner: User | None = None,
    due_on: dt.date | None = None,
) -> Plan:
    """Make a plan from a person's gaps in a cycle: one suited action per main gap.

    Each action keeps the person's combined score and the required level at the
    time, so the next cycle shows the change.
    """
    data = load_cycle(assessee.cycle, people=[assessee.person_id])
    row = data.index[assessee.person_id]
    suggestions = suggestions_for(data, row)
    col_of = {c.key: j for j, c in enumerate(data.columns)}
    person = assessee.person
    title = title.strip() or f"Development plan: {assessee.cycle.title}"
    if len(title) > MAX_TITLE:
        raise _invalid("title", f"longer than {MAX_TITLE} characters")
    with transaction.atomic():
        plan = Plan.objects.create(
            organisation_id=person.organisation_id,
            person=person,
            cycle=assessee.cycle,
            title=title,
            created_by=actor,
        )
        Action.objects.bulk_create(
            Action(
                plan=plan,
                position=i,
                competency_key=s.competency,
                competency_name=s.name,
                kind=s.kind,
                action_type=s.action.type,
                catalogue_key=s.action.key,
                title=s.action.title,
                description=s.action.description,
                owner=owner or person.user,
                due_on=due_on,
                baseline=float(data.scores.combined[row, col_of[s.competency]]),
                required_level=float(data.columns[col_of[s.competency]].required),
                updated_by=actor,
            )
            for i, s in enumerate(suggestions)
        )
    return plan


@dataclass(frozen=True)
class ActionInput:
    """An action as a form or the API gives it."""

    competency: str  # framework competency key
    title: str
    action_type: str
    description: str = ""
    owner: str = ""  # username of a member
    due_on: dt.date | None = None
    status: str = ActionStatus.PLANNED


def _check_action(plan: Plan, data: ActionInput) -> tuple[Competency | None, User | None]:
    problems: list[Problem] = []
    competency = (
        Competency.objects.filter(
            version__profile_versions__profile__organisation_id=plan.organisation_id,
            key=data.competency,
        )
        .order_by("-version_id")
        .first()
    )
    if competency is None:
        problems.append(Problem("competency", f"{data.competency!r} is not a requirement in use"))
    catalogue = development.shipped_catalogue()
    action_type = catalogue.types.get(data.action_type)
    if action_type is None:
        known = ", ".join(sorted(catalogue.types))
        problems.append(Problem("action_type", f"unknown type {data.action_type!r}: use {known}"))
    elif competency is not None and not _suits(action_type, competency.kind):
        problems.append(
            Problem(
                "action_type",
                f"a {action_type.label.lower()} does not suit {competency.name} "
                f"(kind {competency.kind}): attributes are developed by coaching, mentoring "
                "and stretch assignments, competencies by training and practice",
            )
        )
    if not data.title.strip():
        problems.append(Problem("title", "a title is required"))
    elif len(data.title) > MAX_TITLE:
        problems.append(Problem("title", f"longer than {MAX_TITLE} characters"))
    if len(data.description) > 2000:
        problems.append(Problem("description", "longer than 2000 characters"))
    if data.status not in ActionStatus.values:
        problems.append(Problem("status", f"unknown status {data.status!r}"))
    owner = None
    if data.owner:
        owner = (
            get_user_model()
            .objects.filter(memberships__organisation_id=plan.organisation_id)
            .filter(username=data.owner)
            .first()
        )
        if owner is None:
            problems.append(Problem("owner", f"{data.owner!r} is not a member"))
    if problems:
        raise ValidationError(problems)
    return competency, owner


def _suits(action_type: development.ActionType, kind: str) -> bool:
    """A C/A requirement takes actions of either family; C and A only their own."""
    families = {"C", "A", "C/A"} if kind == "C/A" else {kind}
    return bool(action_type.suits & families)


def add_action(plan: Plan, actor: User | None, data: ActionInput) -> Action:
    """Add an action to an active plan."""
    if plan.status != PlanStatus.ACTIVE:
        raise NotPermitted("A closed plan no longer changes.")
    competency, owner = _check_action(plan, data)
    assert competency is not None  # noqa: S101 - checked above
    position = (plan.actions.aggregate(n=Max("position"))["n"] or 0) + 1
    return Action.objects.create(
        plan=plan,
        position=position,
        competency_key=competency.key,
        competency_name=competency.name,
        kind=competency.kind,
        action_type=data.action_type,
        title=data.title.strip(),
        description=data.description.strip(),
        owner=owner,
        due_on=data.due_on,
        status=data.status,
        updated_by=actor,
    )


def update_action(action: Action, actor: User | None, data: ActionInput) -> Action:
    """Change every field of an action (those who manage people)."""
    if action.plan.status != PlanStatus.ACTIVE:
        raise NotPermitted("A closed plan no longer changes.")
    competency, owner = _check_action(action.plan, data)
    assert competency is not None  # noqa: S101 - checked above
    action.competency_key = competency.key
    action.competency_name = competency.name
    action.kind = competency.kind
    action.action_type = data.action_type
    action.title = data.title.strip()
    action.description = data.description.strip()
    action.owner = owner
    action.due_on = data.due_on
    action.status = data.status
    action.updated_by = actor
    action.save()
    return action


def update_progress(
    action: Action, actor: User | None, *, status: str, progress_note: str | None = None
) -> Action:
    """Record an action's status and progress (the person, their manager, HR)."""
    if action.plan.status != PlanStatus.ACTIVE:
        raise NotPermitted("A closed plan no longer changes.")
    if status not in ActionStatus.values:
        choices = ", ".join(ActionStatus.values)
        raise _invalid("status", f"unknown status {status!r}: use {choices}")
    if progress_note is not None and len(progress_note) > 2000:
        raise _invalid("progress_note", "longer than 2000 characters")
    action.status = status
    if progress_note is not None:
        action.progress_note = progress_note.strip()
    action.updated_by = actor
    action.save(update_fields=["status", "progress_note", "updated_by", "updated_at"])
    return action


def remove_action(action: Action) -> None:
    """Remove an action from an active plan."""
    if action.plan.status != PlanStatus.ACTIVE:
        raise NotPermitted("A closed plan no longer changes.")
    action.delete()


def close_plan(plan: Plan) -> Plan:
    """Close a plan: it stays readable with its history."""
    if plan.status != PlanStatus.ACTIVE:
        raise NotPermitted("The plan is already closed.")
    plan.status = PlanStatus.CLOSED
    plan.save(update_fields=["status"])
    return plan
