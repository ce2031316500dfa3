"""Metrics of ONE scope computed on the fly for an ``as_of`` other than the stored run's.

The API's ``?as_of=`` answers from here: the scope's status histories (or DORA records) are read
and the pure metrics run on them, bounded to that one team, value stream or portfolio. Nothing is
stored; the rows are unsaved model instances shaped like the precomputed ones.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from portfolio.models import Portfolio
from valuestreams.models import DoraMetric, FlowMetric, StatusTime, WorkItem
from valuestreams.recompute import dora as rd
from valuestreams.recompute import read
from valuestreams.recompute import rows as rr

SCOPE_COLUMNS = dict(rr.SCOPES)


def _scope_items(portfolio: Portfolio, scope_kind: str, scope_id: int) -> list[int] | None:
    items = WorkItem.objects.filter(portfolio=portfolio)
    if scope_kind == "team":
        items = items.filter(team_id=scope_id)
    elif scope_kind == "value_stream":
        items = items.filter(team__value_stream_id=scope_id)
    else:
        return None
    return list(items.values_list("pk", flat=True))


def _windows(portfolio: Portfolio, as_of: datetime, grain: str | None) -> pd.DataFrame:
    windows = rr.report_windows(
        start=read.data_start(portfolio, as_of=as_of), as_of=as_of, tz=portfolio.time_zone
    )
    return windows if grain is None else windows[windows["grain"] == grain].reset_index(drop=True)


def _only(frame: pd.DataFrame, scope_kind: str, scope_id: int) -> pd.DataFrame:
    return frame[(frame["scope_kind"] == scope_kind) & (frame["scope_id"] == scope_id)]


def _instances(model, frame: pd.DataFrame, portfolio: Portfolio) -> list:
    records = frame.replace({np.nan: None}).to_dict("records")
    out = []
    for record in records:
        for name in ("window_start", "window_end"):
            record[name] = pd.Timestamp(record[name]).tz_localize("UTC").to_pydatetime()
        out.append(model(portfolio=portfolio, **record))
    return out


def live_flow_rows(
    portfolio: Portfolio,
    *,
    scope_kind: str,
    scope_id: int,
    as_of: datetime,
    grain: str | None = None,
    status_time: bool = False,
) -> list[FlowMetric] | list[StatusTime]:
    """Flow metrics (or, with ``status_time``, time in status) of one scope as of ``as_of``."""
    item_ids = _scope_items(portfolio, scope_kind, scope_id)
    history = read.read_history(portfolio, item_ids=item_ids)
    scopes = read.item_scopes(portfolio, item_ids=item_ids)
    transitions, _ = read.transitions_frame(history, scopes, read.portfolio_mappings(portfolio))
    rows = rr.flow_rows(
        transitions,
        windows=_windows(portfolio, as_of, grain),
        as_of=as_of,
        tz=portfolio.time_zone,
        portfolio_id=portfolio.pk,
        scopes=[(scope_kind, SCOPE_COLUMNS[scope_kind])],
    )
    if status_time:
        return _instances(StatusTime, _only(rows.status, scope_kind, scope_id), portfolio)
    return _instances(FlowMetric, _only(rows.flow, scope_kind, scope_id), portfolio)


def live_dora_rows(
    portfolio: Portfolio,
    *,
    scope_kind: str,
    scope_id: int,
    as_of: datetime,
    grain: str | None = None,
) -> list[DoraMetric]:
    """DORA metrics of one scope as of ``as_of`` (records of the whole portfolio are read: they
    are few, and incidents link to deployments across teams)."""
    settings = read.dora_settings(portfolio)
    rows = rd.dora_rows(
        read.deployments_frame(portfolio),
        read.changes_frame(portfolio),
        read.incidents_frame(portfolio),
        windows=_windows(portfolio, as_of, grain),
        as_of=as_of,
        tz=portfolio.time_zone,
        portfolio_id=portfolio.pk,
        benchmark=settings.benchmark,
        max_gap=settings.max_gap,
        scopes=[(scope_kind, SCOPE_COLUMNS[scope_kind])],
    )
    return _instances(DoraMetric, _only(rows, scope_kind, scope_id), portfolio)
