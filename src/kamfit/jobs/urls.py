"""URLs of the background job pages, under /o/<org>/jobs/."""

from __future__ import annotations

from django.urls import path

from kamfit.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/download/", views.job_download, name="download"),
]
