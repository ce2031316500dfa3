"""The value-stream scorecard's arithmetic (pure): one row per value stream setting money beside
flow, DORA, outcomes, realisation and open signals, plus its biggest movers.

No Django, no clock: frames in, a frame out. `leanpmo.selectors.signals.scorecard_inputs` reads
what it needs; `leanpmo.panels.scorecard` shapes it for the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from teams.metrics import is_stale, key_result_progress, realisation_summary

COLUMNS = [
    "value_stream_id",
    "value_stream",
    "budget_id",
    "budget",
    "actual",
    "budget_change",  # % against the previous period's budget
    "velocity",  # items done in the last complete month
    "velocity_change",  # % against the month before
    "flow_time_p85_days",
    "flow_time_p85_before_days",
    "efficiency",  # % of flow time spent active
    "load",  # mean items in progress in the month
    "load_change",  # % against the month before
    "month",  # label of the last complete month, e.g. 2026-02
    "deployment_frequency_tier",
    "lead_time_tier",
    "change_failure_rate_tier",
    "recovery_time_tier",
    "dora_month",
    "outcome_progress",  # mean progress of open key results with a check-in, %, 0–100
    "key_results",
    "stale_share",  # % of open key results stale
    "realisation_change",  # mean quarter change of its realisation metrics, in the good direction, %
    "realisation_improving",
    "realisation_metrics",
    "open_signals",
]
DAY_S = 86400


@dataclass
class ScorecardInputs:
    """What the scorecard reads, per value stream of one portfolio.

    `budgets` maps value stream id → (budget id, total) in the current period, `previous` → the
    previous period's total, `actuals` → spend in the current period. Frames: `flow` (monthly
    rows of all item types: scope_id, window_start, window_end, label, velocity,
    flow_time_p85_s, flow_efficiency, load_mean), `dora` (monthly: scope_id, window_end, label
    and the four tiers), `key_results` (value_stream_id, baseline, target, value, starts_on,
    cadence_days, last_check_in), `realisation` (value_stream_id, metric, higher_is_better, on,
    value); `signals` maps value stream id → open signals waiting for someone.
    """

    streams: list[tuple[int, str]]
    period: str = ""
    budgets: dict[int, tuple[int, Decimal]] = field(default_factory=dict)
    previous: dict[int, Decimal] = field(default_factory=dict)
    actuals: dict[int, Decimal] = field(default_factory=dict)
    flow: pd.DataFrame = field(default_factory=pd.DataFrame)
    dora: pd.DataFrame = field(default_factory=pd.DataFrame)
    key_results: pd.DataFrame = field(default_factory=pd.DataFrame)
    realisation: pd.DataFrame = field(default_factory=pd.DataFrame)
    signals: dict[int, int] = field(default_factory=dict)


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or pd.isna(now) or pd.isna(before) or before == 0:
        return None
    return round((float(now) / float(before) - 1) * 100, 1)


def _number(value, scale: float = 1.0, digits: int = 1) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value) / scale, digits)


def _last_complete(frame: pd.DataFrame, as_of: pd.Timestamp, order: str, count: int) -> dict:
    """Per scope_id, the last ``count`` rows (as dicts, oldest first) of those complete at
    ``as_of`` (window_end <= as_of), in ``order``: one sort and one pass for every value stream."""
    if frame.empty:
        return {}
    complete = frame[frame["window_end"] <= as_of]
    complete = complete.sort_values(["scope_id", order], kind="stable")
    last = complete.groupby("scope_id", sort=False).tail(count)
    found: dict = {}
    for record in last.to_dict("records"):
        found.setdefault(record["scope_id"], []).append(record)
    return found


def _flow(rows: list[dict]) -> dict:
    """The flow figures of a value stream's last complete month (``rows``: its last two complete
    months, oldest first) against the month before."""
    if not rows:
        return {}
    last = rows[-1]
    before = rows[-2] if len(rows) > 1 else None
    get = (lambda column: before[column]) if before is not None else (lambda column: None)
    return {
        "velocity": int(last["velocity"]),
        "velocity_change": _change(last["velocity"], get("velocity")),
        "flow_time_p85_days": _number(last["flow_time_p85_s"], DAY_S),
        "flow_time_p85_before_days": _number(get("flow_time_p85_s"), DAY_S),
        "efficiency": _number(last["flow_efficiency"], 0.01),
        "load": _number(last["load_mean"]),
        "load_change": _change(last["load_mean"], get("load_mean")),
        "month": str(last["label"]),
    }


def _dora(rows: list[dict]) -> dict:
    """The DORA tiers of a value stream's last complete month (``rows``: that month)."""
    if not rows:
        return {}
    last = rows[-1]
    tiers = (
        "deployment_frequency_tier",
        "lead_time_tier",
        "change_failure_rate_tier",
        "recovery_time_tier",
    )
    return {**{tier: last[tier] or None for tier in tiers}, "dora_month": str(last["label"])}


