"""Tests of the development rules and content (kamfit.domain.development)."""

from __future__ import annotations

import math
import tomllib
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kamfit.domain import framework
from kamfit.domain.development import (
    ADVICE,
    Catalogue,
    load_catalogue,
    load_quick_check,
    make_or_buy,
    quick_check_score,
    selling_background,
    selling_note,
    shipped_catalogue,
    shipped_quick_check,
    suggest_plan,
)
from kamfit.domain.errors import ValidationError

ROOT = Path(__file__).parents[2]
CONTENT = ROOT / "src/kamfit/content"
SBI_SEED = ROOT.parent / "shared/seeds/004_0036961b263cc5d7.txt"

TRAINING = {"course", "workshop", "e-learning"}
C_FAMILY = TRAINING | {"practice"}
A_FAMILY = {"coaching", "mentoring", "stretch-assignment", "shadowing", "feedback"}

# Copied character for character from the SBI article (Staples), the bullets under
# "Does the Key Account Manager:".
SBI_QUESTIONS = (
    "Meet with the customers top decision makers?",
    "Always know what the competitors are trying to do within the key account and appreciate "
    "the competitors may be better in some areas?",
    "Set realistic goals?",
    "Handle the stress of last minutes changes well?",
    "Know the customer’s business as well as they do?",
    "Assist the customers in areas unrelated to your business?",
    "Bend the rules only to support the customer: this is the forgiveness over permission rep?",
    "Consistently communicate the value the company provides the customer?",
    "Usually the first in and last to leave the office?",
)


