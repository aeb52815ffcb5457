"""Filters for the role profile pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from kamfit.frameworks.templatetags.frameworks import kind_badge

register = template.Library()


@register.filter
def pct(value: object, digits: int = 1) -> str:
    """Show a percentage with ``digits`` decimals (``None`` as an en dash)."""
    if value is None or value == "":
        return "–"
    return f"{float(str(value)):.{int(digits)}f}%"


@register.filter
def signed(value: object) -> str:
    """Show a difference in percentage points with its sign."""
    number = float(str(value))
    return "±0.0" if abs(number) < 0.05 else f"{number:+.1f}"


@register.filter
def wordings_of(detail: object, competency_id: int) -> list[str]:
    """The paper's wordings citing a competency at the elements in scope."""
    return list(detail.wordings(competency_id))  # type: ignore[attr-defined]


@register.filter
def level_of(detail: object, number: int) -> object:
    """The scale level with this number, or None."""
    return detail.level(number)  # type: ignore[attr-defined]


@register.filter
def get_word(words: dict[int, str], n: int) -> str:
    """Look up Saaty's word for an intensity."""
    return words.get(n, "")


@register.filter
def pvalue(value: object) -> str:
    """Show a p-value as APA style does: three decimals, or ``< .001``."""
    number = float(str(value))
    return "< 0.001" if number < 0.001 else f"= {number:.3f}"


@register.simple_tag(takes_context=True)
def requirement_row(context: template.Context, r: Any) -> SafeString:
    """One row of the requirements table, built in Python: a profile may have hundreds."""
    detail, editable, scale = context["detail"], context["editable"], context["scale"]
    name = r.competency.name
    wordings = detail.wordings(r.competency_id)
    cells = [
        format_html(
            "<td><strong>{}</strong>{}{}</td><td>{}</td>",
            name,
            SafeString(' <span class="muted">(added)</span>') if r.origin == "added" else "",
            format_html('<br><small class="muted"><em>{}</em></small>', " · ".join(wordings))
            if wordings
            else "",
            kind_badge(r.competency.kind),
        )
    ]
    key = r.competency.key
    if editable:
        options = format_html_join(
            "",
            '<option value="{}"{}>{} — {}</option>',
            (
                (
                    lvl.level,
                    " selected" if lvl.level == r.required_level else "",
                    lvl.level,
                    lvl.name,
                )
                for lvl in scale
            ),
        )
        cells.append(
            format_html(
                '<td><input type="hidden" name="key" value="{}"><select name="level-{}" '
                'aria-label="Required level of {}">{}</select></td>'
                '<td><input type="number" name="weight-{}" value="{}" min="0" max="100" '
                'step="0.01" class="w6em" aria-label="Weight of {} in percent"> %</td>'
                '<td><button class="tiny danger" form="remove-form" name="competency" '
                'value="{}" aria-label="Remove {}">Remove</button></td>',
                key,
                key,
                name,
                options,
                key,
                f"{r.weight:.2f}",
                name,
                key,
                name,
            )
        )
    else:
        level = detail.level(r.required_level)
        label = f"{r.required_level} — {level.name}" if level else str(r.required_level)
        cells.append(format_html("<td>{}</td><td>{}</td>", label, pct(r.weight)))
    return format_html("<tr>{}</tr>", SafeString("".join(cells)))
