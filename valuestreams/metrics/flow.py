"""Flow metrics (Flow Framework, SPEC §4) as pure pandas: DataFrames in, DataFrames out.

No Django, no clock, no I/O: every computation receives ``as_of`` and ignores status changes after
it, so a recompute gives the same answer. Everything is vectorised (sorts, ``searchsorted``,
``cumsum``, ``bincount``, groupby); working memory stays under 200 bytes per status change
(about 135 measured on 12M rows with categorical input).

Input contract — ``transitions``, one row per status change of a work item, in any order:

====================  =====================================================================
``item_id``           int64, the work item.
``entered_at``        datetime64[ns, UTC] (any aware time zone is converted); when the item
                      entered this status. Rows of one item with the same time keep their order.
``status``            str or category, the source status name.
``flow_state``        "new", "waiting", "active", "done" or "canceled" (an unmapped status
                      arrives already mapped to "waiting").
``unmapped``          bool, the status had no mapping (reported as a caveat).
``blocked``           bool, the item is flagged blocked from this row on; blocked active time
                      counts as waiting (a blocked item stays in the load).
``item_type``         "Feature", "Defect", "Risk" or "Debt" (others are kept as extra types):
                      the flow-item type in effect from this row on.
any other column      a group column constant per item (``team_id``, ``value_stream_id``,
                      ``portfolio_id``...), kept through and usable in ``by=[...]``.
====================  =====================================================================

An item's first row is its creation (usually "new"); a first row in waiting or active marks the
history ``truncated`` (counted, flagged), one in done is *done without start* (flow time 0,
flagged), not truncated. Time bucketing uses windows built in the portfolio time zone by
:func:`period_windows` (or any frame with aware ``window_start``/``window_end``); every window is
half-open ``[start, end)``, so a change stamped exactly at a local midnight belongs to the day
(and week, month) that starts there.

Results are tidy: one row per group (``by`` columns) x window x ``item_type``, where
``item_type`` "All" covers every type. Times are float seconds (``_s``), shares fractions 0..1.
Empty input gives empty frames with the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from .flow_completion import (
    COMPLETION_COLUMNS,
    Target,
    completed_items,
    completion_cells,
    distribution_cells,
    flow_distribution,
    flow_efficiency,
    flow_time,
    flow_velocity,
)
from .flow_facts import (
    FLOW_ITEM_TYPES,
    FLOW_STATES,
    facts_frame,
    item_arrays,
    item_flow_facts,
    open_item_ages,
    status_rows,
)
from .flow_load import LOAD_COLUMNS, flow_load, load_cells
from .flow_status import time_in_status, time_in_status_by_scope
from .flow_windows import build_grid, period_windows

SUMMARY_METRICS: tuple[str, ...] = (
    *COMPLETION_COLUMNS,
    "share",
    "target",
    "gap",
    *LOAD_COLUMNS,
)


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


__all__ = [
    "FLOW_ITEM_TYPES",
    "FLOW_STATES",
    "SUMMARY_METRICS",
    "completed_items",
    "flow_caveats",
    "flow_distribution",
    "flow_efficiency",
    "flow_load",
    "flow_summary",
    "flow_time",
    "flow_velocity",
    "item_flow_facts",
    "open_item_ages",
    "period_windows",
    "time_in_status",
    "time_in_status_by_scope",
]