def problems_of(call: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return [(p.location, p.message) for p in caught.value.problems]


def locations_of(call: Any) -> list[str]:
    return [location for location, _ in problems_of(call)]


def shipped_kinds() -> dict[str, str]:
    return {c.key: c.kind.value for c in framework.shipped().competencies}


def action(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "key": "an-action",
        "competency": "negotiation",
        "type": "course",
        "title": "Title",
        "description": "One sentence.",
        "duration": "1 day",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def catalogue_doc(*actions: dict[str, object], **extra: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "types": [
            {"key": "course", "label": "Course", "suits": ["C"]},
            {"key": "coaching", "label": "Coaching", "suits": ["A"]},
        ],
        "actions": list(actions) or [action()],
    }
    doc.update(extra)
    return doc


# Content: the development action catalogue -------------------------------------------------


def test_every_table3_competency_has_a_specific_action():
    table3 = [c.key for c in framework.shipped().competencies if c.table3_position is not None]
    specific = {a.competency for a in shipped_catalogue().actions}
    assert len(table3) == 21
    assert [key for key in table3 if key not in specific] == []


def test_no_attribute_is_offered_a_course_workshop_or_e_learning():
    catalogue = shipped_catalogue()
    attributes = [c.key for c in framework.shipped().competencies if c.kind == "A"]
    assert len(attributes) > 9
    for key in attributes:
        offered = {a.type for a in catalogue.for_competency(key, "A")}
        assert offered, key
        assert offered <= A_FAMILY, key
    kinds = shipped_kinds()
    for a in catalogue.actions:
        if a.competency is not None and kinds[a.competency] == "A":
            assert a.type not in TRAINING, a.key


def test_competencies_are_offered_only_training_or_practice():
    catalogue = shipped_catalogue()
    for c in framework.shipped().competencies:
        if c.kind == "C":
            assert {a.type for a in catalogue.for_competency(c.key, "C")} <= C_FAMILY, c.key


def test_table3_competency_attributes_get_both_families_in_their_first_two_actions():
    catalogue = shipped_catalogue()
    both = [
        c.key
        for c in framework.shipped().competencies
        if c.kind == "C/A" and c.table3_position is not None
    ]
    assert len(both) == 7
    for key in both:
        first_two = {a.type for a in catalogue.for_competency(key, "C/A")[:2]}
        assert first_two & C_FAMILY, key
        assert first_two & A_FAMILY, key


def test_action_types_follow_the_courses_litmus_test():
    types = shipped_catalogue().types
    assert {k for k, t in types.items() if t.suits == {"C"}} == C_FAMILY
    assert {k for k, t in types.items() if t.suits == {"A"}} == A_FAMILY
    assert types["shadowing"].label == "Shadowing / job rotation"
    assert types["feedback"].label == "Feedback & reflection"


def test_competency_without_a_specific_action_falls_back_to_generic_ones_of_its_kind():
    catalogue = shipped_catalogue()
    assert [a.key for a in catalogue.for_competency("resilience", "A")] == [
        "generic-a-coaching",
        "generic-a-stretch",
        "generic-a-feedback",
    ]
    both = [a.key for a in catalogue.for_competency("value-creation", "C/A")]
    assert both[:2] == ["generic-ca-workshop", "generic-ca-coaching"]
    assert set(both[2:]) == {a.key for a in catalogue.actions if a.kind in {"C", "A"}}


def test_specific_actions_come_before_generic_ones():
    keys = [a.key for a in shipped_catalogue().for_competency("negotiation", "C")]
    specific, generic = keys[:2], keys[2:]
    assert specific == ["negotiation-course", "negotiation-practice"]
    assert generic == ["generic-c-course", "generic-c-practice"]


def test_a_reclassified_competency_is_offered_only_actions_of_its_new_kind():
    # An organisation may call negotiation an attribute: its course no longer fits.
    offered = shipped_catalogue().for_competency("negotiation", "A")
    assert [a.competency for a in offered] == [None, None, None]
    assert {a.type for a in offered} <= A_FAMILY


def test_every_action_has_a_one_sentence_description_title_and_duration():
    for a in shipped_catalogue().actions:
        assert a.title and a.duration, a.key
        assert a.description.endswith(".") and ". " not in a.description, a.key


def test_catalogue_says_it_is_kamfits_and_credits_woodburn_section_2_4():
    text = (CONTENT / "development-actions.yaml").read_text("utf-8")
    assert "The catalogue is kamfit's own" in text
    assert "Are courses readily available?" in text
    assert "section 2.4" in text
    assert "Are courses readily available?" in shipped_catalogue().note


def test_content_files_are_package_data():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["kamfit"]
    for name in ("development-actions.yaml", "sbi-quick-check.yaml"):
        assert resources.files("kamfit.content").joinpath(name).is_file()
        assert any(fnmatch(f"content/{name}", p) for p in patterns), name


# Content: the SBI quick check --------------------------------------------------------------


def test_quick_check_has_the_nine_sbi_questions_verbatim():
    check = shipped_quick_check()
    assert tuple(q.text for q in check.questions) == SBI_QUESTIONS
    assert len({q.key for q in check.questions}) == 9
    assert check.prompt == "Does the Key Account Manager:"
    assert check.framing == "Answering “yes” to the above questions is a great start."
    assert check.options == ("yes", "no")


def test_quick_check_texts_appear_in_the_sbi_seed():
    if not SBI_SEED.is_file():
        pytest.skip(f"the SBI seed is not at {SBI_SEED}")
    seed = SBI_SEED.read_text("utf-8")
    check = shipped_quick_check()
    for text in (check.prompt, check.framing, *(q.text for q in check.questions)):
        assert f"{text}\n" in seed, text


def test_quick_check_hints_name_competencies_of_the_shipped_framework():
    known = set(shipped_kinds())
    for q in shipped_quick_check().questions:
        assert q.hints, q.key
        assert set(q.hints) <= known, q.key


def test_quick_check_cites_staples_and_says_table1_was_an_image():
    check = shipped_quick_check()
    assert "Staples, J." in check.source
    assert "SBI" in check.source
    raw = yaml.safe_load((CONTENT / "sbi-quick-check.yaml").read_text("utf-8"))
    assert raw["source"]["author"] == "J. Staples"
    assert "Table 1" in raw["source"]["note"] and "image" in raw["source"]["note"]
    assert "kamfit's interpretation" in raw["source"]["note"]


# Loader refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "location"),
    [
        (catalogue_doc(action(type="webinar")), "actions[0].type"),
        (catalogue_doc(action(type=None)), "actions[0].type"),
        (catalogue_doc(action(competency="charisma")), "actions[0].competency"),
        (catalogue_doc(action(kind="C")), "actions[0]"),
        (catalogue_doc(action(competency=None)), "actions[0]"),
        (catalogue_doc(action(competency=None, kind="B")), "actions[0].kind"),
        (catalogue_doc(action(competency=None, kind="A")), "actions[0].type"),
        (catalogue_doc(action(title="  ")), "actions[0].title"),
        (catalogue_doc(action(duration=None)), "actions[0].duration"),
        (catalogue_doc(action(key="Bad Key")), "actions[0].key"),
        (catalogue_doc(action(), action(type="course")), "actions[1].key"),
        (catalogue_doc(action(), schema="kamfit-framework/1"), "schema"),
        (catalogue_doc(action(), types=[]), "types"),
        (catalogue_doc(action(), actions="none"), "actions"),
        (catalogue_doc(action(), actions=["course"]), "actions[0]"),
    ],
)
def test_load_catalogue_refuses_bad_actions_with_their_location(
    doc: dict[str, object], location: str
):
    assert location in locations_of(lambda: load_catalogue(doc))


def test_load_catalogue_refuses_a_course_for_an_attribute():
    doc = catalogue_doc(action(), action(key="grit-course", competency="tenacious"))
    assert problems_of(lambda: load_catalogue(doc)) == [
        (
            "actions[1].type",
            "type 'course' does not suit competency 'tenacious' of kind A: use coaching",
        )
    ]


def test_load_catalogue_refuses_bad_suits_and_lists_every_problem():
    doc = catalogue_doc(
        action(title=""),
        types=[
            {"key": "course", "label": "Course", "suits": ["C/A"]},
            {"key": "coaching", "label": "", "suits": "A"},
        ],
    )
    assert locations_of(lambda: load_catalogue(doc)) == [
        "types[0].suits[0]",
        "types[1].label",
        "types[1].suits",
        "actions[0].type",  # the course type was refused, so it is unknown
        "actions[0].title",
    ]


def test_load_catalogue_refuses_a_document_that_is_not_a_mapping():
    bad: Any = ["types", "actions"]
    assert locations_of(lambda: load_catalogue(bad)) == ["(document)"]


def test_load_catalogue_checks_against_the_kinds_it_is_given():
    doc = catalogue_doc(action(key="grit-coaching", competency="grit", type="coaching"))
    catalogue = load_catalogue(doc, kinds={"grit": "A"})
    assert [a.key for a in catalogue.for_competency("grit", "A")] == ["grit-coaching"]
    assert locations_of(lambda: load_catalogue(doc)) == ["actions[0].competency"]


def test_for_competency_refuses_an_unknown_kind():
    assert locations_of(lambda: shipped_catalogue().for_competency("negotiation", "X")) == ["kind"]


def quick_doc(**extra: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "source": {"citation": "Staples, J. SBI."},
        "questions": [{"key": "goals", "text": "Set realistic goals?", "hints": ["strategic"]}],
    }
    doc.update(extra)
    return doc


@pytest.mark.parametrize(
    ("doc", "location"),
    [
        (
            quick_doc(questions=[{"key": "q", "text": "T?", "hints": ["x", "y"]}]),
            "questions[0].hints[0]",
        ),
        (
            quick_doc(questions=[{"key": "q", "text": "T?", "hints": ["drive", ["y"]]}]),
            "questions[0].hints[1]",
        ),
        (quick_doc(questions=[{"key": "q", "text": "", "hints": []}]), "questions[0].text"),
        (
            quick_doc(questions=[{"key": "q", "text": "A?"}, {"key": "q", "text": "B?"}]),
            "questions[1].key",
        ),
        (quick_doc(source="Staples"), "source.citation"),
        (quick_doc(options=[True, False]), "options"),  # what unquoted yes/no become in YAML
        (quick_doc(questions=[]), "questions"),
    ],
)
def test_load_quick_check_refuses_bad_documents_with_their_location(
    doc: dict[str, object], location: str
):
    assert location in locations_of(lambda: load_quick_check(doc))


# make_or_buy -------------------------------------------------------------------------------

KEYS = ["negotiation", "tenacious", "listening", "drive"]
NAMES = ["Negotiation", "Tenacious", "Listening", "Drive"]
KINDS = ["C", "A", "C/A", "A"]


def test_make_or_buy_matches_a_hand_computed_team():
    nan = math.nan
    gaps = np.array(
        [
            [-1.0, -2.0, -1.0, 0.0],
            [-0.6, nan, -1.0, 0.0],
            [0.0, nan, 0.5, 0.0],
            [nan, -0.5, 1.0, nan],  # -0.5 is not below -0.5: not short
        ]
    )
    result = make_or_buy(gaps, KEYS, NAMES, KINDS)
    summary = [(a.competency, a.short, a.assessed, a.advice, a.widespread) for a in result.lines]
    # negotiation 2/3 first; tenacious and listening tie at 1/2, and tenacious's mean gap
    # (-2 - 0.5) / 2 = -1.25 is below listening's (-1 - 1 + 0.5 + 1) / 4 = -0.125.
    assert summary == [
        ("negotiation", 2, 3, "develop", True),
        ("tenacious", 1, 2, "select", True),
        ("listening", 2, 4, "both", True),
    ]
    first, second, third = result.lines
    assert first.share == pytest.approx(2 / 3)
    assert first.mean_gap == pytest.approx(-1.6 / 3)
    assert (second.share, second.mean_gap) == (0.5, -1.25)
    assert (third.share, third.mean_gap) == (0.5, -0.125)
    # Short cells: 2 C, 1 A, 2 C/A. develop = (2 + 2/2) / 5, select = (1 + 2/2) / 5.
    assert result.develop_share == pytest.approx(0.6)
    assert result.select_share == pytest.approx(0.4)
    assert result.headline == (
        "Mostly a make decision: the gaps are in competencies that can be taught"
    )
    assert first.text == "2 of 3 are short: a competency — train and develop the people you have"
    assert second.text == (
        "1 of 2 is short: an attribute — hard to change, so select for it when recruiting"
    )
    assert third.name == "Listening" and third.kind == "C/A"


def test_make_or_buy_advises_buying_when_the_gaps_are_in_attributes():
    gaps = np.array([[0.0, -1.0, 0.0, -1.0], [-1.0, -1.0, 0.0, -2.0]])
    result = make_or_buy(gaps, KEYS, NAMES, KINDS)
    assert result.select_share == pytest.approx(0.8)
    assert result.headline == (
        "Mostly a buy decision: the gaps are in attributes; select for them when recruiting"
    )
    # Shares 1/2 each; mean gaps drive -1.5, tenacious -1.0, negotiation -0.5.
    assert [a.competency for a in result.lines] == ["drive", "tenacious", "negotiation"]


def test_make_or_buy_says_when_make_and_buy_are_even():
    gaps = np.array([[-1.0, -1.0, 0.0, 0.0]])
    assert make_or_buy(gaps, KEYS, NAMES, KINDS).headline.startswith("Both make and buy")


def test_make_or_buy_reports_no_widespread_gaps_below_the_widespread_share():
    gaps = np.zeros((10, 4))
    gaps[0, 0] = -3.0
    gaps[1:3, 1] = -1.0  # 2 of 10 = 0.2 < 0.3
    result = make_or_buy(gaps, KEYS, NAMES, KINDS)
    assert result.headline == "No widespread gaps"
    assert [(a.competency, a.widespread) for a in result.lines] == [
        ("tenacious", False),
        ("negotiation", False),
    ]
    assert make_or_buy(gaps, KEYS, NAMES, KINDS, widespread=0.2).headline.startswith("Mostly a buy")


def test_make_or_buy_ignores_unassessed_competencies_without_warning():
    gaps = np.full((3, 4), np.nan)
    result = make_or_buy(gaps, KEYS, NAMES, KINDS)
    assert (result.lines, result.develop_share, result.select_share) == ((), 0.0, 0.0)
    assert result.headline == "No widespread gaps"
    assert make_or_buy(np.empty((0, 4)), KEYS, NAMES, KINDS).lines == ()


def test_make_or_buy_threshold_decides_who_is_short():
    gaps = np.array([[-0.8, 0.0, 0.0, 0.0]])
    assert len(make_or_buy(gaps, KEYS, NAMES, KINDS).lines) == 1
    assert make_or_buy(gaps, KEYS, NAMES, KINDS, threshold=1.0).lines == ()


@pytest.mark.parametrize(
    ("call", "location"),
    [
        (lambda: make_or_buy(np.zeros((2, 3)), KEYS, NAMES, KINDS), "keys"),
        (lambda: make_or_buy(np.zeros(4), KEYS, NAMES, KINDS), "gaps"),
        (lambda: make_or_buy(np.full((1, 4), -np.inf), KEYS, NAMES, KINDS), "gaps"),
        (lambda: make_or_buy(np.zeros((1, 4)), KEYS, NAMES, ["C", "B", "A", "A"]), "kinds[1]"),
        (lambda: make_or_buy(np.zeros((1, 4)), KEYS, NAMES, KINDS, threshold=-1), "threshold"),
        (lambda: make_or_buy(np.zeros((1, 4)), KEYS, NAMES, KINDS, widespread=0), "widespread"),
    ],
)
def test_make_or_buy_refuses_bad_input(call: Any, location: str):
    assert location in locations_of(call)


def test_advice_maps_each_kind():
    assert dict(ADVICE) == {"C": "develop", "A": "select", "C/A": "both"}


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6).map(lambda s: (s[0], 4)),
        elements=st.one_of(st.just(math.nan), st.floats(-3, 3)),
    )
)
def test_make_or_buy_counts_match_a_loop_and_shares_add_up(gaps: np.ndarray[Any, Any]):
    result = make_or_buy(gaps, KEYS, NAMES, KINDS)
    for a in result.lines:
        column = [g for g in gaps[:, KEYS.index(a.competency)] if not math.isnan(g)]
        assert a.short == sum(g < -0.5 for g in column) > 0
        assert a.assessed == len(column)
        assert a.mean_gap == pytest.approx(sum(column) / len(column))
    if result.lines:
        assert result.develop_share + result.select_share == pytest.approx(1.0)
    shares = [(-a.share, a.mean_gap) for a in result.lines]
    assert shares == sorted(shares)


