"""Seed the load test's data: two organisations, each with an open cycle to write in.

``python -m tests.load.seed --users 50 --out manifest.json`` writes into the database
the environment names (``DATABASE_URL`` or the SQLite file in ``KAMFIT_DATA_DIR``),
through kamfit's own services, and writes a manifest for the locustfile: the shared
password and, per organisation, the accounts (one per simulated user, roles spread as
in a real company), the cycle and the people whose results each account may read.

Per organisation: a framework copied from the library and published, a published role
profile (11 requirements), ``PEOPLE`` people assessed in one open cycle, self and line
manager raters from the accounts, four more assignments per account, and three panel
members whose submitted ratings (imported) give the result pages something to score.
The results of the participants' own people are released, so they and their line
managers may read them. No form of a load account exists yet: every save the load
test makes is one the ledger can account for.
"""

from __future__ import annotations

import argparse
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ORGS = (("load-north", "North Load Ltd"), ("load-south", "South Load Ltd"))
PEOPLE = 120  # people assessed per organisation
EXTRA_ASSIGNMENTS = 4  # peer or other forms per account, beyond self and manager
PANEL = 3  # panel members per organisation, with submitted (imported) ratings
# Roles of the accounts, in the order they are handed out: those who manage people
# first, so that even a small run reads the cycle and team pages.
ROLE_CYCLE = (
    "hr",
    "manager",
    "participant",
    "director",
    "participant",
    "assessor",
    "participant",
    "manager",
    "owner",
    "participant",
    "consultant",
    "participant",
    "manager",
    "participant",
    "participant",
    "assessor",
    "participant",
    "hr",
    "participant",
    "manager",
    "participant",
    "participant",
    "director",
    "participant",
    "participant",
)
MANAGE = {"owner", "hr", "director", "consultant"}


@dataclass(frozen=True)
class Account:
    username: str
    role: str


def _accounts(slug: str, n: int) -> list[Account]:
    return [
        Account(
            f"{slug}-{ROLE_CYCLE[i % len(ROLE_CYCLE)]}-{i + 1}", ROLE_CYCLE[i % len(ROLE_CYCLE)]
        )
        for i in range(n)
    ]


