"""Tests of multi-source competency scoring (kamfit.domain.scoring)."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamfit.domain import scoring
from kamfit.domain.errors import ValidationError
from kamfit.domain.scoring import (
    BANDS,
    DEFAULT_RULES,
    EMPTY,
    MANAGER,
    OTHER,
    PEER,
    PSYCHOMETRIC,
    SELF,
    SOURCES,
    Scores,
    ScoringRules,
    band,
    psychometric_level,
    rules_from_dict,
    rules_to_dict,
    score,
    sten_from,
)

nan = math.nan
Floats = npt.NDArray[np.float64]


def slots(*raters: tuple[int | list[int], list[list[float]]]) -> tuple[Floats, np.ndarray]:
    """Build (ratings, sources) from one (source or per-person sources, N × C ratings) per slot."""
    ratings = np.array([r for _, r in raters], dtype=np.float64)
    n = ratings.shape[1]
    codes = [[s] * n if isinstance(s, int) else s for s, _ in raters]
    return ratings, np.array(codes, dtype=np.int8)


def location(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [p.location for p in error.value.problems]


# One person, two competencies: self, manager and three peers, one peer silent on the second.
RATINGS, SOURCE_CODES = slots(
    (SELF, [[5.0, nan]]),
    (MANAGER, [[4.0, 2.0]]),
    (PEER, [[2.0, 4.0]]),
    (PEER, [[3.0, nan]]),
    (PEER, [[4.0, 5.0]]),
)
REQUIRED = np.array([3.0, 4.0])
WEIGHTS = np.array([60.0, 40.0])


# score: source means and counts ---------------------------------------------------------------


def test_source_means_and_counts_apply_the_peer_minimum_to_means_only():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)
    means, counts = s.source_means[:, 0], s.source_counts[:, 0]
    assert means.shape == (len(SOURCES), 2)
    assert means[SELF, 0] == 5.0
    assert math.isnan(means[SELF, 1])
    assert means[MANAGER].tolist() == [4.0, 2.0]
    # (2 + 3 + 4) / 3 = 3 from three peers; two peers on the second competency are too few.
    assert means[PEER, 0] == 3.0
    assert math.isnan(means[PEER, 1])
    assert counts[PEER].tolist() == [3, 2]
    assert counts[SELF].tolist() == [1, 0]
    assert np.isnan(means[[OTHER, PSYCHOMETRIC]]).all()
    assert not counts[[OTHER, PSYCHOMETRIC]].any()
    assert s.source_counts.dtype == np.int32


def test_min_peers_of_two_lets_two_peers_count():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS, ScoringRules(min_peers=2))
    assert s.source_means[PEER, 0, 1] == 4.5  # (4 + 5) / 2


def test_peers_never_count_when_fewer_slots_than_the_minimum():
    ratings, sources = slots((MANAGER, [[3.0]]), (PEER, [[5.0]]), (PEER, [[5.0]]))
    s = score(ratings, sources, np.array([3.0]), np.array([1.0]))
    assert math.isnan(s.source_means[PEER, 0, 0])
    assert s.source_counts[PEER, 0, 0] == 2
    assert s.combined[0, 0] == 3.0


def test_empty_slots_are_ignored_even_when_they_hold_levels():
    ratings, sources = slots((MANAGER, [[3.0], [2.0]]), ([EMPTY, SELF], [[5.0], [4.0]]))
    s = score(ratings, sources, np.array([3.0]), np.array([1.0]))
    assert s.source_counts[SELF, :, 0].tolist() == [0, 1]
    assert math.isnan(s.source_means[SELF, 0, 0])
    assert s.source_means[SELF, 1, 0] == 4.0


def test_a_slot_may_hold_different_sources_for_different_people():
    ratings, sources = slots(
        ([PEER, OTHER], [[2.0], [5.0]]),
        ([PEER, PEER], [[4.0], [3.0]]),
        ([OTHER, PEER], [[1.0], [nan]]),
    )
    s = score(ratings, sources, np.array([3.0]), np.array([1.0]), ScoringRules(min_peers=1))
    assert s.source_means[PEER, :, 0].tolist() == [3.0, 3.0]  # (2 + 4) / 2; 3 alone
    assert s.source_means[OTHER, :, 0].tolist() == [1.0, 5.0]
    assert s.source_counts[PEER, :, 0].tolist() == [2, 1]


# score: combined, others, gaps ----------------------------------------------------------------


def test_combined_excludes_self_and_renormalises_over_sources_present():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)
    # First: (manager 4 + peers 3) / 2. Second: peers too few, so the manager alone.
    assert s.combined.tolist() == [[3.5, 2.0]]
    assert s.others is s.combined


def test_include_self_counts_self_in_combined_but_not_in_others():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS, ScoringRules(include_self=True))
    assert s.combined[0].tolist() == [4.0, 2.0]  # (5 + 4 + 3) / 3; self has no second rating
    assert s.others[0].tolist() == [3.5, 2.0]


def test_source_weights_weigh_the_source_means():
    rules = ScoringRules(source_weights={"manager": 3, "peer": 1})
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS, rules)
    assert s.combined[0, 0] == pytest.approx((3 * 4 + 1 * 3) / 4)
    assert s.combined[0, 1] == 2.0  # the manager's weight renormalised to 1


def test_a_source_weighing_zero_does_not_count():
    rules = ScoringRules(source_weights={"peer": 0})
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS, rules)
    assert s.combined[0].tolist() == [4.0, 2.0]
    assert s.source_means[PEER, 0, 0] == 3.0  # still reported


def test_gaps_are_combined_minus_required():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)
    assert s.gaps.tolist() == [[0.5, -2.0]]


# score: fit and coverage ----------------------------------------------------------------------


def test_fit_caps_each_competency_at_its_required_level():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)
    # 100 * (60 * min(3.5 / 3, 1) + 40 * (2 / 4)) / 100 = 80.
    assert s.fit[0] == pytest.approx(80.0)
    assert s.coverage[0] == 1.0


def test_fit_rests_on_scored_competencies_and_coverage_says_how_much():
    ratings, sources = slots((MANAGER, [[2.0, nan, 5.0], [nan, nan, nan]]))
    s = score(ratings, sources, np.array([4.0, 4.0, 4.0]), np.array([1.0, 2.0, 1.0]))
    # (1 * 0.5 + 1 * 1) / 2 over the two scored competencies, weighing 2 of 4.
    assert s.fit[0] == pytest.approx(75.0)
    assert s.coverage[0] == 0.5
    assert math.isnan(s.fit[1])
    assert s.coverage[1] == 0.0
    assert np.isnan(s.gaps[1]).all()


def test_weights_need_not_sum_to_100():
    a = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)
    b = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS / 7)
    assert b.fit[0] == pytest.approx(a.fit[0])


def test_a_scored_competency_of_weight_zero_gives_no_fit():
    ratings, sources = slots((MANAGER, [[3.0, nan]]))
    s = score(ratings, sources, np.array([3.0, 3.0]), np.array([0.0, 1.0]))
    assert math.isnan(s.fit[0])
    assert s.coverage[0] == 0.0


# score: blind spots and hidden strengths ------------------------------------------------------


def test_blind_spots_and_hidden_strengths_compare_self_with_others():
    ratings, sources = slots(
        (SELF, [[5.0, 2.0, 3.0, 4.0, nan]]),
        (MANAGER, [[3.5, 3.0, 3.5, nan, 1.0]]),
    )
    s = score(ratings, sources, np.full(5, 3.0), np.ones(5))
    # Self - others: 1.5, -1 (exactly the threshold), -0.5, no others, no self.
    assert s.blind_spots[0].tolist() == [True, False, False, False, False]
    assert s.hidden_strengths[0].tolist() == [False, True, False, False, False]
    wider = score(ratings, sources, np.full(5, 3.0), np.ones(5), rules_threshold(2.0))
    assert not wider.blind_spots.any()
    assert not wider.hidden_strengths.any()


def rules_threshold(t: float) -> ScoringRules:
    return ScoringRules(blind_spot_threshold=t)


def test_blind_spots_use_others_even_when_self_counts():
    ratings, sources = slots((SELF, [[5.0]]), (MANAGER, [[3.0]]))
    s = score(ratings, sources, np.array([3.0]), np.array([1.0]), ScoringRules(include_self=True))
    assert s.combined[0, 0] == 4.0
    assert s.blind_spots[0, 0]  # 5 - 3 = 2, not 5 - 4


def test_a_threshold_is_met_despite_rounding():
    # Others (2.1 + 2.2 + 2.3) / 3 = 2.2 in exact arithmetic; self 3.2 is exactly 1 above it.
    ratings, sources = slots((SELF, [[3.2]]), (PEER, [[2.1]]), (PEER, [[2.2]]), (PEER, [[2.3]]))
    s = score(ratings, sources, np.array([3.0]), np.array([1.0]))
    assert s.blind_spots[0, 0]


# score: percentile ----------------------------------------------------------------------------


def fits_of(values: list[float]) -> tuple[Floats, np.ndarray]:
    """One competency required at 5, rated by a manager at fit / 20 (nan for no rating)."""
    return slots((MANAGER, [[v / 20] for v in values]))


def test_percentile_uses_mid_ranks_for_ties_and_skips_people_without_a_fit():
    ratings, sources = fits_of([50, 50, 80, 20, nan])
    s = score(ratings, sources, np.array([5.0]), np.array([1.0]))
    assert s.fit[:4].tolist() == [50.0, 50.0, 80.0, 20.0]
    # 4 people ranked: 20 -> 0.5/4, 50s -> (1 + 1)/4, 80 -> 3.5/4.
    assert s.percentile[:4].tolist() == [50.0, 50.0, 87.5, 12.5]
    assert math.isnan(s.percentile[4])


def test_percentile_ranks_within_each_group():
    ratings, sources = fits_of([50, 60, 80, 20, 40, nan])
    groups = np.array([0, 1, 0, 1, 0, 1])
    s = score(ratings, sources, np.array([5.0]), np.array([1.0]), groups=groups)
    # Group 0: 40 < 50 < 80; group 1: 20 < 60 (the nan not counted).
    assert s.percentile[:5].tolist() == [50.0, 75.0, 250 / 3, 25.0, 50 / 3]


def test_percentile_is_the_same_for_huge_group_indices():
    # Group indices this large cannot be packed with positions into one integer to sort.
    ratings, sources = fits_of([50, 60, 80, 20, 40])
    groups = np.array([2**25 + 3, 7, 2**25 + 3, 7, 2**25 + 3])
    s = score(ratings, sources, np.array([5.0]), np.array([1.0]), groups=groups)
    assert s.percentile.tolist() == pytest.approx([50.0, 75.0, 250 / 3, 25.0, 50 / 3])


def test_nobody_scored_gives_nan_percentiles():
    ratings, sources = fits_of([nan, nan])
    s = score(ratings, sources, np.array([5.0]), np.array([1.0]))
    assert np.isnan(s.percentile).all()


# score: shapes, edges and read-only results ---------------------------------------------------


def test_no_people_and_no_slots_are_fine():
    none = score(np.empty((2, 0, 3)), np.empty((2, 0), np.int8), np.ones(3), np.ones(3))
    assert none.fit.shape == (0,)
    assert none.source_means.shape == (len(SOURCES), 0, 3)
    unrated = score(np.empty((0, 2, 3)), np.empty((0, 2), np.int8), np.ones(3), np.ones(3))
    assert np.isnan(unrated.combined).all()
    assert np.isnan(unrated.fit).all()


def test_results_are_read_only():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)
    for array in (s.source_means, s.source_counts, s.combined, s.gaps, s.fit, s.blind_spots):
        with pytest.raises(ValueError, match="read-only"):
            array[...] = 0


def test_blocks_and_threads_give_identical_results():
    rng = np.random.default_rng(5)
    k, n, c = 5, 3001, 7
    ratings = rng.integers(1, 6, size=(k, n, c)).astype(np.float64)
    ratings[rng.random((k, n, c)) < 0.2] = nan
    sources = rng.integers(-1, 5, size=(k, n)).astype(np.int8)
    sources[0] = SELF
    args = (ratings, sources, rng.uniform(1, 5, c), rng.uniform(0, 9, c))
    rules = ScoringRules(source_weights={"peer": 2.5}, min_peers=2, include_self=True)
    groups = rng.integers(0, 9, n)
    whole = score(*args, rules, groups)
    with (
        mock.patch.object(scoring, "_BLOCK_CELLS", 10 * c),
        mock.patch.object(scoring, "_PARALLEL_CELLS", 0),
        mock.patch.object(scoring, "_cpus", lambda: 2),
    ):
        blocked = score(*args, rules, groups)
    for name in Scores.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(whole, name), getattr(blocked, name), err_msg=name)


# score: validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"ratings": np.ones((2, 1))}, "ratings"),
        ({"ratings": np.array([[[0.5, 3.0]]] * 5)}, "ratings"),
        ({"ratings": np.array([[[math.inf, 3.0]]] * 5)}, "ratings"),
        ({"ratings": np.array([[[-math.inf, 3.0]]] * 5)}, "ratings"),
        ({"ratings": np.array([[["a", "b"]]] * 5)}, "ratings"),
        ({"sources": np.zeros((5, 2), np.int8)}, "sources"),
        ({"sources": np.full((5, 1), 5)}, "sources"),
        ({"sources": np.full((5, 1), -2)}, "sources"),
        ({"sources": np.full((5, 1), 1.0)}, "sources"),
        ({"required": np.array([3.0])}, "required"),
        ({"required": np.array([3.0, 0.0])}, "required"),
        ({"required": np.array([3.0, nan])}, "required"),
        ({"weights": np.array([1.0, -1.0])}, "weights"),
        ({"weights": np.zeros(2)}, "weights"),
        ({"weights": np.array([1.0, math.inf])}, "weights"),
        ({"groups": np.array([0, 1])}, "groups"),
        ({"groups": np.array([-1])}, "groups"),
        ({"groups": np.array([2**26])}, "groups"),
        ({"groups": np.array([0.5])}, "groups"),
    ],
)
def test_bad_input_is_refused_naming_its_location(change, where):
    args: dict[str, object] = {
        "ratings": RATINGS, "sources": SOURCE_CODES, "required": REQUIRED, "weights": WEIGHTS
    }  # fmt: skip
    args |= change
    with pytest.raises(ValidationError) as error:
        score(**args)  # type: ignore[arg-type]
    assert location(error) == [where]


def test_a_bad_rating_in_a_later_block_is_refused():
    ratings = np.full((1, 50, 2), 3.0)
    ratings[0, 49, 1] = 0.0
    with (
        mock.patch.object(scoring, "_BLOCK_CELLS", 4),
        pytest.raises(ValidationError, match="at least 1"),
    ):
        score(ratings, np.zeros((1, 50), np.int8), REQUIRED, WEIGHTS)


# rules ----------------------------------------------------------------------------------------


def test_default_rules():
    assert dict(DEFAULT_RULES.source_weights) == dict.fromkeys(SOURCES, 1.0)
    assert (DEFAULT_RULES.min_peers, DEFAULT_RULES.include_self) == (3, False)
    assert DEFAULT_RULES.blind_spot_threshold == 1.0


def test_rules_round_trip_through_plain_data():
    rules = rules_from_dict(
        {"source_weights": {"manager": 2, "self": 0}, "min_peers": 2, "include_self": True}
    )
    assert rules.source_weights["manager"] == 2.0
    assert rules.source_weights["peer"] == 1.0
    data = rules_to_dict(rules)
    assert data["source_weights"] == {
        "self": 0.0, "manager": 2.0, "peer": 1.0, "other": 1.0, "psychometric": 1.0
    }  # fmt: skip
    assert rules_from_dict(data) == rules
    assert rules_from_dict({}) == DEFAULT_RULES


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"source_weights": {"peer": 11}}, ("source_weights.peer", "between 0 and 10")),
        ({"source_weights": {"peer": -1}}, ("source_weights.peer", "between 0 and 10")),
        ({"source_weights": {"peer": "2"}}, ("source_weights.peer", "between 0 and 10")),
        ({"source_weights": {"peer": True}}, ("source_weights.peer", "between 0 and 10")),
        ({"source_weights": {"boss": 1}}, ("source_weights.boss", "unknown source")),
        ({"source_weights": [1, 2]}, ("source_weights", "mapping")),
        (
            {"source_weights": {"manager": 0, "peer": 0, "other": 0, "psychometric": 0}},
            ("source_weights", "other than self"),
        ),
        ({"min_peers": 0}, ("min_peers", "whole number from 1 to 20")),
        ({"min_peers": 21}, ("min_peers", "whole number from 1 to 20")),
        ({"min_peers": 2.5}, ("min_peers", "whole number from 1 to 20")),
        ({"min_peers": True}, ("min_peers", "whole number from 1 to 20")),
        ({"include_self": "yes"}, ("include_self", "true or false")),
        ({"blind_spot_threshold": 0}, ("blind_spot_threshold", "above 0")),
        ({"blind_spot_threshold": 9}, ("blind_spot_threshold", "at most 8")),
        ({"blind_spot_threshold": nan}, ("blind_spot_threshold", "above 0")),
        ({"colour": "blue"}, ("colour", "unknown setting")),
    ],
)
def test_bad_rules_are_refused_naming_the_setting(data, problem):
    with pytest.raises(ValidationError) as error:
        rules_from_dict(data)
    assert [(p.location, problem[1] in p.message) for p in error.value.problems] == [
        (problem[0], True)
    ]


def test_rules_report_every_problem_at_once():
    with pytest.raises(ValidationError) as error:
        rules_from_dict({"source_weights": {"peer": 99, "boss": 1}, "min_peers": 0})
    assert sorted(location(error)) == ["min_peers", "source_weights.boss", "source_weights.peer"]


def test_rules_are_hashable_and_equal_by_value():
    assert rules_from_dict({"min_peers": 2}) == ScoringRules(min_peers=2)
    assert len({DEFAULT_RULES, ScoringRules(), ScoringRules(include_self=True)}) == 2


def test_rules_built_directly_are_checked_too():
    with pytest.raises(ValidationError) as error:
        ScoringRules(min_peers=0)
    assert location(error) == ["min_peers"]


# psychometric conversions ---------------------------------------------------------------------


def test_sten_maps_linearly_onto_the_level_scale():
    assert psychometric_level(1, "sten") == 1.0
    assert psychometric_level(10, "sten") == 5.0
    assert psychometric_level(5.5, "sten") == 3.0
    assert psychometric_level(10, "sten", levels=7) == 7.0
    assert psychometric_level(4, "sten", levels=4) == 2.0  # 1 + 3 * 3 / 9


def test_percentile_50_is_sten_5_5_and_the_middle_level():
    assert sten_from(50, "percentile") == 5.5
    assert psychometric_level(50, "percentile") == 3.0


def test_percentiles_convert_through_the_normal_quantile():
    # qnorm(0.975) = 1.959964 (R); 5.5 + 2 * 1.959964 = 9.419928.
    assert sten_from(97.5, "percentile") == pytest.approx(9.419928, abs=1e-6)
    assert sten_from(2.5, "percentile") == pytest.approx(1.580072, abs=1e-6)
    assert sten_from(99.9, "percentile") == 10.0  # z = 3.09, clipped
    assert sten_from(0.01, "percentile") == 1.0


def test_stanines_convert_at_their_standard_deviation_of_two():
    assert [sten_from(s, "stanine") for s in (1, 5, 9)] == [1.5, 5.5, 9.5]


def test_numpy_numbers_are_accepted():
    assert psychometric_level(np.float64(50), "percentile") == 3.0
    assert psychometric_level(np.int64(10), "sten") == 5.0  # type: ignore[arg-type]


def test_levels_pass_through_and_map_to_stens():
    assert psychometric_level(4, "level") == 4.0
    assert sten_from(3, "level") == 5.5
    assert sten_from(7, "level", levels=7) == 10.0


@pytest.mark.parametrize(
    ("value", "scale", "where"),
    [
        (0.9, "sten", "value"),
        (10.5, "sten", "value"),
        (0, "percentile", "value"),
        (100, "percentile", "value"),
        (10, "stanine", "value"),
        (6, "level", "value"),
        (nan, "sten", "value"),
        (math.inf, "percentile", "value"),
        (5, "t-score", "scale"),
    ],
)
def test_out_of_range_psychometric_values_are_refused(value, scale, where):
    with pytest.raises(ValidationError) as error:
        psychometric_level(value, scale)
    assert location(error) == [where]


def test_a_scale_of_the_wrong_size_is_refused():
    with pytest.raises(ValidationError) as error:
        psychometric_level(5, "sten", levels=2)
    assert location(error) == ["levels"]


# band -----------------------------------------------------------------------------------------


def made_scores(fit: list[float], coverage: list[float], gaps: list[list[float]]) -> Scores:
    """Scores with only the fields band() reads filled in."""
    n, c = len(gaps), len(gaps[0])
    zeros = np.zeros((n, c))
    flags = np.zeros((n, c), dtype=np.bool_)
    return Scores(
        source_means=np.zeros((len(SOURCES), n, c)),
        source_counts=np.zeros((len(SOURCES), n, c), dtype=np.int32),
        combined=zeros,
        others=zeros,
        gaps=np.array(gaps),
        fit=np.array(fit),
        coverage=np.array(coverage),
        blind_spots=flags,
        hidden_strengths=flags,
        percentile=np.zeros(n),
    )


def test_band_places_people_by_fit_coverage_and_gaps():
    s = made_scores(
        fit=[90, 90, 90, 75, 75, 60, 95, nan, 85],
        coverage=[1, 1, 1, 1, 1, 1, 0.5, 0, 0.8],
        gaps=[
            [0, -1, 0],  # ready now: a gap of exactly the tolerance is fine
            [-1.5, 0, 0],  # a competency gap: ready with development
            [0, 0, -1.5],  # an attribute gap: not yet, whatever the fit
            [-2, 0, nan],  # development fit, competency gaps only
            [0, 0, -2],  # development fit but an attribute gap
            [0, 0, 0],  # fit too low
            [0, 0, 0],  # too little evidence
            [nan, nan, nan],  # no evidence at all
            [0, 0, 0],  # exactly at the thresholds
        ],
    )
    assert band(s, ["C", "C/A", "A"]).tolist() == [2, 1, 0, 1, 0, 0, -1, -1, 2]
    assert band(s, ["C", "C/A", "C"]).tolist()[2] == 1
    assert band(s, ["C", "C/A", "A"], ready_fit=95, tolerance=0).tolist()[0] == 1
    assert band(s, ["C", "C/A", "A"]).dtype == np.int8


def test_band_with_real_scores():
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)  # fit 80, second gap -2
    assert band(s, ["C", "C"]).tolist() == [1]
    assert band(s, ["C", "A"]).tolist() == [0]
    assert BANDS[1] == "Ready with development"


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"kinds": ["C"]}, "kinds"),
        ({"kinds": ["C", "X"]}, "kinds"),
        ({"ready_fit": 60.0}, "develop_fit"),
        ({"ready_fit": 101.0}, "ready_fit"),
        ({"min_coverage": 1.5}, "min_coverage"),
        ({"tolerance": -1.0}, "tolerance"),
    ],
)
def test_band_refuses_bad_thresholds(kwargs, where):
    s = score(RATINGS, SOURCE_CODES, REQUIRED, WEIGHTS)
    kinds = kwargs.pop("kinds", ["C", "A"])
    with pytest.raises(ValidationError) as error:
        band(s, kinds, **kwargs)
    assert location(error) == [where]


# property: score matches a slow, loop-by-loop reference ---------------------------------------


def reference(ratings, sources, required, weights, rules, groups):  # noqa: PLR0917 -- as score()
    """Compute Scores' fields with plain Python loops, straight from the formulas."""
    k, n, c = ratings.shape
    w = [rules.source_weights[name] for name in SOURCES]
    means = np.full((len(SOURCES), n, c), nan)
    counts = np.zeros((len(SOURCES), n, c), dtype=np.int32)
    combined, others = np.full((n, c), nan), np.full((n, c), nan)
    blind, hidden = np.zeros((n, c), bool), np.zeros((n, c), bool)
    fit, coverage = np.full(n, nan), np.zeros(n)
    for i in range(n):
        fit_sum = covered = 0.0
        for j in range(c):
            for s in range(len(SOURCES)):
                values = [
                    ratings[r, i, j]
                    for r in range(k)
                    if sources[r, i] == s and not math.isnan(ratings[r, i, j])
                ]
                counts[s, i, j] = len(values)
                if values and (s != PEER or len(values) >= rules.min_peers):
                    means[s, i, j] = sum(values) / len(values)
            for out, with_self in ((others, False), (combined, rules.include_self)):
                parts = [
                    (w[s], means[s, i, j])
                    for s in range(len(SOURCES))
                    if w[s] > 0 and (s != SELF or with_self) and not math.isnan(means[s, i, j])
                ]
                if parts:
                    out[i, j] = sum(a * m for a, m in parts) / sum(a for a, _ in parts)
            if not math.isnan(combined[i, j]):
                fit_sum += weights[j] * min(combined[i, j] / required[j], 1.0)
                covered += weights[j]
            difference = means[SELF, i, j] - others[i, j]
            blind[i, j] = difference >= rules.blind_spot_threshold - 1e-9
            hidden[i, j] = -difference >= rules.blind_spot_threshold - 1e-9
        coverage[i] = covered / sum(weights)
        if covered > 0:
            fit[i] = 100 * fit_sum / covered
    group = [0] * n if groups is None else list(groups)
    # Fits are ranked on the module's 2**-30 grid, so rounding noise does not split ties.
    grid = {i: round(f * 2**30) for i, f in enumerate(fit) if not math.isnan(f)}
    percentile = np.full(n, nan)
    for i, q in grid.items():
        peers = [grid[o] for o in grid if group[o] == group[i]]
        below = sum(1 for other in peers if other < q)
        equal = sum(1 for other in peers if other == q)
        percentile[i] = 100 * (below + 0.5 * equal) / len(peers)
    return {
        "source_means": means,
        "source_counts": counts,
        "combined": combined,
        "others": others,
        "gaps": combined - required,
        "fit": fit,
        "coverage": coverage,
        "blind_spots": blind,
        "hidden_strengths": hidden,
        "percentile": percentile,
    }


