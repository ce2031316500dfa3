"""Pure figures for the executive investment page: mix tables in, Plotly figure dicts out (plain
data for `static/js/charts.js`, no plotly.graph_objects, no Django).

Every chart comes with a title that states its finding in the unit it is read in ("Run takes 55 %
of 3.21M EUR"); money axes carry the currency; shares shown side by side add up to exactly 100 %
(largest remainder, portfolio.formatting.whole_percents). The numbers behind a chart stay in
its table and CSV (leanpmo.charts.tables.people_table writes it for people).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from leanpmo.charts.layout import (
    COLOURS,
    TOP_LEGEND,
    Figure,
    as_floats,
    decimal_total,
    labelled_rows,
    money_axis,
)
from portfolio.formatting import (
    money_short,
    percent_change,
    share,
    whole_percents,
)


def stream_team_chart(mix: pd.DataFrame, currency: str) -> Figure:
    """Sorted horizontal bars: each value stream's money, largest first, with its whole-percent
    share (adding up to 100 %); hovering a bar lists the stream's teams with their part (split by
    team cost). `mix`: value_stream, team, amount (leanpmo.metrics.mix.stream_team_mix)."""
    parts: dict[str, list[tuple[str, Decimal]]] = {}  # stream → its teams' (team, amount), in order
    for stream, team, amount in zip(mix["value_stream"], mix["team"], mix["amount"], strict=True):
        parts.setdefault(stream, []).append((team, amount))
    totals = sorted(
        ((stream, decimal_total([amount for _, amount in own])) for stream, own in parts.items()),
        key=lambda pair: (-pair[1], pair[0]),
    )
    names = [stream for stream, _ in totals]
    amounts = [amount for _, amount in totals]
    shares = whole_percents(amounts)
    teams = {
        stream: "<br>".join(
            f"{team}: {money_short(amount, currency)}"
            for team, amount in sorted(own, key=lambda part: part[1], reverse=True)
        )
        for stream, own in parts.items()
    }
    texts = [
        f"<b>{name}</b> · {pct} % · {money_short(amount, currency)}"
        for name, amount, pct in zip(names, amounts, shares, strict=True)
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": as_floats(amounts),
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
    streams = mix.groupby("value_stream")["amount"].agg(lambda s: decimal_total(list(s)))
    streams = streams.sort_values(ascending=False)
    shares = whole_percents(list(streams))
    total = decimal_total(list(streams))
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
                "x": as_floats(frame["amount"].tolist()),
                "y": names,
                "marker": {"color": [COLOURS.get(name, "#2a7ab8") for name in names]},
                "hovertemplate": f"%{{y}}: %{{x:,.0f}} {currency}<extra></extra>",
            }
        ],
        "layout": {"xaxis": money_axis(currency), **labelled_rows(names, texts)},
    }


def share_title(frame: pd.DataFrame, label: str, currency: str, *, verb: str = "takes") -> str:
    """ "Run takes 55 % of 3.21M EUR": the largest part's whole-percent share of the total."""
    if frame.empty or not decimal_total(list(frame["amount"])):
        return f"Money by {label}"
    shares = whole_percents(list(frame["amount"]))
    top = max(range(len(shares)), key=lambda i: (shares[i], -i))
    total = decimal_total(list(frame["amount"]))
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
    ordered = frame.assign(_order=as_floats(frame["budget"].tolist())).sort_values(
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
                "x": as_floats(ordered["budget"].tolist()),
                "marker": {"color": "#2a7ab8"},
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "Actual",
                "y": names,
                "x": as_floats(ordered["actual"].tolist()),
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
    budget, actual = decimal_total(list(known["budget"])), decimal_total(list(known["actual"]))
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
                "y": as_floats(frame[name].tolist()),
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
    totals = [decimal_total([r.Run, r.Grow, r.Transform]) for r in frame.itertuples()]
    last = frame["period"].iloc[-1]
    title = f"{last}: {money_short(totals[-1], currency)}"
    if len(totals) > 1 and totals[-2]:
        change = (totals[-1] - totals[-2]) * 100 / totals[-2]
        title += f", {percent_change(change, 1)} on {frame['period'].iloc[-2]}"
    return title
