"""A decision's evidence in words for people, and the figures then beside the figures now (pure:
no Django).

An evidence snapshot (leanpmo.selectors.decisions.evidence_snapshot) holds one complete month of
a value stream's flow and DORA figures; an initiative's
(leanpmo.selectors.initiatives.initiative_evidence) adds its leading indicators' latest check-ins. A decision froze the latest month that had ended when it was
taken, and "now" is read the same way (the latest complete month), so the two sides always compare
a whole month with a whole month, never with the few days of the current one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from portfolio.formatting import (
    MINUS,
    MISSING,
    duration,
    measure,
    number,
    plural,
    share,
    whole_percents,
)

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY = 86400


def window_label(label: str | None) -> str:
    """A snapshot's window for people: "2026-11" → "November 2026" (other labels as they are)."""
    if not label:
        return ""
    match = MONTH.match(label)
    if not match:
        return label
    year, month = int(match[1]), int(match[2])
    return f"{calendar.month_name[month]} {year}" if 1 <= month <= 12 else label


def next_month_start(label: str | None) -> dt.date | None:
    """The day after the month `label` names ends ("2026-11" → 1 December 2026), else None."""
    match = MONTH.match(label or "")
    if not match or not 1 <= int(match[2]) <= 12:
        return None
    year, month = int(match[1]), int(match[2])
    return dt.date(year + month // 12, month % 12 + 1, 1)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


@dataclass(frozen=True)
class Measure:
    """How one figure reads: its name, how a value is written, how a change is written, and
    whether more is better (True), worse (False) or neither (None)."""

    name: str
    text: Any
    change: Any
    more_is_better: bool | None


def _rate(value: float) -> str:
    """A rate (0–1) to one decimal without a trailing zero: 0.0385 → "3.8 %", 0.1 → "10 %"."""
    return f"{measure(value * 100, 1)} %"


def _signed(text: str, value: float) -> str:
    return f"+{text}" if value > 0 and not text.startswith(MINUS) else text


def _count_change(delta: float) -> str:
    return _signed(number(delta), delta)


def _points(delta: float) -> str:
    """A change of a share (0–1) in percentage points: 0.04 → "+4 pts"."""
    return _signed(f"{measure(delta * 100, 1)} pts", delta)


def _days_change(delta: float) -> str:
    return _signed(duration(delta * DAY), delta)


def _minutes_change(delta: float) -> str:
    return _signed(duration(delta * 60), delta)


FLOW_MEASURES = {
    "velocity": Measure(
        "Items finished", lambda v: plural(v, "item"), _count_change, more_is_better=True
    ),
    "flow_time_p85_days": Measure(
        "Flow time, 85th percentile",
        lambda v: duration(v * DAY),
        _days_change,
        more_is_better=False,
    ),
    "flow_efficiency": Measure("Flow efficiency", share, _points, more_is_better=True),
    "load_mean": Measure(
        "Work in progress (mean)",
        lambda v: plural(round(v, 1), "item"),
        lambda d: _signed(measure(d, 1), d),
        more_is_better=False,
    ),
}
DORA_MEASURES = {
    "deployments": Measure(
        "Deployments", lambda v: plural(v, "deployment"), _count_change, more_is_better=True
    ),
    "median_lead_time_minutes": Measure(
        "Lead time for changes (median)",
        lambda v: duration(v * 60),
        _minutes_change,
        more_is_better=False,
    ),
    "change_failure_rate": Measure("Change failure rate", _rate, _points, more_is_better=False),
    "median_recovery_time_minutes": Measure(
        "Recovery time (median)",
        lambda v: duration(v * 60),
        _minutes_change,
        more_is_better=False,
    ),
}
TIERS = {
    "median_lead_time_minutes": "lead_time_tier",
    "change_failure_rate": "change_failure_rate_tier",
    "median_recovery_time_minutes": "recovery_time_tier",
    "deployments": "deployment_frequency_tier",
}


@dataclass(frozen=True)
class Row:
    """One figure at decision time beside the same figure now, as text, with the change and
    whether it moved the good way (`trend`: "better", "worse" or "" for no change or no reading)."""

    measure: str
    then: str
    now: str
    change: str
    trend: str


def _row(reading: Measure, then: Any, now: Any, *, then_tier: str = "", now_tier: str = "") -> Row:
    old, new = _number(then), _number(now)

    def text(value: float | None, tier: str) -> str:
        if value is None:
            return MISSING
        return f"{reading.text(value)} ({tier})" if tier else reading.text(value)

    change, trend = MISSING, ""
    if old is not None and new is not None:
        delta = new - old
        change = reading.change(delta) if abs(delta) > 1e-9 else "no change"
        if abs(delta) > 1e-9 and reading.more_is_better is not None:
            trend = "better" if (delta > 0) == reading.more_is_better else "worse"
    return Row(reading.name, text(old, then_tier), text(new, now_tier), change, trend)


def _all_items(figures: Mapping) -> Mapping:
    flow = figures.get("flow") or {}
    return flow.get("All") or {}


def stream_rows(then: Mapping, now: Mapping) -> list[Row]:
    """A value stream's headline figures (all item types together, and DORA) at decision time
    beside now; figures neither side has are left out."""
    rows = []
    old_flow, new_flow = _all_items(then), _all_items(now)
    for key, reading in FLOW_MEASURES.items():
        if old_flow.get(key) is not None or new_flow.get(key) is not None:
            rows.append(_row(reading, old_flow.get(key), new_flow.get(key)))
    old_dora, new_dora = then.get("dora") or {}, now.get("dora") or {}
    for key, reading in DORA_MEASURES.items():
        if old_dora.get(key) is not None or new_dora.get(key) is not None:
            tier = TIERS.get(key, "")
            rows.append(
                _row(
                    reading,
                    old_dora.get(key),
                    new_dora.get(key),
                    then_tier=old_dora.get(tier) or "",
                    now_tier=new_dora.get(tier) or "",
                )
            )
    return rows


def key_result_rows(then: list[Mapping], now: list[Mapping]) -> list[Row]:
    """An initiative's leading indicators: each key result's latest check-in at decision time
    beside now (matched by metric), the good way being towards its target."""
    latest_now = {figure.get("metric"): figure for figure in now}
    rows = []
    for figure in then:
        metric = figure.get("metric", "")
        unit = figure.get("unit") or ""
        baseline, target = _number(figure.get("baseline")), _number(figure.get("target"))
        towards = None if baseline is None or target is None else target >= baseline
        reading = Measure(
            f"{metric} (target {measure_text(target, unit)})",
            lambda v, unit=unit: measure_text(v, unit),
            lambda d, unit=unit: _signed(measure_text(d, unit), d),
            more_is_better=towards,
        )
        latest_then, latest = figure.get("latest"), latest_now.get(metric, {}).get("latest")
        rows.append(_row(reading, latest_then, latest))
    return rows


def measure_text(value: float | None, unit: str = "") -> str:
    """A measured value with its unit: 94.5 and "%" → "94.5 %", 3 and "days" → "3 days"."""
    if value is None:
        return MISSING
    return f"{measure(value, 2)} {unit}".strip()


@dataclass(frozen=True)
class Comparison:
    """The figures a decision was taken on beside the figures now.

    `then_window` / `now_window`: the complete months compared ("November 2026"); `same_window`:
    no month has completed since the decision, so "now" is still the month the decision saw;
    `next_complete`: the day the next month will be complete (None when unknown); `rows`: the
    headline figures; `key_results`: an initiative's leading indicators.
    """

    then_window: str
    now_window: str
    same_window: bool
    next_complete: dt.date | None
    rows: list[Row]
    key_results: list[Row]

    @property
    def empty(self) -> bool:
        return not (self.rows or self.key_results)


def _window(figures: Mapping) -> str:
    """The month a snapshot covers (a stream's, or for an initiative the first stream's)."""
    if figures.get("window") or figures.get("dora"):
        return figures.get("window") or (figures.get("dora") or {}).get("window", "")
    for stream in (figures.get("value_streams") or {}).values():
        label = stream.get("window") or (stream.get("dora") or {}).get("window", "")
        if label:
            return label
    return ""


def compare(then: Mapping | None, now: Mapping | None) -> Comparison:
    """The decision's frozen evidence (`then`) beside the same figures read now (`now`), both
    for one complete month. For an initiative, the rows are those of its value streams together
    when it has one, and its key results."""
    then, now = then or {}, now or {}
    then_label, now_label = _window(then), _window(now)
    streams_then = then.get("value_streams") or {}
    streams_now = now.get("value_streams") or {}
    if streams_then or streams_now:
        names = sorted(set(streams_then) | set(streams_now))
        rows = (
            stream_rows(streams_then.get(names[0], {}), streams_now.get(names[0], {}))
            if len(names) == 1
            else []
        )
    else:
        rows = stream_rows(then, now)
    return Comparison(
        then_window=window_label(then_label),
        now_window=window_label(now_label),
        same_window=bool(then_label) and then_label == now_label,
        next_complete=next_month_start(now_label or then_label),
        rows=rows,
        key_results=key_result_rows(then.get("key_results") or [], now.get("key_results") or []),
    )


@dataclass(frozen=True)
class FlowLine:
    """One item type's flow figures in a snapshot, as text."""

    kind: str
    velocity: str
    flow_time: str
    efficiency: str
    load: str
    share: str


def flow_lines(figures: Mapping) -> list[FlowLine]:
    """A snapshot's flow table for people: all items first, then the item types by name."""
    flow = figures.get("flow") or {}
    order = sorted(flow, key=lambda kind: (kind != "All", kind))
    types = [kind for kind in order if kind != "All"]
    raw = [(flow[kind] or {}).get("share") for kind in types]
    known = [_number(value) for value in raw if _number(value) is not None]
    # the item types' shares are parts of one whole: written so that they add up to 100 %
    whole = abs(sum(known) - 1) < 0.01 if known else False
    shares = dict(zip(types, whole_percents(raw), strict=True)) if whole else {}
    lines = []
    for kind in order:
        row = flow[kind] or {}
        p85 = _number(row.get("flow_time_p85_days"))
        load = _number(row.get("load_mean"))
        part = (
            f"{shares[kind]} %"
            if kind in shares and _number(row.get("share")) is not None
            else share(row.get("share"))
        )
        lines.append(
            FlowLine(
                kind="All items" if kind == "All" else kind,
                velocity=number(row.get("velocity")),
                flow_time=MISSING if p85 is None else duration(p85 * DAY),
                efficiency=share(row.get("flow_efficiency")),
                load=MISSING if load is None else measure(load, 1),
                share=part,
            )
        )
    return lines


def dora_sentence(figures: Mapping) -> str:
    """A snapshot's DORA figures in one line: "26 deployments · lead time 11.3 h (elite) ·
    change failure rate 3.8 % (elite)"; "" without DORA figures."""
    dora = figures.get("dora") or {}
    if not dora:
        return ""
    parts = [plural(dora.get("deployments"), "deployment")]
    for key, words in (
        ("median_lead_time_minutes", "lead time"),
        ("change_failure_rate", "change failure rate"),
        ("median_recovery_time_minutes", "recovery time"),
    ):
        value = _number(dora.get(key))
        if value is None:
            continue
        text = _rate(value) if key == "change_failure_rate" else duration(value * 60)
        tier = dora.get(TIERS[key])
        parts.append(f"{words} {text}" + (f" ({tier})" if tier else ""))
    return " · ".join(parts)
