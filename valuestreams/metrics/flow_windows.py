"""Reporting windows in the portfolio time zone, and the group x window x type grid of results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from .flow_facts import ALL_TYPES, FLOW_ITEM_TYPES, NAT, utc_ns

WINDOW_COLUMNS: tuple[str, ...] = ("grain", "window", "window_start", "window_end")
_STEPS = {"day": "D", "week": "7D", "month": "MS", "quarter": "QS"}


def _label(local_starts: pd.DatetimeIndex, grain: str) -> list[str]:
    if grain == "week":
        iso = local_starts.isocalendar()
        return [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)]
    if grain == "quarter":
        return [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in local_starts]
    return list(local_starts.strftime("%Y-%m" if grain == "month" else "%Y-%m-%d"))


def label_start(label: str) -> date:
    """The first local day of a window label (the inverse of the labels above): "2026-W06" →
    Monday 2 Feb 2026, "2026-02" → 1 Feb 2026, "2026-Q2" → 1 Apr 2026, "2026-02-14" → itself."""
    year, _, rest = str(label).partition("-")
    if rest.startswith("W"):
        return date.fromisocalendar(int(year), int(rest[1:]), 1)
    if rest.startswith("Q"):
        return date(int(year), 3 * int(rest[1:]) - 2, 1)
    if rest.count("-"):
        return date.fromisoformat(str(label))
    return date(int(year), int(rest), 1)


def _local_midnights(naive: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    # A midnight skipped by a DST change starts the day at the first valid instant; a repeated
    # one at its first occurrence.
    return naive.tz_localize(
        tz, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
    ).tz_convert("UTC")


def period_windows(
    start: datetime | pd.Timestamp,
    end: datetime | pd.Timestamp,
    *,
    grain: str,
    tz: str,
) -> pd.DataFrame:
    """Calendar periods of the portfolio time zone ``tz`` that overlap ``[start, end)``.

    ``grain`` is "week" (ISO weeks starting Monday 00:00 local, label "2025-W03"), "month"
    ("2025-01"), "quarter" ("2025-Q1") or "day" ("2025-01-31"). Returns columns ``grain``,
    ``window`` (label), ``window_start`` and ``window_end`` (datetime64[ns, UTC], half-open),
    ordered by time; the last window may reach past ``end`` (a period still in progress).
    """
    if grain not in _STEPS:
        raise ValueError(f"grain must be one of {sorted(_STEPS)}, got {grain!r}")
    start_ns, end_ns = utc_ns(start, name="start"), utc_ns(end, name="end")
    empty = pd.DataFrame(
        {
            "grain": pd.Series([], dtype=str),
            "window": pd.Series([], dtype=str),
            "window_start": pd.DatetimeIndex([], tz="UTC"),
            "window_end": pd.DatetimeIndex([], tz="UTC"),
        }
    )
    if end_ns <= start_ns:
        return empty
    first = pd.Timestamp(start_ns, tz="UTC").tz_convert(tz).tz_localize(None).normalize()
    if grain == "week":
        first -= pd.Timedelta(days=first.weekday())
    elif grain == "month":
        first = first.replace(day=1)
    elif grain == "quarter":
        first = first.replace(day=1, month=(first.month - 1) // 3 * 3 + 1)
    local_end = pd.Timestamp(end_ns, tz="UTC").tz_convert(tz).tz_localize(None)
    naive = pd.date_range(first, local_end + pd.Timedelta(days=100), freq=_STEPS[grain])
    bounds = _local_midnights(naive, tz)
    starts, ends = bounds[:-1], bounds[1:]
    keep = np.asarray((starts.asi8 < end_ns) & (ends.asi8 > start_ns))
    if not keep.any():
        return empty
    return pd.DataFrame(
        {
            "grain": grain,
            "window": _label(naive[:-1][keep], grain),
            "window_start": starts[keep],
            "window_end": ends[keep],
        }
    )


def window_bounds(windows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """int64 UTC nanosecond start and end of each window (half-open ``[start, end)``)."""
    if windows.empty:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    bounds = []
    for name in ("window_start", "window_end"):
        if name not in windows.columns:
            raise ValueError(f"windows lacks column {name}")
        column = windows[name]
        if not isinstance(column.dtype, pd.DatetimeTZDtype):
            raise ValueError(f"windows.{name} must hold timezone-aware datetimes")
        bounds.append(np.asarray(column.dt.as_unit("ns").array.asi8))
    return bounds[0], bounds[1]


def moments_in_windows(moments: np.ndarray, windows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (position in ``moments``, window position) for each moment inside a window.

    ``moments`` are int64 ns (NaT never matches). Windows may overlap (e.g. weeks and months in
    one frame): a moment then pairs with each window holding it.
    """
    starts, ends = window_bounds(windows)
    valid = np.flatnonzero(moments != NAT)
    by_time = valid[np.argsort(moments[valid], kind="stable")]
    sorted_moments = moments[by_time]
    lo = np.searchsorted(sorted_moments, starts, side="left")
    hi = np.searchsorted(sorted_moments, ends, side="left")
    counts = np.maximum(hi - lo, 0)
    window_pos = np.repeat(np.arange(len(starts)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return by_time[np.repeat(lo, counts) + offsets], window_pos


@dataclass(frozen=True)
class Grid:
    """The result grid: groups (rows of the ``by`` columns) x windows x item types + "All".

    ``group_of_item`` gives each item's group position; a cell's flat position is
    ``(group * n_windows + window) * n_types + type``, the "All" type being the last."""

    by: tuple[str, ...]
    groups: pd.DataFrame
    group_of_item: np.ndarray
    windows: pd.DataFrame
    types: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.groups), len(self.windows), len(self.types)

    @property
    def size(self) -> int:
        g, w, t = self.shape
        return g * w * t

    def flat(self, item: np.ndarray, window: np.ndarray, type_code: np.ndarray) -> np.ndarray:
        _, n_windows, n_types = self.shape
        return (self.group_of_item[item] * n_windows + window) * n_types + type_code

    def type_position(self, names: Sequence[str]) -> np.ndarray:
        """Grid type position of each name in ``names``."""
        lookup = {name: i for i, name in enumerate(self.types)}
        return np.array([lookup[str(name)] for name in names], dtype=np.int64)

    def frame(self) -> pd.DataFrame:
        """One row per cell in flat order: the ``by`` columns, window columns, ``item_type``."""
        _, n_windows, n_types = self.shape
        cells = np.arange(self.size)
        parts = [
            self.groups.iloc[cells // (n_windows * n_types)].reset_index(drop=True),
            self.windows.iloc[cells // n_types % n_windows].reset_index(drop=True),
        ]
        item_type = pd.Categorical.from_codes(cells % n_types, categories=list(self.types))
        frame = pd.concat([*parts, pd.DataFrame({"item_type": item_type})], axis=1)
        return frame


def build_grid(
    items: pd.DataFrame,
    windows: pd.DataFrame,
    by: Sequence[str],
    *,
    type_names: Sequence[str] = (),
) -> Grid:
    """Group the items (one row per item, holding the ``by`` columns) for a result grid.

    Types are the four flow-item types, then any other name in ``type_names``, then "All".
    """
    by = tuple(by)
    missing = [c for c in by if c not in items.columns]
    if missing and len(items):
        raise ValueError(f"by column(s) not found: {', '.join(missing)}")
    extra = sorted({str(t) for t in type_names} - set(FLOW_ITEM_TYPES) - {ALL_TYPES})
    types = (*FLOW_ITEM_TYPES, *extra, ALL_TYPES)
    if not len(items) or missing:
        groups = pd.DataFrame({c: items.get(c, []) for c in by}).iloc[:0]
        return Grid(by, groups, np.zeros(len(items), dtype=np.int64), windows, types)
    if not by:
        groups = pd.DataFrame(index=range(1))
        return Grid(by, groups, np.zeros(len(items), dtype=np.int64), windows, types)
    found = _integer_groups(items, by)
    if found is None:
        grouped = items.groupby(list(by), dropna=False, observed=True, sort=True)
        found = grouped.size().index.to_frame(index=False)[list(by)], grouped.ngroup().to_numpy()
    groups, codes = found
    return Grid(by, groups, codes.astype(np.int64), windows.reset_index(drop=True), types)


def _integer_groups(items: pd.DataFrame, by: tuple[str, ...]):
    """The sorted distinct combinations of the ``by`` columns and each item's position among
    them, as a sorted groupby gives them but without its overhead (grids are built many times a
    run); None unless every column is integer and their combinations fit an int64."""
    if not all(pd.api.types.is_integer_dtype(items[c].dtype) for c in by):
        return None
    factorized = [pd.factorize(items[name].to_numpy(), sort=True) for name in by]
    if np.prod([float(len(u)) for _, u in factorized]) >= 2**62:
        return None
    key = np.zeros(len(items), dtype=np.int64)
    levels = []
    for codes, uniques in factorized:
        levels.append(np.asarray(uniques))
        key = key * len(uniques) + codes
    group, combos = pd.factorize(key, sort=True)
    combos = np.asarray(combos)
    columns = {}
    for name, uniques in zip(reversed(by), reversed(levels), strict=True):
        columns[name] = uniques[combos % len(uniques)]
        combos = combos // len(uniques)
    return pd.DataFrame({name: columns[name] for name in by}), group
