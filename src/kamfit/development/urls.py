"""URLs of the development plan pages, under /o/<org>/development/."""

from __future__ import annotations

from django.urls import path

from kamfit.development import views

app_name = "development"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_new, name="new"),
    path("<int:pk>/", views.plan_detail, name="plan"),
    path("<int:pk>/change/", views.plan_action, name="plan_action"),
]
