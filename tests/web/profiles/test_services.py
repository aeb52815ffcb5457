"""Role profile services: scope, requirements, weights, time, versions, exercises, adoption."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import DatabaseError, transaction

from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.frameworks.models import Competency, FrameworkVersion
from kamfit.orgs.models import Role
from kamfit.profiles import services
from kamfit.profiles.models import (
    Method,
    Participant,
    ProfileStatus,
    ProfileVersion,
    Requirement,
    WeightingExercise,
    WeightsOrigin,
)
from kamfit.profiles.queries import get_exercise_results, get_profile_detail, weights_source
from tests.conftest import Personas, Side

if TYPE_CHECKING:
    from pytest_django import DjangoAssertNumQueries

pytestmark = pytest.mark.django_db


def make_profile(side: Side, elements: tuple[str, ...] = ("credibility", "risk")) -> ProfileVersion:
    return services.create_profile(
        organisation=side.org,
        user=side.users[Role.DIRECTOR],
        framework_version=side.published,
        title="Global account manager",
        element_keys=list(elements),
    )


def cited_keys(side: Side, elements: tuple[str, ...]) -> set[str]:
    return set(
        Competency.objects.filter(
            version=side.published, citations__element__key__in=elements
        ).values_list("key", flat=True)
    )


def included(version: ProfileVersion) -> dict[str, Requirement]:
    return {
        r.competency.key: r
        for r in Requirement.objects.filter(version=version, included=True).select_related(
            "competency"
        )
    }


def test_requirements_follow_the_elements_in_scope(personas: Personas) -> None:
    v = make_profile(personas.a)
    reqs = included(v)
    assert set(reqs) == cited_keys(personas.a, ("credibility", "risk"))
    assert abs(sum(r.weight for r in reqs.values()) - 100) < 1e-9
    assert {r.required_level for r in reqs.values()} == {3}  # the middle of the 1-5 scale
    assert v.weights_origin == WeightsOrigin.EQUAL
    assert sum(v.time_allocation.values()) == 100 and v.time_allocation["selling"] == 10


def test_scope_change_keeps_hand_removals_and_additions(personas: Personas) -> None:
    v = make_profile(personas.a, ("risk",))
    risk = cited_keys(personas.a, ("risk",))
    removed = sorted(risk)[0]
    services.remove_requirement(v, removed)
    outsider = Competency.objects.filter(version=personas.a.published).exclude(key__in=risk).first()
    assert outsider is not None
    services.add_requirement(v, outsider.key)
    notes = services.set_scope(v, ["risk", "credibility"])
    keys = set(included(v))
    assert removed not in keys  # a hand removal survives the scope change
    assert outsider.key in keys  # so does a hand addition
    assert keys == (cited_keys(personas.a, ("risk", "credibility")) - {removed}) | {outsider.key}
    assert notes and "joined" in notes[0]
    services.set_scope(v, ["credibility"])
    assert outsider.key in set(included(v))  # added by hand: not tied to an element


def test_weights_must_sum_to_100_and_levels_be_on_the_scale(personas: Personas) -> None:
    v = make_profile(personas.a, ("risk",))
    keys = sorted(included(v))
    before = {k: (r.required_level, r.weight) for k, r in included(v).items()}
    changes: dict[str, tuple[object, object]] = dict.fromkeys(keys, (3, 10))
    with pytest.raises(ValidationError, match=rf"weights sum to {10 * len(keys)}, not 100"):
        services.update_requirements(v, changes)
    changes = {k: (9, 100 / len(keys)) for k in keys}
    with pytest.raises(ValidationError, match=rf"requirements\.{keys[0]}\.level"):
        services.update_requirements(v, changes)
    with pytest.raises(ValidationError, match="level and weight missing"):
        services.update_requirements(v, {keys[0]: (3, 100)})
    assert {k: (r.required_level, r.weight) for k, r in included(v).items()} == before
    weights = [100 - 5 * (len(keys) - 1)] + [5] * (len(keys) - 1)
    services.update_requirements(v, {k: (4, w) for k, w in zip(keys, weights, strict=True)})
    assert included(v)[keys[0]].weight == weights[0]
    v.refresh_from_db()
    assert v.weights_origin == WeightsOrigin.MANUAL and weights_source(v) == "Set by hand"


def test_time_allocation_warns_above_the_papers_selling_line(personas: Personas) -> None:
    v = make_profile(personas.a)
    shares = {"selling": 30, "strategy": 20, "relationships": 20, "orchestration": 20,
              "reporting": 5, "development": 5}  # fmt: skip
    warnings = services.set_time_allocation(v, shares)
    assert warnings and "30" in warnings[0] and "5–10%" in warnings[0]
    assert services.set_time_allocation(v, {**shares, "selling": 10, "strategy": 40}) == []
    with pytest.raises(ValidationError, match="time_allocation"):
        services.set_time_allocation(v, {**shares, "selling": 31})


def test_published_version_is_frozen_in_the_database(personas: Personas) -> None:
    v = make_profile(personas.a)
    services.publish_version(v, personas.a.users[Role.DIRECTOR])
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        services.equalise_weights(v)  # a stale object: the database itself refuses
    v.refresh_from_db()
    with pytest.raises(NotPermitted):
        services.equalise_weights(v)
    for attempt in (
        lambda: Requirement.objects.filter(version=v).update(weight=1),
        lambda: ProfileVersion.objects.filter(pk=v.pk).update(title="changed"),
        lambda: Requirement.objects.filter(version=v).delete(),
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            attempt()
    draft = services.start_new_draft(v.profile, personas.a.users[Role.DIRECTOR])
    assert draft.number == 2 and draft.status == ProfileStatus.DRAFT
    assert set(included(draft)) == set(included(v))
    assert services.start_new_draft(v.profile, None).pk == draft.pk  # one draft at a time


def test_publish_refuses_weights_not_summing_to_100(personas: Personas) -> None:
    v = make_profile(personas.a)
    Requirement.objects.filter(version=v).update(weight=1)
    with pytest.raises(ValidationError, match="weights sum to"):
        services.publish_version(v, None)
    v.refresh_from_db()
    assert v.status == ProfileStatus.DRAFT


def test_profile_on_another_organisations_framework_is_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError, match="not a framework of this organisation"):
        services.create_profile(
            organisation=personas.a.org,
            user=None,
            framework_version=personas.b.published,
            title="Stolen",
            element_keys=["risk"],
        )
    with pytest.raises(ValidationError, match="published framework version"):
        services.create_profile(
            organisation=personas.a.org,
            user=None,
            framework_version=personas.a.draft,
            title="Draft based",
            element_keys=["risk"],
        )


def _exercise(side: Side, method: str) -> tuple[ProfileVersion, WeightingExercise]:
    v = make_profile(side, ("risk",))
    exercise = services.open_exercise(
        organisation=side.org, user=None, version=v, title="Weights", method=method
    )
    services.invite_participants(
        exercise,
        [
            (side.users[Role.DIRECTOR], "sales_director"),
            (side.users[Role.HR], "hr"),
            (side.users[Role.MANAGER], "line_manager"),
        ],
    )
    return v, exercise


def test_points_exercise_consensus_and_adoption(personas: Personas) -> None:
    v, exercise = _exercise(personas.a, Method.POINTS)
    keys = [i["key"] for i in exercise.items]
    n = len(keys)
    people = list(Participant.objects.filter(exercise=exercise).order_by("id"))
    # Each gives the first item half the points and shares the rest equally.
    for p in people[:2]:
        rest = 50 / (n - 1)
        services.save_answers(
            p, {k: (50 if i == 0 else rest) for i, k in enumerate(keys)}, submit=True
        )
    with pytest.raises(ValidationError, match=r"points sum to 90, not 100"):
        services.save_answers(
            people[2], {k: (90 if i == 0 else 0) for i, k in enumerate(keys)}, submit=True
        )
    people[2].refresh_from_db()
    assert people[2].answers[keys[0]] == 90  # a refused submit keeps what was saved
    results = get_exercise_results(exercise)
    assert results.outcome is not None and len(results.submitted) == 2
    assert results.outcome.consensus[0] == pytest.approx(0.5)
    services.publish_version(v, None)
    draft = services.adopt_consensus(exercise, personas.a.users[Role.DIRECTOR])
    assert draft.number == 2 and draft.weights_origin == WeightsOrigin.EXERCISE
    assert draft.weights_note["exercise_id"] == exercise.pk
    assert draft.weights_note["respondents"] == 2
    assert included(draft)[keys[0]].weight == pytest.approx(50)
    assert "Adopted from the weighting exercise" in weights_source(draft)
    assert included(v)[keys[0]].weight == pytest.approx(100 / n, abs=0.01)  # v1 untouched
    with pytest.raises(NotPermitted):
        services.adopt_consensus(exercise, None)
    with pytest.raises(NotPermitted):  # adopting closed the exercise
        services.save_answers(people[2], {}, submit=False)


def test_ranking_with_gaps_is_refused(personas: Personas) -> None:
    _, exercise = _exercise(personas.a, Method.RANKING)
    keys = [i["key"] for i in exercise.items]
    p = Participant.objects.filter(exercise=exercise).first()
    assert p is not None
    gappy = {k: i + 2 for i, k in enumerate(keys)}  # ranks 2..n+1: 1 is missing
    with pytest.raises(ValidationError, match="ranks"):
        services.save_answers(p, gappy, submit=True)
    services.save_answers(p, {k: i + 1 for i, k in enumerate(keys)}, submit=True)
    with pytest.raises(NotPermitted, match="final"):
        services.save_answers(p, {k: i + 1 for i, k in enumerate(keys)}, submit=True)


def test_ahp_exercise_out_of_range_and_incomplete_judgements(personas: Personas) -> None:
    _, exercise = _exercise(personas.a, Method.AHP)
    p = Participant.objects.filter(exercise=exercise).first()
    assert p is not None
    group = exercise.groups[0]["key"]
    with pytest.raises(ValidationError, match="between 1/9 and 9"):
        services.save_answers(p, {group: {"0-1": 12}}, submit=False)
    services.save_answers(p, {group: {"0-1": 3}}, submit=False)
    with pytest.raises(ValidationError):
        services.save_answers(p, {group: {"0-1": 3}}, submit=True)  # pairs missing
    p.refresh_from_db()
    assert p.status == "started" and p.answers == {group: {"0-1": 3.0}}


def test_invitations_only_for_members(personas: Personas) -> None:
    _, exercise = _exercise(personas.a, Method.POINTS)
    with pytest.raises(ValidationError, match="not a member"):
        services.invite_participants(exercise, [(personas.b.users[Role.HR], "hr")])
    with pytest.raises(ValidationError, match="unknown function"):
        services.invite_participants(exercise, [(personas.a.users[Role.OWNER], "boss")])


def test_detail_loads_in_constant_queries(
    personas: Personas, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    small = make_profile(personas.a, ("risk",))
    large = services.create_profile(
        organisation=personas.a.org,
        user=None,
        framework_version=personas.a.published,
        title="Everything",
        element_keys=[e.element.key for e in get_profile_detail(small).rows.elements],
    )
    for v in (small, large):
        fresh = ProfileVersion.objects.select_related("framework_version").get(pk=v.pk)
        with django_assert_num_queries(8):
            get_profile_detail(fresh)


def test_changing_only_levels_keeps_the_adopted_record(personas: Personas) -> None:
    _, exercise = _exercise(personas.a, Method.POINTS)
    keys = [i["key"] for i in exercise.items]
    for p in Participant.objects.filter(exercise=exercise):
        services.save_answers(p, {k: 100 / len(keys) for k in keys}, submit=True)
    draft = services.adopt_consensus(exercise, None)
    reqs = included(draft)
    services.update_requirements(draft, {k: (5, r.weight) for k, r in reqs.items()})
    draft.refresh_from_db()
    assert draft.weights_origin == WeightsOrigin.EXERCISE  # levels only: still adopted
    weights = [r.weight for r in reqs.values()]
    weights[0], weights[1] = weights[0] + 1, weights[1] - 1
    services.update_requirements(draft, {k: (5, w) for k, w in zip(reqs, weights, strict=True)})
    draft.refresh_from_db()
    assert draft.weights_origin == WeightsOrigin.MANUAL
    assert weights_source(draft).endswith("then adjusted by hand")


def test_draft_moves_onto_a_newer_framework_version(personas: Personas) -> None:
    from kamfit.frameworks import services as fws
    from kamfit.frameworks.models import RoleElement

    a = personas.a
    v = make_profile(a, ("credibility", "risk"))
    keys = sorted(included(v))
    weights = [100 - 3 * (len(keys) - 1)] + [3] * (len(keys) - 1)
    services.update_requirements(v, {k: (5, w) for k, w in zip(keys, weights, strict=True)})
    # Framework v2 drops one competency cited at these elements and the element "risk".
    dropped = keys[-1]
    fws.delete_row(row=Competency.objects.get(version=a.draft, key=dropped))
    fws.delete_row(row=RoleElement.objects.get(version=a.draft, key="risk"))
    v2 = fws.publish_version(version=a.draft, user=None)
    with pytest.raises(ValidationError, match="not newer"):
        services.move_to_framework_version(v, a.published)
    notes = services.move_to_framework_version(v, v2)
    v.refresh_from_db()
    assert v.framework_version_id == v2.pk
    assert any("risk" in n for n in notes) and any("left the profile" in n for n in notes)
    now = included(v)
    assert dropped not in now
    assert all(r.competency.version_id == v2.pk for r in now.values())
    # What v2 cites at credibility, plus what stayed of v1's (risk is gone from the scope).
    assert set(now) == cited_keys_in(v2, ("credibility",))
    assert now[keys[0]].required_level == 5  # levels carried over
    assert abs(sum(r.weight for r in now.values()) - 100) < 1e-3
    services.publish_version(v, None)  # and it is publishable


def cited_keys_in(version: FrameworkVersion, elements: tuple[str, ...]) -> set[str]:
    return set(
        Competency.objects.filter(
            version=version, citations__element__key__in=elements
        ).values_list("key", flat=True)
    )


def test_refused_answers_are_named_as_answer_fields(personas: Personas) -> None:
    _, exercise = _exercise(personas.a, Method.POINTS)
    keys = [i["key"] for i in exercise.items]
    p = Participant.objects.filter(exercise=exercise).first()
    assert p is not None
    with pytest.raises(ValidationError) as caught:
        services.save_answers(p, {k: -1 if i == 0 else 1 for i, k in enumerate(keys)}, submit=True)
    assert next(x.location for x in caught.value.problems) == f"answers.{keys[0]}"
    _, ahp = _exercise(personas.b, Method.AHP)
    q = Participant.objects.filter(exercise=ahp).first()
    assert q is not None
    group = ahp.groups[0]["key"]
    with pytest.raises(ValidationError) as caught:
        services.save_answers(q, {group: {"0-1": 3}}, submit=True)
    assert all(x.location.startswith("answers") for x in caught.value.problems)
