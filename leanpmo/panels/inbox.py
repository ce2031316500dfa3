"""The signals inbox: a page of filtered signals, counts per detector, the trend."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass

import pandas as pd
from django.core.paginator import Page, Paginator
from django.db.models import Sum

from leanpmo.detectors.registry import DETECTORS
from leanpmo.models import Signal, SignalDailyCount, SignalEvaluation
from leanpmo.panels.rows import NEW_FOR, SignalRow, signal_rows
from leanpmo.selectors.signals import local_today, signal_list
from portfolio.access import can_edit_structure, can_see_money
from portfolio.charting import Figure, chart_panel, figure
from portfolio.models import Portfolio
from portfolio.sections import kept


@dataclass
class DetectorCount:
    code: str
    label: str
    number: int
    open: int
    acknowledged: int
    new: int
    resolved: int
    not_enough: list[str]
    not_enough_count: int
    error: str

    @property
    def url(self) -> str:
        return f"?detector={self.code}"


@dataclass
class Inbox:
    rows: list[SignalRow]
    page: Page
    counts: list[DetectorCount]
    trend: dict
    evaluated_at: dt.datetime | None
    as_of: dt.datetime | None


def inbox_signals(portfolio: Portfolio, filters: dict, *, now: dt.datetime):
    """The portfolio's signals narrowed by the inbox filters (detector, severity, value_stream,
    team, state; state defaults to open), most severe and newest first."""
    signals = signal_list(portfolio, now=now).in_state(filters.get("state") or "open", now)
    if filters.get("detector"):
        signals = signals.filter(detector=filters["detector"])
    if filters.get("severity"):
        signals = signals.filter(severity=filters["severity"])
    if filters.get("value_stream"):
        signals = signals.filter(value_stream=filters["value_stream"])
    if filters.get("team"):
        signals = signals.filter(team=filters["team"])
    return signals.order_by("-severity", "-opened_at", "pk")


def _detector_counts(portfolio: Portfolio, now: dt.datetime) -> list[DetectorCount]:
    rows = signal_list(portfolio, now=now).values_list(
        "detector", "state", "acknowledged_until", "opened_at", "resolved_at"
    )
    counts: dict[str, Counter] = defaultdict(Counter)
    for detector, state, acknowledged, opened_at, resolved_at in rows:
        tally = counts[detector]
        if state == Signal.State.RESOLVED:
            tally["resolved"] += resolved_at is not None and resolved_at >= now - NEW_FOR
        elif acknowledged:
            tally["acknowledged"] += 1
        else:
            tally["open"] += 1
            tally["new"] += opened_at >= now - NEW_FOR
    evaluation = SignalEvaluation.objects.filter(portfolio=portfolio).first()
    summary = evaluation.detectors if evaluation else {}
    return [
        DetectorCount(
            code=info.code,
            label=info.label,
            number=info.number,
            open=counts[info.code]["open"],
            acknowledged=counts[info.code]["acknowledged"],
            new=counts[info.code]["new"],
            resolved=counts[info.code]["resolved"],
            not_enough=summary.get(info.code, {}).get("not_enough_data", []),
            not_enough_count=summary.get(info.code, {}).get("not_enough_count", 0),
            error=summary.get(info.code, {}).get("error", ""),
        )
        for info in DETECTORS
    ]


def signal_trend_chart(counts: pd.DataFrame, *, start: dt.date, end: dt.date) -> Figure:
    """Open signals per day (columns day, open), one line over the days from `start` to `end`
    (a plain figure: portfolio.charting)."""
    return figure(
        [
            {
                "type": "scatter",
                "x": list(counts["day"]),
                "y": list(counts["open"]),
                "mode": "lines+markers",
                "name": "Open signals",
                "line": {"color": "#1f4e79"},
            }
        ],
        {
            "xaxis": {
                "type": "date",
                "range": [start.isoformat(), end.isoformat()],
                "tickformat": "%-d %b",
            },
            "yaxis": {"title": {"text": "Open signals"}, "rangemode": "tozero"},
            "showlegend": False,
        },
    )


def _trend(portfolio: Portfolio, today: dt.date) -> dict:
    """Open signals per day over the last twelve weeks, from the evaluations' daily counts."""
    per_day = (
        SignalDailyCount.objects.filter(
            portfolio=portfolio, day__gte=today - dt.timedelta(weeks=12)
        )
        .values("day")
        .annotate(total=Sum("open"))
        .order_by("day")
        .values_list("day", "total")
    )
    frame = pd.DataFrame(list(per_day), columns=["day", "open"])
    return chart_panel(
        f"signal-trend-{portfolio.pk}",
        "Open signals over the last 12 weeks",
        signal_trend_chart(
            frame, start=today - dt.timedelta(weeks=12), end=today + dt.timedelta(days=1)
        ),
        frame,
        columns=["Day", "Open signals"],
    )


def signal_inbox(
    portfolio: Portfolio, filters: dict, *, role: str | None, now: dt.datetime, page: int | str
) -> Inbox:
    """The inbox page: a page of the filtered signals, counts per detector and the trend (a fixed
    number of queries whatever the number of signals)."""
    show_money = can_see_money(role, portfolio)
    paginator = Paginator(inbox_signals(portfolio, filters, now=now), 25)
    current = paginator.get_page(page)
    evaluation = SignalEvaluation.objects.filter(portfolio=portfolio).first()
    return Inbox(
        rows=signal_rows(
            current.object_list,
            show_money=show_money,
            can_edit=can_edit_structure(role),
            now=now,
        ),
        page=current,
        counts=_detector_counts(portfolio, now),
        trend=kept(
            "signal-trend",
            (portfolio.pk, local_today(portfolio, now)),
            lambda: _trend(portfolio, local_today(portfolio, now)),
            now=now,
        ),
        evaluated_at=evaluation.evaluated_at if evaluation else None,
        as_of=evaluation.as_of if evaluation else None,
    )


def inbox_table(rows: list[SignalRow], portfolio: Portfolio) -> pd.DataFrame:
    """Signals as a table for the CSV download (the viewer's sentences)."""
    zone = zoneinfo.ZoneInfo(portfolio.time_zone)

    def local(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else None

    return pd.DataFrame(
        [
            {
                "Detector": row.detector,
                "Severity": row.severity,
                "State": row.state_label,
                "Value stream": row.signal.value_stream.name if row.signal.value_stream_id else "",
                "Team": row.signal.team.name if row.signal.team_id else "",
                "Why": row.sentence,
                "First seen": local(row.signal.first_seen),
                "Last seen": local(row.signal.last_seen),
                "Resolved": local(row.signal.resolved_at),
                "Acknowledged until": local(row.acknowledged_until),
                "Acknowledgement reason": row.acknowledged_reason,
            }
            for row in rows
        ],
        columns=[
            "Detector", "Severity", "State", "Value stream", "Team", "Why", "First seen",
            "Last seen", "Resolved", "Acknowledged until", "Acknowledgement reason",
        ],
    )  # fmt: skip
