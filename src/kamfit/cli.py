"""The ``kamfit`` command: kamfit's own command groups, and every Django command.

``kamfit framework …``, ``kamfit demo`` and ``kamfit serve`` are kamfit's; any
other first word runs as a Django management command (``kamfit migrate``,
``kamfit check --deploy``, ``kamfit createsuperuser``).
"""

from __future__ import annotations

import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from kamfit.accounts.cli import user_app
from kamfit.assessments.cli import assess_app
from kamfit.audits.cli import audit_app
from kamfit.domain import framework as fw
from kamfit.domain.errors import FrameworkInvalid, KamfitError
from kamfit.members.cli import token_app
from kamfit.ops.cli import backup, restore
from kamfit.privacy.cli import person_app
from kamfit.profiles.cli import profile_app
from kamfit.terminal import err, fail, out, setup_django

app = typer.Typer(
    help="kamfit: key account management competencies, readiness, assessment and hiring.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # help mentions ID[@N]: brackets are text, not markup
)
framework_app = typer.Typer(
    help="Browse, exchange and check KAM competency frameworks.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(framework_app, name="framework")
app.add_typer(audit_app, name="audit")
app.add_typer(profile_app, name="profile")
app.add_typer(assess_app, name="assess")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
app.add_typer(person_app, name="person")
app.command("backup")(backup)
app.command("restore")(restore)

KAMFIT_COMMANDS = {
    "framework",
    "audit",
    "profile",
    "assess",
    "token",
    "user",
    "person",
    "demo",
    "serve",
    "backup",
    "restore",
    "worker",
    "--help",
    "-h",
}


class Format(StrEnum):
    yaml = "yaml"
    json = "json"
    case = "case"


class InFormat(StrEnum):
    auto = "auto"
    yaml = "yaml"
    json = "json"
    case = "case"


def _read_ref(ref: str, fmt: InFormat = InFormat.auto, org: str | None = None) -> fw.Framework:
    """Resolve a framework reference: a shipped key, a file, or ID[@N] in ``--org``."""
    if org:
        return _read_stored(ref, org)
    if ref == fw.shipped().key:
        return fw.shipped()
    path = Path(ref)
    if not path.is_file():
        shipped = fw.shipped().key
        raise fail(f"{ref!r} is neither a file nor a shipped framework (try {shipped!r})", 2)
    if path.stat().st_size > fw.MAX_DOCUMENT_BYTES:  # refused unread (RELIABILITY A29)
        raise fail(f"{ref}: larger than {fw.MAX_DOCUMENT_BYTES // 2**20} MB", 1)
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"{ref}: not UTF-8 text (byte {exc.start})", 2) from exc
    return fw.loads(text, fmt.value)


def _read_stored(ref: str, org: str) -> fw.Framework:
    setup_django()
    from kamfit.frameworks.models import Framework, FrameworkVersion  # noqa: PLC0415
    from kamfit.frameworks.queries import get_version_document  # noqa: PLC0415
    from kamfit.orgs.access import list_frameworks  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    pk, _, number = ref.partition("@")
    framework = list_frameworks(organisation).filter(pk=int(pk) if pk.isdecimal() else -1).first()
    if not isinstance(framework, Framework):
        raise fail(f"{ref!r}: no such framework in {org!r}", 2)
    versions = FrameworkVersion.objects.filter(framework=framework).order_by("number")
    if number and not number.isdecimal():
        raise fail(f"{ref!r}: write a version as ID@N, e.g. 3@2", 2)
    version = versions.filter(number=int(number)).first() if number else versions.last()
    if version is None:
        raise fail(f"{ref!r}: no such version", 2)
    return get_version_document(version)


@framework_app.command("list")
def framework_list(
    org: Annotated[
        str | None, typer.Option(help="List an organisation's frameworks (needs the database).")
    ] = None,
) -> None:
    """List the shipped frameworks, or an organisation's."""
    if org is None:
        table = Table("ref", "title", "roles", "elements", "competencies")
        doc = fw.shipped()
        counts = (len(doc.roles), len(doc.elements), len(doc.competencies))
        table.add_row(escape(doc.key), escape(doc.title), *map(str, counts))
    else:
        table = Table("ref", "title", "versions")
        setup_django()
        from kamfit.orgs.access import list_frameworks  # noqa: PLC0415
        from kamfit.orgs.models import Organisation  # noqa: PLC0415

        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise fail(f"--org {org!r}: no such organisation", 2)
        for f in list_frameworks(organisation).prefetch_related("versions").order_by("id"):
            versions = ", ".join(f"v{v.number} {v.status}" for v in f.versions.all())
            table.add_row(
                str(f.pk), escape(f.title), versions + (" (library)" if f.is_library else "")
            )
    out.print(table)


