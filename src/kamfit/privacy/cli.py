"""``kamfit person …``: a person's subject-access export and the retention run, by hand.

These are operator commands (whoever runs them has the server's shell and database):
they act for the organisation named with ``--org``, and the audit trail records them
as done through the command line. Erasure needs two members and is done on the
Privacy page, never from here.

Exit codes: 0 done, 2 a bad argument (unknown organisation or person, unwritable file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kamfit.terminal import err, fail, out, setup_django

person_app = typer.Typer(
    help="A person's data: subject-access export and retention.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

OrgOption = Annotated[str, typer.Option("--org", help="Slug of the organisation.")]


@person_app.command("export")
def export_command(
    reference: Annotated[
        str, typer.Argument(metavar="REF", help="The person's reference, e.g. kam-017.")
    ],
    org: OrgOption,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the JSON here instead of standard output."),
    ] = None,
) -> None:
    """Print (or write) everything kamfit holds about one person, as JSON."""
    setup_django()
    from kamfit.auditlog.context import acting_via  # noqa: PLC0415
    from kamfit.orgs.access import list_people  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415
    from kamfit.privacy import services  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    person = (
        list_people(organisation).filter(reference=reference).select_related("organisation").first()
    )
    if person is None:
        raise fail(f"REF {reference!r}: no such person in {org!r}", 2)
    with acting_via("cli"):
        document = services.export_person(person=person, actor=None, named=True)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out_file is None:
        out.file.write(text)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
        out_file.chmod(0o600)
    except OSError as exc:
        raise fail(f"--out {out_file}: {exc.strerror}", 2) from exc
    err.print(f"Wrote person {person.pk} to {out_file}", markup=False)


@person_app.command("retention")
def retention_command(
    org: OrgOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count who is due; erase nobody.")
    ] = False,
) -> None:
    """Erase the inactive people whose retention period has passed (as the daily run does)."""
    setup_django()
    from django.utils import timezone  # noqa: PLC0415

    from kamfit.auditlog.context import acting_via  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415
    from kamfit.privacy import services  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    if dry_run:
        for item in services.list_retention_due(organisation, timezone.now()):
            out.print(f"due\t{item.rule}\tperson {item.person.pk}", markup=False)
    with acting_via("cli"):
        counts = services.run_retention(organisation, dry_run=dry_run)
    verb = "due" if dry_run else "erased"
    out.print(
        f"{counts['candidate']} candidate(s) and {counts['leaver']} leaver(s) {verb}",
        markup=False,
    )
