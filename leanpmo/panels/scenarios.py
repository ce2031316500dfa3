"""The comparison of a scenario with its plan as page sections: the chart panels and the tables
behind them (from leanpmo.selectors.scenarios.scenario_comparison)."""

from __future__ import annotations

import pandas as pd
from django.urls import reverse

from leanpmo.charts.scenarios import (
    scenario_horizons_chart,
    scenario_horizons_title,
    scenario_streams_chart,
    scenario_streams_title,
)
from leanpmo.charts.tables import people_table
from leanpmo.models import Scenario
from leanpmo.selectors.scenarios import ScenarioComparison
from portfolio.charting import chart_panel
from portfolio.formatting import nobreak

TABLES = {
    # key: (title, column names for people)
    "streams": ("Plan vs scenario by value stream", ["Value stream", "Plan", "Scenario", "Change", "Change %"]),
    "horizons": ("Plan vs scenario by horizon", ["Horizon", "Plan", "Scenario", "Change", "Plan share", "Scenario share"]),
    "themes": ("Plan vs scenario by strategic theme", ["Theme", "Plan", "Scenario", "Change"]),
    "guardrails": ("Guardrails: plan vs scenario", ["Guardrail", "Scope", "Plan", "Scenario", "Plan within", "Scenario within", "Verdict"]),
}  # fmt: skip
CHARTS = {
    # key: (figure, finding, the table's columns for people by kind)
    "streams": (
        scenario_streams_chart,
        scenario_streams_title,
        {"value_stream": "text", "plan": "money", "scenario": "money", "change": "change",
         "change_pct": "percent_change"},
    ),
    "horizons": (
        scenario_horizons_chart,
        lambda frame, currency: scenario_horizons_title(frame),
        {"horizon": "text", "plan": "money", "scenario": "money", "change": "change",
         "plan_share": "share", "scenario_share": "share"},
    ),
}  # fmt: skip


def comparison_panels(scenario: Scenario, comparison: ScenarioComparison) -> dict[str, dict]:
    """The chart panels of a scenario beside its plan (by value stream, by horizon): each with its
    figure, finding, table for people and CSV link."""
    currency = scenario.period.portfolio.currency
    return {
        key: chart_panel(
            f"scenario-{key}",
            TABLES[key][0],
            build(comparison.tables[key], currency),
            people_table(comparison.tables[key], kinds, currency=currency),
            columns=TABLES[key][1],
            csv_url=reverse("scenario-compare-csv", args=[scenario.pk, key]),
            finding=nobreak(title(comparison.tables[key], currency)),
        )
        for key, (build, title, kinds) in CHARTS.items()
    }


def comparison_table(comparison: ScenarioComparison, table: str) -> pd.DataFrame:
    """One comparison table (streams, horizons, themes, guardrails), its columns named for people."""
    frame = comparison.tables[table].copy()
    frame.columns = TABLES[table][1]
    return frame
