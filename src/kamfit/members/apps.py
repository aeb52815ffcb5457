"""Organisation members, invitations and API tokens."""

from __future__ import annotations

from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "kamfit.members"
    label = "members"
    verbose_name = "Members, invitations and API tokens"
