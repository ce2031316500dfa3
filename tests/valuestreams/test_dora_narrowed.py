"""The DORA rows of a few cells, computed from the prepared inputs narrowed to those cells'
scopes and time span (:func:`valuestreams.recompute.dora.narrowed_inputs`), equal the same rows
of a computation over every record (pure: no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from valuestreams.recompute import dora as rd
from valuestreams.recompute import rows as rr

AS_OF = pd.Timestamp("2026-03-02 12:00", tz="UTC")
START = pd.Timestamp("2025-09-01", tz="UTC")
TZ = "Europe/Zurich"
TEAMS = {1: 10, 2: 10, 3: 20, 4: 20, 5: 30, -1: -1}  # team → value stream (-1: none)


def frames(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Deployments of five teams (and some without a team), changes, incidents named or left to
    be linked, some linked across teams, some resolved long after."""
    rng = np.random.default_rng(seed)
    n = 400
    span = (AS_OF - START).value
    finished = START + pd.to_timedelta(rng.uniform(0, span, n).astype(np.int64), "ns")
    teams = rng.choice(list(TEAMS), n)
    deployments = pd.DataFrame(
        {
            "deployment_id": np.arange(1, n + 1),
            "finished_at": finished,
            "successful": rng.random(n) > 0.1,
            "environment": np.where(rng.random(n) > 0.1, "production", "staging"),
            "is_rework": rng.random(n) < 0.15,
            "team_id": teams,
            "value_stream_id": [TEAMS[t] for t in teams],
        }
    )
    m = 600
    of = rng.integers(0, n, m)
    changes = pd.DataFrame(
        {
            "change_id": np.arange(1, m + 1),
            "first_commit_at": finished[of]
            - pd.to_timedelta(rng.uniform(-2, 300, m), "h").floor("s"),
            "deployment_id": pd.array(
                np.where(rng.random(m) > 0.1, of + 1, 0), dtype="Int64"
            ).astype("Int64"),
            "team_id": teams[of],
            "value_stream_id": [TEAMS[t] for t in teams[of]],
        }
    )
    changes.loc[changes["deployment_id"] == 0, "deployment_id"] = pd.NA
    k = 150
    cause = rng.integers(0, n, k)
    created = finished[cause] + pd.to_timedelta(rng.uniform(0, 96, k), "h").floor("s")
    resolved = created + pd.to_timedelta(rng.uniform(0.2, 24 * 40, k), "h").floor("s")
    incident_teams = np.where(rng.random(k) < 0.1, rng.choice(list(TEAMS), k), teams[cause])
    incidents = pd.DataFrame(
        {
            "incident_id": np.arange(1, k + 1),
            "created_at": created,
            "resolved_at": pd.Series(resolved).where(rng.random(k) > 0.2),
            "deployment_id": pd.array(np.where(rng.random(k) < 0.4, cause + 1, 0), dtype="Int64"),
            "team_id": incident_teams,
            "value_stream_id": [TEAMS[t] for t in incident_teams],
        }
    )
    incidents.loc[incidents["deployment_id"] == 0, "deployment_id"] = pd.NA
    return deployments, changes, incidents


