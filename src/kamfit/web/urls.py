"""Root URLs."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kamfit.audits import views as audit_views
from kamfit.members import views as member_views
from kamfit.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),  # then two-factor authentication: kamfit.accounts.middleware
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("o/<slug:org>/frameworks/", include("kamfit.frameworks.urls")),
    path("o/<slug:org>/audits/", include("kamfit.audits.urls")),
    path("o/<slug:org>/profiles/", include("kamfit.profiles.urls")),
    path("o/<slug:org>/development/", include("kamfit.development.urls")),
    path("o/<slug:org>/jobs/", include("kamfit.jobs.urls")),
    path("o/<slug:org>/privacy/", include("kamfit.privacy.urls")),
    path("o/<slug:org>/members/", include("kamfit.members.urls")),
    path("o/<slug:org>/audit-log/", include("kamfit.auditlog.urls")),
    path("o/<slug:org>/", include("kamfit.assessments.urls")),
    path("r/<str:token>/", audit_views.respond_link, name="audit_link"),
    path("invite/<str:token>/", member_views.accept, name="invitation"),
    path("account/tokens/", include("kamfit.members.account_urls")),
    path("account/", include("kamfit.accounts.urls")),
    path("api/v1/", include("kamfit.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "kamfit.web.errors.bad_request"
handler403 = "kamfit.web.errors.permission_denied"
handler404 = "kamfit.web.errors.not_found"
handler500 = "kamfit.web.errors.server_error"