def _outcomes(rows: list, today: dt.date) -> dict:
    """Outcome progress and stale share of a value stream's open key results (``rows``: tuples
    with the key result columns)."""
    if not rows:
        return {"key_results": 0}
    progress, stale = [], 0
    for row in rows:
        value = None if row.value is None or pd.isna(row.value) else row.value
        share = key_result_progress(baseline=row.baseline, target=row.target, value=value)
        if share is not None:
            progress.append(min(max(share, 0.0), 1.0))
        last = (
            None if row.last_check_in is None or pd.isna(row.last_check_in) else row.last_check_in
        )
        stale += is_stale(
            last_check_in=last,
            starts_on=row.starts_on,
            cadence_days=int(row.cadence_days),
            as_of=today,
        )
    return {
        "outcome_progress": round(sum(progress) / len(progress) * 100) if progress else None,
        "key_results": len(rows),
        "stale_share": round(stale / len(rows) * 100),
    }  # fmt: skip


def _realisation(rows: pd.DataFrame, today: dt.date) -> dict:
    if rows.empty:
        return {"realisation_metrics": 0}
    summary = realisation_summary(rows[["metric", "on", "value"]], as_of=today)
    better = dict(zip(rows["metric"], rows["higher_is_better"], strict=False))
    changes = [
        change * 100 * (1 if better.get(metric, True) else -1)
        for metric, change in zip(summary["metric"], summary["quarter_change"], strict=True)
        if change is not None
    ]
    return {
        "realisation_change": round(sum(changes) / len(changes), 1) if changes else None,
        "realisation_improving": sum(change > 0 for change in changes),
        "realisation_metrics": len(summary),
    }


def _tuples_by(frame: pd.DataFrame, column: str) -> dict:
    """The rows of ``frame`` as named tuples per value of ``column`` (in their order), read in
    one pass (a pass per value stream built a tuple class each time)."""
    found: dict = {}
    if not frame.empty:
        for row in frame.itertuples(index=False):
            found.setdefault(getattr(row, column), []).append(row)
    return found


def _split(frame: pd.DataFrame, column: str) -> tuple[dict, pd.DataFrame]:
    """The rows of ``frame`` per value of ``column`` (in their order), in one pass, and the empty
    frame a value without rows gets: a boolean filter per value stream cost a scan of the whole
    frame each (most of the portfolio page's time with 80 value streams)."""
    if frame.empty:
        return {}, frame
    return dict(tuple(frame.groupby(column, sort=False))), frame.iloc[:0]


