"""Flow metrics (SPEC §4): each policy on hand-built histories, plus a randomized comparison with a
slow per-item reference implementation."""

from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from tests.valuestreams.metric_reference import (
    completed_items,
    flow_caveats,
    flow_distribution,
    flow_efficiency,
    flow_load,
    flow_summary,
    flow_time,
    flow_velocity,
    open_item_ages,
)
from valuestreams.metrics.flow_facts import FLOW_ITEM_TYPES, item_flow_facts
from valuestreams.metrics.flow_status import time_in_status, time_in_status_by_scope
from valuestreams.metrics.flow_windows import period_windows

DAY = 86_400.0
ZURICH = "Europe/Zurich"
AS_OF = pd.Timestamp("2025-03-01", tz="UTC")
COLUMNS = ["item_id", "entered_at", "status", "flow_state", "unmapped", "blocked", "item_type"]
STATUS_OF = {
    "new": "Backlog",
    "waiting": "Ready",
    "active": "Doing",
    "done": "Done",
    "canceled": "Canceled",
}


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def change(
    item: int,
    when: str,
    state: str,
    *,
    status: str | None = None,
    item_type: str = "Feature",
    blocked: bool = False,
    unmapped: bool = False,
    team: int = 1,
) -> dict[str, object]:
    return {
        "item_id": item,
        "entered_at": at(when),
        "status": status or STATUS_OF[state],
        "flow_state": state,
        "unmapped": unmapped,
        "blocked": blocked,
        "item_type": item_type,
        "team_id": team,
    }


def history(*changes: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(list(changes))
    return frame.astype({"item_id": "int64", "entered_at": "datetime64[ns, UTC]"})


def weeks(start: str = "2025-01-06", end: str = "2025-02-03", tz: str = ZURICH) -> pd.DataFrame:
    return period_windows(at(start), at(end), grain="week", tz=tz)


def facts_of(frame: pd.DataFrame, as_of: pd.Timestamp = AS_OF) -> pd.DataFrame:
    return item_flow_facts(frame, as_of=as_of).set_index("item_id")


def cell(frame: pd.DataFrame, window: str, item_type: str = "All") -> pd.Series:
    rows = frame[(frame["window"] == window) & (frame["item_type"] == item_type)]
    assert len(rows) == 1
    return rows.iloc[0]


# Weeks in Zurich: 2025-W02 is Mon 6 Jan - Sun 12 Jan, W03 is 13-19 Jan.


def test_empty_input_returns_empty_frames_with_the_right_columns() -> None:
    windows = weeks()
    for empty in (pd.DataFrame(), history(change(1, "2025-01-06", "new")).iloc[:0]):
        facts = item_flow_facts(empty, as_of=AS_OF)
        assert facts.empty
        assert {"item_id", "start", "done", "flow_time_s", "reopen_count"} <= set(facts.columns)
        summary = flow_summary(empty, as_of=AS_OF, windows=windows, tz=ZURICH, by=["team_id"])
        assert summary.empty
        assert {"team_id", "window", "item_type", "velocity", "flow_time_p85_s"} <= set(
            summary.columns
        )
        assert {"flow_efficiency", "share", "gap", "load_mean", "load_end"} <= set(summary.columns)
        for result in (
            flow_velocity(facts, windows),
            flow_time(facts, windows),
            flow_efficiency(facts, windows),
            flow_distribution(facts, windows, target={"Feature": 1.0}),
            completed_items(facts, windows),
            flow_load(empty, windows, as_of=AS_OF, tz=ZURICH),
            time_in_status(empty, windows, as_of=AS_OF),
            flow_caveats(empty, as_of=AS_OF),
            open_item_ages(empty, as_of=AS_OF),
        ):
            assert result.empty
            assert len(result.columns) > 0
        assert "time_s" in time_in_status(empty, windows, as_of=AS_OF).columns
        assert "truncated_histories" in flow_caveats(empty, as_of=AS_OF).columns


def test_an_item_created_in_done_is_done_without_start_not_truncated() -> None:
    """SPEC §4: truncated means the first known status is waiting or active."""
    frame = history(
        change(1, "2025-01-07 09:00", "done"),
        change(2, "2025-01-07 09:00", "canceled"),
        change(3, "2025-01-07 09:00", "waiting"),
        change(3, "2025-01-08 09:00", "done"),
        change(4, "2025-01-07 09:00", "new"),
        change(4, "2025-01-08 09:00", "done"),
    )
    facts = facts_of(frame)
    assert facts["truncated"].tolist() == [False, False, True, False]
    assert facts["done_without_start"].tolist() == [True, False, False, True]
    assert facts.loc[1, "flow_time_s"] == 0
    assert pd.isna(facts.loc[1, "start"])
    assert facts.loc[1, "done"] == at("2025-01-07 09:00")
    caveats = flow_caveats(frame, as_of=AS_OF).iloc[0]
    assert caveats["truncated_histories"] == 1
    assert caveats["done_without_start"] == 2


def test_flow_time_splits_into_active_and_waiting_time() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "active"),
        change(1, "2025-01-08 09:00", "waiting"),
        change(1, "2025-01-09 09:00", "active"),
        change(1, "2025-01-10 09:00", "done"),
    )
    item = facts_of(frame).loc[1]
    assert item["start"] == at("2025-01-07 09:00")
    assert item["done"] == at("2025-01-10 09:00")
    assert (item["flow_time_s"], item["active_s"], item["wait_s"]) == (3 * DAY, 2 * DAY, DAY)
    assert item["flow_efficiency"] == pytest.approx(2 / 3)


