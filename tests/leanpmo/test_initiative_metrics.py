"""The pure arithmetic of initiatives: WSJF, work shape, moves, time in states, kanban flow, pyramid."""

import subprocess
import sys
from decimal import Decimal

import pandas as pd
import pytest

from leanpmo.metrics import initiatives as m

UTC = "UTC"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def test_pure_modules_import_no_django():
    code = (
        "import sys, leanpmo.metrics.initiatives, leanpmo.charts.initiatives; "
        "print([name for name in sys.modules if name.split('.')[0] == 'django'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_wsjf_is_cost_of_delay_over_job_size_with_its_inputs():
    score = m.wsjf(8, 5, 3, 5)
    assert score.cost_of_delay == 16
    assert score.score == Decimal("3.2")
    assert score.display == "3.2"
    assert m.wsjf(10, 0 + 1, 0 + 1, 3).display == "4"
    assert m.wsjf(5, 3, 2, 3).display == "3.33"


@pytest.mark.parametrize(
    "inputs", [(8, 5, 3, None), (8, 5, 3, 0), (None, 5, 3, 5), (8, None, None, 5)]
)
def test_no_score_without_every_input_and_never_zero(inputs):
    score = m.wsjf(*inputs)
    assert score.score is None
    assert score.display == "—"


def test_missing_inputs_are_named():
    assert m.wsjf(8, 5, 3, None).missing == ["job size"]


@pytest.mark.parametrize(
    ("streams", "shape"),
    [
        ([], None),
        ([7], m.TEAM_MISSION),
        ([7, 7, 7], m.PRODUCT_GROUP),
        ([7, 8], m.STRATEGIC),
        ([7, 7, 8], m.STRATEGIC),
    ],
)
def test_the_shape_follows_from_the_teams(streams, shape):
    assert m.work_shape(streams) == shape


def test_a_label_that_contradicts_the_teams_is_explained():
    two = [("Instant Payments", "Payments"), ("Payment Rails", "Payments")]
    message = m.shape_contradiction(m.TEAM_MISSION, two)
    assert message.startswith("A team mission has exactly one team; this one has 2 teams linked")
    assert "Instant Payments, Payment Rails" in message
    assert "product group" in message
    assert m.shape_contradiction(m.PRODUCT_GROUP, two) is None
    assert "no shape yet" in m.shape_contradiction(m.STRATEGIC, [])
    spread = [("A", "Payments"), ("B", "Cards")]
    assert "in 2 value streams" in m.shape_contradiction(m.PRODUCT_GROUP, spread)


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ("funnel", "reviewing", True),
        ("funnel", "implementing", False),
        ("ready", "implementing", True),
        ("ready", "funnel", True),
        ("implementing", "ready", False),
        ("implementing", "stopped", True),
        ("done", "stopped", False),
        ("stopped", "funnel", True),
        ("analysing", "analysing", False),
        ("analysing", "limbo", False),
    ],
)
def test_moves_follow_the_kanban(start, end, ok):
    assert (m.move_error(start, end) is None) is ok


def test_refused_moves_say_where_the_initiative_may_go():
    assert (
        m.move_error("funnel", "ready")
        == "From Funnel an initiative moves to Reviewing or Stopped."
    )
    assert "final" in m.move_error("done", "funnel")


def _moves(*rows):
    return pd.DataFrame([(i, f, t, ts(at)) for i, f, t, at in rows], columns=m.TRANSITION_COLUMNS)


MOVES = _moves(
    (1, "", "funnel", "2026-01-01"),
    (1, "funnel", "reviewing", "2026-01-11"),
    (1, "reviewing", "analysing", "2026-01-21"),
    (1, "analysing", "ready", "2026-02-20"),
    (1, "ready", "implementing", "2026-03-02"),
    (1, "implementing", "done", "2026-05-01"),
    (2, "", "funnel", "2026-02-01"),
    (2, "funnel", "reviewing", "2026-02-03"),
    (2, "reviewing", "analysing", "2026-02-05"),
    (3, "", "funnel", "2026-03-01"),
    (3, "funnel", "stopped", "2026-03-05"),
)
AS_OF = ts("2026-05-05")


def test_state_intervals_pair_each_arrival_with_the_next_move():
    intervals = m.state_intervals(MOVES, AS_OF)
    first = intervals[intervals["initiative_id"] == 1]
    assert first["state"].tolist() == list(m.FLOW_STATES)
    assert first["days"].tolist() == [10, 10, 30, 10, 60, 4]
    assert pd.isna(first["end"].iloc[-1])


def test_moves_after_as_of_are_ignored():
    intervals = m.state_intervals(MOVES, ts("2026-01-15"))
    assert intervals["state"].tolist() == ["funnel", "reviewing"]
    assert intervals["days"].tolist() == [10, 4]


def test_time_in_states_sums_the_stays_of_one_initiative():
    intervals = m.state_intervals(
        _moves(
            (1, "", "funnel", "2026-01-01"),
            (1, "funnel", "reviewing", "2026-01-03"),
            (1, "reviewing", "funnel", "2026-01-04"),
            (1, "funnel", "reviewing", "2026-01-10"),
        ),
        ts("2026-01-12"),
    )
    table = m.time_in_states(intervals)
    assert table.to_dict("records") == [
        {"state": "funnel", "days": 8.0, "visits": 2},
        {"state": "reviewing", "days": 3.0, "visits": 2},
    ]
    assert m.time_in_states(m.state_intervals(MOVES.iloc[:0], AS_OF)).empty


