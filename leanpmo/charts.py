"""Pure figures for the executive investment page and the scenario comparison: mix tables in, Plotly
figure dicts out (plain data for `static/js/charts.js`, no plotly.graph_objects, no Django).

Every chart comes with a title that states its finding in the unit it is read in ("Run takes 55 %
of 3.21M EUR"); money axes carry the currency; shares shown side by side add up to exactly 100 %
(largest remainder, portfolio.formatting.whole_percents). The numbers behind a chart stay in
its table and CSV; `people_table` writes such a table for people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from portfolio.formatting import (
    MISSING,
    measure,
    money,
    money_change,
    money_short,
    number,
    percent_change,
    share,
    whole_percents,
)

Figure = dict[str, Any]

COLOURS = {"Run": "#1f4e79", "Grow": "#2a7ab8", "Transform": "#6a4c93"}
TOP_LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
OUTCOME_COLOURS = {
    "Held": "#2e7d32",
    "Partly held": "#b26a00",
    "Did not hold": "#b3261e",
    "Too early to tell": "#5d6b7c",
    "Not reviewed": "#9aa7b4",
}
PLAN_COLOUR, SCENARIO_COLOUR = "#9aa7b4", "#2a7ab8"
# a horizontal bar chart writes each category's name (and figures) above its bar, across the
# whole width, so that long names stay readable on a phone and the bars keep the room
ROW_HEIGHT = 58  # px per category: a line of text above a bar
BAR_GAP = 0.5  # the part of a row that is not bar
MARGIN = {"t": 8, "r": 16, "b": 48, "l": 8}


def _floats(values: Sequence[Any]) -> list[float | None]:
    """Numbers Plotly can draw (Decimal → float, missing → None)."""
    out: list[float | None] = []
    for value in values:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            out.append(None)
        else:
            out.append(float(value))
    return out


def _total(values: Sequence[Any]) -> Decimal:
    return sum((Decimal(str(v)) for v in values if v is not None and not pd.isna(v)), Decimal(0))


def money_axis(currency: str) -> dict[str, Any]:
    """A money axis: short ticks ("500k", "1.5M") titled with the currency."""
    return {
        "title": {"text": currency},
        "tickformat": "~s",
        "rangemode": "tozero",
        "automargin": True,
    }


def _hbar_height(count: int) -> int:
    """A horizontal bar chart's height: enough for every category's name and bar."""
    return MARGIN["t"] + MARGIN["b"] + ROW_HEIGHT * max(count, 1)


def labelled_rows(labels: Sequence[str], texts: Sequence[str], *, legend: bool = False) -> dict:
    """The layout of a horizontal bar chart whose categories (`labels`, top to bottom) are named
    by `texts` written above their bars from the left edge, instead of tick labels beside them."""
    height = _hbar_height(len(labels)) + (30 if legend else 0)
    plot = height - MARGIN["t"] - MARGIN["b"] - (30 if legend else 0)
    bar = plot / max(len(labels), 1) * (1 - BAR_GAP)
    layout: dict[str, Any] = {
        "height": height,
        "margin": {**MARGIN, "t": MARGIN["t"] + (30 if legend else 0)},
        "bargap": BAR_GAP,
        "yaxis": {
            "type": "category",
            "autorange": "reversed",
            "showticklabels": False,
            "fixedrange": True,
        },
        "annotations": [
            {
                "x": 0,
                "xref": "paper",
                "y": label,
                "yref": "y",
                "text": text,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "yshift": round(bar / 2) + 1,
                "font": {"size": 13},
                "align": "left",
            }
            for label, text in zip(labels, texts, strict=True)
        ],
    }
    if legend:
        # in the band the top margin keeps for it, whatever the chart's height
        layout["legend"] = {
            "orientation": "h",
            "x": 0,
            "y": 1,
            "yref": "container",
            "yanchor": "top",
        }
    return layout


# -- the investment mix ---------------------------------------------------------------------------


def stream_team_chart(mix: pd.DataFrame, currency: str) -> Figure:
    """Sorted horizontal bars: each value stream's money, largest first, with its whole-percent
    share (adding up to 100 %); hovering a bar lists the stream's teams with their part (split by
    team cost). `mix`: value_stream, team, amount (leanpmo.mix.stream_team_mix)."""
    streams = (
        mix.groupby("value_stream", as_index=False, sort=False)["amount"]
        .agg(lambda s: _total(list(s)))
        .sort_values(["amount", "value_stream"], ascending=[False, True])
    )
    shares = whole_percents(list(streams["amount"]))
    teams = {
        name: "<br>".join(
            f"{row.team}: {money_short(row.amount, currency)}"
            for row in part.sort_values("amount", ascending=False).itertuples()
        )
        for name, part in mix.groupby("value_stream")
    }
    names = streams["value_stream"].tolist()
    texts = [
        f"<b>{name}</b> · {money_short(amount, currency)} · {pct} %"
        for name, amount, pct in zip(names, streams["amount"], shares, strict=True)
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": _floats(streams["amount"].tolist()),
                "y": names,
                "marker": {"color": "#1f4e79"},
                "customdata": [teams.get(name, "") for name in names],
                "hovertemplate": f"<b>%{{y}}</b>: %{{x:,.0f}} {currency}<br>%{{customdata}}"
                "<extra></extra>",
            }
        ],
        "layout": {"xaxis": money_axis(currency), **labelled_rows(names, texts)},
    }


def stream_team_title(mix: pd.DataFrame, currency: str) -> str:
    """ "Payments takes the most: 31 % of 3.21M EUR"."""
    if mix.empty:
        return "Money by value stream"
    streams = mix.groupby("value_stream")["amount"].agg(lambda s: _total(list(s)))
    streams = streams.sort_values(ascending=False)
    shares = whole_percents(list(streams))
    total = _total(list(streams))
    return f"{streams.index[0]} takes the most: {shares[0]} % of {money_short(total, currency)}"


def share_bar_chart(frame: pd.DataFrame, label: str, currency: str) -> Figure:
    """Horizontal bars of money per `label` (theme or horizon), in the frame's order, each with its
    share in whole percent (adding up to 100 %) and its money. `frame`: label, amount."""
    names = frame[label].tolist()
    shares = whole_percents(list(frame["amount"]))
    texts = [
        f"<b>{name}</b> · {pct} % · {money_short(amount, currency)}"
        for name, pct, amount in zip(names, shares, frame["amount"], strict=True)
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": _floats(frame["amount"].tolist()),
                "y": names,
                "marker": {"color": [COLOURS.get(name, "#2a7ab8") for name in names]},
                "hovertemplate": f"%{{y}}: %{{x:,.0f}} {currency}<extra></extra>",
            }
        ],
        "layout": {"xaxis": money_axis(currency), **labelled_rows(names, texts)},
    }


def share_title(frame: pd.DataFrame, label: str, currency: str, *, verb: str = "takes") -> str:
    """ "Run takes 55 % of 3.21M EUR": the largest part's whole-percent share of the total."""
    if frame.empty or not _total(list(frame["amount"])):
        return f"Money by {label}"
    shares = whole_percents(list(frame["amount"]))
    top = max(range(len(shares)), key=lambda i: (shares[i], -i))
    total = _total(list(frame["amount"]))
    return f"{frame[label].iloc[top]} {verb} {shares[top]} % of {money_short(total, currency)}"


