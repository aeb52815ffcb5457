"""``kamfit assess …``: people, assessment cycles, imports and results from the shell.

Every command acts for a member named with ``--as`` in ``--org`` and reaches people,
cycles and results through :mod:`kamfit.orgs.access`, so the member's role is checked
exactly as on the pages: a participant sees only their own person record and their own
released results, and may not import anything.

Exit codes: 0 done, 1 refused (invalid input, each problem named by row and column, or
a state that forbids it; nothing stored), 2 a bad argument (unknown organisation,
member, cycle, person or question, a role that may not do it, an unreadable file).
Django and the models are imported inside each command, so that ``kamfit`` starts
without a database.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kamfit.terminal import acting as _acting
from kamfit.terminal import err, fail, out
from kamfit.terminal import member as _member

if TYPE_CHECKING:
    from kamfit.assessments.models import Assessee, Cycle, Person
    from kamfit.assessments.queries import CycleData, PersonLine
    from kamfit.orgs.models import Membership, Role

assess_app = typer.Typer(
    help="Assessing people: people, cycles, raters, imports, results and release.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

OrgOption = Annotated[str, typer.Option("--org", help="Slug of the organisation.")]
AsOption = Annotated[
    str,
    typer.Option("--as", help="Username of the member acting; their role must allow it."),
]
CycleId = Annotated[
    int, typer.Argument(metavar="CYCLE_ID", help="The cycle's number (see kamfit assess cycles).")
]
PersonRef = Annotated[
    str, typer.Argument(metavar="PERSON_REF", help="The person's reference, e.g. kam-017.")
]
InputFile = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="An XLSX workbook, or CSV in UTF-8.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


class ListFormat(StrEnum):
    table = "table"
    csv = "csv"


class ResultFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class SourceChoice(StrEnum):
    self = "self"
    manager = "manager"
    peer = "peer"
    other = "other"


# --- Resolving arguments -----------------------------------------------------------------------


def _require(m: Membership, permission: frozenset[Role], what: str) -> None:
    """Refuse a member whose role does not hold ``permission``, as the pages do (403)."""
    from django.core.exceptions import PermissionDenied  # noqa: PLC0415

    from kamfit.orgs.permissions import may  # noqa: PLC0415

    if not may(m.role, permission):
        raise PermissionDenied(f"Your role ({m.get_role_display()}) may not {what}.")


def _person(m: Membership, reference: str) -> Person:
    """The person with ``reference`` whom the member may see (404 otherwise)."""
    from django.http import Http404  # noqa: PLC0415

    from kamfit.orgs.access import access_person, list_visible_people  # noqa: PLC0415

    pk = list_visible_people(m).filter(reference=reference).values_list("pk", flat=True).first()
    if pk is None:
        raise Http404(f"person {reference!r}: no such person in {m.organisation.slug!r}")
    return access_person(m, pk)


def _cycle(m: Membership, pk: int, *, action: str = "manage") -> Cycle:
    """Cycle ``pk`` of the member's organisation, for ``action`` (404 / 403 otherwise)."""
    from django.http import Http404  # noqa: PLC0415

    from kamfit.orgs.access import access_cycle  # noqa: PLC0415

    try:
        return access_cycle(m, pk, action=action)
    except Http404:
        raise Http404(f"cycle {pk}: no such assessment cycle in {m.organisation.slug!r}") from None


def _assessees(cycle: Cycle, references: list[str]) -> list[Assessee]:
    """The cycle's assessees with these references; unknown ones are a bad argument."""
    found = {a.person.reference: a for a in cycle.assessees.select_related("person")}
    missing = [r for r in references if r not in found]
    if missing:
        raise fail(f"not in cycle {cycle.pk}: {', '.join(missing)}", 2)
    return [found[r] for r in references]


def _read(file: Path) -> bytes:
    from kamfit.uploads import read_path  # noqa: PLC0415

    return read_path(file)  # TooLarge past the import size limit


