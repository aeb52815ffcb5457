"""URL of the audit trail page, under /o/<org>/audit-log/."""

from __future__ import annotations

from django.urls import path

from kamfit.auditlog import views

app_name = "auditlog"

urlpatterns = [path("", views.event_list, name="list")]
