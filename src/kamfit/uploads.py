"""Take an uploaded file into an import safely, and record the imports that are refused.

Every import entry point (pages, API, CLI, background jobs) reads its file through
:func:`read_upload` or :func:`read_path`, which refuse a file over the size limit
(:func:`kamfit.spreadsheets.max_upload_bytes`) with :class:`~kamfit.spreadsheets.TooLarge`
before reading more than one byte past it, and wraps the import in :func:`rejections`,
which records ``import.rejected`` in the audit trail once the import's transaction has
rolled back (RELIABILITY A24, A29). The recorded data are counts and a kind code only:
never a file name, a cell or a problem's text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kamfit.auditlog.services import record
from kamfit.domain.errors import NotPermitted, ValidationError
from kamfit.spreadsheets import max_upload_bytes, reset_rows_read, rows_read, too_large

if TYPE_CHECKING:
    from pathlib import Path

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest

    from kamfit.orgs.models import Organisation

__all__ = ["read_path", "read_upload", "rejections"]


def read_upload(upload: UploadedFile) -> bytes:
    """Return an upload's bytes, or raise ``TooLarge`` if it is over the limit."""
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise too_large(limit)
    upload.seek(0)
    data = bytes(upload.read(limit + 1))
    if len(data) > limit:
        raise too_large(limit)
    return data


def read_path(path: Path) -> bytes:
    """Return a file's bytes, or raise ``TooLarge`` if it is over the limit (CLI imports)."""
    limit = max_upload_bytes()
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def _problem_count(exc: ValidationError | NotPermitted) -> int:
    return len(exc.problems) if isinstance(exc, ValidationError) else 1


@contextmanager
def rejections(
    kind: str,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    organisation: Organisation | None = None,
) -> Iterator[None]:
    """Record ``import.rejected`` (kind, rows read, problems) if the block refuses an import.

    Use it outside the import's ``transaction.atomic()``: the entry must survive the
    rollback of the import it describes. The error goes on to the caller unchanged.
    """
    reset_rows_read()
    try:
        yield
    except (ValidationError, NotPermitted) as exc:
        record(
            "import.rejected",
            request=request,
            actor=actor,
            organisation=organisation,
            data={"kind": kind, "rows": rows_read(), "problems": _problem_count(exc)},
        )
        raise
