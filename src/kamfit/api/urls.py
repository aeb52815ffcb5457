"""API routes, /api/v1/."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kamfit.api import audits, profiles, views

app_name = "api"

ORG = "organisations/<slug:org>/"
FW = ORG + "frameworks/<int:pk>/"
V = FW + "versions/<int:number>/"
AUDIT = ORG + "audits/<int:pk>/"
PROFILE = ORG + "profiles/<int:pk>/"
PV = PROFILE + "versions/<int:number>/"
EXERCISE = ORG + "weighting-exercises/<int:pk>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
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
]
