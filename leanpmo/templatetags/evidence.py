"""Template filters for frozen evidence snapshots (see :mod:`leanpmo.evidence`)."""

from __future__ import annotations

import datetime as dt

from django import template

from leanpmo import evidence
from valuestreams.selectors.caveats import caveat_messages

register = template.Library()


@register.filter
def caveat_lines(caveats: dict | None) -> list[str]:
    """The snapshot's data-quality caveats as plain sentences (empty when there are none).

    A template cannot loop over a caveats dict safely: its "items" count hides dict.items.
    """
    return caveat_messages(caveats)


@register.filter
def window_label(label: str | None) -> str:
    """A snapshot's window for people: "2026-11" → "November 2026"."""
    return evidence.window_label(label)


@register.filter
def flow_lines(figures: dict | None) -> list[evidence.FlowLine]:
    """A snapshot's flow table for people, all items first."""
    return evidence.flow_lines(figures or {})


@register.filter
def dora_sentence(figures: dict | None) -> str:
    """A snapshot's DORA figures in one line."""
    return evidence.dora_sentence(figures or {})


@register.filter
def iso_date(text: str | None) -> dt.date | None:
    """An ISO date or timestamp stored in a snapshot, as a date for the `date` filter."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


@register.filter
def status_words(status: str | None) -> str:
    """A check-in's status for people: "on_track" → "on track"."""
    return (status or "").replace("_", " ")
