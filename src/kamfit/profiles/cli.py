"""``kamfit profile …``: role profiles and weighting exercises from the shell.

Reading commands are the operator's, like ``kamfit audit``: they see every version of the
organisation's profiles, drafts included. Commands that change something act for a member
named with ``--as`` and go through :mod:`kamfit.orgs.access`, so the member's role is
checked exactly as on the pages and in the API.

Exit codes: 0 done, 1 refused (invalid input or a state that forbids it; nothing stored),
2 a bad argument (unknown organisation, profile, version, exercise or member, a role
that may not do it, an option that does not fit). Django and the models are imported
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

from kamfit.terminal import acting as _acting
from kamfit.terminal import err, fail, out, setup_django
from kamfit.terminal import member as _member

if TYPE_CHECKING:
    from kamfit.orgs.models import Membership, Organisation
    from kamfit.profiles.models import Profile, ProfileVersion, WeightingExercise
    from kamfit.profiles.queries import ExerciseResults

profile_app = typer.Typer(
    help="Role profiles: list, show, job descriptions, comparison, create, weights, publish.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
exercise_app = typer.Typer(
    help="Weighting exercises: list, results and adopting the consensus weights.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
profile_app.add_typer(exercise_app, name="exercise")

OrgOption = Annotated[str, typer.Option("--org", help="Slug of the organisation.")]
AsOption = Annotated[
    str,
    typer.Option("--as", help="Username of the member acting; their role must allow it."),
]
ProfileId = Annotated[
    int, typer.Argument(metavar="ID", help="The profile's number (see kamfit profile list).")
]
VersionOption = Annotated[
    int | None, typer.Option("--version", help="Version number (default: the latest).")
]
ExerciseId = Annotated[
    int,
    typer.Argument(metavar="ID", help="The exercise's number (see kamfit profile exercise list)."),
]


class Format(StrEnum):
    md = "md"
    pdf = "pdf"
    docx = "docx"


# --- Resolving arguments -----------------------------------------------------------------------


def _organisation(org: str) -> Organisation:
    setup_django()
    from kamfit.orgs.models import Organisation  # noqa: PLC0415

    organisation = Organisation.objects.filter(slug=org).first()
    if organisation is None:
        raise fail(f"--org {org!r}: no such organisation", 2)
    return organisation


def _profile(org: str, pk: int) -> Profile:
    """Profile ``pk`` of ``org``, as the operator sees it; exit 2 if unknown."""
    organisation = _organisation(org)
    from kamfit.orgs.access import list_profiles  # noqa: PLC0415

    profile = list_profiles(organisation).filter(pk=pk).first()
    if profile is None:
        raise fail(f"profile {pk}: no such profile in {org!r}", 2)
    return profile


def _version(org: str, pk: int, number: int | None) -> ProfileVersion:
    """Version ``number`` (default: the latest, draft or not) of profile ``pk``; exit 2 if none."""
    profile = _profile(org, pk)
    versions = profile.versions.select_related("profile", "framework_version__framework")
    if number is None:
        version = versions.order_by("number").last()
    else:
        version = versions.filter(number=number).first()
    if version is None:
        raise fail(f"profile {pk}: no version {number}", 2)
    return version


def _version_by_id(org: str, ref: str, name: str) -> ProfileVersion:
    organisation = _organisation(org)
    from kamfit.orgs.access import list_profiles  # noqa: PLC0415
    from kamfit.profiles.models import ProfileVersion  # noqa: PLC0415

    if not ref.isdecimal():
        raise fail(f"{name} {ref!r}: a profile version's ID is needed (see kamfit profile show)", 2)
    version = (
        ProfileVersion.objects.filter(profile__in=list_profiles(organisation))
        .filter(pk=int(ref))
        .select_related("profile", "framework_version")
        .first()
    )
    if version is None:
        raise fail(f"{name} {ref}: no such profile version in {org!r}", 2)
    return version


def _exercise(org: str, pk: int) -> WeightingExercise:
    organisation = _organisation(org)
    from kamfit.orgs.access import list_exercises  # noqa: PLC0415

    exercise = (
        list_exercises(organisation)
        .select_related("profile_version__profile", "adopted_into")
        .filter(pk=pk)
        .first()
    )
    if exercise is None:
        raise fail(f"exercise {pk}: no such weighting exercise in {org!r}", 2)
    return exercise


def _draft_number(m: Membership, pk: int) -> int:
    """The number of profile ``pk``'s draft, after checking the member may edit the profile."""
    from kamfit.orgs.access import access_profile  # noqa: PLC0415
    from kamfit.profiles.models import ProfileStatus  # noqa: PLC0415

    profile = access_profile(m, pk, action="edit")
    draft = profile.versions.filter(status=ProfileStatus.DRAFT).first()
    if draft is None:
        raise fail(f"profile {pk} has no draft: start one with kamfit profile draft {pk}", 1)
    return draft.number


