"""kamfit's rules and arithmetic: pure Python and numpy, no Django."""

from __future__ import annotations

from kamfit.domain.errors import (
    FrameworkInvalid,
    ImportRowError,
    KamfitError,
    NotPermitted,
    Problem,
    ValidationError,
)
from kamfit.domain.framework import Framework, Kind

__all__ = [
    "Framework",
    "FrameworkInvalid",
    "ImportRowError",
    "KamfitError",
    "Kind",
    "NotPermitted",
    "Problem",
    "ValidationError",
]
