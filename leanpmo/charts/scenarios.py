"""Pure figures of a scenario beside its plan: money per value stream and per horizon."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from leanpmo.charts.layout import (
    PLAN_COLOUR,
    SCENARIO_COLOUR,
    TOP_LEGEND,
    Figure,
    as_floats,
    labelled_rows,
    money_axis,
)
from portfolio.formatting import (
    money_change,
    money_short,
    whole_percents,
)


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
                "x": as_floats(frame["plan"].tolist()),
                "marker": {"color": PLAN_COLOUR},
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "Scenario",
                "y": names,
                "x": as_floats(frame["scenario"].tolist()),
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
                "y": as_floats(horizons[side].tolist()),
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
