"""Fixtures every capability reuses: the library framework and two organisations of personas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kamfit.domain import framework as fw
from kamfit.frameworks.models import Framework, FrameworkVersion
from kamfit.frameworks.services import (
    copy_framework,
    install_library_framework,
    publish_version,
    start_new_draft,
)
from kamfit.orgs.models import Organisation, Role
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

ROLES = tuple(Role)
EDITORS = (Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT)
PUBLISHERS = (Role.OWNER, Role.HR, Role.DIRECTOR)


@dataclass
class Side:
    """One organisation with one user per role, a published framework and a draft."""

    org: Organisation
    users: dict[Role, User]
    framework: Framework
    published: FrameworkVersion
    draft: FrameworkVersion
    clients: dict[Role, Client] = field(default_factory=dict)

    def client(self, role: Role) -> Client:
        if role not in self.clients:
            c = Client()
            c.force_login(self.users[role])
            self.clients[role] = c
        return self.clients[role]


@dataclass
class Personas:
    """Two organisations (``a`` and ``b``) and the shipped library framework."""

    a: Side
    b: Side
    library: Framework
    library_version: FrameworkVersion


@pytest.fixture
def library(db: None) -> FrameworkVersion:
    framework, _ = install_library_framework(doc=fw.shipped())
    return framework.versions.get(number=1)


def _side(name: str, library_version: FrameworkVersion) -> Side:
    org = cast(Organisation, OrganisationFactory(name=f"{name} Ltd", slug=name.lower()))
    users: dict[Role, User] = {}
    for role in ROLES:
        user = cast(User, UserFactory(username=f"{name.lower()}-{role}"))
        MembershipFactory(organisation=org, role=role, user=user)
        users[role] = user
    director = users[Role.DIRECTOR]
    framework = copy_framework(
        organisation=org, user=director, source=library_version, title=f"{name} KAM framework"
    )
    published = publish_version(version=framework.versions.get(number=1), user=director)
    draft = start_new_draft(framework=framework, user=director)
    return Side(org, users, framework, published, draft)


@pytest.fixture
def personas(library: FrameworkVersion) -> Personas:
    """Organisations A and B, each with one user per role, a published v1 and a draft v2."""
    return Personas(_side("Alpha", library), _side("Beta", library), library.framework, library)
