"""Filters for the outcome pages and sections: they format, they run no query (the sections other
pages show are built by teams.panels and included with their data)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def measure(value) -> str:
    """A measured value for people: at most two decimals, no trailing zeros (94.5, 91, 11.72)."""
    if value is None or value == "":
        return "—"
    text = f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