@pytest.mark.parametrize("seed", range(6))
def test_rows_of_a_few_cells_from_narrowed_inputs_equal_those_from_every_record(seed):
    deployments, changes, incidents = frames(seed)
    windows = rr.report_windows(start=START.to_pydatetime(), as_of=AS_OF.to_pydatetime(), tz=TZ)
    common = {
        "windows": windows,
        "as_of": AS_OF.to_pydatetime(),
        "tz": TZ,
        "portfolio_id": 7,
        "benchmark": "dora-2023",
        "max_gap": pd.Timedelta(hours=48) if seed % 2 else None,
    }
    inputs = rd.dora_inputs(
        deployments,
        changes,
        incidents,
        windows=windows,
        as_of=AS_OF.to_pydatetime(),
        max_gap=common["max_gap"],
    )
    every = rd.dora_rows(deployments, changes, incidents, inputs=inputs, **common)
    cells = rd.dora_input_hashes(deployments, changes, incidents, inputs=inputs, **common)
    rng = np.random.default_rng(100 + seed)
    # a day's few cells: the open windows, a late week, some scopes of each kind
    chosen = cells[rng.random(len(cells)) < 0.08]
    chosen = pd.concat([chosen, cells[cells["window_start"] == cells["window_start"].max()]])
    chosen = chosen.drop_duplicates(rd.DORA_KEY).reset_index(drop=True)
    few = rd.dora_rows_of(deployments, changes, incidents, cells=chosen, inputs=inputs, **common)
    assert len(few) == len(chosen)
    expected = every.merge(chosen[rd.DORA_KEY], on=rd.DORA_KEY)
    got = few.drop(columns=["input_hash"])[rd.DORA_FIELDS]
    order = rd.DORA_KEY
    pd.testing.assert_frame_equal(
        got.sort_values(order).reset_index(drop=True),
        expected[rd.DORA_FIELDS].sort_values(order).reset_index(drop=True),
        check_dtype=False,
    )
    # and without narrowing (inputs prepared inside): the same rows
    plain = rd.dora_rows_of(deployments, changes, incidents, cells=chosen, **common)
    pd.testing.assert_frame_equal(
        plain.drop(columns=["input_hash"])[rd.DORA_FIELDS]
        .sort_values(order)
        .reset_index(drop=True),
        got.sort_values(order).reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize("seed", range(6))
def test_every_scope_kind_in_one_pass_equals_a_summary_per_scope_kind(seed):
    """Every scope kind's prepared inputs stacked into one summary (:func:`rd.stacked_inputs`:
    what a day's few changed cells are computed with) give,
    for every scope and window, the rows of one :func:`dora_summary` per scope kind over the
    records as they are: links named or inferred, first deployments and failed deployments
    never cross kinds (incidents here name or follow deployments of other teams), and changes
    without a team take their deployment's. Every cell of every scope here."""
    from valuestreams.metrics import dora

    deployments, changes, incidents = frames(seed)
    if seed % 3 == 2:  # changes sent without their scope: each takes its deployment's
        changes = changes.assign(team_id=pd.NA, value_stream_id=pd.NA)
    windows = rr.report_windows(start=START.to_pydatetime(), as_of=AS_OF.to_pydatetime(), tz=TZ)
    max_gap = pd.Timedelta(hours=48) if seed % 2 else None
    common = {
        "windows": windows,
        "as_of": AS_OF.to_pydatetime(),
        "tz": TZ,
        "portfolio_id": 7,
        "benchmark": "dora-2023",
        "max_gap": max_gap,
    }
    inputs = rd.dora_inputs(
        deployments, changes, incidents, windows=windows, as_of=common["as_of"], max_gap=max_gap
    )
    cells = rd.dora_input_hashes(deployments, changes, incidents, inputs=inputs, **common)
    rows = rd.dora_rows_of(
        deployments, changes, incidents, cells=cells, inputs=inputs, one_pass=True, **common
    )
    win = windows.rename(columns={"window": "label"})[["label", "window_start", "window_end"]]
    compared = [c for c in rd.DORA_FIELDS if c not in rr.WINDOW_FIELDS and c != "benchmark"]
    compared = [c for c in compared if not c.endswith("_tier")]
    for kind, column in rr.SCOPES:
        own = changes
        if column and changes[column].isna().all():
            own = changes.drop(columns=["team_id", "value_stream_id"])
        summary = dora.dora_summary(
            deployments,
            own,
            incidents,
            windows=win,
            tz=TZ,
            by=[column] if column else None,
            max_gap=max_gap,
            as_of=AS_OF,
        )
        if column:
            summary = summary[summary[column] != rr.NO_SCOPE]
        expected = summary.assign(
            scope_id=summary[column].to_numpy(dtype=np.int64) if column else 7,
            window_start=pd.to_datetime(summary["window_start"]).dt.tz_localize(None),
        )
        got = rows[rows["scope_kind"] == kind].assign(
            window_start=pd.to_datetime(rows["window_start"])
        )
        assert len(got) == len(expected) > 0
        key = ["scope_id", "window_start", "label"]
        pd.testing.assert_frame_equal(
            got[key + compared].sort_values(key).reset_index(drop=True),
            expected[key + compared].sort_values(key).reset_index(drop=True),
            check_dtype=False,
        )
