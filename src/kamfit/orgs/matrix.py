"""Load, validate and print the permission matrix (``permission_matrix.yaml``).

The matrix says, for every URL pattern and API operation, per HTTP method, per
object state and per role, which class of answer a member of the organisation gets
(see the file's header). The security tests are generated from it, and
``python -m kamfit.orgs.matrix --markdown`` prints the table of
``docs/security/permission-matrix.md``. A malformed file fails loudly, naming the
route and the key, so that a typo can never silently grant access.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ANONYMOUS",
    "METHODS",
    "OUTCOMES",
    "ROLES",
    "AdminRule",
    "Matrix",
    "MatrixError",
    "RouteRule",
    "load",
    "markdown",
    "parse",
]

# Keep in step with kamfit.orgs.models.Role (a test checks they agree); the loader must
# not import Django models, so that the CLI and docs build work without settings.
ROLES = ("owner", "hr", "director", "manager", "assessor", "participant", "consultant")
ANONYMOUS = "anonymous"
OUTCOMES = ("ok", "forbidden", "hidden", "login", "method")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
KINDS = ("web", "api")
TENANCIES = ("org", "none")
DEFAULT_VARIANT = "any"
_SHORT = {"ok": "ok", "forbidden": "403", "hidden": "404", "login": "login", "method": "405"}
_ROUTE_KEYS = {"kind", "tenant", "objects", "body", "fields", "why", *METHODS}


class MatrixError(ValueError):
    """The matrix file is malformed; the message names the place and the reason."""


@dataclass(frozen=True)
class RouteRule:
    """Everything the matrix says about one named route."""

    name: str
    kind: str
    tenant: str
    objects: Mapping[str, Mapping[str, str]]  # variant → URL keyword → world reference
    body: Mapping[str, str]  # form or JSON field → world reference, for unsafe methods
    expected: Mapping[str, Mapping[str, Mapping[str, str]]]  # method → variant → who → outcome
    fields: Mapping[str, tuple[str, ...]]  # role → response keys that must be absent
    why: str = ""

    @property
    def methods(self) -> tuple[str, ...]:
        """The HTTP methods the matrix covers for this route, in canonical order."""
        return tuple(m for m in METHODS if m in self.expected)

    def cases(self) -> Iterator[tuple[str, str, Mapping[str, str]]]:
        """Yield (method, variant, who → outcome) for every method and object state."""
        for method in self.methods:
            for variant, answers in self.expected[method].items():
                yield method, variant, answers


@dataclass(frozen=True)
class AdminRule:
    """The single rule for Django's admin site."""

    prefix: str
    superuser: str
    others: str


@dataclass(frozen=True)
class Matrix:
    """The whole permission matrix."""

    groups: Mapping[str, tuple[str, ...]]
    admin: AdminRule
    routes: Mapping[str, RouteRule] = field(default_factory=dict)


def _fail(where: str, reason: str) -> MatrixError:
    return MatrixError(f"permission matrix, {where}: {reason}")


def _roles(value: object, groups: Mapping[str, tuple[str, ...]], where: str) -> tuple[str, ...]:
    """Resolve a role list or group name to role names (``others`` is handled by the caller)."""
    if isinstance(value, str):
        if value in groups:
            return groups[value]
        if value in ROLES:
            return (value,)
        raise _fail(where, f"unknown role or group {value!r} (roles: {', '.join(ROLES)})")
    if not isinstance(value, list) or not value:
        raise _fail(where, "expected a role, a group name or a non-empty list of roles")
    out: list[str] = []
    for item in value:
        out.extend(_roles(item, groups, where))
    return tuple(out)


def _outcome(value: object, where: str) -> str:
    if value not in OUTCOMES:
        raise _fail(where, f"unknown outcome {value!r} (outcomes: {', '.join(OUTCOMES)})")
    return str(value)


def _is_spec(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, dict) and all(k in OUTCOMES or k == ANONYMOUS for k in value)
    )