def test_reopened_item_counts_once_at_final_done() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "active"),
        change(1, "2025-01-08 09:00", "done"),
        change(1, "2025-01-13 09:00", "active"),
        change(1, "2025-01-14 09:00", "done"),
    )
    item = facts_of(frame).loc[1]
    assert item["reopen_count"] == 1
    assert item["done"] == at("2025-01-14 09:00")
    # 7 days from first start to final done; the 5 days in the earlier done count as waiting.
    assert (item["flow_time_s"], item["active_s"], item["wait_s"]) == (7 * DAY, 2 * DAY, 5 * DAY)
    velocity = flow_velocity(item_flow_facts(frame, as_of=AS_OF), weeks())
    assert cell(velocity, "2025-W02")["velocity"] == 0
    assert cell(velocity, "2025-W03")["velocity"] == 1


def test_done_time_is_the_entry_into_done_not_a_later_done_status() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "active"),
        change(1, "2025-01-07 09:00", "done", status="Resolved"),
        change(1, "2025-01-09 09:00", "done", status="Closed"),
    )
    item = facts_of(frame).loc[1]
    assert item["done"] == at("2025-01-07 09:00")
    assert item["flow_time_s"] == DAY
    assert item["reopen_count"] == 0


def test_canceled_item_is_excluded_from_velocity_time_and_efficiency() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "active"),
        change(1, "2025-01-09 09:00", "done"),
        change(2, "2025-01-06 09:00", "new"),
        change(2, "2025-01-06 10:00", "waiting"),
        change(2, "2025-01-07 10:00", "active"),
        change(2, "2025-01-08 09:00", "canceled"),
    )
    facts = facts_of(frame)
    assert facts.loc[2, "state"] == "canceled"
    assert facts.loc[2, "canceled_at"] == at("2025-01-08 09:00")
    assert pd.isna(facts.loc[2, "done"])
    assert np.isnan(facts.loc[2, "flow_time_s"])
    summary = flow_summary(frame, as_of=AS_OF, windows=weeks(), tz=ZURICH)
    w02 = cell(summary, "2025-W02")
    assert w02["velocity"] == 1
    assert w02["flow_time_p50_s"] == 2 * DAY
    assert w02["flow_efficiency"] == 1.0


def test_canceled_item_leaves_the_load_when_canceled() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "waiting"),
        change(1, "2025-01-08 09:00", "canceled"),
    )
    # In the load at the end of Mon 6 and Tue 7 Jan only: 2 of 7 days of W02.
    load = cell(flow_load(frame, weeks(), as_of=AS_OF, tz=ZURICH), "2025-W02")
    assert load["load_mean"] == pytest.approx(2 / 7)
    assert load["load_end"] == 0


