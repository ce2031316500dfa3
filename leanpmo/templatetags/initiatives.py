"""Template filters of the initiative pages: ages for people (money: {% load formatting %})."""

from __future__ import annotations

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