ProgressOption = Annotated[
    bool,
    typer.Option(
        "--progress",
        help='Print "progress DONE TOTAL" lines to stderr as rows are written.',
    ),
]


def _progress(show: bool) -> Callable[[int, int], None] | None:
    """A progress callback printing ``progress <done> <total>`` to stderr, flushed."""
    if not show:
        return None

    def report(done: int, total: int) -> None:
        sys.stderr.write(f"progress {done} {total}\n")
        sys.stderr.flush()

    return report


@contextmanager
def _importing(m: Membership, file: Path, kind: str) -> Iterator[None]:
    """Like :func:`_acting`, with the file named in the list of problems.

    A refused import is recorded (``import.rejected``) once it has rolled back.
    """
    from kamfit.domain.errors import ValidationError  # noqa: PLC0415
    from kamfit.uploads import rejections  # noqa: PLC0415

    with _acting(m.user.get_username()):
        try:
            with rejections(kind, actor=m.user, organisation=m.organisation):
                yield
        except ValidationError as exc:
            err.print(f"{file}: {len(exc.problems)} problem(s); nothing was imported", markup=False)
            for problem in exc.problems:
                err.print(f"  {problem}", markup=False)
            raise typer.Exit(1) from exc


def _write(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _credit(cycle: Cycle) -> str:
    """The source of the requirements' names and wording: the framework's citation."""
    fv = cycle.profile_version.framework_version
    return f"Source: {fv.citation or f'{fv.title} v{fv.number}'}"


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _json_num(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), digits)


# --- People --------------------------------------------------------------------------------------


@assess_app.command("people")
def people(
    org: OrgOption,
    username: AsOption,
    fmt: Annotated[
        ListFormat, typer.Option("--format", help="table, or csv in the people import's format.")
    ] = ListFormat.table,
) -> None:
    """List the people the member may see: everyone for those who manage people."""
    m = _member(org, username)
    from kamfit.assessments import exchange  # noqa: PLC0415
    from kamfit.orgs.access import list_visible_people  # noqa: PLC0415
    from kamfit.orgs.permissions import MANAGE_PEOPLE  # noqa: PLC0415
    from kamfit.spreadsheets import to_csv  # noqa: PLC0415

    with _acting(m.user.get_username()):
        if fmt is ListFormat.csv:
            _require(m, MANAGE_PEOPLE, "export people")
        found = list(
            list_visible_people(m)
            .select_related("manager", "profile", "user")
            .prefetch_related("accounts")
            .order_by("name", "id")
        )
    if fmt is ListFormat.csv:
        _write(to_csv(*exchange.people_table(found)))
        return
    table = Table("reference", "name", "kind", "job title", "unit", "manager", "profile", "active")
    for p in found:
        table.add_row(
            escape(p.reference),
            escape(p.name),
            p.kind,
            escape(p.job_title),
            escape(p.unit),
            escape(p.manager.reference if p.manager else ""),
            escape(p.profile.key if p.profile else ""),
            "yes" if p.active else "no",
        )
    out.print(table)
    err.print(f"{len(found)} people", markup=False)


@assess_app.command("import-people")
def import_people(
    file: InputFile, org: OrgOption, username: AsOption, progress: ProgressOption = False
) -> None:
    """Create or update people from a CSV or XLSX file, all or nothing.

    Every problem is listed as "row N, column X: reason"; if there is any, nothing is stored.
    """
    m = _member(org, username)
    from kamfit.assessments import exchange  # noqa: PLC0415
    from kamfit.orgs.permissions import MANAGE_PEOPLE  # noqa: PLC0415

    with _importing(m, file, "people"):
        data = _read(file)
        _require(m, MANAGE_PEOPLE, "import people")
        created, updated = exchange.read_people(
            m.organisation,
            m.user,
            data,
            file.name,
            progress=_progress(progress),
        )
    out.print(f"imported people: {created} new, {updated} updated", markup=False)


