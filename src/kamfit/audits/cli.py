"""``kamfit audit …``: readiness audits from the shell.

Exit codes: 0 done, 1 invalid content (nothing stored), 2 a bad argument (unknown
organisation or audit, an option that does not fit). Django and the models are imported
inside each command, so that ``kamfit`` starts without a database.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kamfit.auditlog.cli import audit_log, audit_verify
from kamfit.terminal import err, fail, out, setup_django

if TYPE_CHECKING:
    from kamfit.audits.models import Audit
    from kamfit.audits.queries import AuditResults

audit_app = typer.Typer(
    help=(
        "Organisation readiness audits: list, results, export and import; "
        "and the audit trail: verify, log."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)

OrgOption = Annotated[str, typer.Option("--org", help="Slug of the organisation.")]
AuditId = Annotated[
    int, typer.Argument(metavar="ID", help="The audit's number (see kamfit audit list).")
]


class What(StrEnum):
    results = "results"
    answers = "answers"
    template = "template"


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _audit(org: str, pk: int) -> Audit:
    """Return the audit ``pk`` of organisation ``org``; exit 2 if either is unknown."""
    setup_django()
    from kamfit.orgs.access import list_audits  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    audit = (
        list_audits(organisation)
        .select_related("organisation", "version__framework", "previous")
        .filter(pk=pk)
        .first()
    )
    if audit is None:
        raise fail(f"audit {pk}: no such audit in {org!r}", 2)
    return audit


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _change(value: float | None) -> str:
    return "" if value is None else f"{value:+.0f}"


@audit_app.command("list")
def audit_list(org: OrgOption) -> None:
    """List an organisation's audits, newest first, with their response counts."""
    setup_django()
    from django.db.models import Count, Q  # noqa: PLC0415

    from kamfit.audits.models import RespondentStatus  # noqa: PLC0415
    from kamfit.orgs.access import list_audits  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    audits = list_audits(organisation).annotate(
        invited=Count("respondents"),
        submitted=Count("respondents", filter=Q(respondents__status=RespondentStatus.SUBMITTED)),
    )
    table = Table("id", "title", "status", "scope", "submitted", "opened")
    for audit in audits:
        table.add_row(
            str(audit.pk),
            escape(audit.title),
            audit.status,
            audit.scope,
            f"{audit.submitted} of {audit.invited}",
            audit.created_at.date().isoformat(),
        )
    out.print(table)


def _print_results(r: AuditResults) -> None:
    audit = r.audit
    out.print(f"[bold]{escape(audit.title)}[/bold] ({escape(audit.get_status_display())})")
    out.print(
        f"{r.submitted} of {r.invited} respondents submitted "
        f"(response rate {r.response_percent}%). Scores: 0 all Poor, 50 Fair, 100 all Good."
    )
    if not r.submitted:
        out.print("No submitted answers yet.")
        return
    if r.withheld:
        out.print(escape(r.breakdown.note))
        return
    changes = audit.previous_id is not None
    if r.litmus:
        table = Table(
            "Supplier organisations need to…",
            "readiness",
            "Poor",
            "Fair",
            "Good",
            "don't know",
            *(["change"] if changes else []),
            title="Litmus test for KAM-effective organisations",
        )
        for x in r.litmus:
            counts = [str(c) for c in x.stats.counts]
            extra = [_change(x.change)] if changes else []
            table.add_row(
                escape(x.item.text), _score(x.score), *counts, str(x.stats.dont_know), *extra
            )
        out.print(table)
    if r.roles:
        table = Table("role of KAM", "readiness", title="By role of KAM")
        for line in r.roles:
            table.add_row(escape(line.title), _score(line.score))
        out.print(table)
        table = Table("role element", "readiness", title="By role element")
        for line in r.elements:
            table.add_row(escape(line.title), _score(line.score))
        out.print(table)
    out.print("[bold]Weakest areas[/bold]")
    for n, x in enumerate(r.weakest, start=1):
        where = f" ({x.item.element_title})" if x.item.element_title else ""
        out.print(f"  {n}. {escape(x.item.text + where)} — {_score(x.score)}")
    out.print("[bold]By department[/bold]")
    note = r.breakdown.note or "Not shown: no department is large enough to be shown."
    out.print(escape(note))
    if r.breakdown_rows:
        groups = [f"{label} (n={size})" for label, size in r.groups]
        table = Table("question", *(escape(g) for g in groups))
        for x, cells in r.breakdown_rows:
            table.add_row(escape(x.item.text), *(_score(v) for v in cells))
        out.print(table)


