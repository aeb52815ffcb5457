"""URLs of the people and assessment pages, under /o/<org>/."""

from __future__ import annotations

from django.urls import path

from kamfit.assessments import cycle_views, form_views, views

app_name = "assessments"

urlpatterns = [
    path("people/", views.people_list, name="people"),
    path("people/new/", views.person_edit, name="person_new"),
    path("people/import/", views.people_import, name="people_import"),
    path("people/export.csv", views.people_export, name="people_export"),
    path("people/template-<slug:name>.csv", views.people_template, name="people_template"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/quick-check/", views.quick_check, name="quick_check"),
    path("me/", views.me, name="me"),
    path("assessments/", cycle_views.index, name="index"),
    path("assessments/forms/", cycle_views.index, name="forms"),
    path("assessments/new/", cycle_views.cycle_new, name="cycle_new"),
    path("assessments/<int:pk>/", cycle_views.cycle_detail, name="cycle"),
    path("assessments/<int:pk>/change/", cycle_views.cycle_action, name="cycle_action"),
    path("assessments/<int:pk>/team/", cycle_views.team, name="team"),
    path(
        "assessments/<int:pk>/results.<slug:fmt_name>",
        cycle_views.team_export,
        name="team_export",
    ),
    path("assessments/<int:pk>/people/<int:person>/", cycle_views.person_result, name="result"),
    path("assessments/rate/<int:pk>/", form_views.rate, name="rate"),
]
