"""The framework model: validation with locations, exchange and diff."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamfit.domain import framework as fw
from kamfit.domain.errors import FrameworkInvalid


def shipped_data() -> dict[str, object]:
    return copy.deepcopy(fw.to_data(fw.shipped()))


def messages(data: object) -> list[str]:
    return [str(p) for p in fw.validate(data)]


def test_domain_imports_no_django() -> None:
    code = "import sys, kamfit.domain, kamfit.domain.framework, kamfit.domain.case; "
    code += "print('django' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_shipped_framework_is_valid_and_round_trips_through_each_format() -> None:
    doc = fw.shipped()
    assert fw.validate(fw.to_data(doc)) == []
    for fmt in ("yaml", "json", "case"):
        assert fw.loads(fw.dumps(doc, fmt), fmt) == doc


def test_shipped_framework_credits_the_warwick_paper() -> None:
    assert "Woodburn" in fw.shipped().citation
    assert "Warwick Business School" in fw.shipped().citation


def test_unknown_competency_is_named_with_its_location() -> None:
    data = shipped_data()
    data["roles"][1]["elements"][2]["competencies"][0]["refs"] = ["telepathy"]  # type: ignore[index]
    assert messages(data) == [
        "roles[1].elements[2].competencies[0].refs[0]: unknown competency 'telepathy'"
    ]


def test_duplicate_ids_are_named_for_competencies_roles_and_elements() -> None:
    data = shipped_data()
    comps = data["competencies"]
    roles = data["roles"]
    comps[1]["key"] = comps[0]["key"]  # type: ignore[index]
    roles[2]["key"] = roles[0]["key"]  # type: ignore[index]
    roles[2]["elements"][0]["key"] = roles[0]["elements"][0]["key"]  # type: ignore[index]
    found = messages(data)
    assert f"competencies[1].key: duplicate id {comps[0]['key']!r}" in found  # type: ignore[index]
    assert "roles[2].key: duplicate id 'delivering-strategy'" in found
    assert "roles[2].elements[0].key: duplicate id 'strategy'" in found


def test_empty_title_wrong_kind_and_missing_fields_are_named() -> None:
    data = shipped_data()
    data["title"] = "   "
    data["competencies"][0]["kind"] = "B"  # type: ignore[index]
    del data["roles"][0]["elements"][1]["label"]  # type: ignore[index]
    data["roles"][0]["elements"][0]["kam"][0]["text"] = ""  # type: ignore[index]
    found = messages(data)
    assert "title: empty text" in found
    assert "competencies[0].kind: wrong kind 'B': use C, A or C/A" in found
    assert "roles[0].elements[1]: 'label' is a required property" in found
    assert "roles[0].elements[0].kam[0].text: empty text" in found


def test_parse_raises_with_every_problem() -> None:
    with pytest.raises(FrameworkInvalid) as info:
        fw.parse({"schema": "kamfit-framework/1", "key": "Bad Key", "title": ""})
    locations = {p.location for p in info.value.problems}
    assert {"key", "title", "(document)"} <= locations


def test_loads_refuses_broken_yaml_with_a_message() -> None:
    with pytest.raises(FrameworkInvalid, match="not valid YAML"):
        fw.loads("roles: [unclosed", "yaml")


def test_citation_counts_match_the_paper_for_financial_awareness() -> None:
    counts = fw.citation_counts(fw.shipped())
    assert counts["financially-aware"] == 4  # Risk, Capabilities, Resources, Boundaries
    assert all(n >= 1 for n in counts.values())
    assert sum(1 for c in fw.shipped().competencies if c.table3_position) == 21


def test_elements_citing_keeps_the_papers_wording() -> None:
    found = {e.key: w for _, e, w in fw.elements_citing(fw.shipped(), "financially-aware")}
    assert found["risk"] == ["Financial acumen/ business case"]
    assert "Financial awareness" in found["resources"]


def test_diff_reports_renames_kinds_and_bullets() -> None:
    old = fw.shipped()
    comps = list(old.competencies)
    comps[0] = replace(comps[0], name="Analytical rigour", kind=fw.Kind.COMPETENCY)
    role = old.roles[0]
    element = replace(role.elements[0], kam=(*role.elements[0].kam, fw.Responsibility("Own it")))
    role = replace(role, elements=(element, *role.elements[1:]))
    new = replace(old, competencies=tuple(comps), roles=(role, *old.roles[1:]))
    changes = [str(c) for c in fw.diff(old, new)]
    assert "~ competency analytical name: Analytical → Analytical rigour" in changes
    assert "~ competency analytical kind: C/A → C" in changes
    assert "+ element strategy kam: Own it" in changes
    assert fw.diff(old, old) == []


def test_diff_reports_removed_role_and_reordered_bullets() -> None:
    old = fw.shipped()
    role = old.roles[0]
    element = replace(role.elements[0], company=tuple(reversed(role.elements[0].company)))
    new = replace(old, roles=(replace(role, elements=(element, *role.elements[1:])),))
    changes = [str(c) for c in fw.diff(old, new)]
    assert "- role working-with-customers: Working with customers" in changes
    assert any(c.startswith("~ element strategy company order") for c in changes)


def test_json_schema_in_docs_is_the_one_the_code_uses() -> None:
    from pathlib import Path

    published = Path(__file__).parents[2] / "docs" / "reference" / "framework.schema.json"
    assert json.loads(published.read_text("utf-8")) == fw.json_schema()


def own_scale() -> tuple[fw.ProficiencyLevel, ...]:
    return fw.build_scale(
        [
            ("Novice", "Follows the account plan others write."),
            ("Practitioner", "Writes the account plan with the customer."),
            ("Leader", "Sets account strategy across the portfolio."),
        ]
    )


def scale_messages(scale: object) -> list[str]:
    data = shipped_data()
    data["scale"] = scale
    return messages(data)


def test_default_scale_is_kamfits_five_behavioural_levels() -> None:
    assert [(lv.level, lv.name) for lv in fw.DEFAULT_SCALE] == [
        (1, "Aware"),
        (2, "Developing"),
        (3, "Proficient"),
        (4, "Advanced"),
        (5, "Expert"),
    ]
    assert all(lv.description.endswith(".") for lv in fw.DEFAULT_SCALE)
    assert fw.validate_scale(fw.DEFAULT_SCALE) == []


def test_shipped_framework_has_no_scale_of_its_own_and_uses_the_default() -> None:
    doc = fw.shipped()
    assert doc.scale == ()
    assert doc.proficiency_scale == fw.DEFAULT_SCALE
    assert "scale" not in fw.to_data(doc)


def test_a_framework_with_its_own_scale_uses_it_and_round_trips() -> None:
    doc = replace(fw.shipped(), scale=own_scale())
    assert doc.proficiency_scale == own_scale()
    data = fw.to_data(doc)
    assert list(data)[list(data).index("scale") + 1] == "competencies"
    assert data["scale"][0] == {  # type: ignore[index]
        "level": 1,
        "name": "Novice",
        "description": "Follows the account plan others write.",
    }
    for fmt in ("yaml", "json", "case"):
        assert fw.loads(fw.dumps(doc, fmt), fmt) == doc


def test_a_scale_level_without_description_reads_as_empty() -> None:
    doc = fw.parse(shipped_data() | {"scale": [{"level": n, "name": f"L{n}"} for n in (1, 2, 3)]})
    assert doc.scale[2] == fw.ProficiencyLevel(3, "L3", "")


def numbered(*levels: object) -> list[dict[str, object]]:
    return [{"level": n, "name": f"L{n}"} for n in levels]


def named(*names: str) -> list[dict[str, object]]:
    return [{"level": n, "name": name} for n, name in enumerate(names, 1)]


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ([], ["scale: a scale has 3 to 9 levels, not 0"]),
        (numbered(1, 2), ["scale: a scale has 3 to 9 levels, not 2"]),
        (
            numbered(*range(1, 11)),
            [
                "scale: a scale has 3 to 9 levels, not 10",
                "scale[9].level: 10 is greater than the maximum of 9",
            ],
        ),
        (
            numbered(1, 2, 4),
            ["scale[2].level: expected 3, not 4: number the levels 1 to 3 in order"],
        ),
        (
            numbered(2, 1, 3),
            [
                "scale[0].level: expected 1, not 2: number the levels 1 to 3 in order",
                "scale[1].level: expected 2, not 1: number the levels 1 to 3 in order",
            ],
        ),
        (numbered(0, 1, 2), ["scale[0].level: 0 is less than the minimum of 1"]),
        (numbered(1, "2", 3), ["scale[1].level: '2' is not of type 'integer'"]),
        (named("A", "  ", "C"), ["scale[1].name: empty text"]),
        (named("A", "", "C"), ["scale[1].name: empty text"]),
        ([*named("A"), {"level": 2}, *numbered(3)], ["scale[1]: 'name' is a required property"]),
        (named("Expert", "B", " expert"), ["scale[2].name: duplicate name 'expert'"]),
        (
            [{"level": 1, "name": "A", "colour": "red"}, *named("A", "B", "C")[1:]],
            ["scale[0]: Additional properties are not allowed ('colour' was unexpected)"],
        ),
        (named("A" * 101, "B", "C"), [f"scale[0].name: {'A' * 101!r} is too long"]),
        ({"level": 1}, ["scale: {'level': 1} is not of type 'array'"]),
    ],
)
def test_every_bad_scale_in_a_document_is_named_with_its_location(
    scale: object, expected: list[str]
) -> None:
    assert scale_messages(scale) == expected


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], ["scale: a scale has 3 to 9 levels, not 0"]),
        ([("A", ""), ("B", "")], ["scale: a scale has 3 to 9 levels, not 2"]),
        ([(str(n), "") for n in range(10)], ["scale: a scale has 3 to 9 levels, not 10"]),
        ([("A", "x"), ("", "y"), ("C", "")], ["scale[1].name: empty text"]),
        ([("A", ""), ("B", ""), (" b ", "")], ["scale[2].name: duplicate name 'b'"]),
        ([("A" * 101, ""), ("B", ""), ("C", "")], ["scale[0].name: longer than 100 characters"]),
        (
            [("A", "d" * 2001), ("B", ""), ("C", "")],
            ["scale[0].description: longer than 2000 characters"],
        ),
    ],
)
def test_build_scale_refuses_each_bad_scale_with_its_location(
    levels: list[tuple[str, str]], expected: list[str]
) -> None:
    with pytest.raises(FrameworkInvalid) as info:
        fw.build_scale(levels)
    assert [str(p) for p in info.value.problems] == expected


def test_validate_scale_names_levels_out_of_order() -> None:
    scale = [fw.ProficiencyLevel(n, f"L{n}", "") for n in (1, 3, 2)]
    assert [p.location for p in fw.validate_scale(scale)] == ["scale[1].level", "scale[2].level"]


def test_build_scale_numbers_and_strips_the_levels() -> None:
    assert fw.build_scale([(" Low ", " Starts. "), ("Mid", ""), ("High", "")]) == (
        fw.ProficiencyLevel(1, "Low", "Starts."),
        fw.ProficiencyLevel(2, "Mid", ""),
        fw.ProficiencyLevel(3, "High", ""),
    )


def test_diff_reports_a_changed_scale_level_by_level() -> None:
    old = fw.shipped()
    new = replace(old, scale=own_scale())
    changes = [str(c) for c in fw.diff(old, new)]
    assert "~ scale level 1 name: Aware → Novice" in changes
    assert any(c.startswith("~ scale level 3 description: Applies it unaided") for c in changes)
    assert "- scale level 4: Advanced" in changes
    assert "- scale level 5: Expert" in changes
    assert "+ scale level 5: Expert" in [str(c) for c in fw.diff(new, old)]
    assert all(c.startswith(("~ scale", "- scale")) for c in changes)


def test_docs_give_the_default_scale_word_for_word_as_kamfits_own() -> None:
    from pathlib import Path

    docs = Path(__file__).parents[2] / "docs"
    for page in ("reference/framework-format.md", "user/frameworks.md"):
        text = (docs / page).read_text("utf-8")
        for lv in fw.DEFAULT_SCALE:
            assert f"| {lv.level} | {lv.name} | {lv.description} |" in text, page
        assert "kamfit's default scale" in text
        assert "defines no" in text


def test_diff_sees_no_change_between_no_scale_and_the_default() -> None:
    old = fw.shipped()
    assert fw.diff(old, replace(old, scale=fw.DEFAULT_SCALE)) == []


keys = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1).filter(
    lambda t: t.strip() != ""
)


@st.composite
def frameworks(draw: st.DrawFn) -> fw.Framework:
    comp_keys = draw(st.lists(keys, min_size=1, max_size=5, unique=True))
    competencies = tuple(
        fw.Competency(k, draw(texts), draw(st.sampled_from(list(fw.Kind))), "organisation")
        for k in comp_keys
    )
    element_keys = draw(st.lists(keys, min_size=1, max_size=4, unique=True))
    elements = tuple(
        fw.RoleElement(
            key=k,
            label=draw(texts),
            title=draw(texts),
            company=tuple(fw.Responsibility(t) for t in draw(st.lists(texts, max_size=2))),
            kam=tuple(fw.Responsibility(t) for t in draw(st.lists(texts, max_size=2))),
            citations=tuple(
                fw.Citation(draw(texts), (draw(st.sampled_from(comp_keys)),))
                for _ in range(draw(st.integers(0, 2)))
            ),
        )
        for k in element_keys
    )
    return fw.Framework(
        key="generated",
        title=draw(texts),
        competencies=competencies,
        roles=(fw.Role("role", draw(texts), elements=elements),),
        scale=draw(scales()),
    )


@st.composite
def scales(draw: st.DrawFn) -> tuple[fw.ProficiencyLevel, ...]:
    """Draw no scale (the default) or a valid one: 3 to 9 levels with distinct names."""
    names = draw(
        st.just([])
        | st.lists(
            texts.filter(lambda t: len(t) <= 100),
            min_size=3,
            max_size=9,
            unique_by=lambda t: t.strip().casefold(),
        )
    )
    return tuple(
        fw.ProficiencyLevel(i, name, draw(st.just("") | texts)) for i, name in enumerate(names, 1)
    )


@settings(deadline=None, max_examples=60)
@given(frameworks())
def test_any_valid_framework_survives_every_exchange_format(doc: fw.Framework) -> None:
    for fmt in ("yaml", "json", "case"):
        assert fw.loads(fw.dumps(doc, fmt), fmt) == doc
    assert fw.diff(doc, doc) == []