@audit_app.command("results")
def audit_results(audit_id: AuditId, org: OrgOption) -> None:
    """Print an audit's results: response rate, litmus test, roles, elements, weakest areas.

    By department, only groups of at least the audit's minimum size are shown, as on the
    results page; individual answers are never shown.
    """
    audit = _audit(org, audit_id)
    from kamfit.audits.queries import get_audit_results  # noqa: PLC0415

    _print_results(get_audit_results(audit))


@audit_app.command("export")
def audit_export(
    audit_id: AuditId,
    org: OrgOption,
    what: Annotated[
        What,
        typer.Option(
            help="results (scores per item), answers (anonymised, no comments) "
            "or template (a paper answer sheet, XLSX only)."
        ),
    ] = What.results,
    fmt: Annotated[Format, typer.Option("--format", help="csv or xlsx.")] = Format.csv,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write; CSV goes to stdout without it."),
    ] = None,
) -> None:
    """Export results, anonymised answers or the paper answer sheet as CSV or XLSX."""
    if what is What.template and fmt is not Format.xlsx:
        raise fail("--what template: the answer sheet is XLSX only (--format xlsx)", 2)
    if fmt is Format.xlsx and output is None:
        raise fail("--format xlsx: an XLSX file is binary; write it with -o FILE", 2)
    audit = _audit(org, audit_id)
    from kamfit.audits import exchange  # noqa: PLC0415
    from kamfit.audits.queries import get_audit_results  # noqa: PLC0415

    if what is What.template:
        data = exchange.paper_template(audit)
    else:
        if what is What.results:
            header, rows = exchange.results_table(get_audit_results(audit))
        else:
            header, rows = exchange.answers_table(audit)
        sheet = what.value.capitalize()
        data = (
            exchange.to_csv(header, rows)
            if fmt is Format.csv
            else exchange.to_xlsx(header, rows, sheet=sheet)
        )
        from kamfit.auditlog.services import record  # noqa: PLC0415

        record(
            "export.downloaded",
            organisation_id=audit.organisation_id,
            target=audit,
            data={"what": f"audit_{what.value}", "format": fmt.value},
            via="cli",
        )
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise fail(f"{output}: cannot write ({exc.strerror})", 2) from exc
    err.print(f"wrote {output} ({len(data):,} bytes)", markup=False)


@audit_app.command("import")
def audit_import(
    audit_id: AuditId,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A filled paper answer sheet: XLSX, or CSV in UTF-8.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    org: OrgOption,
) -> None:
    """Import answers collected on paper as submitted responses, all or nothing.

    Every problem is listed as "row N, column X: reason"; if there is any, nothing is stored.
    """
    audit = _audit(org, audit_id)
    from kamfit.audits import exchange, services  # noqa: PLC0415
    from kamfit.domain.errors import NotPermitted, ValidationError  # noqa: PLC0415
    from kamfit.uploads import read_path, rejections  # noqa: PLC0415

    try:
        with rejections("audit_answers", organisation=audit.organisation):
            data = read_path(file)  # TooLarge past the import size limit
            responses = exchange.read_paper_answers(audit, data, file.name)
            count = services.import_paper_answers(audit=audit, responses=responses)
    except ValidationError as exc:
        err.print(f"{file}: {len(exc.problems)} problem(s); nothing was imported", markup=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False)
        raise typer.Exit(1) from exc
    except NotPermitted as exc:
        raise fail(f"audit {audit_id}: {exc}", 1) from exc
    out.print(f"imported {count} paper response(s) into audit {audit.pk}", markup=False)


# The audit trail (who did what) shares the ``kamfit audit`` group with readiness audits.
audit_app.command("verify")(audit_verify)
audit_app.command("log")(audit_log)
