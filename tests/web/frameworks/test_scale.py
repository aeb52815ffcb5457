"""The proficiency scale: its page, its services, its storage and its freezing once published."""

from __future__ import annotations

from dataclasses import replace
from html import escape
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from kamfit.domain import framework as fw
from kamfit.domain.errors import FrameworkInvalid, NotPermitted
from kamfit.frameworks import services
from kamfit.frameworks.models import FrameworkVersion
from kamfit.frameworks.queries import get_scale, get_version_document
from kamfit.orgs.models import Role as OrgRole
from tests.conftest import EDITORS, ROLES, Personas
from tests.web.frameworks.test_pages import READERS, db_hash, page_url

pytestmark = pytest.mark.django_db

OWN = [
    ("Novice", "Follows the account plan others write."),
    ("Practitioner", "Writes the account plan with the customer."),
    ("Leader", "Sets account strategy across the portfolio."),
]


def scale_url(slug: str, version: FrameworkVersion) -> str:
    return page_url(slug, version, "scale")


def rows(levels: list[tuple[str, str]]) -> dict[str, str]:
    """Fill the form's nine rows from the top, leaving the others blank."""
    data = {"action": "save"}
    for n in range(1, fw.MAX_SCALE_LEVELS + 1):
        name, description = levels[n - 1] if n <= len(levels) else ("", "")
        data |= {f"name_{n}": name, f"description_{n}": description}
    return data


def post(client: Client, slug: str, version: FrameworkVersion, data: dict[str, str]) -> Any:
    return client.post(scale_url(slug, version), data)


def test_every_member_reads_the_default_scale_of_a_published_version(
    personas: Personas,
) -> None:
    a = personas.a
    for role in ROLES:
        for version in (a.published, personas.library_version):
            response = a.client(role).get(scale_url(a.org.slug, version))
            assert response.status_code == 200, role
            page = response.content.decode()
            for level in fw.DEFAULT_SCALE:
                assert escape(level.name) in page
                assert escape(level.description) in page
            assert "kamfit’s default scale" in page
            assert "defines no proficiency scale" in page
            assert "Woodburn" in page  # the framework content is still credited
            assert 'name="name_1"' not in page, role  # nobody edits a published version


def test_other_organisations_scale_is_404_for_every_role(personas: Personas) -> None:
    a, b = personas.a, personas.b
    before = db_hash()
    for role in ROLES:
        client = a.client(role)
        for version in (b.published, b.draft):
            assert client.get(scale_url(a.org.slug, version)).status_code == 404, role
            assert post(client, a.org.slug, version, rows(OWN)).status_code == 404, role
        assert client.get(scale_url(b.org.slug, b.published)).status_code == 404, role
    assert db_hash() == before


def test_readers_cannot_see_a_draft_scale_nor_change_any(personas: Personas) -> None:
    a = personas.a
    before = db_hash()
    for role in READERS:
        client = a.client(role)
        assert client.get(scale_url(a.org.slug, a.draft)).status_code == 404, role
        assert post(client, a.org.slug, a.draft, rows(OWN)).status_code == 403, role
        reset = {"action": "reset"}
        assert post(client, a.org.slug, a.published, reset).status_code == 403, role
    assert db_hash() == before


def test_participant_posting_a_scale_is_refused(personas: Personas) -> None:
    a = personas.a
    response = post(a.client(OrgRole.PARTICIPANT), a.org.slug, a.draft, rows(OWN))
    assert response.status_code == 403
    a.draft.refresh_from_db()
    assert a.draft.scale is None


def test_editors_get_the_form_on_a_draft_only_and_cannot_change_a_published_scale(
    personas: Personas,
) -> None:
    a = personas.a
    before = db_hash()
    for role in EDITORS:
        client = a.client(role)
        draft = client.get(scale_url(a.org.slug, a.draft)).content.decode()
        assert 'name="name_9"' in draft, role
        assert 'value="Aware"' in draft
        assert "Reset to kamfit’s default" not in draft  # already the default
        published = client.get(scale_url(a.org.slug, a.published)).content.decode()
        assert 'name="name_1"' not in published, role
        assert post(client, a.org.slug, a.published, rows(OWN)).status_code == 403, role
        library = personas.library_version
        assert post(client, a.org.slug, library, rows(OWN)).status_code == 403, role
    assert db_hash() == before


def test_editor_saves_a_scale_ignoring_blank_rows_at_the_end_then_resets_it(
    personas: Personas,
) -> None:
    a = personas.a
    client = a.client(OrgRole.CONSULTANT)
    response = post(client, a.org.slug, a.draft, rows(OWN))
    assert response.status_code == 302
    assert response["Location"] == scale_url(a.org.slug, a.draft)
    a.draft.refresh_from_db()
    assert get_scale(a.draft) == fw.build_scale(OWN)
    page = client.get(scale_url(a.org.slug, a.draft)).content.decode()
    assert "Saved the scale." in page
    assert "This framework has its own scale." in page
    assert "Sets account strategy across the portfolio." in page
    assert "Reset to kamfit’s default" in page
    version_page = client.get(page_url(a.org.slug, a.draft, "version")).content.decode()
    assert scale_url(a.org.slug, a.draft) in version_page
    changes = client.get(page_url(a.org.slug, a.draft, "diff")).content.decode()
    assert "scale level 1 name: Aware → Novice" in changes
    assert "scale level 5: Expert" in changes

    assert post(client, a.org.slug, a.draft, {"action": "reset"}).status_code == 302
    a.draft.refresh_from_db()
    assert a.draft.scale is None
    assert get_scale(a.draft) == fw.DEFAULT_SCALE


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (OWN[:2], "A scale has 3 to 9 levels, not 2"),
        ([], "A scale has 3 to 9 levels, not 0"),
        ([OWN[0], ("", "A description without a name"), OWN[2]], "Level 2 name: empty text"),
        ([OWN[0], ("", ""), *OWN[1:]], "Level 2 name: empty text"),  # only trailing rows go
        ([*OWN, ("novice", "")], "Level 4 name: duplicate name &#x27;novice&#x27;"),
        ([("N" * 101, ""), *OWN[1:]], "Level 1 name: longer than 100 characters"),
    ],
)
def test_a_bad_scale_is_refused_naming_the_row_and_keeps_what_was_typed(
    personas: Personas, levels: list[tuple[str, str]], expected: str
) -> None:
    a = personas.a
    before = db_hash()
    response = post(a.client(OrgRole.DIRECTOR), a.org.slug, a.draft, rows(levels))
    assert response.status_code == 400
    page = response.content.decode()
    assert expected in page
    for typed in [text for level in levels for text in level if text]:
        assert escape(typed) in page
    assert db_hash() == before


