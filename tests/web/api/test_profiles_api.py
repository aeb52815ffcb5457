"""The role profile and weighting exercise API: scoping, roles, changes, answers and results."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kamfit.orgs.models import Role
from kamfit.profiles import services
from kamfit.profiles.models import (
    Participant,
    Profile,
    ProfileVersion,
    Requirement,
    WeightingExercise,
)
from tests.conftest import EDITORS, PUBLISHERS, ROLES, Personas, Side

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

API = "/api/v1"
JSON = "application/json"
READERS = (Role.MANAGER, Role.ASSESSOR, Role.PARTICIPANT)  # published profiles only
# The competencies the "risk" element cites, in catalogue order, and their kinds.
RISK = ("financially-aware", "negotiation", "calculated-risk-taking")


def org_url(side: Side, suffix: str) -> str:
    return f"{API}/organisations/{side.org.slug}/{suffix}"


def profile_url(side: Side, v: ProfileVersion, suffix: str = "") -> str:
    return org_url(side, f"profiles/{v.profile_id}/{suffix}")


def version_url(side: Side, v: ProfileVersion, suffix: str = "") -> str:
    return profile_url(side, v, f"versions/{v.number}/{suffix}")


def exercise_url(side: Side, e: WeightingExercise, suffix: str = "") -> str:
    return org_url(side, f"weighting-exercises/{e.pk}/{suffix}")


def send(client: Client, method: str, url: str, body: object = None) -> TestResponse:
    call = getattr(client, method)
    if method == "get":
        return call(url)  # type: ignore[no-any-return]
    return call(url, json.dumps(body or {}), content_type=JSON)  # type: ignore[no-any-return]


def problems(response: TestResponse) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    return [(p["location"], p["message"]) for p in response.json()["problems"]]


def drafted(
    side: Side, title: str = "Global account manager", elements: tuple[str, ...] = ("risk",)
) -> ProfileVersion:
    return services.create_profile(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        framework_version=side.published,
        title=title,
        element_keys=elements,
    )


def published(side: Side, title: str = "Global account manager") -> ProfileVersion:
    version = drafted(side, title)
    services.publish_version(version, side.users[Role.DIRECTOR])
    version.refresh_from_db()
    return version


def opened(side: Side, version: ProfileVersion, method: str = "points") -> WeightingExercise:
    return services.open_exercise(
        organisation=side.org,
        user=side.users[Role.HR],
        version=version,
        title="Weights 2026",
        method=method,
    )


def invited(side: Side, exercise: WeightingExercise, *roles: Role) -> list[Participant]:
    pairs = [(side.users[role], "sales_director") for role in roles]
    return services.invite_participants(exercise, pairs)


def snapshot() -> tuple[list[tuple[Any, ...]], ...]:
    """Every profile, version, requirement, exercise and participation, to prove nothing changed."""
    return (
        list(Profile.objects.order_by("id").values_list("id", "title")),
        list(
            ProfileVersion.objects.order_by("id").values_list(
                "id", "title", "status", "weights_origin", "time_allocation"
            )
        ),
        list(
            Requirement.objects.order_by("id").values_list(
                "id", "included", "required_level", "weight"
            )
        ),
        list(WeightingExercise.objects.order_by("id").values_list("id", "status", "adopted_at")),
        list(Participant.objects.order_by("id").values_list("id", "status", "answers")),
    )


@pytest.fixture
def a_draft(personas: Personas) -> ProfileVersion:
    return drafted(personas.a)


@pytest.fixture
def a_published(personas: Personas) -> ProfileVersion:
    return published(personas.a, "Strategic account manager")


@pytest.fixture
def a_exercise(personas: Personas, a_published: ProfileVersion) -> WeightingExercise:
    return opened(personas.a, a_published)


@pytest.fixture
def b_world(personas: Personas) -> tuple[ProfileVersion, WeightingExercise]:
    """Org B's published profile, a draft of it and an exercise every B member is invited to."""
    b = personas.b
    version = published(b, "Beta secret profile")
    services.start_new_draft(version.profile, b.users[Role.DIRECTOR])
    exercise = opened(b, version)
    invited(b, exercise, *ROLES)
    return version, exercise


# --- Tenant scoping ----------------------------------------------------------------------------

ANY_BODY = {
    "title": "Hacked",
    "framework_version": 0,
    "elements": ["risk"],
    "equalise": True,
    "user": 0,
    "function": "hr",
    "answers": {},
    "submit": True,
}

B = tuple[ProfileVersion, WeightingExercise]
FOREIGN: dict[str, Callable[[Personas, B], tuple[str, str]]] = {
    "profile": lambda p, b: ("get", profile_url(p.a, b[0])),
    "drafts": lambda p, b: ("post", profile_url(p.a, b[0], "drafts/")),
    "version": lambda p, b: ("get", version_url(p.a, b[0])),
    "patch": lambda p, b: ("patch", version_url(p.a, b[0])),
    "publish": lambda p, b: ("post", version_url(p.a, b[0], "publish/")),
    "job-description": lambda p, b: ("get", version_url(p.a, b[0], "job-description/")),
    "job-description-pdf": lambda p, b: (
        "get",
        version_url(p.a, b[0], "job-description/?format=pdf"),
    ),
    "compare": lambda p, b: ("get", org_url(p.a, f"profiles/compare/?left={b[0].pk}")),
    "exercise": lambda p, b: ("get", exercise_url(p.a, b[1])),
    "invite": lambda p, b: ("post", exercise_url(p.a, b[1], "participants/")),
    "close": lambda p, b: ("post", exercise_url(p.a, b[1], "close/")),
    "results": lambda p, b: ("get", exercise_url(p.a, b[1], "results/")),
    "adopt": lambda p, b: ("post", exercise_url(p.a, b[1], "adopt/")),
    "my-answers": lambda p, b: ("get", exercise_url(p.a, b[1], "my-answers/")),
    "my-answers-put": lambda p, b: ("put", exercise_url(p.a, b[1], "my-answers/")),
    "b-slug-list": lambda p, b: ("get", org_url(p.b, "profiles/")),
    "b-slug-create": lambda p, b: ("post", org_url(p.b, "profiles/")),
    "b-slug-version": lambda p, b: ("get", version_url(p.b, b[0])),
    "b-slug-exercises": lambda p, b: ("get", org_url(p.b, "weighting-exercises/")),
    "b-slug-mine": lambda p, b: ("get", org_url(p.b, "weighting-exercises/mine/")),
    "b-slug-my-answers": lambda p, b: ("get", exercise_url(p.b, b[1], "my-answers/")),
}


