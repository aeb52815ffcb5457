"""Changes to people, assessment cycles, rating forms and psychometric results.

Every write goes through here. Views, the API and the CLI call these functions with
objects obtained through :mod:`kamfit.orgs.access`; bad input raises
:class:`~kamfit.domain.errors.ValidationError` naming the field (and, for imports,
the row), an action the state forbids raises :class:`~kamfit.domain.errors.NotPermitted`.
A batch (an import, a form) is validated whole and written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from kamfit.assessments.models import (
    Assessee,
    Background,
    Cycle,
    CycleStatus,
    FormStatus,
    KeyAccount,
    Person,
    PersonKind,
    PsychometricResult,
    PsychometricScale,
    QuickCheck,
    Rater,
    Rating,
    RatingForm,
    Source,
)
from kamfit.auditlog.services import record as audit
from kamfit.domain import development, scoring
from kamfit.domain.errors import NotPermitted, Problem, StaleVersion, ValidationError
from kamfit.frameworks.models import Competency
from kamfit.frameworks.queries import get_scale
from kamfit.orgs.models import Membership, Organisation
from kamfit.profiles.models import Profile, ProfileStatus, ProfileVersion, Requirement

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "MAX_ACCOUNTS",
    "MAX_EVIDENCE",
    "ImportedRating",
    "PersonInput",
    "PsychometricInput",
    "RatingInput",
    "add_people",
    "add_rater",
    "amend_form",
    "close_cycle",
    "create_cycle",
    "current_input",
    "draft_form",
    "import_ratings",
    "open_cycle",
    "record_quick_check",
    "release_results",
    "remove_assessee",
    "remove_rater",
    "save_form",
    "save_psychometrics",
    "update_cycle",
    "upsert_people",
]

MAX_ACCOUNTS = 50
MAX_EVIDENCE = 4000
MAX_TITLE = 200
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BATCH = 2000  # rows per bulk insert: few round trips, bounded memory and SQL size
_IDS = 500  # ids per ``pk__in`` list, well under every database's parameter limit

_SOURCES = frozenset(Source.values)  # Source.values builds a new list at every call

Progress = Callable[[int, int], None]
"""Told (rows written, rows in all) after each batch an import writes."""


def _insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert plain rows with one prepared statement run for each (``executemany``).

    ``bulk_create`` builds a model instance and compiles SQL for every row: for the
    100,000 ratings of a large import that was most of the time (12 of 17 seconds,
    profiled). Only for rows whose values are already in the database's form, in
    tables whose fields compute nothing on save; triggers and constraints still apply.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(c).column) for c in columns)  # type: ignore[union-attr, arg-type]
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(sql, rows[start : start + _BATCH])


def _update(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Update rows by primary key (the last value of each), one statement per row, in bulk.

    ``bulk_update`` builds a ``CASE`` per field over the whole batch: for 10,000 people
    that took half a minute. Values must be in the database's form, as for
    :func:`_insert`.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = ", ".join(f"{quote(model._meta.get_field(c).column)} = %s" for c in columns)  # type: ignore[union-attr, arg-type]
    sql = f"UPDATE {table} SET {fields} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            cursor.executemany(sql, rows[start : start + _BATCH])


def _where(prefix: str, name: str) -> str:
    return f"{prefix}, column {name}" if prefix else name


def _invalid(location: str, message: str) -> ValidationError:
    return ValidationError([Problem(location, message)])


# --- people -------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonInput:
    """One person as a form, the API or an import row gives it (plain text fields)."""

    reference: str
    name: str
    email: str = ""
    kind: str = PersonKind.KAM
    job_title: str = ""
    unit: str = ""
    manager: str = ""  # the manager's reference
    background: str = Background.UNKNOWN
    background_note: str = ""
    profile: str = ""  # the role profile's key
    username: str = ""  # the member account that sees this person's released results
    accounts: tuple[str, ...] | None = None  # None: leave the key accounts as they are
    active: bool = True


def current_input(person: Person) -> PersonInput:
    """What a person is today, as this module takes it (key accounts left as they are)."""
    return PersonInput(
        reference=person.reference,
        name=person.name,
        email=person.email,
        kind=person.kind,
        job_title=person.job_title,
        unit=person.unit,
        manager=person.manager.reference if person.manager else "",
        background=person.background,
        background_note=person.background_note,
        profile=person.profile.key if person.profile else "",
        username=person.user.get_username() if person.user else "",
        active=person.active,
    )


@dataclass
class _PeopleContext:
    existing: dict[str, Person]
    profiles: dict[str, Profile]
    members: dict[str, int]
    taken_users: dict[int, str]


def _people_context(org: Organisation, rows: Sequence[PersonInput]) -> _PeopleContext:
    existing = {
        p.reference: p for p in Person.objects.filter(organisation=org).select_related("manager")
    }
    profiles = {p.key: p for p in Profile.objects.filter(organisation=org)}
    usernames = {r.username.strip() for r in rows if r.username.strip()}
    members = dict(
        Membership.objects.filter(organisation=org, user__username__in=usernames).values_list(
            "user__username", "user_id"
        )
    )
    taken = {p.user_id: p.reference for p in existing.values() if p.user_id is not None}
    return _PeopleContext(existing, profiles, members, taken)


def _check_person(  # noqa: PLR0912 - one check per field, each with its own message
    row: PersonInput, prefix: str, ctx: _PeopleContext, references: set[str]
) -> list[Problem]:
    problems: list[Problem] = []

    def bad(name: str, message: str) -> None:
        problems.append(Problem(_where(prefix, name), message))

    if not _REFERENCE.match(row.reference):
        bad("reference", "use 1–64 letters, digits, - or _ (e.g. an employee number)")
    if not row.name.strip():
        bad("name", "a name is required")
    elif len(row.name) > MAX_TITLE:
        bad("name", f"longer than {MAX_TITLE} characters")
    if row.email and ("@" not in row.email or len(row.email) > 254 or " " in row.email.strip()):
        bad("email", f"{row.email!r} is not an e-mail address")
    if row.kind not in PersonKind.values:
        bad("kind", f"unknown kind {row.kind!r}: use {' or '.join(PersonKind.values)}")
    if row.background not in Background.values:
        bad("background", f"unknown background {row.background!r}: use sales, other or unknown")
    for name, value in (("job_title", row.job_title), ("unit", row.unit)):
        if len(value) > MAX_TITLE:
            bad(name, f"longer than {MAX_TITLE} characters")
    if len(row.background_note) > 300:
        bad("background_note", "longer than 300 characters")
    if row.manager:
        if row.manager == row.reference:
            bad("manager", "a person cannot be their own manager")
        elif row.manager not in references and row.manager not in ctx.existing:
            bad("manager", f"no person with reference {row.manager!r}")
    if row.profile and row.profile not in ctx.profiles:
        bad("profile", f"no role profile with key {row.profile!r}")
    if row.username:
        user_id = ctx.members.get(row.username)
        if user_id is None:
            bad("username", f"{row.username!r} is not a member of this organisation")
        elif ctx.taken_users.get(user_id, row.reference) != row.reference:
            bad("username", f"{row.username!r} is already linked to another person")
    if row.accounts is not None:
        if len(row.accounts) > MAX_ACCOUNTS:
            bad("accounts", f"more than {MAX_ACCOUNTS} key accounts")
        if any(len(a) > MAX_TITLE for a in row.accounts):
            bad("accounts", f"an account name is longer than {MAX_TITLE} characters")
    return problems


def _manager_loops(rows: Sequence[PersonInput], ctx: _PeopleContext) -> str | None:
    manager_of = {
        ref: (p.manager.reference if p.manager else "") for ref, p in ctx.existing.items()
    }
    manager_of.update({r.reference: r.manager for r in rows})
    for start in manager_of:
        seen = {start}
        current = manager_of.get(start, "")
        while current:
            if current in seen:
                return start
            seen.add(current)
            current = manager_of.get(current, "")
    return None


def upsert_people(
    org: Organisation,
    actor: User | None,
    rows: Sequence[PersonInput],
    *,
    where: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Create or update people by reference, all or nothing; return (created, updated).

    ``where`` names each row for messages ("row 3"); without it problems name the
    field alone. Managers may refer to people of the same batch. ``progress`` hears
    of each batch written.
    """
    rows = [
        PersonInput(
            **{
                **r.__dict__,
                "reference": r.reference.strip(),
                "name": r.name.strip(),
                "email": r.email.strip(),
                "manager": r.manager.strip(),
                "profile": r.profile.strip(),
                "username": r.username.strip(),
                "accounts": None
                if r.accounts is None
                else tuple(dict.fromkeys(a.strip() for a in r.accounts if a.strip())),
            }
        )
        for r in rows
    ]
    labels = list(where) if where is not None else [""] * len(rows)
    ctx = _people_context(org, rows)
    references = {r.reference for r in rows}
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    linked: dict[str, str] = {}
    for row, label in zip(rows, labels, strict=True):
        problems += _check_person(row, label, ctx, references)
        if row.reference in seen:
            first = seen[row.reference] or "an earlier row"
            problems.append(
                Problem(_where(label, "reference"), f"{row.reference!r} also appears in {first}")
            )
        seen.setdefault(row.reference, label)
        if row.username and row.username in linked:
            first = linked[row.username] or "an earlier row"
            problems.append(
                Problem(_where(label, "username"), f"{row.username!r} is also linked in {first}")
            )
        if row.username:
            linked.setdefault(row.username, label)
    loop = None if problems else _manager_loops(rows, ctx)
    if loop is not None:
        problems.append(Problem(_where("", "manager"), f"managers form a loop through {loop!r}"))
    if problems:
        raise ValidationError(problems)
    created = sum(1 for r in rows if r.reference not in ctx.existing)
    deactivated = sum(
        1
        for r in rows
        if not r.active and r.reference in ctx.existing and ctx.existing[r.reference].active
    )
    with transaction.atomic():
        people = _write_people(org, rows, ctx, progress)
        _set_accounts(
            org.pk, [(people[r.reference].pk, r.accounts) for r in rows if r.accounts is not None]
        )
        audit(
            "people.saved",
            actor=actor,
            organisation=org,
            target=people[rows[0].reference] if len(rows) == 1 else None,
            data={"created": created, "updated": len(rows) - created, "deactivated": deactivated},
        )
    return created, len(rows) - created