@assess_app.command("import-psychometrics")
def import_psychometrics(
    file: InputFile, org: OrgOption, username: AsOption, progress: ProgressOption = False
) -> None:
    """Store psychometric results from a CSV or XLSX file, all or nothing."""
    m = _member(org, username)
    from kamfit.assessments import exchange  # noqa: PLC0415
    from kamfit.orgs.permissions import MANAGE_PEOPLE  # noqa: PLC0415

    with _importing(m, file, "psychometrics"):
        data = _read(file)
        _require(m, MANAGE_PEOPLE, "import psychometric results")
        count = exchange.read_psychometrics(
            m.organisation,
            m.user,
            data,
            file.name,
            progress=_progress(progress),
        )
    out.print(f"imported {count} psychometric result(s)", markup=False)


def _answers(yes: list[str], no: list[str], keys: list[str]) -> dict[str, bool | None]:
    def split(values: list[str]) -> list[str]:
        return [k.strip() for v in values for k in v.split(",") if k.strip()]

    said_yes, said_no = split(yes), split(no)
    unknown = [k for k in (*said_yes, *said_no) if k not in keys]
    if unknown:
        raise fail(
            f"unknown question(s) {', '.join(unknown)}: the questions are {', '.join(keys)}", 2
        )
    both = sorted(set(said_yes) & set(said_no))
    if both:
        raise fail(f"answered both yes and no: {', '.join(both)}", 2)
    return {k: True if k in said_yes else False if k in said_no else None for k in keys}


@assess_app.command("quick-check")
def quick_check(
    reference: PersonRef,
    *,
    org: OrgOption,
    username: AsOption,
    yes: Annotated[
        list[str] | None,
        typer.Option("--yes", metavar="KEYS", help="Questions answered yes, comma-separated."),
    ] = None,
    no: Annotated[
        list[str] | None,
        typer.Option("--no", metavar="KEYS", help="Questions answered no, comma-separated."),
    ] = None,
    note: Annotated[str, typer.Option(help="A note kept with the answers.")] = "",
) -> None:
    """Record the SBI quick check (nine yes/no questions) for a key account manager.

    Questions not named stay unanswered. The person's line manager may record it too.
    """
    m = _member(org, username)
    from kamfit.assessments import services  # noqa: PLC0415
    from kamfit.domain.development import shipped_quick_check  # noqa: PLC0415
    from kamfit.orgs.access import access_person  # noqa: PLC0415

    check = shipped_quick_check()
    answers = _answers(yes or [], no or [], [q.key for q in check.questions])
    with _acting(m.user.get_username()):
        person = access_person(m, _person(m, reference).pk, action="quick_check")
        recorded = services.record_quick_check(person, m.user, answers, note=note)
    out.print(
        f"recorded the quick check for {person.name} ({person.reference}): "
        f"{recorded.yes_count} yes of {recorded.answered_count} answered",
        markup=False,
    )


# --- Cycles --------------------------------------------------------------------------------------


@assess_app.command("cycles")
def cycles(org: OrgOption, username: AsOption) -> None:
    """List the organisation's assessment cycles, newest first, with their people."""
    m = _member(org, username)
    from django.db.models import Count  # noqa: PLC0415

    from kamfit.orgs.access import list_cycles  # noqa: PLC0415
    from kamfit.orgs.permissions import MANAGE_PEOPLE  # noqa: PLC0415

    with _acting(m.user.get_username()):
        _require(m, MANAGE_PEOPLE, "manage assessment cycles")
    found = (
        list_cycles(m.organisation)
        .select_related("profile_version__profile")
        .annotate(people=Count("assessees", distinct=True))
    )
    table = Table("id", "title", "profile", "status", "people", "created")
    for cycle in found:
        version = cycle.profile_version
        table.add_row(
            str(cycle.pk),
            escape(cycle.title),
            escape(f"{version.profile.key} v{version.number}"),
            cycle.status,
            str(cycle.people),
            cycle.created_at.date().isoformat(),
        )
    out.print(table)