def work_type_chart(frame: pd.DataFrame) -> Figure:
    """Planned capacity by work type (money-weighted) beside the share of work finished, when flow
    data exists; each side's whole-percent shares add up to 100 %. `frame`: item_type, planned,
    completed (0–1 or None), done."""
    types = frame["item_type"].tolist()
    planned = whole_percents(list(frame["planned"].fillna(0)))
    data = [
        {
            "type": "bar",
            "name": "Planned capacity",
            "x": types,
            "y": planned,
            "marker": {"color": "#1f4e79"},
            "text": [f"{pct} %" for pct in planned],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "%{x}: %{y} % of the planned capacity<extra></extra>",
        }
    ]
    if frame["completed"].notna().any():
        completed = whole_percents(list(frame["completed"].fillna(0)))
        data.append(
            {
                "type": "bar",
                "name": "Work finished",
                "x": types,
                "y": completed,
                "marker": {"color": "#b26a00"},
                "text": [f"{pct} %" for pct in completed],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": frame["done"].tolist(),
                "hovertemplate": "%{x}: %{y} % of the items finished (%{customdata})"
                "<extra></extra>",
            }
        )
    top = max(max(planned, default=0), max(data[-1]["y"], default=0))
    return {
        "data": data,
        "layout": {
            "barmode": "group",
            "legend": TOP_LEGEND,
            "yaxis": {
                "ticksuffix": " %",
                "range": [0, max(10, top * 1.2)],
                "title": {"text": "share"},
            },
        },
    }


