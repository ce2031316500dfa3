"""The investment and scenario charts: plain figure dicts (no plotly objects, no Django) whose
data, titles and shares are what an executive reads."""

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pandas as pd

from leanpmo.charts import initiatives as ic
from leanpmo.charts.decisions import decision_timeline_chart, decision_timeline_title
from leanpmo.charts.investment import (
    budget_actual_chart,
    budget_actual_title,
    periods_chart,
    periods_title,
    share_bar_chart,
    share_title,
    stream_team_chart,
    stream_team_title,
    work_type_chart,
    work_type_title,
)
from leanpmo.charts.scenarios import (
    scenario_horizons_chart,
    scenario_horizons_title,
    scenario_streams_chart,
    scenario_streams_title,
)
from leanpmo.charts.tables import people_table

D = Decimal


def test_the_money_modules_are_pure_and_build_no_plotly_objects():
    code = (
        "import sys, leanpmo.charts.investment, leanpmo.charts.decisions, leanpmo.charts.scenarios, "
        "leanpmo.charts.tables, leanpmo.charts.initiatives, leanpmo.evidence, "
        "leanpmo.plan_text, leanpmo.guardrails, leanpmo.metrics.mix, leanpmo.metrics.comparison, "
        "leanpmo.metrics.scorecard; "
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'django', 'plotly'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _json_safe(figure):
    assert json.loads(json.dumps(figure)) == figure  # no Decimal, dates as text
    return figure


HORIZONS = pd.DataFrame(
    {"horizon": ["Run", "Grow", "Transform"], "amount": [D("1780830"), D("965882"), D("464768")]}
)


def test_horizon_shares_add_up_to_exactly_100_and_the_title_names_the_finding():
    figure = _json_safe(share_bar_chart(HORIZONS, "horizon", "EUR"))
    bars = figure["data"][0]
    assert bars["y"] == ["Run", "Grow", "Transform"]
    assert bars["x"] == [1780830.0, 965882.0, 464768.0]
    # 55.45 / 30.08 / 14.47: rounded one by one they add up to 99 %; each name stands above its bar
    assert [note["text"] for note in figure["layout"]["annotations"]] == [
        "<b>Run</b> · 55 % · 1.78M EUR",
        "<b>Grow</b> · 30 % · 966k EUR",
        "<b>Transform</b> · 15 % · 465k EUR",
    ]
    assert [note["y"] for note in figure["layout"]["annotations"]] == bars["y"]
    assert figure["layout"]["yaxis"]["showticklabels"] is False
    assert figure["layout"]["xaxis"]["title"]["text"] == "EUR"  # money axes carry the currency
    assert share_title(HORIZONS, "horizon", "EUR") == "Run takes 55 % of 3.21M EUR"
    assert share_title(HORIZONS.iloc[0:0], "horizon", "EUR") == "Money by horizon"


MIX = pd.DataFrame(
    {
        "value_stream": ["Cards", "Payments", "Payments", "Lending"],
        "team": ["Card Issuing", "Instant Payments", "Payment Rails", "(no team)"],
        "amount": [D("582659"), D("400000"), D("392330"), D("100000")],
    }
)


def test_the_stream_mix_is_sorted_bars_with_the_teams_on_hover():
    figure = _json_safe(stream_team_chart(MIX, "EUR"))
    bars = figure["data"][0]
    assert (bars["type"], bars["orientation"]) == ("bar", "h")
    assert bars["y"] == ["Payments", "Cards", "Lending"]  # largest first
    assert bars["x"] == [792330.0, 582659.0, 100000.0]
    assert [note["text"] for note in figure["layout"]["annotations"]] == [
        "<b>Payments</b> · 54 % · 792k EUR",
        "<b>Cards</b> · 39 % · 583k EUR",
        "<b>Lending</b> · 7 % · 100k EUR",
    ]
    assert bars["customdata"][0] == "Instant Payments: 400k EUR<br>Payment Rails: 392k EUR"
    assert figure["layout"]["height"] == 8 + 48 + 58 * 3  # a line of text and a bar per stream
    assert stream_team_title(MIX, "EUR") == "Payments takes the most: 54 % of 1.47M EUR"


def test_budget_and_actual_say_how_much_was_spent():
    frame = pd.DataFrame(
        {
            "value_stream": ["Cards", "Payments"],
            "budget": [D("500000"), D("1000000")],
            "actual": [None, D("900000")],
        }
    )
    figure = _json_safe(budget_actual_chart(frame, "EUR"))
    assert figure["data"][0]["y"] == ["Payments", "Cards"]
    assert figure["data"][1]["x"] == [900000.0, None]
    assert [note["text"] for note in figure["layout"]["annotations"]] == [
        "<b>Payments</b> · 90 % spent",
        "<b>Cards</b> · no actual yet",
    ]
    assert budget_actual_title(frame, "EUR") == (
        "900k of 1M EUR spent (90 %) in 1 of 2 value streams"
    )
    assert budget_actual_title(frame.assign(actual=[None, None]), "EUR") == (
        "Budget per value stream: no actual spend recorded yet"
    )


def test_periods_stack_the_horizons_and_the_title_gives_the_change():
    frame = pd.DataFrame(
        {
            "period": ["2026 Q3", "2026 Q4"],
            "Run": [D("600"), D("700")],
            "Grow": [D("300"), D("300")],
            "Transform": [D("100"), D("100")],
        }
    )
    figure = _json_safe(periods_chart(frame, "EUR"))
    assert [trace["name"] for trace in figure["data"]] == ["Run", "Grow", "Transform"]
    assert figure["data"][0]["y"] == [600.0, 700.0]
    assert figure["layout"]["yaxis"]["title"]["text"] == "EUR"
    assert periods_title(frame, "EUR") == "2026 Q4: 1.1k EUR, +10 % on 2026 Q3"


def test_the_decision_timeline_has_dates_as_dates_and_counts_its_outcomes():
    frame = pd.DataFrame(
        {
            "decided_at": [dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), dt.datetime(2026, 9, 1, tzinfo=dt.UTC)],
            "value_stream": ["Cards", "Payments"],
            "kind": ["Increase", "Continue"],
            "change": [D("50000"), D("0")],
            "outcome": ["Held", "Not reviewed"],
        }
    )  # fmt: skip
    figure = _json_safe(decision_timeline_chart(frame, "EUR"))
    held = figure["data"][0]
    assert (held["name"], held["x"], held["customdata"]) == (
        "Held", ["2026-03-02T09:00:00+00:00"], ["Increase · +50,000 EUR"],
    )  # fmt: skip
    assert figure["data"][1]["customdata"] == ["Continue"]
    assert figure["layout"]["xaxis"]["type"] == "date"
    assert decision_timeline_title(frame) == "2 decisions: 1 held, 1 not reviewed yet"


