"""Append to the audit trail: ``record()``, the hash chain and its verification.

``record()`` writes inside the caller's transaction: if the change it describes is
rolled back, so is its entry. An event about something that was refused and rolled
back (a rejected import) must therefore be recorded after the rollback, outside the
failed ``atomic()`` block.

``data`` holds ids, codes and counts only. ``record()`` refuses anything else: keys
must be short snake_case names, strings short lower-case codes (``[a-z0-9_.:/-]``, at
most 64 characters), so a name, an e-mail address, free text, a token or a note
cannot slip in by mistake.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from kamfit.auditlog import context
from kamfit.auditlog.models import AuditEvent, Via

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db import models

    from kamfit.orgs.models import Organisation

__all__ = [
    "GENESIS",
    "AuditDataRefused",
    "ChainBreak",
    "as_code",
    "canonical_json",
    "entry_hash",
    "record",
    "record_rate_limit_hit",
    "verify_chain",
]

Value = str | int | float | bool | None

GENESIS = "0" * 64
ACTION = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)+")
DATA_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
CODE = re.compile(r"[a-z0-9_.:/\-]{0,64}")
MAX_DATA_ITEMS = 20
# Any constant will do: one advisory lock for the whole chain.
PG_CHAIN_LOCK = 0x6B616D66  # "kamf"


class AuditDataRefused(ValueError):
    """A ``record()`` call that would put something other than codes in the log."""


def canonical_json(value: object) -> str:
    """Serialise with sorted keys and no spaces: the same text on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def as_code(text: str) -> str:
    """Turn a name the code chose (a URL name, a format) into a valid data code."""
    return re.sub(r"[^a-z0-9_.:/\-]", "_", text.lower())[:64]


#: What the hash covers: every column except the hashes themselves, in this order.
HASHED = (
    "seq",
    "at",
    "organisation_id",
    "actor_id",
    "via",
    "action",
    "object_type",
    "object_id",
    "request_id",
    "ip",
    "data",
)


