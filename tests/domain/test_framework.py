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
    )


@settings(deadline=None, max_examples=60)
@given(frameworks())
def test_any_valid_framework_survives_every_exchange_format(doc: fw.Framework) -> None:
    for fmt in ("yaml", "json", "case"):
        assert fw.loads(fw.dumps(doc, fmt), fmt) == doc
    assert fw.diff(doc, doc) == []