_PERSON_FIELDS = (
    "name",
    "email",
    "kind",
    "job_title",
    "unit",
    "background",
    "background_note",
    "profile_id",
    "user_id",
    "active",
)


def _inactive_since(
    since: dt.datetime | None, active: bool, now: dt.datetime
) -> dt.datetime | None:
    """Keep the day a person became inactive: retention counts from it (kamfit.privacy)."""
    if active:
        return None
    return since or now


def _write_people(
    org: Organisation, rows: Sequence[PersonInput], ctx: _PeopleContext, progress: Progress | None
) -> dict[str, Person]:
    """Insert the new people (managers first) and update the changed ones, in bulk."""
    now = timezone.now()
    people: dict[str, Person] = {}
    new: list[Person] = []
    changed: dict[int, Person] = {}
    for row in rows:
        profile = ctx.profiles.get(row.profile) if row.profile else None
        values = (
            row.name,
            row.email,
            row.kind,
            row.job_title,
            row.unit,
            row.background,
            row.background_note,
            profile.pk if profile else None,
            ctx.members.get(row.username) if row.username else None,
            row.active,
        )
        person = ctx.existing.get(row.reference)
        if person is None:
            person = Person(organisation=org, reference=row.reference)
            new.append(person)
        elif tuple(getattr(person, name) for name in _PERSON_FIELDS) != values:
            changed[person.pk] = person
        for name, value in zip(_PERSON_FIELDS, values, strict=True):
            setattr(person, name, value)
        person.inactive_since = _inactive_since(person.inactive_since, row.active, now)
        people[row.reference] = person
    everyone = {**ctx.existing, **people}
    manager_of = {row.reference: row.manager for row in rows}
    written = 0
    for level in _by_depth(new, manager_of):
        for person in level:  # every manager of this level is written already
            manager = manager_of[person.reference]
            person.manager_id = everyone[manager].pk if manager else None
        for start in range(0, len(level), _BATCH):
            Person.objects.bulk_create(level[start : start + _BATCH])
            written += len(level[start : start + _BATCH])
            if progress is not None:
                progress(written, len(rows))
    for reference, person in people.items():
        if reference in ctx.existing:
            manager = manager_of[reference]
            manager_id = everyone[manager].pk if manager else None
            if person.manager_id != manager_id:
                person.manager_id = manager_id
                changed[person.pk] = person
    columns = [*_PERSON_FIELDS, "manager_id", "inactive_since", "updated_at"]
    stamp = connection.ops.adapt_datetimefield_value(now)
    since = connection.ops.adapt_datetimefield_value
    _update(
        Person,
        columns,
        [
            (*(getattr(p, c) for c in columns[:-2]), since(p.inactive_since), stamp, p.pk)
            for p in changed.values()
        ],
    )
    if progress is not None:
        progress(len(rows), len(rows))
    return people


