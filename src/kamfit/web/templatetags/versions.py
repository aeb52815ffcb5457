"""``record_version``: the hidden ``version`` field of an edit form, in a template (A25).

``{{ row|record_version }}`` is :func:`kamfit.versions.record_tag` of what the form
shows: a row, or a value such as a member's role. The view that saves the form computes
the same tag from the row it has locked and refuses the save if they differ.
"""

from __future__ import annotations

from django import template

from kamfit.versions import record_tag

register = template.Library()


@register.filter
def record_version(value: object) -> str:
    """The tag of a row or value, as :func:`~kamfit.versions.record_tag` computes it."""
    return record_tag(value)