def work_type_title(frame: pd.DataFrame) -> str:
    """The work type whose finished share is furthest from its planned share, e.g. "Debt: 15 %
    of the capacity planned, 6 % of the work finished"; the largest planned type without flow."""
    if frame.empty or not frame["planned"].notna().any():
        return "Capacity by work type"
    planned = whole_percents(list(frame["planned"].fillna(0)))
    types = frame["item_type"].tolist()
    if not frame["completed"].notna().any():
        top = max(range(len(planned)), key=lambda i: planned[i])
        return f"{types[top]} gets {planned[top]} % of the capacity planned; no finished work yet"
    done = whole_percents(list(frame["completed"].fillna(0)))
    gap = max(range(len(types)), key=lambda i: abs(planned[i] - done[i]))
    return (
        f"{types[gap]}: {planned[gap]} % of the capacity planned, "
        f"{done[gap]} % of the work finished"
    )


def budget_actual_chart(frame: pd.DataFrame, currency: str) -> Figure:
    """Budget and actual spend per value stream, horizontal, largest budget first.
    `frame`: value_stream, budget, actual (None where nothing was imported)."""
    ordered = frame.assign(_order=_floats(frame["budget"].tolist())).sort_values(
        "_order", ascending=False
    )
    names = ordered["value_stream"].tolist()
    hover = f"%{{y}}: %{{x:,.0f}} {currency}<extra>%{{fullData.name}}</extra>"
    texts = []
    for row in ordered.itertuples():
        spent = (
            f"{share(Decimal(str(row.actual)) / Decimal(str(row.budget)))} spent"
            if row.actual is not None and not pd.isna(row.actual) and row.budget
            else "no actual yet"
        )
        texts.append(f"<b>{row.value_stream}</b> · {spent}")
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "Budget",
                "y": names,
                "x": _floats(ordered["budget"].tolist()),
                "marker": {"color": "#2a7ab8"},
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "Actual",
                "y": names,
                "x": _floats(ordered["actual"].tolist()),
                "marker": {"color": "#5d6b7c"},
                "hovertemplate": hover,
            },
        ],
        "layout": {
            "barmode": "group",
            "xaxis": money_axis(currency),
            **labelled_rows(names, texts, legend=True),
        },
    }


def budget_actual_title(frame: pd.DataFrame, currency: str) -> str:
    """ "2.4M of 3.21M EUR spent (75 %)" over the value streams with an actual recorded."""
    known = frame[frame["actual"].notna()] if not frame.empty else frame
    if known.empty:
        return "Budget per value stream: no actual spend recorded yet"
    budget, actual = _total(list(known["budget"])), _total(list(known["actual"]))
    spent = f" ({share(actual / budget)})" if budget else ""
    streams = "" if len(known) == len(frame) else f" in {len(known)} of {len(frame)} value streams"
    return f"{money_short(actual)} of {money_short(budget, currency)} spent{spent}{streams}"


def periods_chart(frame: pd.DataFrame, currency: str) -> Figure:
    """Money per horizon, stacked, period after period. `frame`: period, Run, Grow, Transform."""
    return {
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": frame["period"].tolist(),
                "y": _floats(frame[name].tolist()),
                "marker": {"color": COLOURS[name]},
                "hovertemplate": f"%{{x}} · {name}: %{{y:,.0f}} {currency}<extra></extra>",
            }
            for name in ("Run", "Grow", "Transform")
        ],
        "layout": {
            "barmode": "stack",
            "legend": {**TOP_LEGEND, "traceorder": "normal"},
            "yaxis": money_axis(currency),
            "xaxis": {"type": "category"},
        },
    }


