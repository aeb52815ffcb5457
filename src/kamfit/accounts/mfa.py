"""Two-factor authentication (TOTP, RFC 6238) and recovery codes.

TOTP devices are django-otp's: a code is accepted only within the current 30-second
step plus or minus one (``tolerance = 1``) and only once (django-otp remembers the last
step used and refuses that step and any earlier one). Recovery codes are stored hashed
with Django's password hashers; each works once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import segno
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from kamfit.accounts.audit import record
from kamfit.accounts.models import RecoveryCode, RecoveryCodeDevice
from kamfit.accounts.sessions import end_sessions
from kamfit.orgs.models import Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest

__all__ = [
    "MFA_ROLES",
    "RECOVERY_CODE_COUNT",
    "Enrolment",
    "confirm_enrolment",
    "disable_mfa",
    "has_mfa",
    "new_recovery_codes",
    "qr_code",
    "requires_mfa",
    "session_has_mfa",
    "start_enrolment",
    "verify_code",
]

# Roles that see personal data of others: two-factor authentication is mandatory for them.
MFA_ROLES = frozenset({Role.OWNER, Role.HR, Role.DIRECTOR, Role.CONSULTANT})
RECOVERY_CODE_COUNT = 10
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: codes are typed by hand
DEVICE_NAME = "Authenticator app"
ENROLLED_KEY = "kamfit_mfa_enrolled"


@dataclass(frozen=True)
class Enrolment:
    """An unconfirmed TOTP device, with what the enrolment page shows."""

    device: TOTPDevice
    secret: str  # base32, grouped by four for typing
    uri: str  # otpauth:// for the QR code


def requires_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Say whether the user must use two-factor authentication (staff, or a role in MFA_ROLES)."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return True
    return Membership.objects.filter(user_id=user.pk, role__in=MFA_ROLES).exists()


def has_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Say whether the user has a confirmed authenticator app."""
    if not user.is_authenticated:
        return False
    return bool(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists())


def session_has_mfa(request: HttpRequest) -> bool:
    """Say whether the signed-in user has an authenticator app, remembered in the session.

    Kept in the session so that pages do not pay a query for it on every request; it is
    set at login and whenever this session enrols or disables the app (enrolling ends the
    user's other sessions, so none keeps a stale answer).
    """
    enrolled = request.session.get(ENROLLED_KEY)
    if enrolled is None:
        enrolled = has_mfa(request.user)
        request.session[ENROLLED_KEY] = enrolled
    return bool(enrolled)


PENDING_KEY = "kamfit_mfa_pending"  # the session key holding the secret being enrolled


def start_enrolment(user: AbstractBaseUser, session: SessionBase) -> Enrolment:
    """Return the pending device, with a fresh 160-bit secret the first time.

    Nothing is stored in the database until the first code confirms it (a GET changes
    nothing, RELIABILITY A12): the secret waits in the user's own session.
    """
    key = session.get(PENDING_KEY)
    if not isinstance(key, str):
        key = random_hex(20)
        session[PENDING_KEY] = key
    device = TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=False, tolerance=1, step=30)
    raw = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    secret = " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    return Enrolment(device=device, secret=secret, uri=device.config_url)


@dataclass(frozen=True)
class QrCode:
    """A QR code as one SVG path: the template draws it, so no markup is marked safe."""

    size: int  # modules per side, quiet zone included
    path: str  # SVG path data: one unit square per dark module


def qr_code(uri: str, border: int = 4) -> QrCode:
    """Encode ``uri`` as a QR code drawn inline in the page (no outside service, no script)."""
    qr = segno.make(uri, error="m")
    squares = [
        f"M{x + border} {y + border}h1v1h-1z"
        for y, row in enumerate(qr.matrix)
        for x, dark in enumerate(row)
        if dark
    ]
    return QrCode(size=len(qr.matrix) + 2 * border, path="".join(squares))


@transaction.atomic
def confirm_enrolment(
    *, request: HttpRequest, user: AbstractBaseUser, code: str
) -> list[str] | None:
    """Confirm the pending device with a first code; return new recovery codes, or None.

    Confirming marks this session verified and replaces any earlier recovery codes.
    """
    key = request.session.get(PENDING_KEY)
    if not isinstance(key, str):
        return None
    # The pending device is stored unconfirmed on the first attempt, so django-otp's
    # throttling (a growing wait after each wrong code) counts across attempts.
    device, _ = TOTPDevice.objects.get_or_create(
        user_id=user.pk,
        confirmed=False,
        key=key,
        defaults={"name": DEVICE_NAME, "tolerance": 1, "step": 30},
    )
    if not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    request.session.pop(PENDING_KEY, None)
    codes = new_recovery_codes(user)
    otp_login(request, device)
    request.session[ENROLLED_KEY] = True
    end_sessions(user, keep=request.session.session_key)
    record("mfa.enabled", request=request, actor=user, data={"device_id": device.pk})
    return codes


def new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the user's recovery codes with ten fresh ones; return them (shown once)."""
    RecoveryCodeDevice.objects.filter(user_id=user.pk).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes: list[str] = []
    lookups: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        lookup = _random(4)
        if lookup in lookups:
            continue
        lookups.add(lookup)
        secret = _random(8)
        RecoveryCode.objects.create(device=device, lookup=lookup, secret_hash=make_password(secret))
        codes.append(f"{lookup}-{secret}")
    return codes


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def verify_code(*, request: HttpRequest, user: AbstractBaseUser, code: str) -> bool:
    """Verify this session with a TOTP code or a recovery code; say whether it worked."""
    code = code.strip().replace(" ", "")
    if "-" in code:
        device: TOTPDevice | RecoveryCodeDevice | None = RecoveryCodeDevice.objects.filter(
            user_id=user.pk, confirmed=True
        ).first()
    else:
        device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()
    if device is None or not device.verify_token(code):
        record("auth.mfa_failed", request=request, actor=user)
        return False
    otp_login(request, device)
    if isinstance(device, RecoveryCodeDevice):
        left = device.codes.filter(used_at__isnull=True).count()
        record("mfa.recovery_used", request=request, actor=user, data={"codes_left": left})
    return True


@transaction.atomic
def disable_mfa(*, request: HttpRequest | None, user: AbstractBaseUser) -> int:
    """Remove the user's authenticator app and recovery codes; return how many were removed."""
    removed, _ = TOTPDevice.objects.filter(user_id=user.pk).delete()
    removed_codes, _ = RecoveryCodeDevice.objects.filter(user_id=user.pk).delete()
    if request is not None:
        request.session[ENROLLED_KEY] = False
    if removed:
        record("mfa.disabled", request=request, actor=user)
    return int(removed) + int(removed_codes)
