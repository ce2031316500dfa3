"""Carrying rows forward (pure): previous rows + the changed items' old and new contributions give
exactly the rows a full computation gives, across a week end, a month end and a DST change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuestreams.metrics.flow_facts import item_flow_facts
from valuestreams.metrics.flow_status import exact_bincount
from valuestreams.metrics.flow_windows import period_windows
from valuestreams.recompute import carry
from valuestreams.recompute.rows import flow_rows

ZURICH = "Europe/Zurich"
PREVIOUS = pd.Timestamp("2025-03-26 10:00", tz="UTC")  # a Wednesday
NOW = pd.Timestamp("2025-04-01 09:00", tz="UTC")  # the next Tuesday: new week and month, DST since
STATUS = {"new": "Backlog", "waiting": "Ready", "active": "Doing", "done": "Done"}
STATUS["canceled"] = "Won't do"
TEAMS = {1: 10, 2: 10, 3: 11, -1: -1}  # team → value stream


def row(item: int, when: str, state: str, team: int, item_type: str = "Feature") -> dict:
    return {
        "item_id": item,
        "entered_at": pd.Timestamp(when, tz="UTC"),
        "status": STATUS[state],
        "flow_state": state,
        "unmapped": False,
        "blocked": False,
        "item_type": item_type,
        "team_id": team,
        "value_stream_id": TEAMS[team],
    }


UNCHANGED = [
    row(1, "2025-03-01 08:00", "new", 1),
    row(1, "2025-03-10 08:00", "active", 1),  # open the whole time
    row(2, "2025-03-01 08:00", "new", 1, "Defect"),
    row(2, "2025-03-03 08:00", "active", 1, "Defect"),
    row(2, "2025-03-20 17:00", "done", 1, "Defect"),
    row(7, "2025-03-15 12:00", "active", -1),  # no team: counts for the portfolio only
    row(8, "2025-03-02 08:00", "waiting", 2, "Debt"),
    row(8, "2025-03-21 08:00", "canceled", 2, "Debt"),
]
OLD = [  # the changed items as the previous run saw them
    row(3, "2025-03-05 08:00", "new", 2),
    row(3, "2025-03-12 08:00", "active", 2),
    row(4, "2025-03-02 08:00", "new", 2, "Risk"),
    row(4, "2025-03-04 08:00", "active", 2, "Risk"),
    row(4, "2025-03-18 08:00", "done", 2, "Risk"),
    row(6, "2025-03-01 08:00", "new", 3),
    row(6, "2025-03-05 08:00", "active", 3),
]
ADDED = [  # appended since: moves, a reopening, a row that arrived late, a new item
    row(3, "2025-03-27 08:00", "waiting", 2),
    row(3, "2025-03-31 15:00", "done", 2),
    row(4, "2025-03-28 08:00", "active", 2, "Risk"),
    row(6, "2025-03-20 08:00", "waiting", 3),  # stamped before the previous as_of
    row(6, "2025-03-31 08:00", "done", 3),
    row(5, "2025-03-29 08:00", "new", 3),
    row(5, "2025-03-30 08:00", "active", 3),
]


def frame(rows: list[dict]) -> pd.DataFrame:
    columns = list(row(1, "2025-01-01", "new", 1))
    return pd.DataFrame(rows, columns=columns).sort_values(
        ["item_id", "entered_at"], kind="stable", ignore_index=True
    )


def windows() -> pd.DataFrame:
    start, end = pd.Timestamp("2025-03-01", tz="UTC"), NOW + pd.Timedelta(1, "ns")
    return pd.concat(
        [period_windows(start, end, grain=g, tz=ZURICH) for g in ("week", "month")],
        ignore_index=True,
    )


def full(transitions: pd.DataFrame, as_of: pd.Timestamp):
    return flow_rows(transitions, windows=windows(), as_of=as_of, tz=ZURICH, portfolio_id=99)


def carried(old: list[dict], added: list[dict]):
    previous = full(frame(UNCHANGED + old), PREVIOUS)
    changed_now = frame(old + added)
    facts = item_flow_facts(frame(UNCHANGED + old + added), as_of=NOW)
    done = facts[facts["done"].notna()].astype({"item_type": str})
    stored_flow = previous.flow.assign(
        window_start=pd.to_datetime(previous.flow["window_start"]).dt.tz_localize("UTC")
    )
    return carry.carried_rows(
        windows=windows(),
        anchor=period_windows(PREVIOUS - pd.Timedelta(1, "ns"), PREVIOUS, grain="week", tz=ZURICH),
        stored_flow=stored_flow,
        stored_status=previous.status,
        old_transitions=frame(old),
        new_transitions=changed_now,
        done_facts=done,
        prev_as_of=PREVIOUS,
        as_of=NOW,
        tz=ZURICH,
        portfolio_id=99,
    )


def same_rows(computed: pd.DataFrame, expected: pd.DataFrame, key: list[str]) -> None:
    assert len(computed) == len(expected)
    a = computed.sort_values(key, ignore_index=True)
    b = expected.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(
        a.astype({"scope_id": np.int64}), b.astype({"scope_id": np.int64}), check_dtype=False
    )


FLOW_KEY = ["scope_kind", "scope_id", "grain", "window_start", "item_type"]
STATUS_KEY = ["scope_kind", "scope_id", "grain", "window_start", "status"]


def test_carried_rows_equal_a_full_computation_after_changes():
    flow, status = carried(OLD, ADDED)
    expected = full(frame(UNCHANGED + OLD + ADDED), NOW)
    same_rows(flow, expected.flow, FLOW_KEY)
    same_rows(status, expected.status, STATUS_KEY)
    # the new week and month hold the load carried from before plus the changes
    april = flow[(flow["label"] == "2025-04") & (flow["scope_kind"] == "portfolio")]
    assert april.set_index("item_type").loc["All", "load_end"] > 0


def test_with_no_change_only_time_moves_the_load():
    flow, status = carried([], [])
    expected = full(frame(UNCHANGED), NOW)
    same_rows(flow, expected.flow, FLOW_KEY)
    same_rows(status, expected.status, STATUS_KEY)


def test_a_wrong_previous_sum_shows_in_the_result():
    """The carried rows do depend on the stored rows (a test that could not fail would not)."""
    flow, _ = carried(OLD, ADDED)
    previous = full(frame(UNCHANGED + OLD), PREVIOUS)
    previous.flow["load_mean"] = previous.flow["load_mean"] + 1
    tampered = carry.carried_rows(
        windows=windows(),
        anchor=period_windows(PREVIOUS - pd.Timedelta(1, "ns"), PREVIOUS, grain="week", tz=ZURICH),
        stored_flow=previous.flow,
        stored_status=previous.status,
        old_transitions=frame(OLD),
        new_transitions=frame(OLD + ADDED),
        done_facts=item_flow_facts(frame(UNCHANGED + OLD + ADDED), as_of=NOW).astype(
            {"item_type": str}
        ),
        prev_as_of=PREVIOUS,
        as_of=NOW,
        tz=ZURICH,
        portfolio_id=99,
    )[0]
    with pytest.raises(AssertionError):
        same_rows(tampered, flow, FLOW_KEY)


def test_exact_bincount_adds_large_integers_without_rounding():
    values = np.array([2**60 + 1, 3, 2**61 + 5, 7], dtype=np.int64)
    codes = np.array([0, 0, 1, 1])
    assert exact_bincount(codes, values, 2).tolist() == [2**60 + 4, 2**61 + 12]
    assert exact_bincount(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0).size == 0


def test_carried_rows_equal_a_full_computation_across_midnight_stamped_changes():
    """The previous run's as_of is a local midnight (Thursday 27 March 00:00 in Zurich) and
    changes are stamped exactly at midnights, before and after it: each counts for the day that
    starts there. The item whose change is stamped at the previous as_of is a changed item (the
    previous run's last day ended just before it), and one item is created in done."""
    midnight = pd.Timestamp("2025-03-26 23:00", tz="UTC")
    unchanged = [
        row(1, "2025-03-01 08:00", "new", 1),
        row(1, "2025-03-24 23:00", "active", 1),  # Tuesday 25 March 00:00
        row(2, "2025-03-02 08:00", "active", 2),
        row(2, "2025-03-25 23:00", "done", 2),  # Wednesday 26 March 00:00
    ]
    old = [row(3, "2025-03-03 08:00", "new", 3), row(3, "2025-03-26 23:00", "active", 3)]
    added = [
        row(3, "2025-03-29 11:00", "done", 3),  # Saturday 29 March, noon
        row(4, "2025-03-27 23:00", "done", 1, "Defect"),  # created in done at midnight
        row(5, "2025-03-29 23:00", "new", 2),
        row(5, "2025-03-30 22:00", "waiting", 2),  # Monday 31 March 00:00 (summer time)
    ]
    previous = full(frame(unchanged + old), midnight)
    facts = item_flow_facts(frame(unchanged + old + added), as_of=NOW)
    flow, status = carry.carried_rows(
        windows=windows(),
        anchor=period_windows(midnight - pd.Timedelta(1, "ns"), midnight, grain="week", tz=ZURICH),
        stored_flow=previous.flow.assign(
            window_start=pd.to_datetime(previous.flow["window_start"]).dt.tz_localize("UTC")
        ),
        stored_status=previous.status,
        old_transitions=frame(old),
        new_transitions=frame(old + added),
        done_facts=facts[facts["done"].notna()].astype({"item_type": str}),
        prev_as_of=midnight,
        as_of=NOW,
        tz=ZURICH,
        portfolio_id=99,
    )
    expected = full(frame(unchanged + old + added), NOW)
    same_rows(flow, expected.flow, FLOW_KEY)
    same_rows(status, expected.status, STATUS_KEY)
    assert not facts.set_index("item_id").loc[4, "truncated"]
    # team 3's item entered the load at Thursday's first instant: not at the end of Wednesday 26
    week = expected.flow.query("scope_kind == 'team' and scope_id == 3 and label == '2025-W13'")
    assert week.set_index("item_type").loc["All", "load_mean"] == pytest.approx(2 / 7)
