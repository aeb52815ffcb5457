"""The one place that scopes tenant data to an organisation.

Every view, API endpoint and CLI command reaches tenant rows through these
functions. Each puts one condition per line. An object of another organisation
answers 404 (never 403), so its existence does not leak; an action the member's
role does not allow on their own organisation's object answers 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet
from django.http import Http404

from kamfit.assessments.models import Assessee, Cycle, Person, Rater
from kamfit.auditlog.models import AuditEvent
from kamfit.audits.models import Audit, Respondent
from kamfit.development.models import Plan
from kamfit.frameworks.models import (
    Framework,
    FrameworkVersion,
    VersionRow,
    VersionStatus,
)
from kamfit.jobs.models import Job
from kamfit.members.models import Invitation
from kamfit.orgs.models import Membership, Organisation
from kamfit.orgs.permissions import (
    EDIT_FRAMEWORK,
    EDIT_PROFILE,
    MANAGE_AUDIT,
    MANAGE_MEMBERS,
    MANAGE_PEOPLE,
    MANAGE_PRIVACY,
    MANAGE_WEIGHTING,
    OVERSEE_JOBS,
    PUBLISH_FRAMEWORK,
    PUBLISH_PROFILE,
    READ_AUDIT_TRAIL,
    RELEASE_RESULTS,
    VIEW_AUDIT_RESULTS,
    may,
)
from kamfit.privacy.models import ErasureRequest
from kamfit.profiles.models import (
    Participant,
    Profile,
    ProfileStatus,
    ProfileVersion,
    WeightingExercise,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

_RowT = TypeVar("_RowT", bound=VersionRow)

__all__ = [
    "access_assessee",
    "access_audit",
    "access_cycle",
    "access_erasure",
    "access_exercise",
    "access_framework",
    "access_invitation",
    "access_job",
    "access_member",
    "access_member_admin",
    "access_membership",
    "access_own_participation",
    "access_own_response",
    "access_person",
    "access_person_export",
    "access_plan",
    "access_privacy_admin",
    "access_profile",
    "access_profile_version",
    "access_rater",
    "access_response_by_token",
    "access_version",
    "access_version_row",
    "list_audit_events",
    "list_audits",
    "list_cycles",
    "list_erasures",
    "list_exercises",
    "list_frameworks",
    "list_invitations",
    "list_jobs",
    "list_members",
    "list_memberships",
    "list_my_raters",
    "list_people",
    "list_plans",
    "list_profiles",
    "list_visible_people",
    "list_visible_plans",
]


def list_memberships(user: AnyUser) -> QuerySet[Membership]:
    """Return the user's memberships, with their organisations."""
    if not user.is_authenticated or not user.is_active:
        return Membership.objects.none()
    return Membership.objects.filter(user_id=user.pk).select_related("organisation", "user")


def access_membership(user: AnyUser, org_slug: str) -> Membership:
    """Return the user's membership of the organisation named by ``org_slug``, or 404."""
    membership = list_memberships(user).filter(organisation__slug=org_slug).first()
    if membership is None:
        raise Http404("No such organisation")
    return membership


def list_frameworks(org: Organisation) -> QuerySet[Framework]:
    """Return the frameworks an organisation sees: its own and the shipped library."""
    return Framework.objects.filter(Q(organisation=org) | Q(organisation__isnull=True))


def access_framework(membership: Membership, pk: int | str, *, action: str = "view") -> Framework:
    """Return a framework the member may act on, or 404 / 403.

    ``action`` is ``view``, ``edit`` or ``publish``. Library frameworks can be
    viewed and copied by every organisation but edited by none.
    """
    try:
        framework = list_frameworks(membership.organisation).get(pk=int(pk))
    except (Framework.DoesNotExist, ValueError, TypeError):
        raise Http404("No such framework") from None
    if action == "view":
        return framework
    if framework.organisation_id is None:
        raise PermissionDenied("The shipped framework is read-only: copy it to edit it.")
    if action == "edit" and may(membership.role, EDIT_FRAMEWORK):
        return framework
    if action == "publish" and may(membership.role, PUBLISH_FRAMEWORK):
        return framework
    raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not {action} this.")


