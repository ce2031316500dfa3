"""The readable metric functions: each flow and DORA metric on its own, as a tidy frame, composed
from the building blocks production composes (:mod:`valuestreams.metrics`). Production never calls
these (a recompute builds every metric of every scope from one set of cells, see
:mod:`valuestreams.recompute.rows`); the metric tests use them as the reference that states each
metric's definition plainly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from valuestreams.metrics.dora.durations import lead_time_of, recovery_of
from valuestreams.metrics.dora.frequency import frequency_of
from valuestreams.metrics.dora.inputs import prepare_inputs
from valuestreams.metrics.dora.preparation import AsOf, MaxGap, Scope
from valuestreams.metrics.dora.rates import failure_rate_of, rework_of
from valuestreams.metrics.dora.tiers import tier_rules, tier_series
from valuestreams.metrics.flow_completion import (
    COMPLETION_COLUMNS,
    PERCENTILES,
    Target,
    completion_cells,
    distribution_cells,
)
from valuestreams.metrics.flow_facts import (
    ALL_TYPES,
    FACT_COLUMNS,
    NS_PER_S,
    facts_frame,
    item_arrays,
    item_flow_facts,
    status_rows,
    utc_ns,
)
from valuestreams.metrics.flow_load import load_cells
from valuestreams.metrics.flow_windows import Grid, build_grid, moments_in_windows

LOAD_COLUMNS: tuple[str, ...] = ("load_mean", "load_end")
SUMMARY_METRICS: tuple[str, ...] = (
    *COMPLETION_COLUMNS,
    "share",
    "target",
    "gap",
    *LOAD_COLUMNS,
)


# --- flow ----------------------------------------------------------------------------------------


def _target_types(target: Target) -> list[str]:
    if target is None:
        return []
    if isinstance(target, pd.DataFrame):
        return [str(t) for t in target["item_type"].unique()]
    return [str(t) for t in pd.Series(target).index]


def flow_summary(
    transitions: pd.DataFrame,
    *,
    as_of: datetime | pd.Timestamp,
    windows: pd.DataFrame,
    tz: str,
    by: Sequence[str] = (),
    target: Target = None,
) -> pd.DataFrame:
    """All five flow metrics in one tidy frame: one row per group x window x item type (+ "All").

    Columns: the ``by`` columns, the window columns, ``item_type``, then ``velocity`` (items
    whose final done is in the window), ``flow_time_p50_s``/``p85``/``p95`` (linear
    interpolation) and ``flow_time_mean_s``, ``active_s``/``wait_s`` (summed seconds) and
    ``flow_efficiency`` (Σactive ÷ Σ(active+wait)), ``share``/``target``/``gap`` (flow
    distribution vs target allocation, NaN on "All"), ``load_mean``/``load_end`` (items in
    waiting or active at the end of each day of ``tz``). ``target`` as in
    :func:`flow_distribution`. Per-item distributions: :func:`completed_items`.
    """
    rows = status_rows(transitions, as_of=as_of)
    facts = facts_frame(rows, item_arrays(rows))
    grid = build_grid(facts, windows, by, type_names=[*rows.type_names, *_target_types(target)])
    cells = completion_cells(facts, grid)
    return grid.frame().assign(
        **cells,
        **distribution_cells(cells["velocity"], grid, target),
        **load_cells(rows, grid, tz=tz),
    )


def flow_caveats(
    transitions: pd.DataFrame,
    *,
    as_of: datetime | pd.Timestamp,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Data-quality caveats per group of the items known as of ``as_of``.

    Columns: the ``by`` columns, ``items``, ``unmapped_status_changes`` (status changes into an
    unmapped status), ``unmapped_statuses`` (how many distinct unmapped status names) and
    ``unmapped_status_names`` (those names, sorted, comma-separated), ``truncated_histories``,
    ``done_without_start``.
    """
    rows = status_rows(transitions, as_of=as_of)
    facts = facts_frame(rows, item_arrays(rows))
    grid = build_grid(facts, pd.DataFrame(), by)
    n_groups = len(grid.groups)
    group = grid.group_of_item

    def per_group(values: pd.Series) -> np.ndarray:
        return np.bincount(group, weights=values.to_numpy(dtype=float), minlength=n_groups)

    unmapped_rows = np.flatnonzero(rows.unmapped)
    status, names = rows.status_codes()
    owners = group[np.searchsorted(rows.first, unmapped_rows, side="right") - 1]
    distinct = (
        pd.DataFrame(
            {"group": owners, "status": np.asarray(names, dtype=object)[status[unmapped_rows]]}
        )
        .drop_duplicates()
        .sort_values(["group", "status"])
        .groupby("group")["status"]
        .agg(["size", ", ".join])
        .reindex(range(n_groups))
    )
    counts = {
        "items": np.bincount(group, minlength=n_groups),
        "unmapped_status_changes": per_group(facts["unmapped_count"]),
        "unmapped_statuses": distinct["size"].fillna(0).to_numpy(),
        "unmapped_status_names": distinct["join"].fillna("").astype(str).to_numpy(),
        "truncated_histories": per_group(facts["truncated"]),
        "done_without_start": per_group(facts["done_without_start"]),
    }
    frame = grid.groups.reset_index(drop=True).assign(**counts)
    integer = [c for c in counts if c != "unmapped_status_names"]
    return frame.astype(dict.fromkeys(integer, np.int64))