# --- Profiles ----------------------------------------------------------------------------------


@profile_app.command("list")
def profile_list(org: OrgOption) -> None:
    """List an organisation's role profiles with each version's number and status."""
    organisation = _organisation(org)
    from kamfit.orgs.access import list_profiles  # noqa: PLC0415

    profiles = list_profiles(organisation).prefetch_related("versions")
    table = Table("id", "title", "versions")
    for profile in profiles:
        versions = sorted(profile.versions.all(), key=lambda v: v.number)
        table.add_row(
            str(profile.pk),
            escape(profile.title),
            ", ".join(f"v{v.number} {v.status}" for v in versions),
        )
    out.print(table)


@profile_app.command("show")
def profile_show(pk: ProfileId, org: OrgOption, number: VersionOption = None) -> None:
    """Show a profile version: requirements with level and weight, time, weights source."""
    version = _version(org, pk, number)
    from kamfit.domain.profiles import ACTIVITY_AREAS  # noqa: PLC0415
    from kamfit.profiles.queries import get_profile_detail, weights_source  # noqa: PLC0415

    detail = get_profile_detail(version)
    fv = version.framework_version
    out.print(
        f"[bold]{escape(version.title)}[/bold] — profile {version.profile_id}, "
        f"version {version.number} ({version.status}, ID {version.pk})"
    )
    out.print(f"Framework: {escape(fv.title)} v{fv.number}", markup=False)
    out.print(f"Role elements: {', '.join(sorted(detail.scope_keys))}", markup=False)
    if version.summary:
        out.print(escape(version.summary))
    table = Table("key", "requirement", "kind", "level", "weight", title="Requirements")
    for r in detail.included:
        level = detail.level(r.required_level)
        table.add_row(
            r.competency.key,
            escape(r.competency.name),
            r.competency.kind,
            f"{r.required_level} {level.name if level else ''}".strip(),
            f"{r.weight:.1f}%",
        )
    out.print(table)
    if detail.removed:
        removed = ", ".join(r.competency.key for r in detail.removed)
        out.print(f"Removed by hand: {removed}", markup=False)
    out.print(f"Weights: {weights_source(version)}", markup=False)
    labels = {a.key: a.label for a in ACTIVITY_AREAS}
    time = Table("activity", "share", title="Time allocation")
    for key, share in (version.time_allocation or {}).items():
        time.add_row(escape(labels.get(key, key)), f"{float(share):g}%")
    out.print(time)
    out.print(f"Selling limit: {version.selling_limit:g}%", markup=False)


@profile_app.command("job-description")
def profile_job_description(
    pk: ProfileId,
    org: OrgOption,
    number: VersionOption = None,
    fmt: Annotated[Format, typer.Option("--format", help="md, pdf or docx.")] = Format.md,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write; Markdown goes to stdout without it."),
    ] = None,
) -> None:
    """Write a profile version's job description as Markdown, PDF or Word (DOCX)."""
    if fmt is not Format.md and output is None:
        raise fail(f"--format {fmt.value}: the document is binary; write it with -o FILE", 2)
    version = _version(org, pk, number)
    from kamfit.domain.profiles import render_markdown  # noqa: PLC0415
    from kamfit.profiles import documents  # noqa: PLC0415
    from kamfit.profiles.queries import build_job_description, get_profile_detail  # noqa: PLC0415

    jd = build_job_description(get_profile_detail(version))
    if fmt is Format.md:
        data = render_markdown(jd).encode()
    elif fmt is Format.pdf:
        data = documents.render_pdf(jd)
    else:
        data = documents.render_docx(jd)
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


def _level(value: int | None) -> str:
    return "–" if value is None else str(value)


