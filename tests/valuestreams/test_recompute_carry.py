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


def completion(old: list[dict], added: list[dict], prev_as_of: pd.Timestamp) -> dict:
    """What the run passes for the completion columns: the units the changed items' old and new
    facts move, and no fresh window (the previous run computed every window of ``windows()``)."""
    was = item_flow_facts(frame(old), as_of=prev_as_of).set_index("item_id")
    now = item_flow_facts(frame(old + added), as_of=NOW)
    return {
        "affected": carry.affected_units(was, now, windows(), portfolio_id=99),
        "fresh": np.zeros(0, dtype=np.int64),
    }


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
        **completion(old, added, PREVIOUS),
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
        **completion(OLD, ADDED, PREVIOUS),
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
        **completion(old, added, midnight),
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


def test_the_completion_columns_of_a_unit_no_change_moved_are_the_stored_ones():
    """A unit (scope, window) that no changed item's done, type, flow time or scope moved keeps
    the stored completion columns (here tampered, and the tampering shows), and one that a
    change moved is computed (telling the run that nothing moved leaves it stale)."""
    flow, _ = carried(OLD, ADDED)
    previous = full(frame(UNCHANGED + OLD), PREVIOUS)
    stored = previous.flow.assign(
        window_start=pd.to_datetime(previous.flow["window_start"]).dt.tz_localize("UTC")
    )
    facts = item_flow_facts(frame(UNCHANGED + OLD + ADDED), as_of=NOW)
    args = {
        "windows": windows(),
        "anchor": period_windows(
            PREVIOUS - pd.Timedelta(1, "ns"), PREVIOUS, grain="week", tz=ZURICH
        ),
        "stored_status": previous.status,
        "old_transitions": frame(OLD),
        "new_transitions": frame(OLD + ADDED),
        "done_facts": facts[facts["done"].notna()].astype({"item_type": str}),
        "fresh": np.zeros(0, dtype=np.int64),
        "prev_as_of": PREVIOUS,
        "as_of": NOW,
        "tz": ZURICH,
        "portfolio_id": 99,
    }
    affected = completion(OLD, ADDED, PREVIOUS)["affected"]
    # team 1's item 2 was done on 20 March and did not change: its units are carried
    team_1 = (stored["scope_kind"] == "team") & (stored["scope_id"] == 1)
    tampered = stored.assign(
        flow_time_p50_s=np.where(
            team_1, stored["flow_time_p50_s"] * 2 + 1, stored["flow_time_p50_s"]
        )
    )
    carried_tampered = carry.carried_rows(stored_flow=tampered, affected=affected, **args)[0]
    kept = carried_tampered[carried_tampered["velocity"] > 0]
    assert (kept["scope_kind"] == "team").any()
    with pytest.raises(AssertionError):
        same_rows(carried_tampered, flow, FLOW_KEY)
    stale = carry.carried_rows(stored_flow=stored, affected=np.zeros(0, dtype=np.int64), **args)[0]
    with pytest.raises(AssertionError):
        same_rows(stale, flow, FLOW_KEY)


def _random_rows(rng: np.random.Generator, item: int, team: int, stream: int) -> list[dict]:
    """A history before PREVIOUS: new, then waiting / active spells, maybe done or canceled."""
    at = pd.Timestamp("2025-03-01 06:00", tz="UTC") + pd.Timedelta(hours=int(rng.integers(0, 400)))
    kind = str(rng.choice(["Feature", "Defect", "Debt", "Risk"]))
    states = ["new", *rng.choice(["waiting", "active"], size=int(rng.integers(1, 4)))]
    states.append(str(rng.choice(["done", "done", "canceled", "active"])))
    rows = []
    for state in states:
        rows.append(
            {**row(item, "2025-03-01", state, 1, kind), "entered_at": at}
            | {"team_id": team, "value_stream_id": stream}
        )
        at = at + pd.Timedelta(minutes=int(rng.integers(30, 3000)))
    return [r for r in rows if r["entered_at"] < PREVIOUS] or rows[:1]


