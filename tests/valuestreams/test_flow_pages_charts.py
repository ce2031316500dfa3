"""The flow charts are pure: hand-built metric frames in, figures and tables out."""

import math

import pandas as pd
import pytest

from valuestreams import charts

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


def test_velocity_stacks_one_bar_per_type_that_has_items():
    figure = charts.flow_velocity_chart(flow_frame())
    assert figure.layout.barmode == "stack"
    traces = {trace.name: list(trace.y) for trace in figure.data}
    assert traces == {"Feature": [3, 2], "Defect": [1, 0], "Debt": [0, 2]}
    assert [trace.type for trace in figure.data] == ["bar"] * 3
    assert list(figure.data[0].x) == ["2026-W01", "2026-W02"]


def test_velocity_table_has_a_column_per_type_and_the_total():
    table = charts.flow_velocity_table(flow_frame())
    assert list(table.columns) == ["Period", "Feature", "Defect", "Debt", "Total"]
    assert table.to_numpy().tolist() == [["2026-W01", 3, 1, 0, 4], ["2026-W02", 2, 0, 2, 4]]


def test_flow_time_draws_p50_p85_p95_in_days_and_leaves_gaps_for_missing_values():
    figure = charts.flow_time_chart(flow_frame())
    assert [trace.name for trace in figure.data] == ["p50", "p85", "p95"]
    p50, p85, p95 = (list(trace.y) for trace in figure.data)
    assert p50[0] == 1.0
    assert math.isnan(p50[1])
    assert p85 == [4.0, 4.0]
    assert p95 == [10.0, 10.0]


def test_efficiency_is_shown_in_percent_on_a_0_to_100_axis():
    figure = charts.flow_efficiency_chart(flow_frame())
    assert list(figure.data[0].y) == [23.4, 23.4]
    assert tuple(figure.layout.yaxis.range) == (0, 100)


def test_load_shows_the_mean_as_bars_and_the_end_of_period_as_a_line():
    figure = charts.flow_load_chart(flow_frame())
    assert [(trace.type, trace.name) for trace in figure.data] == [
        ("bar", "mean"),
        ("scatter", "at period end"),
    ]
    assert list(figure.data[0].y) == [7.5, 7.5]
    assert list(figure.data[1].y) == [9.0, 9.0]


def test_distribution_compares_done_shares_with_the_target():
    distribution = pd.DataFrame(
        {
            "item_type": ["Feature", "Debt"],
            "done": [9, 1],
            "share": [0.9, 0.1],
            "target": [0.6, 0.3],
        }
    )
    figure = charts.flow_distribution_chart(distribution)
    assert [trace.name for trace in figure.data] == ["done", "target"]
    assert list(figure.data[0].y) == [90.0, 10.0]
    assert list(figure.data[1].y) == [60.0, 30.0]
    table = charts.flow_distribution_table(distribution)
    assert table.to_numpy().tolist() == [["Feature", 9, 90.0, 60.0], ["Debt", 1, 10.0, 30.0]]


def test_distribution_without_targets_draws_only_what_was_done():
    distribution = pd.DataFrame(
        {"item_type": ["Feature"], "done": [3], "share": [1.0], "target": [float("nan")]}
    )
    assert [trace.name for trace in charts.flow_distribution_chart(distribution).data] == ["done"]


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
    figure = charts.time_in_status_chart(status_times)
    bars = figure.data[0]
    assert bars.orientation == "h"
    # Plotly draws the first category at the bottom: the largest comes last.
    assert list(bars.y) == ["Awaiting Vendor", "In Progress", "In Review"]
    assert list(bars.x) == [1.0, 3.0, 6.0]
    assert list(bars.marker.color) == [
        charts.STATE_COLOURS["waiting"],
        charts.STATE_COLOURS["active"],
        charts.STATE_COLOURS["waiting"],
    ]
    assert charts.time_in_status_table(status_times)["Days"].tolist() == [6.0, 3.0, 1.0]


def test_team_breakdown_stacks_teams_and_fills_missing_periods_with_zero():
    team_velocity = pd.DataFrame(
        {
            "team": ["Rails", "Instant", "Instant"],
            "label": ["2026-W01", "2026-W01", "2026-W02"],
            "velocity": [2, 5, 4],
        }
    )
    figure = charts.team_breakdown_chart(team_velocity)
    assert {trace.name: list(trace.y) for trace in figure.data} == {
        "Instant": [5, 4],
        "Rails": [2, 0],
    }
    table = charts.team_breakdown_table(team_velocity)
    assert table.to_dict("records") == [
        {"Period": "2026-W01", "Rails": 2, "Instant": 5},
        {"Period": "2026-W02", "Rails": 0, "Instant": 4},
    ]


@pytest.mark.parametrize(
    "chart",
    [charts.flow_velocity_chart, charts.flow_time_chart, charts.flow_load_chart],
)
def test_charts_of_an_empty_frame_have_no_points(chart):
    empty = flow_frame().iloc[0:0]
    assert all(len(trace.y or []) == 0 for trace in chart(empty).data)
