"""URLs of the framework pages, under /o/<org>/frameworks/."""

from __future__ import annotations

from django.urls import path

from kamfit.frameworks import views

app_name = "frameworks"

V = "<int:pk>/v/<int:number>/"

urlpatterns = [
    path("", views.framework_list, name="list"),
    path("new/", views.create_blank, name="create_blank"),
    path("import/", views.import_file, name="import"),
    path("<int:pk>/", views.framework_detail, name="detail"),
    path("<int:pk>/copy/", views.copy, name="copy"),
    path("<int:pk>/new-draft/", views.new_draft, name="new_draft"),
    path(V, views.version_detail, name="version"),
    path(V + "elements/<slug:key>/", views.element_detail, name="element"),
    path(V + "competencies/", views.competency_list, name="competencies"),
    path(V + "competencies/<slug:key>/", views.competency_detail, name="competency"),
    path(V + "matrix/", views.matrix, name="matrix"),
    path(V + "guidance/", views.guidance, name="guidance"),
    path(V + "scale/", views.scale, name="scale"),
    path(V + "diff/", views.version_diff, name="diff"),
    path(V + "export/<slug:fmt>/", views.export, name="export"),
    path(V + "publish/", views.publish, name="publish"),
    path(V + "edit/", views.edit, name="edit"),
]