# suggest_plan ------------------------------------------------------------------------------

PLAN_NAMES = {"negotiation": "Negotiation", "tenacious": "Tenacious", "listening": "Listening"}
PLAN_NAMES |= {"drive": "Drive", "it-literacy": "IT literacy"}
PLAN_KINDS = {"negotiation": "C", "tenacious": "A", "listening": "C/A", "drive": "A"}
PLAN_KINDS |= {"it-literacy": "C"}


def test_suggest_plan_orders_by_weighted_gap_and_keeps_to_short_competencies():
    gaps = {
        "negotiation": -1.0,  # 1.0 * 2 = 2.0
        "tenacious": -2.0,  # 2.0 * 1 = 2.0, ties with negotiation but the gap is larger
        "listening": -3.0,  # 3.0 * 1 = 3.0
        "drive": -0.5,  # not below -0.5
        "it-literacy": math.nan,
    }
    weights = {"negotiation": 2.0, "tenacious": 1.0, "listening": 1.0, "drive": 5.0}
    weights["it-literacy"] = 9.0
    plan = suggest_plan(gaps, weights, PLAN_NAMES, PLAN_KINDS, shipped_catalogue())
    assert [(s.priority, s.competency, s.action.key) for s in plan] == [
        (1, "listening", "listening-workshop"),
        (2, "tenacious", "tenacious-stretch"),
        (3, "negotiation", "negotiation-course"),
    ]
    assert (plan[0].name, plan[0].kind, plan[0].gap) == ("Listening", "C/A", -3.0)