def test_truncated_history_is_counted_and_flagged() -> None:
    frame = history(
        change(1, "2025-01-07 09:00", "active"),
        change(1, "2025-01-09 09:00", "done"),
        change(2, "2025-01-07 09:00", "new"),
    )
    facts = facts_of(frame)
    assert facts["truncated"].tolist() == [True, False]
    assert facts.loc[1, "start"] == at("2025-01-07 09:00")
    assert facts.loc[1, "flow_time_s"] == 2 * DAY
    assert cell(flow_velocity(facts.reset_index(), weeks()), "2025-W02")["velocity"] == 1
    caveats = flow_caveats(frame, as_of=AS_OF).iloc[0]
    assert caveats["truncated_histories"] == 1
    assert caveats["items"] == 2


def test_done_without_start_has_zero_flow_time_and_is_flagged() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-08 09:00", "done"),
        change(2, "2025-01-06 09:00", "new"),
        change(2, "2025-01-07 09:00", "active"),
        change(2, "2025-01-08 09:00", "done"),
    )
    facts = facts_of(frame)
    assert facts.loc[1, "done_without_start"]
    assert not facts.loc[2, "done_without_start"]
    assert (facts.loc[1, "flow_time_s"], facts.loc[1, "active_s"]) == (0.0, 0.0)
    assert pd.isna(facts.loc[1, "start"])
    assert np.isnan(facts.loc[1, "flow_efficiency"])
    w02 = cell(flow_summary(frame, as_of=AS_OF, windows=weeks(), tz=ZURICH), "2025-W02")
    assert w02["velocity"] == 2
    assert w02["flow_time_mean_s"] == DAY / 2
    assert w02["flow_efficiency"] == 1.0
    assert flow_caveats(frame, as_of=AS_OF).iloc[0]["done_without_start"] == 1


def test_blocked_active_time_counts_as_waiting_and_stays_in_the_load() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "active"),
        change(1, "2025-01-07 09:00", "active", blocked=True),
        change(1, "2025-01-09 09:00", "active"),
        change(1, "2025-01-10 09:00", "done"),
    )
    item = facts_of(frame).loc[1]
    assert (item["flow_time_s"], item["active_s"], item["wait_s"]) == (4 * DAY, 2 * DAY, 2 * DAY)
    load = cell(flow_load(frame, weeks(), as_of=AS_OF, tz=ZURICH), "2025-W02")
    assert load["load_mean"] == pytest.approx(4 / 7)
    doing = time_in_status(frame, weeks(), as_of=AS_OF).query("item_type == 'All'").iloc[0]
    assert (doing["status"], doing["time_s"], doing["active_s"]) == ("Doing", 4 * DAY, 2 * DAY)
    assert (doing["wait_s"], doing["blocked_s"], doing["share"]) == (2 * DAY, 2 * DAY, 1.0)


def test_type_at_completion_is_the_type_used() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new", item_type="Feature"),
        change(1, "2025-01-07 09:00", "active", item_type="Defect"),
        change(1, "2025-01-08 09:00", "done", item_type="Defect"),
        change(1, "2025-01-09 09:00", "done", status="Closed", item_type="Risk"),
        change(2, "2025-01-06 09:00", "new", item_type="Feature"),
        change(2, "2025-01-07 09:00", "active", item_type="Debt"),
    )
    facts = facts_of(frame)
    assert facts["item_type"].tolist() == ["Defect", "Debt"]
    velocity = flow_velocity(facts.reset_index(), weeks())
    assert cell(velocity, "2025-W02", "Defect")["velocity"] == 1
    assert cell(velocity, "2025-W02", "Risk")["velocity"] == 0
    assert cell(velocity, "2025-W02", "Feature")["velocity"] == 0


def test_item_done_late_sunday_utc_lands_in_the_next_iso_week_in_zurich() -> None:
    frame = history(
        change(1, "2025-01-10 09:00", "active"),
        change(1, "2025-01-12 23:30", "done"),
    )
    facts = item_flow_facts(frame, as_of=AS_OF)
    in_zurich = flow_velocity(facts, weeks(tz=ZURICH))
    assert cell(in_zurich, "2025-W02")["velocity"] == 0
    assert cell(in_zurich, "2025-W03")["velocity"] == 1
    in_utc = flow_velocity(facts, weeks(tz="UTC"))
    assert cell(in_utc, "2025-W02")["velocity"] == 1


