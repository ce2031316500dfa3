"""Template filters of the initiative pages: ages and money for people."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def age(days: float | None) -> str:
    """Days as people say them: "today", "1 day", "12 days", "3 months", "2 years"."""
    if days is None:
        return "—"
    if days < 1:
        return "today"
    if days < 60:
        whole = int(days)
        return f"{whole} day{'s' if whole != 1 else ''}"
    if days < 730:
        return f"{round(days / 30.44)} months"
    return f"{round(days / 365.25)} years"


@register.filter
def money_short(value: Decimal | float | None) -> str:
    """Money in a few characters: 950 → "950", 450000 → "450k", 1250000 → "1.25M"."""
    if value is None:
        return "—"
    amount = float(value)
    for limit, suffix in ((1_000_000_000, "bn"), (1_000_000, "M"), (1_000, "k")):
        if abs(amount) >= limit:
            text = f"{amount / limit:.2f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{amount:,.0f}"