@assess_app.command("create-cycle")
def create_cycle(
    *,
    org: OrgOption,
    username: AsOption,
    profile: Annotated[str, typer.Option("--profile", metavar="KEY", help="The profile's key.")],
    title: Annotated[str, typer.Option("--title", help="The cycle's title.")],
    number: Annotated[
        int | None,
        typer.Option("--version", help="A published version's number (default: the latest)."),
    ] = None,
    references: Annotated[
        list[str] | None,
        typer.Option("--person", metavar="REF", help="A person to assess; repeat for each."),
    ] = None,
) -> None:
    """Prepare a cycle against a published role profile, with people and default raters.

    Each person gets themself (if they have an account) and their line manager as raters.
    """
    m = _member(org, username)
    from django.db import transaction  # noqa: PLC0415

    from kamfit.assessments import services  # noqa: PLC0415
    from kamfit.assessments.models import Rater  # noqa: PLC0415
    from kamfit.orgs.access import list_people, list_profiles  # noqa: PLC0415
    from kamfit.orgs.permissions import MANAGE_PEOPLE  # noqa: PLC0415
    from kamfit.profiles.models import ProfileStatus, ProfileVersion  # noqa: PLC0415

    with _acting(m.user.get_username()):
        _require(m, MANAGE_PEOPLE, "run assessment cycles")
    versions = ProfileVersion.objects.filter(
        profile__in=list_profiles(m.organisation).filter(key=profile)
    ).select_related("profile", "framework_version")
    if number is not None:
        version = versions.filter(number=number).first()
    else:
        version = versions.filter(status=ProfileStatus.PUBLISHED).order_by("number").last()
    if version is None:
        which = f"version {number}" if number is not None else "a published version"
        raise fail(f"--profile {profile!r}: no role profile with {which} in {org!r}", 2)
    wanted = list(dict.fromkeys(references or []))
    people = {p.reference: p for p in list_people(m.organisation).filter(reference__in=wanted)}
    missing = [r for r in wanted if r not in people]
    if missing:
        raise fail(f"--person: no such person in {org!r}: {', '.join(missing)}", 2)
    with _acting(m.user.get_username()), transaction.atomic():
        cycle = services.create_cycle(m.organisation, m.user, title=title, profile_version=version)
        added = services.add_people(cycle, m.user, [people[r] for r in wanted])
    raters = Rater.objects.filter(assessee__cycle=cycle).count()
    out.print(
        f"created cycle {cycle.pk} {cycle.title!r} (draft) against {version.profile.key} "
        f"v{version.number}: {len(added)} people, {raters} raters",
        markup=False,
    )


@assess_app.command("add-rater")
def add_rater(
    cycle_id: CycleId,
    reference: PersonRef,
    rater: Annotated[str, typer.Argument(metavar="USERNAME", help="The member who rates.")],
    *,
    org: OrgOption,
    username: AsOption,
    source: Annotated[
        SourceChoice, typer.Option("--source", help="self, manager, peer or other.")
    ] = SourceChoice.peer,
) -> None:
    """Ask a member to rate a person of the cycle, as self, manager, peer or other."""
    m = _member(org, username)
    from kamfit.assessments import services  # noqa: PLC0415

    with _acting(m.user.get_username()):
        cycle = _cycle(m, cycle_id)
        (assessee,) = _assessees(cycle, [reference])
        services.add_rater(assessee, m.user, username=rater, source=source.value)
    out.print(f"{rater} rates {reference} as {source.value} in cycle {cycle_id}", markup=False)


@assess_app.command("open")
def open_cycle(cycle_id: CycleId, org: OrgOption, username: AsOption) -> None:
    """Open a prepared cycle: raters now see their forms."""
    m = _member(org, username)
    from kamfit.assessments import services  # noqa: PLC0415

    with _acting(m.user.get_username()):
        services.open_cycle(_cycle(m, cycle_id))
    out.print(f"cycle {cycle_id} is open for ratings", markup=False)