@framework_app.command("show")
def framework_show(
    ref: Annotated[
        str, typer.Argument(help="Shipped key (warwick-2006), a file, or ID[@N] with --org.")
    ] = "warwick-2006",
    element: Annotated[str | None, typer.Option(help="Show one role element in full.")] = None,
    fmt: Annotated[
        InFormat, typer.Option("--format", help="Input format of a file.")
    ] = InFormat.auto,
    org: Annotated[str | None, typer.Option(help="Organisation slug for ID references.")] = None,
) -> None:
    """Show a framework the way the paper reads: roles, elements, both sides, competencies."""
    doc = _load(ref, fmt, org)
    kinds = {c.key: c.kind.value for c in doc.competencies}
    tree = Tree(f"[bold]{escape(doc.title)}[/bold]" + (f" v{doc.version}" if doc.version else ""))
    for role in doc.roles:
        branch = tree.add(f"[bold]{escape(role.title)}[/bold]")
        for e in role.elements:
            if element and e.key != element:
                continue
            node = branch.add(escape(f"{e.label} — {e.title}"))
            if element:
                _add_side(node, "Role of company", e.company)
                _add_side(node, "Role of key account manager", e.kam)
                comp = node.add("Competencies/attributes")
                for c in e.citations:
                    refs = ", ".join(f"{r} ({kinds[r]})" for r in c.refs)
                    comp.add(escape(f"{c.wording} → {refs}"))
            else:
                counts = f"company {len(e.company)} · KAM {len(e.kam)}"
                counts += f" · competencies {len(e.citations)}"
                node.label = f"{escape(e.label)} — {escape(e.title)}  [dim]{counts}[/dim]"
    if element and element not in {e.key for e in doc.elements}:
        raise fail(f"--element {element!r}: no such role element", 2)
    out.print(tree)
    if doc.citation:
        out.print(f"[dim]Source: {escape(doc.citation)}[/dim]")


def _add_side(node: Tree, title: str, items: tuple[fw.Responsibility, ...]) -> None:
    side = node.add(title)
    for r in items:
        leaf = side.add(escape(r.text))
        for child in r.children:
            leaf.add(escape(child))


def _load(ref: str, fmt: InFormat, org: str | None) -> fw.Framework:
    try:
        return _read_ref(ref, fmt, org)
    except FrameworkInvalid as exc:
        _print_problems(ref, exc)
        raise typer.Exit(1) from exc


def _print_problems(ref: str, exc: FrameworkInvalid) -> None:
    err.print(f"[red]{escape(ref)}: {len(exc.problems)} problem(s)[/red]")
    for p in exc.problems:
        err.print(f"  {p.location}: {p.message}", markup=False)


@framework_app.command("export")
def framework_export(
    ref: Annotated[
        str, typer.Argument(help="Shipped key, a file, or ID[@N] with --org.")
    ] = "warwick-2006",
    fmt: Annotated[
        Format,
        typer.Option("--format", help="yaml, json (kamfit schema) or case (1EdTech CASE 1.0)."),
    ] = Format.yaml,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Organisation slug for ID references.")] = None,
) -> None:
    """Export a framework as YAML, JSON or CASE 1.0 JSON."""
    text = fw.dumps(_load(ref, InFormat.auto, org), fmt.value)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
        err.print(f"wrote {output}", markup=False)


@framework_app.command("validate")
def framework_validate(
    file: Annotated[Path, typer.Argument(help="A framework file (YAML, JSON or CASE JSON).")],
    fmt: Annotated[InFormat, typer.Option("--format", help="Input format.")] = InFormat.auto,
) -> None:
    """Check a framework file; name each problem with its location; exit 1 if any."""
    doc = _load(str(file), fmt, None)
    out.print(
        f"{file}: valid — {len(doc.roles)} roles, {len(doc.elements)} role elements, "
        f"{len(doc.competencies)} competencies"
    )


