"""Every pure metric function (flow, DORA, the recompute's rows and carried rows) on degenerate
input: an empty frame, one item, items that never started, all canceled, all new, done without
start, a single status row, identical timestamps, only blocked rows, rows after as_of, items
without a team. Each gives the same columns as ordinary input, never raises, and counts what the
frame holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.valuestreams import metric_reference as reference
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
from valuestreams.metrics import dora
from valuestreams.metrics.flow_facts import item_flow_facts
from valuestreams.metrics.flow_status import time_in_status, time_in_status_by_scope
from valuestreams.metrics.flow_windows import period_windows
from valuestreams.recompute import carry
from valuestreams.recompute import dora as rd
from valuestreams.recompute import rows as rr

ZURICH = "Europe/Zurich"
PREVIOUS = pd.Timestamp("2025-02-26 10:00", tz="UTC")
AS_OF = pd.Timestamp("2025-03-01", tz="UTC")
STATUS = {"new": "To Do", "waiting": "Ready", "active": "Doing", "done": "Done"}
STATUS["canceled"] = "Won't do"
COLUMNS = ["item_id", "entered_at", "status", "flow_state", "unmapped", "blocked", "item_type"]
SCOPE_COLUMNS = ["team_id", "value_stream_id"]


def row(item: int, when: str, state: str, *, blocked: bool = False, team: int = 1) -> dict:
    return {
        "item_id": item,
        "entered_at": pd.Timestamp(when, tz="UTC"),
        "status": STATUS[state],
        "flow_state": state,
        "unmapped": False,
        "blocked": blocked,
        "item_type": "Feature",
        "team_id": team,
        "value_stream_id": 10 if team > 0 else -1,
    }


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*COLUMNS, *SCOPE_COLUMNS]).astype(
        {
            "item_id": np.int64,
            "entered_at": "datetime64[ns, UTC]",
            "unmapped": bool,
            "blocked": bool,
            "team_id": np.int64,
            "value_stream_id": np.int64,
        }
    )


# (rows, items known at AS_OF, items done at AS_OF, items in the load at AS_OF)
DEGENERATE: dict[str, tuple[list[dict], int, int, int]] = {
    "empty frame": ([], 0, 0, 0),
    "one item, one row": ([row(1, "2025-01-07", "new")], 1, 0, 0),
    "straight from new to done": (
        [row(1, "2025-01-07", "new"), row(1, "2025-01-08", "done")],
        1,
        1,
        0,
    ),
    "every item straight from new to done": (
        [
            r
            for n in (1, 2, 3)
            for r in (row(n, "2025-01-06", "new"), row(n, f"2025-01-1{n}", "done"))
        ],
        3,
        3,
        0,
    ),
    "all new": ([row(1, "2025-01-07", "new"), row(2, "2025-01-09", "new")], 2, 0, 0),
    "all canceled": (
        [
            row(1, "2025-01-07", "new"),
            row(1, "2025-01-08", "canceled"),
            row(2, "2025-01-07", "active"),
            row(2, "2025-01-09", "canceled"),
        ],
        2,
        0,
        0,
    ),
    "created in done": ([row(1, "2025-01-07", "done"), row(2, "2025-02-03", "done")], 2, 2, 0),
    "created canceled": ([row(1, "2025-01-07", "canceled")], 1, 0, 0),
    "a single waiting row": ([row(1, "2025-01-07", "waiting")], 1, 0, 1),
    "a single active row": ([row(1, "2025-01-07", "active")], 1, 0, 1),
    "identical timestamps": (
        [
            row(1, "2025-01-07 10:00", "new"),
            row(1, "2025-01-07 10:00", "active"),
            row(1, "2025-01-07 10:00", "done"),
            row(2, "2025-01-07 10:00", "new"),
            row(2, "2025-01-07 10:00", "active"),
        ],
        2,
        1,
        1,
    ),
    "only blocked rows": (
        [
            row(1, "2025-01-07", "active", blocked=True),
            row(2, "2025-01-08", "waiting", blocked=True),
        ],
        2,
        0,
        2,
    ),
    "blocked until done": (
        [row(1, "2025-01-07", "active", blocked=True), row(1, "2025-01-09", "done", blocked=True)],
        1,
        1,
        0,
    ),
    "every row after as_of": (
        [row(1, "2025-03-07", "new"), row(1, "2025-03-08", "active")],
        0,
        0,
        0,
    ),
    "reopened from done to new, done again": (
        [row(1, "2025-01-07", "done"), row(1, "2025-01-08", "new"), row(1, "2025-01-09", "done")],
        1,
        1,
        0,
    ),
    "no team: portfolio only": (
        [row(1, "2025-01-07", "new", team=-1), row(1, "2025-01-08", "active", team=-1)],
        1,
        0,
        1,
    ),
}
CASES = pytest.mark.parametrize("name", list(DEGENERATE))


def windows() -> pd.DataFrame:
    start, end = pd.Timestamp("2025-01-01", tz="UTC"), AS_OF + pd.Timedelta(1, "ns")
    return pd.concat(
        [period_windows(start, end, grain=g, tz=ZURICH) for g in ("week", "month")],
        ignore_index=True,
    )


def weeks() -> pd.DataFrame:
    return windows().query("grain == 'week'").reset_index(drop=True)


@pytest.fixture(params=["windows", "no windows"])
def window_frame(request) -> pd.DataFrame:
    return weeks() if request.param == "windows" else weeks().iloc[:0]


@CASES
def test_item_facts_count_what_the_frame_holds(name: str) -> None:
    rows, known, done, in_load = DEGENERATE[name]
    facts = item_flow_facts(frame(rows), as_of=AS_OF)
    assert len(facts) == known
    assert int(facts["done"].notna().sum()) == done
    assert int(facts["state"].isin(["waiting", "active"]).sum()) == in_load
    # a done item that never started has flow time 0; every done item has a flow time
    done_rows = facts[facts["done"].notna()]
    assert done_rows["flow_time_s"].notna().all()
    assert (done_rows.loc[done_rows["done_without_start"], "flow_time_s"] == 0).all()
    assert len(open_item_ages(frame(rows), as_of=AS_OF)) == in_load


@CASES
def test_flow_metrics_give_their_columns_and_count_the_completions(name, window_frame) -> None:
    rows, _, done, _ = DEGENERATE[name]
    transitions = frame(rows)
    facts = item_flow_facts(transitions, as_of=AS_OF)
    summary = flow_summary(
        transitions, as_of=AS_OF, windows=window_frame, tz=ZURICH, by=["team_id"]
    )
    assert {"velocity", "flow_time_p85_s", "flow_efficiency", "load_mean", "share"} <= set(
        summary.columns
    )
    for result in (
        flow_velocity(facts, window_frame, by=["team_id"]),
        flow_time(facts, window_frame),
        flow_efficiency(facts, window_frame),
        flow_distribution(facts, window_frame, target={"Feature": 0.6, "Debt": 0.4}),
        completed_items(facts, window_frame),
        flow_load(transitions, window_frame, as_of=AS_OF, tz=ZURICH, by=["team_id"]),
        time_in_status(transitions, window_frame, as_of=AS_OF, by=["team_id"]),
        *time_in_status_by_scope(
            transitions, window_frame, as_of=AS_OF, scopes=[["team_id"], ["value_stream_id"], []]
        ),
        flow_caveats(transitions, as_of=AS_OF, by=["team_id"]),
    ):
        assert len(result.columns) > 0
    if len(window_frame):
        velocity = flow_velocity(facts, window_frame)
        assert velocity.loc[velocity["item_type"] == "All", "velocity"].sum() == done
        assert len(completed_items(facts, window_frame)) == done
    caveats = flow_caveats(transitions, as_of=AS_OF)
    assert caveats["items"].sum() == len(facts)


@CASES
def test_recompute_rows_are_built_for_every_scope(name: str) -> None:
    rows, known, done, _ = DEGENERATE[name]
    computed = rr.flow_rows(frame(rows), windows=windows(), as_of=AS_OF, tz=ZURICH, portfolio_id=9)
    assert list(computed.flow.columns) == rr.FLOW_FIELDS
    assert list(computed.status.columns) == rr.STATUS_FIELDS
    assert list(computed.facts.columns) == rr.FACT_FIELDS
    assert len(computed.facts) == known
    portfolio_weeks = computed.flow.query(
        "scope_kind == 'portfolio' and grain == 'week' and item_type == 'All'"
    )
    assert portfolio_weeks["velocity"].sum() == done
    # time in status covers the started items only: never a row for an item done without start
    started_and_done = (
        item_flow_facts(frame(rows), as_of=AS_OF).query("done_without_start == False")["done"]
    ).notna()
    portfolio_status = computed.status.query("scope_kind == 'portfolio' and grain == 'week'")
    assert portfolio_status.empty == (not started_and_done.any())
    no_windows = rr.flow_rows(
        frame(rows), windows=windows().iloc[:0], as_of=AS_OF, tz=ZURICH, portfolio_id=9
    )
    assert no_windows.flow.empty
    assert no_windows.status.empty


@CASES
def test_carried_rows_equal_a_full_computation_for_a_degenerate_change(name: str) -> None:
    """The frame's items change between two runs (they are new since the previous one), next to
    an unchanged item that stays in the load."""
    rows, _, _, _ = DEGENERATE[name]
    unchanged = [row(100, "2025-01-02", "new", team=2), row(100, "2025-01-03", "active", team=2)]
    shifted = [
        {**r, "item_id": r["item_id"] + 10, "entered_at": r["entered_at"] + pd.Timedelta(days=52)}
        for r in rows
    ]  # the same shapes, stamped after the previous run
    before = rr.flow_rows(
        frame(unchanged), windows=windows(), as_of=PREVIOUS, tz=ZURICH, portfolio_id=9
    )
    after = rr.flow_rows(
        frame(unchanged + shifted), windows=windows(), as_of=AS_OF, tz=ZURICH, portfolio_id=9
    )
    facts = item_flow_facts(frame(unchanged + shifted), as_of=AS_OF)
    flow, status = carry.carried_rows(
        windows=windows(),
        anchor=period_windows(PREVIOUS - pd.Timedelta(1, "ns"), PREVIOUS, grain="week", tz=ZURICH),
        stored_flow=before.flow.assign(
            window_start=pd.to_datetime(before.flow["window_start"]).dt.tz_localize("UTC")
        ),
        stored_status=before.status,
        old_transitions=frame([]),
        new_transitions=frame(shifted),
        done_facts=facts[facts["done"].notna()].astype({"item_type": str}),
        affected=carry.affected_units(
            item_flow_facts(frame([]), as_of=PREVIOUS).set_index("item_id"),
            item_flow_facts(frame(shifted), as_of=AS_OF),
            windows(),
            portfolio_id=9,
        ),
        fresh=np.zeros(0, dtype=np.int64),
        prev_as_of=PREVIOUS,
        as_of=AS_OF,
        tz=ZURICH,
        portfolio_id=9,
    )
    same_rows(flow, after.flow, ["scope_kind", "scope_id", "grain", "window_start", "item_type"])
    same_rows(status, after.status, ["scope_kind", "scope_id", "grain", "window_start", "status"])


def same_rows(computed: pd.DataFrame, expected: pd.DataFrame, key: list[str]) -> None:
    assert len(computed) == len(expected)
    a = computed.sort_values(key, ignore_index=True).astype({"scope_id": np.int64})
    b = expected.sort_values(key, ignore_index=True).astype({"scope_id": np.int64})
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


@CASES
def test_carried_contributions_of_a_degenerate_frame(name: str) -> None:
    rows, _, _, in_load = DEGENERATE[name]
    load = carry.load_contribution(frame(rows), windows(), as_of=AS_OF, tz=ZURICH, portfolio_id=9)
    assert list(load.columns) == ["scope", "window", "type", "total", "end"]
    status = carry.status_contribution(frame(rows), windows(), as_of=AS_OF, portfolio_id=9)
    assert {"scope", "window", "status", "state", "items", "time_us"} <= set(status.columns)
    # the portfolio's load at the end of the week holding as_of, all types together
    at_end = load[
        (load["scope"] == (2 << 40) | 9)
        & (load["window"] == len(weeks()) - 1)
        & (load["type"] == 4)
    ]
    assert at_end["end"].sum() == in_load


# --- DORA --------------------------------------------------------------------------------------


def deployments(*rows) -> pd.DataFrame:
    columns = ["deployment_id", "finished_at", "successful", "environment", "is_rework"]
    out = pd.DataFrame(list(rows), columns=[*columns, "team_id"])
    out["finished_at"] = pd.to_datetime(out["finished_at"], utc=True)
    return out.astype({"deployment_id": np.int64, "team_id": np.int64})


def changes(*rows) -> pd.DataFrame:
    out = pd.DataFrame(list(rows), columns=["change_id", "first_commit_at", "deployment_id"])
    out["first_commit_at"] = pd.to_datetime(out["first_commit_at"], utc=True)
    out["team_id"] = 1
    return out.astype({"change_id": np.int64, "deployment_id": "Int64", "team_id": np.int64})


def incidents(*rows) -> pd.DataFrame:
    columns = ["incident_id", "created_at", "resolved_at", "deployment_id"]
    out = pd.DataFrame(list(rows), columns=columns)
    for column in ("created_at", "resolved_at"):
        out[column] = pd.to_datetime(out[column], utc=True)
    out["team_id"] = 1
    return out.astype({"incident_id": np.int64, "deployment_id": "Int64", "team_id": np.int64})


ONE = ("2025-01-07 10:00", True, "production", False, 1)
# (deployments, changes, incidents, successful production deployments known at AS_OF)
DORA_DEGENERATE = {
    "nothing at all": (deployments(), changes(), incidents(), 0),
    "one deployment": (deployments((1, *ONE)), changes(), incidents(), 1),
    "only failed deployments": (
        deployments((1, "2025-01-07", False, "production", False, 1)),
        changes(),
        incidents(),
        0,
    ),
    "only staging": (
        deployments((1, "2025-01-07", True, "staging", True, 1)),
        changes(),
        incidents(),
        0,
    ),
    "a change never deployed": (
        deployments(),
        changes((1, "2025-01-07", None)),
        incidents(),
        0,
    ),
    "a change committed after its deployment": (
        deployments((1, *ONE)),
        changes((1, "2025-01-08", 1)),
        incidents(),
        1,
    ),
    "an incident and no deployment": (
        deployments(),
        changes(),
        incidents((1, "2025-01-07", "2025-01-08", None)),
        0,
    ),
    "an unresolved incident naming an unknown deployment": (
        deployments((1, *ONE)),
        changes(),
        incidents((1, "2025-01-08", None, 99)),
        1,
    ),
    "identical timestamps": (
        deployments((1, *ONE), (2, *ONE)),
        changes((1, ONE[0], 1), (2, ONE[0], 2)),
        incidents((1, ONE[0], ONE[0], None)),
        2,
    ),
    "everything after as_of": (
        deployments((1, "2025-04-07", True, "production", False, 1)),
        changes((1, "2025-04-01", 1)),
        incidents((1, "2025-04-08", "2025-04-09", 1)),
        0,
    ),
}


@pytest.mark.parametrize("name", list(DORA_DEGENERATE))
@pytest.mark.parametrize("by", [None, ["team_id"]])
def test_dora_metrics_of_degenerate_input(name: str, by, window_frame) -> None:
    deployed, changed, failed, known = DORA_DEGENERATE[name]
    win = window_frame.rename(columns={"window": "label"})[["label", "window_start", "window_end"]]
    summary = dora.dora_summary(
        deployed, changed, failed, windows=win, tz=ZURICH, by=by, as_of=AS_OF
    )
    assert set(dora.SUMMARY_COLUMNS) <= set(summary.columns)
    for result in (
        reference.deployment_frequency(deployed, windows=win, tz=ZURICH, by=by, as_of=AS_OF),
        reference.lead_time_for_changes(deployed, changed, windows=win, by=by, as_of=AS_OF),
        reference.failed_deployment_recovery_time(
            deployed, failed, windows=win, by=by, as_of=AS_OF, max_gap=pd.Timedelta(hours=1)
        ),
        reference.change_failure_rate(deployed, failed, windows=win, by=by, as_of=AS_OF),
        reference.deployment_rework_rate(deployed, windows=win, by=by, as_of=AS_OF),
    ):
        assert len(result.columns) > 0
    assert len(dora.link_incidents(failed, deployed, by=by)) == len(failed)
    if len(win):
        assert summary["deployments"].sum() == known


@pytest.mark.parametrize("name", list(DORA_DEGENERATE))
def test_dora_rows_and_caveats_of_degenerate_input(name: str) -> None:
    deployed, changed, failed, known = DORA_DEGENERATE[name]
    scoped = [
        f.assign(value_stream_id=np.where(f["team_id"] > 0, 10, -1))
        if len(f)
        else f.assign(value_stream_id=pd.Series(dtype=np.int64))
        for f in (deployed, changed, failed)
    ]
    rows = rd.dora_rows(
        *scoped,
        windows=windows(),
        as_of=AS_OF,
        tz=ZURICH,
        portfolio_id=9,
        benchmark="dora-2023",
        max_gap=None,
    )
    assert list(rows.columns) == rd.DORA_FIELDS
    portfolio_months = rows.query("scope_kind == 'portfolio' and grain == 'month'")
    assert portfolio_months["deployments"].sum() == known
    caveats = rd.dora_caveats(scoped[0], scoped[2], as_of=AS_OF, max_gap=None)
    assert caveats["incidents"] == int((failed["created_at"] <= AS_OF).sum())


def test_targets_of_no_period_leave_every_target_empty() -> None:
    computed = rr.flow_rows(
        frame(DEGENERATE["straight from new to done"][0]),
        windows=windows(),
        as_of=AS_OF,
        tz=ZURICH,
        portfolio_id=9,
    )
    no_targets = pd.DataFrame(
        columns=["value_stream_id", "period_start", "period_end", "item_type", "target", "money"]
    )
    assert (
        rr.with_targets(computed.flow, no_targets, pd.Series(dtype=np.int64))["target"].isna().all()
    )
    assert rr.with_targets(computed.flow.iloc[:0], no_targets, pd.Series(dtype=np.int64)).empty


def test_dora_metrics_of_frames_without_columns() -> None:
    win = weeks().rename(columns={"window": "label"})[["label", "window_start", "window_end"]]
    nothing = pd.DataFrame()
    for by in (None, ["team_id"]):
        summary = dora.dora_summary(
            nothing, nothing, nothing, windows=win, tz=ZURICH, by=by, as_of=AS_OF
        )
        assert summary.empty
        assert set(dora.SUMMARY_COLUMNS) <= set(summary.columns)
    assert dora.link_incidents(nothing, nothing).empty
    assert rd.dora_caveats(nothing, nothing, as_of=AS_OF, max_gap=None) == {
        "incidents": 0,
        "incidents_unlinked": 0,
    }


def test_report_windows_and_digests_of_no_data() -> None:
    # no data yet, or data only after as_of: no window (and rows of none, see above)
    for start in (None, AS_OF + pd.Timedelta(days=3)):
        found = rr.report_windows(start=start, as_of=AS_OF, tz=ZURICH)
        assert found.empty
        assert {"grain", "window", "window_start", "window_end"} <= set(found.columns)
    # data starting at as_of itself: one week and one month
    found = rr.report_windows(start=AS_OF, as_of=AS_OF, tz=ZURICH)
    assert found["grain"].tolist() == ["week", "month"]
    none = np.zeros(0, dtype=np.int64)
    digests = rr.item_digests(none, none.astype(np.uint64), none.astype(bool))
    assert digests.empty
    assert list(digests.columns) == [
        "item_id",
        "history_rows",
        "history_digest",
        "unmapped_type_count",
    ]
    hashes = rr.row_hashes(none, none, none, none, none.astype(bool), statuses=[], types=[])
    assert hashes.size == 0
