"""The subject-access export: everything kamfit holds about one person, as JSON.

The document follows ``person-export.schema.json`` (published as
``docs/reference/person-export.schema.json``). Which model links reach a person, and
which of them are left out on purpose (and why), is listed in :data:`EXPORTED_LINKS`,
:data:`EXPORTED_MODELS` and :data:`EXCLUDED_LINKS`; a test walks every model and
fails on a link that is in neither.

Two views: ``named`` (owner or HR) sees every form version about the person, with the
self and line-manager raters named and the others numbered; the person's own export
sees their released assessments only, their own and their manager's forms unnamed,
and peers' and others' ratings pooled per source (and withheld below the cycle's
minimum number of peers), so an anonymous rater group stays anonymous.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from django.contrib.auth import get_user_model
from django.db.models import Q

from kamfit.assessments.models import (
    Assessee,
    FormStatus,
    KeyAccount,
    Person,
    PsychometricResult,
    QuickCheck,
    Rater,
    RatingForm,
    Source,
)
from kamfit.auditlog.models import AuditEvent
from kamfit.audits.models import Respondent
from kamfit.development.models import Plan
from kamfit.domain import scoring
from kamfit.jobs.models import Job
from kamfit.members.models import ApiToken
from kamfit.orgs.models import Membership
from kamfit.privacy.models import ErasureRequest
from kamfit.profiles.models import Participant

__all__ = [
    "EXCLUDED_LINKS",
    "EXCLUDED_MODELS",
    "EXPORTED_LINKS",
    "EXPORTED_MODELS",
    "SCHEMA_ID",
    "build_export",
    "export_filename",
    "schema",
    "validate_export",
]

SCHEMA_ID = "kamfit-person-export/1"

# "label.field" of a link to Person or User -> the export section that carries it.
EXPORTED_LINKS: dict[str, str] = {
    "assessments.Person.user": "account",
    "assessments.Person.manager": "person",
    "assessments.KeyAccount.person": "key_accounts",
    "assessments.Assessee.person": "assessments",
    "assessments.Rater.user": "forms_written",
    "assessments.PsychometricResult.person": "psychometrics",
    "assessments.QuickCheck.person": "quick_checks",
    "development.Plan.person": "development_plans",
    "audits.Respondent.user": "audit_responses",
    "profiles.Participant.user": "weighting_answers",
    "jobs.Job.created_by": "jobs_created",
    "orgs.Membership.user": "account",
    "members.ApiToken.user": "account",
    "privacy.ErasureRequest.person": "erasure_requests",
}

# Models that reach a person only through an exported link -> their section.
EXPORTED_MODELS: dict[str, str] = {
    "assessments.Person": "person",
    "assessments.KeyAccount": "key_accounts",
    "assessments.Assessee": "assessments",
    "assessments.Rater": "assessments",
    "assessments.RatingForm": "assessments",
    "assessments.Rating": "assessments",
    "assessments.PsychometricResult": "psychometrics",
    "assessments.QuickCheck": "quick_checks",
    "development.Plan": "development_plans",
    "development.Action": "development_plans",
    "audits.Respondent": "audit_responses",
    "audits.Answer": "audit_responses",
    "profiles.Participant": "weighting_answers",
    "jobs.Job": "jobs_created",
    "orgs.Membership": "account",
    "members.ApiToken": "account",
    "privacy.ErasureRequest": "erasure_requests",
    "auth.User": "account",
}

_STAMP = "who did it, on a row that is about something else (the row is not about them)"
# "label.field" -> why the link is not part of the export.
EXCLUDED_LINKS: dict[str, str] = {
    "admin.LogEntry.user": "Django admin history of operators; kamfit registers no person data",
    "frameworks.Framework.created_by": _STAMP,
    "frameworks.FrameworkVersion.published_by": _STAMP,
    "audits.Audit.created_by": _STAMP,
    "profiles.Profile.created_by": _STAMP,
    "profiles.ProfileVersion.created_by": _STAMP,
    "profiles.ProfileVersion.published_by": _STAMP,
    "profiles.WeightingExercise.created_by": _STAMP,
    "profiles.WeightingExercise.adopted_by": _STAMP,
    "assessments.Cycle.created_by": _STAMP,
    "assessments.Assessee.released_by": _STAMP,
    "assessments.Rater.invited_by": _STAMP,
    "assessments.RatingForm.created_by": "the form's rater; exported with the form",
    "assessments.RatingForm.submitted_by": "the form's rater; exported with the form",
    "assessments.PsychometricResult.imported_by": _STAMP,
    "assessments.QuickCheck.answered_by": (
        "quick checks the member answered about others belong to those people's records"
    ),
    "development.Plan.created_by": _STAMP,
    "development.Action.owner": (
        "actions the member owns in other people's plans belong to those plans"
    ),
    "development.Action.updated_by": _STAMP,
    "members.Invitation.invited_by": _STAMP,
    "members.Invitation.accepted_by": (
        "the invitation only says how the account joined; membership is exported"
    ),
    "privacy.ErasureRequest.requested_by": _STAMP,
    "privacy.ErasureRequest.approved_by": _STAMP,
    "privacy.ErasureRequest.rejected_by": _STAMP,
    "accounts.UserSession.user": (
        "live sign-in sessions (their keys are credentials); deleted when an account is erased"
    ),
    "accounts.RecoveryCodeDevice.user": "second-factor recovery codes: never exported",
    "otp_totp.TOTPDevice.user": "a second-factor secret: never exported",
    "otp_static.StaticDevice.user": "one-time recovery codes: never exported",
    "otp_email.EmailDevice.user": "a second-factor device: never exported",
}
# Models reached through an excluded link only, or holding no personal data.
EXCLUDED_MODELS: dict[str, str] = {}


@cache
def schema() -> dict[str, Any]:
    """Return the published JSON Schema of the export."""
    text = resources.files("kamfit.privacy").joinpath("person-export.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate_export(document: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if the document breaks the schema."""
    jsonschema.validate(document, schema(), cls=jsonschema.Draft202012Validator)