@framework_app.command("diff")
def framework_diff(
    old: Annotated[str, typer.Argument(help="Shipped key, a file, or ID[@N] with --org.")],
    new: Annotated[str, typer.Argument(help="Shipped key, a file, or ID[@N] with --org.")],
    org: Annotated[str | None, typer.Option(help="Organisation slug for ID references.")] = None,
) -> None:
    """List what changed from OLD to NEW; exit 0 either way."""

    def resolve(ref: str) -> fw.Framework:
        stored = org is not None and ref.split("@", maxsplit=1)[0].isdecimal()
        return _load(ref, InFormat.auto, org if stored else None)

    changes = fw.diff(resolve(old), resolve(new))
    for change in changes:
        out.print(str(change), markup=False)
    err.print(f"{len(changes)} change(s)")


@framework_app.command("import")
def framework_import(
    file: Annotated[Path, typer.Argument(help="A framework file (YAML, JSON or CASE JSON).")],
    org: Annotated[str, typer.Option(help="Organisation slug to import into.")],
    fmt: Annotated[InFormat, typer.Option("--format", help="Input format.")] = InFormat.auto,
) -> None:
    """Import a framework file into an organisation as a new draft (all or nothing)."""
    doc = _load(str(file), fmt, None)
    setup_django()
    from kamfit.frameworks.services import import_framework  # noqa: PLC0415
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    framework = import_framework(organisation=organisation, user=None, doc=doc)
    out.print(f"imported {doc.title!r} as framework {framework.pk}, draft v1, in {org}")


@framework_app.command("load")
def framework_load() -> None:
    """Install the shipped frameworks into the database's library (once)."""
    setup_django()
    from kamfit.frameworks.services import install_library_framework  # noqa: PLC0415

    framework, created = install_library_framework(doc=fw.shipped())
    out.print(f"{framework.title}: {'installed' if created else 'already installed'}")


@app.command()
def demo() -> None:
    """Load the Warwick framework and a demo organisation with one user per role (once)."""
    setup_django()
    from kamfit.demo import DEMO_PASSWORD, load_demo  # noqa: PLC0415

    users = load_demo()
    out.print(f"demo organisation ready: {len(users)} users, password {DEMO_PASSWORD!r}")


@app.command()
def serve(  # noqa: PLR0917 - Typer reads each option from a parameter
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    production: Annotated[
        bool,
        typer.Option(
            "--production",
            help="Serve with gunicorn: collect static files, check migrations, then run "
            "sync workers (settings from the environment; KAMFIT_DEBUG must be off).",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="gunicorn worker processes (--production). Default: 2 × cores + 1, at most 12.",
            min=1,
            max=64,
        ),
    ] = None,
    timeout: Annotated[
        int,
        typer.Option(help="Seconds a request may take before its worker is restarted.", min=5),
    ] = 60,
    max_requests: Annotated[
        int,
        typer.Option(help="Restart each worker after about this many requests (0: never).", min=0),
    ] = 2000,
) -> None:
    """Serve the web app: the development server, or gunicorn with --production."""
    if production:
        _serve_production(host, port, workers or _default_workers(), timeout, max_requests)
        return
    setup_django()
    from django.core.management import call_command  # noqa: PLC0415

    from kamfit.demo import DEMO_PASSWORD, demo_login  # noqa: PLC0415

    out.print(f"\nkamfit is at [bold]http://{host}:{port}/[/bold]")
    if login := demo_login():
        out.print(f"demo login: [bold]{login}[/bold] / [bold]{DEMO_PASSWORD}[/bold]\n")
    call_command("runserver", f"{host}:{port}", use_reloader=False)


# gunicorn's default line, with the time the request took in the worker (milliseconds).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


def _default_workers() -> int:
    """gunicorn's rule for sync workers, 2 × cores + 1, capped: beyond it they only queue."""
    return min(2 * (os.cpu_count() or 1) + 1, 12)


