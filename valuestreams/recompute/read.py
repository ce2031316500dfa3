"""What a recompute reads: status histories, item scopes and DORA records as frames for the pure
metrics (the only place rows meet them), the stored facts and metric rows an incremental run
carries forward, and which items changed since the previous run.

Status histories are read with ``COPY ... TO STDOUT`` straight from PostgreSQL in chunks and turned
into numpy arrays with categorical codes, so reading millions of status changes costs a few dozen
bytes per change and no Python object per row. Small reads (a few thousand stored rows or facts)
come as one binary result row of per-column arrays. Everything returned is in UTC; windows are
built later in the portfolio time zone. Records dated outside the range Steward accepts
(:mod:`portfolio.date_range`) are not read (:func:`in_date_range`): they can only predate the
checks at the entry points, or come from behind the services' back, and a run counts them in its
caveats.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg
from django.apps import apps
from django.db import connection
from psycopg import sql

from portfolio.date_range import EARLIEST_DATE, EARLIEST_MOMENT, END_MOMENT, LATEST_DATE
from portfolio.models import Portfolio
from valuestreams.metrics.dora import available_benchmarks
from valuestreams.metrics.flow_facts import (
    FLOW_ITEM_TYPES,
    FLOW_STATES,
    NAT,
    item_flow_facts,
    ns_to_utc,
)
from valuestreams.models import MetricSettings, WorkItem, WorkItemFact
from valuestreams.recompute.rows import FLOW_COMPLETION, History
from valuestreams.selectors.mappings import Lookup, state_lookup, type_lookup

CHUNK_BYTES = 16 * 1024 * 1024
NO_SCOPE = -1  # team_id / value_stream_id of an item without a team
UNMAPPED_STATE = "waiting"
UTC = "datetime64[ns, UTC]"


@dataclass(frozen=True)
class Mappings:
    """A portfolio's status → flow state and source type → flow-item type lookups, from
    :mod:`valuestreams.selectors.mappings` (explicit rows, then defaults, then the fallback)."""

    states: Lookup
    types: Lookup

    def state_of(self, status: str) -> str | None:
        """Flow state of a source status, None when unmapped (it then counts as waiting)."""
        value, origin = self.states.resolve(status)
        return None if origin == "unmapped" else value

    def type_of(self, source_type: str) -> str:
        """Flow-item type of a source type (an unmapped one is a Feature)."""
        return self.types(source_type)

    def type_is_mapped(self, source_type: str) -> bool:
        return self.types.resolve(source_type)[1] != "unmapped"


def portfolio_mappings(portfolio: Portfolio) -> Mappings:
    """The state and type mappings of ``portfolio`` (two queries)."""
    return Mappings(state_lookup(portfolio), type_lookup(portfolio))


# --- the accepted dates ---------------------------------------------------------------------------


def in_date_range(column: str) -> sql.Composable:
    """SQL true when ``column`` lies within the dates Steward accepts
    (:mod:`portfolio.date_range`). Rows stored outside it (before that was checked, or behind the
    services' back) are left out of the metrics, and counted in a run's caveats."""
    return sql.SQL("({column} >= {earliest} AND {column} < {end})").format(
        column=sql.SQL(column), earliest=sql.Literal(EARLIEST_MOMENT), end=sql.Literal(END_MOMENT)
    )


# --- reading with COPY --------------------------------------------------------------------------


def copy_chunks(query: sql.Composable) -> Iterable[bytes]:
    """CSV bytes of ``COPY (query) TO STDOUT``, cut at line ends into chunks of ~CHUNK_BYTES."""
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        pending = bytearray()
        for data in copy:
            pending += data
            if len(pending) >= CHUNK_BYTES:
                cut = pending.rfind(b"\n") + 1
                yield bytes(pending[:cut])
                del pending[:cut]
        if pending:
            yield bytes(pending)


class _Codes:
    """Global integer codes for strings seen chunk by chunk (statuses, types): few distinct ones."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._lookup: dict[str, int] = {}

    def encode(self, column: pd.Series) -> np.ndarray:
        cat = column.astype("category")
        local = np.array([self._code(str(n)) for n in cat.cat.categories], dtype=np.int32)
        codes = cat.cat.codes.to_numpy()
        return local[codes] if len(local) else codes.astype(np.int32)

    def _code(self, name: str) -> int:
        if name not in self._lookup:
            self._lookup[name] = len(self.names)
            self.names.append(name)
        return self._lookup[name]


def id_array(ids: Iterable[int]) -> sql.Composable:
    """A ``bigint[]`` literal of ``ids`` (built as one string: psycopg's list quoting costs
    microseconds per element, which adds up for tens of thousands of ids)."""
    text = "{" + ",".join(str(int(i)) for i in ids) + "}"
    return sql.SQL("{}::bigint[]").format(sql.Literal(text))


_HISTORY_COLUMNS = (
    "SELECT sc.item_id, (EXTRACT(EPOCH FROM sc.at) * 1000000)::bigint, sc.seq, sc.status,"
    " sc.source_type, sc.blocked::int FROM valuestreams_statuschange sc"
)


def _history_query(portfolio_id: int, item_ids: Sequence[int] | None) -> sql.Composable:
    if item_ids is not None:
        # The items are looked up in the status changes' index only: joining the work items
        # would cost a second index probe per item. Rows of an item outside the portfolio are
        # dropped by transitions_frame (item_scopes reads the portfolio's items only).
        return sql.SQL(_HISTORY_COLUMNS + " WHERE sc.item_id = ANY({}) AND {}").format(
            id_array(item_ids), in_date_range("sc.at")
        )
    return sql.SQL(
        _HISTORY_COLUMNS
        + " JOIN valuestreams_workitem wi ON wi.id = sc.item_id WHERE wi.portfolio_id = {} AND {}"
    ).format(sql.Literal(portfolio_id), in_date_range("sc.at"))


def read_history(portfolio: Portfolio, *, item_ids: Sequence[int] | None = None) -> History:
    """Every status change of the portfolio's work items (or of ``item_ids``, the caller's
    choice among them: rows of other items are dropped by :func:`transitions_frame`), via COPY.
    Rows dated outside the accepted range are not read (:func:`in_date_range`)."""
    return _history_of(_history_query(portfolio.pk, item_ids))


def previous_histories(
    item_ids: Sequence[int], *, status_change_id: int, superseded_after: int
) -> History:
    """The histories of ``item_ids`` as a run that read status changes up to id
    ``status_change_id`` and superseded ones up to id ``superseded_after`` saw them: the rows
    stored then that are still there unchanged, and those deleted or updated since as they were
    then (the first :class:`~valuestreams.models.SupersededStatusChange` of each row superseded
    after ``superseded_after``). Exact as long as every such row was superseded after that run
    read; the caller checks each history against the digest that run stored."""
    query = sql.SQL(
        "SELECT h.item_id, (EXTRACT(EPOCH FROM h.at) * 1000000)::bigint, h.seq, h.status,"
        " h.source_type, h.blocked::int FROM ("
        " SELECT sc.item_id, sc.at, sc.seq, sc.status, sc.source_type, sc.blocked"
        " FROM valuestreams_statuschange sc WHERE sc.item_id = ANY({ids}) AND sc.id <= {upto}"
        " AND NOT EXISTS (SELECT 1 FROM valuestreams_supersededstatuschange s"
        "  WHERE s.item_id = sc.item_id AND s.status_change_id = sc.id AND s.id > {after})"
        " UNION ALL"
        " (SELECT DISTINCT ON (s.status_change_id) s.item_id, s.at, s.seq, s.status,"
        "  s.source_type, s.blocked FROM valuestreams_supersededstatuschange s"
        " WHERE s.item_id = ANY({ids}) AND s.id > {after} AND s.status_change_id <= {upto}"
        " ORDER BY s.status_change_id, s.id)"
        ") h WHERE {dated}"
    ).format(
        ids=id_array(item_ids),
        upto=sql.Literal(status_change_id),
        after=sql.Literal(superseded_after),
        dated=in_date_range("h.at"),
    )
    return _history_of(query)


def _history_of(query: sql.Composable) -> History:
    """The rows of ``query`` (the columns of :data:`_HISTORY_COLUMNS`) via COPY, sorted."""
    statuses, types = _Codes(), _Codes()
    parts: list[tuple[np.ndarray, ...]] = []
    names = ["item_id", "at_us", "seq", "status", "source_type", "blocked"]
    for chunk in copy_chunks(query):
        frame = pd.read_csv(
            io.BytesIO(chunk),
            header=None,
            names=names,
            dtype={"item_id": np.int64, "at_us": np.int64, "seq": np.int16, "blocked": np.int8},
            keep_default_na=False,
            engine="c",
        )
        parts.append(
            (
                frame["item_id"].to_numpy(),
                frame["at_us"].to_numpy(),
                frame["seq"].to_numpy(),
                statuses.encode(frame["status"]),
                types.encode(frame["source_type"]),
                frame["blocked"].to_numpy().astype(bool),
            )
        )
        del frame
    if parts:
        columns = [np.concatenate(c) for c in zip(*parts, strict=True)]
    else:
        columns = [
            np.empty(0, dtype=d) for d in (np.int64, np.int64, np.int16, np.int32, np.int32, bool)
        ]
    del parts
    history = History(*columns, statuses=statuses.names, types=types.names)
    _sort_history(history)
    return history


def _sort_history(history: History) -> None:
    """Sort in place by (item, time, seq) unless already so. COPY returns table order, which a
    parallel scan interleaves: a stable sort by item (a few hundred ms for millions of rows,
    against seconds for a three-key lexsort) restores most of it, and only the items whose rows
    are still out of time order are sorted again by (time, seq)."""
    if len(history.item_id) < 2 or bool(_in_order(history).all()):
        return
    order = np.argsort(history.item_id, kind="stable")
    _take(history, order)
    later = _in_order(history)
    if bool(later.all()):
        return
    item, at, seq = history.item_id, history.at_us, history.seq
    rows = np.flatnonzero(np.isin(item, np.unique(item[1:][~later])))
    order = np.arange(len(item))
    order[rows] = rows[np.lexsort((seq[rows], at[rows], item[rows]))]
    _take(history, order)


def _in_order(history: History) -> np.ndarray:
    """Per adjacent pair of rows: is the second one after the first in (item, time, seq)?"""
    item, at, seq = history.item_id, history.at_us, history.seq
    return (item[1:] > item[:-1]) | (
        (item[1:] == item[:-1])
        & ((at[1:] > at[:-1]) | ((at[1:] == at[:-1]) & (seq[1:] >= seq[:-1])))
    )


def _take(history: History, order: np.ndarray) -> None:
    history.__dict__.update(vars(history.rows(order)))


@dataclass(frozen=True)
class ItemScopes:
    """Sorted item ids of a portfolio with each item's team and value stream (NO_SCOPE if none)."""

    item_id: np.ndarray
    team_id: np.ndarray
    value_stream_id: np.ndarray

    def contains(self, item_ids: np.ndarray) -> np.ndarray:
        """Which of ``item_ids`` are items of the portfolio read."""
        pos = np.minimum(np.searchsorted(self.item_id, item_ids), max(len(self.item_id) - 1, 0))
        return self.item_id[pos] == item_ids if len(self.item_id) else np.zeros(len(item_ids), bool)

    def of(self, item_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Team and value stream of each of ``item_ids`` (all must be in the portfolio)."""
        pos = np.searchsorted(self.item_id, item_ids)
        return self.team_id[pos], self.value_stream_id[pos]


def item_scopes(portfolio: Portfolio, *, item_ids: Sequence[int] | None = None) -> ItemScopes:
    """Each work item's current team and value stream, read with COPY, sorted by item id."""
    where = sql.SQL("wi.portfolio_id = {}").format(sql.Literal(portfolio.pk))
    if item_ids is not None:
        where = sql.SQL("{} AND wi.id = ANY({})").format(where, id_array(item_ids))
    query = sql.SQL(
        "SELECT wi.id, coalesce(wi.team_id, -1), coalesce(t.value_stream_id, -1)"
        " FROM valuestreams_workitem wi LEFT JOIN teams_productteam t ON t.id = wi.team_id"
        " WHERE {}"
    ).format(where)
    frames = [
        pd.read_csv(io.BytesIO(chunk), header=None, dtype=np.int64, engine="c")
        for chunk in copy_chunks(query)
    ]
    data = pd.concat(frames) if frames else pd.DataFrame({0: [], 1: [], 2: []}, dtype=np.int64)
    data = data.sort_values(0)
    return ItemScopes(
        data[0].to_numpy(dtype=np.int64),
        data[1].to_numpy(dtype=np.int32),
        data[2].to_numpy(dtype=np.int32),
    )


def transitions_frame(
    history: History, scopes: ItemScopes, mappings: Mappings
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The metrics' ``transitions`` frame (see :mod:`valuestreams.metrics`) and caveat counts.

    Columns: ``item_id`` (int64), ``entered_at`` (UTC), ``status`` (category), ``flow_state``
    (category; unmapped statuses are "waiting" with ``unmapped`` True), ``unmapped``, ``blocked``,
    ``item_type`` (category of the four flow-item types; unmapped source types are Features),
    ``team_id`` and ``value_stream_id`` (int32, -1 for an item without a team). Rows stay sorted
    by item, time and seq. The counts: ``unmapped_type_changes`` (rows of an unmapped type).
    """
    inside = scopes.contains(history.item_id)
    if not inside.all():  # rows of items outside the portfolio (or deleted since) are not read
        history = history.rows(inside)
    state_of_status = [mappings.state_of(name) for name in history.statuses]
    unmapped_status = np.array([s is None for s in state_of_status], dtype=bool)
    state_codes = np.array(
        [FLOW_STATES.index(s or UNMAPPED_STATE) for s in state_of_status], dtype=np.int8
    )
    type_codes = np.array(
        [FLOW_ITEM_TYPES.index(mappings.type_of(n)) for n in history.types], dtype=np.int8
    )
    unmapped_type = np.array([not mappings.type_is_mapped(n) for n in history.types], dtype=bool)
    team, value_stream = scopes.of(history.item_id)
    status = history.status.astype(np.int16 if len(history.statuses) < 32000 else np.int32)
    entered = pd.DatetimeIndex((history.at_us * 1000).view("M8[ns]"), tz="UTC")
    frame = pd.DataFrame(
        {
            "item_id": history.item_id,
            "entered_at": entered,
            "status": pd.Categorical.from_codes(status, categories=history.statuses or []),
            "flow_state": pd.Categorical.from_codes(
                state_codes[history.status] if len(history) else state_codes[:0],
                categories=list(FLOW_STATES),
            ),
            "unmapped": unmapped_status[history.status] if len(history) else unmapped_status[:0],
            "blocked": history.blocked,
            "item_type": pd.Categorical.from_codes(
                type_codes[history.source_type] if len(history) else type_codes[:0],
                categories=list(FLOW_ITEM_TYPES),
            ),
            "team_id": team,
            "value_stream_id": value_stream,
        },
        copy=False,
    )
    counts = {
        "unmapped_type_changes": int(unmapped_type[history.source_type].sum())
        if len(history)
        else 0
    }
    return frame, counts


# --- DORA inputs ---------------------------------------------------------------------------------

DEFAULT_BENCHMARK = "dora-2023"
# no two moments of the accepted dates lie further apart: a longer gap is no limit at all
LONGEST_GAP = pd.Timestamp(END_MOMENT) - pd.Timestamp(EARLIEST_MOMENT)


@dataclass(frozen=True)
class DoraSettings:
    """How a portfolio's DORA metrics are computed (its :class:`MetricSettings`, or defaults):
    the benchmark version, the longest deployment → incident gap of an inferred link, and what
    of the stored settings could not be used (``ignored``: sentences for the run's caveats)."""

    benchmark: str = DEFAULT_BENCHMARK
    max_gap: pd.Timedelta | None = None
    ignored: tuple[str, ...] = ()


def dora_settings(portfolio: Portfolio) -> DoraSettings:
    """The portfolio's DORA settings. A benchmark version Steward does not ship (stored before it
    was checked, or by hand) falls back to the default with a caveat rather than failing the
    recompute; a gap longer than the accepted dates span is no limit."""
    found = MetricSettings.objects.filter(portfolio=portfolio).first()
    if found is None:
        return DoraSettings()
    benchmark, ignored = found.dora_benchmark, ()
    if benchmark not in available_benchmarks():
        ignored = (f"The DORA benchmark “{benchmark}” is unknown; {DEFAULT_BENCHMARK} was used.",)
        benchmark = DEFAULT_BENCHMARK
    hours = found.incident_max_gap_hours
    longest = LONGEST_GAP // pd.Timedelta(hours=1)
    gap = None if hours is None else pd.Timedelta(hours=min(hours, longest))
    return DoraSettings(benchmark, gap, ignored)


def _delivery_frame(
    table: str,
    columns: list[tuple[str, str, object]],
    dated: sql.Composable,
    portfolio: Portfolio,
    joins: sql.Composable | None = None,
) -> pd.DataFrame:
    """The portfolio's rows of the delivery-record ``table`` that satisfy ``dated``, ordered by
    id: ``columns`` are (name, SQL expression over the record ``r``, dtype; ``"time"`` for a
    timestamp, aware UTC of µs resolution, NaT for NULL; ``"Int64"`` for a nullable id), then
    ``team_id`` and ``value_stream_id`` (NO_SCOPE where none). Read in one binary row of arrays
    (:func:`_aggregated_frame`), NULLs sent as the smallest int64 so that every number arrives
    as a plain array: the ORM's per-row datetime conversion cost a second per 200k records."""
    nullable = ("time", "Int64")
    names = [name for name, _, _ in columns] + ["team_id", "value_stream_id"]
    kinds = [kind for _, _, kind in columns] + ["Int64", "Int64"]
    expressions = [sql.SQL(expr) for _, expr, _ in columns]
    expressions += [sql.SQL("r.team_id"), sql.SQL("t.value_stream_id")]
    selected = [
        sql.SQL("coalesce({}, {})").format(
            sql.SQL(_MICROS).format(e) if kind == "time" else e, sql.Literal(NAT)
        )
        if kind in nullable
        else e
        for e, kind in zip(expressions, kinds, strict=True)
    ]
    query = sql.SQL(
        "SELECT {} FROM {} r LEFT JOIN teams_productteam t ON t.id = r.team_id {}"
        " WHERE r.portfolio_id = {} AND {} ORDER BY r.id"
    ).format(
        sql.SQL(", ").join(selected),
        sql.Identifier(table),
        joins if joins is not None else sql.SQL(""),
        sql.Literal(portfolio.pk),
        dated,
    )
    dtype = {
        name: (np.int64 if kind in nullable else kind)
        for name, kind in zip(names, kinds, strict=True)
    }
    frame = _aggregated_frame(query, names, dtype)
    for name, kind in zip(names, kinds, strict=True):
        values = frame[name].to_numpy(dtype=np.int64) if kind in nullable else None
        if kind == "time":
            frame[name] = pd.Series(values.view("M8[us]")).dt.tz_localize("UTC")
        elif kind == "Int64":
            frame[name] = pd.arrays.IntegerArray(np.where(values == NAT, 0, values), values == NAT)
    frame["team_id"] = frame["team_id"].fillna(NO_SCOPE).astype(np.int64)
    frame["value_stream_id"] = frame["value_stream_id"].fillna(NO_SCOPE).astype(np.int64)
    return frame


DEPLOYMENT_COLUMNS: list[tuple[str, str, object]] = [
    ("deployment_id", "r.id", np.int64),
    ("finished_at", "r.finished_at", "time"),
    ("successful", "r.successful", bool),
    ("environment", "r.environment", str),
    ("is_rework", "r.is_rework", bool),
]
CHANGE_COLUMNS: list[tuple[str, str, object]] = [
    ("change_id", "r.id", np.int64),
    ("first_commit_at", "r.first_commit_at", "time"),
    ("deployment_id", "r.deployment_id", "Int64"),
]
INCIDENT_COLUMNS: list[tuple[str, str, object]] = [
    ("incident_id", "r.id", np.int64),
    ("created_at", "r.created_at", "time"),
    ("resolved_at", "r.resolved_at", "time"),
    ("deployment_id", "r.deployment_id", "Int64"),
]


def _incident_dated(alias: str = "r") -> sql.Composable:
    return sql.SQL("{} AND ({} IS NULL OR {})").format(
        in_date_range(f"{alias}.created_at"),
        sql.SQL(f"{alias}.resolved_at"),
        in_date_range(f"{alias}.resolved_at"),
    )


def deployments_frame(portfolio: Portfolio) -> pd.DataFrame:
    """The DORA ``deployments`` frame of the portfolio, with ``team_id`` and ``value_stream_id``
    (deployments finished at a time outside the accepted dates left out)."""
    return _delivery_frame(
        "valuestreams_deployment", DEPLOYMENT_COLUMNS, in_date_range("r.finished_at"), portfolio
    )


def changes_frame(portfolio: Portfolio) -> pd.DataFrame:
    """The DORA ``changes`` frame: ``change_id``, ``first_commit_at``, ``deployment_id`` (Int64)
    and the scope columns of the change's team (changes dated outside the accepted dates left
    out)."""
    return _delivery_frame(
        "valuestreams_change", CHANGE_COLUMNS, in_date_range("r.first_commit_at"), portfolio
    )


def incidents_frame(portfolio: Portfolio) -> pd.DataFrame:
    """The DORA ``incidents`` frame: ``incident_id``, ``created_at``, ``resolved_at``,
    ``deployment_id`` (Int64) and scope columns (incidents created or resolved at a time outside
    the accepted dates left out)."""
    return _delivery_frame("valuestreams_incident", INCIDENT_COLUMNS, _incident_dated(), portfolio)


def data_start(portfolio: Portfolio, *, as_of: datetime) -> datetime | None:
    """The earliest moment of the portfolio's data known at ``as_of`` (items created, deployments
    finished, changes committed, incidents created; times outside the accepted dates ignored),
    None without data. Windows start here."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT least("
            " (SELECT min(created_at) FROM valuestreams_workitem"
            "   WHERE portfolio_id = %(p)s AND created_at <= %(a)s AND created_at >= %(e)s),"
            " (SELECT min(finished_at) FROM valuestreams_deployment"
            "   WHERE portfolio_id = %(p)s AND finished_at <= %(a)s AND finished_at >= %(e)s),"
            " (SELECT min(first_commit_at) FROM valuestreams_change"
            "   WHERE portfolio_id = %(p)s AND first_commit_at <= %(a)s"
            "   AND first_commit_at >= %(e)s),"
            " (SELECT min(created_at) FROM valuestreams_incident"
            "   WHERE portfolio_id = %(p)s AND created_at <= %(a)s AND created_at >= %(e)s))",
            {"p": portfolio.pk, "a": as_of, "e": EARLIEST_MOMENT},
        )
        return cursor.fetchone()[0]


def allocation_targets(portfolio: Portfolio) -> pd.DataFrame:
    """Target allocation by flow-item type per funded value stream and non-draft funding period.

    Columns: value_stream_id, period_start, period_end (naive UTC; the period's first local day at
    midnight and the day after its last), item_type, target (0..1), money (budget total, float).
    Budgets live in the leanpmo app, which builds on this one, hence the late model lookup.
    Periods dated outside the accepted range are left out (and named in the run's caveats): their
    bounds do not fit the metrics' timestamps.
    """
    budget_model = apps.get_model("leanpmo", "ValueStreamBudget")
    tz = ZoneInfo(portfolio.time_zone)
    rows = []
    budgets = budget_model.objects.filter(
        period__portfolio=portfolio,
        period__starts_on__gte=EARLIEST_DATE,
        period__ends_on__lte=LATEST_DATE,
    ).exclude(period__status="draft")
    for budget in budgets.select_related("period"):
        begins = datetime.combine(budget.period.starts_on, time.min, tzinfo=tz)
        ends = datetime.combine(budget.period.ends_on + timedelta(days=1), time.min, tzinfo=tz)
        for item_type, percent in (
            ("Feature", budget.alloc_feature),
            ("Defect", budget.alloc_defect),
            ("Risk", budget.alloc_risk),
            ("Debt", budget.alloc_debt),
        ):
            rows.append(
                (
                    budget.value_stream_id,
                    begins,
                    ends,
                    item_type,
                    percent / 100,
                    float(budget.total),
                )
            )
    frame = pd.DataFrame(
        rows,
        columns=["value_stream_id", "period_start", "period_end", "item_type", "target", "money"],
    )
    for column in ("period_start", "period_end"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    return frame


def team_streams(portfolio: Portfolio) -> pd.Series:
    """Team id → value stream id for the portfolio's teams."""
    teams = apps.get_model("teams", "ProductTeam").objects.filter(value_stream__portfolio=portfolio)
    pairs = dict(teams.values_list("pk", "value_stream_id"))
    return pd.Series(pairs, dtype="int64")


# --- what an incremental run carries forward ------------------------------------------------------


def _aggregated_frame(query: sql.Composable, names: list[str], dtype: dict) -> pd.DataFrame:
    """The rows of ``query`` as a frame (columns ``names`` of types ``dtype``). PostgreSQL
    aggregates each column into one value, sent in binary: a few thousand rows arrive as one
    result row instead of one COPY message each (which costs about a microsecond apiece in the
    driver). An int64 or float column arrives as the concatenated binary send form of its values
    (big-endian, NULL floats as NaN; an int64 column has no NULL), read by NumPy without a Python
    object per value; floats are the stored ones to the bit. Every aggregate of one query sees
    the rows in the same order."""
    aliases = [sql.Identifier(f"c{n}") for n in range(len(names))]
    aggregates = []
    for name, alias in zip(names, aliases, strict=True):
        if dtype[name] is np.int64:
            aggregates.append(sql.SQL("string_agg(int8send({}::bigint), '')").format(alias))
        elif dtype[name] is float:
            aggregates.append(
                sql.SQL("string_agg(float8send(coalesce({}::float8, 'NaN')), '')").format(alias)
            )
        else:
            aggregates.append(sql.SQL("array_agg({})").format(alias))
    statement = sql.SQL("SELECT {} FROM ({}) AS q({})").format(
        sql.SQL(", ").join(aggregates), query, sql.SQL(", ").join(aliases)
    )
    connection.ensure_connection()
    # a server-side-binding cursor: Django's default client-side one cannot ask for binary results
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(statement, binary=True)
        found = cursor.fetchone()
    return pd.DataFrame(
        {name: _column(values, dtype[name]) for name, values in zip(names, found, strict=True)}
    )


def _column(values, kind) -> pd.Series:
    if kind is np.int64 or kind is float:
        wire = ">i8" if kind is np.int64 else ">f8"
        raw = np.frombuffer(bytes(values), dtype=wire) if values is not None else np.zeros(0)
        return pd.Series(raw.astype(kind))
    return pd.Series(values if values is not None else [], dtype=kind)


_MICROS = "(EXTRACT(EPOCH FROM {0}) * 1000000)::bigint"  # a timestamp as integer µs, NULL kept


def _utc_from_us(values: pd.Series) -> pd.Series:
    """Integer microseconds since the epoch (nullable) as aware UTC datetimes (NaT for NULL)."""
    missing = values.isna().to_numpy()
    micros = values.to_numpy(dtype=np.int64, na_value=0)
    return pd.Series(ns_to_utc(np.where(missing, NAT, micros * 1000)), index=values.index)


def done_facts(
    portfolio: Portfolio,
    *,
    spans: Sequence[tuple[datetime, datetime]],
    exclude: Sequence[int],
    scoped: Sequence[tuple[str, Sequence[int], Sequence[tuple[datetime, datetime]]]] = (),
) -> pd.DataFrame:
    """Stored facts of the portfolio's items done within ``spans`` (closed [start, end] pairs),
    or done within the spans of an arm of ``scoped`` (``team_id`` or ``value_stream_id``, the
    ids, the spans) and of one of its teams / value streams, but not of the ``exclude``d items:
    ``item_id``, ``item_type``, ``done`` (UTC), ``flow_time_s``, ``active_s``, ``team_id`` and
    ``value_stream_id`` (NO_SCOPE if none)."""
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

    def within(pairs) -> sql.Composable:
        return sql.SQL(" OR ").join(
            sql.SQL("(done >= {} AND done <= {})").format(sql.Literal(a), sql.Literal(b))
            for a, b in pairs
        )

    arms = [within(spans)] if spans else []
    arms += [
        sql.SQL("{} = ANY({}) AND ({})").format(
            sql.Identifier(column), id_array(ids), within(pairs)
        )
        for column, ids, pairs in scoped
        if len(ids) and pairs
    ]
    inside = sql.SQL("({})").format(sql.SQL(") OR (").join(arms)) if arms else sql.SQL("false")
    query = sql.SQL(
        "SELECT item_id, item_type, " + _MICROS.format("done") + ", flow_time_s, active_s,"
        " coalesce(team_id, -1), coalesce(value_stream_id, -1)"
        " FROM valuestreams_workitemfact WHERE portfolio_id = {} AND ({})"
    ).format(sql.Literal(portfolio.pk), inside)
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
    scope_id, grain, window_start (UTC), item_type, load_mean, load_end and the completion
    columns (velocity, the flow-time percentiles and mean, flow_efficiency, share)."""
    values = {
        "item_type": ("item_type", str),
        "load_mean": ("load_mean", float),
        "load_end": ("load_end", float),
        "velocity": ("velocity", np.int64),
        **{name: (name, float) for name in FLOW_COMPLETION[1:]},
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


def stored_dora_rows(portfolio_id: int) -> pd.DataFrame:
    """Every published DoraMetric row of the portfolio: id, row_hash and input_hash (0 if none),
    scope_kind, scope_id, grain, window_start (UTC). A few rows per scope and window: small."""
    values = {"input_hash": ("coalesce(input_hash, 0)", np.int64)}
    where = sql.SQL("portfolio_id = {}").format(sql.Literal(portfolio_id))
    return _stored_rows("valuestreams_dorametric", where, values)


def stored_facts(item_ids: Sequence[int]) -> pd.DataFrame:
    """Stored facts of the given items (what the previous runs published for them): item_id,
    start / done / canceled_at (UTC, NaT if none), team_id and value_stream_id (nullable
    Int64), history_rows, history_digest (Int64), the caveat counts and flags, item_type,
    flow_time_s and active_s (NaN if none)."""
    names = ["item_id", "start", "done", "canceled_at", "team_id", "value_stream_id"]
    names += ["history_rows", "history_digest", "unmapped_count", "unmapped_type_count"]
    names += ["truncated", "done_without_start", "reopen_count"]
    dtype: dict = dict.fromkeys(names, "Int64")
    names += ["item_type", "flow_time_s", "active_s"]
    dtype.update(item_type=str, flow_time_s=float, active_s=float)
    micros = ", ".join(_MICROS.format(c) for c in ("start", "done", "canceled_at"))
    query = sql.SQL(
        "SELECT item_id, " + micros + ", team_id, value_stream_id, history_rows,"
        " history_digest, unmapped_count, unmapped_type_count, truncated::int,"
        " done_without_start::int, reopen_count, item_type, flow_time_s, active_s"
        " FROM valuestreams_workitemfact"
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


# --- which items changed ------------------------------------------------------------------------


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


def changed_item_ids(
    portfolio: Portfolio,
    *,
    item_ids: set[int],
    team_ids: Sequence[int],
    after_id: int,
    after: datetime,
    until: datetime,
) -> np.ndarray:
    """The items an incremental run recomputes, sorted: those named, those of the named teams
    (now, or when their facts were computed) and those with status changes stored after
    ``after_id`` or stamped in ``[after, until]`` (:func:`items_with_new_rows`)."""
    changed = set(item_ids)
    if team_ids:
        changed |= set(
            WorkItem.objects.filter(portfolio=portfolio, team_id__in=team_ids).values_list(
                "pk", flat=True
            )
        )
        changed |= set(
            WorkItemFact.objects.filter(portfolio=portfolio, team_id__in=team_ids).values_list(
                "item_id", flat=True
            )
        )
    changed |= set(items_with_new_rows(portfolio, after_id=after_id, after=after, until=until))
    return np.array(sorted(changed), dtype=np.int64)


def items_reaching(
    portfolio: Portfolio, spans: Sequence[tuple[pd.Timestamp, pd.Timestamp]], changed: np.ndarray
) -> np.ndarray:
    """``changed`` plus every item whose stored influence (first start or done without start, to
    done / cancel, or open) meets one of the closed ``spans``, sorted."""
    found: set[int] = set(changed.tolist())
    if spans:
        condition = sql.SQL(" OR ").join(
            sql.SQL(
                "(coalesce(start, done) <= {} AND coalesce(done, canceled_at, 'infinity'::timestamptz) >= {})"
            ).format(sql.Literal(b.to_pydatetime()), sql.Literal(a.to_pydatetime()))
            for a, b in spans
        )
        query = sql.SQL(
            "SELECT item_id FROM valuestreams_workitemfact WHERE portfolio_id = {} AND ({})"
        ).format(sql.Literal(portfolio.pk), condition)
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            cursor.execute(query)
            found.update(row[0] for row in cursor.fetchall())
    return np.array(sorted(found), dtype=np.int64)


@dataclass
class ChangedItems:
    """What planning read of the changed items, kept for the run: their histories now, their
    scopes and transitions now, their facts now (``new_facts``) and as stored (``old_facts``,
    indexed by item id), and the portfolio's mappings."""

    history: History
    scopes: ItemScopes
    transitions: pd.DataFrame
    new_facts: pd.DataFrame
    old_facts: pd.DataFrame
    mappings: Mappings

    def old_scopes(self) -> ItemScopes:
        """The team and value stream each item with stored facts had when they were computed
        (NO_SCOPE for none): the scopes its previous contribution was counted in."""
        old = self.old_facts.sort_index()
        return ItemScopes(
            old.index.to_numpy(dtype=np.int64),
            old["team_id"].fillna(NO_SCOPE).to_numpy(dtype=np.int32),
            old["value_stream_id"].fillna(NO_SCOPE).to_numpy(dtype=np.int32),
        )


def read_changed_items(
    portfolio: Portfolio, changed: np.ndarray, *, as_of: datetime, mappings: Mappings
) -> ChangedItems:
    """The changed items' histories, scopes and transitions now, their facts now and as stored."""
    ids = changed.tolist()
    history = read_history(portfolio, item_ids=ids)
    scopes = item_scopes(portfolio, item_ids=ids)
    transitions, _ = transitions_frame(history, scopes, mappings)
    return ChangedItems(
        history=history,
        scopes=scopes,
        transitions=transitions,
        new_facts=item_flow_facts(transitions, as_of=as_of),
        old_facts=stored_facts(ids).set_index("item_id"),
        mappings=mappings,
    )


# --- DORA: what changed since the previous run ----------------------------------------------------

_PROD = (
    "{d}.successful AND lower({d}.environment) = 'production'"
    " AND {d}.finished_at >= {earliest} AND {d}.finished_at < {end}"
)


def _prod(alias: str) -> sql.Composable:
    """SQL true for a successful production deployment ``alias`` finished within the accepted
    dates (what :func:`~valuestreams.metrics.dora.preparation.known_deployments` keeps)."""
    return sql.SQL(_PROD).format(
        d=sql.SQL(alias), earliest=sql.Literal(EARLIEST_MOMENT), end=sql.Literal(END_MOMENT)
    )


def _rows(query: sql.Composable) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def delivery_log(portfolio: Portfolio, *, read_before: Sequence[Sequence[int]] = ()) -> np.ndarray:
    """The portfolio's :class:`~valuestreams.models.DeliveryChange` rows stored now but those
    the previous run read (``read_before``: its :attr:`MetricRun.delivery_log`), as the
    (first, last) ids of runs of consecutive ids (an (n, 2) array; every id of a run is one of
    the rows read here, so a row committed later with a lower id is in none): what a run takes
    into account. A bulk load logs many rows: their runs are few."""
    before = np.array(read_before, dtype=np.int64).reshape(-1, 2)
    found = _rows(
        sql.SQL(
            "SELECT min(id), max(id) FROM (SELECT id, id - row_number() OVER (ORDER BY id) AS run"
            " FROM valuestreams_deliverychange l WHERE portfolio_id = {} AND NOT {}) q"
            " GROUP BY run ORDER BY 1"
        ).format(sql.Literal(portfolio.pk), log_rows(before))
    )
    return np.array(found, dtype=np.int64).reshape(-1, 2)


def log_rows(runs: np.ndarray) -> sql.Composable:
    """SQL true for a DeliveryChange row ``l`` among the id ``runs`` of :func:`delivery_log`."""
    return sql.SQL(
        "EXISTS (SELECT 1 FROM unnest({}::bigint[], {}::bigint[]) r(lo, hi)"
        " WHERE l.id BETWEEN r.lo AND r.hi)"
    ).format(sql.Literal(runs[:, 0].tolist()), sql.Literal(runs[:, 1].tolist()))


@dataclass(frozen=True)
class DeliveryChanges:
    """What can have changed DORA rows since the previous run: ``events`` (``team_id``,
    ``value_stream_id`` — NO_SCOPE where none — and ``at``, UTC: the earliest moment of that
    team's records that a change reaches; see :func:`delivery_changes`) and ``moved``: the value
    streams a team left or joined."""

    events: pd.DataFrame
    moved: frozenset[int]


def delivery_changes(
    portfolio: Portfolio, log: np.ndarray, *, after: datetime, until: datetime
) -> DeliveryChanges:
    """The moments DORA records reach for the logged versions ``log`` (:func:`delivery_log`) and
    the records that
    time made known between the previous run's as_of ``after`` and ``until``, per team (of the
    record; its value stream is the team's now): a deployment's finish; an incident's creation
    (its resolution is later) and the finish of the deployment it names (every logged version
    of it too); a change's deployment's finish; the creation of every incident naming a logged
    deployment; the same for the deployments finished, changes committed and incidents created
    or resolved in (after, until]. Grouped per (team, value stream) to the earliest."""
    p = sql.Literal(portfolio.pk)
    logged = sql.SQL(
        "SELECT * FROM valuestreams_deliverychange l WHERE l.portfolio_id = {} AND {}"
    ).format(p, log_rows(log))
    a, u = sql.Literal(after), sql.Literal(until)
    query = sql.SQL(
        """
        WITH l AS ({logged}),
        ev(team_id, at) AS (
            SELECT team_id, least(at, resolved_at) FROM l
            WHERE record IN ('deployment', 'incident')
            UNION ALL
            SELECT CASE WHEN l.record = 'change' THEN l.team_id ELSE d.team_id END, d.finished_at
            FROM l JOIN valuestreams_deployment d ON d.id = l.deployment_id
            WHERE l.record IN ('change', 'incident')
            UNION ALL
            SELECT CASE WHEN l.record = 'change' THEN l.team_id ELSE ld.team_id END, ld.at
            FROM l JOIN l ld ON ld.record = 'deployment' AND ld.record_id = l.deployment_id
            WHERE l.record IN ('change', 'incident')
            UNION ALL
            SELECT i.team_id, least(i.created_at, i.resolved_at) FROM valuestreams_incident i
            WHERE i.portfolio_id = {p}
              AND i.deployment_id IN (SELECT record_id FROM l WHERE record = 'deployment')
            UNION ALL
            SELECT team_id, finished_at FROM valuestreams_deployment
            WHERE portfolio_id = {p} AND finished_at > {a} AND finished_at <= {u}
            UNION ALL
            SELECT c.team_id, d.finished_at
            FROM valuestreams_change c JOIN valuestreams_deployment d ON d.id = c.deployment_id
            WHERE c.portfolio_id = {p} AND c.first_commit_at > {a} AND c.first_commit_at <= {u}
            UNION ALL
            SELECT i.team_id, least(i.created_at, i.resolved_at) FROM valuestreams_incident i
            WHERE i.portfolio_id = {p} AND i.created_at > {a} AND i.created_at <= {u}
            UNION ALL
            SELECT i.team_id, least(i.created_at, i.resolved_at) FROM valuestreams_incident i
            WHERE i.portfolio_id = {p} AND i.resolved_at > {a} AND i.resolved_at <= {u}
            UNION ALL
            SELECT d.team_id, d.finished_at
            FROM valuestreams_incident i JOIN valuestreams_deployment d ON d.id = i.deployment_id
            WHERE i.portfolio_id = {p}
              AND ((i.created_at > {a} AND i.created_at <= {u})
                   OR (i.resolved_at > {a} AND i.resolved_at <= {u}))
        )
        SELECT coalesce(ev.team_id, -1), coalesce(t.value_stream_id, -1), min(ev.at)
        FROM ev LEFT JOIN teams_productteam t ON t.id = ev.team_id
        WHERE ev.at IS NOT NULL GROUP BY 1, 2
        """
    ).format(logged=logged, p=p, a=a, u=u)
    found = _rows(query)
    moved = _rows(
        sql.SQL(
            "SELECT DISTINCT l.value_stream_id FROM ({}) l"
            " WHERE l.record = 'team' AND l.value_stream_id IS NOT NULL"
        ).format(logged)
    )
    events = pd.DataFrame(
        {
            "team_id": np.array([r[0] for r in found], dtype=np.int64),
            "value_stream_id": np.array([r[1] for r in found], dtype=np.int64),
            "at": pd.to_datetime(pd.Series([r[2] for r in found], dtype=object), utc=True),
        }
    )
    return DeliveryChanges(events, frozenset(int(r[0]) for r in moved))


def deployments_share(portfolio: Portfolio, streams: Iterable[int]) -> float:
    """The share of the portfolio's deployments whose team is in one of ``streams`` now."""
    found = _rows(
        sql.SQL(
            "SELECT count(*) FILTER (WHERE t.value_stream_id = ANY({}::bigint[])), count(*)"
            " FROM valuestreams_deployment d LEFT JOIN teams_productteam t ON t.id = d.team_id"
            " WHERE d.portfolio_id = {}"
        ).format(sql.Literal([int(s) for s in streams]), sql.Literal(portfolio.pk))
    )[0]
    return int(found[0]) / max(int(found[1]), 1)


def latest_deployments_before(
    portfolio: Portfolio,
    *,
    teams: pd.Series,
    streams: pd.Series,
    before: datetime | None,
) -> tuple[pd.Series, pd.Series, pd.Timestamp | None]:
    """The finish of the latest successful production deployment strictly before a moment: of
    each team in ``teams`` (team id → moment), of each value stream in ``streams`` (any of its
    teams), and of the portfolio (before ``before``); NaT / None where there is none."""
    p = sql.Literal(portfolio.pk)

    def by_key(rows: list, index: pd.Index) -> pd.Series:
        """(key, moment) rows as a series of UTC moments on `index` (NaT where none)."""
        at = pd.to_datetime(pd.Series([r[1] for r in rows], dtype=object), utc=True)
        return pd.Series(at.to_numpy(), index=[r[0] for r in rows]).reindex(index)

    def pairs(series: pd.Series) -> tuple[sql.Composable, sql.Composable]:
        return (
            sql.SQL("{}::bigint[]").format(sql.Literal([int(i) for i in series.index])),
            sql.SQL("{}::timestamptz[]").format(sql.Literal([v.to_pydatetime() for v in series])),
        )

    found_teams = pd.Series(pd.NaT, index=teams.index, dtype=UTC)
    if len(teams):
        ids, at = pairs(teams)
        rows = _rows(
            sql.SQL(
                "SELECT b.k, (SELECT max(d.finished_at) FROM valuestreams_deployment d"
                " WHERE d.portfolio_id = {p} AND d.team_id = b.k AND {prod} AND d.finished_at < b.t)"
                " FROM unnest({ids}, {at}) b(k, t)"
            ).format(p=p, prod=_prod("d"), ids=ids, at=at)
        )
        found_teams = by_key(rows, teams.index)
    found_streams = pd.Series(pd.NaT, index=streams.index, dtype=UTC)
    if len(streams):
        ids, at = pairs(streams)
        rows = _rows(
            sql.SQL(
                "SELECT b.k, (SELECT max((SELECT max(d.finished_at) FROM valuestreams_deployment d"
                " WHERE d.portfolio_id = {p} AND d.team_id = t.id AND {prod}"
                " AND d.finished_at < b.t)) FROM teams_productteam t WHERE t.value_stream_id = b.k)"
                " FROM unnest({ids}, {at}) b(k, t)"
            ).format(p=p, prod=_prod("d"), ids=ids, at=at)
        )
        found_streams = by_key(rows, streams.index)
    whole = None
    if before is not None:
        row = _rows(
            sql.SQL(
                "SELECT max(d.finished_at) FROM valuestreams_deployment d"
                " WHERE d.portfolio_id = {p} AND {prod} AND d.finished_at < {b}"
            ).format(p=p, prod=_prod("d"), b=sql.Literal(before))
        )[0][0]
        whole = None if row is None else pd.Timestamp(row).tz_convert("UTC")
    return found_teams, found_streams, whole


def incidents_from(
    portfolio: Portfolio,
    log: np.ndarray,
    *,
    teams: pd.Series,
    streams: pd.Series,
    since: datetime | None,
) -> tuple[pd.Series, pd.Series, bool]:
    """Whether an incident may be linked to another deployment because of a change from a
    moment on: per team in ``teams`` (team id → moment), per value stream in ``streams``, and
    for the portfolio (from ``since``), whether one of its incidents was created from then on,
    or a version of one of its incidents is among the logged ones ``log``."""
    p = sql.Literal(portfolio.pk)
    logged = sql.SQL(
        "SELECT coalesce(l.team_id, -1) AS team_id, coalesce(t.value_stream_id, -1) AS vs"
        " FROM valuestreams_deliverychange l LEFT JOIN teams_productteam t ON t.id = l.team_id"
        " WHERE l.portfolio_id = {} AND l.record = 'incident' AND {}"
    ).format(p, log_rows(log))
    found = _rows(sql.SQL("SELECT DISTINCT team_id, vs FROM ({}) q").format(logged))
    logged_teams = {r[0] for r in found}
    logged_streams = {r[1] for r in found}

    def flags(series: pd.Series, condition: str, mine: set[int]) -> pd.Series:
        if not len(series):
            return pd.Series([], dtype=bool)
        rows = _rows(
            sql.SQL(
                "SELECT b.k, EXISTS (SELECT 1 FROM valuestreams_incident i"
                " LEFT JOIN teams_productteam t ON t.id = i.team_id"
                " WHERE i.portfolio_id = {p} AND " + condition + " AND i.created_at >= b.t)"
                " FROM unnest({ids}::bigint[], {at}::timestamptz[]) b(k, t)"
            ).format(
                p=p,
                ids=sql.Literal([int(i) for i in series.index]),
                at=sql.Literal([v.to_pydatetime() for v in series]),
            )
        )
        out = pd.Series({int(r[0]): bool(r[1]) for r in rows}, dtype=bool).reindex(series.index)
        return out | series.index.isin(list(mine))

    whole = False
    if since is not None:
        whole = bool(found) or bool(
            _rows(
                sql.SQL(
                    "SELECT EXISTS (SELECT 1 FROM valuestreams_incident i"
                    " WHERE i.portfolio_id = {} AND i.created_at >= {})"
                ).format(p, sql.Literal(since))
            )[0][0]
        )
    return (
        flags(teams, "i.team_id = b.k", logged_teams),
        flags(streams, "t.value_stream_id = b.k", logged_streams),
        whole,
    )


def open_incidents(
    portfolio: Portfolio, *, resolved_from: datetime, created_before: datetime, as_of: datetime
) -> pd.DataFrame:
    """The portfolio's incidents known at ``as_of`` created before ``created_before`` and
    resolved from ``resolved_from`` to ``as_of``: ``team_id``, ``value_stream_id`` (NO_SCOPE
    where none), ``created_at``, ``resolved_at``."""
    rows = _rows(
        sql.SQL(
            "SELECT coalesce(r.team_id, -1), coalesce(t.value_stream_id, -1), r.created_at,"
            " r.resolved_at FROM valuestreams_incident r LEFT JOIN teams_productteam t ON t.id = r.team_id"
            " WHERE r.portfolio_id = {p} AND {dated} AND r.created_at < {c}"
            " AND r.created_at <= {a} AND r.resolved_at >= {f} AND r.resolved_at <= {a}"
        ).format(
            p=sql.Literal(portfolio.pk),
            dated=_incident_dated(),
            c=sql.Literal(created_before),
            a=sql.Literal(as_of),
            f=sql.Literal(resolved_from),
        )
    )
    return pd.DataFrame(
        {
            "team_id": np.array([r[0] for r in rows], dtype=np.int64),
            "value_stream_id": np.array([r[1] for r in rows], dtype=np.int64),
            "created_at": pd.to_datetime(pd.Series([r[2] for r in rows], dtype=object), utc=True),
            "resolved_at": pd.to_datetime(pd.Series([r[3] for r in rows], dtype=object), utc=True),
        }
    )


def narrowed_delivery_frames(
    portfolio: Portfolio, *, bounds: pd.Series, default: datetime | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The DORA frames (as :func:`deployments_frame`, :func:`changes_frame` and
    :func:`incidents_frame`) of the records from a moment on, the moment of each record being
    that of its team (``bounds``: team id, NO_SCOPE for none → moment; ``default`` for the
    others, None: none of theirs), with what links them right: incidents created from their
    team's moment or naming a deployment finished from its team's; changes whose deployment
    finished from the change's team's moment; deployments finished from their team's moment,
    the latest successful production one of each of those teams before it, and those the read
    changes and incidents name."""
    keys = sql.Literal([int(k) for k in bounds.index])
    moments = sql.Literal([pd.Timestamp(v).to_pydatetime() for v in bounds])

    def join(alias: str) -> sql.Composable:
        return sql.SQL(
            "LEFT JOIN unnest({}::bigint[], {}::timestamptz[]) b(k, bound)"
            " ON b.k = coalesce({}.team_id, -1)"
        ).format(keys, moments, sql.SQL(alias))

    default_sql = sql.SQL("'infinity'::timestamptz") if default is None else sql.Literal(default)
    # the earliest moment of all: a condition an index on (portfolio, time) serves
    moments_all = [pd.Timestamp(v).to_pydatetime() for v in bounds]
    if default is not None:
        moments_all.append(default)
    lowest = sql.Literal(min(moments_all)) if moments_all else sql.SQL("'infinity'::timestamptz")
    p = sql.Literal(portfolio.pk)
    bound = sql.SQL("coalesce(b.bound, {})").format(default_sql)
    from_bound = sql.SQL("{column} >= {lowest} AND {column} >= {bound}")
    # without a default, only the teams with a moment: a condition the (team, time) indexes serve
    listed = (
        sql.SQL("TRUE")
        if default is not None
        else sql.SQL("r.team_id = ANY({}::bigint[])").format(keys)
    )
    recent_deployments = sql.SQL(
        "SELECT r.id FROM valuestreams_deployment r {join} WHERE r.portfolio_id = {p}"
        " AND {listed} AND {cond}"
    ).format(
        join=join("r"),
        p=p,
        listed=listed,
        cond=from_bound.format(column=sql.SQL("r.finished_at"), lowest=lowest, bound=bound),
    )
    incident_dated = sql.SQL("{} AND (({} AND {}) OR r.deployment_id IN ({}))").format(
        _incident_dated(),
        listed,
        from_bound.format(column=sql.SQL("r.created_at"), lowest=lowest, bound=bound),
        recent_deployments,
    )
    # a change counts in its deployment's window: read where that deployment finished from the
    # change's team's moment
    change_join = sql.SQL("{} JOIN valuestreams_deployment dd ON dd.id = r.deployment_id").format(
        join("r")
    )
    change_dated = sql.SQL(
        "{} AND {} AND r.deployment_id IN (SELECT d.id FROM valuestreams_deployment d"
        " WHERE d.portfolio_id = {} AND d.finished_at >= {}) AND {}"
    ).format(
        in_date_range("r.first_commit_at"),
        listed,
        p,
        lowest,
        from_bound.format(column=sql.SQL("dd.finished_at"), lowest=lowest, bound=bound),
    )
    changes = _delivery_frame(
        "valuestreams_change", CHANGE_COLUMNS, change_dated, portfolio, change_join
    )
    incidents = _delivery_frame(
        "valuestreams_incident", INCIDENT_COLUMNS, incident_dated, portfolio, join("r")
    )
    # each team's latest successful production deployment before its moment (every one finished
    # then: the link takes the highest id)
    latest_of = sql.SQL(
        "WITH m AS MATERIALIZED (SELECT s.team_id, (SELECT max(d2.finished_at)"
        " FROM valuestreams_deployment d2 WHERE d2.portfolio_id = {p} AND {team2} AND {prod2}"
        " AND d2.finished_at < coalesce(b.bound, {default})) AS latest FROM ({teams}) s {join})"
        " SELECT d.id FROM m JOIN valuestreams_deployment d ON {team} AND d.finished_at = m.latest"
        " WHERE d.portfolio_id = {p} AND {prod}"
    )
    if default is None:  # the teams with a moment
        teams = sql.SQL("SELECT k AS team_id FROM unnest({}::bigint[]) k WHERE k <> -1").format(
            keys
        )
    else:
        teams = sql.SQL(
            "SELECT t.id AS team_id FROM teams_productteam t JOIN valuestreams_valuestream vs"
            " ON vs.id = t.value_stream_id WHERE vs.portfolio_id = {}"
        ).format(p)
    parts = [
        latest_of.format(
            p=p,
            team=sql.SQL("d.team_id = m.team_id"),
            team2=sql.SQL("d2.team_id = s.team_id"),
            prod=_prod("d"),
            prod2=_prod("d2"),
            default=default_sql,
            teams=teams,
            join=join("s"),
        )
    ]
    if default is not None or NO_SCOPE in bounds.index:
        parts.append(
            latest_of.format(
                p=p,
                team=sql.SQL("d.team_id IS NULL"),
                team2=sql.SQL("d2.team_id IS NULL"),
                prod=_prod("d"),
                prod2=_prod("d2"),
                default=default_sql,
                teams=sql.SQL("SELECT NULL::bigint AS team_id"),
                join=join("s"),
            )
        )
    latest = sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(part) for part in parts)
    # and those the read changes and incidents name
    named = np.unique(
        np.concatenate(
            [
                frame["deployment_id"].dropna().to_numpy(dtype=np.int64)
                for frame in (changes, incidents)
            ]
        )
    )
    deployment_dated = sql.SQL(
        "{} AND (({} AND {}) OR r.id IN ({}) OR r.id = ANY({}::bigint[]))"
    ).format(
        in_date_range("r.finished_at"),
        listed,
        from_bound.format(column=sql.SQL("r.finished_at"), lowest=lowest, bound=bound),
        latest,
        sql.Literal(named.tolist()),
    )
    deployments = _delivery_frame(
        "valuestreams_deployment", DEPLOYMENT_COLUMNS, deployment_dated, portfolio, join("r")
    )
    return deployments, changes, incidents


def stored_dora_rows_of(
    portfolio_id: int, *, teams: Sequence[int], streams: Sequence[int], after: datetime
) -> pd.DataFrame:
    """As :func:`stored_dora_rows`, only of the given teams and value streams and the portfolio,
    of the windows ending after ``after``."""
    where = sql.SQL(
        "portfolio_id = {p} AND window_end > {after} AND (scope_kind = 'portfolio'"
        " OR (scope_kind = 'team' AND scope_id = ANY({teams}::bigint[]))"
        " OR (scope_kind = 'value_stream' AND scope_id = ANY({streams}::bigint[])))"
    ).format(
        p=sql.Literal(portfolio_id),
        after=sql.Literal(after),
        teams=sql.Literal([int(t) for t in teams]),
        streams=sql.Literal([int(s) for s in streams]),
    )
    values = {"input_hash": ("coalesce(input_hash, 0)", np.int64)}
    return _stored_rows("valuestreams_dorametric", where, values)


def incident_caveats(
    portfolio: Portfolio, *, as_of: datetime, max_gap: pd.Timedelta | None
) -> dict[str, int]:
    """What :func:`~valuestreams.recompute.dora.dora_caveats` counts, counted by the database:
    the incidents known at ``as_of`` and those linked to no deployment (none named that is a
    successful production one of the portfolio finished by then, and none finished at most
    ``max_gap`` before the incident's creation)."""
    p = sql.Literal(portfolio.pk)
    if max_gap is None:  # any deployment finished by the incident's creation: the first one
        inferred = sql.SQL(
            "i.created_at >= (SELECT min(d.finished_at) FROM valuestreams_deployment d"
            " WHERE d.portfolio_id = {p} AND {prod})"
        ).format(p=p, prod=_prod("d"))
    else:
        inferred = sql.SQL(
            "EXISTS (SELECT 1 FROM valuestreams_deployment d WHERE d.portfolio_id = {p}"
            " AND {prod} AND d.finished_at <= i.created_at AND d.finished_at >= i.created_at - {gap})"
        ).format(p=p, prod=_prod("d"), gap=sql.Literal(pd.Timedelta(max_gap).to_pytimedelta()))
    row = _rows(
        sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS ("
            " SELECT 1 FROM valuestreams_deployment d WHERE d.id = i.deployment_id"
            " AND d.portfolio_id = {p} AND {prod} AND d.finished_at <= {a})"
            " AND NOT coalesce({inferred}, FALSE))"
            " FROM valuestreams_incident i WHERE i.portfolio_id = {p} AND {dated}"
            " AND i.created_at <= {a}"
        ).format(
            p=p,
            prod=_prod("d"),
            a=sql.Literal(as_of),
            inferred=inferred,
            dated=_incident_dated("i"),
        )
    )[0]
    return {"incidents": int(row[0]), "incidents_unlinked": int(row[1])}
