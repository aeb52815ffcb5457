"""Field-level access and mass assignment, generated from the matrix and the schema (A17, T4).

Two checks, both driven by ``permission_matrix.yaml`` and the drf-spectacular
OpenAPI document, so that a new field or operation is covered without a new test:

* **Per-role field diff.** For every API GET operation of the matrix, every object
  state and every role whose answer is ``ok``, the JSON answer's keys (recursively,
  list items too) must be exactly the response schema's properties minus the keys
  the matrix's ``fields`` hides from that role. An undocumented key fails, a hidden
  key with a value fails, and a documented key missing from the answer fails unless
  the matrix says that role does not get it.
* **Mass assignment.** For every API write operation (POST, PUT, PATCH) of the
  matrix, every property of its answer that the request schema does not accept (the
  read-only ones), plus ``organisation``, ``owner``, ``status``, ``submitted_at``,
  ``version``, ``released``, ``person``, ``id``, ``created_at`` and ``updated_at``,
  is sent with a forged value on top of an otherwise valid body. The write is
  repeated without the forged field (twice, to learn which columns differ anyway:
  new tokens, request ids), under a frozen clock and inside rolled-back savepoints.
  The forged write must answer like the plain one with the field's value unchanged,
  or 400 naming the field; and every row of kamfit's tables must end as after the
  plain write.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import pytest
import time_machine
from django.apps import apps
from django.db import models, transaction
from django.test import Client

from kamfit.orgs.matrix import RouteRule, load
from kamfit.orgs.models import Role
from tests.security.matrix.routes import all_routes, url_for
from tests.security.matrix.world import Side, World

pytestmark = [
    pytest.mark.django_db,
    # Results of a cycle with no submitted form average an empty array (numpy warns).
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
]

MATRIX = load()
ROUTES = all_routes()
JSON = "application/json"
# Routes whose answer is not a JSON document described by properties.
NOT_JSON = {"api:schema", "api:docs"}
EMPTY: tuple[object, ...] = (None, "", [], {})


# --- the OpenAPI document -----------------------------------------------------------------


def _shape(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


@functools.cache
def _schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return cast(dict[str, Any], SchemaGenerator().get_schema(request=None, public=True))


@functools.cache
def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    """(route name, METHOD) → the OpenAPI operation."""
    by_shape = {_shape("/" + r.pattern): r.name for r in ROUTES.values() if r.kind == "api"}
    ops: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in _schema()["paths"].items():
        name = by_shape.get(_shape(path))
        for method, operation in item.items():
            if name is not None and isinstance(operation, dict):
                ops[(name, method.upper())] = operation
    return ops


def _deref(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve ``$ref`` and merge ``allOf`` into one object schema."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        merged = {**_deref(_schema()["components"]["schemas"][name])}
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        return merged
    if "allOf" in schema:
        out: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        props: dict[str, Any] = {}
        for part in schema["allOf"]:
            resolved = _deref(part)
            props.update(resolved.get("properties", {}))
            for key, value in resolved.items():
                if key != "properties":
                    out.setdefault(key, value)
        if props:
            out["properties"] = {**props, **out.get("properties", {})}
        return out
    return dict(schema)


def _json_schema(operation: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """The JSON schema of the 2xx answer (``kind='response'``) or of the request body."""
    if kind == "request":
        content = operation.get("requestBody", {}).get("content", {})
        return _deref(content[JSON]["schema"]) if JSON in content else None
    for code, answer in sorted(operation.get("responses", {}).items()):
        content = answer.get("content", {})
        if code.startswith("2") and JSON in content:
            return _deref(content[JSON]["schema"])
    return None


# --- part 1: the per-role field diff ---------------------------------------------------------


def _diff(
    data: object, schema: Mapping[str, Any], hidden: frozenset[str], where: str
) -> Iterator[str]:
    """Every difference between an answer and its schema, for a role that must not see
    ``hidden``: undocumented keys, hidden keys with a value, documented keys missing."""
    schema = _deref(schema)
    if data is None:
        return
    if "oneOf" in schema or "anyOf" in schema:
        options = [_deref(s) for s in schema.get("oneOf", schema.get("anyOf", []))]
        found = [list(_diff(data, s, hidden, where)) for s in options]
        yield from min(found, key=len)
        return
    if isinstance(data, list):
        items = schema.get("items")
        for i, item in enumerate(data):
            yield from _diff(item, items or {}, hidden, f"{where}[{i}]")
        return
    if not isinstance(data, dict):
        return
    props: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if not props and not isinstance(extra, dict):
        extra = {}  # a free-form object (no properties): only the hidden keys are checked
    for key, value in data.items():
        if key in hidden and value not in EMPTY:
            yield f"{where}.{key}: hidden from this role, but sent with a value"
        if key in props:
            yield from _diff(value, props[key], hidden, f"{where}.{key}")
        elif isinstance(extra, dict):
            yield from _diff(value, extra, hidden, f"{where}.{key}")
        elif extra is not True and key not in hidden:
            yield f"{where}.{key}: not in the schema"
    missing = sorted(set(props) - set(data) - hidden)
    if missing:
        yield f"{where}: documented keys {missing} missing (hide them in the matrix's fields)"


def _get_cases() -> Iterator[tuple[str, str]]:
    for name in sorted(MATRIX.routes):
        rule = MATRIX.routes[name]
        if rule.kind == "api" and "GET" in rule.methods and name not in NOT_JSON:
            for variant, answers in rule.expected["GET"].items():
                if any(answers[str(role)] == "ok" for role in Role):
                    yield name, variant


GET_CASES = list(_get_cases())
COUNTS = {"answers": 0, "writes": 0, "fields": 0}
STATUS: dict[str, dict[str, int]] = {}  # "route METHOD" → state → status of the plain write


# Query strings a GET needs to answer at all (the matrix's requests send none).
QUERIES: dict[str, Callable[[Side], str]] = {
    "api:profile-compare": lambda side: f"?left={_pk(side, 'profile_published')}",
}


def _pk(side: Side, key: str) -> int:
    return cast(models.Model, side.objects[key]).pk  # type: ignore[no-any-return]


def _url(world: World, rule: RouteRule, variant: str) -> str:
    org = world.alpha if rule.tenant == "org" else None
    url = url_for(world, rule.name, dict(rule.objects[variant]), org, world.alpha)
    query = QUERIES.get(rule.name)
    return url + (query(world.alpha) if query else "")


@pytest.mark.parametrize(("name", "variant"), GET_CASES, ids=[f"{n}-{v}" for n, v in GET_CASES])
def test_each_role_gets_exactly_the_documented_fields(
    world: World, name: str, variant: str
) -> None:
    rule = MATRIX.routes[name]
    schema = _json_schema(_operations()[(name, "GET")], "response")
    assert schema is not None, f"{name}: no JSON answer in the OpenAPI document"
    url = _url(world, rule, variant)
    problems: list[str] = []
    checked = 0
    for role in Role:
        if rule.expected["GET"][variant][str(role)] != "ok":
            continue
        response = world.client(world.alpha.users[role]).get(url, HTTP_ACCEPT=JSON)
        assert response.status_code == 200, (role, url, response.status_code)
        assert response["Content-Type"].startswith(JSON), (role, url, response["Content-Type"])
        hidden = frozenset(rule.fields.get(str(role), ()))
        problems += [f"{role}: {p}" for p in _diff(response.json(), schema, hidden, "$")]
        checked += 1
        COUNTS["answers"] += 1
    assert checked, f"{name} [{variant}]: no role reads it, nothing checked"
    assert not problems, f"GET {url} [{variant}]\n" + "\n".join(problems)


def test_the_field_diff_can_fail() -> None:
    """An extra key, a hidden key with a value, and a missing key are each reported."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {}}}
    assert list(_diff({"a": "x", "b": 1}, schema, frozenset(), "$")) == []
    assert list(_diff({"a": "x", "b": 1, "c": 2}, schema, frozenset(), "$"))
    assert list(_diff({"a": "x", "b": 1}, schema, frozenset({"b"}), "$"))
    assert list(_diff({"a": "x", "b": None}, schema, frozenset({"b"}), "$")) == []
    assert list(_diff({"a": "x"}, schema, frozenset(), "$"))
    assert list(_diff([{"a": "x"}], {"type": "array", "items": schema}, frozenset(), "$"))