@pytest.mark.parametrize(("role", "target"), [(r, t) for r in ROLES for t in FOREIGN])
def test_every_role_gets_404_for_the_other_organisations_profile_or_exercise(
    personas: Personas, b_world: B, role: Role, target: str
) -> None:
    method, url = FOREIGN[target](personas, b_world)
    before = snapshot()
    response = send(personas.a.client(role), method, url, ANY_BODY)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert snapshot() == before


def test_another_organisations_version_cannot_be_weighed_or_compared(
    personas: Personas, b_world: B, a_published: ProfileVersion
) -> None:
    a, (b_version, _) = personas.a, b_world
    client = a.client(Role.OWNER)
    body = {"profile_version": b_version.pk, "title": "Steal", "method": "points"}
    response = send(client, "post", org_url(a, "weighting-exercises/"), body)
    assert problems(response) == [("profile_version", "unknown profile version")]
    url = org_url(a, f"profiles/compare/?left={a_published.pk}&right={b_version.pk}")
    assert client.get(url).status_code == 404
    body = {"framework_version": personas.b.published.pk, "title": "X", "elements": ["risk"]}
    response = send(client, "post", org_url(a, "profiles/"), body)
    assert problems(response) == [("framework_version", "unknown framework version")]
    assert WeightingExercise.objects.filter(organisation=a.org).count() == 0


@pytest.mark.parametrize(
    "endpoint", ["profiles/", "weighting-exercises/", "weighting-exercises/mine/"]
)
def test_anonymous_visitors_are_refused(personas: Personas, endpoint: str) -> None:
    assert Client().get(org_url(personas.a, endpoint)).status_code in {401, 403}


# --- Roles in one's own organisation -----------------------------------------------------------

# (method, url builder, body builder, success status, roles allowed); the fixtures give a
# published v1 with an open exercise (``pub``) and a separate draft-only profile (``draft``).
Url = Callable[[Side, ProfileVersion, ProfileVersion, WeightingExercise], str]
Body = Callable[[Side, ProfileVersion], object]
NO_BODY: Body = lambda s, v: None  # noqa: E731
OWN: dict[str, tuple[str, Url, Body, int, tuple[Role, ...]]] = {
    "list": ("get", lambda s, p, d, e: org_url(s, "profiles/"), NO_BODY, 200, ROLES),
    "create": (
        "post",
        lambda s, p, d, e: org_url(s, "profiles/"),
        lambda s, v: {"framework_version": s.published.pk, "title": "N", "elements": ["risk"]},
        201,
        EDITORS,
    ),
    "profile": ("get", lambda s, p, d, e: profile_url(s, p), NO_BODY, 200, ROLES),
    "version": ("get", lambda s, p, d, e: version_url(s, p), NO_BODY, 200, ROLES),
    "job-description": (
        "get",
        lambda s, p, d, e: version_url(s, p, "job-description/"),
        NO_BODY,
        200,
        ROLES,
    ),
    "compare": (
        "get",
        lambda s, p, d, e: org_url(s, f"profiles/compare/?left={p.pk}&right=paper"),
        NO_BODY,
        200,
        ROLES,
    ),
    "draft-version": ("get", lambda s, p, d, e: version_url(s, d), NO_BODY, 200, EDITORS),
    "patch": (
        "patch",
        lambda s, p, d, e: version_url(s, d),
        lambda s, v: {"title": "Renamed"},
        200,
        EDITORS,
    ),
    "publish": (
        "post",
        lambda s, p, d, e: version_url(s, d, "publish/"),
        NO_BODY,
        200,
        PUBLISHERS,
    ),
    "new-draft": ("post", lambda s, p, d, e: profile_url(s, p, "drafts/"), NO_BODY, 201, EDITORS),
    "exercises": (
        "get",
        lambda s, p, d, e: org_url(s, "weighting-exercises/"),
        NO_BODY,
        200,
        EDITORS,
    ),
    "open": (
        "post",
        lambda s, p, d, e: org_url(s, "weighting-exercises/"),
        lambda s, v: {"profile_version": v.pk, "title": "W", "method": "ranking"},
        201,
        EDITORS,
    ),
    "exercise": ("get", lambda s, p, d, e: exercise_url(s, e), NO_BODY, 200, EDITORS),
    "invite": (
        "post",
        lambda s, p, d, e: exercise_url(s, e, "participants/"),
        lambda s, v: {"user": s.users[Role.MANAGER].pk, "function": "finance"},
        201,
        EDITORS,
    ),
    "close": ("post", lambda s, p, d, e: exercise_url(s, e, "close/"), NO_BODY, 200, EDITORS),
    "results": ("get", lambda s, p, d, e: exercise_url(s, e, "results/"), NO_BODY, 200, EDITORS),
    "mine": (
        "get",
        lambda s, p, d, e: org_url(s, "weighting-exercises/mine/"),
        NO_BODY,
        200,
        ROLES,
    ),
}


