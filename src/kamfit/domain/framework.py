"""The KAM competency framework as plain data: model, validation, exchange and diff.

A framework follows the process of Woodburn (2006): the roles of KAM in the
organisation, split into role elements; for each element the company's and the
key account manager's responsibilities; and the competencies/attributes the key
account manager needs, cited in the paper's own wording and linked to a
canonical catalogue entry so that traceability counts are right. A framework
also carries the proficiency scale its competencies are required and rated on;
the paper defines none, so unless a framework has its own, kamfit's
:data:`DEFAULT_SCALE` applies.

References
----------
Woodburn, D. (2006). Competencies for key account managers: a view from a
practitioner taskforce. Warwick Business School, Strategic Sales and Customer
Management Network, October 2006.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import cast

import jsonschema
import yaml

from kamfit.domain.errors import FrameworkInvalid, Problem

__all__ = [
    "DEFAULT_SCALE",
    "MAX_DOCUMENT_BYTES",
    "MAX_SCALE_LEVELS",
    "MIN_SCALE_LEVELS",
    "SCHEMA_ID",
    "SOURCE_CREDIT",
    "Change",
    "Citation",
    "Competency",
    "Framework",
    "Guidance",
    "GuidanceRow",
    "Kind",
    "LitmusItem",
    "LitmusTest",
    "ProficiencyLevel",
    "Responsibility",
    "Role",
    "RoleElement",
    "build_scale",
    "citation_counts",
    "diff",
    "dumps",
    "elements_citing",
    "json_schema",
    "loads",
    "parse",
    "shipped",
    "to_data",
    "validate",
    "validate_scale",
]

SCHEMA_ID = "kamfit-framework/1"
SOURCE_CREDIT = (
    "Woodburn, D. (2006). Competencies for key account managers: a view from a practitioner "
    "taskforce. Warwick Business School, Strategic Sales and Customer Management Network."
)

Data = Mapping[str, object]


class Kind(StrEnum):
    """Whether a requirement is a competency, an attribute or both (Table 3)."""

    COMPETENCY = "C"
    ATTRIBUTE = "A"
    BOTH = "C/A"

    @property
    def label(self) -> str:
        """Name the kind in words."""
        return {"C": "Competency", "A": "Attribute", "C/A": "Competency/attribute"}[self.value]


@dataclass(frozen=True)
class Competency:
    """A canonical catalogue entry: a competency, an attribute or both."""

    key: str
    name: str
    kind: Kind
    kind_source: str = "organisation"
    table3_position: int | None = None
    description: str = ""


@dataclass(frozen=True)
class Responsibility:
    """One bullet of the company's or the key account manager's role."""

    text: str
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """A competency/attribute as worded at one role element, linked to the catalogue."""

    wording: str
    refs: tuple[str, ...]


@dataclass(frozen=True)
class RoleElement:
    """One of the specific roles of KAM (e.g. "Risk — Managing major source of risk")."""

    key: str
    label: str
    title: str
    figure_title: str = ""
    company: tuple[Responsibility, ...] = ()
    kam: tuple[Responsibility, ...] = ()
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Role:
    """One of the main roles of KAM in the organisation (e.g. "Delivering strategy")."""

    key: str
    title: str
    description: str = ""
    aims: tuple[str, ...] = ()
    elements: tuple[RoleElement, ...] = ()


@dataclass(frozen=True)
class LitmusItem:
    """One question of the litmus test for KAM-effective organisations."""

    key: str
    text: str


@dataclass(frozen=True)
class LitmusTest:
    """The high-level litmus test for KAM-effective organisations."""

    prompt: str = ""
    scale: tuple[str, ...] = ("Poor", "Fair", "Good")
    items: tuple[LitmusItem, ...] = ()


@dataclass(frozen=True)
class GuidanceRow:
    """One row of Table 2: how competencies and attributes differ on a parameter."""

    parameter: str
    competencies: str
    attributes: str


@dataclass(frozen=True)
class Guidance:
    """The paper's guidance on competencies versus attributes (section 2.4, Table 2)."""

    competency_definition: str = ""
    attribute_definition: str = ""
    litmus_question: str = ""
    table2: tuple[GuidanceRow, ...] = ()


