"""Privacy pages under /o/<org>/privacy/."""

from __future__ import annotations

from django.urls import path

from kamfit.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", views.settings_page, name="settings"),
    path("me/export.json", views.my_export, name="my_export"),
    path("people/<int:pk>/export.json", views.person_export, name="person_export"),
    path("erasures/", views.erasures, name="erasures"),
    path("erasures/request/<int:person>/", views.erasure_request, name="erasure_request"),
    path("erasures/<int:pk>/approve/", views.erasure_approve, name="erasure_approve"),
    path("erasures/<int:pk>/reject/", views.erasure_reject, name="erasure_reject"),
]
