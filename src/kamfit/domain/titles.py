"""Titles that kamfit derives from a user's title, kept within the column's length.

"Acme plan (repeat)" is built from a title that may already use the whole column: on
PostgreSQL a title one character too long is a database error (SQLite would store it),
so the user's part is shortened with an ellipsis and the added part is kept whole.
"""

from __future__ import annotations

__all__ = ["derived_title"]


def derived_title(base: str, suffix: str, limit: int) -> str:
    """``base + suffix`` in at most ``limit`` characters, shortening ``base`` if needed."""
    if len(base) + len(suffix) <= limit:
        return base + suffix
    room = limit - len(suffix) - 1  # one for the ellipsis
    if room < 1:
        return (base + suffix)[:limit]
    return base[:room].rstrip() + "…" + suffix
