"""Reads of an incremental recompute: the rows and facts it carries forward, and which items
changed (see :mod:`valuestreams.recompute_carry`). Small reads of a few thousand rows; ids are
sent as one array literal (:func:`~valuestreams.selectors.frames.id_array`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg
from django.db import connection
from psycopg import sql

from portfolio.models import Portfolio
from valuestreams.metrics.flow_facts import NAT, ns_to_utc
from valuestreams.selectors.frames import id_array


def _aggregated_frame(query: sql.Composable, names: list[str], dtype: dict) -> pd.DataFrame:
    """The rows of ``query`` as a frame (columns ``names`` of types ``dtype``). PostgreSQL
    aggregates each column into one array, sent in binary: a few thousand rows arrive as one
    result row instead of one COPY message each (which costs about a microsecond apiece in the
    driver), and floats are the stored ones to the bit."""
    aliases = [sql.Identifier(f"c{n}") for n in range(len(names))]
    statement = sql.SQL("SELECT {} FROM ({}) AS q({})").format(
        sql.SQL(", ").join(sql.SQL("array_agg({})").format(a) for a in aliases),
        query,
        sql.SQL(", ").join(aliases),
    )
    connection.ensure_connection()
    # a server-side-binding cursor: Django's default client-side one cannot ask for binary results
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(statement, binary=True)
        arrays = cursor.fetchone()
    return pd.DataFrame(
        {
            name: _column(values if values is not None else [], dtype[name])
            for name, values in zip(names, arrays, strict=True)
        }
    )


def _column(values: list, kind) -> pd.Series:
    if kind is np.int64 or kind is float:
        return pd.Series(np.array(values, dtype=kind))
    return pd.Series(values, dtype=kind)


_MICROS = "(EXTRACT(EPOCH FROM {0}) * 1000000)::bigint"  # a timestamp as integer µs, NULL kept


def _utc_from_us(values: pd.Series) -> pd.Series:
    """Integer microseconds since the epoch (nullable) as aware UTC datetimes (NaT for NULL)."""
    missing = values.isna().to_numpy()
    micros = values.to_numpy(dtype=np.int64, na_value=0)
    return pd.Series(ns_to_utc(np.where(missing, NAT, micros * 1000)), index=values.index)


def done_facts(
    portfolio: Portfolio, *, spans: Sequence[tuple[datetime, datetime]], exclude: Sequence[int]
) -> pd.DataFrame:
    """Stored facts of the portfolio's items done within ``spans`` (closed [start, end] pairs),
    but not of the ``exclude``d items: ``item_id``, ``item_type``, ``done`` (UTC),
    ``flow_time_s``, ``active_s``, ``team_id`` and ``value_stream_id`` (NO_SCOPE if none)."""
    names = ["item_id", "item_type", "done", "flow_time_s", "active_s", "team_id"]
    names.append("value_stream_id")
    dtype = {
        "item_id": np.int64,
        "item_type": str,
        "done": np.int64,
        "flow_time_s": float,
        "active_s": float,
        "team_id": np.int64,
        "value_stream_id": np.int64,
    }
    within = sql.SQL(" OR ").join(
        sql.SQL("(done >= {} AND done <= {})").format(sql.Literal(a), sql.Literal(b))
        for a, b in spans
    )
    query = sql.SQL(
        "SELECT item_id, item_type, " + _MICROS.format("done") + ", flow_time_s, active_s,"
        " coalesce(team_id, -1), coalesce(value_stream_id, -1)"
        " FROM valuestreams_workitemfact WHERE portfolio_id = {} AND ({})"
    ).format(sql.Literal(portfolio.pk), within if spans else sql.SQL("false"))
    frame = _aggregated_frame(query, names, dtype)
    # excluded here, not in SQL: PostgreSQL tests NOT (x = ANY(array)) element by element
    frame = frame[~np.isin(frame["item_id"].to_numpy(), np.asarray(exclude, dtype=np.int64))]
    return frame.assign(done=_utc_from_us(frame["done"])).reset_index(drop=True)


_ROW_KEY = {  # name: (SQL, dtype) of the columns every published metric row is read with
    "id": ("id", np.int64),
    "row_hash": ("coalesce(row_hash, 0)", np.int64),
    "scope_kind": ("scope_kind", str),
    "scope_id": ("scope_id", np.int64),
    "grain": ("grain", str),
    "window_start": (_MICROS.format("window_start"), np.int64),
}


def _stored_rows(table: str, where: sql.Composable, values: dict) -> pd.DataFrame:
    columns = {**_ROW_KEY, **values}
    query = sql.SQL("SELECT {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(sql.SQL(expression) for expression, _ in columns.values()),
        sql.Identifier(table),
        where,
    )
    dtype = {name: kind for name, (_, kind) in columns.items()}
    frame = _aggregated_frame(query, list(columns), dtype)
    return frame.assign(window_start=_utc_from_us(frame["window_start"]))


def stored_load_rows(where: sql.Composable) -> pd.DataFrame:
    """Published FlowMetric rows matching ``where``: id, row_hash (0 if none), scope_kind,
    scope_id, grain, window_start (UTC), item_type, load_mean, load_end."""
    values = {
        "item_type": ("item_type", str),
        "load_mean": ("load_mean", float),
        "load_end": ("load_end", float),
    }
    return _stored_rows("valuestreams_flowmetric", where, values)


def stored_status_rows(where: sql.Composable) -> pd.DataFrame:
    """Published StatusTime rows matching ``where``: id, row_hash (0 if none), scope_kind,
    scope_id, grain, window_start (UTC), status, flow_state, items, time_us."""
    values = {
        "status": ("status", str),
        "flow_state": ("flow_state", str),
        "items": ("items", np.int64),
        "time_us": ("time_us", np.int64),
    }
    return _stored_rows("valuestreams_statustime", where, values)


def stored_facts(item_ids: Sequence[int]) -> pd.DataFrame:
    """Stored facts of the given items (what the previous runs published for them): item_id,
    start / done / canceled_at (UTC, NaT if none), team_id and value_stream_id (nullable
    Int64), history_rows, history_digest (Int64) and the caveat counts and flags."""
    names = ["item_id", "start", "done", "canceled_at", "team_id", "value_stream_id"]
    names += ["history_rows", "history_digest", "unmapped_count", "unmapped_type_count"]
    names += ["truncated", "done_without_start", "reopen_count"]
    dtype = dict.fromkeys(names, "Int64")
    micros = ", ".join(_MICROS.format(c) for c in ("start", "done", "canceled_at"))
    query = sql.SQL(
        "SELECT item_id, " + micros + ", team_id, value_stream_id, history_rows,"
        " history_digest, unmapped_count, unmapped_type_count, truncated::int,"
        " done_without_start::int, reopen_count FROM valuestreams_workitemfact"
        " WHERE item_id = ANY({})"
    ).format(id_array(item_ids))
    frame = _aggregated_frame(query, names, dtype)
    for column in ("start", "done", "canceled_at"):
        frame[column] = _utc_from_us(frame[column])
    frame["item_id"] = frame["item_id"].astype(np.int64)
    for column in ("truncated", "done_without_start"):
        frame[column] = frame[column].astype(bool)
    for column in ("unmapped_count", "unmapped_type_count", "reopen_count"):
        frame[column] = frame[column].astype(np.int64)
    return frame


def _id_list(query: sql.Composable) -> list[int]:
    """The ids ``query`` (one bigint column) returns, aggregated into one array by PostgreSQL."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT coalesce(array_agg(x), '{{}}') FROM ({}) found(x)").format(query)
        )
        return list(cursor.fetchone()[0])


