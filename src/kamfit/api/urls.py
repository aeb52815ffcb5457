"""API routes, /api/v1/."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from kamfit.api import assessments, audits, jobs, profiles, views
from kamfit.auditlog import api as auditlog
from kamfit.members import api as members
from kamfit.privacy import api as privacy
from kamfit.web.security import SwaggerDocsView

app_name = "api"

ORG = "organisations/<slug:org>/"
FW = ORG + "frameworks/<int:pk>/"
V = FW + "versions/<int:number>/"
AUDIT = ORG + "audits/<int:pk>/"
PROFILE = ORG + "profiles/<int:pk>/"
PV = PROFILE + "versions/<int:number>/"
EXERCISE = ORG + "weighting-exercises/<int:pk>/"
PERSON = ORG + "people/<int:pk>/"
CYCLE = ORG + "cycles/<int:pk>/"
FORM = ORG + "rating-forms/<int:pk>/"
PLAN = ORG + "plans/<int:pk>/"
MEMBERS = ORG + "members/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="api:schema"), name="docs"),
    path("organisations/", views.MembershipList.as_view(), name="organisations"),
    path(ORG + "frameworks/", views.FrameworkList.as_view(), name="frameworks"),
    path(FW, views.FrameworkDetail.as_view(), name="framework"),
    path(FW + "copy/", views.FrameworkCopy.as_view(), name="framework-copy"),
    path(FW + "drafts/", views.FrameworkDrafts.as_view(), name="framework-drafts"),
    path(V, views.VersionDocument.as_view(), name="version"),
    path(V + "publish/", views.VersionPublish.as_view(), name="version-publish"),
    path(V + "diff/", views.VersionDiff.as_view(), name="version-diff"),
    path("frameworks/validate/", views.Validate.as_view(), name="validate"),
    path(ORG + "audits/", audits.AuditList.as_view(), name="audits"),
    path(ORG + "audits/mine/", audits.MyAudits.as_view(), name="audits-mine"),
    path(AUDIT, audits.AuditDetail.as_view(), name="audit"),
    path(AUDIT + "results/", audits.AuditResultsView.as_view(), name="audit-results"),
    path(AUDIT + "respondents/", audits.AuditRespondents.as_view(), name="audit-respondents"),
    path(AUDIT + "close/", audits.AuditClose.as_view(), name="audit-close"),
    path(AUDIT + "repeat/", audits.AuditRepeat.as_view(), name="audit-repeat"),
    path(AUDIT + "my-response/", audits.MyResponse.as_view(), name="audit-my-response"),
    path(ORG + "profiles/", profiles.ProfileList.as_view(), name="profiles"),
    path(ORG + "profiles/compare/", profiles.ProfileCompare.as_view(), name="profile-compare"),
    path(PROFILE, profiles.ProfileDetailView.as_view(), name="profile"),
    path(PROFILE + "drafts/", profiles.ProfileDrafts.as_view(), name="profile-drafts"),
    path(PV, profiles.VersionDetail.as_view(), name="profile-version"),
    path(PV + "publish/", profiles.VersionPublish.as_view(), name="profile-version-publish"),
    path(PV + "job-description/", profiles.JobDescription.as_view(), name="job-description"),
    path(ORG + "weighting-exercises/", profiles.ExerciseList.as_view(), name="exercises"),
    path(ORG + "weighting-exercises/mine/", profiles.MyExercises.as_view(), name="exercises-mine"),
    path(EXERCISE, profiles.ExerciseDetail.as_view(), name="exercise"),
    path(
        EXERCISE + "participants/",
        profiles.ExerciseParticipants.as_view(),
        name="exercise-participants",
    ),
    path(EXERCISE + "close/", profiles.ExerciseClose.as_view(), name="exercise-close"),
    path(EXERCISE + "results/", profiles.ExerciseResultsView.as_view(), name="exercise-results"),
    path(EXERCISE + "adopt/", profiles.ExerciseAdopt.as_view(), name="exercise-adopt"),
    path(EXERCISE + "my-answers/", profiles.MyAnswers.as_view(), name="exercise-my-answers"),
    path(ORG + "people/", assessments.PeopleList.as_view(), name="people"),
    path(ORG + "people/import/", assessments.PeopleImport.as_view(), name="people-import"),
    path(PERSON, assessments.PersonDetail.as_view(), name="person"),
    path(PERSON + "quick-checks/", assessments.PersonQuickChecks.as_view(), name="quick-checks"),
    path(
        PERSON + "psychometrics/",
        assessments.PersonPsychometrics.as_view(),
        name="person-psychometrics",
    ),
    path(
        ORG + "psychometrics/import/",
        assessments.PsychometricsImport.as_view(),
        name="psychometrics-import",
    ),
    path(ORG + "cycles/", assessments.CycleList.as_view(), name="cycles"),
    path(CYCLE, assessments.CycleDetail.as_view(), name="cycle"),
    path(CYCLE + "open/", assessments.CycleOpen.as_view(), name="cycle-open"),
    path(CYCLE + "close/", assessments.CycleClose.as_view(), name="cycle-close"),
    path(CYCLE + "people/", assessments.CyclePeople.as_view(), name="cycle-people"),
    path(CYCLE + "raters/", assessments.CycleRaters.as_view(), name="cycle-raters"),
    path(CYCLE + "raters/<int:rater>/", assessments.CycleRater.as_view(), name="cycle-rater"),
    path(CYCLE + "results/", assessments.CycleResults.as_view(), name="cycle-results"),
    path(
        CYCLE + "results/<int:person>/",
        assessments.PersonResult.as_view(),
        name="cycle-person-result",
    ),
    path(CYCLE + "release/", assessments.CycleRelease.as_view(), name="cycle-release"),
    path(CYCLE + "ratings/import/", assessments.RatingsImport.as_view(), name="ratings-import"),
    path(ORG + "rating-forms/mine/", assessments.MyRatingForms.as_view(), name="forms-mine"),
    path(FORM, assessments.RatingFormDetail.as_view(), name="rating-form"),
    path(ORG + "jobs/", jobs.JobList.as_view(), name="jobs"),
    path(ORG + "jobs/<int:pk>/", jobs.JobDetail.as_view(), name="job"),
    path(FORM + "amend/", assessments.RatingFormAmend.as_view(), name="rating-form-amend"),
    path(ORG + "plans/", assessments.PlanList.as_view(), name="plans"),
    path(PLAN, assessments.PlanDetail.as_view(), name="plan"),
    path(PLAN + "actions/", assessments.PlanActions.as_view(), name="plan-actions"),
    path(PLAN + "actions/<int:action>/", assessments.PlanAction.as_view(), name="plan-action"),
    path(PLAN + "close/", assessments.PlanClose.as_view(), name="plan-close"),
    path(PERSON + "export/", privacy.PersonExport.as_view(), name="person-export"),
    path(ORG + "audit-log/", auditlog.AuditEventList.as_view(), name="audit-log"),
    path(MEMBERS, members.MemberList.as_view(), name="members"),
    path(MEMBERS + "<int:pk>/", members.MemberDetail.as_view(), name="member"),
    path(MEMBERS + "invitations/", members.InvitationList.as_view(), name="invitations"),
    path(MEMBERS + "invitations/<int:pk>/", members.InvitationDetail.as_view(), name="invitation"),
]