def _sees_drafts(membership: Membership, framework: Framework) -> bool:
    return framework.organisation_id is not None and may(membership.role, EDIT_FRAMEWORK)


def access_version(
    membership: Membership, framework_pk: int | str, number: int, *, action: str = "view"
) -> FrameworkVersion:
    """Return a version of a framework the member may act on, or 404 / 403.

    A draft answers 404 to those who may not edit it; editing needs a draft: a
    published version never changes.
    """
    framework = access_framework(membership, framework_pk, action=action)
    version = (
        FrameworkVersion.objects.filter(framework=framework)
        .filter(number=number)
        .select_related("framework__organisation", "framework__parent__framework")
        .first()
    )
    if version is None:
        raise Http404("No such version")
    if version.status == VersionStatus.DRAFT and not _sees_drafts(membership, framework):
        raise Http404("No such version")  # drafts exist only for those who may edit them
    if action == "edit" and version.status != VersionStatus.DRAFT:
        raise PermissionDenied("A published version never changes: start a new draft.")
    return version


def access_version_row(
    version: FrameworkVersion, model: type[_RowT], pk: object, *, lock: bool = False
) -> _RowT:
    """Return a content row (role, element, …) of a version already accessed, or 404.

    ``lock``: row-locked (``SELECT … FOR UPDATE``, in a transaction) for a version check.
    """
    rows = model._default_manager.filter(version=version)
    if lock:
        rows = rows.select_for_update(of=("self",))
    try:
        return rows.get(pk=int(str(pk)))
    except (model.DoesNotExist, ValueError):
        raise Http404("No such item") from None


def list_audits(org: Organisation) -> QuerySet[Audit]:
    """Return the organisation's readiness audits."""
    return Audit.objects.filter(organisation=org)


def access_audit(membership: Membership, pk: int | str, *, action: str = "results") -> Audit:
    """Return an audit of the member's organisation they may act on, or 404 / 403.

    ``action`` is ``results`` (aggregated results) or ``manage`` (settings,
    respondents, imports and exports). Individual answers are never readable.
    """
    try:
        audit = (
            list_audits(membership.organisation)
            .select_related("organisation", "version__framework", "previous")
            .get(pk=int(pk))
        )
    except (Audit.DoesNotExist, ValueError, TypeError):
        raise Http404("No such audit") from None
    allowed = MANAGE_AUDIT if action == "manage" else VIEW_AUDIT_RESULTS
    if not may(membership.role, allowed):
        what = "manage audits" if action == "manage" else "read audit results"
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not {what}.")
    return audit


def access_own_response(membership: Membership, audit_pk: int | str) -> Respondent:
    """Return the member's own response to an audit of their organisation, or 404."""
    try:
        return (
            Respondent.objects.filter(audit__organisation=membership.organisation)
            .filter(user_id=membership.user_id)
            .select_related("audit__organisation")
            .get(audit_id=int(audit_pk))
        )
    except (Respondent.DoesNotExist, ValueError, TypeError):
        raise Http404("No such audit") from None


def access_response_by_token(token: str) -> Respondent:
    """Return the response a private link opens, or 404 (the link is the credential)."""
    from kamfit.audits.services import hash_token  # noqa: PLC0415 - avoids an import cycle

    respondent = (
        Respondent.objects.filter(token_hash=hash_token(token))
        .exclude(token_hash="")
        .select_related("audit__organisation")
        .first()
    )
    if respondent is None:
        raise Http404("This link is not valid")
    return respondent


def list_profiles(org: Organisation) -> QuerySet[Profile]:
    """Return the organisation's role profiles."""
    return Profile.objects.filter(organisation=org)


def access_profile(membership: Membership, pk: int | str, *, action: str = "view") -> Profile:
    """Return a role profile the member may act on, or 404 / 403.

    ``action`` is ``view``, ``edit`` (drafts, weights, exercises) or ``publish``.
    """
    try:
        profile = (
            list_profiles(membership.organisation).select_related("organisation").get(pk=int(pk))
        )
    except (Profile.DoesNotExist, ValueError, TypeError):
        raise Http404("No such profile") from None
    if action == "view":
        return profile
    if action == "edit" and may(membership.role, EDIT_PROFILE):
        return profile
    if action == "publish" and may(membership.role, PUBLISH_PROFILE):
        return profile
    raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not {action} this.")