def test_suggest_plan_gives_several_actions_per_competency_and_keeps_to_the_limit():
    gaps = {"listening": -3.0, "tenacious": -2.0, "negotiation": -1.0}
    weights = dict.fromkeys(gaps, 1.0)
    catalogue = shipped_catalogue()
    plan = suggest_plan(gaps, weights, PLAN_NAMES, PLAN_KINDS, catalogue, per_competency=2, limit=3)
    assert [(s.priority, s.action.key) for s in plan] == [
        (1, "listening-workshop"),
        (1, "listening-feedback"),
        (2, "tenacious-stretch"),
    ]
    assert suggest_plan(gaps, weights, PLAN_NAMES, PLAN_KINDS, catalogue, limit=0) == ()


def test_suggest_plan_never_offers_a_course_for_an_attribute():
    gaps = {"tenacious": -2.0, "drive": -2.0}
    plan = suggest_plan(
        gaps,
        dict.fromkeys(gaps, 1.0),
        PLAN_NAMES,
        PLAN_KINDS,
        shipped_catalogue(),
        per_competency=9,
    )
    assert plan and {s.action.type for s in plan} <= A_FAMILY


def test_suggest_plan_skips_a_competency_with_no_suitable_action_without_using_a_priority():
    catalogue = load_catalogue(catalogue_doc(action()))  # one course for negotiation only
    gaps = {"tenacious": -3.0, "negotiation": -1.0}
    plan = suggest_plan(gaps, dict.fromkeys(gaps, 1.0), PLAN_NAMES, PLAN_KINDS, catalogue)
    assert [(s.priority, s.competency) for s in plan] == [(1, "negotiation")]
    assert isinstance(catalogue, Catalogue)


