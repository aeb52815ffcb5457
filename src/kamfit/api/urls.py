"""API routes, /api/v1/."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kamfit.api import views

app_name = "api"

ORG = "organisations/<slug:org>/"
FW = ORG + "frameworks/<int:pk>/"
V = FW + "versions/<int:number>/"

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
]