def access_profile_version(
    membership: Membership, profile_pk: int | str, number: int | str, *, action: str = "view"
) -> ProfileVersion:
    """Return a version of a profile the member may act on, or 404 / 403.

    A draft answers 404 to those who may not edit profiles; editing needs a draft.
    """
    profile = access_profile(membership, profile_pk)
    try:
        version = (
            ProfileVersion.objects.filter(profile=profile)
            .select_related("profile__organisation", "framework_version__framework")
            .get(number=int(number))
        )
    except (ProfileVersion.DoesNotExist, ValueError, TypeError):
        raise Http404("No such version") from None
    if version.status == ProfileStatus.DRAFT and not may(membership.role, EDIT_PROFILE):
        raise Http404("No such version")  # drafts exist only for those who may edit them
    access_profile(membership, profile_pk, action=action)  # the role's permission: 403
    if action in {"edit", "publish"} and version.status != ProfileStatus.DRAFT:
        raise PermissionDenied("A published version never changes: start a new draft.")
    return version


def list_exercises(org: Organisation) -> QuerySet[WeightingExercise]:
    """Return the organisation's weighting exercises."""
    return WeightingExercise.objects.filter(organisation=org)


def access_exercise(membership: Membership, pk: int | str) -> WeightingExercise:
    """Return a weighting exercise the member may manage and read in full, or 404 / 403."""
    try:
        exercise = (
            list_exercises(membership.organisation)
            .select_related(
                "organisation",
                "profile_version__profile",
                "profile_version__framework_version",
                "adopted_into",
            )
            .get(pk=int(pk))
        )
    except (WeightingExercise.DoesNotExist, ValueError, TypeError):
        raise Http404("No such exercise") from None
    if not may(membership.role, MANAGE_WEIGHTING):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) may not manage weighting exercises."
        )
    return exercise


def access_own_participation(membership: Membership, exercise_pk: int | str) -> Participant:
    """Return the member's own invitation to a weighting exercise, or 404."""
    try:
        return (
            Participant.objects.filter(exercise__organisation=membership.organisation)
            .filter(user_id=membership.user_id)
            .select_related(
                "exercise__organisation",
                "exercise__profile_version__profile",
                "exercise__profile_version__framework_version",
            )
            .get(exercise_id=int(exercise_pk))
        )
    except (Participant.DoesNotExist, ValueError, TypeError):
        raise Http404("No such exercise") from None


def list_people(org: Organisation) -> QuerySet[Person]:
    """Return the organisation's people (key account managers and candidates)."""
    return Person.objects.filter(organisation=org)


def list_visible_people(membership: Membership) -> QuerySet[Person]:
    """Return the people the member may see.

    Those who manage people see everyone; a line manager sees their direct reports
    and themself; anyone else only their own person record, if they have one.
    """
    people = list_people(membership.organisation)
    if may(membership.role, MANAGE_PEOPLE):
        return people
    mine = Q(user_id=membership.user_id)
    return people.filter(mine | Q(manager__user_id=membership.user_id))


def access_person(membership: Membership, pk: int | str, *, action: str = "view") -> Person:
    """Return a person the member may act on, or 404 / 403.

    ``action`` is ``view``, ``manage`` (edit, import, psychometrics) or ``quick_check``
    (those who manage people, and the person's line manager).
    A person the member may not see answers 404, as if they did not exist.
    """
    try:
        person = (
            list_visible_people(membership)
            .select_related("organisation", "manager", "profile", "user")
            .get(pk=int(pk))
        )
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404("No such person") from None
    if action == "manage" and not may(membership.role, MANAGE_PEOPLE):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) may not manage people."
        )
    if action == "quick_check" and not (
        may(membership.role, MANAGE_PEOPLE)
        or (person.manager is not None and person.manager.user_id == membership.user_id)
    ):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) may record a quick check "
            "only for your direct reports."
        )
    return person