def test_kanban_flow_lead_time_and_age_in_analysis():
    flow = m.kanban_flow(MOVES, AS_OF)
    assert flow.lead_times.to_dict("records") == [{"initiative_id": 1, "days": 120.0}]
    assert flow.lead_p50 == 120.0
    assert flow.in_analysis.to_dict("records") == [{"initiative_id": 2, "days": 89.0}]
    assert flow.stopped == 1
    analysing = flow.state_days.set_index("state").loc["analysing"]
    assert analysing["stays"] == 2


def test_kanban_flow_of_nothing_is_empty():
    flow = m.kanban_flow(MOVES.iloc[:0], AS_OF)
    assert flow.lead_times.empty
    assert flow.lead_p50 is None
    assert flow.stopped == 0


def _periods(*rows):
    return pd.DataFrame(
        [(name, ts(start), ts(end)) for name, start, end in rows],
        columns=["period", "start", "end"],
    )


def _intervals(*rows):
    frame = pd.DataFrame(
        [(i, "implementing", ts(s), ts(e) if e else pd.NaT) for i, s, e in rows],
        columns=["initiative_id", "state", "start", "end"],
    )
    frame["end"] = pd.to_datetime(frame["end"], utc=True)
    frame["planned_end"] = pd.Series([pd.NaT] * len(frame), dtype="datetime64[ns, UTC]")
    return frame


LINKS = pd.DataFrame(
    [
        (1, 10, 100, 365_000.0),  # team mission: one team, 1,000 a day
        (2, 10, 100, 365_000.0),  # product group: two teams of stream 100
        (2, 11, 100, 730_000.0),
        (3, 12, 100, 365_000.0),  # strategic: teams in two streams
        (3, 13, 200, 365_000.0),
    ],
    columns=["initiative_id", "team_id", "value_stream_id", "year_cost"],
)
Q1 = ("Q1", "2026-01-01", "2026-04-01")
Q2 = ("Q2", "2026-04-01", "2026-07-01")


def test_pyramid_counts_the_work_in_progress_at_the_period_end_or_now():
    intervals = _intervals(
        (1, "2026-01-01", None), (2, "2026-02-01", "2026-03-01"), (3, "2026-03-01", None)
    )
    mix = m.pyramid_mix(intervals, LINKS, _periods(Q1, Q2), ts("2026-05-01"))
    counts = mix.pivot(index="period", columns="shape", values="count")
    assert counts.loc["Q1"].to_dict() == {m.PRODUCT_GROUP: 0, m.STRATEGIC: 1, m.TEAM_MISSION: 1}
    assert counts.loc["Q2"].to_dict() == {m.PRODUCT_GROUP: 0, m.STRATEGIC: 1, m.TEAM_MISSION: 1}
    q1 = mix[mix["period"] == "Q1"].set_index("shape")
    assert q1.loc[m.STRATEGIC, "count_share"] == 0.5


def test_pyramid_cost_prorates_team_capacity_and_never_counts_a_team_twice():
    intervals = _intervals(
        (1, "2026-01-01", None), (2, "2026-02-01", "2026-03-01"), (3, "2026-03-01", None)
    )
    mix = m.pyramid_mix(intervals, LINKS, _periods(Q1), ts("2026-05-01"))
    cost = mix.set_index("shape")["cost"]
    # Q1 has 90 days; team 10 works on #1 (90 days) and #2 (28 days): 118 days > 90, so it is
    # shared 90/118 between them; team 11 (2,000 a day) on #2 for 28 days; #3: two teams, 31 days
    share = 90 / 118
    assert cost[m.TEAM_MISSION] == pytest.approx(1000 * 90 * share, abs=0.01)
    assert cost[m.PRODUCT_GROUP] == pytest.approx(1000 * 28 * share + 2000 * 28, abs=0.01)
    assert cost[m.STRATEGIC] == pytest.approx(2 * 1000 * 31, abs=0.01)


def test_a_stop_changes_the_pyramid_of_the_running_period():
    running = _intervals((1, "2026-01-01", None), (3, "2026-03-01", None))
    stopped = _intervals((1, "2026-01-01", None), (3, "2026-03-01", "2026-05-01"))
    periods = _periods(Q2)
    before = m.pyramid_mix(running, LINKS, periods, ts("2026-05-01")).set_index("shape")
    after = m.pyramid_mix(stopped, LINKS, periods, ts("2026-05-01")).set_index("shape")
    assert before.loc[m.STRATEGIC, "count"] == 1
    assert after.loc[m.STRATEGIC, "count"] == 0
    assert after.loc[m.STRATEGIC, "cost"] < before.loc[m.STRATEGIC, "cost"]


def test_fixed_scope_work_in_progress_is_projected_to_its_end_date():
    intervals = _intervals((1, "2026-04-01", None))
    intervals["planned_end"] = pd.to_datetime([ts("2026-04-11")], utc=True)
    mix = m.pyramid_mix(intervals, LINKS, _periods(Q2), ts("2026-04-05")).set_index("shape")
    assert mix.loc[m.TEAM_MISSION, "cost"] == pytest.approx(10 * 1000, abs=0.01)


def test_pyramid_of_nothing_has_zero_rows_per_period():
    mix = m.pyramid_mix(_intervals(), LINKS.iloc[:0], _periods(Q1), ts("2026-05-01"))
    assert mix["shape"].tolist() == list(m.SHAPES)
    assert mix["count"].sum() == 0
    assert mix["cost_share"].sum() == 0
    assert m.pyramid_mix(_intervals(), LINKS, _periods(), ts("2026-05-01")).empty
