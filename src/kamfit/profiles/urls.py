"""URLs of the role profile pages, under /o/<org>/profiles/."""

from __future__ import annotations

from django.urls import path

from kamfit.profiles import exercise_views, views

app_name = "profiles"

urlpatterns = [
    path("", views.profile_list, name="list"),
    path("new/", views.profile_new, name="new"),
    path("compare/", views.compare, name="compare"),
    path("<int:pk>/", views.profile_latest, name="profile"),
    path("<int:pk>/new-draft/", views.new_draft, name="new_draft"),
    path("<int:pk>/v<int:number>/", views.version_page, name="version"),
    path("<int:pk>/v<int:number>/edit/", views.version_edit, name="edit"),
    path("<int:pk>/v<int:number>/publish/", views.version_publish, name="publish"),
    path("<int:pk>/v<int:number>/job-description/", views.job_description, name="jd"),
    path(
        "<int:pk>/v<int:number>/job-description.<slug:fmt>",
        views.job_description,
        name="jd_file",
    ),
    path("<int:pk>/v<int:number>/weigh/", exercise_views.exercise_new, name="exercise_new"),
    path("exercises/<int:pk>/", exercise_views.exercise_detail, name="exercise"),
    path("exercises/<int:pk>/invite/", exercise_views.exercise_invite, name="exercise_invite"),
    path("exercises/<int:pk>/close/", exercise_views.exercise_close, name="exercise_close"),
    path("exercises/<int:pk>/results/", exercise_views.exercise_results, name="results"),
    path("exercises/<int:pk>/adopt/", exercise_views.exercise_adopt, name="adopt"),
    path("exercises/<int:pk>/answer/", exercise_views.exercise_answer, name="answer"),
]
