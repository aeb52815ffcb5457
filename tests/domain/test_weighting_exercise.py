"""Tests of grouped AHP and weighting exercises (kamfit.domain.weighting, second part)."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamfit.domain.errors import ValidationError
from kamfit.domain.framework import Kind
from kamfit.domain.weighting import (
    CR_THRESHOLD,
    GROUPS_KEY,
    AhpGroup,
    Judgements,
    aggregate_hierarchy,
    ahp_exercise,
    ahp_groups,
    ahp_pair_count,
    ahp_priorities,
    consensus,
    hierarchy_priorities,
    kendalls_w,
    pairwise_matrix,
    points_exercise,
    ranking_exercise,
    ranking_weights,
)

SAATY_SCALE = [1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9]


def problems_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


def upper(matrix: npt.ArrayLike) -> dict[tuple[int, int], float]:
    """Return the judgements above the diagonal of a comparison matrix."""
    a = np.asarray(matrix, dtype=np.float64)
    return {(i, j): float(a[i, j]) for i, j in combinations(range(a.shape[0]), 2)}


def ratios(w: list[float]) -> dict[tuple[int, int], float]:
    """Return the perfectly consistent judgements a_ij = w_i / w_j."""
    return {(i, j): w[i] / w[j] for i, j in combinations(range(len(w)), 2)}


def consecutive_groups(sizes: list[int]) -> list[AhpGroup]:
    groups, start = [], 0
    for k, size in enumerate(sizes, start=1):
        groups.append(AhpGroup(f"g{k}", f"Group {k}", tuple(range(start, start + size))))
        start += size
    return groups


@st.composite
def hierarchies(draw: st.DrawFn) -> tuple[int, list[AhpGroup], dict[str, npt.NDArray[np.float64]]]:
    """Draw groups of consecutive items and a full comparison matrix per judgements key."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    groups = consecutive_groups(sizes)
    keyed = [(g.key, len(g.members)) for g in groups if len(g.members) > 1]
    if len(groups) > 1:
        keyed.append((GROUPS_KEY, len(groups)))
    matrices = {}
    for key, size in keyed:
        values = draw(st.lists(st.sampled_from(SAATY_SCALE), min_size=size * (size - 1) // 2))
        pairs = dict(zip(combinations(range(size), 2), values, strict=False))
        matrices[key] = pairwise_matrix(size, pairs)
    return sum(sizes), groups, matrices


# ahp_groups and ahp_pair_count --------------------------------------------------------------

# Table 3 of Woodburn (2006) classes 21 requirements as competency (C), attribute (A) or
# either (C/A); a mix of that size, interleaved as a catalogue would list it.
TABLE3_LIKE = ["A", "C", "C/A", "A", "A", "C", "C/A", "A", "C/A", "C", "A", "C/A", "A",
               "C", "C/A", "A", "C/A", "A", "C", "C/A", "A"]  # fmt: skip


def test_twenty_one_requirements_make_four_groups_and_53_pairs_instead_of_210():
    assert Counter(TABLE3_LIKE) == {"C": 5, "A": 9, "C/A": 7}
    groups = ahp_groups(TABLE3_LIKE)
    assert [(g.key, g.label, len(g.members)) for g in groups] == [
        ("g1", "Competencies", 5),
        ("g2", "Attributes (1 of 2)", 5),
        ("g3", "Attributes (2 of 2)", 4),
        ("g4", "Competencies or attributes", 7),
    ]
    attributes = [i for i, kind in enumerate(TABLE3_LIKE) if kind == "A"]
    assert groups[1].members + groups[2].members == tuple(attributes)  # input order, split
    assert groups[0].members == (1, 5, 9, 13, 18)
    # Within: 5·4/2 + 5·4/2 + 4·3/2 + 7·6/2 = 10 + 10 + 6 + 21; between: 4·3/2 = 6.
    assert ahp_pair_count(groups) == 10 + 10 + 6 + 21 + 6 == 53
    assert ahp_pair_count([AhpGroup("g1", "All requirements", tuple(range(21)))]) == 210


def test_few_requirements_stay_in_one_group_whatever_their_kind():
    groups = ahp_groups(["A", "C", "C/A", "A"])
    assert groups == (AhpGroup("g1", "All requirements", (0, 1, 2, 3)),)
    assert ahp_pair_count(groups) == 6
    assert ahp_groups(["C"]) == (AhpGroup("g1", "All requirements", (0,)),)


def test_groups_accept_kind_members_and_skip_absent_kinds():
    kinds = [Kind.ATTRIBUTE] * 3 + [Kind.BOTH] * 2
    groups = ahp_groups(kinds, max_size=2)
    assert [(g.label, g.members) for g in groups] == [
        ("Attributes (1 of 2)", (0, 1)),
        ("Attributes (2 of 2)", (2,)),
        ("Competencies or attributes", (3, 4)),
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["C", "A", "C/A"]), min_size=1, max_size=60),
    st.integers(min_value=5, max_value=15),  # 60 items never need more than 15 groups
)
def test_groups_split_items_by_kind_into_the_fewest_balanced_chunks(kinds, max_size):
    groups = ahp_groups(kinds, max_size=max_size)
    assert groups == ahp_groups(list(kinds), max_size=max_size)  # stable
    assert [g.key for g in groups] == [f"g{k}" for k in range(1, len(groups) + 1)]
    members = [i for g in groups for i in g.members]
    assert sorted(members) == list(range(len(kinds)))
    assert all(list(g.members) == sorted(g.members) for g in groups)
    assert all(1 <= len(g.members) <= max_size for g in groups)
    if len(kinds) <= max_size:
        assert len(groups) == 1
        return
    order = {"C": 0, "A": 1, "C/A": 2}
    assert all(len({kinds[i] for i in g.members}) == 1 for g in groups)
    assert members == sorted(range(len(kinds)), key=lambda i: order[kinds[i]])
    for kind in order:
        sizes = [len(g.members) for g in groups if kinds[g.members[0]] == kind]
        count = kinds.count(kind)
        assert len(sizes) == math.ceil(count / max_size)
        assert not sizes or max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(
    ("kinds", "max_size", "expected"),
    [
        (["C", "A"], 1, "max_size: must be 2 to 15 (Saaty's RI), not 1"),
        (["C", "A"], 16, "max_size: must be 2 to 15 (Saaty's RI), not 16"),
        ([], 7, "kinds: needs at least one item"),
        (["C", "B", "C/A", "c"], 7, "kinds[1]: unknown kind 'B': expected C, A or C/A"),
        (["C"] * 32, 2, "kinds: 32 items make 16 groups of at most 2, and AHP compares at most 15"),
    ],
    ids=["max-size-1", "max-size-16", "empty", "unknown-kind", "too-many-groups"],
)
def test_groups_refuse_bad_input_saying_why(kinds, max_size, expected):
    with pytest.raises(ValidationError) as caught:
        ahp_groups(kinds, max_size=max_size)
    assert problems_of(caught)[0].startswith(expected), problems_of(caught)
    if expected.startswith("kinds[1]"):
        assert [p.location for p in caught.value.problems] == ["kinds[1]", "kinds[3]"]


