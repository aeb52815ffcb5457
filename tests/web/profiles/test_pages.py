"""Role profile pages: who sees and changes what, the job description, exercises, query counts."""

from __future__ import annotations

import io
import re

import docx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kamfit.frameworks.models import RoleElement
from kamfit.orgs.models import Role
from kamfit.profiles import services
from kamfit.profiles.models import (
    Method,
    Participant,
    Profile,
    ProfileStatus,
    ProfileVersion,
    Requirement,
    WeightingExercise,
)
from tests.conftest import EDITORS, PUBLISHERS, ROLES, Personas, Side

pytestmark = pytest.mark.django_db

NON_EDITORS = tuple(r for r in ROLES if r not in EDITORS)


def make(
    side: Side, elements: tuple[str, ...] = ("risk",), title: str = "Global KAM"
) -> ProfileVersion:
    return services.create_profile(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        framework_version=side.published,
        title=title,
        element_keys=list(elements),
    )


def vurl(v: ProfileVersion, name: str = "version") -> str:
    return reverse(f"profiles:{name}", args=[v.profile.organisation.slug, v.profile_id, v.number])


def test_draft_is_hidden_from_non_editors_and_other_organisations(personas: Personas) -> None:
    a = personas.a
    draft = make(a)
    for role in EDITORS:
        assert a.client(role).get(vurl(draft)).status_code == 200
    for role in NON_EDITORS:
        assert a.client(role).get(vurl(draft)).status_code == 404
        assert (
            draft.title
            not in a.client(role).get(reverse("profiles:list", args=[a.org.slug])).content.decode()
        )
    for role in ROLES:  # another organisation's profile: 404 under either slug
        assert personas.b.client(role).get(vurl(draft)).status_code == 404
        other = reverse("profiles:version", args=[personas.b.org.slug, draft.profile_id, 1])
        assert personas.b.client(role).get(other).status_code == 404


def test_published_version_is_readable_by_every_member(personas: Personas) -> None:
    a = personas.a
    v = make(a)
    services.publish_version(v, a.users[Role.DIRECTOR])
    for role in ROLES:
        page = a.client(role).get(vurl(v))
        assert page.status_code == 200
        assert "Woodburn" in page.content.decode()  # the source is credited
        jd = a.client(role).get(vurl(v, "jd"))
        assert jd.status_code == 200 and "What the company commits to" in jd.content.decode()


def test_only_editors_change_drafts_and_only_publishers_publish(personas: Personas) -> None:
    a = personas.a
    v = make(a)
    for role in NON_EDITORS:
        r = a.client(role).post(vurl(v, "edit"), {"action": "equalise"})
        assert r.status_code == 404  # drafts do not exist for them
    r = a.client(Role.CONSULTANT).post(vurl(v, "publish"))
    assert r.status_code == 403
    assert ProfileVersion.objects.get(pk=v.pk).status == ProfileStatus.DRAFT
    r = personas.b.client(Role.OWNER).post(vurl(v, "edit"), {"action": "equalise"})
    assert r.status_code == 404
    for role in PUBLISHERS[:1]:
        assert a.client(role).post(vurl(v, "publish")).status_code == 302
    assert ProfileVersion.objects.get(pk=v.pk).status == ProfileStatus.PUBLISHED
    r = a.client(Role.DIRECTOR).post(vurl(v, "edit"), {"action": "equalise"})
    assert r.status_code == 403  # a published version never changes


def test_director_builds_a_profile_in_the_browser_forms(personas: Personas) -> None:
    a = personas.a
    c = a.client(Role.DIRECTOR)
    r = c.post(
        reverse("profiles:new", args=[a.org.slug]),
        {"framework_version": a.published.pk, "title": "National account manager",
         "elements": ["risk", "credibility"], "summary": "Looks after national chains."},
    )  # fmt: skip
    assert r.status_code == 302
    v = ProfileVersion.objects.get(title="National account manager")
    keys = list(
        Requirement.objects.filter(version=v, included=True).values_list(
            "competency__key", flat=True
        )
    )
    weights = [100 - 2 * (len(keys) - 1)] + [2] * (len(keys) - 1)
    data = {"action": "requirements", "key": keys}
    for k, w in zip(keys, weights, strict=True):
        data[f"level-{k}"] = "4"
        data[f"weight-{k}"] = str(w)
    assert c.post(vurl(v, "edit"), data).status_code == 302
    assert Requirement.objects.get(version=v, competency__key=keys[0]).weight == weights[0]
    data[f"weight-{keys[0]}"] = "1"  # now they sum to less than 100
    page = c.post(vurl(v, "edit"), data, follow=True).content.decode()
    assert "weights sum to" in page
    time = {"action": "time", "time-selling": "40", "time-strategy": "20",
            "time-relationships": "20", "time-orchestration": "10", "time-reporting": "5",
            "time-development": "5"}  # fmt: skip
    page = c.post(vurl(v, "edit"), time, follow=True).content.decode()
    assert "5–10%" in page and "above the 10% line" in page


