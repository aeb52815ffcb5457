"""Tests of the CASE 1.0 mapping (kamfit.domain.case)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamfit.domain import framework
from kamfit.domain.case import from_case, to_case
from kamfit.domain.errors import FrameworkInvalid
from kamfit.domain.framework import (
    Citation,
    Competency,
    Framework,
    Guidance,
    GuidanceRow,
    Kind,
    LitmusItem,
    LitmusTest,
    ProficiencyLevel,
    Responsibility,
    Role,
    RoleElement,
)

WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
SHIPPED = Path(framework.__file__).parent.parent / "content" / "warwick-2006.yaml"
DOC_ID = "11111111-1111-4111-8111-111111111111"


def rich() -> Framework:
    """Return a framework with every field set."""
    return Framework(
        key="rich",
        title="A rich framework",
        description="Every field, to prove the mapping loses nothing.",
        citation="Woodburn, D. (2006). Competencies for key account managers.",
        source_note="Hand-built for tests.",
        version=3,
        guidance=Guidance(
            competency_definition="Behaviours that can be learnt.",
            attribute_definition="Traits to select for.",
            litmus_question="Can it be taught?",
            table2=(
                GuidanceRow("Development", "Training", "Selection"),
                GuidanceRow("Timescale", "Months", ""),
            ),
        ),
        competencies=(
            Competency("listening", "Listening", Kind.COMPETENCY, "table3", 1, "Hears customers."),
            Competency("drive", "Drive", Kind.ATTRIBUTE, "paper"),
            Competency("integrity", "Integrity", Kind.BOTH, "kamfit", 2),
            Competency("uncited", "Uncited", Kind.COMPETENCY),
        ),
        roles=(
            Role(
                key="strategy",
                title="Delivering strategy",
                description="KAM delivers strategy.",
                aims=("Realising the vision", "Managing risk"),
                elements=(
                    RoleElement(
                        key="risk",
                        label="Risk",
                        title="Managing major source of risk",
                        figure_title="Figure 3: risk",
                        company=(
                            Responsibility("Set appetite", ("Board level", "Quarterly")),
                            Responsibility("Fund mitigation"),
                        ),
                        kam=(Responsibility("Spot risks early"),),
                        citations=(
                            Citation("Listening skills", ("listening",)),
                            Citation("Drive and integrity", ("integrity", "drive")),
                        ),
                    ),
                    RoleElement(key="innovation", label="Innovation", title="Innovating"),
                ),
            ),
            Role(key="empty-role", title="A role with nothing"),
        ),
        litmus=LitmusTest(
            prompt="How does your organisation score?",
            scale=("Never", "Sometimes", "Often", "Always"),
            items=(LitmusItem("board", "The board owns KAM"), LitmusItem("pay", "Pay fits")),
        ),
        scale=(
            ProficiencyLevel(1, "Novice", "Follows the account plan."),
            ProficiencyLevel(2, "Practitioner", ""),
            ProficiencyLevel(3, "Leader", "Sets account strategy."),
        ),
    )


KEYS = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).filter(str.strip)
OPTIONAL = st.just("") | TEXT


@st.composite
def frameworks(draw: st.DrawFn) -> Framework:
    """Draw any valid framework: unique keys, known references, distinct Table 3 positions."""
    keys = draw(st.lists(KEYS, unique=True, max_size=4))
    positions = draw(st.permutations(range(1, len(keys) + 1)))
    competencies = tuple(
        Competency(
            key,
            draw(TEXT),
            draw(st.sampled_from(list(Kind))),
            draw(st.sampled_from(["table3", "paper", "kamfit", "organisation"])),
            draw(st.none() | st.just(position)),
            draw(OPTIONAL),
        )
        for key, position in zip(keys, positions, strict=True)
    )
    bullets = st.lists(
        st.builds(Responsibility, TEXT, st.lists(TEXT, max_size=2).map(tuple)), max_size=2
    ).map(tuple)
    refs = st.lists(st.sampled_from(keys), min_size=1, max_size=3).map(tuple) if keys else None
    element_keys = iter(draw(st.lists(KEYS, unique=True, max_size=5)))
    roles = []
    for key in draw(st.lists(KEYS, unique=True, max_size=3)):
        elements = tuple(
            RoleElement(
                element_key,
                draw(TEXT),
                draw(TEXT),
                draw(OPTIONAL),
                draw(bullets),
                draw(bullets),
                tuple(Citation(draw(TEXT), draw(refs)) for _ in range(draw(st.integers(0, 2))))
                if refs is not None
                else (),
            )
            for element_key in islice(element_keys, draw(st.integers(0, 2)))
        )
        aims = tuple(draw(st.lists(TEXT, max_size=2)))
        roles.append(Role(key, draw(TEXT), draw(OPTIONAL), aims, elements))
    litmus_items = st.lists(KEYS, unique=True, max_size=3).map(
        lambda ks: tuple(LitmusItem(k, f"Question {k}") for k in ks)
    )
    scale = st.lists(TEXT, min_size=2, max_size=4).map(tuple)
    level_names = draw(
        st.just([])
        | st.lists(TEXT, min_size=3, max_size=9, unique_by=lambda t: t.strip().casefold())
    )
    citation = draw(OPTIONAL)
    return Framework(
        key=draw(KEYS),
        title=draw(TEXT),
        description=draw(OPTIONAL),
        citation=citation,
        source_note=draw(OPTIONAL) if citation else "",
        version=draw(st.none() | st.integers(1, 10**6)),
        guidance=draw(
            st.builds(
                Guidance,
                OPTIONAL,
                OPTIONAL,
                OPTIONAL,
                st.lists(st.builds(GuidanceRow, TEXT, OPTIONAL, OPTIONAL), max_size=2).map(tuple),
            )
        ),
        competencies=competencies,
        roles=tuple(roles),
        litmus=draw(st.none() | st.builds(LitmusTest, OPTIONAL, scale, litmus_items)),
        scale=tuple(
            ProficiencyLevel(i, name, draw(OPTIONAL)) for i, name in enumerate(level_names, 1)
        ),
    )


def package(fw=None, when=WHEN):
    """Export ``fw`` (by default the rich one) and read it back from JSON, as a client would."""
    return json.loads(json.dumps(to_case(fw or rich(), changed_at=when)))


def minimal_package():
    """Return a small valid foreign CASE package to break in tests."""
    doc = {"identifier": DOC_ID, "uri": f"urn:uuid:{DOC_ID}", "title": "Foreign"}
    items = [
        {"identifier": "a", "fullStatement": "Top"},
        {"identifier": "b", "fullStatement": "Kid"},
    ]
    links = [
        {"associationType": "isChildOf", "originNodeURI": {"identifier": "a"},
         "destinationNodeURI": {"identifier": DOC_ID}},
        {"associationType": "isChildOf", "originNodeURI": {"identifier": "b"},
         "destinationNodeURI": {"identifier": "a"}},
    ]  # fmt: skip
    return {"CFDocument": doc, "CFItems": items, "CFAssociations": links}


def test_an_own_proficiency_scale_travels_in_the_document_notes_next_to_guidance():
    notes = json.loads(package()["CFDocument"]["notes"])
    assert list(notes) == ["kamfit", "key", "source", "guidance", "scale"]
    assert notes["scale"][1] == {"level": 2, "name": "Practitioner", "description": ""}
    plain = json.loads(package(Framework(key="x", title="X"))["CFDocument"]["notes"])
    assert "scale" not in plain  # the default scale is not written


def test_the_rich_fixture_is_a_valid_framework():
    fw = rich()
    assert framework.parse(framework.to_data(fw)) == fw


def test_a_framework_with_every_field_set_round_trips_losslessly():
    fw = rich()
    assert from_case(package(fw)) == fw


def test_a_litmus_test_without_a_prompt_and_a_bare_framework_round_trip():
    bare = Framework(key="bare", title="Bare", litmus=LitmusTest(items=(LitmusItem("q", "Q"),)))
    assert from_case(to_case(bare)) == bare
    assert from_case(to_case(Framework(key="x", title="X"))) == Framework(key="x", title="X")


@settings(max_examples=60, deadline=None)
@given(frameworks())
def test_any_valid_framework_round_trips_losslessly(fw):
    assert framework.parse(framework.to_data(fw)) == fw
    assert from_case(package(fw)) == fw


@pytest.mark.skipif(not SHIPPED.exists(), reason="warwick-2006.yaml not written yet")
def test_the_shipped_framework_round_trips_losslessly():
    fw = framework.shipped()
    assert from_case(package(fw)) == fw


def test_exporting_twice_gives_identical_identifiers_and_only_the_time_differs():
    first = package()
    assert package() == first
    later = json.dumps(package(when=datetime(2030, 1, 1, tzinfo=UTC)))
    assert later != json.dumps(first)
    assert json.loads(later.replace("2030-01-01T00:00:00", "2024-05-01T12:30:00")) == first


def test_identifiers_are_unique_uuids_and_uris_are_urns():
    pkg = package()
    objects = [pkg["CFDocument"], *pkg["CFItems"], *pkg["CFAssociations"]]
    objects += pkg["CFDefinitions"]["CFItemTypes"]
    idents = [o["identifier"] for o in objects]
    assert len(set(idents)) == len(idents)
    for o in objects:
        assert str(uuid.UUID(o["identifier"])) == o["identifier"]
        assert o["uri"] == f"urn:uuid:{o['identifier']}"


def test_every_association_joins_items_or_the_document_of_the_package():
    pkg = package()
    known = {i["identifier"] for i in pkg["CFItems"]} | {pkg["CFDocument"]["identifier"]}
    for a in pkg["CFAssociations"]:
        assert a["originNodeURI"]["identifier"] in known
        assert a["destinationNodeURI"]["identifier"] in known
        assert set(a["originNodeURI"]) == {"title", "identifier", "uri"}


def test_required_case_fields_are_present_with_valid_values():
    pkg = package(when=None)
    doc = pkg["CFDocument"]
    assert {"identifier", "uri", "creator", "title", "lastChangeDateTime"} <= doc.keys()
    assert doc["creator"] == "kamfit"
    assert doc["subject"] == ["Key account management"]
    assert doc["version"] == "3"
    for item in pkg["CFItems"]:
        assert {"identifier", "uri", "fullStatement", "lastChangeDateTime"} <= item.keys()
        assert item["fullStatement"].strip()
        assert item["CFItemTypeURI"]["title"] == item["CFItemType"]
    for a in pkg["CFAssociations"]:
        assert a["associationType"] in {"isChildOf", "isRelatedTo"}
        assert isinstance(a["sequenceNumber"], int)
    for t in pkg["CFDefinitions"]["CFItemTypes"]:
        assert {"identifier", "uri", "title", "description", "hierarchyCode"} <= t.keys()
    stamps = [o["lastChangeDateTime"] for o in [doc, *pkg["CFItems"], *pkg["CFAssociations"]]]
    assert all(datetime.fromisoformat(s).tzinfo is not None for s in stamps)


def test_a_multi_reference_citation_links_to_each_competency_in_order():
    pkg = package()
    cited = next(i for i in pkg["CFItems"] if i["fullStatement"] == "Drive and integrity")
    links = [
        a for a in pkg["CFAssociations"]
        if a["originNodeURI"]["identifier"] == cited["identifier"]
        and a["associationType"] == "isRelatedTo"
    ]  # fmt: skip
    assert [a["destinationNodeURI"]["title"] for a in links] == ["Integrity", "Drive"]
    assert [a["sequenceNumber"] for a in links] == [1, 2]


def test_reversed_lists_still_import_in_sequence_number_order():
    fw = rich()
    pkg = package(fw)
    pkg["CFItems"].reverse()
    pkg["CFAssociations"].reverse()
    assert from_case(pkg) == fw


def test_a_foreign_case_package_imports_by_place_and_item_type():
    pkg = minimal_package()
    pkg["CFDocument"] |= {"creator": "State Board", "description": "Foreign standards"}
    items = pkg["CFItems"]
    items[0]["humanCodingScheme"] = "A.1"
    items += [
        {"identifier": "c", "fullStatement": "Listens well", "CFItemType": "Competency Statement"},
        {"identifier": "d", "fullStatement": "Curious", "CFItemTypeURI": {"title": "Attribute"}},
        {"identifier": "e", "fullStatement": "Writes plans", "CFItemType": "Standard"},
        {"identifier": "f", "fullStatement": "Deep detail", "CFItemType": "Standard"},
        {"identifier": "g", "fullStatement": "Top"},
    ]
    for n, (child, parent) in enumerate([("c", "b"), ("d", "b"), ("e", "b"), ("f", "e")]):
        pkg["CFAssociations"].append(
            {"associationType": "isChildOf", "sequenceNumber": n,
             "originNodeURI": {"identifier": child}, "destinationNodeURI": {"identifier": parent}}
        )  # fmt: skip
    pkg["CFAssociations"].append(
        {"associationType": "exactMatchOf", "originNodeURI": {"identifier": "c"},
         "destinationNodeURI": {"identifier": "somewhere-else"}}
    )  # fmt: skip
    fw = from_case(pkg)
    assert fw.key == "foreign"
    assert fw.description == "Foreign standards"
    assert fw.citation == "State Board"
    assert [r.key for r in fw.roles] == ["a-1", "top"]
    element = fw.roles[0].elements[0]
    assert (element.key, element.label, element.title) == ("kid", "Kid", "Kid")
    assert element.kam == (Responsibility("Writes plans", ("Deep detail",)),)
    assert [(c.key, c.kind) for c in fw.competencies] == [
        ("listens-well", Kind.COMPETENCY),
        ("curious", Kind.ATTRIBUTE),
    ]
    assert [c.refs for c in element.citations] == [("listens-well",), ("curious",)]


def test_foreign_keys_are_slugged_and_made_unique():
    pkg = minimal_package()
    pkg["CFItems"] += [{"identifier": f"r{n}", "fullStatement": "Rôle — One!"} for n in range(3)]
    fw = from_case(pkg)
    assert [r.key for r in fw.roles] == ["top", "role-one", "role-one-2", "role-one-3"]


def _without(pkg, where, name):
    del pkg[where][0][name]
    return pkg


def _set(pkg, path, value):
    target = pkg
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return pkg


def _cycle(pkg):
    pkg["CFAssociations"].append(
        {"associationType": "isChildOf", "originNodeURI": {"identifier": "a"},
         "destinationNodeURI": {"identifier": "b"}}
    )  # fmt: skip
    return pkg


def _kamfit_with(path, value):
    return _set(package(), path, value)


def _same_table3_position():
    pkg = package()
    for item in pkg["CFItems"]:
        if item["CFItemType"] in {"Competency", "Attribute"}:
            item["conceptKeywords"] = ["kind-source:table3", "table3-position:9"]
    return pkg


def _citation_without_links():
    pkg = package()
    links = pkg["CFAssociations"]
    pkg["CFAssociations"] = [a for a in links if a["associationType"] != "isRelatedTo"]
    return pkg


ITEMS, LINKS = "CFItems", "CFAssociations"
BAD_KEY = '{"kamfit": "kamfit-framework/1", "key": "Bad Key"}'
BROKEN = {
    "(document): not a CASE package": [],
    "CFDocument: missing": {},
    "CFDocument: not an object": {"CFDocument": "x"},
    "CFDocument.title: empty text": _set(minimal_package(), ("CFDocument", "title"), " "),
    "CFItems: not a list": _set(minimal_package(), (ITEMS,), {}),
    "CFItems[1]: not an object": _set(minimal_package(), (ITEMS, 1), 7),
    "CFItems[0].identifier: missing": _without(minimal_package(), ITEMS, "identifier"),
    "CFItems[1].fullStatement: not a string": _set(
        minimal_package(), (ITEMS, 1, "fullStatement"), 3
    ),
    "CFItems[1].identifier: duplicate": _set(minimal_package(), (ITEMS, 1, "identifier"), "a"),
    "CFAssociations[0].associationType: missing": _without(
        minimal_package(), LINKS, "associationType"
    ),
    "CFAssociations[0].originNodeURI: missing": _without(minimal_package(), LINKS, "originNodeURI"),
    "CFAssociations[1].destinationNodeURI.identifier: unknown item 'x'": _set(
        minimal_package(), (LINKS, 1, "destinationNodeURI", "identifier"), "x"
    ),
    "CFAssociations[0].originNodeURI.identifier: unknown item 'x'": _set(
        minimal_package(), (LINKS, 0, "originNodeURI", "identifier"), "x"
    ),
    "CFAssociations[0].sequenceNumber: not an integer": _set(
        minimal_package(), (LINKS, 0, "sequenceNumber"), "1"
    ),
    "isChildOf cycle: a > b > a": _cycle(minimal_package()),
    "competency citation related to no item": _citation_without_links(),
    "competencies: table3_position 9 used 3 times": _same_table3_position(),
    "key: bad key": _kamfit_with(("CFDocument", "notes"), BAD_KEY),
}


@pytest.mark.parametrize("location", BROKEN)
def test_broken_packages_raise_framework_invalid_naming_the_location(location):
    with pytest.raises(FrameworkInvalid) as caught:
        from_case(copy.deepcopy(BROKEN[location]))
    assert location in str(caught.value)


def test_associations_of_other_types_and_unknown_structure_do_not_crash():
    pkg = minimal_package()
    pkg["CFDefinitions"] = {"CFItemTypes": "odd"}
    pkg["CFAssociations"] += [
        {"associationType": "precedes", "originNodeURI": {"identifier": "a"},
         "destinationNodeURI": {"identifier": "nowhere"}},
        {"associationType": "isPeerOf", "originNodeURI": {"identifier": "b"},
         "destinationNodeURI": {"identifier": "a"}, "sequenceNumber": 2},
    ]  # fmt: skip
    assert [r.key for r in from_case(pkg).roles] == ["top"]


def test_loads_of_dumps_in_case_format_gives_the_framework_back():
    fw = rich()
    assert framework.loads(framework.dumps(fw, "case"), "auto") == fw
    assert framework.loads(framework.dumps(fw, "case"), "case") == fw