def items_of_portfolio(portfolio: Portfolio, item_ids: Sequence[int]) -> set[int]:
    """Those of ``item_ids`` that are work items of ``portfolio``."""
    return set(
        _id_list(
            sql.SQL(
                "SELECT id FROM valuestreams_workitem WHERE portfolio_id = {} AND id = ANY({})"
            ).format(sql.Literal(portfolio.pk), id_array(item_ids))
        )
    )


def items_with_new_rows(
    portfolio: Portfolio, *, after_id: int, after: datetime, until: datetime
) -> list[int]:
    """Items of ``portfolio`` with a status change stored after ``after_id`` or stamped in
    ``[after, until]``: a change stamped exactly at the previous as_of was known to the previous
    run, but when that as_of is a local midnight it counts only for the day starting there, so
    the load carried from the previous run does not hold it yet. The rows are found through
    their indexes first and the items' portfolio checked by primary key afterwards (joining the
    two lets PostgreSQL scan every work item)."""
    recent = _id_list(
        sql.SQL(
            "SELECT DISTINCT item_id FROM valuestreams_statuschange"
            " WHERE id > {} OR (at >= {} AND at <= {})"
        ).format(sql.Literal(after_id), sql.Literal(after), sql.Literal(until))
    )
    return sorted(items_of_portfolio(portfolio, recent)) if recent else []
