"""Session bookkeeping: who is signed in where, expiry, and ending sessions at once.

Django's session table cannot be searched by user, so each login records a
``UserSession`` row. ``end_sessions`` deletes a user's sessions from the session store
and those rows: the next request with the old cookie is anonymous.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.utils import timezone

from kamfit.accounts.models import UserSession

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest

__all__ = [
    "LOGIN_AT",
    "SEEN_AT",
    "TOUCH_EVERY",
    "end_sessions",
    "expiry_reason",
    "record_login",
    "rehash_other_sessions",
    "touch",
]

LOGIN_AT = "kamfit_login_at"  # epoch seconds of the password login
SEEN_AT = "kamfit_seen_at"  # epoch seconds of the last request
# Writing the session on every request would make each page view a write: a minute will do.
TOUCH_EVERY = 60


def _store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def record_login(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Stamp the new session with its login time and record it against the user."""
    now = timezone.now()
    request.session[LOGIN_AT] = int(now.timestamp())
    request.session[SEEN_AT] = int(now.timestamp())
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user_id": user.pk,
            "created": now,
            "last_seen": now,
            "ip": request.META.get("REMOTE_ADDR") or None,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


def expiry_reason(session: SessionBase, now: float) -> str | None:
    """Say why the session has expired (``idle`` or ``absolute``), or None while it is live."""
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT, login_at)
    if login_at is None or seen_at is None:
        return None
    if now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT:
        return "absolute"
    if now - seen_at > settings.SESSION_IDLE_TIMEOUT:
        return "idle"
    return None


def touch(request: HttpRequest, now: float) -> None:
    """Note activity on the session, at most once a minute."""
    session = request.session
    if LOGIN_AT not in session:  # a session that predates this bookkeeping starts now
        session[LOGIN_AT] = int(now)
    seen_at = session.get(SEEN_AT, 0)
    if now - seen_at < TOUCH_EVERY:
        return
    session[SEEN_AT] = int(now)
    if session.session_key:
        UserSession.objects.filter(session_key=session.session_key).update(last_seen=timezone.now())


def end_sessions(user: AbstractBaseUser, *, keep: str | None = None) -> int:
    """Delete every session of ``user`` except the one keyed ``keep``; return how many ended."""
    rows = UserSession.objects.filter(user_id=user.pk)
    if keep is not None:
        rows = rows.exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        _store(key).delete(key)
    rows.delete()
    return len(keys)


def rehash_other_sessions(user: AbstractBaseUser, *, keep: str | None) -> int:
    """Keep the user's other sessions valid after a password change; return how many.

    Django ties each session to a hash of the password, so a change would end them all;
    a user who chooses to stay signed in elsewhere gets the new hash written into them.
    """
    count = 0
    new_hash = user.get_session_auth_hash()
    for key in UserSession.objects.filter(user_id=user.pk).values_list("session_key", flat=True):
        if key == keep:
            continue
        store = _store(key)
        if not store.exists(key):
            continue
        store[HASH_SESSION_KEY] = new_hash
        store.save()
        count += 1
    return count
