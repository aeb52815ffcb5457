"""The REST API under /api/v1/: tenant scoping, roles, documents, import, validate and diff."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import yaml
from django.test import Client

from kamfit.domain import framework as fw
from kamfit.frameworks.models import Framework, FrameworkVersion, VersionStatus
from kamfit.frameworks.queries import get_version_document
from kamfit.orgs.models import Role
from tests.conftest import EDITORS, PUBLISHERS, ROLES, Personas, Side

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

API = "/api/v1"
NON_EDITORS = (Role.PARTICIPANT, Role.MANAGER, Role.ASSESSOR)
JSON = "application/json"
VALIDATE = f"{API}/frameworks/validate/"


def frameworks_url(side: Side) -> str:
    return f"{API}/organisations/{side.org.slug}/frameworks/"


def framework_url(side: Side, pk: int, suffix: str = "") -> str:
    return f"{frameworks_url(side)}{pk}/{suffix}"


def version_url(side: Side, version: FrameworkVersion, suffix: str = "") -> str:
    return framework_url(side, version.framework_id, f"versions/{version.number}/{suffix}")


def send(client: Client, method: str, url: str, body: object = None) -> TestResponse:
    call = getattr(client, method)
    if method == "get":
        return call(url)  # type: ignore[no-any-return]
    return call(url, json.dumps(body or {}), content_type=JSON)  # type: ignore[no-any-return]


def document(version: FrameworkVersion) -> dict[str, Any]:
    return fw.to_data(get_version_document(version))


def renamed(version: FrameworkVersion, name: str) -> dict[str, Any]:
    data = document(version)
    data["competencies"][0]["name"] = name
    return data


def changed(location: str, before: str, after: str) -> dict[str, str]:
    return {"op": "changed", "location": location, "before": before, "after": after}


def snapshot() -> list[tuple[int, int, str, str]]:
    """Every version with its status and full content, to prove nothing changed."""
    return [
        (v.framework_id, v.number, v.status, json.dumps(document(v)))
        for v in FrameworkVersion.objects.order_by("framework_id", "number")
    ]


def broken_shipped() -> dict[str, Any]:
    data: dict[str, Any] = fw.to_data(fw.shipped())
    data["roles"][0]["elements"][0]["competencies"][0]["refs"][0] = "no-such-competency"
    return data


# Every endpoint, as (method, url) for a side's own objects.
ENDPOINTS: dict[str, Callable[[Side], tuple[str, str]]] = {
    "organisations": lambda s: ("get", f"{API}/organisations/"),
    "frameworks": lambda s: ("get", frameworks_url(s)),
    "import": lambda s: ("post", frameworks_url(s)),
    "framework": lambda s: ("get", framework_url(s, s.framework.pk)),
    "copy": lambda s: ("post", framework_url(s, s.framework.pk, "copy/")),
    "drafts": lambda s: ("post", framework_url(s, s.framework.pk, "drafts/")),
    "version": lambda s: ("get", version_url(s, s.published)),
    "put": lambda s: ("put", version_url(s, s.draft)),
    "publish": lambda s: ("post", version_url(s, s.draft, "publish/")),
    "diff": lambda s: ("get", version_url(s, s.draft, "diff/")),
    "validate": lambda s: ("post", VALIDATE),
    "schema": lambda s: ("get", f"{API}/schema/"),
    "docs": lambda s: ("get", f"{API}/docs/"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_visitors_are_refused_on_every_endpoint(
    personas: Personas, endpoint: str
) -> None:
    method, url = ENDPOINTS[endpoint](personas.a)
    before = snapshot()
    response = send(Client(), method, url, fw.to_data(fw.shipped()))
    assert response.status_code in {401, 403}
    assert snapshot() == before


def test_the_schema_is_an_openapi_document_listing_the_framework_paths(personas: Personas) -> None:
    response = personas.a.client(Role.PARTICIPANT).get(f"{API}/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    fw_path = f"{API}/organisations/{{org}}/frameworks/{{id}}/"
    version_path = f"{fw_path}versions/{{number}}/"
    assert {
        f"{API}/organisations/",
        f"{API}/organisations/{{org}}/frameworks/",
        fw_path,
        f"{fw_path}copy/",
        version_path,
        f"{version_path}diff/",
        f"{version_path}publish/",
        VALIDATE,
    } <= set(schema["paths"])


def test_the_api_docs_render_without_any_external_host(personas: Personas) -> None:
    response = personas.a.client(Role.PARTICIPANT).get(f"{API}/docs/")
    assert response.status_code == 200
    html = response.content.decode().lower()
    assert "swagger" in html
    for host in ("cdn", "jsdelivr", "unpkg"):
        assert host not in html


@pytest.mark.parametrize("role", ROLES)
def test_organisations_lists_only_the_users_own_memberships(personas: Personas, role: Role) -> None:
    body = personas.a.client(role).get(f"{API}/organisations/").json()
    assert body["count"] == 1
    assert body["results"] == [
        {"organisation": "alpha", "organisation_name": "Alpha Ltd", "role": role.value}
    ]


@pytest.mark.parametrize("role", ROLES)
def test_frameworks_list_shows_own_and_library_never_the_other_organisations(
    personas: Personas, role: Role
) -> None:
    body = personas.a.client(role).get(frameworks_url(personas.a)).json()
    assert body["count"] == 2
    ids = {f["id"] for f in body["results"]}
    assert ids == {personas.a.framework.pk, personas.library.pk}
    assert [f["id"] for f in body["results"] if f["library"]] == [personas.library.pk]


# The other organisation's objects, reached by a member of A: (method, url builder).
FOREIGN: dict[str, Callable[[Personas], tuple[str, str]]] = {
    "framework": lambda p: ("get", framework_url(p.a, p.b.framework.pk)),
    "version": lambda p: ("get", version_url(p.a, p.b.published)),
    "draft": lambda p: ("get", version_url(p.a, p.b.draft)),
    "diff": lambda p: ("get", version_url(p.a, p.b.draft, "diff/")),
    "copy": lambda p: ("post", framework_url(p.a, p.b.framework.pk, "copy/")),
    "drafts": lambda p: ("post", framework_url(p.a, p.b.framework.pk, "drafts/")),
    "publish": lambda p: ("post", version_url(p.a, p.b.draft, "publish/")),
    "put": lambda p: ("put", version_url(p.a, p.b.draft)),
    "b-slug-list": lambda p: ("get", frameworks_url(p.b)),
    "b-slug-import": lambda p: ("post", frameworks_url(p.b)),
    "b-slug-framework": lambda p: ("get", framework_url(p.b, p.b.framework.pk)),
    "b-slug-version": lambda p: ("get", version_url(p.b, p.b.published)),
    "b-slug-put": lambda p: ("put", version_url(p.b, p.b.draft)),
}


@pytest.mark.parametrize(("role", "target"), [(r, t) for r in ROLES for t in FOREIGN])
def test_every_role_gets_404_for_the_other_organisations_objects(
    personas: Personas, role: Role, target: str
) -> None:
    method, url = FOREIGN[target](personas)
    before = snapshot()
    response = send(personas.a.client(role), method, url, renamed(personas.b.draft, "Hacked"))
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", NON_EDITORS)
def test_non_editors_cannot_see_drafts_or_change_anything(personas: Personas, role: Role) -> None:
    a, client = personas.a, personas.a.client(role)
    before = snapshot()
    assert client.get(version_url(a, a.draft)).status_code == 404
    assert client.get(version_url(a, a.draft, "diff/")).status_code == 404
    assert client.get(version_url(a, a.published)).status_code == 200
    assert send(client, "put", version_url(a, a.draft), renamed(a.draft, "X")).status_code == 403
    assert send(client, "post", version_url(a, a.draft, "publish/")).status_code == 403
    assert send(client, "post", framework_url(a, a.framework.pk, "copy/")).status_code == 403
    assert send(client, "post", framework_url(a, personas.library.pk, "copy/")).status_code == 403
    assert send(client, "post", frameworks_url(a), fw.to_data(fw.shipped())).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("role", EDITORS)
def test_editors_replace_a_drafts_content_with_put(personas: Personas, role: Role) -> None:
    a, client = personas.a, personas.a.client(role)
    response = send(client, "put", version_url(a, a.draft), renamed(a.draft, "Sharp analysis"))
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    shown = client.get(version_url(a, a.draft)).json()
    assert shown["competencies"][0]["name"] == "Sharp analysis"


@pytest.mark.parametrize("role", EDITORS)
def test_a_published_version_refuses_put_and_keeps_its_content(
    personas: Personas, role: Role
) -> None:
    a = personas.a
    before = document(a.published)
    response = send(a.client(role), "put", version_url(a, a.published), renamed(a.published, "X"))
    assert response.status_code == 403
    assert document(a.published) == before


def test_an_invalid_document_put_to_a_draft_answers_400_and_changes_nothing(
    personas: Personas,
) -> None:
    a = personas.a
    before = snapshot()
    response = send(a.client(Role.OWNER), "put", version_url(a, a.draft), broken_shipped())
    assert response.status_code == 400
    assert response.json()["problems"][0]["location"].startswith("roles[0].elements[0]")
    assert snapshot() == before


def test_renaming_a_draft_leaves_the_published_versions_title_alone(personas: Personas) -> None:
    a, client = personas.a, personas.a.client(Role.DIRECTOR)
    data = document(a.draft) | {"title": "Renamed in the draft"}
    assert send(client, "put", version_url(a, a.draft), data).status_code == 200
    assert client.get(version_url(a, a.published)).json()["title"] == "Alpha KAM framework"


@pytest.mark.parametrize("role", EDITORS)
def test_owner_hr_and_director_publish_but_consultants_may_not(
    personas: Personas, role: Role
) -> None:
    a, client = personas.a, personas.a.client(role)
    response = send(client, "post", version_url(a, a.draft, "publish/"), {"note": "Agreed"})
    a.draft.refresh_from_db()
    if role not in PUBLISHERS:
        assert response.status_code == 403
        assert a.draft.status == VersionStatus.DRAFT
        return
    assert response.status_code == 200
    assert response.json()["status"] == "published"
    assert response.json()["note"] == "Agreed"
    before = document(a.draft)
    assert send(client, "put", version_url(a, a.draft), renamed(a.draft, "Late")).status_code == 403
    assert document(a.draft) == before


@pytest.mark.parametrize(("target", "method"), [("put", "put"), ("publish/", "post")])
def test_the_library_framework_is_read_only_even_for_owners(
    personas: Personas, target: str, method: str
) -> None:
    url = version_url(personas.a, personas.library_version, "" if target == "put" else target)
    before = snapshot()
    response = send(personas.a.client(Role.OWNER), method, url, fw.to_data(fw.shipped()))
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("json", "application/json"),
        ("yaml", "application/yaml"),
        ("case", "application/json"),
        ("xml", None),
    ],
)
def test_a_version_is_served_as_json_yaml_or_case_but_not_xml(
    personas: Personas, fmt: str, content_type: str | None
) -> None:
    a = personas.a
    response = a.client(Role.PARTICIPANT).get(version_url(a, a.published) + f"?as={fmt}")
    if content_type is None:
        assert response.status_code == 400
        return
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == content_type
    assert fw.loads(response.content.decode(), fmt) == get_version_document(a.published)
    assert ("CFDocument" in response.content.decode()) == (fmt == "case")


@pytest.mark.parametrize("fmt", ["json", "case"])
def test_importing_a_document_creates_a_new_draft_framework(personas: Personas, fmt: str) -> None:
    a = personas.a
    body = json.loads(fw.dumps(fw.shipped(), fmt))
    count = Framework.objects.count()
    response = send(a.client(Role.HR), "post", frameworks_url(a), body)
    assert response.status_code == 201
    assert Framework.objects.count() == count + 1
    created = Framework.objects.get(pk=response.json()["id"])
    assert created.organisation == a.org
    assert [(v.number, v.status) for v in created.versions.all()] == [(1, "draft")]
    stored = get_version_document(created.versions.get())
    assert stored.key == "warwick-2006-2"  # the copy in the fixture holds warwick-2006
    assert dataclasses.replace(stored, key=fw.shipped().key) == fw.shipped()


def test_importing_a_broken_document_answers_400_with_located_problems(personas: Personas) -> None:
    count = Framework.objects.count()
    response = send(
        personas.a.client(Role.OWNER), "post", frameworks_url(personas.a), broken_shipped()
    )
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert all(set(p) == {"location", "message"} for p in problems)
    assert {
        "location": "roles[0].elements[0].competencies[0].refs[0]",
        "message": "unknown competency 'no-such-competency'",
    } in problems
    assert Framework.objects.count() == count


def _duplicate(data: dict[str, Any]) -> None:
    data["competencies"].append({"key": "analytical", "name": "Analytical again", "kind": "C"})


def _empty_title(data: dict[str, Any]) -> None:
    data["title"] = "  "


def _wrong_kind(data: dict[str, Any]) -> None:
    data["competencies"][2]["kind"] = "X"


@pytest.mark.parametrize(
    ("mutate", "location", "message"),
    [
        (_duplicate, "competencies[54].key", "duplicate id 'analytical'"),
        (_empty_title, "title", "empty text"),
        (_wrong_kind, "competencies[2].kind", "wrong kind 'X': use C, A or C/A"),
    ],
    ids=["duplicate-id", "empty-title", "wrong-kind"],
)
def test_validate_reports_each_problem_with_its_location(
    personas: Personas, mutate: Callable[[dict[str, Any]], None], location: str, message: str
) -> None:
    data = copy.deepcopy(fw.to_data(fw.shipped()))
    mutate(data)
    count = Framework.objects.count()
    response = send(personas.a.client(Role.PARTICIPANT), "post", VALIDATE, data)
    assert response.status_code == 200
    assert response.json() == {
        "valid": False,
        "problems": [{"location": location, "message": message}],
    }
    assert Framework.objects.count() == count


@pytest.mark.parametrize("fmt", ["json", "case"])
def test_validate_accepts_a_good_document(personas: Personas, fmt: str) -> None:
    body = json.loads(fw.dumps(fw.shipped(), fmt))
    response = send(personas.a.client(Role.ASSESSOR), "post", VALIDATE, body)
    assert response.json() == {"valid": True, "problems": []}


def test_diff_of_a_draft_shows_a_renamed_competency(personas: Personas) -> None:
    a, client = personas.a, personas.a.client(Role.DIRECTOR)
    old = document(a.draft)["competencies"][0]
    send(client, "put", version_url(a, a.draft), renamed(a.draft, "Sharp analysis"))
    for suffix in ("diff/", "diff/?against=1"):
        changes = client.get(version_url(a, a.draft, suffix)).json()
        assert changes == [changed(f"competency {old['key']} name", old["name"], "Sharp analysis")]


@pytest.mark.parametrize("against", ["-1", "1.5", "-1.175494351e-38", "²", "one", ""])
def test_diff_against_something_other_than_a_version_number_answers_400(
    personas: Personas, against: str
) -> None:
    a = personas.a
    client = a.client(Role.DIRECTOR)
    response = client.get(version_url(a, a.draft, f"diff/?against={quote(against)}"))
    assert response.status_code == 400
    assert [p["location"] for p in response.json()["problems"]] == ["against"]


def test_fetching_a_version_in_an_unknown_format_answers_400_naming_the_parameter(
    personas: Personas,
) -> None:
    a = personas.a
    response = a.client(Role.DIRECTOR).get(version_url(a, a.published, "?as=xml"))
    assert response.status_code == 400
    assert [p["location"] for p in response.json()["problems"]] == ["as"]


def test_diff_of_a_copys_first_version_compares_with_the_library_parent(
    personas: Personas,
) -> None:
    a = personas.a
    changes = a.client(Role.PARTICIPANT).get(version_url(a, a.published, "diff/")).json()
    assert changes == [changed("framework title", personas.library.title, "Alpha KAM framework")]


@pytest.mark.parametrize("role", EDITORS)
def test_editors_copy_the_library_into_their_organisation(personas: Personas, role: Role) -> None:
    a = personas.a
    url = framework_url(a, personas.library.pk, "copy/")
    response = send(a.client(role), "post", url, {"title": "Our copy"})
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Our copy"
    assert body["parent"] == {"framework": personas.library.pk, "version": 1}
    assert Framework.objects.get(pk=body["id"]).organisation == a.org


def test_a_title_longer_than_the_schema_allows_is_refused_even_if_it_starts_with_a_space(
    personas: Personas,
) -> None:
    a = personas.a
    client, url = a.client(Role.DIRECTOR), framework_url(a, personas.library.pk, "copy/")
    count = Framework.objects.count()
    response = send(client, "post", url, {"title": "\r" + "x" * 200})
    assert response.status_code == 400
    assert [p["location"] for p in response.json()["problems"]] == ["title"]
    assert Framework.objects.count() == count
    assert send(client, "post", url, {"title": " " + "x" * 199}).json()["title"] == "x" * 199


def test_the_schema_describes_parent_as_the_object_the_api_returns(personas: Personas) -> None:
    schema = yaml.safe_load(personas.a.client(Role.OWNER).get(f"{API}/schema/").content)
    parent = schema["components"]["schemas"]["Framework"]["properties"]["parent"]
    assert parent.get("type") != "string"