def test_work_types_compare_plan_and_finished_work_in_whole_percent():
    frame = pd.DataFrame(
        {
            "item_type": ["Feature", "Defect", "Risk", "Debt"],
            "planned": [0.645, 0.105, 0.1, 0.15],
            "completed": [0.58, 0.22, 0.08, 0.12],
            "done": [58, 22, 8, 12],
        }
    )
    figure = _json_safe(work_type_chart(frame))
    assert sum(figure["data"][0]["y"]) == 100
    assert figure["data"][1]["y"] == [58, 22, 8, 12]
    assert (
        work_type_title(frame) == "Defect: 10 % of the capacity planned, 22 % of the work finished"
    )


def test_a_scenario_says_how_much_it_moves_and_where():
    frame = pd.DataFrame(
        {
            "value_stream": ["Cards", "Payments"],
            "plan": [D("850000"), D("1000000")],
            "scenario": [D("950000"), D("900000")],
            "change": [D("100000"), D("-100000")],
        }
    )
    figure = _json_safe(scenario_streams_chart(frame, "EUR"))
    assert figure["data"][1]["customdata"] == ["+100,000 EUR", "\u2212100,000 EUR"]
    assert [note["text"] for note in figure["layout"]["annotations"]] == [
        "<b>Cards</b> · 950k EUR (+100,000)",
        "<b>Payments</b> · 900k EUR (\u2212100,000)",
    ]
    assert scenario_streams_title(frame, "EUR") == (
        "The scenario moves 100k EUR: most at Cards (+100,000)"
    )
    horizons = pd.DataFrame(
        {"horizon": ["Run", "Grow", "Transform", "Total"], "plan": [D(55), D(30), D(15), D(100)],
         "scenario": [D(50), D(30), D(20), D(100)]}
    )  # fmt: skip
    figure = _json_safe(scenario_horizons_chart(horizons, "EUR"))
    assert figure["data"][0]["x"] == ["Run", "Grow", "Transform"]  # no Total bar
    assert figure["data"][1]["text"] == ["50 %", "30 %", "20 %"]
    assert scenario_horizons_title(horizons) == "Run: 55 % of the plan, 50 % in the scenario"


def test_people_tables_write_every_cell_for_people():
    frame = pd.DataFrame(
        {"horizon": ["Run", "Grow", "Transform", "Total"], "amount": [D("555"), D("300"), D("145"), D("1000")],
         "share": [0.555, 0.3, 0.145, None], "when": [dt.date(2026, 4, 1)] * 4}
    )  # fmt: skip
    table = people_table(
        frame,
        {"horizon": "text", "amount": "money", "share": "share", "when": "date"},
        currency="EUR",
    )
    assert table.to_numpy().tolist() == [
        ["Run", "555 EUR", "56 %", "1 Apr 2026"],
        ["Grow", "300 EUR", "30 %", "1 Apr 2026"],
        ["Transform", "145 EUR", "14 %", "1 Apr 2026"],
        ["Total", "1,000 EUR", "—", "1 Apr 2026"],
    ]


def test_the_pyramid_shares_add_up_to_100_with_strategic_work_on_top():
    mix = pd.DataFrame(
        {
            "period": ["2026 Q4"] * 3,
            "shape": ["team_mission", "product_group", "strategic_initiative"],
            "count": [3, 2, 2],
            "cost": [D(1), D(1), D(2)],
            "count_share": [3 / 7, 2 / 7, 2 / 7],
            "cost_share": [0.25, 0.25, 0.5],
        }
    )
    figure = _json_safe(ic.pyramid_chart(mix))
    by_count = next(t for t in figure["data"] if t["name"] == "Share by count")
    assert sum(by_count["x"]) == 100
    assert ic.pyramid_title(mix) == (
        "Strategic initiatives: 28 % of the initiatives in progress, 50 % of the team cost"
    )
    assert (
        ic.strategic_cap_title(mix, 2)
        == "2 strategic initiatives in progress in 2026 Q4; the cap is 2"
    )
    trend = _json_safe(ic.pyramid_trend_chart(mix))
    assert [t["y"] for t in trend["data"]] == [[25], [25], [50]]
