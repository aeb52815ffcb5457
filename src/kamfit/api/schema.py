"""Document the error answers every API operation can give, in one place.

Each view documents its successful answers. The errors are the same everywhere: the
exception handler (:mod:`kamfit.api.errors`) and DRF give them one shape, so this
drf-spectacular post-processing hook adds them to every operation instead of each
view repeating them. Clients (and the schema fuzzer in ``make test``) then know every
status code the API may answer.
"""

from __future__ import annotations

from typing import Any

ERROR = "Error"
_REF = {"$ref": f"#/components/schemas/{ERROR}"}

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "An error. ``detail`` says what went wrong; invalid input also lists every "
        "``problem`` with the field (``location``) it concerns."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["location", "message"],
            },
        },
    },
    "required": ["detail"],
}

_DESCRIPTIONS = {
    "400": "Invalid input: every problem, each with the field it concerns",
    "401": "Not signed in, or the credentials are not valid",
    "403": "Signed in, but this role may not do this (or two-factor authentication is due)",
    "404": "No such object in this organisation (another organisation's objects included)",
    "409": "The object's state does not allow this change",
    "412": "If-Match names an outdated version: read the object again",
    "413": "The upload is larger than the limit",
    "415": "The request body's Content-Type is not one this operation reads",
    "429": "Too many requests: wait for the seconds in Retry-After",
}
_WRITES = {"post", "put", "patch", "delete"}


def _codes(method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["401", "403", "404", "429"]
    if operation.get("parameters") or operation.get("requestBody") or method in _WRITES:
        codes.append("400")
    if method in _WRITES:
        codes += ["409", "412"]
    if operation.get("requestBody"):
        codes += ["413", "415"]
    return codes


def document_errors(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Add the shared error answers to every operation that does not declare its own."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR] = _ERROR_SCHEMA
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in _codes(method, operation):
                responses.setdefault(
                    code,
                    {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": _REF}},
                    },
                )
    return result