# --- part 2: mass assignment ------------------------------------------------------------------

# Always forged, when the request schema does not accept them (the A17/T4 list).
ALWAYS = (
    "organisation",
    "owner",
    "status",
    "submitted_at",
    "version",
    "released",
    "person",
    "id",
    "created_at",
    "updated_at",
)
WRITES = ("POST", "PUT", "PATCH")
ORG_KEYS = {"organisation", "organisation_id", "org"}
PERSON_KEYS = {"person", "person_id", "owner", "user", "created_by", "manager", "rater"}
FORGED_TEXT = "forged-by-test"
# Tables whose rows change with every request whatever its body: not the write's data.
SKIPPED_TABLES = {"sessions.session", "admin.logentry", "contenttypes.contenttype"}
Body = dict[str, Any] | list[dict[str, Any]]


def _question() -> str:
    from kamfit.domain import development

    return development.shipped_quick_check().questions[0].key


def _framework_doc(world: World, side: Side) -> dict[str, Any]:
    """The draft framework version's document, as the API gives it (for PUT, POST, validate)."""
    client = world.client(side.users[Role.HR])
    fw, draft = _pk(side, "fw"), cast(Any, side.objects["fw_draft"]).number
    url = f"/api/v1/organisations/{side.org.slug}/frameworks/{fw}/versions/{draft}/"
    with transaction.atomic():
        response = client.get(url, HTTP_ACCEPT=JSON)
        transaction.set_rollback(True)
    assert response.status_code == 200, response.content
    return cast(dict[str, Any], response.json())


