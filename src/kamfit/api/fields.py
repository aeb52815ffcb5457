"""Serializer fields shared by the API modules."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class Choice(serializers.ChoiceField):
    """A choice field documented as an enum component of its own name (``enum``).

    drf-spectacular names an enum after its field (``kind``, ``status``, ``source``). Other
    endpoints already hold choice sets under those names, and one more set would rename
    their components; a name per set keeps every component as it is.
    """

    def __init__(self, *, enum: str, **kwargs: Any) -> None:
        self.enum = enum
        super().__init__(**kwargs)


class ChoiceSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    target_class = Choice
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field: Choice = self.target
        described = "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items())
        component = ResolvedComponent(  # type: ignore[no-untyped-call]
            name=field.enum,
            type=ResolvedComponent.SCHEMA,
            object=field.enum,
            schema={"enum": list(field.choices), "type": "string", "description": described},
        )
        auto_schema.registry.register_on_missing(component)
        return dict(component.ref)
