"""The DORA rows a recompute publishes, and which of them an incremental run recomputes (pure:
no Django, no clock).

:func:`dora_rows` computes the :class:`~valuestreams.models.DoraMetric` rows of every scope
(``team``, ``value_stream``, ``portfolio``: the scopes of :mod:`valuestreams.recompute.rows`) and
window from the deployments, changes and incidents with :mod:`valuestreams.metrics.dora`;
:func:`dora_input_hashes` hashes, per row, what it is computed from, so that :func:`dora_changed`
finds the rows an incremental run recomputes (:func:`dora_rows_of`, over inputs prepared once by
:func:`dora_inputs` and narrowed to those rows' scopes and windows); :func:`dora_caveats` counts
the portfolio's incidents no deployment could be linked to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from valuestreams.metrics import dora
from valuestreams.metrics.dora.frequency import calendar_days
from valuestreams.metrics.dora.inputs import Inputs, prepare_inputs
from valuestreams.metrics.dora.preparation import in_windows
from valuestreams.recompute.rows import NO_SCOPE, SCOPES, WINDOW_FIELDS, naive_utc, name_hashes

# the DoraMetric columns after its window, in one place for rows, API and pages
DORA_METRIC_FIELDS = [
    "benchmark",
    "deployments",
    "deployment_days",
    "median_deployment_days_per_week",
    "median_deployment_days_per_month",
    "deployment_frequency_tier",
    "changes_deployed",
    "median_lead_time_minutes",
    "lead_time_tier",
    "failed_deployments",
    "change_failure_rate",
    "change_failure_rate_tier",
    "incidents_recovered",
    "median_recovery_time_minutes",
    "recovery_time_tier",
    "rework_deployments",
    "deployment_rework_rate",
]
DORA_FIELDS = [*WINDOW_FIELDS, *DORA_METRIC_FIELDS]


def _dora_frame(
    summary: pd.DataFrame,
    kinds: np.ndarray,
    scope_ids: np.ndarray,
    grains: np.ndarray,
    benchmark: str,
) -> pd.DataFrame:
    """DoraMetric rows (:data:`DORA_FIELDS`) of a :func:`dora_summary` result, one per row, with
    their scope kinds, ids and grains."""
    return pd.DataFrame(
        {
            "scope_kind": kinds,
            "scope_id": scope_ids,
            "grain": grains,
            "window_start": naive_utc(summary["window_start"]),
            "window_end": naive_utc(summary["window_end"]),
            "label": summary["label"].to_numpy(),
            "benchmark": benchmark,
            "deployments": summary["deployments"].to_numpy(),
            "deployment_days": summary["deployment_days"].to_numpy(),
            "median_deployment_days_per_week": summary["median_deployment_days_per_week"].to_numpy(
                dtype=float
            ),
            "median_deployment_days_per_month": summary[
                "median_deployment_days_per_month"
            ].to_numpy(dtype=float),
            "deployment_frequency_tier": _tier(summary, "deployment_frequency"),
            "changes_deployed": summary["changes_deployed"].to_numpy(),
            "median_lead_time_minutes": summary["median_lead_time_minutes"].to_numpy(dtype=float),
            "lead_time_tier": _tier(summary, "lead_time_for_changes"),
            "failed_deployments": summary["failed_deployments"].to_numpy(),
            "change_failure_rate": summary["change_failure_rate"].to_numpy(dtype=float),
            "change_failure_rate_tier": _tier(summary, "change_failure_rate"),
            "incidents_recovered": summary["incidents_recovered"].to_numpy(),
            "median_recovery_time_minutes": summary["median_recovery_time_minutes"].to_numpy(
                dtype=float
            ),
            "recovery_time_tier": _tier(summary, "failed_deployment_recovery_time"),
            "rework_deployments": summary["rework_deployments"].to_numpy(),
            "deployment_rework_rate": summary["deployment_rework_rate"].to_numpy(dtype=float),
        }
    )[DORA_FIELDS]


def dora_rows(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
    benchmark: str,
    max_gap: pd.Timedelta | None,
    scopes: Sequence[tuple[str, str | None]] = SCOPES,
    inputs: dict[str, Inputs] | None = None,
) -> pd.DataFrame:
    """DoraMetric rows of every scope and window (dense: every scope with DORA data, every
    window), weeks before months; one :func:`~valuestreams.metrics.dora.dora_summary` per scope
    kind, over the windows of every grain at once (from ``inputs``, the frames prepared per
    scope kind by :func:`dora_inputs`, when given)."""
    parts = []
    if windows.empty or (deployments.empty and changes.empty and incidents.empty):
        return pd.DataFrame({f: [] for f in DORA_FIELDS})
    win = windows.rename(columns={"window": "label"})[["label", "window_start", "window_end"]]
    # a window is known by its bounds (a week and a month never share both)
    bounds = pd.MultiIndex.from_arrays(
        [win["window_start"].array.asi8, win["window_end"].array.asi8]
    )
    grains = windows["grain"].to_numpy()
    for kind, column in scopes:
        summary = dora.dora_summary(
            deployments,
            changes,
            incidents,
            windows=win,
            tz=tz,
            by=[column] if column else None,
            benchmark=benchmark,
            max_gap=max_gap,
            as_of=pd.Timestamp(as_of),
            inputs=None if inputs is None else inputs[kind],
        )
        if column:
            summary = summary[summary[column] != NO_SCOPE]
        if summary.empty:
            continue
        position = bounds.get_indexer(
            pd.MultiIndex.from_arrays(
                [summary["window_start"].array.asi8, summary["window_end"].array.asi8]
            )
        )
        if column:
            scope_ids = summary[column].to_numpy(dtype=np.int64)
        else:
            scope_ids = np.full(len(summary), portfolio_id, dtype=np.int64)
        parts.append(
            _dora_frame(
                summary,
                np.full(len(summary), kind, dtype=object),
                scope_ids,
                grains[position],
                benchmark,
            )
        )
    if not parts:
        return pd.DataFrame({f: [] for f in DORA_FIELDS})
    rows = pd.concat(parts, ignore_index=True)
    # grain by grain, in the windows' order, as one call per grain gave them
    grain_order = {g: n for n, g in enumerate(pd.unique(grains))}
    rows = rows.assign(_grain=rows["grain"].map(grain_order)).sort_values("_grain", kind="stable")
    return rows[DORA_FIELDS].reset_index(drop=True)


def _tier(summary: pd.DataFrame, metric: str) -> np.ndarray:
    return summary[f"{metric}_tier"].fillna("").astype(str).to_numpy()


def dora_caveats(
    deployments: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    as_of: datetime,
    max_gap: pd.Timedelta | None,
) -> dict[str, int]:
    """Portfolio-wide DORA caveats at ``as_of``: incidents no deployment could be linked to."""
    as_of_ts = pd.Timestamp(as_of)
    known = incidents[incidents["created_at"] <= as_of_ts] if len(incidents) else incidents
    if known.empty:
        return {"incidents": 0, "incidents_unlinked": 0}
    deployed = deployments[deployments["finished_at"] <= as_of_ts]
    linked = dora.link_incidents(known, deployed, max_gap=max_gap)
    return {
        "incidents": len(known),
        "incidents_unlinked": int(linked["linked_deployment_id"].isna().sum()),
    }


# --- DORA: which rows an incremental run recomputes ----------------------------------------------

DORA_KEY = ["scope_kind", "scope_id", "grain", "window_start"]
# bumped whenever what a DORA row's input hash covers changes: every stored row is then recomputed
_DORA_INPUTS_VERSION = 2


def _mixed(*words: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of ``words`` (uint64 arrays of one length), order-sensitive."""
    h = np.full(len(words[0]), np.uint64(0x243F6A8885A308D3), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position, word in enumerate(words):
            h ^= word + np.uint64(0x9E3779B97F4A7C15) * np.uint64(position + 1)
            h ^= h >> np.uint64(30)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(27)
            h *= np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
    return h


def _ns_words(values: pd.Series) -> np.ndarray:
    """Datetimes or integers as uint64 words (NaT / NA as the smallest int64)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        return np.asarray(values.array.asi8).astype(np.int64).view(np.uint64)
    return values.to_numpy(dtype=np.int64, na_value=np.iinfo(np.int64).min).view(np.uint64)


def _cell_sums(
    frame: pd.DataFrame, key: str, group_index: pd.Index, windows: int, hashes: np.ndarray
) -> np.ndarray:
    """Sum (mod 2^64: an order-free multiset hash) of ``hashes`` per group x window cell, the
    cell of a row being (its group's position in ``group_index``, ``_w``)."""
    sums = np.zeros(len(group_index) * windows, dtype=np.uint64)
    if len(frame):
        group = group_index.get_indexer(frame[key])
        cell = group.astype(np.int64) * windows + frame["_w"].to_numpy(dtype=np.int64)
        with np.errstate(over="ignore"):
            np.add.at(sums, cell, hashes)
    return sums


def dora_input_hashes(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
    benchmark: str,
    max_gap: pd.Timedelta | None,
    scopes: Sequence[tuple[str, str | None]] = SCOPES,
    inputs: dict[str, Inputs] | None = None,
) -> pd.DataFrame:
    """One row per DoraMetric row :func:`dora_rows` computes from the same frames (columns
    :data:`DORA_KEY` and ``input_hash``, an int64): a hash of everything that row is computed
    from, so that a row whose input hash is unchanged is unchanged, and only the others need
    computing. A row (scope, window) is a function of its window (start, end, label, and of
    as_of only the last local day its deployment-frequency calendar covers:
    :func:`~valuestreams.metrics.dora.frequency.calendar_days`), ``tz``, ``benchmark`` and, of
    its scope's records known at as_of: the successful production deployments finished in the
    window (time, rework, whether an incident is linked to it — linking reads every deployment
    and incident, so an incident linked to an earlier deployment changes that deployment's
    window), the lead time of the changes first deployed in it, and the recovery span of the
    incidents resolved in it. So time passing changes no row on the same local day, unless a
    record becomes known. Cheap: the inputs are prepared and linked once per scope kind (every
    grain at once, or taken from ``inputs``: :func:`dora_inputs`), no metric is computed."""
    empty = pd.DataFrame({c: [] for c in [*DORA_KEY, "input_hash"]})
    if windows.empty or (deployments.empty and changes.empty and incidents.empty):
        return empty
    as_of_ts = pd.Timestamp(as_of)
    texts = name_hashes([benchmark, tz])
    win = windows.rename(columns={"window": "label"})[["label", "window_start", "window_end"]]
    grains = windows["grain"].to_numpy()
    parts = []
    for kind, column in scopes:
        if inputs is not None:
            i = inputs[kind]
        else:
            i = prepare_inputs(
                deployments,
                win,
                [column] if column else None,
                as_of_ts,
                changes,
                incidents,
                max_gap,
            )
        key = i.keys[0]
        groups = pd.Index(i.groups[key])
        if groups.empty:
            continue
        w = i.win
        window_part = _mixed(
            np.full(len(w), np.uint64(_DORA_INPUTS_VERSION)),
            _ns_words(w["window_start"]),
            _ns_words(w["window_end"]),
            calendar_days(w, tz)[1].astype(np.int64).view(np.uint64),
            name_hashes(w["label"].astype(str).tolist()),
            np.full(len(w), texts[0]),
            np.full(len(w), texts[1]),
        )
        sums = np.tile(window_part, len(groups))
        failed = i.prod["deployment_id"].isin(i.linked["linked_deployment_id"].dropna())
        rework = i.prod["is_rework"].fillna(value=False).astype(bool)
        deployed = in_windows(i.prod.assign(_failed=failed, _rework=rework), "finished_at", w)
        first = in_windows(i.first, "finished_at", w)
        resolved = i.linked[
            i.linked["resolved_at"].notna() & i.linked["linked_deployment_id"].notna()
        ]
        span = (
            resolved["resolved_at"].array.asi8
            - resolved["linked_deployment_finished_at"].array.asi8
        )
        recovered = in_windows(resolved.assign(_span=span), "resolved_at", w)
        with np.errstate(over="ignore"):
            for tag, frame, columns in (
                (1, deployed, ["finished_at", "_failed", "_rework"]),
                (2, first, ["finished_at", "_span"]),
                (3, recovered, ["resolved_at", "_span"]),
            ):
                words = [_ns_words(frame[c].astype(np.int64)) for c in columns[1:]]
                hashes = _mixed(
                    np.full(len(frame), np.uint64(tag)), _ns_words(frame[columns[0]]), *words
                )
                sums += _cell_sums(frame, key, groups, len(w), hashes)
        scope_ids = groups.to_numpy() if column else np.full(len(groups), portfolio_id)
        keep = np.repeat(scope_ids != NO_SCOPE if column else np.ones(len(groups), bool), len(w))
        parts.append(
            pd.DataFrame(
                {
                    "scope_kind": kind,
                    "scope_id": np.repeat(scope_ids.astype(np.int64), len(w)),
                    "grain": np.tile(grains, len(groups)),
                    "window_start": np.tile(naive_utc(w["window_start"]), len(groups)),
                    "input_hash": sums.view(np.int64),
                }
            )[keep]
        )
    if not parts:
        return empty
    return pd.concat(parts, ignore_index=True)


def dora_inputs(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    as_of: datetime,
    max_gap: pd.Timedelta | None,
    scopes: Sequence[tuple[str, str | None]] = SCOPES,
) -> dict[str, Inputs]:
    """Per scope kind, the three DORA frames prepared and linked once
    (:func:`~valuestreams.metrics.dora.inputs.prepare_inputs` over ``windows``), for
    :func:`dora_input_hashes` and :func:`dora_rows` to share: preparing them costs more than
    hashing every cell or computing a day's changed rows. Empty without windows or records
    (then neither computes anything)."""
    if windows.empty or (deployments.empty and changes.empty and incidents.empty):
        return {}
    win = windows.rename(columns={"window": "label"})[["label", "window_start", "window_end"]]
    return {
        kind: prepare_inputs(
            deployments,
            win,
            [column] if column else None,
            pd.Timestamp(as_of),
            changes,
            incidents,
            max_gap,
        )
        for kind, column in scopes
    }


def _key_codes(frame: pd.DataFrame) -> pd.MultiIndex:
    starts = pd.to_datetime(frame["window_start"], utc=True).dt.as_unit("ns").array.asi8
    return pd.MultiIndex.from_arrays(
        [
            frame["scope_kind"].astype(str).to_numpy(),
            frame["scope_id"].to_numpy(dtype=np.int64),
            frame["grain"].astype(str).to_numpy(),
            np.asarray(starts, dtype=np.int64),
        ]
    )


def dora_changed(cells: pd.DataFrame, stored: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Compare the rows a run would publish (``cells``: :data:`DORA_KEY` and ``input_hash``, from
    :func:`dora_input_hashes`) with the stored rows (the same columns, ``input_hash`` 0 where
    none): the cells to compute (new, or their inputs changed), and which stored rows they
    replace (those of a changed cell, and those of a cell no longer published)."""
    cell_keys, stored_keys = _key_codes(cells), _key_codes(stored)
    position = cell_keys.get_indexer(stored_keys)
    found = position >= 0
    same = np.zeros(len(stored), dtype=bool)
    same[found] = (
        stored["input_hash"].to_numpy(dtype=np.int64)[found]
        == cells["input_hash"].to_numpy(dtype=np.int64)[position[found]]
    )
    kept = np.zeros(len(cells), dtype=bool)
    kept[position[same]] = True
    return cells[~kept].reset_index(drop=True), ~same


def narrowed_inputs(
    i: Inputs, *, column: str | None, scope_ids: np.ndarray, windows: pd.DataFrame
) -> Inputs:
    """``i`` (prepared and linked over every record) kept to what the rows of the scopes
    ``scope_ids`` (of the scope column ``column``; every scope for the portfolio's ``None``) in
    ``windows`` are computed from, so that computing a day's few changed rows costs what they
    hold, not the whole history: the groups of those scopes, their deployments and first
    deployments finished in one of the windows, their incidents created or resolved in one, and
    every incident linked to a kept deployment (it makes that deployment failed, whatever its
    scope or time). The rows computed from the result equal those computed from ``i``
    (tested)."""
    # the windows' union as disjoint [start, end) intervals, sorted
    order = np.argsort(windows["window_start"].array.asi8, kind="stable")
    starts = windows["window_start"].array.asi8[order]
    ends = np.maximum.accumulate(windows["window_end"].array.asi8[order])
    opens = np.ones(len(starts), dtype=bool)
    opens[1:] = starts[1:] > ends[:-1]
    lo = starts[opens]
    hi = np.append(ends[np.flatnonzero(opens)[1:] - 1], ends[-1]) if len(ends) else ends

    def within(frame: pd.DataFrame, at: str) -> np.ndarray:
        times = frame[at].array.asi8
        valid = frame[at].notna().to_numpy(dtype=bool)
        pos = np.searchsorted(lo, times, side="right") - 1
        return valid & (pos >= 0) & (times < hi[np.clip(pos, 0, None)])

    def ours(frame: pd.DataFrame) -> np.ndarray:
        if column is None:
            return np.ones(len(frame), dtype=bool)
        return frame[column].isin(scope_ids).to_numpy(dtype=bool)

    prod = i.prod[ours(i.prod) & within(i.prod, "finished_at")]
    first = i.first[ours(i.first) & within(i.first, "finished_at")]
    linked = i.linked
    keep = ours(linked) & (within(linked, "created_at") | within(linked, "resolved_at"))
    keep |= linked["linked_deployment_id"].isin(prod["deployment_id"]).to_numpy(dtype=bool)
    groups = i.groups if column is None else i.groups[i.groups[column].isin(scope_ids)]
    return i._replace(
        groups=groups.reset_index(drop=True),
        prod=prod,
        first=first,
        linked=linked[keep],
    )


# a day's changed cells are computed in one pass over every scope kind (below) when they are at
# most this share of every scope's cells: pandas' per-call cost, paid once instead of once per
# kind, is then most of their cost; more (a full run) are computed kind by kind, so that no
# temporary frame holds every kind's records at once (peak memory)
ONE_PASS_MAX_SHARE = 0.25
_KIND_SHIFT = 40
_KIND_CODE = {kind: code for code, (kind, _) in enumerate(SCOPES)}
_KIND_NAME = np.array([kind for kind, _ in SCOPES], dtype=object)
SCOPE_KEY = "_scope"


def stacked_inputs(parts: dict[str, Inputs]) -> Inputs:
    """The prepared inputs of several scope kinds as those of one: each kind's rows with one
    scope key :data:`SCOPE_KEY` (the kind's code above bit 40, its scope id + 1 below; 0 for the
    portfolio) and its deployment ids made its own (id × 4 + code), so that links and failed
    deployments never cross kinds: one :func:`dora_summary` over it gives, per scope, what one
    per kind gives (tested)."""
    frames: dict[str, list[pd.DataFrame]] = {"groups": [], "prod": [], "first": [], "linked": []}
    win = None
    for kind, i in parts.items():
        code = _KIND_CODE[kind]
        column = dict(SCOPES)[kind]
        win = i.win

        def keyed(frame: pd.DataFrame, code=code, column=column) -> pd.DataFrame:
            if column is None:
                ids = np.zeros(len(frame), dtype=np.int64)
            else:
                ids = pd.to_numeric(frame[column]).astype("Int64").fillna(NO_SCOPE)
                ids = ids.to_numpy(dtype=np.int64)
            out = frame.assign(**{SCOPE_KEY: (code << _KIND_SHIFT) + ids + 1})
            for name in ("deployment_id", "linked_deployment_id"):
                if name in out.columns:
                    out[name] = out[name] * len(SCOPES) + code
            return out

        frames["groups"].append(keyed(i.groups)[[SCOPE_KEY]])
        for name in ("prod", "first", "linked"):
            frames[name].append(keyed(getattr(i, name)))
    return Inputs(
        [SCOPE_KEY],
        win,
        pd.concat(frames["groups"], ignore_index=True),
        pd.concat(frames["prod"], ignore_index=True),
        pd.concat(frames["first"], ignore_index=True),
        pd.concat(frames["linked"], ignore_index=True),
    )


def _one_pass_rows(
    i: Inputs,
    *,
    windows: pd.DataFrame,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
    benchmark: str,
    max_gap: pd.Timedelta | None,
) -> pd.DataFrame:
    """:func:`dora_rows` of every scope of the stacked inputs ``i``, in one summary."""
    win = windows.rename(columns={"window": "label"})[["label", "window_start", "window_end"]]
    empty = pd.DataFrame()
    summary = dora.dora_summary(
        empty,
        empty,
        empty,
        windows=win,
        tz=tz,
        by=[SCOPE_KEY],
        benchmark=benchmark,
        max_gap=max_gap,
        as_of=pd.Timestamp(as_of),
        inputs=i,
    )
    key = summary[SCOPE_KEY].to_numpy(dtype=np.int64)
    code = key >> _KIND_SHIFT
    scope_id = (key & ((1 << _KIND_SHIFT) - 1)) - 1
    portfolio = code == _KIND_CODE["portfolio"]
    kept = portfolio | (scope_id != NO_SCOPE)
    summary = summary[kept].assign(
        _kind=_KIND_NAME[code[kept]],
        _id=np.where(portfolio, portfolio_id, scope_id)[kept],
    )
    bounds = pd.MultiIndex.from_arrays(
        [win["window_start"].array.asi8, win["window_end"].array.asi8]
    )
    position = bounds.get_indexer(
        pd.MultiIndex.from_arrays(
            [summary["window_start"].array.asi8, summary["window_end"].array.asi8]
        )
    )
    return _dora_frame(
        summary,
        summary["_kind"].to_numpy(),
        summary["_id"].to_numpy(),
        windows["grain"].to_numpy()[position],
        benchmark,
    )


def dora_rows_of(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    cells: pd.DataFrame,
    windows: pd.DataFrame,
    as_of: datetime,
    tz: str,
    portfolio_id: int,
    benchmark: str,
    max_gap: pd.Timedelta | None,
    inputs: dict[str, Inputs] | None = None,
    one_pass: bool | None = None,
) -> pd.DataFrame:
    """The DoraMetric rows of ``cells`` only (:data:`DORA_KEY` and ``input_hash``), with their
    ``input_hash``: for each scope kind, :func:`dora_rows` over the windows (of any grain)
    holding a cell (a row depends on its own window only), kept for the cells' scopes. With
    ``inputs``, each kind's are narrowed to its cells' scopes and windows first, and when the
    cells are at most :data:`ONE_PASS_MAX_SHARE` of every scope's cells (or ``one_pass``),
    every kind is computed in one pass (:func:`stacked_inputs`)."""
    window_keys = pd.MultiIndex.from_arrays(
        [windows["grain"].astype(str).to_numpy(), windows["window_start"].array.asi8]
    )
    jobs = []
    for kind, chosen in cells.groupby("scope_kind", sort=False):
        codes = _key_codes(chosen)
        wanted = pd.MultiIndex.from_arrays([codes.get_level_values(2), codes.get_level_values(3)])
        scope = next(s for s in SCOPES if s[0] == kind)
        jobs.append((scope, chosen, codes, windows[window_keys.isin(wanted)]))
    if not jobs:
        return pd.DataFrame({c: [] for c in [*DORA_FIELDS, "input_hash"]})

    def narrowed(scope, chosen, held) -> Inputs | None:
        if inputs is None or scope[0] not in inputs:
            return None
        return narrowed_inputs(
            inputs[scope[0]],
            column=scope[1],
            scope_ids=chosen["scope_id"].to_numpy(dtype=np.int64),
            windows=held,
        )

    if one_pass is None:  # a day's few cells (decided before narrowing: memory)
        possible = sum(len(i.groups) for i in (inputs or {}).values()) * len(windows)
        one_pass = len(cells) <= ONE_PASS_MAX_SHARE * possible
    if one_pass and inputs is not None and all(scope[0] in inputs for scope, *_ in jobs):
        held = windows[
            window_keys.isin(
                pd.MultiIndex.from_arrays(
                    [cells["grain"].astype(str).to_numpy(), _key_codes(cells).get_level_values(3)]
                )
            )
        ]
        stacked = stacked_inputs(
            {scope[0]: narrowed(scope, chosen, held) for scope, chosen, _, held in jobs}
        )
        computed = _one_pass_rows(
            stacked,
            windows=held,
            as_of=as_of,
            tz=tz,
            portfolio_id=portfolio_id,
            benchmark=benchmark,
            max_gap=max_gap,
        )
        codes = _key_codes(cells)
        position = codes.get_indexer(_key_codes(computed))
        return (
            computed[position >= 0]
            .assign(input_hash=cells["input_hash"].to_numpy()[position[position >= 0]])
            .reset_index(drop=True)
        )
    parts = []
    for scope, chosen, codes, held in jobs:
        few = narrowed(scope, chosen, held)
        computed = dora_rows(
            deployments,
            changes,
            incidents,
            windows=held,
            as_of=as_of,
            tz=tz,
            portfolio_id=portfolio_id,
            benchmark=benchmark,
            max_gap=max_gap,
            scopes=[scope],
            inputs=None if few is None else {scope[0]: few},
        )
        del few
        position = codes.get_indexer(_key_codes(computed))
        parts.append(
            computed[position >= 0].assign(
                input_hash=chosen["input_hash"].to_numpy()[position[position >= 0]]
            )
        )
    return pd.concat(parts, ignore_index=True)


# --- DORA: how far back what changed reaches -------------------------------------------------------

NO_BOUND = np.iinfo(np.int64).min  # a scope every window of which is recomputed


@dataclass(frozen=True)
class Reach:
    """The DORA rows an incremental run recomputes when only some records changed: per scope
    kind, the scopes a change reached and, per scope, a moment (ns since the epoch, UTC;
    :data:`NO_BOUND`: every window) such that its rows of the windows ending after it are the only
    ones that can have changed. ``portfolio`` is None when no record changed (only teams moved)."""

    teams: pd.Series
    streams: pd.Series
    portfolio: int | None

    def lowest(self) -> int:
        """The earliest moment of every scope's."""
        found = [*self.teams.tolist(), *self.streams.tolist()]
        if self.portfolio is not None:
            found.append(self.portfolio)
        return int(min(found))

    def bounded(self) -> list[tuple[str, int]]:
        """The scopes whose rows before their moment are not recomputed (kind, id)."""
        out = [("team", int(s)) for s, b in self.teams.items() if b != NO_BOUND]
        out += [("value_stream", int(s)) for s, b in self.streams.items() if b != NO_BOUND]
        if self.portfolio is not None and self.portfolio != NO_BOUND:
            out.append(("portfolio", -1))
        return out


def _ns(value) -> int:
    return int(pd.Timestamp(value).as_unit("ns").value)


def _asi8(values) -> np.ndarray:
    """Aware or naive UTC datetimes (NaT: the smallest int64) as int64 ns since the epoch."""
    found = pd.to_datetime(pd.Series(values), utc=True).dt.as_unit("ns")
    return np.asarray(found.array.asi8, dtype=np.int64)


def first_moments(events: pd.DataFrame, as_of: datetime) -> tuple[pd.Series, pd.Series, int | None]:
    """From change events (``team_id``, ``value_stream_id``, ``at``: see
    :func:`valuestreams.recompute.read.delivery_changes`) the earliest moment each team, value
    stream and the portfolio was reached (ns, none later than ``as_of``: a record not known yet
    reaches the rows of the window holding as_of at most)."""
    cap = _ns(as_of)
    at = np.minimum(_asi8(events["at"]), cap)
    frame = events.assign(_at=at)
    teams = frame[frame["team_id"] != NO_SCOPE].groupby("team_id")["_at"].min()
    streams = frame[frame["value_stream_id"] != NO_SCOPE].groupby("value_stream_id")["_at"].min()
    whole = int(at.min()) if len(at) else None
    return teams.astype(np.int64), streams.astype(np.int64), whole


def reach(
    moments: tuple[pd.Series, pd.Series, int | None],
    latest: tuple[pd.Series, pd.Series, pd.Timestamp | None],
    relinked: tuple[pd.Series, pd.Series, bool],
    moved: frozenset[int],
) -> Reach:
    """Each reached scope's moment: where one of its incidents may be linked to another
    deployment now (``relinked``: one was created from the moment it was reached, or one
    changed), the finish of its latest successful production deployment before that moment
    (``latest``: an incident linked to that deployment may now be linked to a deployment the
    change added, moved or removed, and the other way round; none: the moment itself); else
    the moment it was reached. No bound for the value streams a team left or joined."""

    def bounded(first: pd.Series, before: pd.Series, flags: pd.Series) -> pd.Series:
        found = before.reindex(first.index)
        earlier = _asi8(found.to_numpy()) if len(found) else np.zeros(0, dtype=np.int64)
        use = ~found.isna().to_numpy() & flags.reindex(first.index).fillna(True).to_numpy(bool)
        out = np.where(use, earlier, first.to_numpy(dtype=np.int64))
        return pd.Series(out.astype(np.int64), index=first.index.astype(np.int64))

    teams = bounded(moments[0], latest[0], relinked[0])
    streams = bounded(moments[1], latest[1], relinked[1])
    for stream in moved:
        streams.loc[int(stream)] = NO_BOUND
    whole = moments[2]
    if whole is not None and latest[2] is not None and relinked[2]:
        whole = _ns(latest[2])
    return Reach(teams.astype(np.int64), streams.astype(np.int64), whole)


def _first_start(windows: pd.DataFrame, bound: int) -> int:
    """The earliest start of the windows ending after ``bound`` (ns)."""
    ends = _asi8(windows["window_end"])
    starts = _asi8(windows["window_start"])
    return int(starts[ends > bound].min())


KIND_COLUMNS = dict(SCOPES)


def read_bounds(
    r: Reach,
    windows: pd.DataFrame,
    open_incidents: pd.DataFrame,
    team_streams: pd.Series,
) -> dict[str, tuple[pd.Series, int | None]]:
    """Per scope kind with a reached scope, from which moment (ns) each team's records are read
    so that the rows of that kind :func:`within` keeps are computed from every record they
    depend on (see :func:`valuestreams.recompute.read.narrowed_delivery_frames`): a scope's
    first window ending after its moment, from its start, or from the creation of one of its
    incidents resolved from then on if earlier (``open_incidents``: ``team_id``,
    ``value_stream_id``, ``created_at``, ``resolved_at``). For the teams, each reached team's;
    for the value streams, each of their teams gets its value stream's (``team_streams``: team
    → value stream); for the portfolio, every team (NO_SCOPE: records without a team) the
    portfolio's, returned as the default (None for the other kinds: no other team is read)."""
    n = len(open_incidents)
    created = _asi8(open_incidents["created_at"]) if n else np.zeros(0, np.int64)
    resolved = _asi8(open_incidents["resolved_at"]) if n else created
    team_of = open_incidents["team_id"].to_numpy() if n else created
    stream_of = open_incidents["value_stream_id"].to_numpy() if n else created

    def start(bound: int, mask: np.ndarray) -> int:
        first = _first_start(windows, bound)
        earlier = created[mask & (created < first) & (resolved >= first)]
        return int(min(first, earlier.min())) if len(earlier) else first

    out: dict[str, tuple[pd.Series, int | None]] = {}
    if len(r.teams):
        moments = {int(t): start(int(b), team_of == t) for t, b in r.teams.items()}
        out["team"] = (pd.Series(moments, dtype=np.int64), None)
    if len(r.streams):
        moments = {}
        for stream, bound in r.streams.items():
            moment = start(int(bound), stream_of == stream)
            for team in team_streams.index[team_streams.to_numpy() == stream]:
                moments[int(team)] = moment
        out["value_stream"] = (pd.Series(moments, dtype=np.int64), None)
    if r.portfolio is not None:
        out["portfolio"] = (
            pd.Series([], dtype=np.int64),
            start(r.portfolio, np.ones(n, dtype=bool)),
        )
    return out


def kind_windows(windows: pd.DataFrame, r: Reach, kind: str) -> pd.DataFrame:
    """The windows of ``windows`` ending after the earliest moment of ``kind``'s reached
    scopes."""
    bounds = {"team": r.teams.tolist(), "value_stream": r.streams.tolist()}.get(kind, [r.portfolio])
    return windows[_asi8(windows["window_end"]) > min(bounds)].reset_index(drop=True)


def within(frame: pd.DataFrame, windows: pd.DataFrame, r: Reach) -> np.ndarray:
    """Which rows of ``frame`` (:data:`DORA_KEY` columns: cells or stored rows) lie in the
    reach ``r``: of a reached scope, in a window ending after the scope's moment."""
    if frame.empty:
        return np.zeros(0, dtype=bool)
    window_keys = pd.MultiIndex.from_arrays(
        [windows["grain"].astype(str).to_numpy(), _asi8(windows["window_start"])]
    )
    codes = _key_codes(frame)
    position = window_keys.get_indexer(
        pd.MultiIndex.from_arrays([codes.get_level_values(2), codes.get_level_values(3)])
    )
    ends = _asi8(windows["window_end"])
    end = np.where(position >= 0, ends[np.clip(position, 0, None)], NO_BOUND)
    kind = frame["scope_kind"].astype(str).to_numpy()
    scope = frame["scope_id"].to_numpy(dtype=np.int64)
    bound = np.full(len(frame), np.iinfo(np.int64).max, dtype=np.int64)
    for name, bounds in (("team", r.teams), ("value_stream", r.streams)):
        mine = kind == name
        found = bounds.reindex(scope[mine], fill_value=np.iinfo(np.int64).max)
        bound[mine] = found.to_numpy(dtype=np.int64)
    if r.portfolio is not None:
        bound[kind == "portfolio"] = r.portfolio
    return (position >= 0) & (end > bound)


def same_scopes(cells: pd.DataFrame, stored: pd.DataFrame, r: Reach) -> bool:
    """Whether every reached scope whose earlier rows are kept has rows both before and after
    (a scope that gained its first DORA record or lost its last one has rows in every window
    to add or delete: the caller then recomputes the full way)."""
    bounded = r.bounded()
    if not bounded:
        return True

    def scopes(frame: pd.DataFrame) -> set[tuple[str, int]]:
        kind = frame["scope_kind"].astype(str).to_numpy()
        ids = np.where(kind == "portfolio", -1, frame["scope_id"].to_numpy(dtype=np.int64))
        return set(zip(kind.tolist(), ids.tolist(), strict=True))

    wanted = set(bounded)
    return scopes(cells) & wanted == scopes(stored) & wanted