def _by_depth(new: Sequence[Person], manager_of: Mapping[str, str]) -> list[list[Person]]:
    """New people in levels: those managed by nobody new first, then their reports, ..."""
    depth: dict[str, int] = {}
    fresh = {p.reference for p in new}
    for person in new:
        chain = []
        current = person.reference
        while current in fresh and current not in depth:  # no loops: checked before
            chain.append(current)
            current = manager_of.get(current, "")
        base = depth.get(current, -1) if current in fresh else -1
        for offset, reference in enumerate(reversed(chain), start=1):
            depth[reference] = base + offset
    levels: list[list[Person]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for person in new:
        levels[depth[person.reference]].append(person)
    return levels


def _set_accounts(org_id: int, wanted: Sequence[tuple[int, tuple[str, ...]]]) -> None:
    """Give each person exactly these key accounts, in this order, in bulk."""
    have: dict[int, dict[str, KeyAccount]] = defaultdict(dict)
    for ids in _chunks([person_id for person_id, _ in wanted]):
        for account in KeyAccount.objects.filter(person_id__in=ids):
            have[account.person_id][account.name] = account
    gone: list[int] = []
    added: list[tuple[int, int, str, int]] = []
    moved: list[KeyAccount] = []
    for person_id, names in wanted:
        current = have.get(person_id, {})
        gone += [a.pk for name, a in current.items() if name not in names]
        for i, name in enumerate(names):
            found = current.get(name)
            if found is None:
                added.append((org_id, person_id, name, i))
            elif found.position != i:
                found.position = i
                moved.append(found)
    for ids in _chunks(gone):
        KeyAccount.objects.filter(pk__in=ids).delete()
    KeyAccount.objects.bulk_update(moved, ["position"], batch_size=_IDS)
    _insert(KeyAccount, ("organisation", "person", "name", "position"), added)


# --- cycles -------------------------------------------------------------------------


def _check_rules(rules: Mapping[str, object] | None) -> dict[str, object]:
    if not rules:
        return scoring.rules_to_dict(scoring.DEFAULT_RULES)
    return scoring.rules_to_dict(scoring.rules_from_dict(rules))


def _clean_title(title: str, location: str = "title") -> str:
    title = title.strip()
    if not title:
        raise _invalid(location, "a title is required")
    if len(title) > MAX_TITLE:
        raise _invalid(location, f"longer than {MAX_TITLE} characters")
    return title


def create_cycle(
    org: Organisation,
    actor: User | None,
    *,
    title: str,
    profile_version: ProfileVersion,
    rules: Mapping[str, object] | None = None,
    due_on: dt.date | None = None,
    note: str = "",
) -> Cycle:
    """Start preparing an assessment cycle against a published profile version."""
    if profile_version.profile.organisation_id != org.pk:
        raise _invalid("profile_version", "no such role profile version")
    if profile_version.status != ProfileStatus.PUBLISHED:
        raise _invalid("profile_version", "assess against a published version: drafts still change")
    with transaction.atomic():
        cycle = Cycle.objects.create(
            organisation=org,
            title=_clean_title(title),
            profile_version=profile_version,
            rules=_check_rules(rules),
            due_on=due_on,
            note=note.strip()[:2000],
            created_by=actor,
        )
        audit("cycle.created", actor=actor, organisation=org, target=cycle)
    return cycle


def update_cycle(
    cycle: Cycle,
    *,
    title: str | None = None,
    rules: Mapping[str, object] | None = None,
    due_on: dt.date | None = None,
    note: str | None = None,
) -> Cycle:
    """Change a cycle's title, scoring rules, due date or note (not once closed)."""
    if cycle.status == CycleStatus.CLOSED:
        raise NotPermitted("A closed cycle no longer changes.")
    if title is not None:
        cycle.title = _clean_title(title)
    if rules is not None:
        cycle.rules = _check_rules(rules)
    if due_on is not None:
        cycle.due_on = due_on
    if note is not None:
        cycle.note = note.strip()[:2000]
    cycle.save()
    return cycle


def _member_ids(org: Organisation, user_ids: set[int]) -> set[int]:
    return set(
        Membership.objects.filter(organisation=org, user_id__in=user_ids).values_list(
            "user_id", flat=True
        )
    )


def add_people(cycle: Cycle, actor: User | None, people: Sequence[Person]) -> list[Assessee]:
    """Add people to a cycle, each with a self rater and their line manager, if known."""
    if cycle.status == CycleStatus.CLOSED:
        raise NotPermitted("A closed cycle takes no more people.")
    if any(p.organisation_id != cycle.organisation_id for p in people):
        raise _invalid("people", "no such person")
    already = set(cycle.assessees.values_list("person_id", flat=True))
    new = list({p.pk: p for p in people if p.pk not in already}.values())
    managers = {
        p.pk: p.user_id
        for p in Person.objects.filter(pk__in=[p.manager_id for p in new if p.manager_id])
    }
    members = _member_ids(
        cycle.organisation,
        {p.user_id for p in new if p.user_id} | {u for u in managers.values() if u},
    )
    with transaction.atomic():
        added = Assessee.objects.bulk_create(Assessee(cycle=cycle, person=p) for p in new)
        added = list(Assessee.objects.filter(cycle=cycle, person__in=new))
        by_person = {a.person_id: a for a in added}
        raters: list[Rater] = []
        for person in new:
            assessee = by_person[person.pk]
            if person.user_id in members:
                raters.append(Rater(assessee=assessee, user_id=person.user_id, source=Source.SELF))
            manager_user = managers.get(person.manager_id or 0)
            if manager_user in members and manager_user != person.user_id:
                raters.append(
                    Rater(
                        assessee=assessee,
                        user_id=manager_user,
                        source=Source.MANAGER,
                        invited_by=actor,
                    )
                )
        Rater.objects.bulk_create(raters)
    return added


def remove_assessee(assessee: Assessee) -> None:
    """Take a person out of a cycle, unless someone has already submitted a form."""
    if assessee.cycle.status == CycleStatus.CLOSED:
        raise NotPermitted("A closed cycle no longer changes.")
    if RatingForm.objects.filter(rater__assessee=assessee, status=FormStatus.SUBMITTED).exists():
        raise NotPermitted("Submitted ratings exist for this person: they stay on record.")
    with transaction.atomic():
        RatingForm.objects.filter(rater__assessee=assessee).delete()
        assessee.delete()


def add_rater(assessee: Assessee, actor: User | None, *, username: str, source: str) -> Rater:
    """Ask a member of the organisation to rate an assessee as ``source``."""
    cycle = assessee.cycle
    if cycle.status == CycleStatus.CLOSED:
        raise NotPermitted("A closed cycle takes no more raters.")
    if source not in Source.values:
        raise _invalid("source", f"unknown source {source!r}: use {', '.join(Source.values)}")
    user = (
        get_user_model()
        .objects.filter(memberships__organisation=cycle.organisation, username=username.strip())
        .first()
    )
    if user is None:
        raise _invalid("username", f"{username!r} is not a member of this organisation")
    is_self = assessee.person.user_id == user.pk
    if is_self != (source == Source.SELF):
        message = (
            "only the person themself rates as self"
            if source == Source.SELF
            else "the person's own account rates as self"
        )
        raise _invalid("source", message)
    if Rater.objects.filter(assessee=assessee, user=user).exists():
        raise _invalid("username", f"{username} already rates this person")
    return Rater.objects.create(assessee=assessee, user=user, source=source, invited_by=actor)


def remove_rater(rater: Rater) -> None:
    """Withdraw a rater who has not submitted a form."""
    if rater.assessee.cycle.status == CycleStatus.CLOSED:
        raise NotPermitted("A closed cycle no longer changes.")
    if rater.forms.filter(status=FormStatus.SUBMITTED).exists():
        raise NotPermitted("This rater has submitted: their ratings stay on record.")
    with transaction.atomic():
        rater.forms.all().delete()
        rater.delete()


def open_cycle(cycle: Cycle) -> Cycle:
    """Open a prepared cycle for ratings."""
    if cycle.status != CycleStatus.DRAFT:
        raise NotPermitted("Only a cycle being prepared can be opened.")
    if not cycle.assessees.exists():
        raise _invalid("people", "add the people to assess first")
    cycle.status = CycleStatus.OPEN
    cycle.opened_at = timezone.now()
    with transaction.atomic():
        cycle.save(update_fields=["status", "opened_at"])
        audit("cycle.opened", organisation_id=cycle.organisation_id, target=cycle)
    return cycle


def close_cycle(cycle: Cycle) -> Cycle:
    """Close an open cycle: no more forms; drafts left unsubmitted do not count."""
    if cycle.status != CycleStatus.OPEN:
        raise NotPermitted("Only an open cycle can be closed.")
    cycle.status = CycleStatus.CLOSED
    cycle.closed_at = timezone.now()
    with transaction.atomic():
        cycle.save(update_fields=["status", "closed_at"])
        audit("cycle.closed", organisation_id=cycle.organisation_id, target=cycle)
    return cycle


def release_results(cycle: Cycle, actor: User | None, assessees: Sequence[Assessee]) -> int:
    """Release results to the assessed people (and their managers); return how many."""
    if cycle.status == CycleStatus.DRAFT:
        raise NotPermitted("Nothing to release before the cycle opens.")
    ids = [a.pk for a in assessees if a.cycle_id == cycle.pk]
    with transaction.atomic():
        released = Assessee.objects.filter(
            cycle=cycle, pk__in=ids, released_at__isnull=True
        ).update(released_at=timezone.now(), released_by=actor)
        if released:
            audit(
                "results.released",
                actor=actor,
                organisation_id=cycle.organisation_id,
                target=cycle,
                data={"released": released},
            )
    return released


# --- rating forms -------------------------------------------------------------------


@dataclass(frozen=True)
class RatingInput:
    """One answer of a form: a level (None: cannot judge) and its evidence."""

    level: int | None
    evidence: str = ""


def _requirements(version: ProfileVersion) -> list[Requirement]:
    return list(
        Requirement.objects.filter(version=version, included=True)
        .select_related("competency")
        .order_by("position", "id")
    )


def _latest_form(rater: Rater) -> RatingForm | None:
    return rater.forms.order_by("-number").first()


def draft_form(rater: Rater, actor: User | None) -> RatingForm:
    """Return the rater's draft form, starting version 1 if there is none yet."""
    latest = _latest_form(rater)
    if latest is not None and latest.status == FormStatus.DRAFT:
        return latest
    if latest is not None:
        raise NotPermitted("This form is submitted and final: amend it to make a change.")
    if rater.assessee.cycle.status != CycleStatus.OPEN:
        raise NotPermitted("The cycle is not open for ratings.")
    return RatingForm.objects.create(rater=rater, number=1, created_by=actor)


def amend_form(rater: Rater, actor: User | None, *, reason: str) -> RatingForm:
    """Start form n + 1 from the last submitted one; the old version stays unchanged."""
    reason = reason.strip()
    if not reason:
        raise _invalid("reason", "say why the submitted ratings need amending")
    if len(reason) > 500:
        raise _invalid("reason", "longer than 500 characters")
    latest = _latest_form(rater)
    if latest is None or latest.status != FormStatus.SUBMITTED:
        raise NotPermitted("Only a submitted form can be amended.")
    if rater.assessee.cycle.status == CycleStatus.CLOSED:
        raise NotPermitted("The cycle is closed.")
    with transaction.atomic():
        form = RatingForm.objects.create(
            rater=rater, number=latest.number + 1, reason=reason, created_by=actor
        )
        Rating.objects.bulk_create(
            Rating(form=form, competency_id=r.competency_id, level=r.level, evidence=r.evidence)
            for r in latest.ratings.all()
        )
        audit(  # the reason is free text: it stays on the form, never in the log
            "form.amended",
            actor=actor,
            organisation_id=rater.assessee.cycle.organisation_id,
            target=form,
            data={"rater_id": rater.pk, "number": form.number, "amends_id": latest.pk},
        )
    return form


def _check_answers(
    answers: Mapping[str, RatingInput],
    requirements: Sequence[Requirement],
    levels: int,
    *,
    submit: bool,
) -> list[Problem]:
    keys = {r.competency.key for r in requirements}
    problems = [
        Problem(key, "not a requirement of this profile") for key in answers if key not in keys
    ]
    for key, answer in answers.items():
        if key not in keys:
            continue
        if answer.level is not None and not 1 <= answer.level <= levels:
            problems.append(Problem(f"{key}.level", f"must be a level from 1 to {levels}"))
        if len(answer.evidence) > MAX_EVIDENCE:
            problems.append(Problem(f"{key}.evidence", f"longer than {MAX_EVIDENCE} characters"))
        if submit and answer.level is not None and not answer.evidence.strip():
            problems.append(
                Problem(f"{key}.evidence", "give the evidence or behaviour behind this rating")
            )
    if submit and not any(a.level is not None for a in answers.values()):
        problems.append(Problem("ratings", "rate at least one requirement before submitting"))
    return problems


def save_form(
    form: RatingForm,
    actor: User | None,
    answers: Mapping[str, RatingInput],
    *,
    submit: bool = False,
) -> RatingForm:
    """Save a draft form's answers (by competency key); ``submit`` makes it final.

    The whole form is replaced by ``answers``: a requirement left out is unanswered.
    Submitting checks that every rating has its evidence.
    """
    if form.status != FormStatus.DRAFT:
        raise NotPermitted("This form is submitted and final: amend it to make a change.")
    cycle = form.rater.assessee.cycle
    if cycle.status != CycleStatus.OPEN:
        raise NotPermitted("The cycle is not open for ratings.")
    version = cycle.profile_version
    requirements = _requirements(version)
    levels = len(get_scale(version.framework_version))
    problems = _check_answers(answers, requirements, levels, submit=submit)
    if problems:
        raise ValidationError(problems)
    by_key = {r.competency.key: r.competency_id for r in requirements}
    with transaction.atomic():
        # Re-read under a lock: ``form`` may be a stale copy of one submitted meanwhile
        # (a second tab, a double click), which must be refused, not hit the trigger.
        locked = RatingForm.objects.select_for_update().filter(pk=form.pk)
        if locked.values_list("status", flat=True).first() != FormStatus.DRAFT:
            raise NotPermitted("This form is submitted and final: amend it to make a change.")
        form.ratings.all().delete()
        Rating.objects.bulk_create(
            Rating(form=form, competency_id=by_key[key], level=a.level, evidence=a.evidence.strip())
            for key, a in answers.items()
            if a.level is not None or a.evidence.strip()
        )
        form.revision += 1
        fields = ["revision"]
        if submit:
            form.status = FormStatus.SUBMITTED
            form.submitted_at = timezone.now()
            form.submitted_by = actor
            fields += ["status", "submitted_at", "submitted_by"]
        form.save(update_fields=fields)
        if submit:
            audit(
                "form.submitted",
                actor=actor,
                organisation_id=cycle.organisation_id,
                target=form,
                data={"rater_id": form.rater_id, "number": form.number},
            )
    return form


def form_tag(form: RatingForm | None) -> str:
    """The version tag of a rater's latest form: its number and saves ("0.0": none yet).

    The API sends it as the form's ETag; a save naming an older tag is refused.
    """
    return f"{form.number}.{form.revision}" if form is not None else "0.0"


def save_answers(
    rater: Rater,
    actor: User | None,
    answers: Mapping[str, RatingInput] | None,
    *,
    submit: bool = False,
    expected_tag: str | None = None,
) -> RatingForm:
    """Save (and maybe submit) the rater's answers, starting the draft if needed.

    ``answers=None`` keeps the draft's answers (to submit them as they are). With
    ``expected_tag`` the save is refused with ``StaleVersion`` unless the latest form
    is still the one the caller read: of two people saving the same form, one wins
    and the other is told, rather than silently overwritten. Saves of one rater's
    form are serialised by a lock on the rater, so concurrent first saves start one
    draft, not two.
    """
    with transaction.atomic():
        list(Rater.objects.select_for_update().filter(pk=rater.pk).values_list("pk", flat=True))
        latest = _latest_form(rater)
        if expected_tag is not None and form_tag(latest) != expected_tag:
            raise StaleVersion(
                "This form was changed since you opened it (another tab or device?): "
                "reload it to see the saved answers, then make your change again."
            )
        form = draft_form(rater, actor)
        if answers is None:
            answers = {
                r.competency.key: RatingInput(r.level, r.evidence)
                for r in form.ratings.select_related("competency")
            }
        return save_form(form, actor, answers, submit=submit)


@dataclass(frozen=True)
class ImportedRating:
    """One row of a ratings import: who rated whom on what."""

    person: str  # reference
    rater: str  # username
    source: str
    competency: str  # key
    level: int | None
    evidence: str = ""


@dataclass
class _RatingContext:
    assessees: dict[str, Assessee]
    users: dict[str, User]
    requirements: dict[str, Requirement]
    levels: int
    raters: dict[tuple[int, int], Rater]


def _check_rating_row(
    row: ImportedRating, label: str, ctx: _RatingContext
) -> tuple[list[Problem], tuple[int, int] | None]:
    problems: list[Problem] = []

    def bad(name: str, message: str) -> None:
        problems.append(Problem(_where(label, name), message))

    assessee = ctx.assessees.get(row.person.strip())
    user = ctx.users.get(row.rater.strip())
    if assessee is None:
        bad("person", f"{row.person!r} is not assessed in this cycle")
    if user is None:
        bad("rater", f"{row.rater!r} is not a member of this organisation")
    if row.source not in _SOURCES:
        bad("source", f"unknown source {row.source!r}: use {', '.join(Source.values)}")
    if row.competency not in ctx.requirements:
        bad("competency", f"{row.competency!r} is not a requirement of this profile")
    if row.level is not None and not 1 <= row.level <= ctx.levels:
        bad("level", f"must be a level from 1 to {ctx.levels}")
    if row.level is not None and not row.evidence.strip():
        bad("evidence", "give the evidence behind this rating")
    if len(row.evidence) > MAX_EVIDENCE:
        bad("evidence", f"longer than {MAX_EVIDENCE} characters")
    if problems or assessee is None or user is None:
        return problems, None
    existing = ctx.raters.get((assessee.pk, user.pk))
    if existing is not None and existing.source != row.source:
        bad("source", f"{user.username} rates this person as {existing.source}")
    elif (assessee.person.user_id == user.pk) != (row.source == Source.SELF):
        bad("source", "self ratings come from the person's own account only")
    return problems, (assessee.pk, user.pk)


def import_ratings(
    cycle: Cycle,
    actor: User | None,
    rows: Sequence[ImportedRating],
    *,
    where: Sequence[str] | None = None,
    reason: str = "Imported",
    progress: Progress | None = None,
) -> int:
    """Store ratings collected outside kamfit as submitted forms; return forms written.

    Rows are grouped by (person, rater) into one form each. A rater not yet assigned
    is added with the row's source; one who already submitted gets an amendment
    (form n + 1) carrying ``reason``. All or nothing, in bulk: a fixed number of
    queries per batch of rows, none per row. ``progress`` hears of each batch written.
    """
    if cycle.status != CycleStatus.OPEN:
        raise NotPermitted("Ratings can be imported while the cycle is open.")
    labels = list(where) if where is not None else [f"rating {i + 1}" for i in range(len(rows))]
    ctx = _RatingContext(
        assessees={a.person.reference: a for a in cycle.assessees.select_related("person")},
        users={
            u.username: u
            for u in get_user_model().objects.filter(
                memberships__organisation=cycle.organisation,
                username__in={r.rater.strip() for r in rows},
            )
        },
        requirements={r.competency.key: r for r in _requirements(cycle.profile_version)},
        levels=len(get_scale(cycle.profile_version.framework_version)),
        raters={(r.assessee_id, r.user_id): r for r in Rater.objects.filter(assessee__cycle=cycle)},
    )
    problems: list[Problem] = []
    grouped: dict[tuple[int, int], dict[str, RatingInput]] = {}
    sources: dict[tuple[int, int], str] = {}
    for row, label in zip(rows, labels, strict=True):
        found, pair = _check_rating_row(row, label, ctx)
        problems += found
        if pair is None or found:
            continue
        if row.competency in grouped.setdefault(pair, {}):
            problems.append(
                Problem(_where(label, "competency"), "rated twice by the same rater for one person")
            )
            continue
        if sources.setdefault(pair, row.source) != row.source:
            problems.append(
                Problem(_where(label, "source"), f"this rater's other rows say {sources[pair]}")
            )
            continue
        grouped[pair][row.competency] = RatingInput(row.level, row.evidence.strip())
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        raters = _import_raters(actor, grouped, sources, ctx.raters)
        _write_submitted(
            cycle=cycle,
            actor=actor,
            grouped=grouped,
            raters=raters,
            requirements=ctx.requirements,
            reason=reason,
            progress=progress,
        )
        audit(
            "ratings.imported",
            actor=actor,
            organisation_id=cycle.organisation_id,
            target=cycle,
            data={"forms": len(grouped), "rows": len(rows)},
        )
    return len(grouped)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _IDS] for i in range(0, len(ids), _IDS)]