ON_DRAFT = {"draft-version", "patch", "publish"}


@pytest.mark.parametrize(("role", "action"), [(r, a) for r in ROLES for a in OWN])
def test_each_role_may_do_exactly_what_its_profile_permissions_allow(  # noqa: PLR0917
    personas: Personas,
    a_published: ProfileVersion,
    a_draft: ProfileVersion,
    a_exercise: WeightingExercise,
    role: Role,
    action: str,
) -> None:
    method, url, body, success, allowed = OWN[action]
    side = personas.a
    before = snapshot()
    target = url(side, a_published, a_draft, a_exercise)
    response = send(side.client(role), method, target, body(side, a_published))
    if role in allowed:
        assert response.status_code == success, response.content
        return
    if action in ON_DRAFT and role not in EDITORS:
        assert response.status_code == 404  # drafts exist only for those who may edit them
    else:
        assert response.status_code == 403
        assert "may not" in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("role", READERS)
def test_roles_that_do_not_edit_see_only_published_versions(
    personas: Personas, a_published: ProfileVersion, a_draft: ProfileVersion, role: Role
) -> None:
    a = personas.a
    services.start_new_draft(a_published.profile, a.users[Role.DIRECTOR])
    client = a.client(role)
    listed = client.get(org_url(a, "profiles/")).json()
    assert [(p["title"], p["latest"]["number"], p["published"]) for p in listed["results"]] == [
        ("Strategic account manager", 1, 1)
    ]
    detail = client.get(profile_url(a, a_published)).json()
    assert [v["number"] for v in detail["versions"]] == [1]
    assert client.get(profile_url(a, a_draft)).status_code == 404
    draft_2 = ProfileVersion.objects.get(profile=a_published.profile, number=2)
    for url in (
        version_url(a, draft_2),
        version_url(a, draft_2, "job-description/"),
        version_url(a, draft_2, "job-description/?format=md"),
        org_url(a, f"profiles/compare/?left={a_published.pk}&right={draft_2.pk}"),
    ):
        assert client.get(url).status_code == 404, url


def test_editors_see_drafts_as_the_latest_version(
    personas: Personas, a_published: ProfileVersion, a_draft: ProfileVersion
) -> None:
    a = personas.a
    services.start_new_draft(a_published.profile, a.users[Role.DIRECTOR])
    body = a.client(Role.CONSULTANT).get(org_url(a, "profiles/")).json()
    assert body["count"] == 2
    rows = {
        p["title"]: (p["latest"]["number"], p["latest"]["status"], p["published"])
        for p in body["results"]
    }
    assert rows == {
        "Global account manager": (1, "draft", None),
        "Strategic account manager": (2, "draft", 1),
    }
    [row] = [p for p in body["results"] if p["id"] == a_published.profile_id]
    assert row["latest"]["framework_version"] == {
        "id": a.published.pk,
        "framework": a.framework.pk,
        "number": 1,
        "title": a.published.title,
    }


# --- Constant query counts ---------------------------------------------------------------------


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.PARTICIPANT])
def test_the_profile_list_takes_as_many_queries_for_one_profile_as_for_many(
    personas: Personas, role: Role
) -> None:
    a = personas.a
    client, url = a.client(role), org_url(a, "profiles/")
    published(a, "First")
    one = count_queries(client, url)
    for n in range(4):
        version = published(a, f"Profile {n}")
        services.start_new_draft(version.profile, a.users[Role.DIRECTOR])
    drafted(a, "Draft only")
    assert count_queries(client, url) == one
    assert client.get(url).json()["count"] == (6 if role == Role.DIRECTOR else 5)


def test_the_exercise_lists_take_as_many_queries_for_one_exercise_as_for_many(
    personas: Personas, a_published: ProfileVersion
) -> None:
    a = personas.a
    client = a.client(Role.HR)
    invited(a, opened(a, a_published), Role.HR, Role.MANAGER)
    lists = [org_url(a, "weighting-exercises/"), org_url(a, "weighting-exercises/mine/")]
    one = [count_queries(client, url) for url in lists]
    for method in ("ranking", "ahp", "points"):
        invited(a, opened(a, a_published, method), Role.HR, Role.OWNER)
    assert [count_queries(client, url) for url in lists] == one
    assert client.get(lists[0]).json()["count"] == 4
    assert len(client.get(lists[1]).json()) == 4


# --- Creating and changing profiles ------------------------------------------------------------