@st.composite
def scoring_inputs(draw):
    k, n, c = draw(st.integers(0, 5)), draw(st.integers(0, 7)), draw(st.integers(1, 4))
    level = st.sampled_from([nan, nan, 1.0, 2.0, 3.0, 4.0, 5.0, 2.5, 1.25])
    ratings = np.array(draw(st.lists(level, min_size=k * n * c, max_size=k * n * c)))
    codes = draw(st.lists(st.integers(EMPTY, PSYCHOMETRIC), min_size=k * n, max_size=k * n))
    required = draw(st.lists(st.sampled_from([1.0, 2.0, 3.0, 3.5, 5.0]), min_size=c, max_size=c))
    weights = draw(st.lists(st.sampled_from([0.0, 1.0, 2.5, 30.0]), min_size=c, max_size=c))
    if not any(weights):
        weights[0] = 1.0
    source_weights = {name: draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])) for name in SOURCES}
    if not any(source_weights[name] for name in SOURCES[1:]):
        source_weights["manager"] = 1.0
    rules = ScoringRules(
        source_weights=source_weights,
        min_peers=draw(st.integers(1, 3)),
        include_self=draw(st.booleans()),
        blind_spot_threshold=draw(st.sampled_from([0.5, 1.0, 1.5])),
    )
    groups = draw(st.none() | st.lists(st.integers(0, 2), min_size=n, max_size=n))
    return (
        ratings.reshape(k, n, c),
        np.array(codes, dtype=np.int8).reshape(k, n),
        np.array(required),
        np.array(weights),
        rules,
        None if groups is None else np.array(groups),
    )


@settings(max_examples=300, deadline=None)
@given(scoring_inputs(), st.sampled_from([1, 3, 2**17]), st.booleans())
def test_score_matches_the_reference_implementation(inputs, block_cells, threaded):
    with (
        mock.patch.object(scoring, "_BLOCK_CELLS", block_cells),
        mock.patch.object(scoring, "_PARALLEL_CELLS", 0 if threaded else 2**21),
        mock.patch.object(scoring, "_cpus", lambda: 2),
    ):
        got = score(*inputs)
    expected = reference(*inputs)
    for name, value in expected.items():
        actual = getattr(got, name)
        assert actual.shape == value.shape, name
        if value.dtype == np.float64:
            np.testing.assert_allclose(actual, value, rtol=1e-12, atol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(actual, value, err_msg=name)
