"""URLs of the readiness audit pages, under /o/<org>/audits/ (and /r/<token>/ for links)."""

from __future__ import annotations

from django.urls import path

from kamfit.audits import exchange_views, views

app_name = "audits"

urlpatterns = [
    path("", views.audit_list, name="list"),
    path("new/", views.audit_new, name="new"),
    path("<int:pk>/", views.audit_detail, name="detail"),
    path("<int:pk>/invite/", views.invite, name="invite"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/repeat/", views.repeat, name="repeat"),
    path("<int:pk>/results/", views.results, name="results"),
    path("<int:pk>/respond/", views.respond, name="respond"),
    path("<int:pk>/export/<slug:what>.<slug:fmt>", exchange_views.export, name="export"),
    path("<int:pk>/import/", exchange_views.import_answers, name="import"),
]
