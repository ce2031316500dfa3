"""Template filters of the signal pages and the digest."""

from __future__ import annotations

from django import template

from leanpmo.panels.digest import mover_text

register = template.Library()


@register.filter
def mover(move: dict, currency: str) -> str:
    """A scorecard mover as a sentence: “Cards: flow time p85 ↑ 35 % (12 → 16.2 days)”."""
    return mover_text(move, currency)


@register.filter
def needs_anything(groups) -> bool:
    """Whether any attention group has something in it."""
    return any(group.items for group in groups)