# hierarchy_priorities -----------------------------------------------------------------------

# The car example of the English Wikipedia article "Analytic hierarchy process – car example"
# (choosing a Honda for the Jones family): Cost splits into purchase price, fuel, maintenance
# and resale; Safety and Style stand alone; Capacity splits into cargo and passenger.
CAR_GROUPS = [
    AhpGroup("g1", "Cost", (0, 1, 2, 3)),  # price, fuel, maintenance, resale
    AhpGroup("g2", "Safety", (4,)),
    AhpGroup("g3", "Style", (5,)),
    AhpGroup("g4", "Capacity", (6, 7)),  # cargo, passenger
]
CAR_JUDGEMENTS: Judgements = {
    "g1": {(0, 1): 2, (0, 2): 5, (0, 3): 3, (1, 2): 2, (1, 3): 2, (2, 3): 1 / 2},
    "g4": {(0, 1): 1 / 5},
    GROUPS_KEY: {(0, 1): 3, (0, 2): 7, (0, 3): 3, (1, 2): 9, (1, 3): 1, (2, 3): 1 / 7},
}


def test_hierarchy_reproduces_the_car_example():
    # Eigenvector priorities of the car example as printed (3 decimals) in the README of
    # AHPy (P. Griffith, github.com/PhilipGriffith/AHPy, "Purchasing a vehicle"):
    # criteria Cost .51, Safety .234, Style .041, Capacity .215; within Cost: price .488,
    # fuel .252, maintenance .1, resale .161; within Capacity: cargo 1/6, passenger 5/6.
    # By hand the global weights are their products: price .51 × .488 = .249, fuel
    # .51 × .252 = .129, maintenance .051, resale .082, safety .234, style .041,
    # cargo .215 / 6 = .036, passenger .179 (AHPy prints the same, from rounded factors).
    result = hierarchy_priorities(8, CAR_GROUPS, CAR_JUDGEMENTS)
    local = {key: [round(p, 3) for p in r.priorities] for key, r in result.local.items()}
    assert local == {
        "g1": [0.488, 0.252, 0.1, 0.161],
        "g4": [0.167, 0.833],
        GROUPS_KEY: [0.51, 0.234, 0.041, 0.215],
    }
    expected = [0.249, 0.129, 0.051, 0.082, 0.234, 0.041, 0.036, 0.179]
    assert result.weights == pytest.approx(expected, abs=1e-3)
    assert sum(result.weights) == pytest.approx(1.0, abs=1e-12)
    # Consistent: CR(criteria) = (λmax − 4)/3/0.90 ≈ 0.074, CR(cost) ≈ 0.015, CR(capacity) = 0.
    assert result.max_cr == result.local[GROUPS_KEY].cr == pytest.approx(0.074, abs=1e-3)
    assert result.consistent


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(1, 3), min_size=1, max_size=5).flatmap(
        lambda sizes: st.tuples(
            st.just(sizes), st.lists(st.floats(1.0, 2.0), min_size=sum(sizes), max_size=sum(sizes))
        )
    )
)
def test_consistent_judgements_give_back_the_true_weights(case):
    # Saaty (1980): judgements a_ij = w_i / w_j have A w = n w, so each matrix returns the
    # true ratios; with groups compared by their total weight, v_g u_i = w_i exactly.
    sizes, raw = case
    w = list(np.asarray(raw) / sum(raw))
    groups = consecutive_groups(sizes)
    judgements = {g.key: ratios([w[i] for i in g.members]) for g in groups if len(g.members) > 1}
    if len(groups) > 1:
        judgements[GROUPS_KEY] = ratios([sum(w[i] for i in g.members) for g in groups])
    result = hierarchy_priorities(len(w), groups, judgements)
    assert result.weights == pytest.approx(w, rel=1e-9)
    assert result.max_cr == pytest.approx(0.0, abs=1e-9)
    assert result.consistent