def export_filename(person: Person) -> str:
    """Return the server-chosen download name: ids only, never the person's name."""
    return f"kamfit-person-{person.organisation_id}-{person.pk}.json"


def _when(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(person: Person) -> dict[str, Any]:
    return {
        "id": person.pk,
        "reference": person.reference,
        "name": person.name,
        "email": person.email,
        "kind": person.kind,
        "job_title": person.job_title,
        "unit": person.unit,
        "manager_id": person.manager_id,
        "background": person.background,
        "background_note": person.background_note,
        "profile_id": person.profile_id,
        "active": person.active,
        "inactive_since": _when(person.inactive_since),
        "created_at": _when(person.created_at),
        "updated_at": _when(person.updated_at),
    }


def _account(person: Person) -> dict[str, Any] | None:
    if person.user_id is None:
        return None
    user = get_user_model().objects.get(pk=person.user_id)
    memberships = Membership.objects.filter(user_id=user.pk).select_related("organisation")
    tokens = ApiToken.objects.filter(user_id=user.pk)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "email": getattr(user, "email", ""),
        "first_name": getattr(user, "first_name", ""),
        "last_name": getattr(user, "last_name", ""),
        "is_active": user.is_active,
        "date_joined": _when(getattr(user, "date_joined", None)),
        "last_login": _when(user.last_login),
        "memberships": [
            {
                "organisation_id": m.organisation_id,
                "organisation_slug": m.organisation.slug,
                "role": m.role,
                "created_at": _when(m.created_at),
            }
            for m in memberships
        ],
        "api_tokens": [
            {
                "id": t.pk,
                "name": t.name,
                "organisation_id": t.organisation_id,
                "created_at": _when(t.created_at),
                "expires_at": _when(t.expires_at),
                "revoked_at": _when(t.revoked_at),
                "last_used_at": _when(t.last_used_at),
            }
            for t in tokens
        ],
    }


def _ratings(form: RatingForm) -> list[dict[str, Any]]:
    return [
        {"competency_key": r.competency.key, "level": r.level, "evidence": r.evidence}
        for r in form.ratings.all()
    ]


def _form(form: RatingForm, rater: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": form.pk,
        **rater,
        "number": form.number,
        "status": form.status,
        "reason": form.reason,
        "created_at": _when(form.created_at),
        "submitted_at": _when(form.submitted_at),
        "ratings": _ratings(form),
    }


def _named_forms(raters: list[Rater]) -> list[dict[str, Any]]:
    """Every form version; self and manager named, peers and others numbered."""
    forms: list[dict[str, Any]] = []
    counters: dict[str, int] = defaultdict(int)
    for rater in raters:
        if rater.source in {Source.SELF, Source.MANAGER}:
            who = {"rater_user_id": rater.user_id, "rater_username": rater.user.get_username()}
            label = rater.get_source_display()
        else:
            counters[rater.source] += 1
            who = {"rater_user_id": None, "rater_username": None}
            label = f"{rater.get_source_display()} {counters[rater.source]}"
        for form in rater.forms.all():
            forms.append(_form(form, {"source": rater.source, "rater_label": label, **who}))
    return forms


