"""Read development plans with their progress since the cycle they came from."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kamfit.assessments.models import Assessee, FormStatus
from kamfit.assessments.queries import load_cycle
from kamfit.development.models import Action, Plan

__all__ = ["ActionProgress", "PlanProgress", "plan_progress"]


@dataclass(frozen=True)
class ActionProgress:
    """An action with the score it started from and the latest one."""

    action: Action
    baseline: float | None
    latest: float | None
    required: float | None

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.latest is None:
            return None
        return self.latest - self.baseline

    @property
    def closed(self) -> bool:
        """The latest score reaches the required level."""
        return (
            self.latest is not None and self.required is not None and (self.latest >= self.required)
        )


@dataclass(frozen=True)
class PlanProgress:
    """A plan's actions and the later cycle, if any, that measures their effect."""

    plan: Plan
    actions: tuple[ActionProgress, ...]
    later: Assessee | None  # the person's latest assessment after the plan's cycle


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def plan_progress(plan: Plan, *, released_only: bool = True) -> PlanProgress:
    """The plan's actions beside the person's latest scores after the plan was made.

    The later cycle is the most recent one (created after the plan's own cycle) in
    which the person has at least one submitted form. ``released_only`` (for the person
    and their manager): only a later result released to the person, read as released.
    A fixed number of queries.
    """
    actions = list(plan.actions.select_related("owner", "updated_by"))
    later_qs = Assessee.objects.filter(person_id=plan.person_id)
    if released_only:
        later_qs = later_qs.filter(released_at__isnull=False)
    later = (
        later_qs.filter(
            cycle__created_at__gt=plan.cycle.created_at if plan.cycle else plan.created_at
        )
        .filter(raters__forms__status=FormStatus.SUBMITTED)
        .select_related("cycle__profile_version__framework_version", "cycle__organisation")
        .order_by("-cycle__created_at", "-cycle_id")
        .first()
    )
    latest: dict[str, float] = {}
    if later is not None:
        as_of = later.released_at if released_only else None
        data = load_cycle(later.cycle, people=[plan.person_id], as_of=as_of)
        row = data.index.get(plan.person_id)
        if row is not None:
            for j, column in enumerate(data.columns):
                value = float(data.scores.combined[row, j])
                if not math.isnan(value):
                    latest[column.key] = value
    return PlanProgress(
        plan=plan,
        actions=tuple(
            ActionProgress(
                action=a,
                baseline=_number(a.baseline),
                latest=latest.get(a.competency_key),
                required=a.required_level,
            )
            for a in actions
        ),
        later=later,
    )