def _serve_production(host: str, port: int, workers: int, timeout: int, max_requests: int) -> None:
    """Check that the app may serve, then replace this process with gunicorn."""
    from django.core.exceptions import ImproperlyConfigured  # noqa: PLC0415

    try:
        setup_django()
    except ImproperlyConfigured as exc:
        raise fail(f"settings: {exc}") from None
    from django.conf import settings  # noqa: PLC0415
    from django.db import DatabaseError, connections  # noqa: PLC0415

    if settings.DEBUG:
        raise fail("KAMFIT_DEBUG is on: production serving needs it off (see docs/operations.md)")
    collect_static()
    try:
        pending = _pending_migrations()
    except DatabaseError as exc:
        raise fail(
            f"the database does not answer ({type(exc).__name__}): check DATABASE_URL"
        ) from None
    if pending:
        names = ", ".join(f"{app}.{name}" for app, name in pending[:5])
        more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        raise fail(
            f"{len(pending)} migration(s) not applied ({names}{more}): "
            "run `kamfit migrate` first, then serve"
        )
    connections.close_all()  # the workers open their own
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    args = [
        sys.executable, "-m", "gunicorn", "kamfit.web.wsgi:application",
        "--bind", bind,
        "--workers", str(workers),
        "--worker-class", "sync",
        "--timeout", str(timeout),
        "--graceful-timeout", "30",  # on SIGTERM, finish the requests under way
        "--max-requests", str(max_requests),
        "--max-requests-jitter", str(max_requests // 10),  # workers do not all restart at once
        "--access-logfile", "-",
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--logger-class", "kamfit.auditlog.gunicorn.RedactingLogger",  # no link tokens
        "--error-logfile", "-",
        "--no-control-socket",  # its default path is per user: two servers would share it
    ]  # fmt: skip
    if Path("/dev/shm").is_dir():  # noqa: S108 - the heartbeat file, kept off slow disks
        args += ["--worker-tmp-dir", "/dev/shm"]  # noqa: S108 - same heartbeat dir
    err.print(f"kamfit: gunicorn with {workers} workers on http://{bind}/", markup=False)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)  # noqa: S606 - our own interpreter, no shell


def collect_static() -> None:
    """Run ``collectstatic`` unless the static sources are unchanged since the last run.

    Compressing every file (gzip and brotli) takes minutes of CPU on a small machine;
    a restart of the same release skips it. The stamp is the list of source files with
    their sizes and modification times, and the storage backend.
    """
    import hashlib  # noqa: PLC0415

    from django.conf import settings  # noqa: PLC0415
    from django.contrib.staticfiles.finders import get_finders  # noqa: PLC0415
    from django.core.management import call_command  # noqa: PLC0415

    digest = hashlib.sha256(str(settings.STORAGES["staticfiles"]).encode())
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda found: found[0]):
            stat = Path(storage.path(path)).stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    root = Path(settings.STATIC_ROOT)
    stamp = root / ".kamfit-collected"
    manifest = root / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text("utf-8") == digest.hexdigest():
        return
    err.print("kamfit: collecting and compressing static files (once per release)", markup=False)
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(digest.hexdigest(), "utf-8")


def _pending_migrations() -> list[tuple[str, str]]:
    """The migrations the code has and the database has not applied."""
    from django.db import DEFAULT_DB_ALIAS, connections  # noqa: PLC0415
    from django.db.migrations.executor import MigrationExecutor  # noqa: PLC0415

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [(migration.app_label, migration.name) for migration, _backwards in plan]


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def worker(
    ctx: typer.Context,
    queue: Annotated[
        str, typer.Option(help="Queues to run, comma-separated ('*': all).")
    ] = "default",
) -> None:
    """Run background tasks (imports, reports) from the database queue until stopped.

    Other options go to Django's db_worker command (`kamfit db_worker --help`).
    """
    setup_django()
    from django.core.management import call_command  # noqa: PLC0415

    call_command("db_worker", f"--queue-name={queue}", *ctx.args)


def main() -> None:
    """Run a kamfit command group, or hand the command line to Django."""
    args = sys.argv[1:]
    if args and args[0] not in KAMFIT_COMMANDS:
        setup_django()
        from django.core.management import execute_from_command_line  # noqa: PLC0415

        execute_from_command_line(["kamfit", *args])
        return
    logging.getLogger("psycopg").addFilter(_not_cleanup_noise)
    from kamfit.auditlog.context import acting_via  # noqa: PLC0415 - imports no Django

    try:
        with acting_via("cli"):  # audit events of this process say "cli"
            app()
    except KamfitError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise SystemExit(1) from exc
    except Exception as exc:
        if not _database_down(exc):
            raise
        # Disk full, database gone: one line, no traceback; the transaction was rolled back.
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        err.print(f"[red]error:[/red] database: {escape(reason)} (the change was not stored)")
        raise SystemExit(1) from exc


def _not_cleanup_noise(record: logging.LogRecord) -> bool:
    """Drop psycopg's "error ignored terminating …": the error it follows is reported."""
    return not str(record.msg).startswith("error ignored terminating")


def _database_down(exc: Exception) -> bool:
    """Whether ``exc`` is Django's OperationalError or InterfaceError (full, gone, refused)."""
    db = sys.modules.get("django.db")  # never import Django for file-only commands
    return db is not None and isinstance(exc, (db.OperationalError, db.InterfaceError))


if __name__ == "__main__":
    main()
