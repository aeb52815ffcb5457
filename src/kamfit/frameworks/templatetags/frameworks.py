"""Small template tags for the framework pages, rendered in Python for speed.

A page may show hundreds of rows; an ``{% include %}`` per row costs more than
the rest of the page together, so the per-row pieces are built here.
"""

from __future__ import annotations

from typing import cast

from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

BADGES = {"C": ("C", "C", "Competency"), "A": ("A", "A", "Attribute")}
BOTH = ("CA", "C-A", "Competency/attribute")


@register.simple_tag
def kind_badge(kind: str) -> SafeString:
    """Show a C / A / C-A badge for a kind."""
    css, text, title = BADGES.get(kind, BOTH)
    return format_html('<span class="badge k-{}" title="{}">{}</span>', css, title, text)


@register.simple_tag(takes_context=True)
def row_tools(context: template.Context, kind: str, row: object) -> SafeString:
    """Show move-up, move-down and remove buttons for a draft's row, if editable."""
    if not context.get("editable"):
        return SafeString("")
    request = context["request"]
    common = cast(tuple[str, str, str] | None, context.render_context.get("row_tools"))
    if common is None:  # once per page: the same form target, token and return path
        version = context["version"]
        common = (
            reverse(
                "frameworks:edit", args=[context["org"].slug, version.framework_id, version.number]
            ),
            get_token(request),
            request.get_full_path(),
        )
        context.render_context["row_tools"] = common
    url, token, here = common
    pk = getattr(row, "pk", "")
    return format_html(
        '<span class="row-tools"><form class="inline" method="post" action="{url}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        '<input type="hidden" name="action" value="move-{kind}">'
        '<input type="hidden" name="pk" value="{pk}">'
        '<input type="hidden" name="next" value="{here}">'
        '<button class="tiny" name="direction" value="up" title="Move up" '
        'aria-label="Move up">↑</button>'
        '<button class="tiny" name="direction" value="down" title="Move down" '
        'aria-label="Move down">↓</button></form>'
        '<form class="inline" method="post" action="{url}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
        '<input type="hidden" name="action" value="delete-{kind}">'
        '<input type="hidden" name="pk" value="{pk}">'
        '<input type="hidden" name="next" value="{here}">'
        '<button class="tiny danger" title="Remove" aria-label="Remove {label}">✕</button>'
        "</form></span>",
        url=url,
        token=token,
        kind=kind,
        pk=pk,
        here=here,
        label=str(row),
    )