def _import_raters(
    actor: User | None,
    grouped: Mapping[tuple[int, int], object],
    sources: Mapping[tuple[int, int], str],
    existing: Mapping[tuple[int, int], Rater],
) -> dict[tuple[int, int], int]:
    """The rater id of each (assessee, user) pair, adding the raters not yet assigned."""
    new = [
        Rater(assessee_id=pair[0], user_id=pair[1], source=sources[pair], invited_by=actor)
        for pair in grouped
        if pair not in existing
    ]
    Rater.objects.bulk_create(new, batch_size=_BATCH)
    return {
        **{pair: r.pk for pair, r in existing.items()},
        **{(r.assessee_id, r.user_id): r.pk for r in new},
    }


def _write_submitted(
    *,
    cycle: Cycle,
    actor: User | None,
    grouped: Mapping[tuple[int, int], Mapping[str, RatingInput]],
    raters: Mapping[tuple[int, int], int],
    requirements: Mapping[str, Requirement],
    reason: str,
    progress: Progress | None,
) -> None:
    """Write one new submitted form per pair, as drafts first (the freeze triggers allow
    ratings only on drafts), then mark them all submitted."""
    involved = {raters[pair] for pair in grouped}
    latest: dict[int, tuple[int, int]] = {}  # rater id: (form id, number) last submitted
    drafts: list[int] = []
    for pk, rater_id, number, state in (
        RatingForm.objects.filter(rater__assessee__cycle=cycle)
        .order_by("number")
        .values_list("pk", "rater_id", "number", "status")
    ):
        if rater_id not in involved:
            continue
        if state == FormStatus.DRAFT:
            drafts.append(pk)  # an unsubmitted draft gives way to the imported ratings
        else:
            latest[rater_id] = (pk, number)
    for ids in _chunks(drafts):
        RatingForm.objects.filter(pk__in=ids).delete()
    # An amendment starts from the last submitted version, as amend_form does: a row
    # correcting one requirement must not drop the rater's other ratings.
    kept: dict[int, list[tuple[int, int | None, str]]] = defaultdict(list)
    for ids in _chunks([pk for pk, _ in latest.values()]):
        for form_id, competency_id, level, evidence in Rating.objects.filter(
            form_id__in=ids
        ).values_list("form_id", "competency_id", "level", "evidence"):
            kept[form_id].append((competency_id, level, evidence))
    forms = [
        RatingForm(
            rater_id=raters[pair],
            number=latest[raters[pair]][1] + 1 if raters[pair] in latest else 1,
            reason=reason if raters[pair] in latest else "",
            created_by=actor,
        )
        for pair in grouped
    ]
    RatingForm.objects.bulk_create(forms, batch_size=_BATCH)
    total = sum(len(answers) for answers in grouped.values())
    done = 0
    batch: list[tuple[int, int, int | None, str]] = []
    columns = ("form", "competency", "level", "evidence")
    for form, answers in zip(forms, grouped.values(), strict=True):
        imported = {requirements[key].competency_id: a for key, a in answers.items()}
        previous = latest.get(form.rater_id)
        batch += [
            (form.pk, c, level, evidence)
            for c, level, evidence in (kept[previous[0]] if previous else ())
            if c not in imported
        ]
        batch += [(form.pk, c, a.level, a.evidence) for c, a in imported.items()]
        done += len(answers)
        if len(batch) >= _BATCH:
            _insert(Rating, columns, batch)
            batch = []
            if progress is not None:
                progress(done, total)
    _insert(Rating, columns, batch)
    now = timezone.now()
    for ids in _chunks([form.pk for form in forms]):
        RatingForm.objects.filter(pk__in=ids).update(
            status=FormStatus.SUBMITTED, submitted_at=now, submitted_by=actor
        )
    if progress is not None:
        progress(total, total)


