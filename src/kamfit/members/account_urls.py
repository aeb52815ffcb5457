"""URLs of the personal API token pages, under /account/tokens/."""

from __future__ import annotations

from django.urls import path

from kamfit.members import views

app_name = "tokens"

urlpatterns = [
    path("", views.token_list, name="list"),
    path("<int:pk>/revoke/", views.token_revoke, name="revoke"),
]