def _new_framework(world: World, side: Side) -> dict[str, Any]:
    doc = _framework_doc(world, side)
    return {**doc, "key": "forged-test-framework", "title": "A new framework"}


# A valid body per write operation (the matrix's requests send none): state-independent,
# so that each object state of the matrix gets the same request.
BODIES: dict[str, Callable[[World, Side], Body]] = {
    "api:audits": lambda w, s: {
        "title": "Readiness again",
        "framework": _pk(s, "fw"),
        "version": cast(Any, s.objects["fw_published"]).number,
        "elements": ["risk"],
    },
    "api:audit-repeat": lambda w, s: {"title": "Readiness repeated"},
    "api:audit-respondents": lambda w, s: {"name": "Rory Respondent", "department": "sales"},
    "api:audit-my-response": lambda w, s: {"answers": [], "submit": False},
    "api:cycles": lambda w, s: {
        "title": "Summer review",
        "profile": _pk(s, "profile"),
        "version": cast(Any, s.objects["profile_published"]).number,
    },
    "api:cycle": lambda w, s: {"title": "Renamed review", "note": "Changed"},
    "api:cycle-people": lambda w, s: {"people": ["kam-2"]},
    "api:cycle-raters": lambda w, s: {
        "person": "kam-3",
        "username": s.users[Role.ASSESSOR].username,
        "source": "other",
    },
    "api:cycle-release": lambda w, s: {"all": True},
    "api:frameworks": _new_framework,
    "api:framework-copy": lambda w, s: {"title": "A copy"},
    "api:version": _framework_doc,
    "api:validate": _framework_doc,
    "api:version-publish": lambda w, s: {"note": "Published by the test"},
    "api:members": lambda w, s: {"email": "new-member@example.com", "role": "assessor"},
    "api:member": lambda w, s: {"role": "assessor"},
    "api:people": lambda w, s: {"name": "Nico New", "reference": "kam-9"},
    "api:person": lambda w, s: {"name": "Renamed Person", "job_title": "Lead"},
    "api:person-psychometrics": lambda w, s: [
        {
            "attribute": s.values["competency"],
            "provider": "Provider",
            "scale": "sten",
            "value": 7,
            "assessed_on": "2026-02-01",
        }
    ],
    "api:quick-checks": lambda w, s: {"answers": {_question(): True}, "note": "Looks fine"},
    "api:plans": lambda w, s: {"cycle": _pk(s, "cycle_open"), "person": "kam-3"},
    "api:plan-actions": lambda w, s: {
        "competency": "negotiation",
        "title": "Book",
        "action_type": "course",
    },
    "api:plan-action": lambda w, s: {"progress_note": "Half way", "title": "Course, renamed"},
    "api:profiles": lambda w, s: {
        "framework_version": _pk(s, "fw_published"),
        "title": "Second profile",
        "elements": ["risk"],
    },
    "api:profile-version": lambda w, s: {"title": "Renamed profile", "summary": "Changed"},
    "api:rating-form": lambda w, s: {"answers": {}, "submit": False},
    "api:rating-form-amend": lambda w, s: {"reason": "A typo"},
    "api:exercises": lambda w, s: {
        "profile_version": _pk(s, "profile_published"),
        "title": "Weights again",
        "method": "points",
    },
    "api:exercise-my-answers": lambda w, s: {"submit": False},
    "api:exercise-participants": lambda w, s: {
        "user": s.peers[1].pk,
        "function": "sales_director",
    },
}


