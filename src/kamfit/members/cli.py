"""``kamfit token …``: personal API tokens from the shell (the operator's commands).

``create`` prints the secret once; only its SHA-256 is kept, so a lost secret is
replaced, never recovered. A token acts for its user in one organisation, of which the
user must be a member.

Exit codes: 0 done, 1 refused (invalid input; nothing stored), 2 a bad argument
(unknown user, organisation or token, or a user who is not a member).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kamfit.terminal import err, fail, out, setup_django

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from kamfit.orgs.models import Membership

token_app = typer.Typer(
    help="Personal API tokens: create (the secret is shown once), list, revoke.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

UserOption = Annotated[str, typer.Option("--user", help="Username the token acts for.")]


def _user(username: str) -> User:
    setup_django()
    from django.contrib.auth.models import User  # noqa: PLC0415

    user = User.objects.filter(username=username).first()
    if user is None:
        raise fail(f"--user {username!r}: no such user", 2)
    return user


def _membership(username: str, org: str) -> Membership:
    user = _user(username)
    from django.http import Http404  # noqa: PLC0415

    from kamfit.orgs.access import access_membership  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    if not Organisation.objects.filter(slug=org).exists():
        raise fail(f"--org {org!r}: no such organisation", 2)
    try:
        return access_membership(user, org)
    except Http404:
        raise fail(f"--user {username!r}: not an active member of {org!r}", 2) from None


@token_app.command("create")
def token_create(
    user: UserOption,
    org: Annotated[str, typer.Option("--org", help="Slug of the organisation it opens.")],
    name: Annotated[str, typer.Option("--name", help="What uses it, e.g. 'HRIS sync'.")],
    days: Annotated[int, typer.Option("--days", help="Days until it expires (1 to 365).")] = 90,
) -> None:
    """Create a token and print its secret once: store it now, it cannot be shown again."""
    membership = _membership(user, org)
    from kamfit.domain.errors import ValidationError  # noqa: PLC0415
    from kamfit.members.tokens import issue_token  # noqa: PLC0415

    try:
        token, secret = issue_token(membership.user, membership.organisation, name, days)
    except ValidationError as exc:
        err.print(f"{len(exc.problems)} problem(s); nothing was stored", markup=False)
        for problem in exc.problems:
            err.print(f"  --{problem}", markup=False)
        raise typer.Exit(1) from exc
    err.print(
        f"token {token.pk} ({escape(token.name)}) for {escape(user)} in {escape(org)}, "
        f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC; the secret, shown once:"
    )
    out.print(secret, markup=False)


@token_app.command("list")
def token_list(user: UserOption) -> None:
    """List a user's tokens: id, name, organisation, prefix, dates and state (no secret)."""
    owner = _user(user)
    from kamfit.members.tokens import list_tokens  # noqa: PLC0415

    table = Table(
        "id", "name", "organisation", "prefix", "created", "last used", "expires", "state"
    )
    for token in list_tokens(owner):
        state = "revoked" if token.revoked_at else ("live" if token.is_live else "expired")
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        table.add_row(
            str(token.pk),
            escape(token.name),
            escape(token.organisation.slug),
            f"kf_{token.prefix}…",
            f"{token.created_at:%Y-%m-%d %H:%M}",
            used,
            f"{token.expires_at:%Y-%m-%d %H:%M}",
            state,
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    pk: Annotated[int, typer.Argument(metavar="ID", help="The token's id (kamfit token list).")],
) -> None:
    """Revoke a token at once; API calls with it are refused from the next request."""
    setup_django()
    from kamfit.members.models import ApiToken  # noqa: PLC0415
    from kamfit.members.tokens import revoke_token  # noqa: PLC0415

    token = ApiToken.objects.select_related("organisation").filter(pk=pk).first()
    if token is None:
        raise fail(f"ID {pk}: no such token", 2)
    was = token.revoked_at
    revoke_token(token)
    out.print(f"token {pk} {'was revoked already' if was else 'revoked'}")