@pytest.mark.parametrize(
    ("kwargs", "location"),
    [
        ({"weights": {}}, "weights.negotiation"),
        ({"weights": {"negotiation": -1.0}}, "weights.negotiation"),
        ({"names": {}}, "names.negotiation"),
        ({"kinds": {"negotiation": "X"}}, "kinds.negotiation"),
        ({"gaps": {"negotiation": -math.inf}}, "gaps.negotiation"),
        ({"per_competency": 0}, "per_competency"),
        ({"limit": -1}, "limit"),
        ({"threshold": -0.1}, "threshold"),
    ],
)
def test_suggest_plan_refuses_bad_input(kwargs: dict[str, Any], location: str):
    args: dict[str, Any] = {
        "gaps": {"negotiation": -1.0},
        "weights": {"negotiation": 1.0},
        "names": PLAN_NAMES,
        "kinds": PLAN_KINDS,
        "catalogue": shipped_catalogue(),
    }
    args.update(kwargs)
    assert location in locations_of(lambda: suggest_plan(**args))


# quick_check_score -------------------------------------------------------------------------


def test_quick_check_score_counts_yes_and_answered():
    check = shipped_quick_check()
    keys = [q.key for q in check.questions]
    answers: dict[str, bool | None] = {keys[0]: True, keys[1]: True, keys[2]: False}
    answers[keys[3]] = None
    assert quick_check_score(answers, check) == (2, 3)
    assert quick_check_score({}, check) == (0, 0)
    assert quick_check_score(dict.fromkeys(keys, True), check) == (9, 9)


