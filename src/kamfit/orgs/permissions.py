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
    "MANAGE_MEMBERS",
    "MANAGE_PEOPLE",
    "MANAGE_PRIVACY",
    "MANAGE_WEIGHTING",
    "OVERSEE_JOBS",
    "PUBLISH_FRAMEWORK",
    "PUBLISH_PROFILE",
    "READ_AUDIT_TRAIL",
    "RELEASE_RESULTS",
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

# Assessing people: HR and those who run assessments keep people, cycles, raters,
# psychometric results and development plans, and read every person's results.
# Line managers see their direct reports' released results and plans; everyone
# else only their own, once released. Raters open only the forms assigned to them.
MANAGE_PEOPLE = frozenset({Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT})
# "Release results to the assessed person when HR decides."
RELEASE_RESULTS = frozenset({Role.OWNER, Role.HR})
# Background jobs (imports, reports, reminders): everyone sees their own; owner and HR
# see every job of the organisation.
OVERSEE_JOBS = frozenset({Role.OWNER, Role.HR})
# Members, invitations and roles: owner and HR; only an owner grants or removes "owner".
MANAGE_MEMBERS = frozenset({Role.OWNER, Role.HR})
# The audit trail (who did what): owner and HR of that organisation only (A37).
READ_AUDIT_TRAIL = frozenset({Role.OWNER, Role.HR})

# Privacy (kamfit.privacy): export anyone's data, request and approve erasure (two
# different members), set retention periods and the minimum group size.
MANAGE_PRIVACY = frozenset({Role.OWNER, Role.HR})


def may(role: str | None, permission: frozenset[Role]) -> bool:
    """Say whether a member with ``role`` holds ``permission``."""
    return role is not None and role in permission
