"""Template tags for readiness scores (0–100)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


def _band(value: float) -> str:
    return "poor" if value < 40 else ("fair" if value < 70 else "good")


@register.simple_tag
def score_bar(value: float | None) -> SafeString:
    """Show a 0–100 readiness score as a number and a bar; "—" when nobody scored it."""
    if value is None:
        return format_html('<span class="muted" title="{}">—</span>', "no Poor/Fair/Good answer")
    return format_html(
        '<span class="score"><span class="bar {} w{}"></span></span> {}',
        _band(value),
        max(0, min(100, round(value))),  # a width class, w0 … w100 in kamfit.css
        round(value),
    )


@register.filter
def signed(value: float | None) -> str:
    """Show a change in points with its sign."""
    if value is None:
        return ""
    return f"{value:+.0f}"
