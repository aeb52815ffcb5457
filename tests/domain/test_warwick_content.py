"""Pins the Warwick 2006 KAM competency framework as encoded in warwick-2006.yaml.

Every number and string below was read by hand from the paper (Woodburn, 2006):
sections 2.3-2.4, the litmus test, Figure 4, sections 3.1-3.3, Table 3 and
sections 4.1-4.3.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

CONTENT = Path(__file__).parents[2] / "src/kamfit/content/warwick-2006.yaml"

ROLE_ELEMENTS: dict[str, list[str]] = {
    "delivering-strategy": ["strategy", "risk", "market-insight", "alignment", "value-add"],
    "working-with-customers": [
        "relationships",
        "credibility",
        "capabilities",
        "competition",
        "joint-development",
        "resources",
    ],
    "implementing-kam-effectively": ["contact", "boundaries", "process", "planning", "reporting"],
}

# element key -> (company bullets at top level, KAM bullets, competency wordings),
# counted by hand from sections 3.1-3.3 and 4.1-4.3.
EXPECTED: dict[str, tuple[int, int, int]] = {
    "strategy": (4, 2, 7),
    "risk": (2, 3, 3),
    "market-insight": (4, 2, 5),
    "alignment": (3, 4, 6),
    "value-add": (6, 5, 5),
    "relationships": (6, 9, 6),
    "credibility": (6, 8, 8),
    "capabilities": (5, 4, 8),
    "competition": (5, 8, 6),
    "joint-development": (8, 6, 11),
    "resources": (9, 9, 5),
    "contact": (6, 7, 6),
    "boundaries": (4, 7, 12),
    "process": (4, 5, 6),
    "planning": (5, 6, 8),
    "reporting": (5, 4, 8),
}

# Sub-bullets of company bullets; every other element has none.
EXPECTED_CHILDREN: dict[str, int] = {"credibility": 4}

TABLE3: dict[str, str] = {
    "analytical": "C/A",
    "networking": "A",
    "knowledge": "C",
    "influencing": "A",
    "financially-aware": "C",
    "communication": "C/A",
    "politically-astute": "A",
    "vision-creativity": "A",
    "strategic": "C/A",
    "trustworthy": "A",
    "detail-management": "A",
    "tenacious": "A",
    "problem-solving": "C/A",
    "drive": "A",
    "credibility-experience": "C/A",
    "negotiation": "C",
    "listening": "C/A",
    "inquisitive": "A",
    "project-management": "C",
    "delegation": "C/A",
    "it-literacy": "C",
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    with CONTENT.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


def _elements(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["key"]: e for role in doc["roles"] for e in role["elements"]}


def _texts(items: list[dict[str, Any]]) -> list[str]:
    return [item["text"] for item in items]


def _citers(doc: dict[str, Any], ref: str) -> set[str]:
    return {
        key
        for key, element in _elements(doc).items()
        for wording in element["competencies"]
        if ref in wording["refs"]
    }


def test_header(doc: dict[str, Any]) -> None:
    assert doc["schema"] == "kamfit-framework/1"
    assert doc["key"] == "warwick-2006"
    assert doc["title"] == "Competencies for key account managers"
    assert "Woodburn, D. (2006)" in doc["source"]["citation"]


def test_roles_and_elements_in_figure4_order(doc: dict[str, Any]) -> None:
    roles = doc["roles"]
    assert len(roles) == 3
    assert [r["key"] for r in roles] == list(ROLE_ELEMENTS)
    assert [r["title"] for r in roles] == [
        "Delivering strategy",
        "Working with customers",
        "Implementing KAM effectively",
    ]
    for role in roles:
        assert [e["key"] for e in role["elements"]] == ROLE_ELEMENTS[role["key"]]
    assert [len(r["elements"]) for r in roles] == [5, 6, 5]
    assert len(_elements(doc)) == 16
    assert [len(r["aims"]) for r in roles] == [5, 7, 5]


def test_element_labels(doc: dict[str, Any]) -> None:
    labels = [e["label"] for e in _elements(doc).values()]
    assert labels == [
        "Strategy",
        "Risk",
        "Market insight",
        "Alignment",
        "Value-add",
        "Relationships",
        "Credibility",
        "Capabilities",
        "Competition",
        "Joint development",
        "Resources",
        "Contact",
        "Boundaries",
        "Process",
        "Planning",
        "Reporting",
    ]


def test_per_element_counts(doc: dict[str, Any]) -> None:
    elements = _elements(doc)
    assert set(elements) == set(EXPECTED)
    for key, (company, kam, wordings) in EXPECTED.items():
        element = elements[key]
        assert len(element["company"]) == company, key
        assert len(element["kam"]) == kam, key
        assert len(element["competencies"]) == wordings, key
        children = sum(len(b.get("children", [])) for b in element["company"])
        assert children == EXPECTED_CHILDREN.get(key, 0), key
        for bullet in element["kam"]:
            assert "children" not in bullet, key
    assert sum(c for c, _, _ in EXPECTED.values()) == 82
    assert sum(k for _, k, _ in EXPECTED.values()) == 89
    assert sum(w for _, _, w in EXPECTED.values()) == 110


def test_credibility_company_children(doc: dict[str, Any]) -> None:
    company = _elements(doc)["credibility"]["company"]
    parent = company[3]
    assert parent["text"] == "Provide resources and make them accessible and usable"
    assert _texts(parent["children"]) == [
        "Marketing material",
        "Knowledge management framework",
        "Shared, central pool of info, cases, papers etc",
        "Company talent pool",
    ]


def test_table3(doc: dict[str, Any]) -> None:
    table3 = [c for c in doc["competencies"] if "table3_position" in c]
    assert len(table3) == 21
    table3.sort(key=lambda c: c["table3_position"])
    assert [c["table3_position"] for c in table3] == list(range(1, 22))
    assert [c["key"] for c in table3] == list(TABLE3)
    assert {c["key"]: c["kind"] for c in table3} == TABLE3
    assert all(c["kind_source"] == "table3" for c in table3)
    assert Counter(c["kind"] for c in table3) == {"C": 5, "A": 9, "C/A": 7}
    others = [c for c in doc["competencies"] if "table3_position" not in c]
    assert all(c["kind_source"] in {"paper", "kamfit"} for c in others)


def test_catalogue_integrity(doc: dict[str, Any]) -> None:
    catalogue = doc["competencies"]
    keys = [c["key"] for c in catalogue]
    assert len(keys) == len(set(keys))
    assert all(c["kind"] in {"C", "A", "C/A"} for c in catalogue)
    cited: set[str] = set()
    for element in _elements(doc).values():
        for wording in element["competencies"]:
            assert wording["wording"].strip()
            assert wording["refs"]
            assert len(wording["refs"]) == len(set(wording["refs"]))
            cited.update(wording["refs"])
    assert cited <= set(keys), cited - set(keys)
    assert set(keys) <= cited, set(keys) - cited


def test_no_empty_text(doc: dict[str, Any]) -> None:
    for c in doc["competencies"]:
        assert c["name"].strip() and c["description"].strip(), c["key"]
    for role in doc["roles"]:
        assert role["description"].strip() and all(a.strip() for a in role["aims"])
        for element in role["elements"]:
            for field in ("label", "title", "figure_title"):
                assert element[field].strip(), element["key"]
            for bullet in element["company"] + element["kam"]:
                assert bullet["text"].strip(), element["key"]
                for child in bullet.get("children", []):
                    assert child["text"].strip(), element["key"]
    element_keys = list(_elements(doc))
    assert len(element_keys) == len(set(element_keys))


def test_kam_spot_checks_delivering_strategy(doc: dict[str, Any]) -> None:
    elements = _elements(doc)
    assert _texts(elements["strategy"]["kam"]) == [
        "Understand strategy and vision",
        "Develop aligned strategy for each key customer",
    ]
    assert "Tackle difficult issues" in _texts(elements["strategy"]["company"])
    assert _texts(elements["value-add"]["kam"])[0] == "Penetrate customer"
    assert "Deliver new ideas" in _texts(elements["value-add"]["company"])
    assert _texts(elements["alignment"]["kam"])[-1] == "Feed added value back to customer"


def test_kam_spot_checks_working_with_customers(doc: dict[str, Any]) -> None:
    elements = _elements(doc)
    kam = _texts(elements["relationships"]["kam"])
    assert "Resolve disputes" in kam
    assert "Involve senior people with customer as executive sponsors" in kam
    assert kam.index("Involve senior people with customer as executive sponsors") == (
        kam.index("Resolve disputes") + 1
    )
    assert (
        "Develop comprehensive multi-tier interdependent relationships and ensure touch-points work"
        in kam
    )
    company = _texts(elements["relationships"]["company"])
    assert "Trust key account managers" in company
    assert "Alert key account manager to customer-impacting events in advance" in company
    assert _texts(elements["competition"]["kam"])[:2] == [
        "Observe competitor activity",
        "Understand competitors in depth",
    ]
    assert "Provide competitor profiles" in _texts(elements["competition"]["company"])
    joint = _texts(elements["joint-development"]["company"])
    assert (
        "Allocate resources via ‘venture capital’ approach: cost v investment, "
        "regular roadmap v green field"
    ) in joint
    assert _texts(elements["resources"]["kam"])[0] == "Develop competencies required"
    assert "Monitor and review P&L objectively" in _texts(elements["resources"]["company"])


def test_kam_spot_checks_implementing(doc: dict[str, Any]) -> None:
    elements = _elements(doc)
    assert "Interpret needs of both sides" in _texts(elements["contact"]["kam"])
    assert "Encourage and value relationship reviews" in _texts(elements["contact"]["company"])
    assert _texts(elements["process"]["company"])[0] == "Be open minded and open to change"
    assert _texts(elements["planning"]["kam"])[-1] == "Take action to correct under-performance"
    assert _texts(elements["reporting"]["kam"])[-1] == (
        "Develop value tangibility/ shared measurement system"
    )
    assert elements["process"]["label"] == "Process"


def test_litmus_test(doc: dict[str, Any]) -> None:
    litmus = doc["litmus_test"]
    assert litmus["prompt"] == "Supplier organisations need to"
    assert litmus["scale"] == ["Poor", "Fair", "Good"]
    assert len(litmus["items"]) == 7
    assert litmus["items"][0]["text"] == "Take decisions and follow them through"
    assert litmus["items"][-1]["text"] == "Promote sharing"
    assert len({i["key"] for i in litmus["items"]}) == 7


def test_table2(doc: dict[str, Any]) -> None:
    rows = doc["guidance"]["table2"]
    assert [r["parameter"] for r in rows] == [
        "Identification",
        "Discussion",
        "Objectivity",
        "Assessment",
        "Development",
        "Application",
        "Role",
    ]
    assert all(r["competencies"].strip() and r["attributes"].strip() for r in rows)
    assert rows[-1]["competencies"] == "Task completion"
    assert rows[-1]["attributes"] == "How tasks are carried out"


def test_traceability_spot_checks(doc: dict[str, Any]) -> None:
    assert _citers(doc, "financially-aware") == {"risk", "capabilities", "resources", "boundaries"}
    assert {
        "alignment",
        "credibility",
        "capabilities",
        "joint-development",
        "contact",
        "boundaries",
    } <= _citers(doc, "networking")
    assert _citers(doc, "resilience") == {"capabilities", "boundaries"}
    assert _citers(doc, "tenacious") == {"boundaries", "process"}
    assert _citers(doc, "it-literacy") == {"planning", "reporting"}
    refs = {w["wording"]: w["refs"] for e in _elements(doc).values() for w in e["competencies"]}
    assert refs["Listen & communicate"] == ["listening", "communication"]
    assert refs["Resilience/tenacity"] == ["resilience", "tenacious"]
    assert refs["Vision – creative"] == ["vision-creativity"]
