"""DORA metrics computed the way Apache DevLake computes them, on plain pandas frames.

Pure functions: no Django, no clock, no I/O except reading the benchmark JSON files shipped in
``valuestreams/metrics/benchmarks/``. Every datetime is ``datetime64[ns, UTC]`` (other units and
naive values are read as UTC). Records stamped after ``as_of`` are ignored: deployments finished,
changes first committed or incidents created after it, and resolutions after it (the incident
counts as unresolved).

Input contract
--------------
``deployments``: ``deployment_id`` (int64), ``finished_at``, ``successful`` (bool),
``environment`` (str; only ``"production"`` counts, case-insensitive), ``is_rework`` (bool: an
unplanned fix of a user-visible problem), plus the scope columns named in ``by``. Only successful
production deployments count anywhere.

``changes``: ``change_id``, ``first_commit_at``, ``deployment_id`` (nullable; one row per
deployment that shipped the change), plus scope columns. Scope columns a change lacks are taken
from its deployment.

``incidents``: ``incident_id``, ``created_at``, ``resolved_at`` (nullable), ``deployment_id``
(nullable), plus scope columns.

``windows``: ``label``, ``window_start``, ``window_end`` (UTC). A window is ``[start, end)``; an
event belongs to it by the instant named per metric. Windows may overlap.

Every metric returns one row per scope group x window: the ``by`` columns, ``label``,
``window_start``, ``window_end`` and the metric's columns. Groups are the scope values found in
the inputs. Medians are lower medians (DevLake: ``max(x) where percent_rank() <= 0.5``), so they
are always an observed value. Empty input gives an empty frame with the same columns.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

TIERS = ("elite", "high", "medium", "low")
METRICS = (
    "deployment_frequency",
    "lead_time_for_changes",
    "change_failure_rate",
    "failed_deployment_recovery_time",
    "deployment_rework_rate",
)
WINDOW_COLUMNS = ["label", "window_start", "window_end"]
MEDIAN_DAYS = [f"median_deployment_days_per_{p}" for p in ("week", "month", "six_months")]
FREQUENCY_COLUMNS = ["deployments", "deployment_days", *MEDIAN_DAYS]
LEAD_TIME_COLUMNS = ["changes_deployed", "median_lead_time_minutes", "changes_negative_lead_time"]
FAILURE_RATE_COLUMNS = ["deployments", "failed_deployments", "change_failure_rate"]
RECOVERY_COLUMNS = [
    "incidents_recovered",
    "median_recovery_time_minutes",
    "incidents_negative_recovery",
]
REWORK_COLUMNS = ["deployments", "rework_deployments", "deployment_rework_rate"]
CAVEAT_COLUMNS = ["incidents_unlinked", "changes_negative_lead_time", "incidents_negative_recovery"]
_SUMMARY_VALUES = [
    FREQUENCY_COLUMNS,
    LEAD_TIME_COLUMNS[:2],
    FAILURE_RATE_COLUMNS[1:],
    RECOVERY_COLUMNS[:2],
    REWORK_COLUMNS[1:],
]
SUMMARY_COLUMNS = [
    *WINDOW_COLUMNS,
    *(c for m, cs in zip(METRICS, _SUMMARY_VALUES, strict=True) for c in [*cs, f"{m}_tier"]),
    "benchmark",
    *CAVEAT_COLUMNS,
]
Scope = Sequence[str] | None  # scope columns to group by; None: the whole input is one group
AsOf = pd.Timestamp | None  # ignore records stamped later; None: keep everything
MaxGap = pd.Timedelta | None  # longest deployment -> incident gap for an inferred link

_ALL = "_all"  # stand-in scope key when ``by`` is empty
_UTC = "datetime64[ns, UTC]"
_DEPLOYMENT_SCHEMA = {
    "deployment_id": "int64",
    "finished_at": _UTC,
    "successful": "bool",
    "environment": "str",
    "is_rework": "bool",
}
_CHANGE_SCHEMA = {"change_id": "int64", "first_commit_at": _UTC, "deployment_id": "Int64"}
_INCIDENT_SCHEMA = {
    "incident_id": "int64",
    "created_at": _UTC,
    "resolved_at": _UTC,
    "deployment_id": "Int64",
}
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_MINUTE_NS = 60_000_000_000


# --- benchmarks -------------------------------------------------------------------------------


def available_benchmarks() -> list[str]:
    """Names of the benchmark versions shipped with Steward, sorted (e.g. ``"dora-2023"``)."""
    folder = resources.files(__package__).joinpath("benchmarks")
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


@lru_cache(maxsize=8)
def _benchmark_text(version: str) -> str:
    return resources.files(__package__).joinpath("benchmarks", f"{version}.json").read_text("utf-8")


def load_benchmark(version: str) -> dict[str, Any]:
    """The benchmark ``version`` as a dict: ``{"version", "sources", "metrics": {metric: {"unit",
    "tiers": [{"tier", "measure", "op", "bound", "label"}, ...]}}}``; tiers in evaluation order.

    Raises ``ValueError`` for an unknown version.
    """
    if version not in available_benchmarks():
        raise ValueError(f"unknown DORA benchmark {version!r}; known: {available_benchmarks()}")
    return json.loads(_benchmark_text(version))


def _tier_rules(metric: str, benchmark: str) -> list[dict[str, Any]]:
    if metric not in METRICS:
        raise ValueError(f"unknown DORA metric {metric!r}; known: {list(METRICS)}")
    return load_benchmark(benchmark)["metrics"].get(metric, {}).get("tiers", [])


def _tier_series(metric: str, measures: pd.DataFrame, benchmark: str) -> pd.Series:
    """Vectorised tiers for each row of ``measures`` (columns named by the rules' measures)."""
    rules = _tier_rules(metric, benchmark)
    if not rules or measures.empty:
        return pd.Series([None] * len(measures), index=measures.index, dtype=object)
    needed = list(dict.fromkeys(rule["measure"] for rule in rules))
    values = measures.reindex(columns=needed).apply(pd.to_numeric, errors="coerce")
    conditions = [
        _OPS[rule["op"]](values[rule["measure"]], rule["bound"]).to_numpy(dtype=bool)
        for rule in rules
    ]
    tiers = np.select(conditions, [rule["tier"] for rule in rules], default=None)
    tiers = np.where(values.isna().any(axis=1).to_numpy(), None, tiers)
    return pd.Series(tiers, index=measures.index, dtype=object)


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
    rules = _tier_rules(metric, benchmark)
    measures = list(dict.fromkeys(rule["measure"] for rule in rules))
    if isinstance(value, Mapping | pd.Series):
        row = {m: value.get(m) for m in measures}
    elif len(measures) > 1:
        raise TypeError(f"{metric} is tiered on {measures}; pass a mapping of them")
    else:
        row = dict.fromkeys(measures, value)
    frame = pd.DataFrame([row], columns=measures, dtype=float)
    return _tier_series(metric, frame, benchmark).iloc[0]


# --- input preparation ------------------------------------------------------------------------


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).dt.as_unit("ns")


