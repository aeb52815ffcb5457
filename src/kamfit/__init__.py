"""kamfit: key account management competencies, readiness, assessment and hiring."""

from __future__ import annotations

__version__ = "0.1.0"