def _done_ns(facts: pd.DataFrame) -> np.ndarray:
    if facts.empty:
        return np.empty(0, dtype=np.int64)
    return np.asarray(facts["done"].dt.as_unit("ns").array.asi8)


def completed_items(facts: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """The items whose ``done`` falls in each window: the window's columns followed by the item's
    facts, one row per (window, item). This is the per-item distribution behind flow time and
    flow efficiency (``flow_time_s``, ``flow_efficiency`` columns)."""
    items, window_pos = moments_in_windows(_done_ns(facts), windows)
    left = windows.iloc[window_pos].reset_index(drop=True)
    right = facts.iloc[items].reset_index(drop=True)
    return pd.concat([left, right], axis=1)


def _grid_for(facts: pd.DataFrame, windows: pd.DataFrame, by: Sequence[str]) -> Grid:
    types = pd.Categorical(facts["item_type"]).categories if len(facts) else ()
    return build_grid(facts, windows, by, type_names=types)


def _completion_frame(
    facts: pd.DataFrame, windows: pd.DataFrame, by: Sequence[str], columns: Sequence[str]
) -> pd.DataFrame:
    grid = _grid_for(facts, windows, by)
    cells = completion_cells(facts, grid)
    return grid.frame().assign(**{c: cells[c] for c in columns})


def flow_velocity(
    facts: pd.DataFrame, windows: pd.DataFrame, *, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Flow velocity: ``velocity`` (int) = number of items whose final ``done`` is in the window."""
    return _completion_frame(facts, windows, by, ["velocity"])


def flow_time(
    facts: pd.DataFrame, windows: pd.DataFrame, *, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Flow time (``done - start``) of the items done in the window, in seconds: ``velocity``,
    ``flow_time_p50_s``, ``flow_time_p85_s``, ``flow_time_p95_s`` (linear interpolation between
    closest ranks, as ``numpy.percentile``) and ``flow_time_mean_s``; NaN without completions."""
    columns = ["velocity", *(f"flow_time_{p}_s" for p in PERCENTILES), "flow_time_mean_s"]
    return _completion_frame(facts, windows, by, columns)


def flow_efficiency(
    facts: pd.DataFrame, windows: pd.DataFrame, *, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Time-weighted flow efficiency of the items done in the window: ``active_s`` and ``wait_s``
    (summed seconds) and ``flow_efficiency`` = Σactive ÷ Σ(active + wait), NaN when the sum is 0.
    Per-item values: the ``flow_efficiency`` column of :func:`completed_items`."""
    return _completion_frame(
        facts, windows, by, ["velocity", "active_s", "wait_s", "flow_efficiency"]
    )


def flow_distribution(
    facts: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    target: Target = None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Flow distribution: per group x window x type (no "All"), ``velocity``, ``share`` of the
    type among items done in the window, the target allocation ``target`` and ``gap`` = share -
    target (fractions 0..1). See :func:`target_cells` for the shapes ``target`` may take."""
    extra = []
    if isinstance(target, pd.DataFrame):
        extra = list(target["item_type"].unique())
    elif target is not None:
        extra = list(pd.Series(target).index)
    types = list(pd.Categorical(facts["item_type"]).categories) if len(facts) else []
    grid = build_grid(facts, windows, by, type_names=[*types, *extra])
    cells = completion_cells(facts, grid)
    frame = grid.frame().assign(velocity=cells["velocity"])
    frame = frame.assign(**distribution_cells(cells["velocity"], grid, target))
    frame = frame[frame["item_type"] != ALL_TYPES].reset_index(drop=True)
    return frame.assign(item_type=frame["item_type"].cat.remove_categories([ALL_TYPES]))


def flow_load(
    transitions: pd.DataFrame,
    windows: pd.DataFrame,
    *,
    as_of: datetime | pd.Timestamp,
    tz: str,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Flow load per group (``by``) x window x item type (type in effect at the time) and "All".

    Columns: the ``by`` columns, the window columns, ``item_type``, ``load_mean`` (float: mean of
    the day-end counts of items in waiting or active, days in the portfolio time zone ``tz``) and
    ``load_end`` (the count at the window's end, or at ``as_of`` for a window in progress).
    Built from state intervals, so a reopened item comes back into the load and a canceled or
    done item leaves it. See :func:`load_cells` for the day rules.
    """
    rows = status_rows(transitions, as_of=as_of)
    grid = build_grid(
        rows.item_frame([c for c in by if c in rows.extra_columns]),
        windows,
        by,
        type_names=rows.type_names,
    )
    return grid.frame().assign(**load_cells(rows, grid, tz=tz))


def open_item_ages(transitions: pd.DataFrame, *, as_of: datetime | pd.Timestamp) -> pd.DataFrame:
    """The items in the load as of ``as_of`` (state waiting or active) with their age.

    Columns: ``item_id``, group columns, ``item_type`` (current), ``state``, ``blocked``,
    ``start``, ``age_s`` (float seconds from first start to as_of, so a reopened item keeps its
    original start), ``truncated``. Sorted oldest first.
    """
    facts = item_flow_facts(transitions, as_of=as_of)
    open_items = facts[facts["state"].isin(["waiting", "active"])]
    ages = (utc_ns(as_of) - open_items["start"].array.asi8) / NS_PER_S
    extra = [c for c in facts.columns if c not in FACT_COLUMNS]
    keep = ["item_id", *extra, "item_type", "state", "blocked", "start", "truncated"]
    result = open_items[keep].assign(age_s=ages)
    return result.sort_values(["age_s", "item_id"], ascending=[False, True]).reset_index(drop=True)


# --- DORA ----------------------------------------------------------------------------------------


def deployment_frequency(
    deployments: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    tz: str,
    by: Scope = None,
    as_of: AsOf = None,
) -> pd.DataFrame:
    """Deployment days per group x window, DevLake style.

    A deployment day is a calendar day in ``tz`` on which at least one successful production
    deployment finished (two deployments on one day count once). Periods are the ISO weeks,
    calendar months and six-month blocks (counted back from the window's last month) that the
    window covers up to ``as_of``, partial ones included as in DevLake's calendar, so windows
    should start and end at local midnights; a period without deployments counts 0.

    Columns: ``deployments`` (count finished in the window), ``deployment_days``,
    ``median_deployment_days_per_week``, ``median_deployment_days_per_month``,
    ``median_deployment_days_per_six_months`` (lower medians, days).
    """
    return frequency_of(prepare_inputs(deployments, windows, by, as_of), tz)


def lead_time_for_changes(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    by: Scope = None,
    as_of: AsOf = None,
) -> pd.DataFrame:
    """Median lead time of the changes whose first successful production deployment finished in
    the window. Lead time = that deployment's ``finished_at`` - ``first_commit_at``, in whole
    minutes rounded up; negative spans are dropped and counted.

    Columns: ``changes_deployed``, ``median_lead_time_minutes`` (lower median, minutes),
    ``changes_negative_lead_time`` (caveat count).
    """
    return lead_time_of(prepare_inputs(deployments, windows, by, as_of, changes=changes))


def failed_deployment_recovery_time(
    deployments: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    by: Scope = None,
    max_gap: MaxGap = None,
    as_of: AsOf = None,
) -> pd.DataFrame:
    """Median of ``resolved_at`` - linked deployment's ``finished_at`` over the linked incidents
    resolved in the window (scope = the incident's). Negative spans are dropped and counted.

    Columns: ``incidents_recovered``, ``median_recovery_time_minutes`` (lower median, minutes,
    fractional), ``incidents_negative_recovery`` (caveat count).
    """
    return recovery_of(prepare_inputs(deployments, windows, by, as_of, None, incidents, max_gap))


def change_failure_rate(
    deployments: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    by: Scope = None,
    max_gap: MaxGap = None,
    as_of: AsOf = None,
) -> pd.DataFrame:
    """Share of successful production deployments finished in the window that have at least one
    linked incident, whenever created (see :func:`link_incidents`); a deployment with three
    incidents counts once.

    Columns: ``deployments``, ``failed_deployments``, ``change_failure_rate`` (0..1, NaN
    without deployments).
    """
    return failure_rate_of(
        prepare_inputs(deployments, windows, by, as_of, None, incidents, max_gap)
    )


def deployment_rework_rate(
    deployments: pd.DataFrame, *, windows: pd.DataFrame, by: Scope = None, as_of: AsOf = None
) -> pd.DataFrame:
    """Share of successful production deployments finished in the window that are rework
    (``is_rework``: unplanned fixes of user-visible problems; DORA 2024's fifth metric).

    Columns: ``deployments``, ``rework_deployments``, ``deployment_rework_rate`` (0..1, NaN
    without deployments).
    """
    return rework_of(prepare_inputs(deployments, windows, by, as_of))


def dora_tier(
    metric: str,
    value: float | Mapping[str, float] | pd.Series | None,
    *,
    benchmark: str = "dora-2023",
) -> str | None:
    """Tier (``"elite"``, ``"high"``, ``"medium"``, ``"low"``) of one metric value, or ``None``
    when the value is missing or the benchmark defines no tiers for the metric.

    ``value`` is in the metric's unit (minutes for the two durations, a 0..1 fraction for the
    rates). Deployment frequency needs a mapping of its measures, e.g.
    ``{"median_deployment_days_per_week": 2, "median_deployment_days_per_month": 9}`` (dora-2021
    also reads ``median_deployment_days_per_six_months``); a row of
    :func:`deployment_frequency` works as is.
    """
    rules = tier_rules(metric, benchmark)
    measures = list(dict.fromkeys(rule["measure"] for rule in rules))
    if isinstance(value, Mapping | pd.Series):
        row = {m: value.get(m) for m in measures}
    elif len(measures) > 1:
        raise TypeError(f"{metric} is tiered on {measures}; pass a mapping of them")
    else:
        row = dict.fromkeys(measures, value)
    frame = pd.DataFrame([row], columns=measures, dtype=float)
    return tier_series(metric, frame, benchmark).iloc[0]
