"""What each role may do, as named permission sets.

A later issue turns this into the machine-readable permission matrix; until then
this module is the one place that says which roles hold which capability.
"""

from __future__ import annotations

from kamfit.orgs.models import Role

__all__ = [
    "EDIT_FRAMEWORK",
    "EDIT_PROFILE",
    "MANAGE_AUDIT",
    "MANAGE_WEIGHTING",
    "PUBLISH_FRAMEWORK",
    "PUBLISH_PROFILE",
    "VIEW_AUDIT_RESULTS",
    "VIEW_FRAMEWORK",
    "VIEW_PROFILE",
    "may",
]

VIEW_FRAMEWORK = frozenset(Role)
EDIT_FRAMEWORK = frozenset({Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT})
PUBLISH_FRAMEWORK = frozenset({Role.OWNER, Role.HR, Role.DIRECTOR})
# Readiness audits: who opens them, invites respondents, imports and exports answers.
MANAGE_AUDIT = frozenset({Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT})
# Aggregated results (never individual answers); line managers may read them too.
VIEW_AUDIT_RESULTS = MANAGE_AUDIT | {Role.MANAGER}
# Role profiles: everyone reads published ones (a KAM may read the job description of
# their position); drafts and weighting exercises belong to those who shape profiles.
VIEW_PROFILE = frozenset(Role)
EDIT_PROFILE = frozenset({Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT})
PUBLISH_PROFILE = frozenset({Role.OWNER, Role.HR, Role.DIRECTOR})
MANAGE_WEIGHTING = EDIT_PROFILE


def may(role: str | None, permission: frozenset[Role]) -> bool:
    """Say whether a member with ``role`` holds ``permission``."""
    return role is not None and role in permission