def scorecard_frame(inputs: ScorecardInputs, *, as_of: dt.datetime, today: dt.date) -> pd.DataFrame:
    """One row per value stream (COLUMNS), in name order; None where there is nothing to show."""
    moment = pd.Timestamp(as_of)
    flow = _last_complete(inputs.flow, moment, "window_start", 2)
    dora = _last_complete(inputs.dora, moment, "window_end", 1)
    key_results = _tuples_by(inputs.key_results, "value_stream_id")
    realisation, no_realisation = _split(inputs.realisation, "value_stream_id")
    rows = []
    for stream_id, name in inputs.streams:
        budget = inputs.budgets.get(stream_id)
        total = budget[1] if budget else None
        actual = inputs.actuals.get(stream_id)
        row = dict.fromkeys(COLUMNS)
        row.update(
            value_stream_id=stream_id,
            value_stream=name,
            budget_id=budget[0] if budget else None,
            budget=float(total) if total is not None else None,
            actual=float(actual) if actual is not None else None,
            budget_change=_change(
                float(total) if total is not None else None,
                float(inputs.previous[stream_id]) if stream_id in inputs.previous else None,
            ),
            open_signals=inputs.signals.get(stream_id, 0),
        )
        row.update(_flow(flow.get(stream_id, [])))
        row.update(_dora(dora.get(stream_id, [])))
        row.update(_outcomes(key_results.get(stream_id, []), today))
        row.update(_realisation(realisation.get(stream_id, no_realisation), today))
        rows.append(row)
    # objects, not floats: an id stays 5 (not 5.0, which no URL takes) and a missing value None
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    return frame.where(frame.notna(), None).sort_values("value_stream", kind="stable")


SORTABLE = (
    "value_stream", "budget", "actual", "budget_change", "velocity", "flow_time_p85_days",
    "efficiency", "load_change", "outcome_progress", "stale_share", "realisation_change",
    "open_signals",
)  # fmt: skip
MONEY_COLUMNS = ("budget", "actual", "budget_change")


def sort_scorecard(frame: pd.DataFrame, sort: str, *, money: bool) -> tuple[pd.DataFrame, str]:
    """The frame sorted by `sort` (a SORTABLE column, "-" in front for descending; missing values
    last). Unknown columns, and money columns for those who may not see money, sort by name.
    Returns the frame and the sort applied."""
    column, descending = sort.removeprefix("-"), sort.startswith("-")
    if column not in SORTABLE or (column in MONEY_COLUMNS and not money):
        column, descending = "value_stream", False
    present = frame[frame[column].notna()]
    missing = frame[frame[column].isna()]
    key = (lambda s: s.str.lower()) if column == "value_stream" else None
    ordered = present.sort_values(column, ascending=not descending, kind="stable", key=key)
    applied = f"-{column}" if descending else column
    # concatenating may bring back floats and NaN (an id 5 as 5.0): keep objects and None
    result = pd.concat([ordered, missing]).astype(object)
    return result.where(result.notna(), None), applied


def movers(frame: pd.DataFrame, *, limit: int = 3, money: bool) -> list[dict]:
    """The value streams whose figures moved most against the period or month before: flow
    time p85, velocity and (with `money`) budget, largest relative change first. Each: value
    stream, what (label), before, now (as shown), change (%)."""
    moves = []
    for row in frame.itertuples(index=False):
        p85_change = _change(row.flow_time_p85_days, row.flow_time_p85_before_days)
        if p85_change is not None:
            moves.append((row.value_stream, "flow time p85", row.flow_time_p85_before_days, row.flow_time_p85_days, p85_change, "days"))  # fmt: skip
        if row.velocity_change is not None:
            before = round(row.velocity / (1 + row.velocity_change / 100)) if row.velocity_change != -100 else None  # fmt: skip
            moves.append((row.value_stream, "items done per month", before, row.velocity, row.velocity_change, "items"))  # fmt: skip
        if money and row.budget_change is not None:
            moves.append((row.value_stream, "budget", None, row.budget, row.budget_change, "money"))
    moves.sort(key=lambda move: (-abs(move[4]), move[0], move[1]))
    return [
        {"value_stream": v, "what": w, "before": b, "now": n, "change": c, "unit": u}
        for v, w, b, n, c, u in moves[:limit]
    ]
