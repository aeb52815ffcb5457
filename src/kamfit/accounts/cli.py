"""``kamfit user …``: account administration from the shell.

Exit codes: 0 done, 2 no such user. Django is imported inside each command, so that
``kamfit`` starts without a database.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kamfit.terminal import fail, out, setup_django

user_app = typer.Typer(
    help="User accounts: clear a login lockout, deactivate an account.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Username = Annotated[str, typer.Argument(metavar="USERNAME", help="The account's username.")]


def _user(username: str) -> object:
    setup_django()
    from django.contrib.auth import get_user_model  # noqa: PLC0415

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise fail(f"USERNAME {username!r}: no such user", 2)
    return user


@user_app.command("unlock")
def unlock(username: Username) -> None:
    """Clear the login lockout of USERNAME now, rather than after 30 minutes."""
    _user(username)
    from kamfit.accounts.lockout import unlock as clear  # noqa: PLC0415

    cleared = clear(username)
    out.print(f"Unlocked {escape(username)} ({cleared} failure record(s) cleared).")


@user_app.command("deactivate")
def deactivate(username: Username) -> None:
    """Deactivate USERNAME: they cannot sign in, and every session of theirs ends now."""
    from kamfit.accounts.services import deactivate_user  # noqa: PLC0415

    user = _user(username)
    ended = deactivate_user(user)  # type: ignore[arg-type]
    out.print(f"Deactivated {escape(username)}; {ended} session(s) ended.")
