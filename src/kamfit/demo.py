"""The demo data that ``make run`` loads: the library framework and two organisations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction

from kamfit.audits.models import AuditItem
from kamfit.audits.services import (
    AnswerInput,
    PaperResponse,
    close_audit,
    import_paper_answers,
    invite_member,
    open_audit,
    repeat_audit,
    save_answers,
)
from kamfit.domain import framework as fw
from kamfit.frameworks.models import Competency, FrameworkVersion
from kamfit.frameworks.services import (
    copy_framework,
    install_library_framework,
    publish_version,
    update_row,
)
from kamfit.orgs.models import Membership, Organisation, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["DEMO_PASSWORD", "demo_login", "load_demo"]

DEMO_PASSWORD = "demo-kam-2006"  # noqa: S105 - a published demo password, refused in production later
DEMO_ORG = ("acme-supplies", "Acme Industrial Supplies")
OTHER_ORG = ("northwind", "Northwind Components")
DEMO_USERS = [
    ("olivia.owner", "Olivia", "Owner", Role.OWNER),
    ("hana.hr", "Hana", "Reyes", Role.HR),
    ("diego.director", "Diego", "Lindqvist", Role.DIRECTOR),
    ("mia.manager", "Mia", "Okafor", Role.MANAGER),
    ("arun.assessor", "Arun", "Patel", Role.ASSESSOR),
    ("paula.participant", "Paula", "Novak", Role.PARTICIPANT),
    ("connor.consultant", "Connor", "Walsh", Role.CONSULTANT),
]


def demo_login() -> str | None:
    """Return the demo director's username if the demo is loaded."""
    user_model = get_user_model()
    exists = user_model.objects.filter(username="diego.director").exists()
    return "diego.director" if exists else None


@transaction.atomic
def load_demo() -> list[str]:
    """Create the demo organisations, users and a published company framework, once."""
    library, _ = install_library_framework(doc=fw.shipped())
    acme, created = Organisation.objects.get_or_create(
        slug=DEMO_ORG[0], defaults={"name": DEMO_ORG[1]}
    )
    other, _ = Organisation.objects.get_or_create(
        slug=OTHER_ORG[0], defaults={"name": OTHER_ORG[1]}
    )
    user_model = get_user_model()
    names = []
    for username, first, last, role in DEMO_USERS:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
            )
        Membership.objects.get_or_create(user=user, organisation=acme, defaults={"role": role})
        names.append(username)
    consultant = user_model.objects.get(username="connor.consultant")
    Membership.objects.get_or_create(
        user=consultant, organisation=other, defaults={"role": Role.CONSULTANT}
    )
    if created:
        source = FrameworkVersion.objects.get(framework=library, number=1)
        director = user_model.objects.get(username="diego.director")
        company = copy_framework(
            organisation=acme, user=director, source=source, title="Acme KAM framework"
        )
        draft = company.versions.get(number=1)
        it = Competency.objects.get(version=draft, key="it-literacy")
        update_row(row=it, fields={"name": "IT and CRM literacy"})
        published = publish_version(
            version=draft, user=director, note="Adopted from Warwick 2006; CRM named"
        )
        _demo_audit(acme, published, director)
    return names


DEMO_DEPARTMENTS = [  # department, respondents, how positive it tends to be (0..1)
    ("sales", 6, 0.65),
    ("kam", 5, 0.45),
    ("supply_chain", 5, 0.55),
    ("finance", 3, 0.6),
    ("senior_management", 2, 0.8),
]
DEMO_ELEMENTS = ["strategy", "relationships", "resources", "contact", "boundaries", "reporting"]


def _demo_audit(org: Organisation, version: FrameworkVersion, director: User) -> None:
    """A completed readiness audit, so the results page shows something real at once."""
    rng = np.random.default_rng(2006)
    audit = open_audit(
        organisation=org,
        user=director,
        version=version,
        title="KAM readiness, autumn 2026",
        element_keys=DEMO_ELEMENTS,
    )
    items = list(AuditItem.objects.filter(audit=audit))
    # Some responsibilities are weak everywhere (the paper's warning signs).
    difficulty = rng.normal(0, 0.2, len(items))
    for n, item in enumerate(items):
        if any(w in item.text for w in ("barriers", "resources", "reward")):
            difficulty[n] -= 0.35
    members = {m.user.username: m.user for m in Membership.objects.filter(organisation=org)}
    responses = []
    for department, count, mood in DEMO_DEPARTMENTS:
        for i in range(count):
            answers = {}
            for n, item in enumerate(items):
                p = float(np.clip(mood + difficulty[n] + rng.normal(0, 0.15), 0, 1))
                roll = rng.random()
                rating = (
                    "dont_know"
                    if roll < 0.06
                    else ("good" if p > 0.66 else "fair" if p > 0.38 else "poor")
                )
                answers[item.key] = AnswerInput(rating)
            responses.append(PaperResponse(f"{department}-{i + 1}", department, answers))
    import_paper_answers(audit=audit, responses=responses)
    for username, department in (("hana.hr", "hr"), ("mia.manager", "sales")):
        respondent = invite_member(audit=audit, user=members[username], department=department)
        if username == "mia.manager":
            by_key = {i.key: i.pk for i in items}
            first = responses[0].answers
            save_answers(
                respondent=respondent,
                answers={by_key[k]: a for k, a in list(first.items())[:10]},
            )
    close_audit(audit=audit)
    spring = repeat_audit(audit=audit, user=director, title="KAM readiness, spring 2027")
    for username, department in (("mia.manager", "sales"), ("paula.participant", "kam")):
        invite_member(audit=spring, user=members[username], department=department)
