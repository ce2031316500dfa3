"""Template filters of the Lean PMO pages."""

from __future__ import annotations

from django import template

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