# Operations whose only body is a file upload (CSV): the forged fields go in as form fields.
def _requirement(side: Side) -> str:
    version = cast(Any, side.objects["profile_published"])
    return str(version.requirements.filter(included=True).first().competency.key)


UPLOADS: dict[str, Callable[[World, Side], str]] = {
    "api:people-import": lambda w, s: "reference,name\nkam-8,Uma Upload\n",
    "api:psychometrics-import": lambda w, s: (
        "person,attribute,provider,scale,value,assessed_on\n"
        f"kam-2,{s.values['competency']},Provider,sten,7,2026-01-15\n"
    ),
    "api:ratings-import": lambda w, s: (
        "person,rater,source,competency,level,evidence\n"
        f"kam-2,{s.users[Role.ASSESSOR].username},other,{_requirement(s)},3,Seen it\n"
    ),
}
NO_BODY = {
    "api:audit-close",
    "api:cycle-close",
    "api:cycle-open",
    "api:exercise-adopt",
    "api:exercise-close",
    "api:framework-drafts",
    "api:plan-close",
    "api:profile-drafts",
    "api:profile-version-publish",
}
ROLE_PREFERENCE = (Role.HR, *Role)


def _write_cases() -> Iterator[tuple[str, str]]:
    for name in sorted(MATRIX.routes):
        rule = MATRIX.routes[name]
        if rule.kind == "api":
            for method in WRITES:
                if method in rule.expected:
                    yield name, method


WRITE_CASES = list(_write_cases())


def test_every_write_operation_has_a_body() -> None:
    """A new write operation needs a valid body here (or a place in NO_BODY / UPLOADS)."""
    names = {name for name, _ in WRITE_CASES}
    assert names <= set(BODIES) | set(UPLOADS) | NO_BODY, sorted(
        names - set(BODIES) - set(UPLOADS) - NO_BODY
    )


def _writer(rule: RouteRule, method: str, variant: str) -> Role | None:
    answers = rule.expected[method][variant]
    return next((r for r in ROLE_PREFERENCE if answers[str(r)] == "ok"), None)


