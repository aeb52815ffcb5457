"""What every ``kamfit`` command group shares: consoles, Django set-up, failing."""

from __future__ import annotations

import os

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["err", "fail", "out", "setup_django"]

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