def test_period_windows_follow_iso_weeks_and_months_in_the_portfolio_time_zone() -> None:
    week = period_windows(at("2024-12-31"), at("2025-01-08"), grain="week", tz=ZURICH)
    assert week["window"].tolist() == ["2025-W01", "2025-W02"]
    assert week["window_start"].tolist() == [at("2024-12-29 23:00"), at("2025-01-05 23:00")]
    month = period_windows(at("2025-02-10"), at("2025-03-31 22:00"), grain="month", tz=ZURICH)
    assert month["window"].tolist() == ["2025-02", "2025-03"]
    # March ends in summer time: midnight in Zurich is 22:00 UTC.
    assert month["window_end"].tolist() == [at("2025-02-28 23:00"), at("2025-03-31 22:00")]
    assert month["grain"].tolist() == ["month", "month"]
    with pytest.raises(ValueError, match="grain"):
        period_windows(at("2025-01-01"), at("2025-02-01"), grain="fortnight", tz=ZURICH)
    with pytest.raises(ValueError, match="timezone-aware"):
        period_windows(datetime(2025, 1, 1), at("2025-02-01"), grain="week", tz=ZURICH)


def test_unmapped_status_counts_as_waiting_and_is_reported_as_a_caveat() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "active"),
        change(1, "2025-01-08 09:00", "waiting", status="QA Hold", unmapped=True),
        change(1, "2025-01-09 09:00", "done"),
        change(2, "2025-01-06 09:00", "waiting", status="QA Hold", unmapped=True),
        change(2, "2025-01-07 09:00", "waiting", status="Limbo", unmapped=True, team=2),
    )
    item = facts_of(frame).loc[1]
    assert (item["active_s"], item["wait_s"], item["unmapped_count"]) == (DAY, DAY, 1)
    caveats = flow_caveats(frame, as_of=AS_OF).iloc[0]
    assert caveats["unmapped_status_changes"] == 3
    assert caveats["unmapped_statuses"] == 2
    assert caveats["unmapped_status_names"] == "Limbo, QA Hold"


def test_flow_time_percentiles_use_linear_interpolation() -> None:
    durations = [1, 2, 3, 4, 10]
    frame = history(
        *[
            change(i, ts, state)
            for i, days in enumerate(durations)
            for ts, state in (
                (str(at("2025-01-17 09:00") - timedelta(days=days)), "active"),
                ("2025-01-17 09:00", "done"),
            )
        ]
    )
    w03 = cell(flow_time(item_flow_facts(frame, as_of=AS_OF), weeks()), "2025-W03")
    assert w03["flow_time_p50_s"] == pytest.approx(3 * DAY)
    assert w03["flow_time_p85_s"] == pytest.approx(6.4 * DAY)  # 4 + 0.4 x (10 - 4)
    assert w03["flow_time_p95_s"] == pytest.approx(8.8 * DAY)  # 4 + 0.8 x (10 - 4)
    assert w03["flow_time_mean_s"] == pytest.approx(4 * DAY)


def test_rows_after_as_of_are_ignored() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "active"),
        change(1, "2025-01-09 09:00", "done"),
    )
    as_of = at("2025-01-08 09:00")
    item = facts_of(frame, as_of).loc[1]
    assert (item["state"], pd.isna(item["done"])) == ("active", True)
    pd.testing.assert_frame_equal(
        item_flow_facts(frame, as_of=as_of), item_flow_facts(frame.iloc[:2], as_of=as_of)
    )
    ages = open_item_ages(frame, as_of=as_of)
    assert ages[["item_id", "age_s"]].to_dict("records") == [{"item_id": 1, "age_s": DAY}]


def test_load_is_counted_at_each_local_day_end_and_takes_back_reopened_items() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "active"),
        change(1, "2025-01-08 09:00", "done"),
        change(1, "2025-01-09 23:30", "active", item_type="Defect"),  # Fri 00:30 in Zurich
        change(1, "2025-01-11 09:00", "done"),
        change(2, "2025-01-12 12:00", "waiting"),
    )
    load = flow_load(frame, weeks(), as_of=AS_OF, tz=ZURICH)
    w02 = cell(load, "2025-W02")
    # Day ends in the load: Tue 7 (Feature), Fri 10 (Defect), Sun 12 (item 2, a Feature).
    assert w02["load_mean"] == pytest.approx(3 / 7)
    assert w02["load_end"] == 1
    assert cell(load, "2025-W02", "Feature")["load_mean"] == pytest.approx(2 / 7)
    assert cell(load, "2025-W02", "Defect")["load_mean"] == pytest.approx(1 / 7)
    assert cell(load, "2025-W03")["load_mean"] == 1
    in_utc = flow_load(frame, weeks(tz="UTC"), as_of=AS_OF, tz="UTC")
    assert cell(in_utc, "2025-W02")["load_mean"] == pytest.approx(4 / 7)  # Thu 9 counts too