def test_quick_check_score_refuses_unknown_keys_and_non_boolean_answers():
    check = shipped_quick_check()
    bad: Any = {"bogus": True, check.questions[0].key: "yes"}
    assert problems_of(lambda: quick_check_score(bad, check)) == [
        ("answers.bogus", "unknown question 'bogus'"),
        (
            f"answers.{check.questions[0].key}",
            "expected yes (true), no (false) or no answer (null)",
        ),
    ]


# selling_background and selling_note -------------------------------------------------------


def test_selling_background_counts_sales_among_the_known():
    assert selling_background(["sales"] * 9 + ["other", "unknown"]) == (9, 10, 0.9)
    assert selling_background(["unknown", "unknown"]) == (0, 0, None)
    assert selling_background([]) == (0, 0, None)


def test_selling_background_refuses_an_unknown_background():
    assert problems_of(lambda: selling_background(["sales", "Sales"])) == [
        ("backgrounds[1]", "unknown background 'Sales': use sales, other or unknown")
    ]


def test_selling_note_puts_the_papers_question_to_a_sales_heavy_team():
    assert selling_note(0.9, 10, sales=9, known=10) == (
        "9 of 10 KAMs (90%) come from sales, for a role that should spend 10% of its time "
        "selling. Woodburn (2006, section 2.5) asks: “Is it logical to select 100% of people "
        "with a background that corresponds to only 5-10% of the job?”"
    )


def test_selling_note_wording_without_counts_or_intended_share():
    assert selling_note(1.0, None).startswith("100% of KAMs come from sales. Woodburn (2006")
    assert selling_note(0.25, 7.5, sales=1, known=4).startswith(
        "1 of 4 KAMs (25%) comes from sales, for a role that should spend 7.5% of its time"
    )


def test_selling_note_does_not_question_a_team_with_few_sales_backgrounds():
    note = selling_note(0.1, 10, sales=1, known=10)
    assert "Is it logical" not in note
    assert "not over-represented" in note


def test_selling_note_without_known_backgrounds():
    assert selling_note(None, 10).startswith("No KAM's background is recorded yet")


@pytest.mark.parametrize(
    ("call", "location"),
    [
        (lambda: selling_note(1.5, 10), "sales_share"),
        (lambda: selling_note(0.5, 120), "intended_selling_percent"),
        (lambda: selling_note(0.5, 10, sales=1), "sales"),
        (lambda: selling_note(0.5, 10, sales=5, known=4), "sales"),
        (lambda: selling_note(0.5, 10, sales=1, known=4), "sales_share"),
    ],
)
def test_selling_note_refuses_bad_figures(call: Any, location: str):
    assert location in locations_of(call)