# --- psychometrics and the quick check ---------------------------------------------


@dataclass(frozen=True)
class PsychometricInput:
    """One psychometric score as a provider reports it."""

    person: str  # reference
    attribute: str  # framework competency key
    provider: str
    scale: str
    value: float
    assessed_on: dt.date
    instrument: str = ""
    provider_scale: str = ""


def _attribute_keys(org: Organisation) -> dict[str, str]:
    """Competency keys (kind A or C/A) of the frameworks the organisation's profiles use."""
    return dict(
        Competency.objects.filter(
            version__profile_versions__profile__organisation=org, kind__in=["A", "C/A"]
        )
        .values_list("key", "name")
        .distinct()
    )


def _scale_levels(org: Organisation) -> int:
    """Levels of the scale a "level" score is on: that of the latest profile in use."""
    version = (
        ProfileVersion.objects.filter(profile__organisation=org, status=ProfileStatus.PUBLISHED)
        .select_related("framework_version")
        .order_by("-published_at", "-id")
        .first()
    )
    return len(get_scale(version.framework_version)) if version else 5


def _sten_of(row: PsychometricInput, levels: int) -> tuple[float, str]:
    """The value as a sten, or the reason it cannot be one."""
    if row.scale not in PsychometricScale.values:
        return math.nan, ""  # reported on the scale field
    try:
        if row.scale == PsychometricScale.LEVEL:
            level = scoring.psychometric_level(row.value, "level", levels)
            return 1 + (level - 1) * 9 / (levels - 1), ""
        return scoring.sten_from(row.value, row.scale), ""
    except ValidationError as exc:
        return math.nan, "; ".join(p.message for p in exc.problems)


