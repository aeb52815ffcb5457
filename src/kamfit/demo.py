"""The demo data that ``make run`` loads: the library framework and two organisations."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from kamfit.domain import framework as fw
from kamfit.frameworks.models import Competency, FrameworkVersion
from kamfit.frameworks.services import (
    copy_framework,
    install_library_framework,
    publish_version,
    update_row,
)
from kamfit.orgs.models import Membership, Organisation, Role

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
        publish_version(version=draft, user=director, note="Adopted from Warwick 2006; CRM named")
    return names