def _prepare(
    frame: pd.DataFrame, schema: Mapping[str, str], keys: Sequence[str], name: str
) -> pd.DataFrame:
    """Typed copy of ``frame``; an empty frame gets any missing column, a non-empty one must not
    miss any (``KeyError``)."""
    scope = [k for k in keys if k != _ALL]
    missing = [c for c in [*schema, *scope] if c not in frame.columns]
    if missing and not frame.empty:
        raise KeyError(f"{name} lacks columns {missing}")
    out = frame.copy(deep=False)  # copy-on-write: columns we set never touch the caller's
    for column in missing:
        out[column] = pd.Series(dtype=schema.get(column, "object"), index=out.index)
    for column, dtype in schema.items():
        if dtype == _UTC:
            out[column] = _utc(out[column])
    if _ALL in keys:
        out[_ALL] = 0
    return out


def _keys(by: Scope) -> list[str]:
    return list(by) if by else [_ALL]


def _known_deployments(deployments: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """Successful production deployments finished by ``as_of``."""
    environment = deployments["environment"].astype("str").str.lower()
    mask = deployments["successful"].fillna(value=False).astype(bool) & (
        environment == "production"
    )
    mask &= deployments["finished_at"].notna()
    if as_of is not None:
        mask &= deployments["finished_at"] <= pd.Timestamp(as_of)
    return deployments[mask]


def _known_incidents(incidents: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    if as_of is None:
        return incidents
    as_of = pd.Timestamp(as_of)
    known = incidents[~(incidents["created_at"] > as_of)].copy()
    known.loc[known["resolved_at"] > as_of, "resolved_at"] = pd.NaT
    return known


def _prepare_windows(windows: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """Windows with a position ``_w`` and ``_grid_end`` = the end clipped to ``as_of``."""
    schema = {"label": "str", "window_start": _UTC, "window_end": _UTC}
    win = _prepare(windows, schema, [], "windows")
    win = win.reindex(columns=WINDOW_COLUMNS).reset_index(drop=True)
    win["_w"] = np.arange(len(win))
    win["_grid_end"] = win["window_end"]
    if as_of is not None:
        win["_grid_end"] = win["window_end"].clip(upper=_utc(pd.Series([as_of])).iloc[0])
    return win


def _groups(frames: Sequence[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    present = [f[keys] for f in frames if not f.empty]
    if not present:
        return pd.DataFrame(columns=keys)
    return pd.concat(present, ignore_index=True).drop_duplicates(ignore_index=True)


# --- windows and medians ----------------------------------------------------------------------


def _in_windows(frame: pd.DataFrame, column: str, win: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``frame`` repeated once per window whose ``[start, end)`` holds ``column``,
    with the window position in ``_w``."""
    times = frame[column].array.asi8
    valid = frame[column].notna().to_numpy()
    starts, ends = win["window_start"].array.asi8, win["window_end"].array.asi8
    order = np.argsort(starts, kind="stable")
    if len(order) == 0 or len(frame) == 0:
        rows, hits = np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    elif np.all(starts[order][1:] >= ends[order][:-1]):  # disjoint windows: one binary search
        pos = np.searchsorted(starts[order], times, side="right") - 1
        ok = valid & (pos >= 0)
        ok &= times < ends[order][np.clip(pos, 0, None)]
        rows, hits = np.flatnonzero(ok), order[pos[ok]]
    else:  # overlapping windows: one vectorised pass per window
        masks = [
            np.flatnonzero(valid & (times >= s) & (times < e))
            for s, e in zip(starts, ends, strict=True)
        ]
        rows = np.concatenate(masks)
        hits = np.repeat(np.arange(len(masks)), [len(m) for m in masks])
    return frame.iloc[rows].assign(_w=hits)


def _lower_median(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    grouped = frame.groupby(keys, dropna=False, sort=False)[column]
    return grouped.quantile(0.5, interpolation="lower").rename(column)


def _finish(
    i: _Inputs, parts: Sequence[pd.DataFrame | pd.Series], columns: list[str], counts: list[str]
) -> pd.DataFrame:
    """One row per group x window with ``columns`` taken from ``parts`` (indexed by keys + _w);
    ``counts`` default to 0."""
    out = i.groups.merge(i.win[["_w", *WINDOW_COLUMNS]], how="cross")
    for part in parts:
        out = out.merge(part.reset_index(), on=[*i.keys, "_w"], how="left")
    out = out.reindex(columns=[*i.keys, "_w", *WINDOW_COLUMNS, *columns])
    out[counts] = out[counts].fillna(0).astype(np.int64)
    out = out.sort_values([*i.keys, "_w"], kind="stable").drop(columns=["_w"])
    return out.drop(columns=[_ALL], errors="ignore").reset_index(drop=True)


def _counts(frame: pd.DataFrame, keys: list[str], name: str) -> pd.Series:
    return frame.groupby([*keys, "_w"], dropna=False, sort=False).size().rename(name)


# --- incident linking -------------------------------------------------------------------------


def _link(
    incidents: pd.DataFrame, prod: pd.DataFrame, keys: list[str], max_gap: MaxGap
) -> pd.DataFrame:
    index = incidents.index
    incidents = incidents.reset_index(drop=True)
    finished = prod.drop_duplicates("deployment_id").set_index("deployment_id")["finished_at"]
    named = incidents["deployment_id"].isin(finished.index)
    ids = incidents["deployment_id"].where(named).astype("Int64")
    out = incidents.assign(
        linked_deployment_id=ids,
        linked_deployment_finished_at=_utc(pd.Series(finished.reindex(ids).array)),
        link=pd.Series(np.where(named, "named", None), dtype=object),
    )
    guess = incidents[~named & incidents["created_at"].notna()]
    if guess.empty or prod.empty:
        return out.set_axis(index)
    left = guess[[*keys, "created_at"]].reset_index(names="_row").sort_values("created_at")
    right = prod[[*keys, "deployment_id", "finished_at"]].sort_values(
        ["finished_at", "deployment_id"]
    )
    found = pd.merge_asof(
        left,
        right,
        left_on="created_at",
        right_on="finished_at",
        by=keys,
        direction="backward",
        allow_exact_matches=True,
        tolerance=pd.Timedelta(max_gap) if max_gap is not None else None,
    ).dropna(subset=["deployment_id"])
    rows = found["_row"].to_numpy()
    out.loc[rows, "linked_deployment_id"] = found["deployment_id"].astype("Int64").to_numpy()
    out.loc[rows, "linked_deployment_finished_at"] = found["finished_at"].to_numpy()
    out.loc[rows, "link"] = "inferred"
    return out.set_axis(index)


def link_incidents(
    incidents: pd.DataFrame,
    deployments: pd.DataFrame,
    *,
    by: Scope = None,
    max_gap: MaxGap = None,
) -> pd.DataFrame:
    """``incidents`` (same index) with the deployment each one is blamed on.

    An incident naming a successful production deployment (``deployment_id``) is linked to it
    (``link="named"``). Otherwise it is linked to the latest successful production deployment of
    the same scope (equal ``by`` values) that finished at or before ``created_at``; ties go to
    the highest ``deployment_id``; with ``max_gap`` only if ``created_at - finished_at <=
    max_gap`` (``link="inferred"``). Unlinked incidents keep ``<NA>``/``NaT``/``None`` and are
    reported as a caveat by :func:`dora_summary`.

    Added columns: ``linked_deployment_id`` (Int64), ``linked_deployment_finished_at`` (UTC),
    ``link`` (``"named"``, ``"inferred"`` or ``None``).
    """
    keys = _keys(by)
    prepared = _prepare(incidents, _INCIDENT_SCHEMA, keys, "incidents")
    prod = _known_deployments(_prepare(deployments, _DEPLOYMENT_SCHEMA, keys, "deployments"), None)
    return _link(prepared, prod, keys, max_gap).drop(columns=[_ALL], errors="ignore")


# --- metrics on prepared inputs ---------------------------------------------------------------


class _Inputs(NamedTuple):
    keys: list[str]
    win: pd.DataFrame
    groups: pd.DataFrame  # every scope found in the inputs
    prod: pd.DataFrame  # successful production deployments known at as_of
    first: pd.DataFrame  # changes with their first production deployment
    linked: pd.DataFrame  # incidents known at as_of, linked to deployments


def _inputs(
    deployments: pd.DataFrame,
    windows: pd.DataFrame,
    by: Scope,
    as_of: AsOf,
    changes: pd.DataFrame | None = None,
    incidents: pd.DataFrame | None = None,
    max_gap: MaxGap = None,
) -> _Inputs:
    keys = _keys(by)
    typed = _prepare(deployments, _DEPLOYMENT_SCHEMA, keys, "deployments")
    prod = _known_deployments(typed, as_of)
    changes = pd.DataFrame() if changes is None else changes
    own = [k for k in keys if k in changes.columns or k == _ALL]
    shipped = _prepare(changes, _CHANGE_SCHEMA, own, "changes")
    if as_of is not None:
        shipped = shipped[~(shipped["first_commit_at"] > pd.Timestamp(as_of))]
    first = _first_deployments(shipped, prod, keys)
    incidents = pd.DataFrame() if incidents is None else incidents
    known = _known_incidents(_prepare(incidents, _INCIDENT_SCHEMA, keys, "incidents"), as_of)
    linked = _link(known, prod, keys, max_gap)
    groups = _groups([typed, first, linked], keys)
    return _Inputs(keys, _prepare_windows(windows, as_of), groups, prod, first, linked)


def _first_deployments(changes: pd.DataFrame, prod: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per change shipped by a successful production deployment: the earliest such
    deployment's ``finished_at`` and ``_span`` = finished_at - first_commit_at in ns. Scope
    columns the changes lack (absent or all null) are the deployment's."""
    borrowed = [k for k in keys if k not in changes.columns or changes[k].isna().all()]
    shipped = changes.dropna(subset=["deployment_id", "first_commit_at"])
    shipped = shipped.astype({"deployment_id": "int64"}).drop(columns=borrowed, errors="ignore")
    shipped = shipped.merge(prod[["deployment_id", "finished_at", *borrowed]], on="deployment_id")
    first = shipped.sort_values("finished_at", kind="stable").drop_duplicates([*keys, "change_id"])
    return first.assign(_span=first["finished_at"].array.asi8 - first["first_commit_at"].array.asi8)


def _frequency(i: _Inputs, tz: str) -> pd.DataFrame:
    def local_day(ts: pd.Series) -> np.ndarray:  # days since 1970-01-01 in ``tz``
        naive = ts.dt.tz_convert(tz).dt.tz_localize(None).to_numpy()
        return naive.astype("datetime64[D]").astype(np.int64)

    def month(days: np.ndarray) -> np.ndarray:  # months since 1970-01
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)

    keys, win = i.keys, i.win
    hits = _in_windows(i.prod[[*keys, "finished_at"]], "finished_at", win)
    hits = hits.assign(_day=local_day(hits["finished_at"]))
    days = hits.drop_duplicates([*keys, "_w", "_day"])
    # The local calendar days each window covers, up to as_of.
    first = local_day(win["window_start"])
    last = local_day(win["_grid_end"] - pd.Timedelta(1, "ns"))
    spans = np.clip(last - first + 1, 0, None)
    w = np.repeat(win["_w"].to_numpy(), spans)
    offsets = np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans)
    calendar = pd.DataFrame({"_w": w, "_day": first[w] + offsets})
    last_month = month(last)

    def periods(frame: pd.DataFrame) -> pd.DataFrame:
        months = month(frame["_day"].to_numpy())
        return frame.assign(
            _week=frame["_day"] - (frame["_day"] + 3) % 7,  # Monday; 1970-01-01 was a Thursday
            _month=months,
            _six_months=(last_month[frame["_w"].to_numpy()] - months) // 6,
        )

    calendar, days = periods(calendar), periods(days)
    parts = [_counts(hits, keys, "deployments"), _counts(days, keys, "deployment_days")]
    for period, column in zip(["_week", "_month", "_six_months"], MEDIAN_DAYS, strict=True):
        per_period = days.groupby([*keys, "_w", period], dropna=False).size().rename(column)
        grid = i.groups.merge(calendar[["_w", period]].drop_duplicates(), how="cross")
        grid = grid.merge(per_period.reset_index(), on=[*keys, "_w", period], how="left")
        grid[column] = grid[column].fillna(0).astype(np.int64)
        parts.append(_lower_median(grid, [*keys, "_w"], column))
    return _finish(i, parts, FREQUENCY_COLUMNS, FREQUENCY_COLUMNS[:2])


def _durations(
    i: _Inputs, frame: pd.DataFrame, at: str, columns: list[str], minutes: Callable
) -> pd.DataFrame:
    """Count, lower median in minutes and dropped negatives of ``_span`` by the window of ``at``."""
    hits = _in_windows(frame, at, i.win)
    kept = hits[hits["_span"] >= 0]
    kept = kept.assign(**{columns[1]: minutes(kept["_span"])})
    parts = [
        _counts(kept, i.keys, columns[0]),
        _lower_median(kept, [*i.keys, "_w"], columns[1]),
        _counts(hits[hits["_span"] < 0], i.keys, columns[2]),
    ]
    return _finish(i, parts, columns, [columns[0], columns[2]])


def _lead_time(i: _Inputs) -> pd.DataFrame:
    def ceil_minutes(span: pd.Series) -> pd.Series:
        return -(-span // _MINUTE_NS)

    return _durations(i, i.first, "finished_at", LEAD_TIME_COLUMNS, ceil_minutes)


def _recovery(i: _Inputs) -> pd.DataFrame:
    done = i.linked[i.linked["resolved_at"].notna() & i.linked["linked_deployment_id"].notna()]
    span = done["resolved_at"].array.asi8 - done["linked_deployment_finished_at"].array.asi8
    done = done.assign(_span=span)
    return _durations(i, done, "resolved_at", RECOVERY_COLUMNS, lambda span: span / _MINUTE_NS)


def _share(i: _Inputs, flags: pd.Series, columns: list[str]) -> pd.DataFrame:
    """Deployments in the window, how many are flagged, and the flagged share (NaN if none)."""
    total, flagged, share = columns
    prod = i.prod[[*i.keys, "finished_at"]].assign(_flag=flags)
    hits = _in_windows(prod, "finished_at", i.win)
    counted = hits.groupby([*i.keys, "_w"], dropna=False)["_flag"].sum().rename(flagged)
    out = _finish(i, [_counts(hits, i.keys, total), counted], [total, flagged], [total, flagged])
    return out.assign(**{share: out[flagged] / out[total].where(out[total] > 0)})


def _failure_rate(i: _Inputs) -> pd.DataFrame:
    failed = i.prod["deployment_id"].isin(i.linked["linked_deployment_id"].dropna().unique())
    return _share(i, failed, FAILURE_RATE_COLUMNS)


def _rework(i: _Inputs) -> pd.DataFrame:
    return _share(i, i.prod["is_rework"].fillna(value=False).astype(bool), REWORK_COLUMNS)


def _unlinked(i: _Inputs) -> pd.DataFrame:
    orphans = i.linked[i.linked["linked_deployment_id"].isna()]
    counts = _counts(_in_windows(orphans, "created_at", i.win), i.keys, "incidents_unlinked")
    return _finish(i, [counts], ["incidents_unlinked"], ["incidents_unlinked"])


# --- public metrics ---------------------------------------------------------------------------


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
    return _frequency(_inputs(deployments, windows, by, as_of), tz)


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
    return _lead_time(_inputs(deployments, windows, by, as_of, changes=changes))


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
    return _failure_rate(_inputs(deployments, windows, by, as_of, None, incidents, max_gap))


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
    return _recovery(_inputs(deployments, windows, by, as_of, None, incidents, max_gap))


def deployment_rework_rate(
    deployments: pd.DataFrame, *, windows: pd.DataFrame, by: Scope = None, as_of: AsOf = None
) -> pd.DataFrame:
    """Share of successful production deployments finished in the window that are rework
    (``is_rework``: unplanned fixes of user-visible problems; DORA 2024's fifth metric).

    Columns: ``deployments``, ``rework_deployments``, ``deployment_rework_rate`` (0..1, NaN
    without deployments).
    """
    return _rework(_inputs(deployments, windows, by, as_of))


def dora_summary(
    deployments: pd.DataFrame,
    changes: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    windows: pd.DataFrame,
    tz: str,
    by: Scope = None,
    benchmark: str = "dora-2023",
    max_gap: MaxGap = None,
    as_of: AsOf = None,
) -> pd.DataFrame:
    """All five DORA metrics, their tiers under ``benchmark`` and the data-quality caveats, one
    tidy row per scope group x window (groups found in any of the three inputs).

    Columns: the ``by`` columns, then :data:`SUMMARY_COLUMNS`. Tiers are ``None`` where the value
    is missing or the benchmark has no tiers for the metric. Caveats: ``incidents_unlinked``
    (incidents created in the window that no deployment could be linked to),
    ``changes_negative_lead_time`` and ``incidents_negative_recovery`` (spans dropped).
    """
    load_benchmark(benchmark)  # fail fast on an unknown version
    i = _inputs(deployments, windows, by, as_of, changes, incidents, max_gap)
    scope = [k for k in i.keys if k != _ALL]
    on = [*scope, *WINDOW_COLUMNS]
    out = _frequency(i, tz)
    for part, columns in [
        (_lead_time(i), LEAD_TIME_COLUMNS),
        (_failure_rate(i), FAILURE_RATE_COLUMNS[1:]),
        (_recovery(i), RECOVERY_COLUMNS),
        (_rework(i), REWORK_COLUMNS[1:]),
        (_unlinked(i), ["incidents_unlinked"]),
    ]:
        out = out.merge(part[[*on, *columns]], on=on, how="left")
    for metric in METRICS:
        out[f"{metric}_tier"] = _tier_series(metric, out, benchmark)
    return out.assign(benchmark=benchmark)[[*scope, *SUMMARY_COLUMNS]]