def list_cycles(org: Organisation) -> QuerySet[Cycle]:
    """Return the organisation's assessment cycles."""
    return Cycle.objects.filter(organisation=org)


def access_cycle(membership: Membership, pk: int | str, *, action: str = "manage") -> Cycle:
    """Return an assessment cycle the member may manage and read in full, or 404 / 403.

    ``action`` is ``manage`` (people, raters, imports, results) or ``release``.
    """
    try:
        cycle = (
            list_cycles(membership.organisation)
            .select_related(
                "organisation", "profile_version__profile", "profile_version__framework_version"
            )
            .get(pk=int(pk))
        )
    except (Cycle.DoesNotExist, ValueError, TypeError):
        raise Http404("No such assessment cycle") from None
    allowed = RELEASE_RESULTS if action == "release" else MANAGE_PEOPLE
    if not may(membership.role, allowed):
        what = "release results" if action == "release" else "manage assessment cycles"
        raise PermissionDenied(f"Your role ({membership.get_role_display()}) may not {what}.")
    return cycle


def access_assessee(membership: Membership, cycle_pk: int | str, person_pk: int | str) -> Assessee:
    """Return a person's assessment in a cycle whose results the member may read, or 404.

    Those who manage people read every result; the person and their line manager
    only once HR has released it. Anyone else gets 404.
    """
    assessees = Assessee.objects.filter(cycle__organisation=membership.organisation)
    if not may(membership.role, MANAGE_PEOPLE):
        mine = Q(person__user_id=membership.user_id)
        assessees = assessees.filter(released_at__isnull=False).filter(
            mine | Q(person__manager__user_id=membership.user_id)
        )
    try:
        return assessees.select_related(
            "cycle__organisation",
            "cycle__profile_version__profile",
            "cycle__profile_version__framework_version",
            "person__manager",
            "person__profile",
        ).get(cycle_id=int(cycle_pk), person_id=int(person_pk))
    except (Assessee.DoesNotExist, ValueError, TypeError):
        raise Http404("No such result") from None


def list_my_raters(membership: Membership) -> QuerySet[Rater]:
    """Return the member's own rating assignments in their organisation."""
    return Rater.objects.filter(assessee__cycle__organisation=membership.organisation).filter(
        user_id=membership.user_id
    )


def access_rater(membership: Membership, pk: int | str) -> Rater:
    """Return one of the member's own rating assignments, or 404 (never someone else's)."""
    try:
        return (
            list_my_raters(membership)
            .select_related(
                "assessee__person",
                "assessee__cycle__organisation",
                "assessee__cycle__profile_version__framework_version",
            )
            .get(pk=int(pk))
        )
    except (Rater.DoesNotExist, ValueError, TypeError):
        raise Http404("No such rating form") from None


def list_plans(org: Organisation) -> QuerySet[Plan]:
    """Return the organisation's development plans."""
    return Plan.objects.filter(organisation=org)


def list_visible_plans(membership: Membership) -> QuerySet[Plan]:
    """Return the development plans the member may see.

    Those who manage people see all; the person and their line manager see a plan
    once the results it came from are released (or at once if it came from none).
    """
    plans = list_plans(membership.organisation)
    if may(membership.role, MANAGE_PEOPLE):
        return plans
    mine = Q(person__user_id=membership.user_id)
    theirs = Q(person__manager__user_id=membership.user_id)
    released = Q(cycle__isnull=True) | Q(
        cycle__assessees__person_id=F("person_id"), cycle__assessees__released_at__isnull=False
    )
    return plans.filter(mine | theirs).filter(released).distinct()


def access_plan(membership: Membership, pk: int | str, *, action: str = "view") -> Plan:
    """Return a development plan the member may act on, or 404 / 403.

    ``action`` is ``view``, ``update`` (an action's status and progress: the person,
    their manager and those who manage people) or ``manage`` (add, change and remove
    actions; close the plan).
    """
    try:
        plan = (
            list_visible_plans(membership)
            .select_related("organisation", "person__manager", "cycle__profile_version")
            .get(pk=int(pk))
        )
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise Http404("No such development plan") from None
    if action == "manage" and not may(membership.role, MANAGE_PEOPLE):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) may not change development plans."
        )
    return plan