def _weight(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


@profile_app.command("compare")
def profile_compare(
    left: Annotated[str, typer.Argument(metavar="VERSION-ID", help="A profile version's ID.")],
    right: Annotated[
        str,
        typer.Argument(
            metavar="VERSION-ID|paper",
            help="Another version's ID, or paper: the paper's unweighted list for LEFT's elements.",
        ),
    ],
    org: OrgOption,
) -> None:
    """Compare two profile versions, or one with the paper's unweighted view."""
    left_version = _version_by_id(org, left, "VERSION-ID")
    other = None if right == "paper" else _version_by_id(org, right, "VERSION-ID|paper")
    from kamfit.domain.profiles import compare_profiles  # noqa: PLC0415
    from kamfit.profiles.queries import (  # noqa: PLC0415
        get_profile_detail,
        paper_lines,
        profile_lines,
    )

    left_detail = get_profile_detail(left_version)
    right_lines = (
        paper_lines(left_detail) if other is None else profile_lines(get_profile_detail(other))
    )
    right_name = "paper" if other is None else f"{other.title} v{other.number}"
    table = Table(
        "requirement",
        "kind",
        "left level",
        "left weight",
        "right level",
        "right weight",
        "difference",
        title=f"{left_version.title} v{left_version.number} against {right_name}",
    )
    for row in compare_profiles(profile_lines(left_detail), right_lines):
        table.add_row(
            escape(row.name),
            row.kind.value,
            _level(row.left_level),
            _weight(row.left_weight),
            _level(row.right_level),
            _weight(row.right_weight),
            f"{row.weight_difference:+.1f}",
        )
    out.print(table)


@profile_app.command("create")
def profile_create(
    *,
    org: OrgOption,
    username: AsOption,
    framework_version: Annotated[
        int,
        typer.Option("--framework-version", help="ID of a published framework version."),
    ],
    title: Annotated[str, typer.Option("--title", help="The position, e.g. Global KAM.")],
    elements: Annotated[
        list[str],
        typer.Option(
            "--element", metavar="KEY", help="Key of a role element in scope; repeat for each."
        ),
    ],
    summary: Annotated[str, typer.Option(help="A short description of the position.")] = "",
) -> None:
    """Create a profile and its draft version 1 from role elements of a framework version."""
    m = _member(org, username)
    from kamfit.frameworks.models import FrameworkVersion  # noqa: PLC0415
    from kamfit.orgs.access import list_frameworks  # noqa: PLC0415
    from kamfit.orgs.permissions import EDIT_PROFILE, may  # noqa: PLC0415
    from kamfit.profiles import services  # noqa: PLC0415

    if not may(m.role, EDIT_PROFILE):
        role = m.get_role_display()
        raise fail(f"--as {username}: Your role ({role}) may not create role profiles.", 2)
    fv = (
        FrameworkVersion.objects.filter(framework__in=list_frameworks(m.organisation))
        .filter(pk=framework_version)
        .first()
    )
    if fv is None:
        raise fail(f"--framework-version {framework_version}: no such framework version", 2)
    with _acting(username):
        version = services.create_profile(
            organisation=m.organisation,
            user=m.user,
            framework_version=fv,
            title=title,
            element_keys=elements,
            summary=summary,
        )
    count = version.requirements.count()
    out.print(
        f"created profile {version.profile_id}, draft v1 (ID {version.pk}) "
        f"with {count} requirements",
        markup=False,
    )


@profile_app.command("draft")
def profile_draft(pk: ProfileId, org: OrgOption, username: AsOption) -> None:
    """Start the next version of a profile as a draft (or show the open one)."""
    m = _member(org, username)
    from kamfit.orgs.access import access_profile  # noqa: PLC0415
    from kamfit.profiles import services  # noqa: PLC0415

    with _acting(username):
        draft = services.start_new_draft(access_profile(m, pk, action="edit"), m.user)
    out.print(f"profile {pk}: draft v{draft.number} (ID {draft.pk}) is open", markup=False)


@profile_app.command("publish")
def profile_publish(pk: ProfileId, org: OrgOption, username: AsOption) -> None:
    """Publish a profile's draft: from then on it never changes."""
    m = _member(org, username)
    from kamfit.orgs.access import access_profile_version  # noqa: PLC0415
    from kamfit.profiles import services  # noqa: PLC0415

    with _acting(username):
        number = _draft_number(m, pk)
        version = access_profile_version(m, pk, number, action="publish")
        services.publish_version(version, m.user)
    out.print(f"published profile {pk} v{number}", markup=False)


def _parse_set(values: list[str]) -> dict[str, tuple[str, str]]:
    changes: dict[str, tuple[str, str]] = {}
    for value in values:
        key, equals, rest = value.partition("=")
        level, colon, weight = rest.partition(":")
        if not (key.strip() and equals and colon):
            raise fail(f"--set {value!r}: write KEY=LEVEL:WEIGHT, e.g. negotiation=4:25", 2)
        changes[key.strip()] = (level.strip(), weight.strip())
    return changes


@profile_app.command("weights")
def profile_weights(
    pk: ProfileId,
    org: OrgOption,
    username: AsOption,
    changes: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=LEVEL:WEIGHT",
            help="Required level and weight (percent) of a requirement; repeat. The others "
            "keep theirs, and all weights must sum to 100.",
        ),
    ] = None,
    equal: Annotated[
        bool, typer.Option("--equal", help="Give every requirement the same weight.")
    ] = False,
) -> None:
    """Set the draft's required levels and weights, or make the weights equal."""
    if bool(changes) == equal:
        raise fail("give either --set KEY=LEVEL:WEIGHT (one or more) or --equal", 2)
    parsed = _parse_set(changes or [])
    m = _member(org, username)
    from kamfit.orgs.access import access_profile_version  # noqa: PLC0415
    from kamfit.profiles import services  # noqa: PLC0415
    from kamfit.profiles.models import Requirement  # noqa: PLC0415

    with _acting(username):
        version = access_profile_version(m, pk, _draft_number(m, pk), action="edit")
        if equal:
            services.equalise_weights(version)
        else:
            current: dict[str, tuple[object, object]] = {
                r.competency.key: (r.required_level, r.weight)
                for r in Requirement.objects.filter(version=version, included=True).select_related(
                    "competency"
                )
            }
            services.update_requirements(version, {**current, **parsed})
    out.print(f"saved the weights of profile {pk} v{version.number}", markup=False)


