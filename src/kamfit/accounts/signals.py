"""Receivers: record sessions and sign-in events, and end sessions when access ends.

Sessions end at once when a user is deactivated (``is_active`` set False, from any
path: admin, CLI, shell) or loses a membership of an organisation.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from kamfit.accounts import mfa
from kamfit.accounts.audit import record
from kamfit.accounts.models import UserSession
from kamfit.accounts.sessions import end_sessions, record_login
from kamfit.orgs.models import Membership

User = get_user_model()


@receiver(user_logged_in, dispatch_uid="accounts_logged_in")
def on_login(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Record the new session and the event."""
    if request is None or not hasattr(request, "session"):
        return
    record_login(request, user)
    request.session[mfa.ENROLLED_KEY] = mfa.has_mfa(user)
    record("auth.login", request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="accounts_login_failed")
def on_login_failed(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Record a failed password check: the account's id if it exists, never the name typed."""
    username = credentials.get("username")
    user = User.objects.filter(username=username).first() if isinstance(username, str) else None
    record(
        "auth.login_failed",
        request=request,
        data={"user_id": user.pk if user else None, "known_user": user is not None},
    )


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def on_locked_out(
    sender: object, request: HttpRequest, username: str | None, **kwargs: Any
) -> None:
    """Record that django-axes refused an attempt because of the lockout."""
    user = User.objects.filter(username=username).first() if username else None
    record("auth.locked_out", request=request, data={"user_id": user.pk if user else None})


@receiver(user_logged_out, dispatch_uid="accounts_logged_out")
def on_logout(sender: object, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Forget the session row and record the event (the session itself is flushed by Django)."""
    key = request.session.session_key if hasattr(request, "session") else None
    if key:
        UserSession.objects.filter(session_key=key).delete()
    if user is not None:
        record("auth.logout", request=request, actor=user)


@receiver(pre_save, sender=User, dispatch_uid="accounts_user_pre_save")
def remember_active(sender: type[Any], instance: Any, **kwargs: Any) -> None:
    """Keep the stored ``is_active`` so post_save can tell a deactivation from a plain save."""
    was = None
    fields = kwargs.get("update_fields")
    if fields is not None and "is_active" not in fields:
        instance._accounts_was_active = None
        return
    if instance.pk is not None and not kwargs.get("raw"):
        was = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    instance._accounts_was_active = was


@receiver(post_save, sender=User, dispatch_uid="accounts_user_post_save")
def on_user_saved(sender: type[Any], instance: Any, created: bool, **kwargs: Any) -> None:
    """End every session of a user who has just been deactivated."""
    if created or kwargs.get("raw"):
        return
    if getattr(instance, "_accounts_was_active", None) and not instance.is_active:
        ended = end_sessions(instance)
        record(
            "user.deactivated", target=instance, data={"user_id": instance.pk, "sessions": ended}
        )


@receiver(post_delete, sender=Membership, dispatch_uid="accounts_membership_removed")
def on_membership_removed(sender: type[Membership], instance: Membership, **kwargs: Any) -> None:
    """End every session of a user removed from an organisation: their pages change at once."""
    end_sessions(User(pk=instance.user_id))
