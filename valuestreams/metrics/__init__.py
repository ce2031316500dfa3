"""The metrics as pure pandas: DataFrames in, DataFrames out. Flow metrics (Flow Framework, SPEC §4)
in the ``flow_*`` modules — item facts (:mod:`.flow_facts`), windows and grids
(:mod:`.flow_windows`), the completion metrics (:mod:`.flow_completion`), load (:mod:`.flow_load`)
and time in status (:mod:`.flow_status`) — and DORA (SPEC §5) in :mod:`.dora`. The recompute
composes them cell by cell for every scope at once (:mod:`valuestreams.recompute.rows`, DORA in
:mod:`valuestreams.recompute.dora`); the tests'
``metric_reference`` states each metric as a readable function of its own.

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
:func:`.flow_windows.period_windows` (or any frame with aware ``window_start``/``window_end``); every window is
half-open ``[start, end)``, so a change stamped exactly at a local midnight belongs to the day
(and week, month) that starts there.

Results are tidy: one row per group (``by`` columns) x window x ``item_type``, where
``item_type`` "All" covers every type. Times are float seconds (``_s``), shares fractions 0..1.
Empty input gives empty frames with the same columns.
"""