def _forge_plain(schema: Mapping[str, Any], plain: object) -> Any:
    """A value of the schema's type that differs from ``plain``."""
    by_type: dict[object, Callable[[], Any]] = {
        "integer": lambda: (plain + 777) if isinstance(plain, int) else 777,
        "number": lambda: 9.5 if plain != 9.5 else 8.5,
        "boolean": lambda: not plain if isinstance(plain, bool) else True,
        "array": lambda: [FORGED_TEXT],
        "object": lambda: {"id": 777, "name": FORGED_TEXT},
    }
    by_format = {"date-time": "2001-02-03T04:05:06Z", "date": "2001-02-03"}
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind in by_type:
        return by_type[kind]()
    return by_format.get(str(schema.get("format")), FORGED_TEXT)


def _forge(name: str, schema: Mapping[str, Any], plain: object, world: World) -> Any:
    """A value for ``name`` that differs from the plain answer's and would matter if written:
    another organisation, another person, another state, another time."""
    schema = _deref(schema)
    text = schema.get("type") == "string"
    if name in ORG_KEYS:
        return world.beta.org.slug if text else world.beta.org.pk
    if name in PERSON_KEYS:
        return "kam-3" if text else _pk(world.alpha, "person_other")
    others = [v for v in schema.get("enum", ()) if v not in (plain, None, "")]
    if others:
        return others[0]
    if name.endswith("_at") and "format" not in schema:
        schema = {**schema, "format": "date-time"}
    return _forge_plain(schema, plain)


# --- database snapshots -------------------------------------------------------------------

Rows = dict[str, dict[object, dict[str, object]]]
RawRows = dict[str, list[dict[str, object]]]
_WRITE_SQL = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# Tables any request may write, refused or not: the session's last activity, the audit trail.
BOOKKEEPING = {"accounts.usersession", "auditlog.auditevent"}


@functools.cache
def _tables() -> dict[str, type[models.Model]]:
    """db_table → model, for every table the app writes."""
    return {
        m._meta.db_table: m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.label_lower not in SKIPPED_TABLES
    }


def _touched(queries: list[dict[str, str]]) -> set[str]:
    """The models (app.model) an INSERT, UPDATE or DELETE of the request wrote."""
    out = set()
    for query in queries:
        match = _WRITE_SQL.match(query["sql"])
        if match and match.group(1) in _tables():
            out.add(_tables()[match.group(1)]._meta.label_lower)
    return out


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def _raw(labels: set[str]) -> RawRows:
    return {label: list(_model(label)._base_manager.order_by("pk").values()) for label in labels}


class Known:
    """Primary keys of the world as it is before every write (each one is rolled back)."""

    def __init__(self) -> None:
        self.pks: dict[str, set[object]] = {}

    def __getitem__(self, label: str) -> set[object]:
        if label not in self.pks:
            self.pks[label] = set(_model(label)._base_manager.values_list("pk", flat=True))
        return self.pks[label]


def _canonical(raw: RawRows, known: Known) -> Rows:
    """New rows (pk unknown before) renumbered ``new#i`` in creation order, and foreign keys
    to them too, so that two runs compare equal on PostgreSQL (sequences are not rolled back)."""
    renumber: dict[str, dict[object, str]] = {}
    for label, rows in raw.items():
        pk_name = _model(label)._meta.pk.attname
        fresh = [r[pk_name] for r in rows if r[pk_name] not in known[label]]
        renumber[label] = {pk: f"new#{i}" for i, pk in enumerate(fresh)}
    out: Rows = {}
    for label, rows in raw.items():
        model = _model(label)
        relations = {
            f.attname: f.related_model._meta.label_lower
            for f in model._meta.concrete_fields
            if f.is_relation and isinstance(f.related_model, type)
        }
        table: dict[object, dict[str, object]] = {}
        for row in rows:
            pk = row[model._meta.pk.attname]
            table[renumber[label].get(pk, pk)] = {
                col: renumber.get(relations[col], {}).get(val, val) if col in relations else val
                for col, val in row.items()
            }
        out[label] = table
    return out


