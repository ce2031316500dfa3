"""DORA metrics over the last months, each against its benchmark's tiers.

Input frame ``dora``: one row per month, ``label``, ``benchmark`` and the DORA measures and tiers of
``DoraMetric`` (``median_deployment_days_per_week``, ``median_lead_time_minutes``,
``change_failure_rate``, ``median_recovery_time_minutes``, ``*_tier``), optionally ``complete``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from portfolio import formatting
from portfolio.charting import Figure, figure
from valuestreams.charts import axes
from valuestreams.charts.axes import GRID, date_axis, period_name, period_start
from valuestreams.metrics.dora import load_benchmark

TIER_COLOURS = {"elite": "#2e7d32", "high": "#138d90", "medium": "#b26a00", "low": "#b3261e"}


# --- DORA over the last months ----------------------------------------------------------------


@dataclass(frozen=True)
class DoraSeries:
    """One DORA metric as the trend chart draws it: which measure, in which unit, on which
    scale; `scales` turns each measure the benchmark's rules name into the plotted unit."""

    key: str
    name: str
    measure: str
    tier: str
    unit: str
    scales: dict[str, float]
    log: bool = False
    ticks: tuple[tuple[float, str], ...] = ()


DORA_SERIES = (
    DoraSeries(
        "deployment_frequency",
        "Deployment frequency",
        "median_deployment_days_per_week",
        "deployment_frequency_tier",
        "days a week with a deployment",
        # the low/medium line is once a month: 12 months over 52 weeks
        {"median_deployment_days_per_week": 1.0, "median_deployment_days_per_month": 12 / 52},
    ),
    DoraSeries(
        "lead_time_for_changes",
        "Lead time for changes",
        "median_lead_time_minutes",
        "lead_time_tier",
        "median, first commit to production",
        {"median_lead_time_minutes": 1 / 1440},
        log=True,
        ticks=((1 / 24, "1 h"), (1.0, "1 day"), (7.0, "1 week"), (30.0, "30 days")),
    ),
    DoraSeries(
        "change_failure_rate",
        "Change failure rate",
        "change_failure_rate",
        "change_failure_rate_tier",
        "% of deployments that failed",
        {"change_failure_rate": 100.0},
    ),
    DoraSeries(
        "failed_deployment_recovery_time",
        "Recovery time",
        "median_recovery_time_minutes",
        "recovery_time_tier",
        "median, failed deployment to recovery",
        {"median_recovery_time_minutes": 1 / 60},
        log=True,
        ticks=((1 / 6, "10 min"), (1.0, "1 h"), (24.0, "1 day"), (168.0, "1 week")),
    ),
)
_SERIES_UNIT = {
    "deployment_frequency": "days a week",
    "change_failure_rate": "%",
}


def tier_bands(rules: list[dict[str, Any]], scales: dict[str, float]) -> list[tuple]:
    """(tier, low, high) bands of a benchmark's tier rules in the plotted unit; None is open.

    The rules are tried in order (elite first); a rule ">= 5" after an elite ">= 7" gives the
    band [5, 7). Rules on another measure of the same metric are converted with `scales`.
    """
    bands = []
    higher_is_better = bool(rules) and rules[0]["op"] in (">=", ">")
    bounds = [float(rule["bound"]) * scales.get(rule["measure"], 1.0) for rule in rules]
    for index, rule in enumerate(rules):
        previous = bounds[index - 1] if index else None
        if higher_is_better:
            low = bounds[index] if rule["op"] in (">=", ">") else None
            bands.append((rule["tier"], low, previous))
        else:
            high = bounds[index] if rule["op"] in ("<", "<=") else None
            bands.append((rule["tier"], previous, high))
    return bands