@dataclass(frozen=True)
class ProficiencyLevel:
    """One level of a proficiency scale: its number, its name and what someone at it does."""

    level: int
    name: str
    description: str


MIN_SCALE_LEVELS, MAX_SCALE_LEVELS = 3, 9
MAX_LEVEL_NAME, MAX_LEVEL_DESCRIPTION = 100, 2000  # as the JSON Schema says

# kamfit's own wording: the Warwick paper defines no proficiency scale. Versions that use
# the default store no scale, published ones included, so a change here changes theirs:
# store the old scale on those versions in a data migration first.
DEFAULT_SCALE: tuple[ProficiencyLevel, ...] = (
    ProficiencyLevel(
        1,
        "Aware",
        "Knows what the competency means for a key account and recognises it in others, "
        "but does not yet apply it to an account without guidance.",
    ),
    ProficiencyLevel(
        2,
        "Developing",
        "Applies it to routine situations on their own accounts with support from a manager "
        "or colleague; the results are uneven.",
    ),
    ProficiencyLevel(
        3,
        "Proficient",
        "Applies it unaided and consistently across their key accounts, adapting to each "
        "customer and delivering what the account plan needs.",
    ),
    ProficiencyLevel(
        4,
        "Advanced",
        "Applies it in complex, high-stakes account situations, anticipates what the customer "
        "and the account team will need, and coaches others in it.",
    ),
    ProficiencyLevel(
        5,
        "Expert",
        "Sets the standard for it across the company’s key accounts: customers and colleagues "
        "seek them out, and they improve how the organisation practises it.",
    ),
)


@dataclass(frozen=True)
class Framework:
    """A whole framework document.

    ``scale`` is the proficiency scale on which role profiles set required levels and
    people are rated; empty means kamfit's :data:`DEFAULT_SCALE`.
    """

    key: str
    title: str
    description: str = ""
    citation: str = ""
    source_note: str = ""
    version: int | None = None
    guidance: Guidance = field(default_factory=Guidance)
    competencies: tuple[Competency, ...] = ()
    roles: tuple[Role, ...] = ()
    litmus: LitmusTest | None = None
    scale: tuple[ProficiencyLevel, ...] = ()

    @property
    def proficiency_scale(self) -> tuple[ProficiencyLevel, ...]:
        """The levels in use: the framework's own scale, else kamfit's default."""
        return self.scale or DEFAULT_SCALE

    @property
    def elements(self) -> tuple[RoleElement, ...]:
        """Every role element, in role order."""
        return tuple(e for r in self.roles for e in r.elements)

    def competency(self, key: str) -> Competency:
        """Return the catalogue entry with this key."""
        for c in self.competencies:
            if c.key == key:
                return c
        raise KeyError(key)


@cache
def json_schema() -> Mapping[str, object]:
    """Return the JSON Schema of the exchange format (``kamfit-framework/1``)."""
    text = resources.files("kamfit.content").joinpath("framework.schema.json").read_text("utf-8")
    return cast(Mapping[str, object], json.loads(text))


