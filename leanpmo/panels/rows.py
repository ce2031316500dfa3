"""Signals as lists show them: the sentence for the viewer, the state, the evidence links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from leanpmo.detectors.findings import EDITORS, MONEY, SEVERITY_LABELS
from leanpmo.detectors.registry import DETECTOR_LABELS
from leanpmo.models import Signal

STATE_LABELS = {
    "new": "New this week",
    "open": "Open",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "all": "All",
}
NEW_FOR = dt.timedelta(days=7)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def evidence_links(evidence: Iterable[dict], *, show_money: bool, can_edit: bool) -> list[Link]:
    """The evidence links a viewer may follow (money pages only to those who see money, Lean PMO
    pages only to the Lean PMO), reversed from their URL names."""
    links = []
    for item in evidence:
        audience = item.get("audience", "all")
        if (audience == MONEY and not show_money) or (audience == EDITORS and not can_edit):
            continue
        try:
            url = reverse(item["url_name"], args=item.get("args", []))
        except (NoReverseMatch, KeyError):
            continue
        if item.get("query"):
            url += f"?{item['query']}"
        if item.get("anchor"):
            url += f"#{item['anchor']}"
        links.append(Link(item.get("label", "Evidence"), url))
    return links


@dataclass
class SignalRow:
    """A signal as a list shows it: labels, its sentence for this viewer, state and links."""

    signal: Signal
    detector: str
    severity: str
    sentence: str
    state: str
    scope: str
    links: list[Link]
    acknowledged_until: dt.datetime | None = None
    acknowledged_reason: str = ""

    @property
    def url(self) -> str:
        return reverse("signal-detail", args=[self.signal.pk])

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def signal_state(signal: Signal, now: dt.datetime) -> str:
    """new / open / acknowledged / resolved, as the inbox names them (needs the annotation of
    SignalQuerySet.with_acknowledgement)."""
    if signal.state == Signal.State.RESOLVED:
        return "resolved"
    if getattr(signal, "acknowledged_until", None):
        return "acknowledged"
    return "new" if signal.opened_at >= now - NEW_FOR else "open"


def _scope(signal: Signal) -> str:
    if signal.team_id:
        return signal.team.name
    if signal.value_stream_id:
        return signal.value_stream.name
    return signal.portfolio.name


def signal_rows(
    signals: Iterable[Signal], *, show_money: bool, can_edit: bool, now: dt.datetime
) -> list[SignalRow]:
    """Rows for signals fetched with their portfolio, value stream and team (no queries)."""
    return [
        SignalRow(
            signal=signal,
            detector=DETECTOR_LABELS.get(signal.detector, signal.detector),
            severity=SEVERITY_LABELS.get(signal.severity, ""),
            sentence=signal.explanation(show_money=show_money),
            state=signal_state(signal, now),
            scope=_scope(signal),
            links=evidence_links(signal.evidence, show_money=show_money, can_edit=can_edit),
            acknowledged_until=getattr(signal, "acknowledged_until", None),
            acknowledged_reason=getattr(signal, "acknowledged_reason", None) or "",
        )
        for signal in signals
    ]