@pytest.mark.parametrize("seed", range(8))
def test_random_changes_are_carried_exactly(seed):
    """Random histories in three teams of two value streams (and items without a team); then
    random changes of some items: rows appended after the previous run (done since), a late row
    inserted among the old ones (its flow or active time moves, or only its flow time: an
    earlier start), an item moved to another team
    and value stream, a type changed, and one team moved to the other value stream (its items'
    value-stream units move, their team units do not). Carried rows = a full computation."""
    rng = np.random.default_rng(seed)
    teams = {1: 10, 2: 10, 3: 11, -1: -1}
    before = {
        item: _random_rows(rng, item, team, teams[team])
        for item, team in enumerate(rng.choice([1, 2, 3, -1], size=40, p=[0.3, 0.3, 0.3, 0.1]), 1)
    }
    after = {item: [dict(r) for r in rows] for item, rows in before.items()}
    changed: set[int] = set()
    waiting = {"status": STATUS["waiting"], "flow_state": "waiting"}
    moved_team = int(rng.choice([1, 2, 3]))
    for item, rows in after.items():
        if rows[0]["team_id"] == moved_team and seed % 2:
            for r in rows:
                r["value_stream_id"] = 21
            changed.add(item)
    for item in rng.choice(list(after), size=12, replace=False).tolist():
        rows = after[item]
        how = str(rng.choice(["append", "late", "early", "move", "type"]))
        changed.add(item)
        if how == "append":
            when = PREVIOUS + pd.Timedelta(hours=int(rng.integers(1, 140)))
            rows.append({**rows[-1], "entered_at": when, "status": "Done", "flow_state": "done"})
        elif how == "late" and len(rows) > 1:
            k = int(rng.integers(1, len(rows)))
            a, b = rows[k - 1]["entered_at"], rows[k]["entered_at"]
            state = str(rng.choice(["waiting", "active"]))
            late = {**rows[k - 1], "entered_at": a + (b - a) / 2}
            rows.insert(k, late | {"status": STATUS[state], "flow_state": state})
        elif how == "early" and len(rows) > 1:  # an earlier start: only the flow time moves
            a, b = rows[0]["entered_at"], rows[1]["entered_at"]
            rows.insert(1, {**rows[0], "entered_at": a + (b - a) / 2} | waiting)
        elif how == "move":
            team = int(rng.choice([t for t in (1, 2, 3, -1) if t != rows[0]["team_id"]]))
            for r in rows:
                r["team_id"], r["value_stream_id"] = team, teams[team]
        else:
            kind = str(rng.choice(["Feature", "Defect", "Debt", "Risk"]))
            for r in rows:
                r["item_type"] = kind
    unchanged = [r for item, rows in before.items() if item not in changed for r in rows]
    old = [r for item, rows in before.items() if item in changed for r in rows]
    new = [r for item, rows in after.items() if item in changed for r in rows]
    previous = full(frame(unchanged + old), PREVIOUS)
    facts = item_flow_facts(frame(unchanged + new), as_of=NOW)
    was = item_flow_facts(frame(old), as_of=PREVIOUS).set_index("item_id")
    now = item_flow_facts(frame(new), as_of=NOW)
    flow, status = carry.carried_rows(
        windows=windows(),
        anchor=period_windows(PREVIOUS - pd.Timedelta(1, "ns"), PREVIOUS, grain="week", tz=ZURICH),
        stored_flow=previous.flow.assign(
            window_start=pd.to_datetime(previous.flow["window_start"]).dt.tz_localize("UTC")
        ),
        stored_status=previous.status,
        old_transitions=frame(old),
        new_transitions=frame(new),
        done_facts=facts[facts["done"].notna()].astype({"item_type": str}),
        affected=carry.affected_units(was, now, windows(), portfolio_id=99),
        fresh=np.zeros(0, dtype=np.int64),
        prev_as_of=PREVIOUS,
        as_of=NOW,
        tz=ZURICH,
        portfolio_id=99,
    )
    expected = full(frame(unchanged + new), NOW)
    same_rows(flow, expected.flow, FLOW_KEY)
    same_rows(status, expected.status, STATUS_KEY)