def _latest_submitted(rater: Rater) -> RatingForm | None:
    submitted = [f for f in rater.forms.all() if f.status == FormStatus.SUBMITTED]
    return max(submitted, key=lambda f: f.number, default=None)


def _own_forms(
    raters: list[Rater], min_peers: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Self and manager forms unnamed; peers and others pooled per source, or withheld."""
    forms: list[dict[str, Any]] = []
    pooled: dict[str, list[dict[str, Any]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for rater in raters:
        form = _latest_submitted(rater)
        if form is None:
            continue
        if rater.source in {Source.SELF, Source.MANAGER}:
            who = {"rater_user_id": None, "rater_username": None}
            forms.append(
                _form(form, {"source": rater.source, "rater_label": rater.get_source_display()})
                | who
            )
            continue
        counts[rater.source] += 1
        pooled[rater.source].extend(_ratings(form))
    groups = []
    for source in sorted(pooled):
        shown = counts[source] >= min_peers
        rows = sorted(
            pooled[source], key=lambda r: (r["competency_key"], r["level"] or 0, r["evidence"])
        )
        groups.append(
            {
                "source": source,
                "raters": counts[source],
                "withheld": not shown,
                "ratings": rows if shown else [],
            }
        )
    return forms, groups


def _assessments(person: Person, *, named: bool) -> list[dict[str, Any]]:
    assessees = Assessee.objects.filter(person=person).select_related("cycle").order_by("id")
    if not named:
        assessees = assessees.filter(released_at__isnull=False)
    raters_of: dict[int, list[Rater]] = defaultdict(list)
    raters = (
        Rater.objects.filter(assessee__in=assessees)
        .select_related("user")
        .prefetch_related("forms__ratings__competency")
        .order_by("source", "id")
    )
    for rater in raters:
        raters_of[rater.assessee_id].append(rater)
    found = []
    for assessee in assessees:
        cycle = assessee.cycle
        entry: dict[str, Any] = {
            "cycle": {
                "id": cycle.pk,
                "title": cycle.title,
                "status": cycle.status,
                "profile_version_id": cycle.profile_version_id,
            },
            "added_at": _when(assessee.added_at),
            "released_at": _when(assessee.released_at),
        }
        if named:
            entry["forms"] = _named_forms(raters_of[assessee.pk])
            entry["anonymous_groups"] = []
        else:
            rules = scoring.rules_from_dict(cycle.rules) if cycle.rules else scoring.DEFAULT_RULES
            entry["forms"], entry["anonymous_groups"] = _own_forms(
                raters_of[assessee.pk], rules.min_peers
            )
        found.append(entry)
    return found


def _forms_written(person: Person) -> list[dict[str, Any]]:
    if person.user_id is None:
        return []
    raters = (
        Rater.objects.filter(
            user_id=person.user_id, assessee__cycle__organisation_id=person.organisation_id
        )
        .select_related("assessee__cycle")
        .prefetch_related("forms__ratings__competency")
        .order_by("id")
    )
    return [
        _form(
            form,
            {
                "cycle_id": rater.assessee.cycle_id,
                "about_person_id": rater.assessee.person_id,
                "source": rater.source,
            },
        )
        for rater in raters
        for form in rater.forms.all()
    ]


def _psychometrics(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "id": r.pk,
            "attribute_key": r.attribute_key,
            "provider": r.provider,
            "instrument": r.instrument,
            "provider_scale": r.provider_scale,
            "scale": r.scale,
            "value": r.value,
            "sten": r.sten,
            "assessed_on": _when(r.assessed_on),
            "imported_at": _when(r.imported_at),
        }
        for r in PsychometricResult.objects.filter(person=person).order_by("id")
    ]


def _quick_checks(person: Person, *, named: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": q.pk,
            "answers": q.answers,
            "yes_count": q.yes_count,
            "answered_count": q.answered_count,
            "note": q.note,
            "answered_at": _when(q.answered_at),
            "answered_by_id": q.answered_by_id if named else None,
        }
        for q in QuickCheck.objects.filter(person=person).order_by("id")
    ]


def _plans(person: Person, *, named: bool) -> list[dict[str, Any]]:
    plans = Plan.objects.filter(person=person).prefetch_related("actions").order_by("id")
    if not named:
        plans = plans.filter(
            Q(cycle__isnull=True)
            | Q(cycle__assessees__person=person, cycle__assessees__released_at__isnull=False)
        ).distinct()
    return [
        {
            "id": p.pk,
            "title": p.title,
            "status": p.status,
            "cycle_id": p.cycle_id,
            "created_at": _when(p.created_at),
            "actions": [
                {
                    "id": a.pk,
                    "competency_key": a.competency_key,
                    "kind": a.kind,
                    "action_type": a.action_type,
                    "title": a.title,
                    "description": a.description,
                    "status": a.status,
                    "due_on": _when(a.due_on),
                    "baseline": a.baseline,
                    "required_level": a.required_level,
                    "progress_note": a.progress_note,
                    "updated_at": _when(a.updated_at),
                }
                for a in p.actions.all()
            ],
        }
        for p in plans
    ]


def _audit_responses(person: Person) -> list[dict[str, Any]]:
    if person.user_id is None:
        return []
    respondents = (
        Respondent.objects.filter(
            user_id=person.user_id, audit__organisation_id=person.organisation_id
        )
        .select_related("audit")
        .prefetch_related("answers__item")
        .order_by("id")
    )
    return [
        {
            "audit_id": r.audit_id,
            "audit_title": r.audit.title,
            "department": r.department,
            "status": r.status,
            "submitted_at": _when(r.submitted_at),
            "answers": [
                {"item_key": a.item.key, "rating": a.rating, "comment": a.comment}
                for a in r.answers.all()
            ],
        }
        for r in respondents
    ]


def _weighting_answers(person: Person) -> list[dict[str, Any]]:
    if person.user_id is None:
        return []
    participants = (
        Participant.objects.filter(
            user_id=person.user_id, exercise__organisation_id=person.organisation_id
        )
        .select_related("exercise")
        .order_by("id")
    )
    return [
        {
            "exercise_id": p.exercise_id,
            "exercise_title": p.exercise.title,
            "function": p.function,
            "status": p.status,
            "submitted_at": _when(p.submitted_at),
            "answers": p.answers,
        }
        for p in participants
    ]


def _jobs(person: Person) -> list[dict[str, Any]]:
    if person.user_id is None:
        return []
    jobs = Job.objects.filter(
        created_by_id=person.user_id, organisation_id=person.organisation_id
    ).order_by("id")
    return [
        {
            "id": j.pk,
            "kind": j.kind,
            "status": j.status,
            "filename": j.filename,
            "done": j.done,
            "total": j.total,
            "created_at": _when(j.created_at),
            "finished_at": _when(j.finished_at),
        }
        for j in jobs
    ]


def _audit_events(person: Person) -> list[dict[str, Any]]:
    about = Q(object_type="assessments.person", object_id=str(person.pk))
    if person.user_id is not None:
        about |= Q(actor_id=person.user_id)
    events = AuditEvent.objects.filter(organisation_id=person.organisation_id).filter(about)
    return [
        {"seq": seq, "action": action, "at": _when(at)}
        for seq, action, at in events.order_by("seq").values_list("seq", "action", "at")
    ]


def _erasures(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "id": e.pk,
            "state": e.state,
            "reason": e.reason,
            "requested_at": _when(e.requested_at),
            "executed_at": _when(e.executed_at),
        }
        for e in ErasureRequest.objects.filter(person=person).order_by("id")
    ]


def build_export(person: Person, *, named: bool, now: dt.datetime) -> dict[str, Any]:
    """Return everything kamfit holds about ``person`` (see the module docstring)."""
    org = person.organisation
    return {
        "schema": SCHEMA_ID,
        "exported_at": now.isoformat(),
        "view": "privacy_admin" if named else "self",
        "organisation": {"id": org.pk, "slug": org.slug, "name": org.name},
        "person": _person(person),
        "key_accounts": [
            {"id": a.pk, "name": a.name, "position": a.position}
            for a in KeyAccount.objects.filter(person=person)
        ],
        "account": _account(person),
        "assessments": _assessments(person, named=named),
        "forms_written": _forms_written(person),
        "psychometrics": _psychometrics(person),
        "quick_checks": _quick_checks(person, named=named),
        "development_plans": _plans(person, named=named),
        "audit_responses": _audit_responses(person),
        "weighting_answers": _weighting_answers(person),
        "jobs_created": _jobs(person),
        "audit_events": _audit_events(person),
        "erasure_requests": _erasures(person),
    }
