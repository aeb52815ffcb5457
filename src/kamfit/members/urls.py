"""URLs of the members pages, under /o/<org>/members/."""

from __future__ import annotations

from django.urls import path

from kamfit.members import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="list"),
    path("invite/", views.invite, name="invite"),
    path("<int:pk>/role/", views.change_role, name="role"),
    path("<int:pk>/remove/", views.remove, name="remove"),
    path("invitations/<int:pk>/revoke/", views.revoke_invitation, name="invitation-revoke"),
    path("invitations/<int:pk>/resend/", views.resend_invitation, name="invitation-resend"),
]