@assess_app.command("close")
def close_cycle(cycle_id: CycleId, org: OrgOption, username: AsOption) -> None:
    """Close an open cycle: no more forms; unsubmitted drafts do not count."""
    m = _member(org, username)
    from kamfit.assessments import services  # noqa: PLC0415

    with _acting(m.user.get_username()):
        services.close_cycle(_cycle(m, cycle_id))
    out.print(f"cycle {cycle_id} is closed", markup=False)


@assess_app.command("import-ratings")
def import_ratings(
    cycle_id: CycleId,
    file: InputFile,
    org: OrgOption,
    username: AsOption,
    progress: ProgressOption = False,
) -> None:
    """Import ratings collected outside kamfit as submitted forms, all or nothing."""
    m = _member(org, username)
    from kamfit.assessments import exchange  # noqa: PLC0415

    with _importing(m, file, "ratings"):
        data = _read(file)
        cycle = _cycle(m, cycle_id)
        count = exchange.read_ratings(
            cycle,
            m.user,
            data,
            file.name,
            progress=_progress(progress),
        )
    out.print(f"imported {count} rating form(s) into cycle {cycle_id}", markup=False)


@assess_app.command("release")
def release(
    cycle_id: CycleId,
    org: OrgOption,
    username: AsOption,
    references: Annotated[
        list[str] | None,
        typer.Option("--person", metavar="REF", help="A person whose results to release; repeat."),
    ] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Release everyone's results.")] = False,
) -> None:
    """Release results to the assessed people and their line managers (owner and HR)."""
    if bool(references) == everyone:
        raise fail("give either --person REF (one or more) or --all", 2)
    m = _member(org, username)
    from kamfit.assessments import services  # noqa: PLC0415

    with _acting(m.user.get_username()):
        cycle = _cycle(m, cycle_id, action="release")
        chosen = list(cycle.assessees.all()) if everyone else _assessees(cycle, references or [])
        count = services.release_results(cycle, m.user, chosen)
    out.print(f"released the results of {count} people in cycle {cycle_id}", markup=False)


# --- Results -------------------------------------------------------------------------------------


def _team(data: CycleData, fmt: ResultFormat) -> None:
    from kamfit.assessments import exchange  # noqa: PLC0415
    from kamfit.spreadsheets import to_csv  # noqa: PLC0415

    header, rows = exchange.results_table(data)
    if fmt is ResultFormat.csv:
        _write(to_csv(header, rows))
        return
    if fmt is ResultFormat.json:
        keys = header[5:]
        people = [
            {
                "reference": r[0],
                "name": r[1],
                "fit": r[2],
                "coverage": r[3],
                "band": r[4],
                "combined": dict(zip(keys, r[5:], strict=True)),
            }
            for r in rows
        ]
        _write((json.dumps({"cycle": data.cycle.pk, "people": people}, indent=2) + "\n").encode())
        return
    table = Table("person", "reference", "fit %", "coverage %", "band", "forms")
    for i, r in enumerate(rows):
        table.add_row(
            escape(str(r[1])),
            escape(str(r[0])),
            "–" if r[2] is None else f"{r[2]:.0f}",
            "–" if r[3] is None else f"{r[3]:.0f}",
            str(r[4]),
            f"{data.submitted[i]}/{data.invited[i]}",
        )
    out.print(f"[bold]{escape(data.cycle.title)}[/bold] ({data.cycle.status})")
    out.print(table)


def _flag(blind_spot: bool, hidden_strength: bool) -> str:
    return "blind spot" if blind_spot else "hidden strength" if hidden_strength else ""


def _weak(line: PersonLine) -> str:
    return "; ".join(f"{label} ({score:.0f})" for label, score in line.weak_elements)