# Saaty (2008), Table 2 (drink consumption in the U.S.), as in test_weighting.py.
DRINKS_MATRIX: list[list[float]] = [
    [1, 9, 5, 2, 1, 1, 1 / 2], [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9], [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2], [1, 9, 3, 1, 1 / 2, 1, 1 / 3], [2, 9, 9, 3, 2, 3, 1],
]  # fmt: skip
DRINKS = upper(DRINKS_MATRIX)


def test_one_group_is_plain_ahp():
    groups = ahp_groups(["C", "A", "C/A", "C", "A", "A", "C"])
    assert len(groups) == 1
    result = hierarchy_priorities(7, groups, {"g1": DRINKS})
    plain = ahp_priorities(pairwise_matrix(7, DRINKS))
    assert result.weights == pytest.approx(plain.priorities, rel=1e-12)
    assert dict(result.local) == {"g1": plain}
    assert result.max_cr == plain.cr == pytest.approx(0.022, abs=5e-4)  # Saaty (2008): .022


def test_a_group_of_one_takes_the_whole_group_weight_without_a_matrix():
    groups = [AhpGroup("g1", "Competencies", (2, 0)), AhpGroup("g2", "Attributes", (1,))]
    result = hierarchy_priorities(3, groups, {"g1": {(0, 1): 4}, GROUPS_KEY: {(0, 1): 1 / 3}})
    # Groups 1 : 3 → .25, .75; within g1 item 2 is 4 × item 0 → .8, .2.
    assert result.weights == pytest.approx([0.25 * 0.2, 0.75, 0.25 * 0.8])
    assert set(result.local) == {"g1", GROUPS_KEY}
    single = hierarchy_priorities(1, [AhpGroup("g1", "All requirements", (0,))], {})
    assert (single.weights, dict(single.local), single.max_cr) == ((1.0,), {}, 0.0)