def test_creating_a_profile_answers_201_with_its_draft_version_1(personas: Personas) -> None:
    a = personas.a
    body = {
        "framework_version": a.published.pk,
        "title": "  National   account manager ",
        "elements": ["risk"],
        "summary": "Runs the top 20 accounts.",
    }
    response = send(a.client(Role.HR), "post", org_url(a, "profiles/"), body)
    assert response.status_code == 201, response.content
    v = response.json()
    assert (v["number"], v["title"], v["status"]) == (1, "National account manager", "draft")
    assert v["elements"] == ["risk"]
    assert [
        (r["key"], r["required_level"], r["origin"], r["included"]) for r in v["requirements"]
    ] == [(key, 3, "element", True) for key in RISK]
    assert sum(r["weight"] for r in v["requirements"]) == pytest.approx(100)
    assert [r["kind"] for r in v["requirements"]] == ["C", "C", "A"]
    assert (v["weights_origin"], v["weights_source"]) == (
        "equal",
        "Equal weights (the paper's unweighted list)",
    )
    assert v["summary"] == "Runs the top 20 accounts."
    assert sum(v["time_allocation"].values()) == 100
    assert v["selling_limit"] == 10.0
    assert Profile.objects.get(pk=v["profile"]).organisation == a.org


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"elements": ["risk", "nope"]}, ("elements", "not role elements of")),
        ({"elements": []}, ("elements", "choose at least one role element in scope")),
        ({"title": " "}, ("title", "a title is needed")),
        ({"framework_version": 99999}, ("framework_version", "unknown framework version")),
        ({"framework_version": "x"}, ("framework_version", "A valid integer is required.")),
        ({"elements": "risk"}, ("elements", 'Expected a list of items but got type "str".')),
    ],
    ids=["unknown-element", "no-element", "blank-title", "no-such-version", "nan", "not-a-list"],
)
def test_creating_a_profile_with_bad_input_answers_400_naming_the_field(
    personas: Personas, changes: dict[str, object], expected: tuple[str, str]
) -> None:
    a = personas.a
    body = {"framework_version": a.published.pk, "title": "T", "elements": ["risk"]} | changes
    response = send(a.client(Role.OWNER), "post", org_url(a, "profiles/"), body)
    [(location, message)] = problems(response)
    assert (location, message[: len(expected[1])]) == expected
    assert not Profile.objects.exists()


def test_a_profile_needs_a_published_framework_version(personas: Personas) -> None:
    a = personas.a
    body = {"framework_version": a.draft.pk, "title": "T", "elements": ["risk"]}
    response = send(a.client(Role.OWNER), "post", org_url(a, "profiles/"), body)
    assert problems(response) == [
        ("framework_version", "a profile is built on a published framework version")
    ]


def requirements(side: Side, v: ProfileVersion) -> dict[str, tuple[int, float, bool]]:
    body = side.client(Role.DIRECTOR).get(version_url(side, v)).json()
    return {
        r["key"]: (r["required_level"], r["weight"], r["included"]) for r in body["requirements"]
    }


