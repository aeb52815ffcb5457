"""Who is signed in where, and the hashed recovery codes of two-factor authentication.

A ``UserSession`` row lets kamfit end every session of a user at once (deactivation,
removal from an organisation, "sign out my other sessions"): Django's session table
cannot be searched by user. Recovery codes are a django-otp device, so that signing in
with one marks the session verified exactly as a TOTP code does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import models, transaction
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin


class UserSession(models.Model):
    """One signed-in browser session of a user, recorded at login."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kamfit_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"session of user {self.user_id} since {self.created:%Y-%m-%d %H:%M}"


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]
    """The set of single-use recovery codes of one user (one device per user)."""

    class Meta:
        verbose_name = "recovery code set"

    def verify_token(self, token: str) -> bool:
        """Accept an unused code once: ``LOOKUP-SECRET``; the secret is checked by hash."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        lookup, _, secret = token.strip().lower().partition("-")
        with transaction.atomic():
            code = (
                self.codes.select_for_update().filter(lookup=lookup, used_at__isnull=True).first()
            )
            if code is None or not check_password(secret, code.secret_hash):
                self.throttle_increment(commit=True)
                return False
            code.used_at = timezone.now()
            code.save(update_fields=["used_at"])
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        return True

    def get_throttle_factor(self) -> int:
        """Double the wait after each wrong code, from one second (django-otp's scheme)."""
        return 1


class RecoveryCode(models.Model):
    """One recovery code: a public lookup part and the hash of its secret part."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    lookup = models.CharField(max_length=8)
    secret_hash = models.CharField(max_length=200)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "lookup"], name="recovery_lookup_per_device")
        ]

    def __str__(self) -> str:
        return f"recovery code {self.lookup}"