@settings(max_examples=150, deadline=None)
@given(hierarchies(), st.data())
def test_hierarchy_weights_sum_to_one_and_follow_a_relabelling(drawn, data):
    n, groups, matrices = drawn
    judgements = {key: upper(a) for key, a in matrices.items()}
    result = hierarchy_priorities(n, groups, judgements)
    assert sum(result.weights) == pytest.approx(1.0, abs=1e-12)
    assert all(w > 0 for w in result.weights)
    assert result.consistent == (result.max_cr <= CR_THRESHOLD)

    # Renumber the items and list the groups in another order: same weight per item.
    item = data.draw(st.permutations(range(n)))
    order = data.draw(st.permutations(range(len(groups))))
    moved = [
        AhpGroup(groups[k].key, groups[k].label, tuple(item[i] for i in groups[k].members))
        for k in order
    ]
    renamed = dict(judgements)
    if len(groups) > 1:
        renamed[GROUPS_KEY] = upper(matrices[GROUPS_KEY][np.ix_(order, order)])
    again = hierarchy_priorities(n, moved, renamed)
    assert [again.weights[item[i]] for i in range(n)] == pytest.approx(result.weights, rel=1e-9)


TWO_GROUPS = [AhpGroup("g1", "Competencies", (0, 1, 2, 3)), AhpGroup("g2", "Attributes", (4, 5))]
GOOD: Judgements = {
    "g1": {(0, 1): 2, (0, 2): 3, (0, 3): 4, (1, 2): 1, (1, 3): 2, (2, 3): 2},
    "g2": {(0, 1): 1 / 3},
    GROUPS_KEY: {(0, 1): 2},
}


Pairs = dict[tuple[int, int], float]


def with_changes(**changes: Pairs | None) -> dict[str, Pairs]:
    """Return a copy of GOOD with some pairs added or replaced, or whole matrices dropped."""
    out = {key: dict(pairs) for key, pairs in GOOD.items()}
    for name, pairs in changes.items():
        key = GROUPS_KEY if name == "groups" else name
        if pairs is None:
            del out[key]
        else:
            out[key] = {**out.get(key, {}), **pairs}
    return out


def test_hierarchy_names_a_missing_pair_by_group_and_local_positions():
    judgements = with_changes()
    del judgements["g1"][(0, 3)]
    with pytest.raises(ValidationError) as caught:
        hierarchy_priorities(6, TWO_GROUPS, judgements)
    assert problems_of(caught) == ["judgements.g1[0,3]: missing: no judgement for this pair"]


OFF_SCALE = "is outside Saaty's scale 1/9 to 9"


@pytest.mark.parametrize(
    ("judgements", "expected"),
    [
        (with_changes(g2={(0, 1): 10}), f"g2[0,1]: 10 {OFF_SCALE}"),
        (with_changes(g2={(0, 1): 0.1}), f"g2[0,1]: 0.1 {OFF_SCALE}"),
        (with_changes(g2={(0, 1): math.nan}), f"g2[0,1]: nan {OFF_SCALE}"),
        (with_changes(g2={(0, 1): "x"}), "g2[0,1]: expected a number, not 'x'"),  # type: ignore[dict-item]
        (with_changes(g2={(1, 0): 2}), "g2[1,0]: give each pair once, as [i,j] with i < j"),
        (with_changes(g2={(0, 2): 2}), "g2[0,2]: positions are 0 to 1"),
        (with_changes(groups={(1, 2): 2}), "groups[1,2]: positions are 0 to 1"),
        (with_changes(g2=None), "g2: missing: compare the items of Attributes (1 pairs)"),
        (with_changes(groups=None), "groups: missing: compare the groups (1 pairs)"),
        (with_changes(g3={(0, 1): 2}), "g3: no such group: expected g1, g2, groups"),
    ],
    ids=["above-9", "below-1/9", "nan", "text", "lower-triangle", "out-of-range",
         "groups-out-of-range", "missing-group", "missing-groups-matrix", "unknown-group"],
)  # fmt: skip
def test_hierarchy_refuses_bad_judgements_naming_where(judgements, expected):
    with pytest.raises(ValidationError) as caught:
        hierarchy_priorities(6, TWO_GROUPS, judgements)
    assert problems_of(caught) == [f"judgements.{expected}"]