def save_psychometrics(
    org: Organisation,
    actor: User | None,
    rows: Sequence[PsychometricInput],
    *,
    where: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Store psychometric results, all or nothing; return how many were stored.

    Each value is kept as the provider gave it and as a sten, so results from
    different providers compare. The attribute must be an attribute (A or C/A) of
    a framework the organisation's role profiles use.
    """
    labels = list(where) if where is not None else [f"result {i + 1}" for i in range(len(rows))]
    people = {
        p.reference: p
        for p in Person.objects.filter(
            organisation=org, reference__in={r.person.strip() for r in rows}
        )
    }
    attributes = _attribute_keys(org)
    levels = _scale_levels(org)
    problems: list[Problem] = []
    results: list[PsychometricResult] = []
    today = timezone.localdate()
    for row, label in zip(rows, labels, strict=True):
        start = len(problems)

        def bad(name: str, message: str, label: str = label) -> None:
            problems.append(Problem(_where(label, name), message))

        person = people.get(row.person.strip())
        if person is None:
            bad("person", f"no person with reference {row.person!r}")
        if row.attribute not in attributes:
            bad(
                "attribute",
                f"{row.attribute!r} is not an attribute (A or C/A) of the frameworks in use",
            )
        if not row.provider.strip():
            bad("provider", "name the test provider")
        if row.scale not in PsychometricScale.values:
            bad("scale", f"unknown scale {row.scale!r}: use {', '.join(PsychometricScale.values)}")
        if row.assessed_on > today:
            bad("assessed_on", "a date in the future")
        sten, message = _sten_of(row, levels)
        if message:
            bad("value", message)
        if len(problems) > start or person is None:
            continue
        results.append(
            PsychometricResult(
                organisation=org,
                person=person,
                attribute_key=row.attribute,
                provider=row.provider.strip()[:200],
                instrument=row.instrument.strip()[:200],
                provider_scale=row.provider_scale.strip()[:200],
                scale=row.scale,
                value=row.value,
                sten=round(sten, 4),
                assessed_on=row.assessed_on,
                imported_by=actor,
            )
        )
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        for start in range(0, len(results), _BATCH):
            PsychometricResult.objects.bulk_create(results[start : start + _BATCH])
            if progress is not None:
                progress(min(start + _BATCH, len(results)), len(results))
        audit(
            "psychometrics.imported",
            actor=actor,
            organisation=org,
            data={"results": len(results), "people": len({r.person_id for r in results})},
        )
    return len(results)


def record_quick_check(
    person: Person, actor: User | None, answers: Mapping[str, bool | None], *, note: str = ""
) -> QuickCheck:
    """Record the SBI quick check (nine yes/no questions) for an existing KAM."""
    check = development.shipped_quick_check()
    yes, answered = development.quick_check_score(answers, check)
    if answered == 0:
        raise _invalid("answers", "answer at least one question")
    if len(note) > 2000:
        raise _invalid("note", "longer than 2000 characters")
    return QuickCheck.objects.create(
        organisation_id=person.organisation_id,
        person=person,
        answers={q.key: answers.get(q.key) for q in check.questions},
        yes_count=yes,
        answered_count=answered,
        note=note.strip(),
        answered_by=actor,
    )