def _where(path: Sequence[object]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def validate(data: object) -> list[Problem]:
    """List every problem of a framework document, each with its location.

    Parameters
    ----------
    data
        The document as loaded from JSON or YAML.

    Returns
    -------
    list of Problem
        Empty when the document is valid. Locations are paths such as
        ``roles[0].elements[2].competencies[1].refs[0]``. Every structural problem
        is listed first; the rules across the document (unique ids, known
        competencies) are checked once the structure is sound.

    Examples
    --------
    >>> [str(p) for p in validate({"schema": "kamfit-framework/1", "key": "x", "title": " ",
    ...                            "competencies": [], "roles": []})]
    ['title: empty text']
    """
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    problems = list(
        dict.fromkeys(Problem(_where(e.absolute_path), _schema_message(e)) for e in errors)
    )
    if problems or not isinstance(data, Mapping):
        return problems
    return _rule_problems(data)


def _schema_message(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "pattern" and schema.get("pattern") == "\\S":
        return "empty text"
    if error.validator == "minLength" and error.instance == "":
        return "empty text"
    if error.validator == "enum" and error.path and error.path[-1] == "kind":
        return f"wrong kind {error.instance!r}: use C, A or C/A"
    if error.validator == "pattern" and error.path and error.path[-1] == "key":
        return f"bad key {error.instance!r}: use lowercase letters, digits and hyphens"
    if error.validator in {"minItems", "maxItems"} and list(error.path) == ["scale"]:
        return _scale_size_message(len(cast(list[object], error.instance)))
    return str(error.message)


def _rule_problems(data: Data) -> list[Problem]:  # noqa: PLR0912 - one pass, one rule a branch
    problems: list[Problem] = []
    competencies = _items(data, "competencies")
    known: set[str] = set()
    for i, c in enumerate(competencies):
        key = str(c["key"])
        if key in known:
            problems.append(Problem(f"competencies[{i}].key", f"duplicate id {key!r}"))
        known.add(key)
    cited: set[str] = set()
    seen_roles: set[str] = set()
    seen_elements: set[str] = set()
    for r, role in enumerate(_items(data, "roles")):
        if (rkey := str(role["key"])) in seen_roles:
            problems.append(Problem(f"roles[{r}].key", f"duplicate id {rkey!r}"))
        seen_roles.add(rkey)
        for e, element in enumerate(_items(role, "elements")):
            where = f"roles[{r}].elements[{e}]"
            if (ekey := str(element["key"])) in seen_elements:
                problems.append(Problem(f"{where}.key", f"duplicate id {ekey!r}"))
            seen_elements.add(ekey)
            for n, citation in enumerate(_items(element, "competencies")):
                for k, ref in enumerate(cast(list[str], citation["refs"])):
                    cited.add(ref)
                    if ref not in known:
                        problems.append(
                            Problem(
                                f"{where}.competencies[{n}].refs[{k}]",
                                f"unknown competency {ref!r}",
                            )
                        )
    litmus = data.get("litmus_test")
    if isinstance(litmus, Mapping):
        seen: set[str] = set()
        for i, item in enumerate(_items(litmus, "items")):
            if (key := str(item["key"])) in seen:
                problems.append(Problem(f"litmus_test.items[{i}].key", f"duplicate id {key!r}"))
            seen.add(key)
    positions = [c.get("table3_position") for c in competencies if "table3_position" in c]
    for pos, count in Counter(positions).items():
        if count > 1:
            problems.append(Problem("competencies", f"table3_position {pos} used {count} times"))
    if scale := _parse_scale(data):
        problems.extend(validate_scale(scale))
    return problems


def _scale_size_message(n: int) -> str:
    return f"a scale has {MIN_SCALE_LEVELS} to {MAX_SCALE_LEVELS} levels, not {n}"


def validate_scale(scale: Sequence[ProficiencyLevel]) -> list[Problem]:
    """List every problem of a proficiency scale, each with its location.

    Parameters
    ----------
    scale
        The levels, lowest first.

    Returns
    -------
    list of Problem
        Empty when the scale is valid: 3 to 9 levels numbered 1, 2, … n in that
        order, each with a name (at most 100 characters) that no other level has,
        ignoring case and surrounding spaces, and a description of at most 2000
        characters. Locations are those of the document's ``scale`` list, such as
        ``scale[2].name``.

    Examples
    --------
    >>> validate_scale(DEFAULT_SCALE)
    []
    >>> low = ProficiencyLevel(1, "Low", "")
    >>> for p in validate_scale([low, ProficiencyLevel(3, " low ", ""), low]):
    ...     print(p)
    scale[1].level: expected 2, not 3: number the levels 1 to 3 in order
    scale[1].name: duplicate name 'low'
    scale[2].level: expected 3, not 1: number the levels 1 to 3 in order
    scale[2].name: duplicate name 'Low'
    """
    n = len(scale)
    problems: list[Problem] = []
    if not MIN_SCALE_LEVELS <= n <= MAX_SCALE_LEVELS:
        problems.append(Problem("scale", _scale_size_message(n)))
    seen: set[str] = set()
    for i, level in enumerate(scale):
        where = f"scale[{i}]"
        if level.level != i + 1:
            message = f"expected {i + 1}, not {level.level}: number the levels 1 to {n} in order"
            problems.append(Problem(f"{where}.level", message))
        name = level.name.strip()
        if not name:
            problems.append(Problem(f"{where}.name", "empty text"))
        elif name.casefold() in seen:
            problems.append(Problem(f"{where}.name", f"duplicate name {name!r}"))
        elif len(level.name) > MAX_LEVEL_NAME:
            problems.append(Problem(f"{where}.name", f"longer than {MAX_LEVEL_NAME} characters"))
        seen.add(name.casefold())
        if len(level.description) > MAX_LEVEL_DESCRIPTION:
            message = f"longer than {MAX_LEVEL_DESCRIPTION} characters"
            problems.append(Problem(f"{where}.description", message))
    return problems


def build_scale(levels: Sequence[tuple[str, str]]) -> tuple[ProficiencyLevel, ...]:
    """Number (name, description) pairs 1 to n as a scale, or raise :class:`FrameworkInvalid`.

    Names and descriptions are stripped of surrounding spaces; the problems are
    those of :func:`validate_scale`.

    Examples
    --------
    >>> [(lv.level, lv.name) for lv in build_scale([(" Low", ""), ("Mid", ""), ("High", "")])]
    [(1, 'Low'), (2, 'Mid'), (3, 'High')]
    """
    scale = tuple(
        ProficiencyLevel(i, name.strip(), description.strip())
        for i, (name, description) in enumerate(levels, 1)
    )
    if problems := validate_scale(scale):
        raise FrameworkInvalid(problems)
    return scale


def _parse_scale(data: Data) -> tuple[ProficiencyLevel, ...]:
    return tuple(
        ProficiencyLevel(cast(int, s["level"]), _text(s, "name"), _text(s, "description"))
        for s in _items(data, "scale")
    )


def _items(data: Data, name: str) -> list[Data]:
    return cast(list[Data], data.get(name, []))


def _text(data: Data, name: str) -> str:
    return cast(str, data.get(name, ""))


def parse(data: object) -> Framework:
    """Build a :class:`Framework` from a document, or raise :class:`FrameworkInvalid`.

    Examples
    --------
    >>> fw = parse({"schema": "kamfit-framework/1", "key": "blank", "title": "Blank",
    ...             "competencies": [], "roles": []})
    >>> fw.title, fw.roles
    ('Blank', ())
    """
    problems = validate(data)
    if problems:
        raise FrameworkInvalid(problems)
    doc = cast(Data, data)
    source = cast(Data, doc.get("source", {}))
    guidance = cast(Data, doc.get("guidance", {}))
    litmus = cast(Data | None, doc.get("litmus_test"))
    return Framework(
        key=_text(doc, "key"),
        title=_text(doc, "title"),
        description=_text(doc, "description"),
        citation=_text(source, "citation"),
        source_note=_text(source, "note"),
        version=cast(int | None, doc.get("version")),
        guidance=Guidance(
            competency_definition=_text(guidance, "competency_definition"),
            attribute_definition=_text(guidance, "attribute_definition"),
            litmus_question=_text(guidance, "litmus_question"),
            table2=tuple(
                GuidanceRow(_text(g, "parameter"), _text(g, "competencies"), _text(g, "attributes"))
                for g in _items(guidance, "table2")
            ),
        ),
        competencies=tuple(
            Competency(
                key=_text(c, "key"),
                name=_text(c, "name"),
                kind=Kind(_text(c, "kind")),
                kind_source=_text(c, "kind_source") or "organisation",
                table3_position=cast(int | None, c.get("table3_position")),
                description=_text(c, "description"),
            )
            for c in _items(doc, "competencies")
        ),
        roles=tuple(_parse_role(r) for r in _items(doc, "roles")),
        scale=_parse_scale(doc),
        litmus=None
        if litmus is None
        else LitmusTest(
            prompt=_text(litmus, "prompt"),
            scale=tuple(cast(list[str], litmus["scale"])),
            items=tuple(
                LitmusItem(_text(i, "key"), _text(i, "text")) for i in _items(litmus, "items")
            ),
        ),
    )


def _parse_role(role: Data) -> Role:
    return Role(
        key=_text(role, "key"),
        title=_text(role, "title"),
        description=_text(role, "description"),
        aims=tuple(cast(list[str], role.get("aims", []))),
        elements=tuple(
            RoleElement(
                key=_text(e, "key"),
                label=_text(e, "label"),
                title=_text(e, "title"),
                figure_title=_text(e, "figure_title"),
                company=_parse_responsibilities(_items(e, "company")),
                kam=_parse_responsibilities(_items(e, "kam")),
                citations=tuple(
                    Citation(_text(c, "wording"), tuple(cast(list[str], c["refs"])))
                    for c in _items(e, "competencies")
                ),
            )
            for e in _items(role, "elements")
        ),
    )


def _parse_responsibilities(items: list[Data]) -> tuple[Responsibility, ...]:
    return tuple(
        Responsibility(_text(i, "text"), tuple(_text(c, "text") for c in _items(i, "children")))
        for i in items
    )


def to_data(fw: Framework) -> dict[str, object]:
    """Return the document of a framework, in the schema's canonical order."""
    out: dict[str, object] = {"schema": SCHEMA_ID, "key": fw.key, "title": fw.title}
    if fw.description:
        out["description"] = fw.description
    if fw.version is not None:
        out["version"] = fw.version
    if fw.citation:
        out["source"] = {"citation": fw.citation} | (
            {"note": fw.source_note} if fw.source_note else {}
        )
    g = fw.guidance
    if g != Guidance():
        out["guidance"] = {
            "competency_definition": g.competency_definition,
            "attribute_definition": g.attribute_definition,
            "litmus_question": g.litmus_question,
            "table2": [
                {
                    "parameter": r.parameter,
                    "competencies": r.competencies,
                    "attributes": r.attributes,
                }
                for r in g.table2
            ],
        }
    if fw.scale:
        out["scale"] = [
            {"level": lv.level, "name": lv.name, "description": lv.description} for lv in fw.scale
        ]
    out["competencies"] = [_competency_data(c) for c in fw.competencies]
    out["roles"] = [_role_data(r) for r in fw.roles]
    if fw.litmus is not None:
        out["litmus_test"] = {
            "prompt": fw.litmus.prompt,
            "scale": list(fw.litmus.scale),
            "items": [{"key": i.key, "text": i.text} for i in fw.litmus.items],
        }
    return out


def _competency_data(c: Competency) -> dict[str, object]:
    out: dict[str, object] = {"key": c.key, "name": c.name, "kind": c.kind.value}
    out["kind_source"] = c.kind_source
    if c.table3_position is not None:
        out["table3_position"] = c.table3_position
    if c.description:
        out["description"] = c.description
    return out


def _role_data(r: Role) -> dict[str, object]:
    return {
        "key": r.key,
        "title": r.title,
        "description": r.description,
        "aims": list(r.aims),
        "elements": [
            {
                "key": e.key,
                "label": e.label,
                "title": e.title,
                "figure_title": e.figure_title,
                "company": [_responsibility_data(x) for x in e.company],
                "kam": [_responsibility_data(x) for x in e.kam],
                "competencies": [{"wording": c.wording, "refs": list(c.refs)} for c in e.citations],
            }
            for e in r.elements
        ],
    }


def _responsibility_data(r: Responsibility) -> dict[str, object]:
    out: dict[str, object] = {"text": r.text}
    if r.children:
        out["children"] = [{"text": c} for c in r.children]
    return out


MAX_DOCUMENT_BYTES = 5 * 1024 * 1024  # the largest framework file read (RELIABILITY A29)


class _NoAliasLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing anchors' aliases (``*name``): no billion-laughs bomb.

    A framework file never needs an alias; a chain of them expands to billions of nodes
    when the parsed data are walked or written back.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted in a framework file", mark
            )
        return super().compose_node(parent, index)


def _safe_yaml(text: str | bytes) -> object:
    """Parse YAML as ``yaml.safe_load`` does, without aliases."""
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def loads(text: str | bytes, fmt: str = "auto") -> Framework:
    """Parse a framework from YAML, JSON or CASE 1.0 JSON text.

    ``fmt`` is ``yaml``, ``json``, ``case`` or ``auto`` (CASE when the document has
    a ``CFDocument``, else the kamfit schema in JSON or YAML). A document larger than
    ``MAX_DOCUMENT_BYTES`` or YAML with aliases is refused.
    """
    from kamfit.domain import case  # noqa: PLC0415 - case imports this module

    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > MAX_DOCUMENT_BYTES:
        limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
        raise FrameworkInvalid([Problem("(file)", f"larger than {limit} MB")])
    try:
        data: object = json.loads(text) if fmt in {"json", "case"} else _safe_yaml(text)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if fmt in {"json", "case"} else "YAML"
        raise FrameworkInvalid([Problem("(file)", f"not valid {kind}: {exc}")]) from exc
    if fmt == "case" or (fmt == "auto" and isinstance(data, Mapping) and "CFDocument" in data):
        return case.from_case(data)
    return parse(data)


class _Dumper(yaml.SafeDumper):
    """A safe dumper that double-quotes text YAML would otherwise read back differently."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # NEL and the Unicode line/paragraph separators are line breaks to a YAML reader.
    risky = not text.isprintable() or any(c in text for c in "\x85\u2028\u2029")
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"' if risky else None)


_Dumper.add_representer(str, _represent_str)


def dumps(fw: Framework, fmt: str = "yaml") -> str:
    """Serialise a framework as ``yaml``, ``json`` or ``case`` (1EdTech CASE 1.0 JSON)."""
    from kamfit.domain import case  # noqa: PLC0415 - case imports this module

    if fmt == "yaml":
        return yaml.dump(
            to_data(fw), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
    if fmt == "json":
        return json.dumps(to_data(fw), ensure_ascii=False, indent=2) + "\n"
    if fmt == "case":
        return json.dumps(case.to_case(fw), ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}: use yaml, json or case")


@cache
def shipped() -> Framework:
    """Return the shipped Warwick 2006 framework, read from its file."""
    path = Path(str(resources.files("kamfit.content").joinpath("warwick-2006.yaml")))
    return loads(path.read_text("utf-8"), "yaml")


def citation_counts(fw: Framework) -> dict[str, int]:
    """Count, per catalogue key, the role elements citing it (traceability).

    Examples
    --------
    >>> fw = parse({"schema": "kamfit-framework/1", "key": "x", "title": "X",
    ...   "competencies": [{"key": "drive", "name": "Drive", "kind": "A"}],
    ...   "roles": [{"key": "r", "title": "R", "elements": [
    ...     {"key": "e", "label": "E", "title": "E", "competencies": [
    ...       {"wording": "Drive", "refs": ["drive"]},
    ...       {"wording": "Preference for action/drive", "refs": ["drive"]}]}]}]})
    >>> citation_counts(fw)
    {'drive': 1}
    """
    counts = dict.fromkeys((c.key for c in fw.competencies), 0)
    for e in fw.elements:
        for key in {ref for c in e.citations for ref in c.refs}:
            counts[key] += 1
    return counts


def elements_citing(fw: Framework, key: str) -> list[tuple[Role, RoleElement, list[str]]]:
    """Return the role elements that need a competency, with the wordings used there."""
    out = []
    for role in fw.roles:
        for e in role.elements:
            wordings = [c.wording for c in e.citations if key in c.refs]
            if wordings:
                out.append((role, e, wordings))
    return out


@dataclass(frozen=True)
class Change:
    """One difference between two frameworks."""

    op: str  # "added", "removed" or "changed"
    location: str
    before: str = ""
    after: str = ""

    def __str__(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.op]
        detail = {
            "added": self.after,
            "removed": self.before,
            "changed": f"{self.before} → {self.after}",
        }[self.op]
        return f"{sign} {self.location}: {detail}"


def diff(old: Framework, new: Framework) -> list[Change]:
    """List what changed from ``old`` to ``new``, matching items by key.

    Responsibilities and citations have no key, so they are compared as lists of
    text per element: a reworded bullet reads as one removed and one added. The
    proficiency scales in use are compared level by level (name and description),
    so an empty scale and :data:`DEFAULT_SCALE` do not differ.

    Examples
    --------
    >>> a = parse({"schema": "kamfit-framework/1", "key": "x", "title": "X",
    ...   "competencies": [{"key": "drive", "name": "Drive", "kind": "A"}], "roles": []})
    >>> b = parse({"schema": "kamfit-framework/1", "key": "x", "title": "X",
    ...   "competencies": [{"key": "drive", "name": "Drive", "kind": "C/A"}], "roles": []})
    >>> [str(c) for c in diff(a, b)]
    ['~ competency drive kind: A → C/A']
    """
    changes: list[Change] = []
    _diff_fields(changes, "framework", old, new, ("title", "description"))
    olds = {c.key: c for c in old.competencies}
    news = {c.key: c for c in new.competencies}
    for key in olds.keys() - news.keys():
        changes.append(Change("removed", f"competency {key}", before=olds[key].name))
    for key in news.keys() - olds.keys():
        changes.append(Change("added", f"competency {key}", after=news[key].name))
    for key in olds.keys() & news.keys():
        _diff_fields(changes, f"competency {key}", olds[key], news[key], ("name", "kind"))
    old_roles = {r.key: r for r in old.roles}
    new_roles = {r.key: r for r in new.roles}
    if [k for k in old_roles if k in new_roles] != [k for k in new_roles if k in old_roles]:
        changes.append(Change("changed", "roles order", " ".join(old_roles), " ".join(new_roles)))
    for key in old_roles.keys() - new_roles.keys():
        changes.append(Change("removed", f"role {key}", before=old_roles[key].title))
    for key in new_roles.keys() - old_roles.keys():
        changes.append(Change("added", f"role {key}", after=new_roles[key].title))
    for key in old_roles.keys() & new_roles.keys():
        _diff_fields(changes, f"role {key}", old_roles[key], new_roles[key], ("title",))
    _diff_elements(changes, old, new)
    _diff_scale(changes, old.proficiency_scale, new.proficiency_scale)
    return sorted(changes, key=lambda c: (c.location, c.op))


def _diff_scale(
    changes: list[Change],
    old: tuple[ProficiencyLevel, ...],
    new: tuple[ProficiencyLevel, ...],
) -> None:
    olds = {lv.level: lv for lv in old}
    news = {lv.level: lv for lv in new}
    for n in olds.keys() - news.keys():
        changes.append(Change("removed", f"scale level {n}", before=olds[n].name))
    for n in news.keys() - olds.keys():
        changes.append(Change("added", f"scale level {n}", after=news[n].name))
    for n in olds.keys() & news.keys():
        _diff_fields(changes, f"scale level {n}", olds[n], news[n], ("name", "description"))


def _diff_elements(changes: list[Change], old: Framework, new: Framework) -> None:
    olds = {e.key: e for e in old.elements}
    news = {e.key: e for e in new.elements}
    for key in olds.keys() - news.keys():
        changes.append(Change("removed", f"element {key}", before=olds[key].title))
    for key in news.keys() - olds.keys():
        changes.append(Change("added", f"element {key}", after=news[key].title))
    for key in olds.keys() & news.keys():
        a, b = olds[key], news[key]
        _diff_fields(changes, f"element {key}", a, b, ("label", "title"))
        for party in ("company", "kam"):
            before = [_flat(r) for r in getattr(a, party)]
            after = [_flat(r) for r in getattr(b, party)]
            _diff_lists(changes, f"element {key} {party}", before, after)
        _diff_lists(
            changes,
            f"element {key} competencies",
            [f"{c.wording} [{', '.join(c.refs)}]" for c in a.citations],
            [f"{c.wording} [{', '.join(c.refs)}]" for c in b.citations],
        )


def _flat(r: Responsibility) -> str:
    return r.text + "".join(f" / {c}" for c in r.children)


def _diff_lists(changes: list[Change], where: str, before: list[str], after: list[str]) -> None:
    removed = Counter(before) - Counter(after)
    added = Counter(after) - Counter(before)
    changes.extend(Change("removed", where, before=t) for t in removed.elements())
    changes.extend(Change("added", where, after=t) for t in added.elements())
    if not removed and not added and before != after:
        changes.append(Change("changed", f"{where} order", "reordered", "reordered"))


def _diff_fields(
    changes: list[Change], where: str, a: object, b: object, names: tuple[str, ...]
) -> None:
    for name in names:
        before, after = str(getattr(a, name)), str(getattr(b, name))
        if before != after:
            changes.append(Change("changed", f"{where} {name}", before, after))