def _differences(a: Rows, b: Rows, ignore: frozenset[tuple[str, str]]) -> list[str]:
    """Where two snapshots differ (table, row, column), but for ``ignore``d columns."""
    found: list[str] = []
    for label in sorted(set(a) & set(b)):
        left, right = a[label], b[label]
        if (label, "*") in ignore:
            continue
        for pk in sorted(set(left) ^ set(right), key=str):
            found.append(f"{label} row {pk}: only in {'plain' if pk in left else 'forged'} write")
        for pk in set(left) & set(right):
            for col, val in left[pk].items():
                if (label, col) not in ignore and right[pk].get(col) != val:
                    found.append(f"{label}[{pk}].{col}: {val!r} → {right[pk].get(col)!r}")
    return found


def _unstable(a: Rows, b: Rows) -> frozenset[tuple[str, str]]:
    """Columns that differ between two identical requests (tokens, request ids, hashes)."""
    out: set[tuple[str, str]] = set()
    for label in set(a) | set(b):
        left, right = a.get(label, {}), b.get(label, {})
        if set(left) != set(right):
            out.add((label, "*"))
            continue
        for pk in left:
            out |= {(label, c) for c, v in left[pk].items() if right[pk].get(c) != v}
    return frozenset(out)


# --- sending ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One write: its answer, the tables it wrote, and those tables as it left them."""

    status: int
    data: Any
    text: str
    touched: set[str]
    rows: Rows


@dataclass(frozen=True)
class Request:
    """Everything but the body that one write of a case shares with the others."""

    client: Client
    method: str
    url: str
    upload: str | None
    known: Known
    frozen: Any


def _write(req: Request, body: Body | None, also: frozenset[str] = frozenset()) -> Outcome:
    """Send one write under the frozen clock, read the tables it wrote (and ``also``),
    then roll everything back."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cookies = copy.deepcopy(req.client.cookies)
    call = getattr(req.client, req.method.lower())
    with time_machine.travel(req.frozen, tick=False), transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            if req.upload is not None:
                form: dict[str, Any] = {k: str(v) for k, v in cast(dict[str, Any], body).items()}
                form["file"] = SimpleUploadedFile("data.csv", req.upload.encode(), "text/csv")
                response = call(req.url, form)
            else:
                response = call(req.url, json.dumps(body or {}), content_type=JSON)
        touched = _touched(queries.captured_queries)
        raw = _raw(touched | set(also))
        transaction.set_rollback(True)
    req.client.cookies = cookies
    text = response.content.decode("utf-8", "replace")
    data = response.json() if response.get("Content-Type", "").startswith(JSON) else None
    return Outcome(response.status_code, data, text, touched, _canonical(raw, req.known))


def _properties(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return {}
    schema = _deref(schema)
    if schema.get("type") == "array":
        return _properties(schema.get("items"))
    return cast(dict[str, Any], schema.get("properties", {}))


def _with(body: Body | None, key: str, value: object) -> Body:
    if isinstance(body, list):
        return [{**item, key: value} for item in body]
    return {**(body or {}), key: value}


def _value(data: object, key: str) -> object:
    if isinstance(data, list):
        return [_value(item, key) for item in data]
    if isinstance(data, dict):
        return data.get(key, _MISSING)
    return _MISSING


_MISSING = object()


def _names_field(outcome: Outcome, key: str) -> bool:
    """Whether the answer lists a problem about ``key`` (its location, or the key quoted)."""
    problems = outcome.data.get("problems", []) if isinstance(outcome.data, dict) else []
    return any(
        key in str(p.get("location", "")) or f"'{key}'" in str(p.get("message", ""))
        for p in problems
        if isinstance(p, dict)
    )


def _check_field(
    key: str, forged: object, plain: tuple[Outcome, Outcome], got: Outcome
) -> list[str]:
    """The forged write is refused naming the field and writes nothing, or answers like the
    plain one and leaves the same rows."""
    a, b = plain
    if _names_field(got, key) and not _names_field(a, key):
        written = got.touched - BOOKKEEPING
        return [f"{key}: refused, but it wrote {sorted(written)}"] if written else []
    if got.status == 400 and a.status != 400:
        return [f"{key}: refused with 400 without naming the field: {got.text[:200]}"]
    problems = []
    if got.status != a.status:
        problems.append(f"{key}: answered {got.status}, the plain write {a.status}")
    if 200 <= got.status < 300:
        value, plain_value = _value(got.data, key), _value(a.data, key)
        stable = plain_value == _value(b.data, key)
        if (stable and value != plain_value) or (not stable and value == forged):
            problems.append(f"{key}: answered {value!r}, the plain write gave {plain_value!r}")
    more = got.touched - a.touched - b.touched
    if more:
        problems.append(f"{key}: writes {sorted(more)}, which the plain write does not")
    changed = _differences(a.rows, got.rows, _unstable(a.rows, b.rows))
    if changed:
        problems.append(f"{key}: the forged value reached the database: {changed[:3]}")
    return problems


def _targets(operation: Mapping[str, Any], body: Body | None) -> tuple[dict[str, Any], list[str]]:
    """The answer's properties, and the keys to forge: those the request does not take."""
    response_props = _properties(_json_schema(operation, "response"))
    request = _json_schema(operation, "request")
    writable = set(_properties(request))
    if request is not None and not writable:  # a free-form document: its own keys are input
        writable = set(body[0] if isinstance(body, list) else body or {})
    return response_props, sorted((set(response_props) | set(ALWAYS)) - writable)