def _spec(value: object, groups: Mapping[str, tuple[str, ...]], where: str) -> dict[str, str]:
    """Turn ``ok`` or ``{ok: editors, forbidden: others}`` into role → outcome, complete."""
    if isinstance(value, str):
        outcome = _outcome(value, where)
        return {**dict.fromkeys(ROLES, outcome), ANONYMOUS: "login"}
    if not isinstance(value, dict):
        raise _fail(where, "expected an outcome or a mapping of outcome to roles")
    answers: dict[str, str] = {}
    rest: str | None = None
    for key, roles in value.items():
        if key == ANONYMOUS:
            continue
        outcome = _outcome(key, where)
        if roles == "others":
            rest = outcome
            continue
        for role in _roles(roles, groups, f"{where}.{key}"):
            if role in answers:
                raise _fail(where, f"role {role!r} is given two outcomes")
            answers[role] = outcome
    for role in ROLES:
        if role not in answers:
            if rest is None:
                raise _fail(where, f"no outcome for role {role!r} (list it or use 'others')")
            answers[role] = rest
    answers[ANONYMOUS] = _outcome(value.get(ANONYMOUS, "login"), f"{where}.{ANONYMOUS}")
    return answers


def _strings(raw: object, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise _fail(where, "expected a mapping of field name to world reference strings")
    return dict(raw)


def _objects(raw: object, where: str) -> dict[str, dict[str, str]]:
    if raw is None:
        return {DEFAULT_VARIANT: {}}
    if not isinstance(raw, dict) or not raw:
        raise _fail(where, "'objects' must map each state variant to its URL keywords")
    out: dict[str, dict[str, str]] = {}
    for variant, kwargs in raw.items():
        out[str(variant)] = _strings(kwargs, f"{where}.{variant}")
    return out


def _method(
    raw: object,
    variants: Sequence[str],
    groups: Mapping[str, tuple[str, ...]],
    where: str,
) -> dict[str, dict[str, str]]:
    if _is_spec(raw):
        answers = _spec(raw, groups, where)
        return dict.fromkeys(variants, answers)
    if not isinstance(raw, dict):
        raise _fail(where, "expected an outcome spec or a mapping of state variant to spec")
    unknown = set(raw) - set(variants)
    if unknown:
        raise _fail(where, f"unknown state variant(s) {sorted(unknown)} (known: {list(variants)})")
    missing = [v for v in variants if v not in raw]
    if missing:
        raise _fail(where, f"no answer for state variant(s) {missing}")
    return {v: _spec(raw[v], groups, f"{where}.{v}") for v in variants}


def _fields(
    raw: object, groups: Mapping[str, tuple[str, ...]], where: str
) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(where, "'fields' must map roles (or groups) to lists of absent keys")
    out: dict[str, tuple[str, ...]] = {}
    for who, keys in raw.items():
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise _fail(f"{where}.{who}", "expected a list of response keys")
        for role in _roles(who, groups, f"{where}.{who}"):
            out[role] = (*out.get(role, ()), *keys)
    return out


def _route(name: str, raw: object, groups: Mapping[str, tuple[str, ...]]) -> RouteRule:
    where = f"route {name!r}"
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping")
    unknown = set(raw) - _ROUTE_KEYS
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)} (known: {sorted(_ROUTE_KEYS)})")
    kind = raw.get("kind", "api" if name.startswith("api:") else "web")
    if kind not in KINDS:
        raise _fail(where, f"kind must be one of {KINDS}")
    tenant = raw.get("tenant", "org")
    if tenant not in TENANCIES:
        raise _fail(where, f"tenant must be one of {TENANCIES}")
    objects = _objects(raw.get("objects"), f"{where}.objects")
    expected = {
        m: _method(raw[m], list(objects), groups, f"{where}.{m}") for m in METHODS if m in raw
    }
    if not expected:
        raise _fail(where, "no HTTP method listed")
    return RouteRule(
        name=name,
        kind=str(kind),
        tenant=str(tenant),
        objects=objects,
        body=_strings(raw.get("body"), f"{where}.body"),
        expected=expected,
        fields=_fields(raw.get("fields"), groups, f"{where}.fields"),
        why=str(raw.get("why", "")),
    )


