"""Deployment frequency: deployment days per week, month and six months."""

from __future__ import annotations

import numpy as np
import pandas as pd

from valuestreams.metrics.dora.inputs import Inputs, group_counts, window_rows
from valuestreams.metrics.dora.preparation import (
    FREQUENCY_COLUMNS,
    MEDIAN_DAYS,
    in_windows,
    lower_median,
)


def local_day(ts: pd.Series, tz: str) -> np.ndarray:
    """Days since 1970-01-01 of the local dates in ``tz`` of ``ts`` (UTC datetimes)."""
    naive = ts.dt.tz_convert(tz).dt.tz_localize(None).to_numpy()
    return naive.astype("datetime64[D]").astype(np.int64)


def calendar_days(win: pd.DataFrame, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """The first and last local calendar day (days since 1970-01-01 in ``tz``) each prepared
    window covers up to as_of (``_grid_end``, exclusive). This, not the exact clipped end, is
    all the deployment frequency reads of as_of besides the deployments known at it."""
    first = local_day(win["window_start"], tz)
    last = local_day(win["_grid_end"] - pd.Timedelta(1, "ns"), tz)
    return first, last


def frequency_of(i: Inputs, tz: str) -> pd.DataFrame:
    """Deployment frequency on prepared inputs (see :func:`deployment_frequency`)."""

    def month(days: np.ndarray) -> np.ndarray:  # months since 1970-01
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)

    keys, win = i.keys, i.win
    hits = in_windows(i.prod[[*keys, "finished_at"]], "finished_at", win)
    hits = hits.assign(_day=local_day(hits["finished_at"], tz))
    days = hits.drop_duplicates([*keys, "_w", "_day"])
    first, last = calendar_days(win, tz)
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
    parts = [group_counts(hits, keys, "deployments"), group_counts(days, keys, "deployment_days")]
    for period, column in zip(["_week", "_month", "_six_months"], MEDIAN_DAYS, strict=True):
        per_period = days.groupby([*keys, "_w", period], dropna=False).size().rename(column)
        grid = i.groups.merge(calendar[["_w", period]].drop_duplicates(), how="cross")
        grid = grid.merge(per_period.reset_index(), on=[*keys, "_w", period], how="left")
        grid[column] = grid[column].fillna(0).astype(np.int64)
        parts.append(lower_median(grid, [*keys, "_w"], column))
    return window_rows(i, parts, FREQUENCY_COLUMNS, FREQUENCY_COLUMNS[:2])