def test_job_description_downloads(personas: Personas) -> None:
    a = personas.a
    v = make(a, ("risk", "credibility"))
    c = a.client(Role.HR)
    md = c.get(vurl(v, "jd").replace("job-description/", "job-description.md"))
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    text = md.content.decode()
    assert text.startswith("# Global KAM") and "Woodburn" in text
    word = c.get(vurl(v, "jd").replace("job-description/", "job-description.docx"))
    assert word.status_code == 200 and "attachment" in word["Content-Disposition"]
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert "Global KAM" in paragraphs[0]
    pdf = c.get(vurl(v, "jd").replace("job-description/", "job-description.pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert (
        c.get(vurl(v, "jd").replace("job-description/", "job-description.exe")).status_code == 404
    )
    assert (
        a.client(Role.PARTICIPANT)
        .get(vurl(v, "jd").replace("job-description/", "job-description.md"))
        .status_code
        == 404
    )


def test_compare_two_profiles_and_with_the_paper(personas: Personas) -> None:
    a = personas.a
    left = make(a, ("risk",), "Left")
    right = make(a, ("credibility",), "Right")
    c = a.client(Role.DIRECTOR)
    url = reverse("profiles:compare", args=[a.org.slug])
    page = c.get(url, {"left": str(left.pk), "right": str(right.pk)}).content.decode()
    assert "Left v1" in page and "Right v1" in page and "Weight overlap" in page
    paper = c.get(url, {"left": str(left.pk), "right": "paper"}).content.decode()
    assert "The paper (unweighted)" in paper
    other = make(personas.b, ("risk",), "Theirs")
    assert c.get(url, {"left": str(other.pk)}).status_code == 404
    assert a.client(Role.PARTICIPANT).get(url, {"left": str(left.pk)}).status_code == 404  # a draft


def _exercise(side: Side, method: str = Method.POINTS) -> WeightingExercise:
    v = make(side)
    c = side.client(Role.DIRECTOR)
    r = c.post(
        reverse("profiles:exercise_new", args=[side.org.slug, v.profile_id, v.number]),
        {"title": "Stakeholder weights", "method": method, "total_points": "100"},
    )
    assert r.status_code == 302
    exercise = WeightingExercise.objects.get(profile_version=v)
    for role, function in (
        (Role.DIRECTOR, "kam_director"),
        (Role.HR, "hr"),
        (Role.OWNER, "senior_management"),
    ):
        r = c.post(
            reverse("profiles:exercise_invite", args=[side.org.slug, exercise.pk]),
            {"user": side.users[role].pk, "function": function},
        )
        assert r.status_code == 302
    assert exercise.participants.count() == 3
    return exercise


def test_points_exercise_from_answers_to_adoption(personas: Personas) -> None:
    a = personas.a
    exercise = _exercise(a)
    keys = [i["key"] for i in exercise.items]
    answer = reverse("profiles:answer", args=[a.org.slug, exercise.pk])
    for role, first in ((Role.DIRECTOR, 60), (Role.HR, 40), (Role.OWNER, 50)):
        rest = (100 - first) / (len(keys) - 1)
        data = {f"v-{k}": str(first if i == 0 else rest) for i, k in enumerate(keys)}
        r = a.client(role).post(answer, {**data, "submit": "1"})
        assert r.status_code == 302
    assert exercise.participants.filter(status="submitted").count() == 3
    results = a.client(Role.HR).get(reverse("profiles:results", args=[a.org.slug, exercise.pk]))
    page = results.content.decode()
    assert "Kendall" in page and "50.0%" in page
    r = a.client(Role.DIRECTOR).post(reverse("profiles:adopt", args=[a.org.slug, exercise.pk]))
    assert r.status_code == 302
    draft = ProfileVersion.objects.get(pk=exercise.profile_version_id)  # v1 was a draft: reused
    assert Requirement.objects.get(version=draft, competency__key=keys[0]).weight == pytest.approx(
        50
    )
    assert (
        "Adopted from the weighting exercise"
        in a.client(Role.DIRECTOR).get(vurl(draft)).content.decode()
    )


def test_ahp_answer_page_groups_pairs_and_saves(personas: Personas) -> None:
    a = personas.a
    exercise = _exercise(a, Method.AHP)
    answer = reverse("profiles:answer", args=[a.org.slug, exercise.pk])
    page = a.client(Role.HR).get(answer).content.decode()
    fields = sorted(set(re.findall(r'name="(p-[^"]+)"', page)))
    assert fields and all(f.count("-") == 3 for f in fields)
    r = a.client(Role.HR).post(answer, dict.fromkeys(fields, "3") | {"submit": "1"})
    assert r.status_code == 302
    p = Participant.objects.get(exercise=exercise, user=a.users[Role.HR])
    assert p.status == "submitted"
    page = (
        a.client(Role.HR)
        .get(reverse("profiles:results", args=[a.org.slug, exercise.pk]))
        .content.decode()
    )
    assert "CR" in page


def test_exercise_forbidden_paths(personas: Personas) -> None:
    a, b = personas.a, personas.b
    exercise = _exercise(a)
    detail = reverse("profiles:exercise", args=[a.org.slug, exercise.pk])
    results = reverse("profiles:results", args=[a.org.slug, exercise.pk])
    answer = reverse("profiles:answer", args=[a.org.slug, exercise.pk])
    for role in NON_EDITORS:
        assert a.client(role).get(detail).status_code == 403
        assert a.client(role).get(results).status_code == 403
        assert (
            a.client(role)
            .post(reverse("profiles:adopt", args=[a.org.slug, exercise.pk]))
            .status_code
            == 403
        )
    # Not invited: the answer form does not exist for them.
    assert a.client(Role.CONSULTANT).get(answer).status_code == 404
    for role in ROLES:
        assert b.client(role).get(detail).status_code == 404
        assert b.client(role).get(answer).status_code == 404
        other = reverse("profiles:results", args=[b.org.slug, exercise.pk])
        assert b.client(role).get(other).status_code == 404
    assert not WeightingExercise.objects.get(pk=exercise.pk).adopted_at


def _count(client: object, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)  # type: ignore[attr-defined]
        assert response.status_code == 200
    return len(ctx)


def test_pages_issue_a_constant_number_of_queries(personas: Personas) -> None:
    a = personas.a
    small = make(a, ("risk",), "Small")
    keys = list(RoleElement.objects.filter(version=a.published).values_list("key", flat=True))
    large = make(a, tuple(keys), "Large")
    c = a.client(Role.DIRECTOR)
    assert _count(c, vurl(small)) == _count(c, vurl(large))
    assert _count(c, vurl(small, "jd")) == _count(c, vurl(large, "jd"))
    listing = reverse("profiles:list", args=[a.org.slug])
    one = _count(c, listing)
    for i in range(4):
        make(a, ("risk",), f"More {i}")
    assert _count(c, listing) == one
    exercise = _exercise(a)
    keys_ = [i["key"] for i in exercise.items]
    results = reverse("profiles:results", args=[a.org.slug, exercise.pk])
    p = Participant.objects.filter(exercise=exercise).first()
    assert p is not None
    services.save_answers(p, {k: 100 / len(keys_) for k in keys_}, submit=True)
    few = _count(c, results)
    for p in Participant.objects.filter(exercise=exercise).exclude(status="submitted"):
        services.save_answers(p, {k: 100 / len(keys_) for k in keys_}, submit=True)
    assert _count(c, results) == few
    assert Profile.objects.filter(organisation=a.org).count() == 7


def test_draft_offers_a_newer_framework_version(personas: Personas) -> None:
    from kamfit.frameworks.services import publish_version

    a = personas.a
    v = make(a, ("risk", "credibility"))
    url = vurl(v)
    assert "A newer version of the framework" not in a.client(Role.HR).get(url).content.decode()
    v2 = publish_version(version=a.draft, user=None)
    page = a.client(Role.HR).get(url).content.decode()
    assert "A newer version of the framework" in page
    r = a.client(Role.HR).post(vurl(v, "edit"), {"action": "move", "framework_version": v2.pk})
    assert r.status_code == 302
    assert ProfileVersion.objects.get(pk=v.pk).framework_version_id == v2.pk
    other = make(personas.b, ("risk",))  # another organisation's framework version: refused
    r = a.client(Role.HR).post(
        vurl(v, "edit"), {"action": "move", "framework_version": other.framework_version_id}
    )
    assert ProfileVersion.objects.get(pk=v.pk).framework_version_id == v2.pk