def periods_title(frame: pd.DataFrame, currency: str) -> str:
    """ "2027 Q1: 3.25M EUR, +1.2 % on 2026 Q4"."""
    if frame.empty:
        return "Money per period"
    totals = [_total([r.Run, r.Grow, r.Transform]) for r in frame.itertuples()]
    last = frame["period"].iloc[-1]
    title = f"{last}: {money_short(totals[-1], currency)}"
    if len(totals) > 1 and totals[-2]:
        change = (totals[-1] - totals[-2]) * 100 / totals[-2]
        title += f", {percent_change(change, 1)} on {frame['period'].iloc[-2]}"
    return title


def decision_timeline_chart(frame: pd.DataFrame, currency: str) -> Figure:
    """Decisions as points in time, one row per value stream or initiative, coloured by the
    outcome of their latest review. `frame`: decided_at, value_stream, kind, change, outcome."""
    subjects = sorted(frame["value_stream"].unique().tolist()) if not frame.empty else []
    data = []
    for outcome, colour in OUTCOME_COLOURS.items():
        part = frame[frame["outcome"] == outcome]
        if part.empty:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": outcome,
                "x": [_iso(value) for value in part["decided_at"]],
                "y": part["value_stream"].tolist(),
                "marker": {"size": 14, "color": colour, "line": {"width": 1, "color": "#fff"}},
                "customdata": [
                    f"{kind} · {money_change(change, currency)}" if change else kind
                    for kind, change in zip(part["kind"], part["change"], strict=True)
                ],
                "hovertemplate": "%{y}<br>%{x|%-d %b %Y}<br>%{customdata}<extra>"
                + outcome
                + "</extra>",
            }
        )
    rows = labelled_rows(subjects, subjects, legend=True)
    for note in rows["annotations"]:
        note["yshift"] = 8
        note["font"] = {"size": 12, "color": "#5d6b7c"}
    rows["yaxis"].update({"categoryorder": "array", "categoryarray": subjects, "showgrid": True})
    return {
        "data": data,
        "layout": {
            "xaxis": {"type": "date", "tickformat": "%b %Y"},
            **rows,
            "height": MARGIN["t"] + MARGIN["b"] + 30 + 44 * max(len(subjects), 1),
        },
    }


def decision_timeline_title(frame: pd.DataFrame) -> str:
    """ "22 decisions: 3 held, 1 partly held, 18 not reviewed yet"."""
    if frame.empty:
        return "No decisions yet"
    counts = frame["outcome"].value_counts()
    parts = [
        f"{counts[outcome]} {outcome.lower()}"
        for outcome in OUTCOME_COLOURS
        if counts.get(outcome, 0)
    ]
    noun = "decision" if len(frame) == 1 else "decisions"
    return f"{len(frame)} {noun}: " + ", ".join(parts).replace("not reviewed", "not reviewed yet")


def _iso(value: Any) -> str:
    """A date or time as ISO text Plotly reads as a date."""
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return str(value)


# -- a scenario beside its plan -------------------------------------------------------------------


def scenario_streams_chart(frame: pd.DataFrame, currency: str) -> Figure:
    """Each value stream's money in the plan beside the scenario, horizontal, with the change
    written at the scenario's bar. `frame`: value_stream, plan, scenario, change."""
    names = frame["value_stream"].tolist()
    hover = f"%{{y}}: %{{x:,.0f}} {currency}<extra>%{{fullData.name}}</extra>"
    texts = [
        f"<b>{row.value_stream}</b> · {money_short(row.scenario, currency)}"
        + (f" ({money_change(row.change)})" if row.change else ", unchanged")
        for row in frame.itertuples()
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "Plan",
                "y": names,
                "x": _floats(frame["plan"].tolist()),
                "marker": {"color": PLAN_COLOUR},
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "Scenario",
                "y": names,
                "x": _floats(frame["scenario"].tolist()),
                "marker": {"color": SCENARIO_COLOUR},
                "customdata": [money_change(c, currency) for c in frame["change"].tolist()],
                "hovertemplate": f"%{{y}}: %{{x:,.0f}} {currency} (%{{customdata}})"
                "<extra>Scenario</extra>",
            },
        ],
        "layout": {
            "barmode": "group",
            "xaxis": money_axis(currency),
            **labelled_rows(names, texts, legend=True),
        },
    }