def test_scale_page_reads_the_version_and_no_content_rows(
    personas: Personas, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    a = personas.a
    client = a.client(OrgRole.DIRECTOR)
    services.update_scale(a.draft, OWN)
    # Session, user, membership, framework, version, the header's memberships, and the
    # session's save (savepoint, update, release): no role, element or competency rows.
    with django_assert_num_queries(9):
        assert client.get(scale_url(a.org.slug, a.draft)).status_code == 200


def test_get_scale_reads_the_field_without_a_query(
    personas: Personas, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    services.update_scale(personas.a.draft, OWN)
    with django_assert_num_queries(0):
        assert get_scale(personas.a.draft) == fw.build_scale(OWN)
        assert get_scale(personas.a.published) == fw.DEFAULT_SCALE


def test_update_scale_refuses_a_published_version_and_a_bad_scale(personas: Personas) -> None:
    a = personas.a
    before = db_hash()
    with pytest.raises(NotPermitted, match="never changes"):
        services.update_scale(a.published, OWN)
    with pytest.raises(FrameworkInvalid, match="scale: a scale has 3 to 9 levels, not 1"):
        services.update_scale(a.draft, OWN[:1])
    assert db_hash() == before


def test_update_scale_stores_the_default_as_null(personas: Personas) -> None:
    draft = personas.a.draft
    services.update_scale(draft, OWN)
    services.update_scale(draft, [(lv.name, lv.description) for lv in fw.DEFAULT_SCALE])
    draft.refresh_from_db()
    assert draft.scale is None


def test_an_own_scale_is_stored_exported_copied_and_carried_to_the_next_draft(
    personas: Personas,
) -> None:
    a = personas.a
    doc = replace(fw.shipped(), key="own-scale", scale=fw.build_scale(OWN))
    framework = services.import_framework(organisation=a.org, user=None, doc=doc)
    version = framework.versions.get()
    assert version.scale == [
        {"level": n, "name": name, "description": text} for n, (name, text) in enumerate(OWN, 1)
    ]
    assert get_version_document(version) == doc
    assert "name: Practitioner" in fw.dumps(get_version_document(version))
    services.publish_version(version=version, user=None)
    assert get_version_document(services.start_new_draft(framework=framework, user=None)).scale
    copied = services.copy_framework(organisation=personas.b.org, user=None, source=version)
    assert get_scale(copied.versions.get()) == fw.build_scale(OWN)


def test_importing_the_default_scale_spelled_out_stores_the_default(personas: Personas) -> None:
    doc = replace(fw.shipped(), key="spelled-out", scale=fw.DEFAULT_SCALE)
    framework = services.import_framework(organisation=personas.a.org, user=None, doc=doc)
    version = framework.versions.get()
    assert version.scale is None
    assert get_version_document(version).scale == ()
    assert get_scale(version) == fw.DEFAULT_SCALE


def test_replacing_a_drafts_content_replaces_its_scale(personas: Personas) -> None:
    draft = personas.a.draft
    services.update_scale(draft, OWN)
    services.replace_draft_content(version=draft, doc=fw.shipped())
    draft.refresh_from_db()
    assert draft.scale is None


def test_database_refuses_to_change_a_published_versions_scale(personas: Personas) -> None:
    version = personas.a.published
    scale = [{"level": n, "name": f"L{n}", "description": ""} for n in (1, 2, 3)]
    before = db_hash()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        FrameworkVersion.objects.filter(pk=version.pk).update(scale=scale)
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        version.scale = scale
        version.save(update_fields=["scale"])
    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(
            "UPDATE frameworks_frameworkversion SET scale = %s WHERE id = %s", ["[]", version.pk]
        )
    assert db_hash() == before


def test_adding_the_scale_column_kept_the_triggers_that_freeze_published_versions(
    personas: Personas,
) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'frameworks_frameworkversion'"
            )
            expected = {"frameworkversion_frozen_update", "frameworkversion_frozen_delete"}
        else:
            cur.execute(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'frameworks_frameworkversion'::regclass AND NOT tgisinternal"
            )
            expected = {"frameworkversion_frozen"}
        assert expected <= {name for (name,) in cur.fetchall()}


def test_copying_a_framework_with_a_full_length_title_keeps_the_title_within_its_column(
    personas: Personas,
) -> None:
    doc = replace(fw.shipped(), key="long-title", title="T" * 200)
    framework = services.import_framework(organisation=personas.a.org, user=None, doc=doc)
    version = framework.versions.get()
    services.publish_version(version=version, user=None)
    copied = services.copy_framework(organisation=personas.b.org, user=None, source=version)
    copied.refresh_from_db()  # PostgreSQL refuses a title one character too long
    assert len(copied.title) == 200
    assert copied.title.endswith(f"… ({personas.b.org.name})")
    assert copied.versions.get().title == copied.title