@pytest.mark.parametrize(("name", "method"), WRITE_CASES, ids=[f"{n}-{m}" for n, m in WRITE_CASES])
def test_read_only_fields_cannot_be_written(world: World, name: str, method: str) -> None:
    import datetime as dt

    rule = MATRIX.routes[name]
    upload = UPLOADS[name](world, world.alpha) if name in UPLOADS else None
    body = None if name in NO_BODY or upload is not None else BODIES[name](world, world.alpha)
    response_props, targets = _targets(_operations()[(name, method)], body)
    frozen = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    known = Known()
    problems: list[str] = []
    for variant in rule.expected[method]:
        role = _writer(rule, method, variant)
        if role is None:
            continue  # no role of alpha may write it in this state (the matrix checks 403/404)
        client = world.client(world.alpha.users[role])
        req = Request(client, method, _url(world, rule, variant), upload, known, frozen)
        first = _write(req, body or {})
        plain = (first, _write(req, body or {}, frozenset(first.touched)))
        assert first.status < 500, (req.url, first.status, first.text[:300])
        tables = first.touched | plain[1].touched
        for key in targets:
            forged = _forge(key, response_props.get(key, {}), _value(first.data, key), world)
            got = _write(req, _with(body, key, forged), frozenset(tables))
            found = _check_field(key, forged, plain, got)
            problems += [f"{method} {req.url} [{variant}] as {role}: {p}" for p in found]
        COUNTS["writes"] += 1
        COUNTS["fields"] += len(targets)
        STATUS.setdefault(f"{name} {method}", {})[variant] = first.status
    assert STATUS.get(f"{name} {method}"), f"{name} {method}: no role of alpha may write it"
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    """With KAMFIT_FIELDS_REPORT=FILE, append this worker's figures (for the compliance
    matrix): role answers diffed, write cases, forged fields, plain-write statuses."""
    yield
    import os

    if os.environ.get("KAMFIT_FIELDS_REPORT"):
        with open(os.environ["KAMFIT_FIELDS_REPORT"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"counts": COUNTS, "status": STATUS}) + "\n")