def test_hierarchy_refuses_judgements_for_what_needs_none():
    groups = [AhpGroup("g1", "All requirements", (0, 1)), AhpGroup("g2", "Extra", (2,))]
    with pytest.raises(ValidationError) as caught:
        hierarchy_priorities(3, groups, {"g1": {(0, 1): 1}, "g2": {}, GROUPS_KEY: {(0, 1): 1}})
    assert problems_of(caught) == ["judgements.g2: Extra has one item: nothing to compare"]
    with pytest.raises(ValidationError) as caught:
        hierarchy_priorities(2, groups[:1], {"g1": {(0, 1): 1}, GROUPS_KEY: {}})
    assert problems_of(caught) == ["judgements.groups: there is one group: no groups to compare"]


@pytest.mark.parametrize(
    ("n", "groups", "expected"),
    [
        (3, [AhpGroup("g1", "A", (0, 1)), AhpGroup("g2", "B", (1, 2))],
         ["groups[1].members: item 1 is already in group g1"]),
        (4, [AhpGroup("g1", "A", (0, 1)), AhpGroup("g2", "B", (2,))],
         ["groups: items 3 are in no group: the groups must split all 4 items"]),
        (3, [AhpGroup("g1", "A", (0, 1, 2, 3))],
         ["groups[0].members: item 3 is not in 0 to 2"]),
        (3, [AhpGroup("g1", "A", (0, 1)), AhpGroup("g1", "B", (2,))],
         ["groups[1].key: 'g1' is used by an earlier group"]),
        (2, [AhpGroup("groups", "A", (0, 1))], ["groups[0].key: 'groups' is reserved"]),
        (2, [AhpGroup("g1", "A", (0, 1)), AhpGroup("g2", "B", ())],
         ["groups[1].members: a group holds 1 to 15 items, not 0"]),
        (16, [AhpGroup("g1", "A", tuple(range(16)))],
         ["groups[0].members: a group holds 1 to 15 items, not 16"]),
        (16, [AhpGroup(f"g{i}", "A", (i,)) for i in range(16)],
         ["groups: AHP compares at most 15 groups, not 16"]),
        (0, [], ["n: needs at least one item, not 0"]),
        (2, [], ["groups: needs at least one group"]),
    ],
    ids=["overlap", "item-left-out", "out-of-range", "duplicate-key", "reserved-key",
         "empty-group", "group-too-big", "too-many-groups", "no-items", "no-groups"],
)  # fmt: skip
def test_hierarchy_refuses_groups_that_do_not_partition_the_items(n, groups, expected):
    with pytest.raises(ValidationError) as caught:
        hierarchy_priorities(n, groups, {})
    assert problems_of(caught) == expected


# aggregate_hierarchy ------------------------------------------------------------------------


def test_aggregate_of_one_respondent_is_their_hierarchy():
    alone = aggregate_hierarchy(8, CAR_GROUPS, [CAR_JUDGEMENTS])
    single = hierarchy_priorities(8, CAR_GROUPS, CAR_JUDGEMENTS)
    assert alone.weights == pytest.approx(single.weights, rel=1e-12)


