"""Django admin for operators: invitations and API tokens, read-only, never a secret."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kamfit.members.models import ApiToken, Invitation


class ReadOnly:
    """Rows change only through the services, so the audit log sees every change."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnly, admin.ModelAdmin[Invitation]):
    list_display = ["email", "organisation", "role", "sent_at", "expires_at", "accepted_at"]
    list_filter = ["role", "organisation"]
    search_fields = ["email", "organisation__name"]
    exclude = ["token_hash"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnly, admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "organisation", "prefix", "expires_at", "revoked_at"]
    list_filter = ["organisation"]
    search_fields = ["name", "user__username", "prefix"]
    exclude = ["secret_hash"]
