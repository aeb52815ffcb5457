"""Version tags for edit pages: refuse a save based on a page someone changed meanwhile (A25).

An edit page puts the record's tag (a SHA-256 over its editable fields, as the page
shows them) in a hidden ``version`` field. On save, the view locks the record's row,
computes the tag again inside the write's transaction and calls :func:`check_version`:
a different tag means someone saved in between, and the save is refused with
:class:`~kamfit.domain.errors.StaleVersion` rather than silently overwriting their
change. The API does the same with ETag and If-Match (:mod:`kamfit.api.concurrency`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from django.db import models

from kamfit.domain.errors import StaleVersion

__all__ = ["CHANGED", "GARBLED", "check_version", "record_tag", "row_values"]

CHANGED = (
    "Someone changed this since you opened it: your change was not saved. "
    "The form shows what you typed; check the record, then save again."
)
GARBLED = (
    "version: this form's version is not one kamfit wrote (a 64-character tag): "
    "your change was not saved. Open the page again, then save."
)
_TAG = re.compile(r"[0-9a-f]{64}")


def row_values(row: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The row's concrete field values by column (foreign keys as ids)."""
    return {
        f.attname: getattr(row, f.attname)
        for f in row._meta.concrete_fields
        if f.attname not in exclude
    }


def record_tag(*parts: object) -> str:
    """A SHA-256 over the parts: dataclasses, dicts, rows' values, text, numbers, dates."""

    def plain(value: object) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
        if isinstance(value, models.Model):
            return row_values(value)
        return value

    text = json.dumps([plain(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_version(posted: str | None, current: str) -> None:
    """Refuse the save if the form named a version that is no longer the record's.

    A form without a version (an old page, a script) saves as before, as an API write
    without If-Match does; a version that is not a tag at all is refused with its own
    message, so a mangled form is not mistaken for someone else's change.
    """
    if posted and not _TAG.fullmatch(posted):
        raise StaleVersion(GARBLED)
    if posted and posted != current:
        raise StaleVersion(CHANGED)