def test_aggregate_takes_the_geometric_mean_of_each_judgement():
    # Forman & Peniwati (1998), AIJ: √(4 × 1) = 2 within g1, √(9 × 1) = 3 between groups,
    # so g1 = .75 × (2/3, 1/3) and g2 = .25; the arithmetic mean of the two respondents'
    # priorities would give other weights (.5 × (.8, .2) + .5 × (.5, .5) blends differently).
    groups = [AhpGroup("g1", "Competencies", (0, 1)), AhpGroup("g2", "Attributes", (2,))]
    one = {"g1": {(0, 1): 4.0}, GROUPS_KEY: {(0, 1): 9.0}}
    two = {"g1": {(0, 1): 1.0}, GROUPS_KEY: {(0, 1): 1.0}}
    result = aggregate_hierarchy(3, groups, [one, two])
    assert result.weights == pytest.approx([0.5, 0.25, 0.25])
    assert result.local["g1"].priorities == pytest.approx([2 / 3, 1 / 3])


def test_aggregate_names_the_respondent_and_needs_answers():
    bad = with_changes(g2={(0, 1): 12})
    with pytest.raises(ValidationError) as caught:
        aggregate_hierarchy(6, TWO_GROUPS, [GOOD, bad])
    assert problems_of(caught) == ["judgements[1].g2[0,1]: 12 is outside Saaty's scale 1/9 to 9"]
    with pytest.raises(ValidationError, match="no submitted answers yet"):
        aggregate_hierarchy(6, TWO_GROUPS, [])
    with pytest.raises(ValidationError, match="groups: items 5 are in no group"):
        aggregate_hierarchy(6, [TWO_GROUPS[0], AhpGroup("g2", "B", (4,))], [GOOD])


# Exercises ------------------------------------------------------------------------------------


def test_points_exercise_weighs_each_respondent_and_averages():
    result = points_exercise([[60, 30, 10], [40, 40, 20], [50, 20, 30]])
    assert result.method == "points"
    assert result.individual == ((0.6, 0.3, 0.1), (0.4, 0.4, 0.2), (0.5, 0.2, 0.3))
    assert result.consensus == pytest.approx([0.5, 0.3, 0.2])
    expected = consensus(result.individual)
    assert (result.spread, result.split_order) == (expected.spread, expected.split_order)
    # Rankings (1, 2, 3), (1.5, 1.5, 3), (1, 3, 2): the same W as kendalls_w on them.
    assert result.agreement == kendalls_w([[1.0, 2.0, 3.0], [1.5, 1.5, 3.0], [1.0, 3.0, 2.0]])
    assert result.consistency == (None, None, None)
    assert result.inconsistent == ()


def test_points_exercise_with_another_budget_and_undefined_agreement():
    alone = points_exercise([[7, 3]], total=10)
    assert alone.consensus == pytest.approx([0.7, 0.3])
    assert alone.agreement is None  # one respondent
    assert points_exercise([[10], [10]], total=10).agreement is None  # one item
    assert points_exercise([[50, 50], [50, 50]]).agreement is None  # nothing ordered


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([], ["respondents: no submitted answers yet"]),
        ([[50, 50], [-10, 110]], ["respondents[1].points[0]: must not be negative, not -10"]),
        ([[50, 40], [50, 50]], ["respondents[0].points: points sum to 90, not 100"]),
        ([[50, 50], [50, 25, 25]], ["respondents[1]: answers 3 items where respondents[0] has 2"]),
        ([[50, 50], []], ["respondents[1].points: expected a non-empty list of numbers"]),
    ],
    ids=["no-respondents", "negative", "wrong-sum", "ragged", "empty-row"],
)
def test_points_exercise_names_the_respondent(points, expected):
    with pytest.raises(ValidationError) as caught:
        points_exercise(points)
    assert problems_of(caught) == expected


def test_points_exercise_refuses_a_bad_budget_once():
    with pytest.raises(ValidationError) as caught:
        points_exercise([[1, 1]], total=0)
    assert problems_of(caught) == ["total: must be positive and finite, not 0"]