def scenario_streams_title(frame: pd.DataFrame, currency: str) -> str:
    """ "The scenario moves 250k EUR: most to Cards (+150k)"; or that it moves nothing."""
    if frame.empty:
        return "Plan vs scenario by value stream"
    changes = [Decimal(str(c)) for c in frame["change"].tolist()]
    moved = sum((c for c in changes if c > 0), Decimal(0))
    freed = -sum((c for c in changes if c < 0), Decimal(0))
    if not moved and not freed:
        return "The scenario moves no money yet"
    biggest = max(range(len(changes)), key=lambda i: abs(changes[i]))
    name = frame["value_stream"].iloc[biggest]
    return (
        f"The scenario moves {money_short(max(moved, freed), currency)}: "
        f"most at {name} ({money_change(changes[biggest])})"
    )


def scenario_horizons_chart(frame: pd.DataFrame, currency: str) -> Figure:
    """Money per horizon, plan beside scenario, with each side's whole-percent shares (adding up to
    100 %). `frame`: horizon, plan, scenario (the Total row is left out of the bars)."""
    horizons = frame[frame["horizon"] != "Total"]
    data = []
    for side, colour in (("plan", PLAN_COLOUR), ("scenario", SCENARIO_COLOUR)):
        shares = whole_percents(list(horizons[side]))
        data.append(
            {
                "type": "bar",
                "name": side.title(),
                "x": horizons["horizon"].tolist(),
                "y": _floats(horizons[side].tolist()),
                "marker": {"color": colour},
                "text": [f"{pct} %" for pct in shares],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": f"%{{x}}: %{{y:,.0f}} {currency}<extra>{side.title()}</extra>",
            }
        )
    return {
        "data": data,
        "layout": {"barmode": "group", "legend": TOP_LEGEND, "yaxis": money_axis(currency)},
    }


def scenario_horizons_title(frame: pd.DataFrame) -> str:
    """ "Run: 55 % of the plan, 50 % in the scenario" for the horizon whose share moves most."""
    horizons = frame[frame["horizon"] != "Total"]
    if horizons.empty:
        return "Plan vs scenario by horizon"
    plan = whole_percents(list(horizons["plan"]))
    scenario = whole_percents(list(horizons["scenario"]))
    names = horizons["horizon"].tolist()
    moved = max(range(len(names)), key=lambda i: (abs(scenario[i] - plan[i]), -i))
    if plan[moved] == scenario[moved]:
        return f"{names[moved]}: {plan[moved]} % of the money in the plan and the scenario"
    return f"{names[moved]}: {plan[moved]} % of the plan, {scenario[moved]} % in the scenario"


# -- the numbers behind a chart, for people -------------------------------------------------------

FORMATS = {
    "money": lambda value, currency: money(value, currency),
    "change": lambda value, currency: money_change(value, currency),
    "share": lambda value, currency: share(value),
    "share1": lambda value, currency: share(value, 1),
    "percent_change": lambda value, currency: percent_change(value, 1),
    "count": lambda value, currency: number(value),
    "measure": lambda value, currency: measure(value, 1),
    "date": lambda value, currency: _date_text(value),
    "text": lambda value, currency: MISSING if value is None or pd.isna(value) else str(value),
}


def _date_text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return f"{value.day} {value:%b %Y}"
    return str(value)


def people_table(
    frame: pd.DataFrame, kinds: Mapping[str, str], *, currency: str = ""
) -> pd.DataFrame:
    """`frame` with each column written for people by its kind (`kinds`: column → "money",
    "change", "share", "share1", "percent_change", "count", "measure", "date" or "text"; columns
    not named are left out). Shares given as 0–1 in a column named with "share" of a money
    column's parts are written as whole percentages adding up to 100 % when the kind is
    "share"."""
    columns = {}
    for column, kind in kinds.items():
        values = frame[column].tolist()
        if kind == "share":
            numbers = [v for v in values if v is not None and not pd.isna(v)]
            if numbers and abs(sum(numbers) - 1) < 0.01:
                columns[column] = [
                    MISSING if value is None or pd.isna(value) else f"{pct} %"
                    for value, pct in zip(values, whole_percents(values), strict=True)
                ]
                continue
        columns[column] = [FORMATS[kind](value, currency) for value in values]
    return pd.DataFrame(columns, index=frame.index)
