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


class Text(serializers.CharField):
    """A text field that refuses a number or a boolean instead of turning it into text.

    DRF's ``CharField`` reads ``0`` as ``"0"``; the schema says ``string``, so a client
    sending a number has a bug it should hear about (400), not a silently stored "0".
    """

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        _refuse_overlong(self, data)
        return super().to_internal_value(data)


def _refuse_overlong(field: serializers.CharField, data: str) -> None:
    """Hold the text as sent to the schema's ``maxLength``, before whitespace is trimmed.

    DRF checks the length after trimming, so 201 characters starting with a space pass a
    200-character limit: the schema says otherwise, and a client should hear of it.
    """
    if field.max_length is not None and len(data) > field.max_length:
        field.fail("max_length", max_length=field.max_length)


class Email(serializers.EmailField):
    """An e-mail address field that, like :class:`Text`, refuses anything but a string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        _refuse_overlong(self, data)
        return super().to_internal_value(data)


class Flag(serializers.BooleanField):
    """A yes/no field that takes only JSON ``true`` or ``false`` (not "yes", 1 or "true")."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class Whole(serializers.IntegerField):
    """A whole-number field that takes only a JSON integer (not "12", 12.0 or true)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class Number(serializers.FloatField):
    """A number field that takes only a JSON number (not "1.5" or true)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))