def _one(data: CycleData, assessee: Assessee, fmt: ResultFormat) -> None:
    from kamfit.assessments.queries import person_lines  # noqa: PLC0415
    from kamfit.domain import scoring  # noqa: PLC0415
    from kamfit.spreadsheets import to_csv  # noqa: PLC0415

    row = data.index[assessee.person_id]
    lines = person_lines(data, row)
    s = data.scores
    person = assessee.person
    band = scoring.BANDS[int(data.bands[row])]
    fit, coverage = float(s.fit[row]), 100 * float(s.coverage[row])
    header = ["key", "requirement", "required", "combined", "gap", "self", "others", "flag"]
    records = [
        [
            line.column.key,
            line.column.name,
            line.column.required,
            _json_num(line.combined),
            _json_num(line.gap),
            _json_num(line.self_rating),
            _json_num(line.others),
            _flag(line.blind_spot, line.hidden_strength),
        ]
        for line in lines
    ]
    if fmt is ResultFormat.json:
        requirements = [
            {
                **dict(zip(header, record, strict=True)),
                "weak_company_side": [
                    {"element": label, "score": round(score, 1)}
                    for label, score in line.weak_elements
                ],
            }
            for line, record in zip(lines, records, strict=True)
        ]
        document = {
            "cycle": data.cycle.pk,
            "reference": person.reference,
            "name": person.name,
            "fit": _json_num(fit, 1),
            "coverage": _json_num(coverage, 1),
            "band": band,
            "requirements": requirements,
            "source": _credit(data.cycle).removeprefix("Source: "),
        }
        _write((json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
        return
    if fmt is ResultFormat.csv:
        rows = [[*r, _weak(line)] for line, r in zip(lines, records, strict=True)]
        _write(to_csv([*header, "weak company side"], rows))
        err.print(_credit(data.cycle), markup=False)
        return
    out.print(
        f"[bold]{escape(person.name)}[/bold] ({escape(person.reference)}) — fit {_num(fit, 0)}%, "
        f"coverage {_num(coverage, 0)}%, {escape(band)}"
    )
    table = Table(
        "requirement", "required", "combined", "gap", "self", "others", "", "weak company side"
    )
    for line, record in zip(lines, records, strict=True):
        table.add_row(
            escape(line.column.name),
            str(line.column.required),
            _num(line.combined),
            _num(line.gap),
            _num(line.self_rating),
            _num(line.others),
            str(record[-1]),
            escape(_weak(line)),
        )
    out.print(table)
    out.print(f"[dim]{escape(_credit(data.cycle))}[/dim]")


@assess_app.command("results")
def results(
    cycle_id: CycleId,
    org: OrgOption,
    username: AsOption,
    reference: Annotated[
        str | None,
        typer.Option("--person", metavar="REF", help="One person's result, requirement by line."),
    ] = None,
    fmt: Annotated[
        ResultFormat, typer.Option("--format", help="table, csv or json.")
    ] = ResultFormat.table,
) -> None:
    """Print a cycle's results: the team's fit, coverage and band, or one person's lines.

    One person's lines give per requirement the required and combined level, the gap,
    self and others' ratings, blind spots and hidden strengths, and the role elements
    whose company side the latest readiness audit found weak. A person sees their own
    results, and a line manager their reports', once released.
    """
    m = _member(org, username)
    from django.http import Http404  # noqa: PLC0415

    from kamfit.assessments.queries import load_cycle  # noqa: PLC0415
    from kamfit.orgs.access import access_assessee  # noqa: PLC0415

    with _acting(m.user.get_username()):
        if reference is None:
            _team(load_cycle(_cycle(m, cycle_id)), fmt)
            return
        person = _person(m, reference)
        try:
            assessee = access_assessee(m, cycle_id, person.pk)
        except Http404:
            raise Http404(f"no result for {reference!r} in cycle {cycle_id}") from None
        _one(load_cycle(assessee.cycle), assessee, fmt)
