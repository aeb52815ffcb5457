"""Framework pages: who sees what, editing a draft, publishing, importing, query counts."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from kamfit.domain import framework as fw
from kamfit.frameworks.models import (
    Citation,
    Competency,
    Framework,
    FrameworkVersion,
    Responsibility,
    Role,
    RoleElement,
)
from kamfit.frameworks.queries import get_version_document
from kamfit.orgs.models import Role as OrgRole
from tests.conftest import EDITORS, PUBLISHERS, ROLES, Personas, Side
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
READERS = tuple(r for r in ROLES if r not in EDITORS)
PAGES = ["version", "element", "competencies", "competency", "matrix", "guidance", "scale", "diff"]


def page_url(side_slug: str, version: FrameworkVersion, name: str) -> str:
    args: list[object] = [side_slug, version.framework_id, version.number]
    if name == "element":
        args.append("risk")
    elif name == "competency":
        args.append("financially-aware")
    return reverse(f"frameworks:{name}", args=args)


def db_hash() -> str:
    """Hash every framework row, to prove a refused request changed nothing."""
    digest = hashlib.sha256()
    for model in (Framework, FrameworkVersion, Role, RoleElement, Responsibility, Competency):
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    digest.update(repr(list(Citation.competencies.through.objects.values_list())).encode())
    return digest.hexdigest()


def edit(client: Client, side: Side, version: FrameworkVersion, **data: object) -> Any:
    url = reverse("frameworks:edit", args=[side.org.slug, version.framework_id, version.number])
    return client.post(url, data)


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_published_and_library_pages(personas: Personas, role: OrgRole) -> None:
    a = personas.a
    client = a.client(role)
    for version in (a.published, personas.library_version):
        for name in PAGES:
            response = client.get(page_url(a.org.slug, version, name))
            assert response.status_code == 200, (name, version)
    assert b"Woodburn" in client.get(page_url(a.org.slug, a.published, "element")).content


@pytest.mark.parametrize("role", ROLES)
def test_other_organisations_framework_is_404_for_every_role(
    personas: Personas, role: OrgRole
) -> None:
    client, b = personas.a.client(role), personas.b
    for version in (b.published, b.draft):
        for name in PAGES:
            assert client.get(page_url(personas.a.org.slug, version, name)).status_code == 404
        for fmt in ("yaml", "json", "case"):
            url = reverse(
                "frameworks:export",
                args=[personas.a.org.slug, version.framework_id, version.number, fmt],
            )
            assert client.get(url).status_code == 404
    # Nor through B's slug, of which A's users are not members.
    assert client.get(page_url(b.org.slug, b.published, "version")).status_code == 404
    before = db_hash()
    assert edit(client, personas.a, b.draft, action="add-role", title="X").status_code == 404
    url = reverse("frameworks:publish", args=[personas.a.org.slug, b.framework.pk, 2])
    assert client.post(url).status_code == 404
    assert db_hash() == before


def test_framework_list_shows_own_and_library_but_not_other_organisations(
    personas: Personas,
) -> None:
    body = (
        personas.a.client(OrgRole.PARTICIPANT)
        .get(reverse("frameworks:list", args=["alpha"]))
        .content.decode()
    )
    assert "Alpha KAM framework" in body
    assert "Competencies for key account managers" in body
    assert "Beta KAM framework" not in body


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_see_drafts_or_edit(personas: Personas, role: OrgRole) -> None:
    a = personas.a
    client = a.client(role)
    assert client.get(page_url(a.org.slug, a.draft, "version")).status_code == 404
    before = db_hash()
    assert edit(client, a, a.draft, action="add-role", title="Mine").status_code == 403
    url = reverse("frameworks:publish", args=[a.org.slug, a.framework.pk, a.draft.number])
    assert client.post(url).status_code == 403
    copy_url = reverse("frameworks:copy", args=[a.org.slug, personas.library.pk])
    assert client.post(copy_url).status_code == 403
    new_url = reverse("frameworks:create_blank", args=[a.org.slug])
    assert client.post(new_url, {"title": "Mine"}).status_code == 403
    assert db_hash() == before


@pytest.mark.parametrize("role", EDITORS)
def test_published_version_and_library_cannot_be_edited(personas: Personas, role: OrgRole) -> None:
    a = personas.a
    client = a.client(role)
    before = db_hash()
    assert edit(client, a, a.published, action="add-role", title="Late").status_code == 403
    assert (
        edit(client, a, personas.library_version, action="add-role", title="X").status_code == 403
    )
    assert db_hash() == before


def test_director_edits_a_draft_in_every_way(personas: Personas) -> None:
    a = personas.a
    client, draft = a.client(OrgRole.DIRECTOR), a.draft

    assert edit(client, a, draft, action="add-role", title="Serving partners").status_code == 302
    role = Role.objects.get(version=draft, title="Serving partners")
    edit(client, a, draft, action="add-element", parent=role.pk, label="Channel", title="Channels")
    element = RoleElement.objects.get(version=draft, key="channel")
    edit(
        client,
        a,
        draft,
        action="add-responsibility",
        element=element.pk,
        party="company",
        text="Fund the partner programme",
    )
    parent = Responsibility.objects.get(version=draft, text="Fund the partner programme")
    edit(
        client,
        a,
        draft,
        action="add-responsibility",
        element=element.pk,
        parent=parent.pk,
        text="Marketing funds",
    )
    edit(
        client,
        a,
        draft,
        action="add-responsibility",
        element=element.pk,
        party="kam",
        text="Recruit partners",
    )
    edit(
        client, a, draft, action="add-competency", name="Partner empathy", kind="A", description=""
    )
    new = Competency.objects.get(version=draft, key="partner-empathy")
    edit(
        client,
        a,
        draft,
        action="add-citation",
        element=element.pk,
        wording="Empathy",
        competencies=[new.pk],
    )
    negotiation = Competency.objects.get(version=draft, key="negotiation")
    edit(
        client,
        a,
        draft,
        action="update-competency",
        pk=negotiation.pk,
        name="Negotiation",
        kind="C/A",
        description="",
    )
    strategy = RoleElement.objects.get(version=draft, key="strategy")
    edit(
        client,
        a,
        draft,
        action="update-element",
        pk=strategy.pk,
        label="Strategy",
        title="Realising our strategy",
    )
    first = Role.objects.get(version=draft, key="delivering-strategy")
    edit(client, a, draft, action="move-role", pk=first.pk, direction="down")
    risk = RoleElement.objects.get(version=draft, key="risk")
    edit(client, a, draft, action="delete-element", pk=risk.pk)

    doc = get_version_document(draft)
    assert [r.key for r in doc.roles][:2] == ["working-with-customers", "delivering-strategy"]
    assert doc.roles[-1].elements[0].company[0] == fw.Responsibility(
        "Fund the partner programme", ("Marketing funds",)
    )
    assert doc.roles[-1].elements[0].kam == (fw.Responsibility("Recruit partners"),)
    assert doc.roles[-1].elements[0].citations == (fw.Citation("Empathy", ("partner-empathy",)),)
    assert doc.competency("negotiation").kind == fw.Kind.BOTH
    assert doc.competency("negotiation").kind_source == "organisation"
    assert "risk" not in {e.key for e in doc.elements}
    assert next(e for e in doc.elements if e.key == "strategy").title == "Realising our strategy"
    changes = client.get(page_url(a.org.slug, draft, "diff")).content.decode()
    assert "competency negotiation kind: C → C/A" in changes
    assert "element risk" in changes


def test_blank_text_and_foreign_rows_are_refused(personas: Personas) -> None:
    a, b = personas.a, personas.b
    client = a.client(OrgRole.DIRECTOR)
    before = db_hash()
    edit(client, a, a.draft, action="add-role", title="   ")
    b_role = Role.objects.filter(version=b.draft).first()
    assert b_role is not None
    response = edit(client, a, a.draft, action="update-role", pk=b_role.pk, title="Hijack")
    assert response.status_code == 404
    response = edit(client, a, a.draft, action="explode-role", pk=b_role.pk)
    assert response.status_code == 404
    assert db_hash() == before


@pytest.mark.parametrize("role", PUBLISHERS)
def test_publishers_publish_and_the_version_then_never_changes(
    personas: Personas, role: OrgRole
) -> None:
    a = personas.a
    client = a.client(role)
    url = reverse("frameworks:publish", args=[a.org.slug, a.framework.pk, a.draft.number])
    client.post(url, {"note": "Second edition"})
    a.draft.refresh_from_db()
    assert a.draft.is_published
    assert a.draft.note == "Second edition"
    assert edit(client, a, a.draft, action="add-role", title="Late").status_code == 403


def test_consultant_may_edit_but_not_publish(personas: Personas) -> None:
    a = personas.a
    client = a.client(OrgRole.CONSULTANT)
    assert edit(client, a, a.draft, action="add-role", title="Consulted").status_code == 302
    url = reverse("frameworks:publish", args=[a.org.slug, a.framework.pk, a.draft.number])
    assert client.post(url).status_code == 403


def test_database_refuses_any_change_to_a_published_version(personas: Personas) -> None:
    version = personas.a.published
    competency = Competency.objects.filter(version=version).first()
    citation = Citation.objects.filter(version=version).first()
    assert competency is not None
    assert citation is not None
    element = RoleElement.objects.filter(version=version).first()
    assert element is not None
    attempts = [
        lambda: Competency.objects.filter(version=version).update(name="Changed"),
        lambda: Competency.objects.filter(pk=competency.pk).delete(),
        lambda: Role.objects.create(version=version, key="sneaky", title="Sneaky"),
        lambda: Responsibility.objects.filter(version=version).update(text="x"),
        lambda: RoleElement.objects.filter(pk=element.pk).update(title="x"),
        lambda: citation.competencies.clear(),
        lambda: FrameworkVersion.objects.filter(pk=version.pk).update(status="draft"),
        lambda: FrameworkVersion.objects.filter(pk=version.pk).delete(),
    ]
    before = db_hash()
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            attempt()
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(
            "UPDATE frameworks_competency SET name = 'raw' WHERE version_id = %s", [version.pk]
        )
    assert db_hash() == before


def test_copy_the_library_then_diff_against_it(personas: Personas) -> None:
    a = personas.a
    client = a.client(OrgRole.HR)
    response = client.post(
        reverse("frameworks:copy", args=[a.org.slug, personas.library.pk]), {"title": "HR copy"}
    )
    framework = Framework.objects.get(organisation=a.org, title="HR copy")
    assert response["Location"].endswith(f"/frameworks/{framework.pk}/v/1/")
    assert framework.parent == personas.library_version
    version = framework.versions.get()
    assert get_version_document(version).roles == fw.shipped().roles
    page = client.get(page_url(a.org.slug, version, "diff")).content.decode()
    assert "1 change." in page
    assert "framework title: Competencies for key account managers → HR copy" in page


def test_blank_framework_is_built_by_the_papers_process(personas: Personas) -> None:
    a = personas.a
    client = a.client(OrgRole.OWNER)
    client.post(reverse("frameworks:create_blank", args=[a.org.slug]), {"title": "Our own KAM"})
    framework = Framework.objects.get(organisation=a.org, title="Our own KAM")
    version = framework.versions.get()
    page = client.get(page_url(a.org.slug, version, "version")).content.decode()
    assert "Build it by the paper’s process" in page
    publish = reverse("frameworks:publish", args=[a.org.slug, framework.pk, 1])
    response = client.post(publish, follow=True)
    assert "needs at least one role" in response.content.decode()
    version.refresh_from_db()
    assert not version.is_published


def upload(client: Client, org: str, content: bytes, name: str = "f.yaml") -> Any:
    file = io.BytesIO(content)
    file.name = name
    return client.post(reverse("frameworks:import", args=[org]), {"file": file, "format": "auto"})


def test_import_of_a_valid_file_creates_a_draft(personas: Personas) -> None:
    client = personas.a.client(OrgRole.DIRECTOR)
    response = upload(client, "alpha", fw.dumps(fw.shipped(), "case").encode(), "w.json")
    assert response.status_code == 302
    framework = Framework.objects.filter(organisation=personas.a.org).latest("pk")
    assert get_version_document(framework.versions.get()).competencies == fw.shipped().competencies


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            fw.dumps(fw.shipped()).replace("- networking", "- net-working", 1).encode(),
            "unknown competency &#x27;net-working&#x27;",
        ),
        (
            b"schema: kamfit-framework/1\nkey: x\ntitle: ''\ncompetencies: []\nroles: []\n",
            "title: empty text",
        ),
        (b"roles: [unclosed", "not valid YAML"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
    ],
)
def test_malformed_import_is_refused_and_changes_nothing(
    personas: Personas, content: bytes, expected: str
) -> None:
    client = personas.a.client(OrgRole.DIRECTOR)
    before = db_hash()
    response = upload(client, "alpha", content)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert db_hash() == before


def test_member_of_two_organisations_switches_between_them(personas: Personas) -> None:
    consultant = personas.a.users[OrgRole.CONSULTANT]  # also joins B below
    MembershipFactory(user=consultant, organisation=personas.b.org, role=OrgRole.CONSULTANT)
    client = Client()
    client.force_login(consultant)
    page = client.get(reverse("frameworks:list", args=["alpha"])).content.decode()
    assert "Alpha Ltd" in page
    assert "Beta Ltd" in page
    assert "Beta KAM framework" not in page
    assert (
        "Beta KAM framework"
        in client.get(reverse("frameworks:list", args=["beta"])).content.decode()
    )
    assert client.get(reverse("home"))["Location"].endswith("/o/beta/frameworks/")


def test_anonymous_visitors_are_sent_to_sign_in(personas: Personas) -> None:
    response = Client().get(page_url("alpha", personas.a.published, "version"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def big_framework(n_competencies: int) -> fw.Framework:
    base = fw.shipped()
    extra = tuple(
        fw.Competency(f"extra-{i}", f"Extra competency {i}", fw.Kind.COMPETENCY)
        for i in range(n_competencies - len(base.competencies))
    )
    role = base.roles[0]
    element = role.elements[0]
    cites = tuple(fw.Citation(c.name, (c.key,)) for c in extra)
    element = fw.RoleElement(
        element.key,
        element.label,
        element.title,
        element.figure_title,
        element.company,
        element.kam,
        element.citations + cites,
    )
    roles = (
        fw.Role(role.key, role.title, role.description, role.aims, (element, *role.elements[1:])),
        *base.roles[1:],
    )
    return fw.Framework(base.key, base.title, competencies=base.competencies + extra, roles=roles)


@pytest.mark.parametrize("name", [*PAGES, "export"])
def test_pages_issue_the_same_number_of_queries_for_500_competencies(
    personas: Personas, name: str
) -> None:
    from kamfit.frameworks.services import import_framework, publish_version, start_new_draft

    a = personas.a
    client = a.client(OrgRole.DIRECTOR)
    big = import_framework(organisation=a.org, user=None, doc=big_framework(500))
    publish_version(version=big.versions.get(), user=None)
    big_version = start_new_draft(framework=big, user=None)  # v2, like the small one

    def url(version: FrameworkVersion) -> str:
        if name == "export":
            return reverse("frameworks:export", args=["alpha", version.framework_id, 2, "json"])
        return page_url("alpha", version, name)

    small = a.draft
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as small_queries:
        assert client.get(url(small)).status_code == 200
    with CaptureQueriesContext(conn) as big_queries:
        assert client.get(url(big_version)).status_code == 200
    assert len(big_queries) == len(small_queries)
    assert len(small_queries) <= 24  # the diff page loads two versions


def test_renaming_a_competency_keeps_where_its_kind_came_from(personas: Personas) -> None:
    a = personas.a
    negotiation = Competency.objects.get(version=a.draft, key="negotiation")
    edit(
        a.client(OrgRole.DIRECTOR),
        a,
        a.draft,
        action="update-competency",
        pk=negotiation.pk,
        name="Negotiation skills",
        kind="C",
        description="",
    )
    negotiation.refresh_from_db()
    assert (negotiation.name, negotiation.kind_source) == ("Negotiation skills", "table3")


def test_draft_title_is_versioned_and_named_in_lists_once_published(personas: Personas) -> None:
    a = personas.a
    client = a.client(OrgRole.DIRECTOR)
    edit(client, a, a.draft, action="update-details", title="Alpha KAM 2027", description="")
    published_page = client.get(page_url("alpha", a.published, "version")).content.decode()
    assert "Alpha KAM framework" in published_page
    assert "Alpha KAM 2027" not in published_page
    client.post(reverse("frameworks:publish", args=["alpha", a.framework.pk, 2]))
    lists = client.get(reverse("frameworks:list", args=["alpha"])).content.decode()
    assert "Alpha KAM 2027" in lists
    changes = client.get(page_url("alpha", a.draft, "diff")).content.decode()
    assert "framework title: Alpha KAM framework → Alpha KAM 2027" in changes


def test_frameworks_with_only_a_draft_are_hidden_from_readers(personas: Personas) -> None:
    a = personas.a
    a.client(OrgRole.DIRECTOR).post(
        reverse("frameworks:create_blank", args=["alpha"]), {"title": "Work in progress"}
    )
    listing = reverse("frameworks:list", args=["alpha"])
    assert "Work in progress" in a.client(OrgRole.HR).get(listing).content.decode()
    assert "Work in progress" not in a.client(OrgRole.PARTICIPANT).get(listing).content.decode()


def test_editor_rewords_sub_items_and_citations_and_relinks_a_citation(
    personas: Personas,
) -> None:
    a = personas.a
    client = a.client(OrgRole.DIRECTOR)
    sub_item = Responsibility.objects.get(version=a.draft, text="Marketing material")
    edit(client, a, a.draft, action="update-responsibility", pk=sub_item.pk, text="Brochures")
    citation = Citation.objects.get(version=a.draft, element__key="risk", wording="Negotiation")
    edit(
        client,
        a,
        a.draft,
        action="update-citation",
        pk=citation.pk,
        wording="Negotiating",
        keep_links="1",
    )
    drive = Competency.objects.get(version=a.draft, key="drive")
    edit(client, a, a.draft, action="relink-citation", pk=citation.pk, competencies=[drive.pk])
    b_competency = Competency.objects.get(version=personas.b.draft, key="negotiation")
    before = db_hash()
    edit(
        client, a, a.draft, action="relink-citation", pk=citation.pk, competencies=[b_competency.pk]
    )
    assert db_hash() == before  # another organisation's competency is not a choice
    doc = get_version_document(a.draft)
    credibility = next(e for e in doc.elements if e.key == "credibility")
    assert "Brochures" in next(r for r in credibility.company if r.children).children
    risk = next(e for e in doc.elements if e.key == "risk")
    assert fw.Citation("Negotiating", ("drive",)) in risk.citations
    role = Role.objects.get(version=a.draft, key="delivering-strategy")
    assert edit(client, a, a.draft, action="relink-role", pk=role.pk).status_code == 404
