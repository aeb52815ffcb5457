"""``kamfit backup`` and ``kamfit restore``: the whole database to one file and back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kamfit.terminal import err, fail, setup_django
from kamfit.terminal import out as stdout

if TYPE_CHECKING:
    from kamfit.ops.backup import Manifest

__all__ = ["backup", "restore"]


def backup(
    out: Annotated[
        Path,
        typer.Option("--out", help="The backup file to write (a zip; replaced when complete)."),
    ],
) -> None:
    """Write the whole database to one file, from one consistent moment, while kamfit runs."""
    setup_django()
    from kamfit.ops.backup import BackupError, write_backup  # noqa: PLC0415

    if out.is_dir():
        raise fail(f"--out {out}: a directory; name a file", 2)
    if not out.parent.is_dir():
        raise fail(f"--out {out}: no such directory {out.parent}", 2)
    start = time.perf_counter()
    try:
        manifest = write_backup(out)
    except BackupError as exc:
        raise fail(str(exc), 2) from exc
    _report(manifest, f"backed up to {out}", time.perf_counter() - start)


def restore(
    file: Annotated[Path, typer.Argument(help="A file written by kamfit backup.")],
) -> None:
    """Restore a backup into an empty database of the same schema version."""
    setup_django()
    from kamfit.ops.backup import BackupError, restore_backup  # noqa: PLC0415

    start = time.perf_counter()
    try:
        manifest = restore_backup(file)
    except BackupError as exc:
        raise fail(str(exc), 2) from exc
    _report(manifest, f"restored {file} (taken {manifest.created_at})", time.perf_counter() - start)


def _report(manifest: Manifest, done: str, seconds: float) -> None:
    table = Table("table", "rows", "sha256")
    for dump in manifest.tables:
        if dump.rows:
            table.add_row(escape(dump.table), f"{dump.rows:,}", dump.sha256[:12])
    empty = sum(1 for dump in manifest.tables if not dump.rows)
    stdout.print(table)
    err.print(
        f"{escape(done)}: {len(manifest.tables)} tables ({empty} empty), "
        f"{manifest.rows:,} rows, {manifest.vendor}, {seconds:.1f} s"
    )
