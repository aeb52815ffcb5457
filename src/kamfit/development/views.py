"""Pages for development plans: the list, one plan with its progress, and its changes."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kamfit.assessments.views import page
from kamfit.development import services
from kamfit.development.models import Action, ActionStatus, Plan
from kamfit.development.queries import plan_progress
from kamfit.domain import development
from kamfit.domain.errors import NotPermitted, Problem, StaleVersion, ValidationError
from kamfit.orgs.access import access_assessee, access_plan, list_visible_plans
from kamfit.orgs.decorators import org_view
from kamfit.orgs.models import Membership
from kamfit.orgs.permissions import MANAGE_PEOPLE, may
from kamfit.versions import check_version, record_tag
from kamfit.web.pages import org_url, require, show_problems


@require_GET
@org_view
def plan_list(request: HttpRequest, m: Membership) -> HttpResponse:
    plans = list(
        list_visible_plans(m)
        .select_related("person", "cycle")
        .prefetch_related("actions")
        .order_by("person__name", "-created_at")
    )
    rows = []
    for plan in plans:
        actions = list(plan.actions.all())
        done = sum(1 for a in actions if a.status == ActionStatus.DONE)
        today = timezone.localdate()
        late = sum(
            1
            for a in actions
            if a.due_on and a.due_on < today and a.status in {"planned", "in_progress"}
        )
        rows.append({"plan": plan, "actions": len(actions), "done": done, "late": late})
    return page(request, m, "development/list.html", {"rows": rows})


@require_POST
@org_view
def plan_new(request: HttpRequest, m: Membership) -> HttpResponse:
    # The lookup first: another organisation's ids answer 404 whatever the role.
    assessee = access_assessee(m, request.POST.get("cycle", ""), request.POST.get("person", ""))
    require(m, MANAGE_PEOPLE, "make development plans")
    try:
        plan = services.create_plan(assessee, request.user)  # type: ignore[arg-type]
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
        return redirect(org_url("assessments:result", m, assessee.cycle_id, assessee.person_id))
    messages.success(request, f"Plan made with {plan.actions.count()} actions from the gaps.")
    return redirect(org_url("development:plan", m, plan.pk))


@require_GET
@org_view
def plan_detail(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    plan = access_plan(m, pk)
    progress = plan_progress(plan, released_only=not may(m.role, MANAGE_PEOPLE))
    catalogue = development.shipped_catalogue()
    return page(
        request,
        m,
        "development/plan.html",
        {
            "plan": plan,
            "progress": progress,
            "statuses": ActionStatus.choices,
            "types": sorted(catalogue.types.values(), key=lambda t: t.label),
            "rows": [
                (
                    p,
                    catalogue.types[p.action.action_type].label
                    if p.action.action_type in catalogue.types
                    else p.action.action_type,
                    record_tag(p.action),  # the progress form's version (A25)
                )
                for p in progress.actions
            ],
            "members": list(
                m.organisation.memberships.select_related("user").order_by("user__username")
            ),
            "manage": may(m.role, MANAGE_PEOPLE),
            "requirements": _requirements(plan),
        },
    )


def _requirements(plan: object) -> list[tuple[str, str, str]]:
    cycle = getattr(plan, "cycle", None)
    if cycle is None:
        return []
    from kamfit.profiles.models import Requirement  # noqa: PLC0415 - page-local lookup

    return list(
        Requirement.objects.filter(version_id=cycle.profile_version_id, included=True)
        .order_by("position")
        .values_list("competency__key", "competency__name", "competency__kind")
    )


def _action_input(post: object) -> services.ActionInput:
    due = post.get("due_on", "")  # type: ignore[attr-defined]
    try:
        due_on = dt.date.fromisoformat(due) if due else None
    except ValueError:
        raise ValidationError([Problem("due_on", "use a date like 2026-12-31")]) from None
    return services.ActionInput(
        competency=post.get("competency", ""),  # type: ignore[attr-defined]
        title=post.get("title", ""),  # type: ignore[attr-defined]
        action_type=post.get("action_type", ""),  # type: ignore[attr-defined]
        description=post.get("description", ""),  # type: ignore[attr-defined]
        owner=post.get("owner", ""),  # type: ignore[attr-defined]
        due_on=due_on,
        status=post.get("status", ActionStatus.PLANNED),  # type: ignore[attr-defined]
    )


def _action(plan_pk: int, raw: str, *, version: str | None = None) -> Action:
    """The plan's action ``raw``; with the form's ``version``: row-locked and checked (A25)."""
    actions = Action.objects.filter(plan_id=plan_pk, pk=int(raw) if raw.isdecimal() else 0)
    if version is not None:
        actions = actions.select_for_update(of=("self",))
    action = actions.first()
    if action is None:
        raise ValidationError([Problem("action", "no such action in this plan")])
    if version is not None:
        check_version(version, record_tag(action))
    return action


@require_POST
@org_view
def plan_action(request: HttpRequest, m: Membership, pk: int) -> HttpResponse:
    """One change to a plan: progress (person, manager, HR) or its content (HR)."""
    what = request.POST.get("action", "")
    plan = access_plan(m, pk, action="update" if what == "progress" else "manage")
    try:
        with transaction.atomic():  # a version check and the change it guards (A25)
            _change_plan(request, plan, what)
    except StaleVersion as exc:
        messages.error(request, str(exc))
    except (ValidationError, NotPermitted) as exc:
        show_problems(request, exc)
    return redirect(org_url("development:plan", m, plan.pk))


def _change_plan(request: HttpRequest, plan: Plan, what: str) -> None:
    """Apply the change named by ``what``; an edited action's form carries its version."""
    user = request.user
    post = request.POST
    version = post.get("version", "")
    if what == "progress":
        services.update_progress(
            _action(plan.pk, post.get("item", ""), version=version),
            user,  # type: ignore[arg-type]
            status=post.get("status", ""),
            progress_note=post.get("progress_note"),
        )
        messages.success(request, "Progress saved.")
    elif what == "add":
        services.add_action(plan, user, _action_input(post))  # type: ignore[arg-type]
        messages.success(request, "Action added.")
    elif what == "edit":
        item = _action(plan.pk, post.get("item", ""), version=version)
        services.update_action(item, user, _action_input(post))  # type: ignore[arg-type]
        messages.success(request, "Action saved.")
    elif what == "remove":
        services.remove_action(_action(plan.pk, post.get("item", "")))
        messages.success(request, "Action removed.")
    elif what == "close":
        services.close_plan(plan)
        messages.success(request, "Plan closed.")
    else:
        messages.error(request, f"Unknown action {what!r}.")