# --- Weighting exercises -----------------------------------------------------------------------


@exercise_app.command("list")
def exercise_list(org: OrgOption) -> None:
    """List an organisation's weighting exercises, newest first, with their answer counts."""
    organisation = _organisation(org)
    from django.db.models import Count, Q  # noqa: PLC0415

    from kamfit.orgs.access import list_exercises  # noqa: PLC0415
    from kamfit.profiles.models import ParticipantStatus  # noqa: PLC0415

    submitted = Q(participants__status=ParticipantStatus.SUBMITTED)
    exercises = (
        list_exercises(organisation)
        .select_related("profile_version__profile", "adopted_into")
        .annotate(invited=Count("participants"), submitted=Count("participants", filter=submitted))
    )
    table = Table("id", "title", "profile", "method", "status", "submitted", "adopted into")
    for e in exercises:
        v = e.profile_version
        table.add_row(
            str(e.pk),
            escape(e.title),
            escape(f"{v.profile.title} v{v.number}"),
            e.method,
            e.status,
            f"{e.submitted} of {e.invited}",
            f"v{e.adopted_into.number}" if e.adopted_into else "",
        )
    out.print(table)


def _print_results(r: ExerciseResults) -> None:
    from kamfit.domain.weighting import CR_THRESHOLD  # noqa: PLC0415

    e = r.exercise
    out.print(f"[bold]{escape(e.title)}[/bold] ({escape(e.get_method_display())}, {e.status})")
    out.print(f"{len(r.submitted)} of {len(r.participants)} participants submitted.")
    outcome = r.outcome
    if outcome is None:
        out.print("No submitted weights yet.")
        return
    names = [p.user.get_username() for p in r.submitted]
    table = Table("requirement", "consensus", "spread", *(escape(n) for n in names))
    for i, item in enumerate(e.items):
        table.add_row(
            escape(item["name"]),
            f"{outcome.consensus[i] * 100:.1f}%",
            f"{outcome.spread[i] * 100:.1f}",
            *(f"{row[i] * 100:.1f}%" for row in outcome.individual),
        )
    out.print(table)
    widest = ", ".join(e.items[i]["name"] for i in outcome.split_order[:3])
    out.print(f"Most disagreement: {escape(widest)}")
    a = outcome.agreement
    if a is None:
        out.print("Kendall's W: not defined (fewer than 2 respondents or items, or all tied).")
    else:
        out.print(
            f"Kendall's W = {a.w:.3f} (chi2 = {a.chi2:.2f}, df = {a.df}, p = {a.p_value:.4f}, "
            f"{a.raters} respondents, {a.items} items)",
            markup=False,
        )
    for n, (name, cr) in enumerate(zip(names, outcome.consistency, strict=True)):
        if cr is None:
            continue
        flag = f"inconsistent (above {CR_THRESHOLD:.2f})" if n in outcome.inconsistent else "ok"
        out.print(f"CR {escape(name)}: {cr:.3f} {flag}")


@exercise_app.command("results")
def exercise_results(exercise_id: ExerciseId, org: OrgOption) -> None:
    """Print an exercise's weights: consensus, spread, each respondent, Kendall's W, AHP CR."""
    exercise = _exercise(org, exercise_id)
    from kamfit.profiles.queries import get_exercise_results  # noqa: PLC0415

    _print_results(get_exercise_results(exercise))


@exercise_app.command("adopt")
def exercise_adopt(exercise_id: ExerciseId, org: OrgOption, username: AsOption) -> None:
    """Write an exercise's consensus weights into its profile's draft and close it."""
    m = _member(org, username)
    from kamfit.orgs.access import access_exercise, access_profile  # noqa: PLC0415
    from kamfit.profiles import services  # noqa: PLC0415

    with _acting(username):
        exercise = access_exercise(m, exercise_id)
        access_profile(m, exercise.profile_version.profile_id, action="edit")
        draft = services.adopt_consensus(exercise, m.user)
    out.print(
        f"adopted the consensus of exercise {exercise_id} into profile {draft.profile_id} "
        f"draft v{draft.number}",
        markup=False,
    )