def parse(data: Any) -> Matrix:
    """Validate the loaded YAML document and return the matrix."""
    if not isinstance(data, dict):
        raise _fail("top level", "expected a mapping with 'groups', 'admin' and 'routes'")
    unknown = set(data) - {"groups", "admin", "routes"}
    if unknown:
        raise _fail("top level", f"unknown key(s) {sorted(unknown)}")
    groups: dict[str, tuple[str, ...]] = {"all": ROLES}
    for gname, members in (data.get("groups") or {}).items():
        if gname in ROLES or gname in {"all", "others"}:
            raise _fail(f"group {gname!r}", "a group may not reuse a role name, 'all' or 'others'")
        groups[str(gname)] = _roles(members, groups, f"group {gname!r}")
    admin = data.get("admin")
    if not isinstance(admin, dict) or set(admin) != {"prefix", "superuser", "others"}:
        raise _fail("admin", "expected 'prefix', 'superuser' and 'others'")
    rule = AdminRule(
        str(admin["prefix"]),
        _outcome(admin["superuser"], "admin.superuser"),
        _outcome(admin["others"], "admin.others"),
    )
    routes_raw = data.get("routes")
    if not isinstance(routes_raw, dict) or not routes_raw:
        raise _fail("routes", "expected a mapping of route name to rule")
    routes = {str(n): _route(str(n), r, groups) for n, r in routes_raw.items()}
    return Matrix(groups=groups, admin=rule, routes=routes)


def default_path() -> Path:
    """Where the matrix file lives (inside the package, next to this module)."""
    return Path(str(resources.files("kamfit.orgs").joinpath("permission_matrix.yaml")))


def load(path: Path | None = None) -> Matrix:
    """Read and validate the matrix file."""
    source = path or default_path()
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MatrixError(f"permission matrix {source}: not valid YAML: {exc}") from exc
    return parse(data)


def markdown(matrix: Matrix) -> str:
    """Render the matrix as one Markdown table: a row per route, method and state."""
    header = ["Route", "Method", "State", *ROLES, ANONYMOUS]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for name in sorted(matrix.routes):
        rule = matrix.routes[name]
        for method, variant, answers in rule.cases():
            cells = [_SHORT[answers[who]] for who in (*ROLES, ANONYMOUS)]
            state = "" if variant == DEFAULT_VARIANT else variant
            lines.append("| " + " | ".join([f"`{name}`", method, state, *cells]) + " |")
    admin = matrix.admin
    lines.append(
        f"| `{admin.prefix}…` (admin site) | any | | "
        + " | ".join(_SHORT[admin.others] for _ in ROLES)
        + f" | {_SHORT['login']} |"
    )
    lines.append("")
    lines.append(
        f"Superusers: {_SHORT[admin.superuser]} on the admin site. "
        "Another organisation's objects: 404 for every role, on every route."
    )
    lines.extend(_fields_table(matrix))
    return "\n".join(lines) + "\n"


def _fields_table(matrix: Matrix) -> list[str]:
    """The ``fields`` rules as a table: per route and role, the keys never given a value."""
    rows = [
        f"| `{name}` | {role} | {', '.join(f'`{k}`' for k in keys)} |"
        for name in sorted(matrix.routes)
        for role, keys in matrix.routes[name].fields.items()
    ]
    if not rows:
        return []
    return [
        "",
        "Response keys a role never receives with a value (`fields`; every other key of the "
        "OpenAPI answer is given):",
        "",
        "| Route | Role | Absent or empty |",
        "|---|---|---|",
        *rows,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kamfit.orgs.matrix [--markdown] [FILE]``: validate, or print the table."""
    parser = argparse.ArgumentParser(prog="python -m kamfit.orgs.matrix", description=__doc__)
    parser.add_argument("file", nargs="?", type=Path, help="matrix file (default: the shipped one)")
    parser.add_argument("--markdown", action="store_true", help="print the Markdown table")
    args = parser.parse_args(argv)
    try:
        matrix = load(args.file)
    except (MatrixError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.markdown:
        sys.stdout.write(markdown(matrix))
    else:
        cases = sum(1 for r in matrix.routes.values() for _ in r.cases())
        print(f"OK: {len(matrix.routes)} routes, {cases} method × state rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