def test_a_change_stamped_at_local_midnight_counts_for_the_day_that_starts_there() -> None:
    """SPEC §4: a day's end is the last instant before the next local midnight."""
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 23:00", "active"),  # Wed 8 Jan 00:00 in Zurich
        change(1, "2025-01-10 11:00", "done"),  # Fri 12:00
        change(2, "2025-01-06 08:00", "active", item_type="Defect"),  # Mon 09:00
        change(2, "2025-01-06 23:00", "done", item_type="Defect"),  # Tue 7 Jan 00:00
        change(3, "2025-01-06 09:00", "new", item_type="Risk"),
        change(3, "2025-01-12 23:00", "waiting", item_type="Risk"),  # Mon 13 Jan 00:00
    )
    load = flow_load(frame, weeks(), as_of=AS_OF, tz=ZURICH)
    # Feature in the load at the ends of Wed 8 and Thu 9 (not Tue 7: it started at its end)
    assert cell(load, "2025-W02", "Feature")["load_mean"] == pytest.approx(2 / 7)
    # Defect at the end of Mon 6 (done at the midnight after it, so still in the load then)
    assert cell(load, "2025-W02", "Defect")["load_mean"] == pytest.approx(1 / 7)
    # Risk waits from the first instant of the next week: not at the end of Sunday 12
    assert cell(load, "2025-W02", "Risk")["load_end"] == 0
    assert cell(load, "2025-W03", "Risk")[["load_mean", "load_end"]].tolist() == [1.0, 1.0]
    # the same in the summary, and a completion at midnight falls in the day (week) it starts
    summary = flow_summary(frame, as_of=AS_OF, windows=weeks(), tz=ZURICH)
    assert cell(summary, "2025-W02", "Feature")["load_mean"] == pytest.approx(2 / 7)
    late = history(
        change(4, "2025-01-08 09:00", "active"),
        change(4, "2025-01-12 23:00", "done"),  # Mon 13 Jan 00:00: week 3
    )
    velocity = flow_velocity(item_flow_facts(late, as_of=AS_OF), weeks())
    assert cell(velocity, "2025-W02")["velocity"] == 0
    assert cell(velocity, "2025-W03")["velocity"] == 1


def test_a_day_ending_exactly_at_as_of_leaves_out_the_changes_stamped_at_as_of() -> None:
    as_of = at("2025-01-12 23:00")  # Mon 13 Jan 00:00 in Zurich: week 2 is over, week 3 not begun
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-12 23:00", "active"),
    )
    load = flow_load(frame, weeks(), as_of=as_of, tz=ZURICH)
    assert cell(load, "2025-W02")[["load_mean", "load_end"]].tolist() == [0.0, 0.0]
    assert np.isnan(cell(load, "2025-W03")["load_mean"])
    # one nanosecond later week 3 has begun, and its day in progress counts the change
    later = flow_load(frame, weeks(), as_of=as_of + pd.Timedelta(1, "ns"), tz=ZURICH)
    assert cell(later, "2025-W03")[["load_mean", "load_end"]].tolist() == [1.0, 1.0]


def test_load_of_a_window_in_progress_is_measured_until_as_of() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "active"),
        change(1, "2025-01-08 12:00", "done"),
    )
    as_of = at("2025-01-08 10:00")  # Wednesday: Mon and Tue ended, Wed measured at as_of
    load = flow_load(frame, weeks(), as_of=as_of, tz=ZURICH)
    assert cell(load, "2025-W02")[["load_mean", "load_end"]].tolist() == [1.0, 1.0]
    assert np.isnan(cell(load, "2025-W03")["load_mean"])


