"""``kamfit audit verify`` and ``kamfit audit log``: the audit trail from the shell.

Registered on the ``kamfit audit`` group (kamfit.audits.cli). Exit codes: 0 done,
1 the chain is broken, 2 a bad argument. Django is imported inside each command.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from kamfit.terminal import fail, out, setup_django

__all__ = ["audit_log", "audit_verify"]


def audit_verify() -> None:
    """Verify the audit trail's hash chain (tamper evidence)."""
    setup_django()
    from kamfit.auditlog.services import verify_chain  # noqa: PLC0415

    started = time.monotonic()
    checked, broken = verify_chain()
    seconds = time.monotonic() - started
    if broken is not None:
        raise fail(
            f"audit trail broken at entry {broken.seq}: {broken.reason} "
            f"({checked} entries before it verified)",
            1,
        )
    out.print(f"audit trail intact: {checked} entries verified in {seconds:.1f} s", markup=False)


def audit_log(
    *,
    org: Annotated[str, typer.Option("--org", help="Slug of the organisation.")],
    action: Annotated[
        str, typer.Option("--action", help="An action (auth.login) or a family (auth).")
    ] = "",
    actor: Annotated[str, typer.Option("--actor", help="A username or a user id.")] = "",
    since: Annotated[str, typer.Option("--since", help="From this UTC date (YYYY-MM-DD).")] = "",
    until: Annotated[str, typer.Option("--until", help="Up to and including this UTC date.")] = "",
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="At most this many, newest first.")
    ] = 50,
) -> None:
    """Print an organisation's audit trail, newest first (tab-separated).

    Columns: seq, UTC time, actor, via, action, object, data, request id, IP.
    """
    setup_django()
    from kamfit.auditlog.queries import (  # noqa: PLC0415
        actor_label,
        filter_events,
        parse_filter,
        with_actor_names,
    )
    from kamfit.auditlog.services import canonical_json  # noqa: PLC0415
    from kamfit.domain.errors import ValidationError  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    try:
        wanted = parse_filter({"action": action, "actor": actor, "since": since, "until": until})
    except ValidationError as exc:
        raise fail("; ".join(f"--{p.location}: {p.message}" for p in exc.problems), 2) from None
    from kamfit.auditlog.models import AuditEvent  # noqa: PLC0415

    # The operator at the shell reads the whole trail, as ``kamfit backup`` does.
    events = AuditEvent.objects.filter(organisation_id=organisation.pk)
    for e in with_actor_names(filter_events(events, wanted))[:limit]:
        target = f"{e.object_type}#{e.object_id}" if e.object_type else "-"
        typer.echo(  # plain tabs: rich would expand them to spaces
            "\t".join(
                [
                    str(e.seq),
                    e.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    actor_label(e),
                    e.via,
                    e.action,
                    target,
                    canonical_json(e.data),
                    e.request_id or "-",
                    e.ip or "-",
                ]
            )
        )