def _hash_of(prev_hash: str, values: tuple[object, ...]) -> str:
    fields = dict(zip(HASHED, values, strict=True))
    at = fields["at"]
    if not isinstance(at, datetime):
        raise TypeError(f"audit entry time {at!r} is not a datetime")
    fields["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


def entry_hash(prev_hash: str, event: AuditEvent) -> str:
    """Return sha256(prev_hash || canonical_json(entry)) in hex."""
    return _hash_of(prev_hash, tuple(getattr(event, name) for name in HASHED))


def _clean_data(data: Mapping[str, Value] | None) -> dict[str, Value]:
    """Refuse anything in ``data`` that is not an id, a code, a count or a flag."""
    if not data:
        return {}
    if len(data) > MAX_DATA_ITEMS:
        raise AuditDataRefused(f"audit data: at most {MAX_DATA_ITEMS} items, got {len(data)}")
    clean: dict[str, Value] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not DATA_KEY.fullmatch(key):
            raise AuditDataRefused(f"audit data: key {key!r} is not a snake_case name")
        if isinstance(value, str) and not CODE.fullmatch(value):
            raise AuditDataRefused(
                f"audit data: {key} must be a code (lower-case letters, digits, _.:/-, "
                "at most 64 characters), not free text"
            )
        if isinstance(value, float) and not math.isfinite(value):  # no JSON form
            raise AuditDataRefused(f"audit data: {key} is not a finite number")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise AuditDataRefused(f"audit data: {key} must be a code, a number or a flag")
        clean[key] = value
    return clean


def _via(request: HttpRequest | None) -> str:
    """Say how the actor came in: a session, an API token, the CLI or the system."""
    if request is not None:
        return Via.TOKEN if getattr(request, "auth", None) is not None else Via.SESSION
    return context.current_via() or Via.SYSTEM


def _target(target: models.Model | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    return target._meta.label_lower, "" if target.pk is None else str(target.pk)


def _lock_chain() -> None:
    """Serialise appends so two writers never chain onto the same head.

    SQLite needs nothing: kamfit opens every transaction IMMEDIATE, which takes the
    database's single write lock. PostgreSQL takes a transaction-scoped advisory lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PG_CHAIN_LOCK])


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    organisation: Organisation | None = None,
    target: models.Model | None = None,
    data: Mapping[str, Value] | None = None,
    organisation_id: int | None = None,
    via: str | None = None,
) -> None:
    """Append one event to the audit trail, in the caller's transaction.

    ``request`` defaults to the request being answered (set by the middleware), for its
    id, IP, channel and user; ``actor`` defaults to that request's authenticated user.
    ``organisation_id`` may stand for ``organisation`` when only the id is at hand
    (saves a query); ``via`` overrides the channel (a background job says ``system``).
    """
    if not ACTION.fullmatch(action) or len(action) > 64:
        raise AuditDataRefused(f"audit action {action!r} is not a dotted code like 'auth.login'")
    clean = _clean_data(data)
    if via is not None and via not in Via.values:
        raise AuditDataRefused(f"audit via {via!r}: use one of {', '.join(Via.values)}")
    ctx = context.current()
    if request is None and ctx is not None:
        request = ctx.request
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    object_type, object_id = _target(target)
    event = AuditEvent(
        organisation_id=organisation.pk if organisation is not None else organisation_id,
        actor_id=actor.pk if actor is not None else None,
        via=via or _via(request),
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=context.request_id_of(request) if request is not None else "",
        ip=context.client_ip(request) if request is not None else "",
        data=clean,
    )
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        event.seq, event.prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS)
        event.at = timezone.now()  # under the lock: times rise with seq
        event.hash = entry_hash(event.prev_hash, event)
        event.save(force_insert=True)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first link that does not hold, and why."""

    seq: int
    reason: str


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Recompute the chain from the first entry; return (entries checked, first break).

    Rows are read as tuples, in chunks: no model instances, constant memory.
    """
    rows = (
        AuditEvent.objects.order_by("seq")
        .values_list(*HASHED, "prev_hash", "hash")
        .iterator(chunk_size=5000)
    )
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for *values, stored_prev, stored_hash in rows:
        seq = int(values[0])
        if seq != expected_seq:
            return checked, ChainBreak(seq, f"entry {expected_seq} is missing")
        if stored_prev != prev_hash:
            return checked, ChainBreak(seq, "prev_hash does not match the entry before")
        if _hash_of(prev_hash, tuple(values)) != stored_hash:
            return checked, ChainBreak(seq, "content does not match its hash")
        prev_hash, expected_seq, checked = stored_hash, expected_seq + 1, checked + 1
    return checked, None


def record_rate_limit_hit(request: object, view: object, *, scope: str | None = None) -> None:
    """Record a request refused by a rate limit (``ratelimit.hit``), API or page.

    The organisation is the one named in the URL, if the user belongs to it; the URL's
    name and the throttle's scope (``scope``, else the view's ``throttle_scope``, else
    ``user``) say what was limited, never the path or the query.
    """
    from kamfit.orgs.models import Organisation  # noqa: PLC0415 - orgs imports this app

    http = getattr(request, "_request", request)
    match = getattr(http, "resolver_match", None)
    slug = match.kwargs.get("org") if match is not None else None
    user = getattr(request, "user", None)
    organisation = (
        Organisation.objects.filter(slug=slug, memberships__user_id=user.pk).first()
        if isinstance(slug, str) and user is not None and user.is_authenticated
        else None
    )
    scope = scope or getattr(view, "throttle_scope", None) or "user"
    record(
        "ratelimit.hit",
        request=http if isinstance(http, HttpRequest) else None,
        organisation=organisation,
        data={
            "url_name": as_code(match.view_name if match is not None else ""),
            "scope": as_code(str(scope)),
        },
    )
