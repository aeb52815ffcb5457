"""API routes, /api/v1/."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kamfit.api import audits, views

app_name = "api"

ORG = "organisations/<slug:org>/"
FW = ORG + "frameworks/<int:pk>/"
V = FW + "versions/<int:number>/"
AUDIT = ORG + "audits/<int:pk>/"

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
]