def list_jobs(membership: Membership) -> QuerySet[Job]:
    """Return the background jobs the member may see.

    Owner and HR see every job of the organisation; anyone else only those they started.
    """
    jobs = Job.objects.filter(organisation=membership.organisation)
    if may(membership.role, OVERSEE_JOBS):
        return jobs
    return jobs.filter(created_by_id=membership.user_id)


def access_job(membership: Membership, pk: int | str) -> Job:
    """Return a job the member may see, or 404 (someone else's answers as if none existed)."""
    try:
        return list_jobs(membership).select_related("organisation", "created_by").get(pk=int(pk))
    except (Job.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job") from None


def access_member_admin(user: AnyUser, org_slug: str) -> Membership:
    """Return the user's membership of ``org_slug`` if it may manage members, or 404 / 403."""
    membership = access_membership(user, org_slug)
    _may_manage_members(membership)
    return membership


def list_members(org: Organisation) -> QuerySet[Membership]:
    """Return the organisation's memberships, with their users."""
    return Membership.objects.filter(organisation=org).select_related("user", "organisation")


def access_member(manager: Membership, pk: int | str) -> Membership:
    """Return a membership of the manager's organisation if they may manage members.

    The lookup comes first, so another organisation's id answers 404 to every role; a
    member of this organisation whom the role may not manage answers 403.
    """
    try:
        member = list_members(manager.organisation).get(pk=int(pk))
    except (Membership.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such member") from None
    _may_manage_members(manager)
    return member


def _may_manage_members(membership: Membership) -> None:
    if not may(membership.role, MANAGE_MEMBERS):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) may not manage members."
        )


def list_invitations(org: Organisation) -> QuerySet[Invitation]:
    """Return the organisation's invitations, newest first."""
    return Invitation.objects.filter(organisation=org).select_related("organisation", "invited_by")


def access_invitation(manager: Membership, pk: int | str) -> Invitation:
    """Return an invitation of the manager's organisation if they may manage members.

    As :func:`access_member`: another organisation's id answers 404 to every role.
    """
    try:
        invitation = list_invitations(manager.organisation).get(pk=int(pk))
    except (Invitation.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such invitation") from None
    _may_manage_members(manager)
    return invitation


def list_audit_events(membership: Membership) -> QuerySet[AuditEvent]:
    """Return the organisation's audit trail to its owner and HR, or 403 to anyone else."""
    if not may(membership.role, READ_AUDIT_TRAIL):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) may not read the audit trail."
        )
    return AuditEvent.objects.filter(organisation_id=membership.organisation_id)


# --- privacy (kamfit.privacy) ------------------------------------------------------------


def access_privacy_admin(membership: Membership) -> Membership:
    """Return the membership if it may manage privacy (export, erasure, retention), else 403."""
    if not may(membership.role, MANAGE_PRIVACY):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) may not manage privacy."
        )
    return membership


def access_person_export(membership: Membership, pk: int | str) -> tuple[Person, bool]:
    """Return a person whose data the member may export, and whether it is their own.

    Everyone may export their own record; owner and HR anyone's. A person the member
    may not see answers 404 (a participant asking for someone else), one they see but
    may not export 403 (a line manager's report).
    """
    person = access_person(membership, pk)
    own = person.user_id is not None
    own = own and person.user_id == membership.user_id
    if own:
        return person, True
    access_privacy_admin(membership)
    return person, False


def list_erasures(org: Organisation) -> QuerySet[ErasureRequest]:
    """Return the organisation's erasure requests, newest first."""
    return ErasureRequest.objects.filter(organisation=org).select_related("person")


def access_erasure(membership: Membership, pk: int | str) -> ErasureRequest:
    """Return an erasure request of the member's organisation (404) if they manage privacy (403)."""
    try:
        erasure = list_erasures(membership.organisation).get(pk=int(pk))
    except (ErasureRequest.DoesNotExist, ValueError, TypeError):
        raise Http404("No such erasure request") from None
    access_privacy_admin(membership)
    return erasure