def test_flow_distribution_compares_the_type_shares_with_the_target_allocation() -> None:
    types = ["Feature", "Feature", "Feature", "Defect"]
    frame = history(
        *[
            change(i, ts, state, item_type=kind)
            for i, kind in enumerate(types)
            for ts, state in (("2025-01-07 09:00", "active"), ("2025-01-08 09:00", "done"))
        ]
    )
    facts = item_flow_facts(frame, as_of=AS_OF)
    target = {"Feature": 0.5, "Defect": 0.2, "Risk": 0.2, "Debt": 0.1}
    result = flow_distribution(facts, weeks(), target=target).query("window == '2025-W02'")
    assert result["item_type"].tolist() == list(FLOW_ITEM_TYPES)
    assert result["share"].tolist() == [0.75, 0.25, 0.0, 0.0]
    assert result["gap"].to_numpy() == pytest.approx([0.25, 0.05, -0.2, -0.1])
    per_team = pd.DataFrame(
        {"team_id": [1, 1], "item_type": ["Feature", "Debt"], "target": [0.6, 0.4]}
    )
    by_team = flow_distribution(facts, weeks(), target=per_team, by=["team_id"])
    assert by_team.query("window == '2025-W02'")["target"].tolist() == [0.6, 0.0, 0.0, 0.4]


def test_time_in_status_adds_up_to_the_flow_time_of_items_done_in_the_window() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "waiting"),
        change(1, "2025-01-08 09:00", "active"),
        change(1, "2025-01-09 09:00", "new"),
        change(1, "2025-01-09 21:00", "active"),
        change(1, "2025-01-10 09:00", "done"),
    )
    result = time_in_status(frame, weeks(), as_of=AS_OF).query("item_type == 'Defect'")
    assert result.empty
    spent = time_in_status(frame, weeks(), as_of=AS_OF).query("item_type == 'Feature'")
    assert dict(zip(spent["status"], spent["time_s"], strict=True)) == {
        "Doing": 1.5 * DAY,
        "Ready": DAY,
        "Backlog": 0.5 * DAY,
    }
    assert spent["time_s"].sum() == facts_of(frame).loc[1, "flow_time_s"]
    assert spent["items"].tolist() == [1, 1, 1]


def test_summary_has_one_row_per_group_window_and_type_and_keeps_group_columns() -> None:
    frame = history(
        change(1, "2025-01-07 09:00", "active", team=1),
        change(1, "2025-01-08 09:00", "done", team=1),
        change(2, "2025-01-07 09:00", "active", team=2),
    )
    windows = weeks()
    summary = flow_summary(frame, as_of=AS_OF, windows=windows, tz=ZURICH, by=["team_id"])
    assert len(summary) == 2 * len(windows) * (len(FLOW_ITEM_TYPES) + 1)
    team2 = summary[(summary["team_id"] == 2) & (summary["window"] == "2025-W03")]
    assert team2.set_index("item_type")["load_mean"]["All"] == 1
    assert facts_of(frame)["team_id"].tolist() == [1, 2]


def test_unsorted_input_gives_the_same_result() -> None:
    frame = history(
        change(1, "2025-01-06 09:00", "new"),
        change(1, "2025-01-07 09:00", "active"),
        change(2, "2025-01-07 09:00", "waiting"),
        change(1, "2025-01-09 09:00", "done"),
    )
    shuffled = frame.iloc[[3, 2, 0, 1]]
    pd.testing.assert_frame_equal(facts_of(frame), facts_of(shuffled))


