"""The flow charts are pure: hand-built metric frames in, plain figures, tables and findings out."""

import datetime as dt
import json
import subprocess
import sys

import pandas as pd
import pytest

from valuestreams.charts import axes, breakdowns, dora
from valuestreams.charts import flow as flow_charts
from valuestreams.metrics.dora import load_benchmark

DAY = 86_400


def flow_frame() -> pd.DataFrame:
    rows = []
    for label, velocities, p50 in [
        ("2026-W01", {"Feature": 3, "Defect": 1, "Debt": 0}, 1.0),
        ("2026-W02", {"Feature": 2, "Defect": 0, "Debt": 2}, None),
    ]:
        for item_type, velocity in velocities.items():
            rows.append({"label": label, "item_type": item_type, "velocity": velocity})
        rows.append(
            {
                "label": label,
                "item_type": "All",
                "velocity": sum(velocities.values()),
                "flow_time_p50_s": None if p50 is None else p50 * DAY,
                "flow_time_p85_s": 4 * DAY,
                "flow_time_p95_s": 10.04 * DAY,
                "flow_efficiency": 0.2345,
                "load_mean": 7.5,
                "load_end": 9,
            }
        )
    return pd.DataFrame(rows)


def test_chart_modules_are_pure_and_import_no_django():
    code = (
        "import sys, valuestreams.charts.axes, valuestreams.charts.flow, valuestreams.charts.breakdowns, "
        "valuestreams.charts.dora, teams.charts, portfolio.charting; "
        "print([name for name in sys.modules if name.split('.')[0] == 'django'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_figures_are_plain_json_data_without_plotly_objects():
    figure = flow_charts.flow_time_chart(flow_frame())
    assert isinstance(figure, dict)
    assert set(figure) == {"data", "layout"}
    # strict JSON: a missing value is null, never NaN
    assert json.loads(json.dumps(figure, allow_nan=False)) == figure


def test_velocity_stacks_one_bar_per_type_that_has_items_on_a_date_axis():
    figure = flow_charts.flow_velocity_chart(flow_frame())
    assert figure["layout"]["barmode"] == "stack"
    traces = {trace["name"]: trace["y"] for trace in figure["data"]}
    assert traces == {"Feature": [3, 2], "Defect": [1, 0], "Debt": [0, 2]}
    assert [trace["type"] for trace in figure["data"]] == ["bar"] * 3
    # ISO weeks are drawn at their Monday, as dates: 2026-W01 starts on 29 December 2025
    assert figure["data"][0]["x"] == ["2025-12-29", "2026-01-05"]
    assert figure["layout"]["xaxis"]["type"] == "date"
    assert figure["layout"]["xaxis"]["hoverformat"] == "week of %-d %b %Y"


def test_the_running_week_is_drawn_lighter():
    flow = flow_frame().assign(complete=lambda f: f["label"] == "2026-W01")
    bars = flow_charts.flow_velocity_chart(flow)["data"][0]
    assert bars["marker"]["opacity"] == [1.0, axes.RUNNING_OPACITY]
    load = flow_charts.flow_load_chart(flow)["data"][0]
    assert load["marker"]["opacity"] == [1.0, axes.RUNNING_OPACITY]


def test_velocity_table_has_a_column_per_type_and_the_total():
    table = flow_charts.flow_velocity_table(flow_frame())
    assert list(table.columns) == ["Week starting", "Feature", "Defect", "Debt", "Total"]
    assert table.to_numpy().tolist() == [
        [dt.date(2025, 12, 29), 3, 1, 0, 4],
        [dt.date(2026, 1, 5), 2, 0, 2, 4],
    ]


def test_monthly_tables_name_the_month():
    flow = flow_frame().replace({"label": {"2026-W01": "2026-01", "2026-W02": "2026-02"}})
    assert flow_charts.flow_time_table(flow)["Month"].tolist() == ["Jan 2026", "Feb 2026"]
    assert flow_charts.flow_velocity_chart(flow)["layout"]["xaxis"]["hoverformat"] == "%b %Y"


def test_flow_time_draws_p50_p85_p95_in_days_and_leaves_gaps_for_missing_values():
    figure = flow_charts.flow_time_chart(flow_frame())
    assert [trace["name"] for trace in figure["data"]] == ["p50", "p85", "p95"]
    p50, p85, p95 = (trace["y"] for trace in figure["data"])
    assert p50 == [1.0, None]
    assert p85 == [4.0, 4.0]
    assert p95 == [10.0, 10.0]
    assert figure["layout"]["yaxis"]["title"]["text"] == "days from start to done"


def test_efficiency_is_shown_in_percent_on_a_0_to_100_axis():
    figure = flow_charts.flow_efficiency_chart(flow_frame())
    assert figure["data"][0]["y"] == [23.4, 23.4]
    assert figure["layout"]["yaxis"]["range"] == [0, 100]


def test_load_shows_the_mean_as_bars_and_the_end_of_period_as_a_line():
    figure = flow_charts.flow_load_chart(flow_frame())
    assert [(trace["type"], trace["name"]) for trace in figure["data"]] == [
        ("bar", "mean over the period"),
        ("scatter", "at period end"),
    ]
    assert figure["data"][0]["y"] == [7.5, 7.5]
    assert figure["data"][1]["y"] == [9.0, 9.0]


def test_findings_state_the_last_complete_period_with_units():
    flow = flow_frame().assign(complete=lambda f: f["label"] == "2026-W01")
    assert flow_charts.flow_velocity_finding(flow) == "4 items done in the week of 29 Dec 2025"
    assert flow_charts.flow_velocity_finding(flow_frame()) == (
        "4 items done in the week of 5 Jan 2026; 4 a week on average over the last 2 weeks"
    )
    assert flow_charts.flow_time_finding(flow) == (
        "85 % of the items done in the week of 29 Dec 2025 took 4 days or less (half of them 1 day)"
    )
    assert flow_charts.flow_efficiency_finding(flow).startswith("23 % of the flow time")
    assert flow_charts.flow_load_finding(flow) == (
        "9 items in progress at the end of the week of 29 Dec 2025"
    )


def test_load_finding_compares_with_four_weeks_before():
    rows = [
        {"label": f"2026-W{week:02d}", "item_type": "All", "velocity": 1, "load_end": load}
        for week, load in zip(range(1, 7), [10, 11, 12, 13, 20, 14], strict=True)
    ]
    assert flow_charts.flow_load_finding(pd.DataFrame(rows)) == (
        "14 items in progress at the end of the week of 2 Feb 2026, up 3 on 4 weeks before"
    )


def test_findings_of_empty_frames_are_empty():
    empty = flow_frame().iloc[0:0]
    for finding in (
        flow_charts.flow_velocity_finding,
        flow_charts.flow_time_finding,
        flow_charts.flow_efficiency_finding,
        flow_charts.flow_load_finding,
    ):
        assert finding(empty) == ""


def test_distribution_compares_done_shares_with_the_target():
    distribution = pd.DataFrame(
        {
            "item_type": ["Feature", "Debt"],
            "done": [9, 1],
            "share": [0.9, 0.1],
            "target": [0.6, 0.3],
        }
    )
    figure = breakdowns.flow_distribution_chart(distribution)
    assert [trace["name"] for trace in figure["data"]] == ["done", "target"]
    assert figure["data"][0]["y"] == [90.0, 10.0]
    assert figure["data"][1]["y"] == [60.0, 30.0]
    table = breakdowns.flow_distribution_table(distribution)
    assert table.to_numpy().tolist() == [["Feature", 9, 90.0, 60.0], ["Debt", 1, 10.0, 30.0]]
    assert breakdowns.flow_distribution_finding(distribution, recent="last 13 weeks") == (
        "Feature: 90 % of the items done in the last 13 weeks, against a 60 % target"
    )


def test_distribution_labels_add_up_to_100_percent():
    distribution = pd.DataFrame(
        {
            "item_type": ["Feature", "Defect", "Risk"],
            "done": [1, 1, 1],
            "share": [1 / 3, 1 / 3, 1 / 3],
            "target": [float("nan")] * 3,
        }
    )
    labels = breakdowns.flow_distribution_chart(distribution)["data"][0]["text"]
    assert labels == ["34 %", "33 %", "33 %"]


def test_distribution_without_targets_draws_only_what_was_done():
    distribution = pd.DataFrame(
        {"item_type": ["Feature"], "done": [3], "share": [1.0], "target": [float("nan")]}
    )
    figure = breakdowns.flow_distribution_chart(distribution)
    assert [trace["name"] for trace in figure["data"]] == ["done"]
    assert breakdowns.flow_distribution_finding(distribution, recent="last 3 months") == (
        "Feature: 100 % of the items done in the last 3 months"
    )


def test_time_in_status_puts_the_longest_wait_on_top_coloured_by_flow_state():
    status_times = pd.DataFrame(
        {
            "status": ["In Review", "In Progress", "Awaiting Vendor"],
            "flow_state": ["waiting", "active", "waiting"],
            "items": [4, 5, 1],
            "time_s": [6 * DAY, 3 * DAY, 1 * DAY],
            "share": [0.6, 0.3, 0.1],
        }
    )
    figure = breakdowns.time_in_status_chart(status_times)
    bars = figure["data"][0]
    assert bars["orientation"] == "h"
    # Plotly draws the first category at the bottom: the largest comes last.
    assert bars["y"] == ["Awaiting Vendor", "In Progress", "In Review"]
    assert bars["x"] == [1.0, 3.0, 6.0]
    assert bars["marker"]["color"] == [
        breakdowns.STATE_COLOURS["waiting"],
        breakdowns.STATE_COLOURS["active"],
        breakdowns.STATE_COLOURS["waiting"],
    ]
    assert breakdowns.time_in_status_table(status_times)["Days"].tolist() == [6.0, 3.0, 1.0]
    assert breakdowns.time_in_status_finding(status_times, recent="last 13 weeks") == (
        "Work waits longest in “In Review”: 60 % of the time of the items done in the last 13 weeks"
    )


def test_team_breakdown_stacks_teams_and_fills_missing_periods_with_zero():
    team_velocity = pd.DataFrame(
        {
            "team": ["Rails", "Instant", "Instant"],
            "label": ["2026-W01", "2026-W01", "2026-W02"],
            "velocity": [2, 5, 4],
        }
    )
    figure = breakdowns.team_breakdown_chart(team_velocity)
    assert {trace["name"]: trace["y"] for trace in figure["data"]} == {
        "Instant": [5, 4],
        "Rails": [2, 0],
    }
    table = breakdowns.team_breakdown_table(team_velocity)
    assert table.to_dict("records") == [
        {"Week starting": dt.date(2025, 12, 29), "Rails": 2, "Instant": 5},
        {"Week starting": dt.date(2026, 1, 5), "Rails": 0, "Instant": 4},
    ]
    assert breakdowns.team_breakdown_finding(team_velocity) == (
        "Instant did 82 % of the items done over the last 2 weeks"
    )


@pytest.mark.parametrize(
    "chart",
    [flow_charts.flow_velocity_chart, flow_charts.flow_time_chart, flow_charts.flow_load_chart],
)
def test_charts_of_an_empty_frame_have_no_points(chart):
    empty = flow_frame().iloc[0:0]
    assert all(len(trace.get("y") or []) == 0 for trace in chart(empty)["data"])


# --- DORA over the last months ----------------------------------------------------------------


def dora_frame() -> pd.DataFrame:
    rows = []
    for n, (month, per_week, lead_min, cfr, recovery_min, tiers) in enumerate(
        [
            ("2025-12", 0.5, 20 * 1440, 0.2, 3 * 1440, ("medium", "medium", "low", "medium")),
            ("2026-01", 2.0, 3 * 1440, 0.08, 300, ("high", "high", "high", "high")),
            ("2026-02", 5.0, 600, 0.04, 30, ("elite", "elite", "elite", "elite")),
            ("2026-03", 1.0, None, None, None, ("high", None, None, None)),
        ]
    ):
        rows.append(
            {
                "label": month,
                "complete": n < 3,  # March is still running
                "benchmark": "dora-2023",
                "median_deployment_days_per_week": per_week,
                "median_lead_time_minutes": lead_min,
                "change_failure_rate": cfr,
                "median_recovery_time_minutes": recovery_min,
                "deployment_frequency_tier": tiers[0],
                "lead_time_tier": tiers[1],
                "change_failure_rate_tier": tiers[2],
                "recovery_time_tier": tiers[3],
            }
        )
    return pd.DataFrame(rows)


def test_tier_bands_follow_the_benchmark_rules_in_the_plotted_unit():
    rules = load_benchmark("dora-2023")["metrics"]
    lead_time = dora.tier_bands(
        rules["lead_time_for_changes"]["tiers"], {"median_lead_time_minutes": 1 / 1440}
    )
    assert lead_time == [
        ("elite", None, 1.0),
        ("high", 1.0, 7.0),
        ("medium", 7.0, 30.0),
        ("low", 30.0, None),
    ]
    frequency = dora.tier_bands(rules["deployment_frequency"]["tiers"], dora.DORA_SERIES[0].scales)
    # elite from 5 deployment days a week; medium down to once a month (12 in 52 weeks)
    assert frequency == [
        ("elite", 5.0, None),
        ("high", 1.0, 5.0),
        ("medium", pytest.approx(12 / 52), 1.0),
        ("low", None, pytest.approx(12 / 52)),
    ]


def test_dora_trend_draws_four_metrics_over_complete_months_with_their_tier_bands():
    figure = dora.dora_trend_chart(dora_frame())
    traces = figure["data"]
    assert [trace["name"] for trace in traces] == [
        "Deployment frequency",
        "Lead time for changes",
        "Change failure rate",
        "Recovery time",
    ]
    assert [trace["yaxis"] for trace in traces] == ["y", "y2", "y3", "y4"]
    # complete months only, as dates; lead time in days, failure rate in %, recovery in hours
    assert traces[0]["x"] == ["2025-12-01", "2026-01-01", "2026-02-01"]
    assert traces[1]["y"] == [20.0, 3.0, pytest.approx(600 / 1440)]
    assert traces[2]["y"] == [20.0, 8.0, 4.0]
    assert traces[3]["y"] == [72.0, 5.0, 0.5]
    # each point coloured by the tier it reached
    assert traces[0]["marker"]["color"] == [
        dora.TIER_COLOURS["medium"],
        dora.TIER_COLOURS["high"],
        dora.TIER_COLOURS["elite"],
    ]
    assert traces[1]["customdata"][1] == ["3 days", "high"]
    layout = figure["layout"]
    assert layout["yaxis2"]["type"] == "log"
    assert layout["yaxis2"]["ticktext"] == ["1 h", "1 day", "1 week", "30 days"]
    lead_time_bands = [s for s in layout["shapes"] if s["yref"] == "y2"]
    # shapes on a log axis take data values: the high band runs from 1 to 7 days
    assert [(s["y0"], s["y1"]) for s in lead_time_bands][1] == (
        pytest.approx(1.0),
        pytest.approx(7.0),
    )
    assert [s["fillcolor"] for s in lead_time_bands] == [
        dora.TIER_COLOURS[tier] for tier in ("elite", "high", "medium", "low")
    ]
    cfr_bands = [(s["y0"], s["y1"]) for s in layout["shapes"] if s["yref"] == "y3"]
    assert cfr_bands[:3] == [(0, 5.0), (5.0, 10.0), (10.0, 15.0)]
    assert json.loads(json.dumps(figure, allow_nan=False)) == figure


def test_dora_trend_table_and_finding_speak_of_months():
    table = dora.dora_trend_table(dora_frame())
    assert table["Month"].tolist() == ["Dec 2025", "Jan 2026", "Feb 2026"]
    assert table["Lead time (days)"].tolist() == [20.0, 3.0, 0.42]
    assert table["Recovery time (hours)"].tolist() == [72.0, 5.0, 0.5]
    assert dora.dora_trend_finding(dora_frame()) == (
        "In Feb 2026: deployment frequency elite, lead time elite, change failure rate elite, "
        "recovery time elite (DORA 2023 tiers)"
    )
    assert dora.dora_trend_finding(dora_frame().iloc[0:0]) == ""
