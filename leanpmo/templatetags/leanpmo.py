"""Template filters of the Lean PMO pages."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from leanpmo import plan_text
from leanpmo.guardrails import Result, explain

register = template.Library()


@register.filter
def guardrail_sentence(result: Result, currency: str = "") -> str:
    """A guardrail check in one sentence: "Run is 55.5 % of the money; the limits are …"."""
    return explain(result, currency=currency)


@register.filter
def guardrail_would(result: Result, currency: str = "") -> str:
    """What a proposed change would make a guardrail read: "Run would be 49.7 % of the money; the
    limit is 25 %"."""
    return explain(result, currency=currency, proposed=True)


@register.filter
def within_per_stream(results: list[Result]) -> list[Result]:
    """The per-value-stream checks that are within their guardrail (shown folded)."""
    return [result for result in results if result.ok and result.value_stream_id]


@register.filter
def promotion_changes(plan, currency: str = "") -> list[plan_text.Change]:
    """What promoting a scenario changes in one budget, for people (leanpmo.plan_text)."""
    return plan_text.changes(plan.described_changes, currency=currency)


@register.filter
def drift_changes(item, currency: str = "") -> list[plan_text.Change]:
    """How the plan moved since a scenario copied it, for one value stream, for people."""
    return plan_text.changes(item.changes, currency=currency)


@register.filter
def within_streams(rows: list[dict]) -> list[dict]:
    """The scenario comparison's per-value-stream checks within their guardrail on both sides
    (shown folded)."""
    return [row for row in rows if row["verdict"] == "within" and row["scope"] != "Portfolio"]


def _scorecard_cell(cell, first: bool) -> str:
    """One scorecard cell's markup, exactly as the cell loop of ``leanpmo/_scorecard.html``
    wrote it before (every value escaped)."""
    e = conditional_escape
    if first:
        opening, closing = '<th scope="row">', "</th>"
    else:
        css = "" if cell.badges or cell.css == "name" else "num"
        opening, closing = f'<td class="{css}">', "</td>"
    if cell.badges:
        badges = "".join(
            f'<span class="tier-badge small tier-{e(tier)}" title="{e(title)}">'
            f'<span class="visually-hidden">{e(title)}</span>'
            f'<span aria-hidden="true">{e(text)}</span></span>'
            for tier, text, title in cell.badges
        )
        content = f'<a class="tier-set" href="{e(cell.url)}">{badges}</a>\n          '
    elif cell.url:
        note = f' title="{e(cell.note)}"' if cell.note else ""
        content = f'<a class="{e(cell.css)}" href="{e(cell.url)}"{note}>{e(cell.text)}</a>'
    else:
        content = f'<span class="{e(cell.css)}">{e(cell.text)}</span>'
    return f"{opening}\n          {content}\n        {closing}"


@register.filter
def scorecard_cells(row) -> str:
    """A scorecard row's cells (leanpmo.panels.scorecard.Cell): the value stream as the row's
    header, the figures as cells. Written here rather than by a template loop: 80 value streams
    of 13 cells each cost the portfolio page ~20 ms in the template engine."""
    # every value is escaped in _scorecard_cell
    return mark_safe("".join(_scorecard_cell(cell, n == 0) for n, cell in enumerate(row)))