def seed_org(slug: str, name: str, n_accounts: int, hashed: str) -> dict[str, Any]:
    """Create one organisation's data; return its part of the manifest."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from kamfit.assessments import services as assess
    from kamfit.assessments.models import Cycle, Person, Rater
    from kamfit.assessments.services import ImportedRating, PersonInput
    from kamfit.domain import framework as fw
    from kamfit.frameworks.models import FrameworkVersion
    from kamfit.frameworks.services import copy_framework, install_library_framework
    from kamfit.frameworks.services import publish_version as publish_framework
    from kamfit.orgs.models import Membership, Organisation
    from kamfit.profiles import services as profiles
    from kamfit.profiles.models import ProfileVersion

    user_model = get_user_model()
    library, _ = install_library_framework(doc=fw.shipped())
    source = FrameworkVersion.objects.get(framework=library, number=1)
    accounts = _accounts(slug, n_accounts)
    panel = [Account(f"{slug}-panel-{i + 1}", "assessor") for i in range(PANEL)]
    with transaction.atomic():
        org = Organisation.objects.create(slug=slug, name=name)
        users = {}
        for account in [*accounts, *panel]:
            user = user_model.objects.create_user(
                username=account.username,
                first_name=account.role.title(),
                last_name=account.username.rsplit("-", 1)[1],
                email=f"{account.username}@example.com",
            )
            user.password = hashed
            user.save(update_fields=["password"])
            Membership.objects.create(user=user, organisation=org, role=account.role)
            users[account.username] = user
    hr = (
        next(users[a.username] for a in accounts if a.role in MANAGE)
        if any(a.role in MANAGE for a in accounts)
        else users[panel[0].username]
    )
    framework = copy_framework(organisation=org, user=hr, source=source, title=f"{name} framework")
    published = publish_framework(version=framework.versions.get(number=1), user=hr)
    version = profiles.create_profile(
        organisation=org,
        user=hr,
        framework_version=published,
        title="Global account manager",
        element_keys=["credibility", "risk"],
    )
    profiles.publish_version(version, hr)
    version = ProfileVersion.objects.get(pk=version.pk)
    key = version.profile.key

    managers = [a for a in accounts if a.role == "manager"]
    participants = [a for a in accounts if a.role == "participant"]
    rows = [
        PersonInput(f"mgr-{i + 1}", f"Manager {i + 1} of {name}", username=a.username)
        for i, a in enumerate(managers)
    ]
    manager_refs = [r.reference for r in rows] or [""]
    for i in range(PEOPLE - len(rows)):
        own_name = participants[i].username if i < len(participants) else ""
        rows.append(
            PersonInput(
                f"kam-{i + 1}",
                f"KAM {i + 1:03d} of {name}",
                manager=manager_refs[i % len(manager_refs)],
                username=own_name,
                background=("sales", "other", "unknown")[i % 3],
                profile=key,
                unit=f"Unit {i % 6 + 1}",
                accounts=(f"Account {i}A", f"Account {i}B"),
            )
        )
    assess.upsert_people(org, hr, rows)
    people = list(Person.objects.filter(organisation=org).order_by("id"))
    cycle = assess.create_cycle(org, hr, title="Load cycle", profile_version=version)
    assess.add_people(cycle, hr, people)
    assessees = {a.person_id: a for a in cycle.assessees.select_related("person")}
    without_account = [p for p in people if p.user_id is None]
    rating = set(Rater.objects.filter(assessee__cycle=cycle).values_list("assessee_id", "user_id"))
    slot = 0
    for account in accounts:
        rater_source = "peer" if account.role == "participant" else "other"
        user = users[account.username]
        given = 0
        while given < EXTRA_ASSIGNMENTS and slot < 10 * len(without_account):
            assessee = assessees[without_account[slot % len(without_account)].pk]
            slot += 1
            if (assessee.pk, user.pk) in rating:
                continue
            assess.add_rater(assessee, hr, username=account.username, source=rater_source)
            rating.add((assessee.pk, user.pk))
            given += 1
    assess.open_cycle(cycle)

    keys = list(
        version.requirements.filter(included=True).values_list("competency__key", flat=True)
    )
    imported = [
        ImportedRating(
            person=p.reference,
            rater=member.username,
            source="other",
            competency=k,
            level=(p.pk + n + j) % 5 + 1,
            evidence=f"Panel evidence {n} {k}",
        )
        for p in people
        for n, member in enumerate(panel)
        for j, k in enumerate(keys)
    ]
    assess.import_ratings(cycle, hr, imported)
    released = [a for a in assessees.values() if a.person.user_id is not None]
    assess.release_results(cycle, hr, released)
    cycle = Cycle.objects.get(pk=cycle.pk)

    by_user = {p.user_id: p for p in people if p.user_id}
    reports: dict[int, list[int]] = {}
    for p in people:
        if p.manager_id:
            reports.setdefault(p.manager_id, []).append(p.pk)
    released_ids = {a.person_id for a in released}
    every = [p.pk for p in people]
    out = []
    for account in accounts:
        own = by_user.get(users[account.username].pk)
        if account.role in MANAGE:
            readable = every[:: max(1, len(every) // 40)]
        else:
            mine = [own.pk] if own and own.pk in released_ids else []
            team = [pk for pk in reports.get(own.pk, []) if pk in released_ids] if own else []
            readable = mine + team
        out.append(
            {
                "username": account.username,
                "role": account.role,
                "manage": account.role in MANAGE,
                "results": readable,
                "person": own.pk if own else None,
            }
        )
    return {"slug": slug, "cycle": cycle.pk, "accounts": out}


def seed(n_users: int) -> dict[str, Any]:
    """Seed both organisations with ``n_users`` accounts between them; return the manifest."""
    from django.contrib.auth.hashers import make_password

    password = secrets.token_urlsafe(18)
    hashed = make_password(password)  # once: hashing is slow on purpose
    per_org = [
        n_users // len(ORGS) + (1 if i < n_users % len(ORGS) else 0) for i in range(len(ORGS))
    ]
    orgs = [seed_org(slug, name, n, hashed) for (slug, name), n in zip(ORGS, per_org, strict=True)]
    return {"password": password, "orgs": orgs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="accounts to create, over both orgs")
    parser.add_argument("--out", type=Path, required=True, help="where to write the manifest")
    args = parser.parse_args(argv)
    import django

    django.setup()
    from kamfit.orgs.models import Organisation

    if Organisation.objects.filter(slug__in=[slug for slug, _ in ORGS]).exists():
        raise SystemExit("the load-test organisations exist already: seed an empty database")
    manifest = seed(args.users)
    args.out.write_text(json.dumps(manifest, indent=1), "utf-8")


if __name__ == "__main__":
    main()