def _dora_value_text(series: DoraSeries, value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    if series.key == "deployment_frequency":
        return f"{formatting.measure(value, 1)} days a week"
    if series.key == "change_failure_rate":
        return formatting.share(value, 1)
    return formatting.duration(float(value) * 60)


def _axis_range(values: list[float], bands: list[tuple], log: bool) -> list[float]:
    finite = [b for _, low, high in bands for b in (low, high) if b is not None]
    shown = [v for v in values if v is not None and (v > 0 or not log)]
    if log:
        low = min([*(v / 1.6 for v in shown), *(b / 3 for b in finite if b > 0)], default=0.1)
        high = max([*(v * 1.6 for v in shown), *(b * 2 for b in finite)], default=10)
        return [math.log10(low), math.log10(high)]
    high = max([*(v * 1.15 for v in shown), *(b * 1.3 for b in finite)], default=1)
    return [0, high]


def dora_trend_chart(dora: pd.DataFrame) -> Figure:
    """The four DORA metrics month by month, one row each, over their benchmark's tier bands
    (green elite, teal high, amber medium, red low); each point coloured by the tier it got.
    Lead time and recovery time are on log scales (the tiers span minutes to weeks)."""
    rows = axes.complete_rows(dora)
    labels = rows["label"].tolist()
    benchmark = _benchmark(rows)
    rules = load_benchmark(benchmark)["metrics"]
    count, gap = len(DORA_SERIES), 0.1
    height = (1 - gap * (count - 1)) / count
    traces, shapes, annotations = [], [], []
    layout: dict[str, Any] = {
        "showlegend": False,
        "hovermode": "closest",
        "margin": {"t": 44, "r": 16, "b": 36, "l": 64},
        "xaxis": {**date_axis(labels), "anchor": f"y{count}"},
    }
    for index, series in enumerate(DORA_SERIES):
        axis = "y" if index == 0 else f"y{index + 1}"
        top = 1 - index * (height + gap)
        scale = series.scales[series.measure]
        values = [
            None if value is None or pd.isna(value) else float(value) * scale
            for value in rows[series.measure]
        ]
        bands = tier_bands(rules.get(series.key, {}).get("tiers", []), series.scales)
        span = _axis_range(values, bands, series.log)
        yaxis: dict[str, Any] = {
            "domain": [max(top - height, 0), top],
            "anchor": "x",
            "range": span,
            "gridcolor": GRID,
            "zeroline": False,
            "automargin": True,
        }
        if series.log:
            yaxis["type"] = "log"
            yaxis["tickvals"] = [value for value, _ in series.ticks]
            yaxis["ticktext"] = [text for _, text in series.ticks]
        else:
            yaxis["title"] = {"text": _SERIES_UNIT.get(series.key, ""), "font": {"size": 12}}
        layout["yaxis" if index == 0 else f"yaxis{index + 1}"] = yaxis
        for tier, low, high in bands:
            y0 = span[0] if low is None else (math.log10(low) if series.log else low)
            y1 = span[1] if high is None else (math.log10(high) if series.log else high)
            y0, y1 = max(y0, span[0]), min(y1, span[1])
            if y1 <= y0:
                continue
            shapes.append(
                {
                    "type": "rect",
                    "layer": "below",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "yref": axis,
                    # shapes on a log axis take data values (the range is in log10)
                    "y0": 10**y0 if series.log else y0,
                    "y1": 10**y1 if series.log else y1,
                    "fillcolor": TIER_COLOURS.get(tier, "#9aa5b1"),
                    "opacity": 0.1,
                    "line": {"width": 0},
                }
            )
            if (y1 - y0) / (span[1] - span[0]) >= 0.16:
                middle = (y0 + y1) / 2
                annotations.append(
                    {
                        "xref": "paper",
                        "x": 1,
                        "xanchor": "right",
                        "yref": axis,
                        "y": middle,  # annotations on a log axis take log10 values
                        "yanchor": "middle",
                        "text": tier,
                        "showarrow": False,
                        "font": {"size": 11, "color": TIER_COLOURS.get(tier, "#5d6b7c")},
                    }
                )
        annotations.append(
            {
                "xref": "paper",
                "x": 0,
                "xanchor": "left",
                "yref": "paper",
                "y": top,
                "yanchor": "bottom",
                # two lines: the unit stays readable on a phone's narrow chart
                "text": f"<b>{series.name}</b><br>{series.unit}",
                "align": "left",
                "showarrow": False,
                "font": {"size": 13},
            }
        )
        tiers = [str(tier) if tier else "no tier" for tier in rows[series.tier].fillna("")]
        traces.append(
            {
                "type": "scatter",
                "name": series.name,
                "xaxis": "x",
                "yaxis": axis,
                "x": axes.x_dates(labels),
                "y": values,
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": "#1f4e79", "width": 2},
                "marker": {
                    "size": 9,
                    "color": [TIER_COLOURS.get(tier, "#9aa5b1") for tier in tiers],
                    "line": {"color": "#ffffff", "width": 1},
                },
                "customdata": [
                    [_dora_value_text(series, value), tier]
                    for value, tier in zip(rows[series.measure], tiers, strict=True)
                ],
                "hovertemplate": f"{series.name}, %{{x|%b %Y}}: %{{customdata[0]}} "
                "(%{customdata[1]})<extra></extra>",
            }
        )
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    return figure(traces, layout)


def _benchmark(dora: pd.DataFrame) -> str:
    known = dora["benchmark"].dropna() if "benchmark" in dora else pd.Series(dtype=object)
    return str(known.iloc[-1]) if not known.empty else "dora-2023"


def dora_trend_table(dora: pd.DataFrame) -> pd.DataFrame:
    rows = axes.complete_rows(dora)
    return pd.DataFrame(
        {
            "Month": [formatting.month(period_start(label)) for label in rows["label"]],
            "Deployment days a week": rows["median_deployment_days_per_week"].to_numpy(),
            "Deployment frequency tier": rows["deployment_frequency_tier"].to_numpy(),
            "Lead time (days)": (rows["median_lead_time_minutes"].astype(float) / 1440)
            .round(2)
            .to_numpy(),
            "Lead time tier": rows["lead_time_tier"].to_numpy(),
            "Change failure rate (%)": axes.percent(rows["change_failure_rate"]).to_numpy(),
            "Change failure rate tier": rows["change_failure_rate_tier"].to_numpy(),
            "Recovery time (hours)": (rows["median_recovery_time_minutes"].astype(float) / 60)
            .round(1)
            .to_numpy(),
            "Recovery time tier": rows["recovery_time_tier"].to_numpy(),
        }
    )


def dora_trend_finding(dora: pd.DataFrame) -> str:
    """The last complete month's tiers: "In Feb 2026: deployment frequency high, lead time
    elite, change failure rate elite, recovery time medium (DORA 2023 tiers)"."""
    rows = axes.complete_rows(dora)
    if rows.empty:
        return ""
    last = rows.iloc[-1]
    parts = [
        f"{series.name.lower().replace(' for changes', '')} {last[series.tier] or 'without a tier'}"
        for series in DORA_SERIES
        if pd.notna(last[series.measure])
    ]
    if not parts:
        return ""
    version = _benchmark(rows).replace("dora-", "DORA ")
    return f"In {period_name(last['label'])}: {', '.join(parts)} ({version} tiers)"
