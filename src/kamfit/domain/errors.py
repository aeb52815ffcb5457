"""Errors raised by kamfit's domain layer.

The hierarchy::

    KamfitError
    ├── ValidationError          bad input: one or more located problems
    │   └── FrameworkInvalid     a framework document fails its schema or rules
    ├── ImportRowError           one row of an import (row, field, reason)
    └── NotPermitted             a rule of the domain forbids the action
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FrameworkInvalid",
    "ImportRowError",
    "KamfitError",
    "NotPermitted",
    "Problem",
    "ValidationError",
]


class KamfitError(Exception):
    """Root of every error kamfit raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where it is."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ValidationError(KamfitError):
    """Input that breaks one or more rules; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class FrameworkInvalid(ValidationError):
    """A framework document that fails its schema or its rules."""


class ImportRowError(KamfitError):
    """A row of an import that cannot be stored."""

    def __init__(self, row: int, field: str, reason: str) -> None:
        self.row, self.field, self.reason = row, field, reason
        super().__init__(f"row {row}, field {field!r}: {reason}")


class NotPermitted(KamfitError):
    """An action the domain's rules forbid (e.g. editing a published version)."""


class StaleVersion(NotPermitted):
    """A change based on a copy that someone else changed meanwhile (a lost update)."""
