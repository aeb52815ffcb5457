"""What every ``kamfit`` command group shares: consoles, Django set-up, failing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from kamfit.orgs.models import Membership

__all__ = ["acting", "err", "fail", "member", "out", "setup_django"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # never fold messages mid-word


def setup_django() -> None:
    """Set Django up on first use: file-only commands must work without a database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kamfit.web.settings")
    import django  # noqa: PLC0415 - deferred on purpose

    django.setup()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error (user text escaped) and return the exit to raise."""
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


def member(org: str, username: str) -> Membership:
    """The membership of ``--as`` in ``--org``, through the scoping module; exit 2 if none."""
    setup_django()
    from django.contrib.auth import get_user_model  # noqa: PLC0415
    from django.http import Http404  # noqa: PLC0415

    from kamfit.orgs.access import access_membership  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    if not Organisation.objects.filter(slug=org).exists():
        raise fail(f"--org {org!r}: no such organisation", 2)
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise fail(f"--as {username!r}: no such user", 2)
    try:
        return access_membership(user, org)
    except Http404:
        raise fail(f"--as {username!r}: not an active member of {org!r}", 2) from None


@contextmanager
def acting(username: str) -> Iterator[None]:
    """Turn the access layer's refusals into messages: 404 and 403 exit 2, others 1."""
    from django.core.exceptions import PermissionDenied  # noqa: PLC0415
    from django.http import Http404  # noqa: PLC0415

    from kamfit.domain.errors import NotPermitted, ValidationError  # noqa: PLC0415

    try:
        yield
    except Http404 as exc:
        raise fail(str(exc), 2) from exc
    except PermissionDenied as exc:
        raise fail(f"--as {username}: {exc}", 2) from exc
    except ValidationError as exc:
        err.print(f"{len(exc.problems)} problem(s); nothing was changed", markup=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False)
        raise typer.Exit(1) from exc
    except NotPermitted as exc:
        raise fail(str(exc), 1) from exc