def test_naive_times_are_refused() -> None:
    frame = history(change(1, "2025-01-06 09:00", "new"))
    with pytest.raises(ValueError, match="as_of"):
        item_flow_facts(frame, as_of=datetime(2025, 3, 1))
    naive = frame.assign(entered_at=frame["entered_at"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="entered_at"):
        item_flow_facts(naive, as_of=AS_OF)


# --- randomized comparison with an obviously correct per-item reference --------------------


def random_histories(seed: int, items: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    states = ["new", "waiting", "active", "done", "canceled"]
    statuses = {
        "new": ["Backlog", "Triage"],
        "waiting": ["Ready", "In Review Queue", "Mystery"],
        "active": ["Doing", "Testing"],
        "done": ["Done", "Closed"],
        "canceled": ["Canceled"],
    }
    rows = []
    origin = at("2025-01-01")
    for item in range(items):
        when = origin + timedelta(minutes=int(rng.integers(0, 60 * 24 * 40)))
        state = "new" if rng.random() < 0.85 else str(rng.choice(states[1:4]))
        kind = str(rng.choice(FLOW_ITEM_TYPES))
        for _ in range(int(rng.integers(1, 9))):
            status = str(rng.choice(statuses[state]))
            rows.append(
                {
                    "item_id": item * 7 + 3,
                    "entered_at": when,
                    "status": status,
                    "flow_state": state,
                    "unmapped": status == "Mystery",
                    "blocked": state == "active" and rng.random() < 0.2,
                    "item_type": kind,
                    "team_id": int(rng.integers(1, 3)),
                }
            )
            when += timedelta(minutes=int(rng.choice([0, 30, 600, 3000, 9000])))
            state = str(rng.choice(states, p=[0.1, 0.25, 0.3, 0.3, 0.05]))
            if rng.random() < 0.1:
                kind = str(rng.choice(FLOW_ITEM_TYPES))
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    # team_id is constant per item, as the contract says.
    return frame.assign(team_id=frame.groupby("item_id")["team_id"].transform("first"))


def reference_facts(frame: pd.DataFrame, as_of: pd.Timestamp) -> dict[int, dict]:
    result = {}
    for item_id, rows in frame[frame["entered_at"] <= as_of].groupby("item_id"):
        rows = rows.sort_values("entered_at", kind="stable").to_dict("records")
        states = [r["flow_state"] for r in rows]
        times = [r["entered_at"] for r in rows]
        ends = [*times[1:], as_of]
        run = len(rows) - 1
        while run > 0 and states[run - 1] == states[-1]:
            run -= 1
        done = times[run] if states[-1] == "done" else None
        starts = [k for k, s in enumerate(states) if s in ("waiting", "active")]
        start = times[starts[0]] if starts else None
        active = sum(
            (ends[k] - times[k]).total_seconds()
            for k in range(len(rows))
            if states[k] == "active" and not rows[k]["blocked"]
        )
        flow = (done - start).total_seconds() if done is not None and start else 0.0
        result[item_id] = {
            "rows": rows,
            "ends": ends,
            "done": done,
            "start": start,
            "start_row": starts[0] if starts else None,
            "run_row": run,
            "state": states[-1],
            "flow_time_s": flow if done is not None else None,
            "active_s": (active if start else 0.0) if done is not None else None,
            "reopen_count": sum(
                1
                for k in range(1, len(rows))
                if states[k - 1] == "done" and states[k] in ("new", "waiting", "active")
            ),
            "truncated": states[0] in ("waiting", "active"),
            "item_type": rows[run]["item_type"] if done is not None else rows[-1]["item_type"],
            "unmapped_count": sum(r["unmapped"] for r in rows),
        }
    return result


def local_day_ends(first: date, last: date, tz: str) -> list[tuple[datetime, datetime]]:
    zone = ZoneInfo(tz)
    days = []
    day = first
    while day <= last:
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        nxt = day + timedelta(days=1)
        days.append((start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)))
        day = nxt
    return days


def reference_load(reference: dict, window: pd.Series, as_of: pd.Timestamp, tz: str) -> dict:
    zone = ZoneInfo(tz)
    first = window["window_start"].tz_convert(zone).date()
    last = (window["window_end"] - timedelta(microseconds=1)).tz_convert(zone).date()
    daily: dict[str, list[int]] = {}
    for day_start, day_end in local_day_ends(first, last, tz):
        if day_start >= as_of:
            continue
        counts = dict.fromkeys([*FLOW_ITEM_TYPES, "All"], 0)
        for fact in reference.values():
            times = [r["entered_at"] for r in fact["rows"]]
            if pd.Timestamp(day_end) <= as_of:  # rows before the next midnight
                k = bisect.bisect_left(times, pd.Timestamp(day_end)) - 1
            else:  # the day in progress: rows up to as_of
                k = bisect.bisect_right(times, as_of) - 1
            if k >= 0 and fact["rows"][k]["flow_state"] in ("waiting", "active"):
                counts[fact["rows"][k]["item_type"]] += 1
                counts["All"] += 1
        for kind, count in counts.items():
            daily.setdefault(kind, []).append(count)
    return {kind: (np.mean(v), v[-1]) for kind, v in daily.items()}


@pytest.mark.parametrize("seed", [1, 2])
def test_vectorised_metrics_match_a_slow_per_item_reference(seed: int) -> None:
    frame = random_histories(seed)
    as_of = at("2025-02-05 13:37")
    windows = period_windows(at("2025-01-01"), at("2025-02-20"), grain="week", tz=ZURICH)
    reference = reference_facts(frame, as_of)
    facts = item_flow_facts(frame, as_of=as_of).set_index("item_id")
    assert sorted(reference) == facts.index.tolist()
    for item_id, expected in reference.items():
        got = facts.loc[item_id]
        assert got["state"] == expected["state"]
        assert got["reopen_count"] == expected["reopen_count"]
        assert got["truncated"] == expected["truncated"]
        assert got["item_type"] == expected["item_type"]
        assert got["unmapped_count"] == expected["unmapped_count"]
        if expected["start"] is None:
            assert pd.isna(got["start"])
        else:
            assert got["start"] == expected["start"]
        if expected["done"] is None:
            assert pd.isna(got["done"])
            assert np.isnan(got["flow_time_s"])
        else:
            assert got["done"] == expected["done"]
            assert got["flow_time_s"] == pytest.approx(expected["flow_time_s"])
            assert got["active_s"] == pytest.approx(expected["active_s"])

    summary = flow_summary(frame, as_of=as_of, windows=windows, tz=ZURICH)
    spent = time_in_status(frame, windows, as_of=as_of)
    for _, window in windows.iterrows():
        done_here = [
            f
            for f in reference.values()
            if f["done"] is not None and window["window_start"] <= f["done"] < window["window_end"]
        ]
        loads = reference_load(reference, window, as_of, ZURICH)
        for kind in [*FLOW_ITEM_TYPES, "All"]:
            mine = [f for f in done_here if kind in ("All", f["item_type"])]
            got = cell(summary, window["window"], kind)
            assert got["velocity"] == len(mine)
            flows = [f["flow_time_s"] for f in mine]
            if mine:
                for name, q in (("p50", 50), ("p85", 85), ("p95", 95)):
                    assert got[f"flow_time_{name}_s"] == pytest.approx(np.percentile(flows, q))
                assert got["flow_time_mean_s"] == pytest.approx(np.mean(flows))
            total = sum(flows)
            if total:
                active = sum(f["active_s"] for f in mine)
                assert got["flow_efficiency"] == pytest.approx(active / total)
            else:
                assert np.isnan(got["flow_efficiency"])
            if kind in loads:
                assert got["load_mean"] == pytest.approx(loads[kind][0])
                assert got["load_end"] == loads[kind][1]
            else:
                assert np.isnan(got["load_mean"])

        per_status: dict[str, float] = {}
        for f in done_here:
            if f["start_row"] is None:
                continue
            for k in range(f["start_row"], f["run_row"]):
                row = f["rows"][k]
                seconds = (f["ends"][k] - row["entered_at"]).total_seconds()
                per_status[row["status"]] = per_status.get(row["status"], 0.0) + seconds
        got_status = (
            spent[(spent["window"] == window["window"]) & (spent["item_type"] == "All")]
            .groupby("status", observed=True)["time_s"]
            .sum()
        )
        assert {k: v for k, v in got_status.items() if v} == pytest.approx(
            {k: v for k, v in per_status.items() if v}
        )


@pytest.mark.parametrize("seed", [1, 2])
def test_time_in_status_of_several_scopes_in_one_pass_equals_one_scope_at_a_time(seed: int) -> None:
    frame = random_histories(seed)
    frame["team_id"] = frame["item_id"] % 3
    frame["value_stream_id"] = frame["team_id"] // 2
    as_of = at("2025-02-05 13:37")
    windows = period_windows(at("2025-01-01"), at("2025-02-20"), grain="week", tz=ZURICH)
    scopes = [["team_id"], ["value_stream_id"], []]

    together = time_in_status_by_scope(frame, windows, as_of=as_of, scopes=scopes)

    key = ["window", "item_type", "status", "flow_state"]
    for by, got in zip(scopes, together, strict=True):
        alone = time_in_status(frame, windows, as_of=as_of, by=by, overall_only=True)
        assert len(got) == len(alone) > 0
        got = got.sort_values([*by, *key], ignore_index=True)
        alone = alone.sort_values([*by, *key], ignore_index=True)
        for column in [*by, *key, "items"]:
            assert got[column].astype(str).tolist() == alone[column].astype(str).tolist(), column
        for column in ("time_s", "active_s", "wait_s", "blocked_s", "share"):
            assert got[column].to_numpy() == pytest.approx(alone[column].to_numpy()), column
