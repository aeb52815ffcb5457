"""Tests of role profiles as plain data (kamfit.domain.profiles)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from kamfit.domain.errors import ValidationError
from kamfit.domain.framework import Kind
from kamfit.domain.profiles import (
    ACTIVITY_AREAS,
    SELLING_LIMIT,
    ComparisonRow,
    JdElement,
    JdItem,
    JdRequirement,
    JdRole,
    JobDescription,
    ProfileLine,
    check_time_allocation,
    compare_profiles,
    paper_view,
    render_markdown,
)

AREA_KEYS = [area.key for area in ACTIVITY_AREAS]


def problems_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


# check_time_allocation ----------------------------------------------------------------------


def test_the_default_allocation_is_valid_and_sells_at_the_limit_without_a_warning():
    defaults = {area.key: area.default_percent for area in ACTIVITY_AREAS}
    check = check_time_allocation(defaults)
    assert check.shares == tuple((key, float(defaults[key])) for key in AREA_KEYS)
    assert (check.selling, check.selling_limit, check.warnings) == (10.0, SELLING_LIMIT, ())


def test_time_allocation_lists_every_area_in_order_counting_missing_ones_as_zero():
    check = check_time_allocation({"development": 20, "strategy": 80})
    assert check.shares == (
        ("selling", 0.0),
        ("strategy", 80.0),
        ("relationships", 0.0),
        ("orchestration", 0.0),
        ("reporting", 0.0),
        ("development", 20.0),
    )
    assert check.selling == 0.0
    assert check.warnings == ()  # no selling is not something to warn about


def test_selling_above_the_limit_warns_citing_the_paper_and_the_actual_share():
    check = check_time_allocation({"selling": 22.5, "strategy": 77.5})
    (warning,) = check.warnings
    assert "22.5%" in warning
    assert "above the limit of 10%" in warning
    # Woodburn (2006), section 2.5: directors want KAMs to spend only 5–10% of time selling.
    assert "section 2.5" in warning
    assert "only 5–10% of their time selling" in warning


def test_the_selling_limit_can_be_set_and_is_exclusive():
    assert check_time_allocation({"selling": 15, "strategy": 85}, selling_limit=15).warnings == ()
    looser = check_time_allocation({"selling": 15.5, "strategy": 84.5}, selling_limit=15)
    assert "above the limit of 15%" in looser.warnings[0]
    assert looser.selling_limit == 15.0


def test_an_empty_time_allocation_is_refused():
    with pytest.raises(ValidationError) as caught:
        check_time_allocation({})
    assert problems_of(caught) == [
        "time_allocation: record the time allocation as percentages summing to 100"
    ]


def test_each_bad_share_is_its_own_problem_named_by_area():
    shares = {"selling": -5, "strategy": math.nan, "travel": 10, "reporting": math.inf}
    shares |= {"development": "lots"}  # type: ignore[dict-item]
    with pytest.raises(ValidationError) as caught:
        check_time_allocation(shares)
    assert problems_of(caught) == [
        "time_allocation.selling: must be a finite percentage of at least 0, not -5",
        "time_allocation.strategy: must be a finite percentage of at least 0, not nan",
        "time_allocation.travel: unknown activity area 'travel': expected one of selling, "
        "strategy, relationships, orchestration, reporting, development",
        "time_allocation.reporting: must be a finite percentage of at least 0, not inf",
        "time_allocation.development: expected a percentage, not 'lots'",
    ]


@pytest.mark.parametrize(
    ("shares", "total"),
    [
        ({"selling": 50, "strategy": 49.5}, "99.5"),
        ({"selling": 60, "strategy": 60}, "120"),
        ({"selling": 0, "strategy": 100.000002}, "100.000002"),
    ],
)
def test_a_total_other_than_100_is_refused_naming_the_sum(shares, total):
    with pytest.raises(ValidationError) as caught:
        check_time_allocation(shares)
    assert problems_of(caught) == [f"time_allocation: the shares sum to {total}%, not 100%"]


def test_rounding_within_a_millionth_of_a_percent_is_accepted():
    thirds = {"strategy": 100 / 3, "relationships": 100 / 3, "orchestration": 100 / 3}
    assert sum(check_time_allocation(thirds).shares[i][1] for i in range(6)) == pytest.approx(100)
    check_time_allocation({"selling": 10, "strategy": 90.0000005})


@pytest.mark.parametrize("limit", [-1.0, 101.0, math.nan, math.inf])
def test_a_selling_limit_outside_0_to_100_is_refused(limit):
    with pytest.raises(ValidationError) as caught:
        check_time_allocation({"selling": 100}, selling_limit=limit)
    assert [p.location for p in caught.value.problems] == ["selling_limit"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 100), min_size=5, max_size=5).map(sorted),
    st.floats(min_value=0, max_value=100),
)
def test_any_split_of_100_is_accepted_in_area_order(cuts, limit):
    # Cut 0..100 at five points: six non-negative whole shares summing to 100.
    bounds = [0, *cuts, 100]
    shares = {key: float(bounds[i + 1] - bounds[i]) for i, key in enumerate(AREA_KEYS)}
    check = check_time_allocation(dict(reversed(shares.items())), selling_limit=limit)
    assert check.shares == tuple(shares.items())
    assert len(check.warnings) == (shares["selling"] > limit)


# compare_profiles ---------------------------------------------------------------------------


def line(key: str, level: int | None = 3, weight: float = 10.0) -> ProfileLine:
    return ProfileLine(key, key.title(), Kind.COMPETENCY, level, weight)


def test_compare_lines_up_left_then_right_only_with_none_where_absent():
    left = [line("trust", 4, 60.0), line("plan", 3, 40.0)]
    right = [line("sell", 2, 30.0), line("plan", 4, 70.0)]
    rows = compare_profiles(left, right)
    assert rows == (
        ComparisonRow("trust", "Trust", Kind.COMPETENCY, 4, None, 60.0, None),
        ComparisonRow("plan", "Plan", Kind.COMPETENCY, 3, 4, 40.0, 70.0),
        ComparisonRow("sell", "Sell", Kind.COMPETENCY, None, 2, None, 30.0),
    )
    assert [r.weight_difference for r in rows] == [-60.0, 30.0, 30.0]


def test_compare_takes_name_and_kind_from_the_left():
    left = [ProfileLine("k", "Left name", Kind.ATTRIBUTE, 2, 50.0)]
    right = [ProfileLine("k", "Right name", Kind.BOTH, 2, 50.0)]
    (row,) = compare_profiles(left, right)
    assert (row.name, row.kind) == ("Left name", Kind.ATTRIBUTE)


def test_compare_refuses_a_key_twice_in_one_profile():
    with pytest.raises(ValidationError) as caught:
        compare_profiles([line("a")], [line("b"), line("c"), line("b")])
    assert problems_of(caught) == ["right[2].key: duplicate key 'b' (first at right[0])"]


keys = st.lists(st.sampled_from("abcdefghij"), unique=True, max_size=8)


@settings(max_examples=200, deadline=None)
@given(keys, keys, st.data())
def test_compare_covers_the_union_of_keys_exactly_once_in_order(left_keys, right_keys, data):
    levels = st.none() | st.integers(1, 5)
    left = [line(k, data.draw(levels), data.draw(st.floats(0, 100))) for k in left_keys]
    right = [line(k, data.draw(levels), data.draw(st.floats(0, 100))) for k in right_keys]
    rows = compare_profiles(left, right)
    assert [r.key for r in rows] == left_keys + [k for k in right_keys if k not in left_keys]
    by_key = {"left": {x.key: x for x in left}, "right": {x.key: x for x in right}}
    for row in rows:
        mine, theirs = by_key["left"].get(row.key), by_key["right"].get(row.key)
        assert row.left_weight == (mine.weight if mine else None)
        assert row.right_weight == (theirs.weight if theirs else None)
        assert row.left_level == (mine.required_level if mine else None)
        assert row.right_level == (theirs.required_level if theirs else None)
        assert row.weight_difference == (theirs.weight if theirs else 0) - (
            mine.weight if mine else 0
        )
    swapped = {r.key: r for r in compare_profiles(right, left)}
    assert set(swapped) == {r.key for r in rows}
    for row in rows:
        other = swapped[row.key]
        assert (other.left_level, other.left_weight) == (row.right_level, row.right_weight)
        assert (other.right_level, other.right_weight) == (row.left_level, row.left_weight)


# paper_view ---------------------------------------------------------------------------------


def test_paper_view_keeps_each_cited_key_once_with_equal_weights_and_no_level():
    cited = [
        ("trust", "Trust", Kind.ATTRIBUTE),
        ("plan", "Planning", Kind.COMPETENCY),
        ("trust", "Integrity", Kind.ATTRIBUTE),
        ("acumen", "Business acumen", Kind.BOTH),
    ]
    view = paper_view(cited)
    assert [(x.key, x.name, x.kind, x.required_level) for x in view] == [
        ("trust", "Trust", Kind.ATTRIBUTE, None),
        ("plan", "Planning", Kind.COMPETENCY, None),
        ("acumen", "Business acumen", Kind.BOTH, None),
    ]
    assert [x.weight for x in view] == [100 / 3] * 3


def test_paper_view_of_nothing_is_empty():
    assert paper_view([]) == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=3), st.sampled_from(list(Kind)))))
def test_paper_view_weights_sum_to_100_over_the_distinct_keys(cited):
    view = paper_view([(key, f"Name of {key}", kind) for key, kind in cited])
    distinct = list(dict.fromkeys(key for key, _ in cited))
    assert [x.key for x in view] == distinct
    assert len({x.weight for x in view}) <= 1
    if view:
        assert math.fsum(x.weight for x in view) == pytest.approx(100.0, abs=1e-9)


# render_markdown ----------------------------------------------------------------------------


def requirement(key: str, name: str, kind: Kind, weight: float, **extra: object) -> JdRequirement:
    values: dict[str, object] = {
        "key": key,
        "name": name,
        "kind": kind,
        "required_level": 3,
        "level_name": "Proficient",
        "level_description": "Does it unaided.",
        "weight": weight,
    }
    return JdRequirement(**(values | extra))  # type: ignore[arg-type]


FULL = JobDescription(
    title="Global account manager",
    profile_key="gam",
    version=3,
    status="published",
    framework_title="Competencies for key account managers",
    framework_version=2,
    citation="Woodburn, D. (2006). Competencies for key account managers. Warwick.",
    summary="Leads the work with the largest customers.\n\nReports to the sales director.",
    roles=(
        JdRole("Delivering strategy", "Realise the strategy through key customers.", ("Grow",)),
    ),
    elements=(
        JdElement(
            "Risk",
            "Managing major source of risk",
            "Delivering strategy",
            kam=(JdItem("Assess the risk", ("of the customer", "of the supplier")),),
            company=(JdItem("Set the risk appetite"),),
        ),
        JdElement("Value-add", "Defining value-add", "Delivering strategy", kam=(), company=()),
    ),
    requirements=(
        requirement("plan", "Planning", Kind.COMPETENCY, 40.0, wordings=("Strategic planning",)),
        requirement("trust", "Trust | integrity", Kind.ATTRIBUTE, 35.25),
        requirement("acumen", "Business\nacumen", Kind.BOTH, 24.75, level_name=""),
    ),
    time_allocation=(
        ("Selling: prospecting, proposals, negotiating deals", 25.0),
        ("Strategy and account planning", 75.0),
    ),
    selling_limit=10.0,
    weights_source="Adopted from the sales team's exercise",
)

commonmark = MarkdownIt("commonmark").enable("table")


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def test_job_description_has_its_sections_in_order():
    markdown = render_markdown(FULL)
    assert headings(markdown) == [
        "# Global account manager",
        "## Purpose",
        "## Responsibilities of the key account manager",
        "### Risk — Managing major source of risk",
        "## What the company commits to",
        "### Risk — Managing major source of risk",
        "## Requirements",
        "### Competencies (can be developed)",
        "### Attributes (select for them)",
        "### Competencies or attributes (C/A)",
        "## Time allocation",
    ]
    lines = markdown.splitlines()
    assert lines[2] == (
        "Profile version 3, published · Framework: Competencies for key account managers, version 2"
    )
    assert "Leads the work with the largest customers." in lines
    assert "Reports to the sales director." in lines
    assert "**Delivering strategy** — Realise the strategy through key customers." in lines
    assert "- Assess the risk\n  - of the customer\n  - of the supplier" in markdown
    assert "The role only works when the company does its part" in markdown
    assert "- Set the risk appetite" in lines


def test_requirements_show_level_and_weight_with_the_papers_wording():
    lines = render_markdown(FULL).splitlines()
    assert "| Planning | 3 — Proficient | 40.0% |" in lines
    assert "| Trust \\| integrity | 3 — Proficient | 35.2% |" in lines  # 35.25 rounds to even
    assert "| Business acumen | 3 | 24.8% |" in lines  # no level name: the number alone
    assert "- Planning: Strategic planning" in lines
    assert "Weights: Adopted from the sales team's exercise" in lines


def test_citation_is_the_last_line_and_the_output_is_deterministic():
    markdown = render_markdown(FULL)
    assert markdown.endswith("\n")
    assert markdown.splitlines()[-1] == (
        "Source: Woodburn, D. (2006). Competencies for key account managers. Warwick."
    )
    assert render_markdown(FULL) == markdown


def test_tables_parse_with_one_cell_per_column_despite_pipes_and_newlines():
    tokens = commonmark.parse(render_markdown(FULL))
    rows: list[list[str]] = []
    for i, token in enumerate(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and tokens[i - 1].type in ("td_open", "th_open"):
            rows[-1].append(token.content)
    assert ["Trust | integrity", "3 — Proficient", "35.2%"] in rows  # one cell, | shown
    assert all(len(row) == 3 for row in rows[:6])
    assert rows[6:] == [
        ["Activity", "Share"],
        ["Selling: prospecting, proposals, negotiating deals", "25%"],
        ["Strategy and account planning", "75%"],
    ]
    html = commonmark.render(render_markdown(FULL))
    assert "<td>Trust | integrity</td>" in html


def test_selling_above_the_limit_adds_a_warning_line():
    markdown = render_markdown(FULL)
    (warning,) = [x for x in markdown.splitlines() if x.startswith("**Warning:**")]
    assert "25%" in warning and "section 2.5" in warning
    within = dataclasses.replace(FULL, selling_limit=25.0)
    assert "Warning" not in render_markdown(within)


def test_empty_parts_are_left_out():
    bare = dataclasses.replace(
        FULL,
        summary="",
        roles=(),
        elements=(FULL.elements[1],),
        requirements=(FULL.requirements[1],),
        time_allocation=(),
        citation="",
        weights_source="",
    )
    markdown = render_markdown(bare)
    assert headings(markdown) == [
        "# Global account manager",
        "## Requirements",
        "### Attributes (select for them)",
    ]
    assert "Source:" not in markdown
    assert "Weights:" not in markdown
    assert "In the paper's words" not in markdown
    assert markdown.splitlines()[-1] == "| Trust \\| integrity | 3 — Proficient | 35.2% |"


def test_company_side_only_shows_elements_with_commitments():
    kam_only = dataclasses.replace(
        FULL,
        elements=(dataclasses.replace(FULL.elements[0], company=()),),
    )
    markdown = render_markdown(kam_only)
    assert "## Responsibilities of the key account manager" in markdown
    assert "## What the company commits to" not in markdown


def inline_text(children: list[Token]) -> str:
    """Return the text of inline tokens, failing on any markup they hold."""
    assert all(child.type == "text" for child in children), [c.type for c in children]
    return "".join(child.content for child in children)


user_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")


@settings(max_examples=300, deadline=None)
@given(user_text, user_text, user_text)
def test_user_text_renders_exactly_as_typed(title, name, aim):
    # Whatever is typed (markup, HTML, #, |, list markers, entities) comes out as that text,
    # with runs of whitespace as one space: a heading stays one heading, a cell one cell.
    jd = dataclasses.replace(
        FULL,
        title=title,
        roles=(JdRole("Role", "", (aim,)),),
        requirements=(requirement("k", name, Kind.COMPETENCY, 100.0),),
    )
    tokens = commonmark.parse(render_markdown(jd))
    heading = tokens[1]
    assert tokens[0].tag == "h1"
    assert inline_text(heading.children or []) == " ".join(title.split())
    cells = [tokens[i + 1] for i, t in enumerate(tokens) if t.type == "td_open" and t.map is None]
    assert inline_text(cells[0].children or []) == " ".join(name.split())
    bullets = [tokens[i + 2] for i, t in enumerate(tokens) if t.type == "list_item_open"]
    assert inline_text(bullets[0].children or []) == " ".join(aim.split())
    assert [t.tag for t in tokens if t.type == "heading_open"].count("h1") == 1