def test_ranking_exercise_uses_rank_sum_weights_and_w_of_the_ranks():
    ranks = [[1, 2, 3, 4], [2, 1, 3, 4], [1, 2, 4, 3]]
    result = ranking_exercise(ranks)
    assert result.method == "ranking"
    assert result.individual == tuple(ranking_weights(r) for r in ranks)
    # Each row weighs (5 − r)/10; rank sums R = (4, 5, 10, 11) give means (15 − R)/30.
    assert result.consensus == pytest.approx([11 / 30, 10 / 30, 5 / 30, 4 / 30])
    assert result.agreement == kendalls_w(ranks)
    assert result.agreement is not None
    assert result.agreement.w == pytest.approx(0.8222, abs=1e-4)  # 12·37/(9·60) = 444/540


def test_ranking_exercise_names_the_respondent():
    with pytest.raises(ValidationError) as caught:
        ranking_exercise([[1, 2, 3], [1, 1, 2]])
    assert [p.location for p in caught.value.problems] == ["respondents[1].ranks"]
    with pytest.raises(ValidationError, match="no submitted answers yet"):
        ranking_exercise([])


INCONSISTENT = {"g1": {(0, 1): 9, (0, 2): 1 / 9, (1, 2): 9}}  # a > b > c > a, all strongly
ONE_GROUP = [AhpGroup("g1", "All requirements", (0, 1, 2))]


def test_ahp_exercise_aggregates_judgements_and_flags_inconsistent_respondents():
    fair = {"g1": {(0, 1): 2, (0, 2): 4, (1, 2): 2}}
    result = ahp_exercise(3, ONE_GROUP, [fair, INCONSISTENT, fair])
    assert result.method == "ahp"
    assert result.individual[0] == pytest.approx([4 / 7, 2 / 7, 1 / 7])
    assert result.consistency[0] == pytest.approx(0.0, abs=1e-9)
    assert result.consistency[1] is not None and result.consistency[1] > 1
    assert result.inconsistent == (1,)
    group = aggregate_hierarchy(3, ONE_GROUP, [fair, INCONSISTENT, fair])
    assert result.consensus == group.weights
    spread = consensus(result.individual)
    assert (result.spread, result.split_order) == (spread.spread, spread.split_order)
    assert result.agreement is not None and 0 <= result.agreement.w <= 1


def test_ahp_exercise_of_the_car_example_by_two_respondents():
    flipped: Judgements = {**CAR_JUDGEMENTS, "g4": {(0, 1): 5}}
    result = ahp_exercise(8, CAR_GROUPS, [CAR_JUDGEMENTS, flipped])
    # Cargo vs passenger: √(1/5 × 5) = 1, so capacity splits equally in the consensus.
    assert result.consensus[6] == pytest.approx(result.consensus[7])
    assert result.consensus[6] + result.consensus[7] == pytest.approx(0.215, abs=1e-3)
    assert result.split_order[:2] == (6, 7)
    assert result.inconsistent == ()


def test_ahp_exercise_names_the_respondent_in_every_problem():
    missing = with_changes()
    del missing["g1"][(0, 3)]
    with pytest.raises(ValidationError) as caught:
        ahp_exercise(6, TWO_GROUPS, [GOOD, missing, with_changes(groups={(0, 1): 0})])
    assert problems_of(caught) == [
        "respondents[1].judgements.g1[0,3]: missing: no judgement for this pair",
        "respondents[2].judgements.groups[0,1]: 0 is outside Saaty's scale 1/9 to 9",
    ]


def test_ahp_exercise_blames_bad_groups_on_no_respondent():
    with pytest.raises(ValidationError) as caught:
        ahp_exercise(7, TWO_GROUPS, [GOOD])
    assert problems_of(caught) == [
        "groups: items 6 are in no group: the groups must split all 7 items"
    ]
    with pytest.raises(ValidationError) as caught:
        ahp_exercise(6, TWO_GROUPS, [])
    assert problems_of(caught) == ["respondents: no submitted answers yet"]


def test_hierarchy_and_exercise_results_are_frozen():
    result = ahp_exercise(6, TWO_GROUPS, [GOOD])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.consensus = ()  # type: ignore[misc]
    local = hierarchy_priorities(6, TWO_GROUPS, GOOD).local
    with pytest.raises(TypeError):
        local["g9"] = local["g1"]  # type: ignore[index]
