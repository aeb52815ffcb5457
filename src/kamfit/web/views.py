"""Pages that belong to no capability: the landing redirect and the health check."""

from __future__ import annotations

import logging
from functools import cache

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from kamfit.orgs.access import list_memberships

logger = logging.getLogger(__name__)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the organisation they last used, or their first one."""
    memberships = list(list_memberships(request.user))
    if not memberships:
        return render(request, "web/no_organisation.html", status=200)
    last = request.session.get("kamfit_org")
    chosen = next((m for m in memberships if m.organisation.slug == last), memberships[0])
    return redirect(reverse("frameworks:list", args=[chosen.organisation.slug]))


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Say whether this server may take traffic: the database answers and is migrated.

    Answers 200 with each check "ok", or 503 naming the check that failed; never an
    error's text (it may name hosts or users). Two queries; no sign-in.
    """
    checks = {"database": "ok", "migrations": "ok"}
    try:
        applied = _applied_migrations()
    except DatabaseError as exc:
        logger.warning("healthz: the database did not answer (%s)", type(exc).__name__)
        checks = {"database": "failed", "migrations": "not checked"}
    else:
        missing = sum(
            1 for key, replaces in _code_migrations() if not _done(key, replaces, applied)
        )
        if missing:
            checks["migrations"] = f"{missing} not applied"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


@cache
def _code_migrations() -> tuple[tuple[tuple[str, str], tuple[tuple[str, str], ...]], ...]:
    """Every migration the code holds, with those it replaces (read once per process)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return tuple(
        (key, tuple(tuple(r) for r in graph.nodes[key].replaces or ())) for key in graph.nodes
    )


def _applied_migrations() -> set[tuple[str, str]]:
    return set(MigrationRecorder(connection).applied_migrations())  # fails if no database


def _done(
    key: tuple[str, str], replaces: tuple[tuple[str, str], ...], applied: set[tuple[str, str]]
) -> bool:
    """A migration is applied, or (a squashed one) every migration it replaces is."""
    return key in applied or (bool(replaces) and all(r in applied for r in replaces))
