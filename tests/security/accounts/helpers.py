"""Shared helpers of the account security tests: enrolled users and TOTP codes."""

from __future__ import annotations

import time
from typing import cast

from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kamfit.accounts.mfa import new_recovery_codes
from kamfit.auditlog.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

__all__ = ["PASSWORD", "code_at", "enrol", "events", "login", "make_user"]


def make_user(username: str, **kwargs: object) -> User:
    return cast(User, UserFactory(username=username, **kwargs))


def enrol(user: User) -> tuple[TOTPDevice, list[str]]:
    """Give ``user`` a confirmed authenticator app and recovery codes."""
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True, tolerance=1)
    return device, new_recovery_codes(user)


def code_at(device: TOTPDevice, *, steps: int = 0, now: float | None = None) -> str:
    """The code the app shows ``steps`` 30-second steps from now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = (time.time() if now is None else now) + steps * device.step
    return f"{totp.token():06d}"


def login(client: Client, username: str, password: str = PASSWORD, ip: str = "127.0.0.1") -> int:
    """Post the login form from address ``ip``; return the status code."""
    data = {"username": username, "password": password}
    response = client.post("/login/", data, REMOTE_ADDR=ip)
    return response.status_code


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))