def test_setting_levels_and_weights_marks_them_set_by_hand(
    personas: Personas, a_draft: ProfileVersion
) -> None:
    a = personas.a
    body = {
        "requirements": {
            "financially-aware": {"level": 4, "weight": 50},
            "negotiation": {"level": 5, "weight": 30},
            "calculated-risk-taking": {"level": 2, "weight": 20},
        }
    }
    response = send(a.client(Role.CONSULTANT), "patch", version_url(a, a_draft), body)
    assert response.status_code == 200, response.content
    assert response.json()["weights_origin"] == "manual"
    assert response.json()["weights_source"] == "Set by hand"
    assert response.json()["notes"] == []
    assert requirements(a, a_draft) == {
        "financially-aware": (4, 50.0, True),
        "negotiation": (5, 30.0, True),
        "calculated-risk-taking": (2, 20.0, True),
    }
    response = send(a.client(Role.CONSULTANT), "patch", version_url(a, a_draft), {"equalise": True})
    assert response.json()["weights_origin"] == "equal"
    assert {w for _, w, _ in requirements(a, a_draft).values()} == {33.34, 33.33}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "requirements": {
                    "financially-aware": {"level": 3, "weight": 50},
                    "negotiation": {"level": 3, "weight": 30},
                    "calculated-risk-taking": {"level": 3, "weight": 10},
                }
            },
            [("weights", "weights sum to 90, not 100")],
        ),
        (
            {
                "requirements": {
                    "financially-aware": {"level": 7, "weight": 50},
                    "negotiation": {"level": 3, "weight": 30},
                    "calculated-risk-taking": {"level": 3, "weight": 20},
                    "nope": {"level": 3, "weight": 0},
                }
            },
            [
                ("requirements.nope", "not a requirement of this profile"),
                ("requirements.financially-aware.level", "must be one of [1, 2, 3, 4, 5], not 7"),
            ],
        ),
        (
            {"requirements": {"negotiation": {"level": "high", "weight": 100}}},
            [("requirements.negotiation.level", "A valid integer is required.")],
        ),
        ({"elements": ["risk", "nope"]}, [("elements", "not role elements of")]),
        ({"add": "no-such-competency"}, [("competency", "no competency 'no-such-competency'")]),
        ({"remove": "drive"}, [("competency", "'drive' is not a requirement of this profile")]),
        (
            {"time_allocation": {"selling": 50, "strategy": 20}},
            [("time_allocation", "the shares sum to 70%, not 100%")],
        ),
        ({"title": ""}, [("title", "a title is needed")]),
        ({"equalise": True, "requirements": {}}, [("equalise", "give either requirements or")]),
        ({"weights": {}}, [("", "nothing to change")]),
    ],
    ids=[
        "weights-not-100",
        "unknown-key-and-off-scale",
        "level-not-a-number",
        "unknown-element",
        "unknown-competency",
        "not-required",
        "time-not-100",
        "blank-title",
        "requirements-and-equalise",
        "nothing",
    ],
)
def test_bad_changes_to_a_draft_answer_400_naming_the_field_and_change_nothing(
    personas: Personas,
    a_draft: ProfileVersion,
    body: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    a = personas.a
    before = snapshot()
    response = send(a.client(Role.OWNER), "patch", version_url(a, a_draft), body)
    found = problems(response)
    assert [(loc, msg[: len(m)]) for (loc, msg), (_, m) in zip(found, expected, strict=True)] == [
        *expected
    ]
    assert snapshot() == before


def test_a_patch_applies_every_change_or_none(personas: Personas, a_draft: ProfileVersion) -> None:
    a = personas.a
    client, url = a.client(Role.HR), version_url(a, a_draft)
    before = snapshot()
    body = {"title": "Renamed", "add": "drive", "equalise": True, "remove": "nope"}
    assert problems(send(client, "patch", url, body))[0][0] == "competency"
    assert snapshot() == before
    body = {
        "title": "Renamed",
        "summary": "Owns the account plan.",
        "elements": ["risk", "resources"],
        "add": "drive",
        "remove": "negotiation",
        "time_allocation": {
            "selling": 15,
            "strategy": 20,
            "relationships": 25,
            "orchestration": 20,
            "reporting": 10,
            "development": 10,
        },
    }
    response = send(client, "patch", url, body)
    assert response.status_code == 200, response.content
    v = response.json()
    assert (v["title"], v["summary"]) == ("Renamed", "Owns the account plan.")
    assert v["elements"] == ["risk", "resources"]
    assert any("joined" in note for note in v["notes"])
    assert any("selling" in note.lower() for note in v["notes"])  # 15% is above the 10% limit
    included = {r["key"] for r in v["requirements"] if r["included"]}
    assert "drive" in included
    assert "negotiation" not in included
    assert next(r for r in v["requirements"] if r["key"] == "drive")["origin"] == "added"
    assert sum(r["weight"] for r in v["requirements"]) == pytest.approx(100)
    assert v["time_allocation"]["selling"] == 15


def test_a_published_version_never_changes(personas: Personas, a_published: ProfileVersion) -> None:
    a = personas.a
    before = snapshot()
    client = a.client(Role.OWNER)
    response = send(client, "patch", version_url(a, a_published), {"title": "Changed"})
    assert response.status_code == 403
    assert response.json() == {"detail": "A published version never changes: start a new draft."}
    assert send(client, "post", version_url(a, a_published, "publish/")).status_code == 403
    assert snapshot() == before


def test_publishing_a_draft_then_starting_the_next_one(
    personas: Personas, a_draft: ProfileVersion
) -> None:
    a = personas.a
    client = a.client(Role.DIRECTOR)
    response = send(client, "post", version_url(a, a_draft, "publish/"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    assert response.json()["published_at"] is not None
    first = send(client, "post", profile_url(a, a_draft, "drafts/"))
    assert first.status_code == 201
    assert (first.json()["number"], first.json()["status"]) == (2, "draft")
    again = send(client, "post", profile_url(a, a_draft, "drafts/"))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_a_draft_whose_weights_do_not_sum_to_100_cannot_be_published(
    personas: Personas, a_draft: ProfileVersion
) -> None:
    a = personas.a
    Requirement.objects.filter(version=a_draft).update(weight=10)
    response = send(a.client(Role.OWNER), "post", version_url(a, a_draft, "publish/"))
    assert problems(response) == [("weights", "weights sum to 30, not 100")]
    a_draft.refresh_from_db()
    assert a_draft.status == "draft"


# --- Job description and comparison ------------------------------------------------------------


def test_the_job_description_is_json_markdown_pdf_or_docx(
    personas: Personas, a_published: ProfileVersion
) -> None:
    a = personas.a
    client, url = a.client(Role.PARTICIPANT), version_url(a, a_published, "job-description/")
    jd = client.get(url).json()
    assert (jd["title"], jd["version"], jd["status"]) == (
        "Strategic account manager",
        1,
        "published",
    )
    assert [r["key"] for r in jd["requirements"]] == list(RISK)
    assert [e["label"] for e in jd["elements"]] == ["Risk"] or len(jd["elements"]) == 1
    assert all(len(pair) == 2 for pair in jd["time_allocation"])
    assert "Woodburn" in jd["citation"]
    markdown = client.get(url + "?format=md")
    assert markdown.status_code == 200
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"
    assert "Strategic account manager" in markdown.content.decode()
    pdf = client.get(url + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"].startswith('attachment; filename="')
    docx = client.get(url + "?format=docx")
    assert docx["Content-Type"].endswith("wordprocessingml.document")
    assert docx.content.startswith(b"PK")
    response = client.get(url + "?format=xml")
    assert problems(response) == [("format", "use json, md, pdf or docx, not 'xml'")]


def test_comparing_with_the_paper_and_with_another_version(
    personas: Personas, a_published: ProfileVersion
) -> None:
    a = personas.a
    other = drafted(a, "Planner", ("planning",))
    client = a.client(Role.DIRECTOR)
    base = org_url(a, f"profiles/compare/?left={a_published.pk}")
    paper = client.get(base).json()
    assert paper["left"]["id"] == a_published.pk
    assert paper["right"] is None
    assert [r["key"] for r in paper["rows"]] == list(RISK)
    assert {r["right_level"] for r in paper["rows"]} == {None}
    side_by_side = client.get(f"{base}&right={other.pk}").json()
    assert side_by_side["right"]["id"] == other.pk
    keys = [r["key"] for r in side_by_side["rows"]]
    assert keys[:3] == list(RISK)
    negotiation = side_by_side["rows"][1]
    assert negotiation["right_weight"] is None
    assert negotiation["weight_difference"] == pytest.approx(-negotiation["left_weight"])
    assert problems(client.get(org_url(a, "profiles/compare/?left=x&right=y"))) == [
        ("left", "a profile version's ID is needed, not 'x'"),
        ("right", "a profile version's ID is needed, not 'y'"),
    ]
    # "²" is a digit to str.isdigit() but not a number to int(): refused, not a server error.
    assert problems(client.get(org_url(a, "profiles/compare/?left=%C2%B2"))) == [
        ("left", "a profile version's ID is needed, not '²'"),
    ]


# --- Weighting exercises -----------------------------------------------------------------------


def test_opening_an_exercise_freezes_its_items(
    personas: Personas, a_published: ProfileVersion
) -> None:
    a = personas.a
    body = {"profile_version": a_published.pk, "title": "Board view", "method": "ahp"}
    response = send(a.client(Role.CONSULTANT), "post", org_url(a, "weighting-exercises/"), body)
    assert response.status_code == 201, response.content
    e = response.json()
    assert (e["method"], e["status"], e["invited"], e["submitted"]) == ("ahp", "open", 0, 0)
    assert e["profile_version"] == {
        "id": a_published.pk,
        "profile": a_published.profile_id,
        "number": 1,
    }
    assert [i["key"] for i in e["items"]] == list(RISK)
    assert e["groups"] == [{"key": "g1", "label": "All requirements", "members": [0, 1, 2]}]
    assert e["participants"] == []
    assert e["adopted_into"] is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"method": "delphi"}, ("method", '"delphi" is not a valid choice.')),
        ({"total_points": 5}, ("total_points", "must be between 10 and 1000, not 5")),
        ({"title": ""}, ("title", "a title is needed")),
        ({"profile_version": 0}, ("profile_version", "unknown profile version")),
    ],
    ids=["method", "points", "title", "version"],
)
def test_opening_an_exercise_with_bad_input_answers_400(
    personas: Personas,
    a_published: ProfileVersion,
    changes: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    a = personas.a
    body = {"profile_version": a_published.pk, "title": "W", "method": "points"} | changes
    response = send(a.client(Role.OWNER), "post", org_url(a, "weighting-exercises/"), body)
    assert problems(response) == [expected]
    assert not WeightingExercise.objects.exists()


def test_inviting_members_once_with_their_function(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a, url = personas.a, exercise_url(personas.a, a_exercise, "participants/")
    client = a.client(Role.DIRECTOR)
    body = {"user": a.users[Role.PARTICIPANT].pk, "function": "kam"}
    response = send(client, "post", url, body)
    assert response.status_code == 201
    created = response.json()
    assert created | {"id": 0} == {
        "id": 0,
        "user": a.users[Role.PARTICIPANT].pk,
        "username": "alpha-participant",
        "function": "kam",
        "status": "invited",
        "submitted_at": None,
    }
    again = send(client, "post", url, body)
    assert (again.status_code, again.json()["id"]) == (200, created["id"])
    outsider = {"user": personas.b.users[Role.OWNER].pk, "function": "hr"}
    assert problems(send(client, "post", url, outsider)) == [
        ("user", "not a member of this organisation")
    ]
    bad = {"user": a.users[Role.HR].pk, "function": "astrologer"}
    assert problems(send(client, "post", url, bad)) == [
        ("function", '"astrologer" is not a valid choice.')
    ]
    detail = client.get(exercise_url(a, a_exercise)).json()
    assert [p["username"] for p in detail["participants"]] == ["alpha-participant"]
    assert detail["invited"] == 1


def my_answers(
    side: Side, exercise: WeightingExercise, role: Role, body: object = None
) -> TestResponse:
    url = exercise_url(side, exercise, "my-answers/")
    client = side.client(role)
    return client.get(url) if body is None else send(client, "put", url, body)


def test_a_participant_saves_submits_and_cannot_change_the_answers_after(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a = personas.a
    invited(a, a_exercise, Role.PARTICIPANT)
    mine = my_answers(a, a_exercise, Role.PARTICIPANT).json()
    assert (mine["status"], mine["answers"], mine["submitted_at"]) == ("invited", {}, None)
    assert mine["exercise"] | {"items": [], "id": 0} == {
        "id": 0,
        "title": "Weights 2026",
        "method": "points",
        "open": True,
        "total_points": 100,
        "items": [],
        "groups": [],
    }
    assert [i["key"] for i in mine["exercise"]["items"]] == list(RISK)
    saved = my_answers(a, a_exercise, Role.PARTICIPANT, {"answers": {"negotiation": "40"}})
    assert saved.status_code == 200, saved.content
    assert (saved.json()["status"], saved.json()["answers"]) == ("started", {"negotiation": 40.0})
    answers = {"financially-aware": 50, "negotiation": 30, "calculated-risk-taking": 20}
    done = my_answers(a, a_exercise, Role.PARTICIPANT, {"answers": answers, "submit": True})
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "submitted"
    assert done.json()["submitted_at"] is not None
    before = snapshot()
    again = my_answers(a, a_exercise, Role.PARTICIPANT, {"answers": answers | {"negotiation": 0}})
    assert again.status_code == 409
    assert again.json() == {"detail": "Your weights are submitted and final."}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "answers", "expected"),
    [
        (
            "points",
            {"financially-aware": 50, "negotiation": 30, "calculated-risk-taking": 10},
            "points sum to 90, not 100",
        ),
        (
            "ranking",
            {"financially-aware": 1, "negotiation": 3, "calculated-risk-taking": 4},
            "2 is missing",
        ),
        ("ahp", {"g1": {"0-1": 3, "0-2": 12, "1-2": 1}}, "must be between 1/9 and 9, not 12"),
        ("ahp", {"g1": {"0-1": 3, "0-2": 0, "1-2": 1}}, "must be between 1/9 and 9, not 0"),
        ("ahp", {"g1": {"0-1": 3, "1-0": 3, "0-2": 2, "1-2": 1}}, "give each pair once"),
        ("ahp", {"g1": {"0-1": 3, "0-2": 2}}, "missing: no judgement for this pair"),
        ("ahp", {"g2": {"0-1": 3}}, "not a group of this exercise"),
        ("points", {"negotiation": 100, "nope": 0}, "not an item of this exercise"),
        ("ranking", {"financially-aware": "first"}, "a number is needed, not 'first'"),
    ],
    ids=[
        "points-not-100",
        "rank-gap",
        "ahp-above-9",
        "ahp-zero",
        "ahp-non-reciprocal-pair",
        "ahp-missing-pair",
        "ahp-unknown-group",
        "unknown-item",
        "rank-not-a-number",
    ],
)
def test_bad_answers_answer_400_naming_the_answer_and_are_not_submitted(
    personas: Personas,
    a_published: ProfileVersion,
    method: str,
    answers: dict[str, Any],
    expected: str,
) -> None:
    a = personas.a
    exercise = opened(a, a_published, method)
    invited(a, exercise, Role.ASSESSOR)
    response = my_answers(a, exercise, Role.ASSESSOR, {"answers": answers, "submit": True})
    found = problems(response)
    assert any(expected in message for _, message in found), found
    assert all(location for location, _ in found)
    assert my_answers(a, exercise, Role.ASSESSOR).json()["status"] != "submitted"


def test_a_refused_submit_keeps_the_answers_saved(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a = personas.a
    invited(a, a_exercise, Role.MANAGER)
    answers = {"financially-aware": 50, "negotiation": 30, "calculated-risk-taking": 10}
    response = my_answers(a, a_exercise, Role.MANAGER, {"answers": answers, "submit": True})
    assert response.status_code == 400
    mine = my_answers(a, a_exercise, Role.MANAGER).json()
    assert (mine["status"], mine["answers"]) == ("started", answers)
    answers["calculated-risk-taking"] = 20
    assert my_answers(a, a_exercise, Role.MANAGER, {"answers": answers}).status_code == 200
    done = my_answers(a, a_exercise, Role.MANAGER, {"submit": True})
    assert (done.status_code, done.json()["status"]) == (200, "submitted")
    assert done.json()["answers"] == answers


@pytest.mark.parametrize("role", ROLES)
def test_a_member_who_was_not_invited_gets_404_for_my_answers(
    personas: Personas, a_exercise: WeightingExercise, role: Role
) -> None:
    a = personas.a
    before = snapshot()
    assert my_answers(a, a_exercise, role).status_code == 404
    response = my_answers(a, a_exercise, role, {"answers": {"negotiation": 100}, "submit": True})
    assert response.status_code == 404
    assert snapshot() == before


def test_an_invited_participant_answers_but_never_reads_the_exercise_or_others_answers(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a = personas.a
    other, _ = invited(a, a_exercise, Role.MANAGER, Role.PARTICIPANT)
    secret = {"financially-aware": 97, "negotiation": 2, "calculated-risk-taking": 1}
    services.save_answers(other, secret, submit=True)
    client = a.client(Role.PARTICIPANT)
    responses = [
        client.get(org_url(a, "weighting-exercises/")),
        client.get(exercise_url(a, a_exercise)),
        client.get(exercise_url(a, a_exercise, "results/")),
        send(client, "post", exercise_url(a, a_exercise, "adopt/")),
        client.get(exercise_url(a, a_exercise, "my-answers/")),
        client.get(org_url(a, "weighting-exercises/mine/")),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403, 200, 200]
    for response in responses:
        assert "97" not in response.content.decode()
    assert responses[-1].json() == [
        {
            "exercise": {
                "id": a_exercise.pk,
                "title": "Weights 2026",
                "method": "points",
                "open": True,
            },
            "function": "sales_director",
            "status": "invited",
        }
    ]


def test_a_closed_exercise_refuses_closing_inviting_and_answering_with_409(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a, client = personas.a, personas.a.client(Role.OWNER)
    invited(a, a_exercise, Role.PARTICIPANT)
    response = send(client, "post", exercise_url(a, a_exercise, "close/"))
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert response.json()["closed_at"] is not None
    before = snapshot()
    assert send(client, "post", exercise_url(a, a_exercise, "close/")).status_code == 409
    body = {"user": a.users[Role.HR].pk, "function": "hr"}
    response = send(client, "post", exercise_url(a, a_exercise, "participants/"), body)
    assert response.status_code == 409
    assert response.json() == {"detail": "This exercise is closed."}
    response = my_answers(a, a_exercise, Role.PARTICIPANT, {"answers": {"negotiation": 1}})
    assert response.status_code == 409
    assert my_answers(a, a_exercise, Role.PARTICIPANT).json()["exercise"]["open"] is False
    assert snapshot() == before


def submit(side: Side, exercise: WeightingExercise, answers: dict[Role, dict[str, Any]]) -> None:
    participants = invited(side, exercise, *answers)
    for participant, given in zip(participants, answers.values(), strict=True):
        services.save_answers(participant, given, submit=True)


def test_points_results_hold_each_respondents_weights_the_consensus_and_kendalls_w(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a = personas.a
    submit(
        a,
        a_exercise,
        {
            Role.HR: {"financially-aware": 50, "negotiation": 30, "calculated-risk-taking": 20},
            Role.MANAGER: {
                "financially-aware": 60,
                "negotiation": 30,
                "calculated-risk-taking": 10,
            },
        },
    )
    invited(a, a_exercise, Role.PARTICIPANT)
    r = a.client(Role.DIRECTOR).get(exercise_url(a, a_exercise, "results/")).json()
    assert (r["method"], r["invited"], r["submitted"]) == ("points", 3, 2)
    assert [i["key"] for i in r["items"]] == list(RISK)
    assert sum(i["consensus"] for i in r["items"]) == pytest.approx(100)
    assert r["items"][0]["consensus"] == pytest.approx(55)
    assert r["split_order"][0] in {"financially-aware", "calculated-risk-taking"}
    assert set(r["split_order"]) == set(RISK)
    assert r["agreement"] == {
        "w": pytest.approx(1.0),
        "chi2": pytest.approx(4.0),
        "df": 2,
        "p_value": pytest.approx(0.1353, abs=1e-4),
        "raters": 2,
        "items": 3,
    }
    assert [
        (x["username"], x["function"], x["cr"], x["inconsistent"]) for x in r["respondents"]
    ] == [
        ("alpha-hr", "sales_director", None, False),
        ("alpha-manager", "sales_director", None, False),
    ]
    assert r["respondents"][0]["weights"] == {
        "financially-aware": pytest.approx(50),
        "negotiation": pytest.approx(30),
        "calculated-risk-taking": pytest.approx(20),
    }


def test_ahp_results_flag_an_inconsistent_respondent(
    personas: Personas, a_published: ProfileVersion
) -> None:
    a = personas.a
    exercise = opened(a, a_published, "ahp")
    submit(
        a,
        exercise,
        {
            Role.HR: {"g1": {"0-1": 2, "0-2": 4, "1-2": 2}},  # perfectly consistent
            Role.OWNER: {"g1": {"0-1": 9, "0-2": 1 / 9, "1-2": 9}},  # a cycle
        },
    )
    r = a.client(Role.HR).get(exercise_url(a, exercise, "results/")).json()
    consistent, cyclic = r["respondents"]
    assert consistent["cr"] == pytest.approx(0, abs=1e-9)
    assert consistent["inconsistent"] is False
    assert cyclic["cr"] > r["cr_threshold"] == 0.1
    assert cyclic["inconsistent"] is True
    assert consistent["weights"]["financially-aware"] == pytest.approx(400 / 7)


def test_results_before_anyone_submits_are_empty(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a = personas.a
    r = a.client(Role.OWNER).get(exercise_url(a, a_exercise, "results/")).json()
    assert (r["submitted"], r["agreement"], r["respondents"], r["split_order"]) == (0, None, [], [])
    assert {(i["consensus"], i["spread"]) for i in r["items"]} == {(None, None)}
    response = send(a.client(Role.OWNER), "post", exercise_url(a, a_exercise, "adopt/"))
    assert response.status_code == 409
    assert "Nobody has submitted" in response.json()["detail"]


def test_adopting_the_consensus_writes_it_into_a_new_draft_once(
    personas: Personas, a_exercise: WeightingExercise
) -> None:
    a = personas.a
    submit(
        a,
        a_exercise,
        {Role.HR: {"financially-aware": 70, "negotiation": 20, "calculated-risk-taking": 10}},
    )
    client = a.client(Role.CONSULTANT)
    response = send(client, "post", exercise_url(a, a_exercise, "adopt/"))
    assert response.status_code == 200, response.content
    draft = response.json()
    assert (draft["number"], draft["status"], draft["weights_origin"]) == (2, "draft", "exercise")
    assert draft["weights_note"]["exercise_id"] == a_exercise.pk
    assert draft["weights_source"].startswith("Adopted from the weighting exercise “Weights 2026”")
    weights = {r["key"]: r["weight"] for r in draft["requirements"]}
    assert weights == {
        "financially-aware": pytest.approx(70),
        "negotiation": pytest.approx(20),
        "calculated-risk-taking": pytest.approx(10),
    }
    detail = client.get(exercise_url(a, a_exercise)).json()
    assert detail["status"] == "closed"
    assert detail["adopted_into"] == {"id": draft["id"], "profile": draft["profile"], "number": 2}
    again = send(client, "post", exercise_url(a, a_exercise, "adopt/"))
    assert again.status_code == 409


def test_the_schema_lists_every_profile_and_exercise_path(personas: Personas) -> None:
    schema = yaml.safe_load(personas.a.client(Role.PARTICIPANT).get(f"{API}/schema/").content)
    org = f"{API}/organisations/{{org}}/"
    version = f"{org}profiles/{{id}}/versions/{{number}}/"
    exercise = f"{org}weighting-exercises/{{id}}/"
    assert {
        f"{org}profiles/",
        f"{org}profiles/compare/",
        f"{org}profiles/{{id}}/",
        f"{org}profiles/{{id}}/drafts/",
        version,
        f"{version}publish/",
        f"{version}job-description/",
        f"{org}weighting-exercises/",
        f"{org}weighting-exercises/mine/",
        exercise,
        f"{exercise}participants/",
        f"{exercise}close/",
        f"{exercise}results/",
        f"{exercise}adopt/",
        f"{exercise}my-answers/",
    } <= set(schema["paths"])
    assert set(schema["paths"][version]) == {"get", "patch"}
    assert set(schema["paths"][f"{exercise}my-answers/"]) == {"get", "put"}
    assert {
        t for p in schema["paths"].values() for op in p.values() for t in op.get("tags", [])
    } >= {"profiles"}
