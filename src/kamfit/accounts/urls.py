"""Account pages, /account/."""

from __future__ import annotations

from django.urls import path

from kamfit.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("mfa/disable/", views.mfa_disable, name="mfa_disable"),
    path("mfa/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("email/", views.email_change, name="email_change"),
    path("sessions/end-others/", views.end_other_sessions, name="end_other_sessions"),
    path("reset/", views.password_reset, name="reset"),
    path("reset/sent/", views.password_reset_sent, name="reset_sent"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="reset_confirm",
    ),
    path("reset/done/", views.password_reset_complete, name="reset_complete"),
]
