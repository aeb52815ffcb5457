"""Read the audit trail: filters, and the actor's current username joined at read time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from kamfit.domain.errors import Problem, ValidationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from django.db.models import QuerySet

    from kamfit.auditlog.models import AuditEvent

__all__ = ["EventFilter", "actor_label", "filter_events", "parse_filter", "with_actor_names"]

ACTION_FILTER = re.compile(r"[a-z][a-z_.]{0,63}")
ACTOR_FILTER = re.compile(r"[\w.@+-]{1,150}")  # what Django allows in a username
MAX_ID_DIGITS = 18  # a larger number is no user id (and overflows a database integer)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What to show: an action (``auth.login``) or family (``auth``), an actor, dates."""

    action: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None


def _date(params: Mapping[str, str], name: str, problems: list[Problem]) -> date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(Problem(name, f"{raw!r} is not a date (YYYY-MM-DD)"))
        return None


def parse_filter(params: Mapping[str, str]) -> EventFilter:
    """Read the filter from query parameters, naming each bad field and why."""
    problems: list[Problem] = []
    action = (params.get("action") or "").strip()
    if action and not ACTION_FILTER.fullmatch(action):
        problems.append(Problem("action", "use an action code such as auth.login, or auth"))
    actor = (params.get("actor") or "").strip()
    if actor and not ACTOR_FILTER.fullmatch(actor):
        problems.append(Problem("actor", "use a username or a user id"))
    since, until = _date(params, "since", problems), _date(params, "until", problems)
    if since and until and until < since:
        problems.append(Problem("until", "is before since"))
    if problems:
        raise ValidationError(problems)
    return EventFilter(action, actor, since, until)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filter_events(events: QuerySet[AuditEvent], wanted: EventFilter) -> QuerySet[AuditEvent]:
    """Narrow ``events`` (already scoped to one organisation) to what ``wanted`` asks."""
    if wanted.action:
        family = wanted.action.rstrip(".")
        events = events.filter(action=family) | events.filter(action__startswith=family + ".")
    if wanted.actor:
        user_ids = get_user_model().objects.filter(username=wanted.actor).values("pk")
        events = (
            events.filter(actor_id=int(wanted.actor))
            if wanted.actor.isascii()
            and wanted.actor.isdecimal()
            and len(wanted.actor) <= MAX_ID_DIGITS
            else events.filter(actor_id__in=user_ids)
        )
    if wanted.since:
        events = events.filter(at__gte=_start_of(wanted.since))
    if wanted.until and wanted.until < date.max:  # the last day has no day after it
        events = events.filter(at__lt=_start_of(wanted.until + timedelta(days=1)))
    return events


def with_actor_names(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """Add ``actor_name``: the actor's username now (``None`` once the user is deleted).

    The log keeps only the id, so a renamed user shows their new name and an erased
    user shows as ``user #id``: the trail itself never holds a name.
    """
    names = get_user_model().objects.filter(pk=OuterRef("actor_id")).values("username")[:1]
    return events.annotate(actor_name=Subquery(names)).order_by("-seq")


def actor_label(event: AuditEvent) -> str:
    """Say who acted: the current username, ``user #id`` if gone, or the channel."""
    if event.actor_id is None:
        return event.get_via_display()
    name = getattr(event, "actor_name", None)
    return name if isinstance(name, str) else f"user #{event.actor_id}"
