"""Map a framework to and from a 1EdTech CASE 1.0 JSON package (``CFPackage``).

Roles, role elements, responsibilities, competency citations, the competency
catalogue and the litmus test become ``CFItems`` joined by ``isChildOf``
associations; each citation is linked to its catalogue entries by ``isRelatedTo``.
kamfit data that CASE has no field for travels in documented places (see
``docs/reference/case-mapping.md``), so that ``from_case(to_case(fw)) == fw``.

References
----------
1EdTech Competencies and Academic Standards Exchange (CASE) Service Version 1.0,
IMS Global Learning Consortium, 2017.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from itertools import count
from typing import cast

from kamfit.domain import framework as fwk
from kamfit.domain.errors import FrameworkInvalid, Problem
from kamfit.domain.framework import SCHEMA_ID, Framework, Kind, RoleElement

__all__ = ["CASE_NAMESPACE", "from_case", "to_case"]

CASE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://kamfit.example/case/1")
"""The namespace of every identifier ``to_case`` derives (uuid5 over key and path)."""

ROLE, AIM, ELEMENT = "Role of KAM", "Role aim", "Role element"
COMPANY, KAM, CITATION = "Company responsibility", "KAM responsibility", "Competency citation"
CATALOGUE, LITMUS, LITMUS_ITEM = "Competency catalogue", "Litmus test", "Litmus item"
_TYPES: dict[str, tuple[str, str]] = {
    ROLE: ("1", "One of the main roles of KAM in the organisation."),
    AIM: ("1.1", "An aim of a role of KAM."),
    ELEMENT: ("1.2", "A specific role element of KAM."),
    COMPANY: ("1.2.1", "What the company does for a role element."),
    KAM: ("1.2.2", "What the key account manager does for a role element."),
    CITATION: ("1.2.3", "A competency or attribute as worded at a role element."),
    CATALOGUE: ("2", "The catalogue of competencies and attributes."),
    Kind.COMPETENCY.label: ("2.1", "A competency: can be developed by training."),
    Kind.ATTRIBUTE.label: ("2.2", "An attribute: a personal trait, selected for."),
    Kind.BOTH.label: ("2.3", "Both a competency and an attribute."),
    LITMUS: ("3", "The litmus test for KAM-effective organisations."),
    LITMUS_ITEM: ("3.1", "One question of the litmus test."),
}
_SUBJECT = "Key account management"
_META = ("source", "guidance", "scale")  # kamfit fields kept as JSON in CFDocument.notes
_DEFAULT_SCALE = ["Poor", "Fair", "Good"]
_KEY = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_LAST = 10**9  # sorts children without a sequence number after numbered ones

_Obj = Mapping[str, object]
_Link = dict[str, str]


def to_case(fw: Framework, *, changed_at: datetime | None = None) -> dict[str, object]:
    """Return a framework as a CASE 1.0 package (``CFPackage``) ready for ``json.dumps``.

    Parameters
    ----------
    fw
        The framework to export.
    changed_at
        The ``lastChangeDateTime`` of every object; now (UTC) when omitted. A
        naive datetime is taken as UTC.

    Returns
    -------
    dict
        ``{"CFDocument": ..., "CFItems": [...], "CFAssociations": [...],
        "CFDefinitions": {...}}`` with every field CASE 1.0 requires.

    Notes
    -----
    Identifiers are uuid5 over :data:`CASE_NAMESPACE`, the framework key and the
    object's path (e.g. ``warwick-2006/element/risk``), and every ``uri`` is
    ``urn:uuid:<identifier>``: exporting twice gives the same package except for
    ``lastChangeDateTime``. Order is kept in ``sequenceNumber`` of each
    ``isChildOf`` (and ``listEnumeration``). The framework key, source, Table 2
    guidance and proficiency scale (when the framework has its own) are JSON in
    ``CFDocument.notes``; the litmus prompt and scale are JSON
    in the litmus item's ``notes``; a competency's ``kind_source`` and
    ``table3_position`` are ``conceptKeywords`` such as ``"table3-position:4"``.

    References
    ----------
    1EdTech Competencies and Academic Standards Exchange (CASE) Service Version
    1.0, IMS Global Learning Consortium, 2017.

    Examples
    --------
    >>> pkg = to_case(Framework(key="demo", title="Demo"), changed_at=datetime(2024, 1, 1))
    >>> pkg["CFDocument"]["lastChangeDateTime"], from_case(pkg) == Framework("demo", "Demo")
    ('2024-01-01T00:00:00+00:00', True)
    """
    moment = datetime.now(UTC) if changed_at is None else changed_at
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    w = _Writer(fw, moment.isoformat(timespec="seconds"))
    top = count(1)
    for role in fw.roles:
        extra: _Obj = {"humanCodingScheme": role.key, "notes": role.description}
        link = w.item(f"role/{role.key}", ROLE, role.title, w.doc, next(top), extra=extra)
        seq = count(1)
        for i, aim in enumerate(role.aims):
            w.item(f"role/{role.key}/aim/{i}", AIM, aim, link, next(seq))
        for element in role.elements:
            _write_element(w, element, link, next(seq))
    if fw.competencies:
        cat = w.item("catalogue", CATALOGUE, "Competencies and attributes", w.doc, next(top))
        for i, c in enumerate(fw.competencies, 1):
            words = [f"kind-source:{c.kind_source}"]
            if c.table3_position is not None:
                words.append(f"table3-position:{c.table3_position}")
            extra = {"humanCodingScheme": c.key, "conceptKeywords": words, "notes": c.description}
            w.item(f"competency/{c.key}", c.kind.label, c.name, cat, i, extra=extra)
    if (test := fw.litmus) is not None:
        notes = _dump({"prompt": test.prompt, "scale": list(test.scale)})
        link = w.item(
            "litmus", LITMUS, test.prompt or LITMUS, w.doc, next(top), extra={"notes": notes}
        )
        for i, q in enumerate(test.items, 1):
            w.item(
                f"litmus/{q.key}", LITMUS_ITEM, q.text, link, i, extra={"humanCodingScheme": q.key}
            )
    data = fwk.to_data(fw)
    meta: dict[str, object] = {"kamfit": SCHEMA_ID, "key": fw.key}
    meta |= {name: data[name] for name in _META if name in data}
    doc: dict[str, object] = {"identifier": w.doc["identifier"], "uri": w.doc["uri"]}
    doc |= {"creator": "kamfit", "title": fw.title, "lastChangeDateTime": w.stamp}
    if fw.description:
        doc["description"] = fw.description
    doc |= {"subject": [_SUBJECT], "language": "en"}
    if fw.version is not None:
        doc["version"] = str(fw.version)
    doc["adoptionStatus"] = "Draft" if fw.version is None else "Adopted"
    doc["notes"] = _dump(meta)
    definitions: dict[str, object] = {"CFConcepts": [], "CFSubjects": [], "CFLicenses": []}
    definitions |= {"CFItemTypes": list(w.types.values()), "CFAssociationGroupings": []}
    pkg: dict[str, object] = {"CFDocument": doc, "CFItems": w.items, "CFAssociations": w.links}
    return pkg | {"CFDefinitions": definitions}


def _write_element(w: _Writer, e: RoleElement, parent: _Link, at: int) -> None:
    extra = {"humanCodingScheme": e.key, "abbreviatedStatement": e.label}
    extra["alternativeLabel"] = e.figure_title
    link = w.item(f"element/{e.key}", ELEMENT, e.title, parent, at, extra=extra)
    seq = count(1)
    for party, kind, bullets in (("company", COMPANY, e.company), ("kam", KAM, e.kam)):
        for i, bullet in enumerate(bullets):
            path = f"element/{e.key}/{party}/{i}"
            top = w.item(path, kind, bullet.text, link, next(seq))
            for j, child in enumerate(bullet.children, 1):
                w.item(f"{path}/{j}", kind, child, top, j)
    for i, citation in enumerate(e.citations):
        cited = w.item(f"element/{e.key}/citation/{i}", CITATION, citation.wording, link, next(seq))
        for j, ref in enumerate(citation.refs, 1):
            w.associate(cited, "isRelatedTo", w.competency(ref), j)


class _Writer:
    def __init__(self, fw: Framework, stamp: str) -> None:
        self.key, self.stamp = fw.key, stamp
        self.names = {c.key: c.name for c in fw.competencies}
        self.items: list[dict[str, object]] = []
        self.links: list[dict[str, object]] = []
        self.types: dict[str, dict[str, object]] = {}
        self.doc = _link(self.ident("document"), fw.title)

    def ident(self, path: str) -> str:
        return str(uuid.uuid5(CASE_NAMESPACE, f"{self.key}/{path}"))

    def competency(self, key: str) -> _Link:
        return _link(self.ident(f"competency/{key}"), self.names.get(key, key))

    def item(
        self, path: str, kind: str, text: str, parent: _Link, seq: int, *, extra: _Obj | None = None
    ) -> _Link:
        link = _link(self.ident(path), text)
        item: dict[str, object] = {"identifier": link["identifier"], "uri": link["uri"]}
        item |= {"fullStatement": text} | {k: v for k, v in (extra or {}).items() if v}
        item |= {"CFItemType": kind, "CFItemTypeURI": self.item_type(kind)}
        item |= {"listEnumeration": str(seq), "language": "en", "lastChangeDateTime": self.stamp}
        self.items.append(item)
        self.associate(link, "isChildOf", parent, seq)
        return link

    def associate(self, origin: _Link, kind: str, destination: _Link, seq: int) -> None:
        ident = self.ident(f"association/{origin['identifier']}/{kind}/{seq}")
        out: dict[str, object] = {"identifier": ident, "uri": f"urn:uuid:{ident}"}
        out |= {"associationType": kind, "sequenceNumber": seq, "originNodeURI": dict(origin)}
        out |= {"destinationNodeURI": dict(destination), "lastChangeDateTime": self.stamp}
        self.links.append(out)

    def item_type(self, kind: str) -> _Link:
        link = _link(str(uuid.uuid5(CASE_NAMESPACE, f"item-type/{kind}")), kind)
        if kind not in self.types:
            code, text = _TYPES[kind]
            self.types[kind] = {**link, "description": text, "hierarchyCode": code}
            self.types[kind]["lastChangeDateTime"] = self.stamp
        return link


def _link(ident: str, title: str) -> _Link:
    return {"title": title, "identifier": ident, "uri": f"urn:uuid:{ident}"}


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def from_case(data: object) -> Framework:
    """Build a framework from a CASE 1.0 package, or raise :class:`FrameworkInvalid`.

    Parameters
    ----------
    data
        A ``CFPackage`` as loaded from JSON: written by :func:`to_case` or by any
        other CASE 1.0 provider.

    Returns
    -------
    Framework
        For a package written by :func:`to_case`, the framework exported.

    Raises
    ------
    FrameworkInvalid
        With one located problem per fault, such as ``CFItems[3].identifier:
        missing`` or ``CFAssociations[2].destinationNodeURI.identifier: unknown
        item 'x'``; then with kamfit's own rules (unique keys, known references)
        checked on the result.

    Notes
    -----
    Items are read by ``CFItemType`` and by their place in the ``isChildOf`` tree
    (children ordered by ``sequenceNumber``, then ``listEnumeration``, then
    association order). A package from another provider imports by place:
    top-level items become roles, their children role elements, and items under
    an element become citations of catalogue competencies when their
    ``CFItemType`` contains "competenc" or "attribute" (kind C, A or C/A by which
    words it contains), else key account manager responsibilities whose
    descendants become sub-bullets. Top-level competency items join the
    catalogue. Keys are ``humanCodingScheme`` when it is a valid kamfit key, else
    a slug of it or of ``fullStatement``, made unique with ``-2``, ``-3`` ...
    Associations of other types are ignored, wherever they point.

    References
    ----------
    1EdTech Competencies and Academic Standards Exchange (CASE) Service Version
    1.0, IMS Global Learning Consortium, 2017.
    """
    if not isinstance(data, Mapping):
        raise FrameworkInvalid([Problem("(document)", "not a CASE package: expected an object")])
    pkg = cast(_Obj, data)
    if "CFDocument" not in pkg:
        raise FrameworkInvalid([Problem("CFDocument", "missing")])
    if not isinstance(pkg["CFDocument"], Mapping):
        raise FrameworkInvalid([Problem("CFDocument", "not an object")])
    doc = cast(_Obj, pkg["CFDocument"])
    problems: list[Problem] = []
    doc_id = _required(doc, "identifier", "CFDocument", problems)
    title = _required(doc, "title", "CFDocument", problems)
    nodes: dict[str, tuple[int, _Obj]] = {}
    for i, item in _objects(pkg, "CFItems", problems):
        ident = _required(item, "identifier", f"CFItems[{i}]", problems)
        _required(item, "fullStatement", f"CFItems[{i}]", problems)
        if ident in nodes or (ident and ident == doc_id):
            problems.append(Problem(f"CFItems[{i}].identifier", f"duplicate identifier {ident!r}"))
        elif ident:
            nodes[ident] = (i, item)
    reader = _Reader(nodes)
    for j, a in _objects(pkg, "CFAssociations", problems):
        reader.associate(j, a, doc_id, problems)
    if not problems:
        reader.check_cycles(problems)
    if problems:
        raise FrameworkInvalid(problems)
    return reader.framework(doc, doc_id, title)


class _Reader:
    def __init__(self, nodes: dict[str, tuple[int, _Obj]]) -> None:
        self.nodes = nodes
        self.children: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        self.refs: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        self.has_parent: set[str] = set()
        self.used: dict[str, set[str]] = defaultdict(set)
        self.comp_keys: dict[str, str] = {}
        self.catalogue: list[dict[str, object]] = []
        self.problems: list[Problem] = []

    def associate(self, j: int, a: _Obj, doc_id: str, problems: list[Problem]) -> None:
        where = f"CFAssociations[{j}]"
        kind = _required(a, "associationType", where, problems)
        origin, dest = (
            _node(a, name, where, problems) for name in ("originNodeURI", "destinationNodeURI")
        )
        seq = a.get("sequenceNumber")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
            problems.append(Problem(f"{where}.sequenceNumber", "not an integer"))
        if not (kind and origin and dest):
            return
        cited = kind in {"isRelatedTo", "exactMatchOf"} and self.kind(origin) == CITATION
        if kind != "isChildOf" and not cited:
            return
        ends = {"origin": origin, "destination": dest}
        if dest == doc_id and not cited:
            del ends["destination"]
        for end, ident in ends.items():
            if ident not in self.nodes:
                message = f"unknown item {ident!r}"
                problems.append(Problem(f"{where}.{end}NodeURI.identifier", message))
                return
        order = seq if isinstance(seq, int) else _number(self.text(origin, "listEnumeration"))
        if cited:
            self.refs[origin].append((order, j, dest))
        else:
            self.children[dest].append((order, j, origin))
            self.has_parent.add(origin)

    def check_cycles(self, problems: list[Problem]) -> None:
        pending = {p: len(kids) for p, kids in self.children.items() if p in self.nodes}
        parents: dict[str, list[str]] = defaultdict(list)
        for parent, kids in self.children.items():
            for _, _, kid in kids:
                parents[kid].append(parent)
        ready = [n for n in self.nodes if not pending.get(n)]
        while ready:
            for parent in parents[ready.pop()]:
                if parent in pending:
                    pending[parent] -= 1
                    if not pending[parent]:
                        ready.append(parent)
        stuck = {n for n, left in pending.items() if left}
        if not stuck:
            return
        node = min(stuck, key=lambda n: self.nodes[n][0])
        path: list[str] = []
        while node not in path:
            path.append(node)
            j, node = next((j, kid) for _, j, kid in self.children[node] if kid in stuck)
        loop = [*path[path.index(node) :], node]
        problems.append(Problem(f"CFAssociations[{j}]", f"isChildOf cycle: {' > '.join(loop)}"))

    def framework(self, doc: _Obj, doc_id: str, title: str) -> Framework:
        meta = _json_object(doc.get("notes"))
        ours = meta.get("kamfit") == SCHEMA_ID
        out: dict[str, object] = {"schema": SCHEMA_ID, "title": title}
        out["key"] = meta["key"] if ours and "key" in meta else _slug(title) or "framework"
        if description := _str(doc.get("description")):
            out["description"] = description
        if (version := _str(doc.get("version"))).isdecimal() and int(version) >= 1:
            out["version"] = int(version)
        if ours:
            out |= {name: meta[name] for name in _META if name in meta}
        elif credit := "; ".join(
            filter(None, (_str(doc.get(n)) for n in ("creator", "publisher", "officialSourceURL")))
        ):
            out["source"] = {"citation": credit, "note": f"Imported from CASE document {doc_id}."}
        roots = self.kids(doc_id) + [n for n in self.nodes if n not in self.has_parent]
        for root in roots:
            if self.kind(root) == CATALOGUE:
                for kid in self.kids(root):
                    self.competency(kid)
            elif _is_competency(self.kind(root)):
                self.competency(root)
        roles = [r for r in roots if self.kind(r) != LITMUS and not _is_competency(self.kind(r))]
        roles = [r for r in roles if self.kind(r) != CATALOGUE]
        out |= {"competencies": self.catalogue, "roles": [self.role(r) for r in roles]}
        if tests := [r for r in roots if self.kind(r) == LITMUS]:
            out["litmus_test"] = self.litmus(tests[0])
        if self.problems:
            raise FrameworkInvalid(self.problems)
        return fwk.parse(out)

    def kids(self, ident: str) -> list[str]:
        return [kid for _, _, kid in sorted(self.children.get(ident, []))]

    def text(self, ident: str, name: str) -> str:
        return _str(self.nodes[ident][1].get(name)) if ident in self.nodes else ""

    def kind(self, ident: str) -> str:
        if kind := self.text(ident, "CFItemType"):
            return kind
        link = self.nodes[ident][1].get("CFItemTypeURI") if ident in self.nodes else None
        return _str(cast(_Obj, link).get("title")) if isinstance(link, Mapping) else ""

    def key(self, space: str, ident: str, fallback: str) -> str:
        code = self.text(ident, "humanCodingScheme")
        ok = _KEY.fullmatch(code) and len(code) <= 64
        base = code if ok else _slug(code or self.text(ident, "fullStatement")) or fallback
        key, n = base, 1
        while key in self.used[space]:
            n += 1
            key = f"{base[:56].rstrip('-')}-{n}"
        self.used[space].add(key)
        return key

    def competency(self, ident: str) -> str:
        if ident not in self.comp_keys:
            self.comp_keys[ident] = key = self.key("competency", ident, "competency")
            kind = self.kind(ident).lower()
            both, attribute = "competenc" in kind and "attribute" in kind, "attribute" in kind
            value = Kind.BOTH if both else Kind.ATTRIBUTE if attribute else Kind.COMPETENCY
            entry: dict[str, object] = {"key": key, "name": self.text(ident, "fullStatement")}
            entry["kind"] = value.value
            words = self.nodes[ident][1].get("conceptKeywords")
            for word in cast(list[object], words) if isinstance(words, list) else [words]:
                name, _, v = _str(word).partition(":")
                if name == "kind-source":
                    entry["kind_source"] = v
                elif name == "table3-position" and v.isdecimal():
                    entry["table3_position"] = int(v)
            if notes := self.text(ident, "notes"):
                entry["description"] = notes
            self.catalogue.append(entry)
        return self.comp_keys[ident]

    def role(self, ident: str) -> dict[str, object]:
        out: dict[str, object] = {"key": self.key("role", ident, "role")}
        out["title"], out["description"] = (
            self.text(ident, "fullStatement"),
            self.text(ident, "notes"),
        )
        kids = self.kids(ident)
        out["aims"] = [self.text(k, "fullStatement") for k in kids if self.kind(k) == AIM]
        out["elements"] = [self.element(k) for k in kids if self.kind(k) != AIM]
        return out

    def element(self, ident: str) -> dict[str, object]:
        text = self.text(ident, "fullStatement")
        out: dict[str, object] = {"key": self.key("element", ident, "element")}
        out |= {"label": self.text(ident, "abbreviatedStatement") or text, "title": text}
        out["figure_title"] = self.text(ident, "alternativeLabel")
        company: list[object] = []
        kam: list[object] = []
        citations: list[object] = []
        for kid in self.kids(ident):
            kind, wording = self.kind(kid), self.text(kid, "fullStatement")
            if kind == CITATION:
                refs = [self.competency(dest) for _, _, dest in sorted(self.refs.get(kid, []))]
                if not refs:
                    where = f"CFItems[{self.nodes[kid][0]}]"
                    self.problems.append(Problem(where, "competency citation related to no item"))
                citations.append({"wording": wording, "refs": refs})
            elif _is_competency(kind):
                citations.append({"wording": wording, "refs": [self.competency(kid)]})
            else:
                (company if kind == COMPANY else kam).append(self.bullet(kid))
        return out | {"company": company, "kam": kam, "competencies": citations}

    def bullet(self, ident: str) -> dict[str, object]:
        out: dict[str, object] = {"text": self.text(ident, "fullStatement")}
        if texts := [{"text": self.text(k, "fullStatement")} for k in self.descendants(ident)]:
            out["children"] = texts
        return out

    def descendants(self, ident: str) -> Iterator[str]:
        stack = self.kids(ident)[::-1]
        while stack:
            yield (kid := stack.pop())
            stack.extend(self.kids(kid)[::-1])

    def litmus(self, ident: str) -> dict[str, object]:
        meta = _json_object(self.nodes[ident][1].get("notes"))
        kids = self.kids(ident)
        items = [
            {"key": self.key("litmus", k, "q"), "text": self.text(k, "fullStatement")} for k in kids
        ]
        prompt = meta.get("prompt", self.text(ident, "fullStatement"))
        return {"prompt": prompt, "scale": meta.get("scale", _DEFAULT_SCALE), "items": items}


def _objects(pkg: _Obj, name: str, problems: list[Problem]) -> list[tuple[int, _Obj]]:
    value = pkg.get(name, [])
    if not isinstance(value, list):
        problems.append(Problem(name, "not a list"))
        return []
    out: list[tuple[int, _Obj]] = []
    for i, item in enumerate(cast(list[object], value)):
        if isinstance(item, Mapping):
            out.append((i, cast(_Obj, item)))
        else:
            problems.append(Problem(f"{name}[{i}]", "not an object"))
    return out


def _required(obj: _Obj, name: str, where: str, problems: list[Problem]) -> str:
    value = obj.get(name)
    message = "missing" if value is None else "not a string" if not isinstance(value, str) else ""
    if isinstance(value, str) and not value.strip():
        message = "empty text"
    if message:
        problems.append(Problem(f"{where}.{name}", message))
    return _str(value).strip() and _str(value)


def _node(a: _Obj, name: str, where: str, problems: list[Problem]) -> str:
    link = a.get(name)
    if not isinstance(link, Mapping):
        problems.append(Problem(f"{where}.{name}", "missing" if link is None else "not an object"))
        return ""
    return _required(cast(_Obj, link), "identifier", f"{where}.{name}", problems)


def _is_competency(kind: str) -> bool:
    lower = kind.lower()
    return kind not in {CITATION, CATALOGUE} and ("competenc" in lower or "attribute" in lower)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(text: str) -> int:
    return int(text) if text.isdecimal() else _LAST


def _json_object(notes: object) -> _Obj:
    try:
        value: object = json.loads(_str(notes))
    except ValueError:
        return {}
    return cast(_Obj, value) if isinstance(value, Mapping) else {}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:48].strip("-")
