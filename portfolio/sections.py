"""Page sections kept per data version, so that a page read again costs its queries' worth, not
its frames, charts and cells again.

Most sections of the portfolio, investment and outcomes pages change only when someone writes:
a recompute publishes, a budget or decision is saved, a key result is checked in, a signal is
evaluated. A statement-level trigger on every table the pages read (all but `UNTRACKED`) adds one
row per writing transaction to `DataChange`; the **data version** is the database, the prune
epoch, the number of those rows and the largest id, read in one query that becomes visible with
the data itself (a transaction's row commits with its writes, so a version never names data that
is not there yet). `kept(name, key, build, now=…)` returns what `build()` returned for the same
key and version in this process, or builds it.

Time alone changes some sections too. Keys name the portfolio's local date where a section
depends on it, the next acknowledgement expiry (and any other registered clock) ends a kept
section exactly, and nothing is kept longer than `MAX_AGE`, which bounds what a clock nobody
registered (a window ageing out of "the last 124 days", an initiative's days in progress) can
lag. Inside a transaction nothing is kept or reused (its own uncommitted writes are not a
version others see); with the setting `STEWARD_CHECK_KEPT_READS` (on in the tests) a section
that reads an untracked table fails loudly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction

T = TypeVar("T")
logger = logging.getLogger(__name__)

MAX_AGE = dt.timedelta(minutes=5)
KEEP_HOURS = 1  # data-change rows older than this are pruned (hourly, by a beat task)

# Written often without changing what a page shows (sessions, sign-in throttling, job progress
# and heartbeats, the digest log; the raw work items, status changes, deployments, changes and
# incidents, which pages show only once a recompute has published them) or the version's own
# tables: no trigger. A kept section must not read them (checked in the tests).
UNTRACKED = frozenset(
    {
        "valuestreams_workitem",
        "valuestreams_statuschange",
        "valuestreams_supersededstatuschange",
        "valuestreams_deliverychange",
        "valuestreams_deployment",
        "valuestreams_change",
        "valuestreams_incident",
        "django_migrations",
        "django_session",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        "valuestreams_recomputejob",
        "valuestreams_importjob",
        "leanpmo_signalevaluation",
        "leanpmo_digestdelivery",
        "portfolio_datachange",
        "portfolio_datachangeepoch",
    }
)
TRIGGER = "steward_data_changed"

# SQL giving the next moment after %(now)s at which time alone changes a kept section
_CLOCKS: list[str] = []


def register_clock(sql: str) -> None:
    """Add a clock: a scalar SELECT of the next timestamp after ``%(now)s`` at which a kept
    section would read differently (an acknowledgement that expires, say), or NULL."""
    if sql not in _CLOCKS:
        _CLOCKS.append(sql)


@dataclass(frozen=True)
class DataVersion:
    key: tuple[int, int, int, int]  # database, epoch, changes, last change
    next_clock: dt.datetime | None


def data_version(now: dt.datetime) -> DataVersion:
    """The data version as this connection sees it, and the next registered clock (one query)."""
    clocks = ", ".join(f"({sql})" for sql in _CLOCKS) or "NULL::timestamptz"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),"
            " COALESCE((SELECT n FROM portfolio_datachangeepoch WHERE id = 1), 0),"
            " count(*), COALESCE(max(id), 0),"
            f" LEAST({clocks}, NULL::timestamptz)"
            " FROM portfolio_datachange",
            {"now": now},
        )
        database, epoch, changes, last, next_clock = cursor.fetchone()
    return DataVersion((int(database), int(epoch), int(changes), int(last)), next_clock)


_read = threading.local()


def _version_at(now: dt.datetime) -> DataVersion:
    """The data version for a request's `now`: read once, shared by the request's sections (a
    view passes them all the same `now`)."""
    memo = getattr(_read, "memo", None)
    if memo is not None and memo[0] is now and memo[1] is connection.connection:
        return memo[2]
    version = data_version(now)
    _read.memo = (now, connection.connection, version)
    return version


class KeptSections:
    """What `kept` keeps in this process: the least recently used go first."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple, tuple[Any, dt.datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, now: dt.datetime) -> tuple[bool, Any]:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return False, None
            value, until = found
            if now >= until:
                del self._items[key]
                return False, None
            self._items.move_to_end(key)
            return True, value

    def put(self, key: tuple, value: Any, until: dt.datetime) -> None:
        with self._lock:
            self._items[key] = (value, until)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


KEPT = KeptSections()


class SharedSections:
    """The same sections shared between processes through the cache (Redis): one gunicorn
    worker builds a section after a write, the others read it. A cache that fails is left alone
    for `PAUSE` (sections are then built by each process) and never fails a page."""

    PAUSE = dt.timedelta(seconds=30)

    def __init__(self) -> None:
        self._paused_until = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def key(full_key: tuple) -> str:
        return "steward:section:" + hashlib.sha1(repr(full_key).encode()).hexdigest()

    def _usable(self) -> bool:
        return time.monotonic() >= self._paused_until

    def _pause(self, exc: Exception) -> None:
        logger.warning("page sections not shared for %s: %s", self.PAUSE, exc)
        with self._lock:
            self._paused_until = time.monotonic() + self.PAUSE.total_seconds()

    def get(self, key: str) -> tuple[bool, Any]:
        if not self._usable():
            return False, None
        try:
            found = cache.get(key, _MISSING)
        except Exception as exc:  # any cache failure: build it here
            self._pause(exc)
            return False, None
        return (False, None) if found is _MISSING else (True, found)

    def put(self, key: str, value: Any, lasts: dt.timedelta) -> None:
        seconds = int(lasts.total_seconds())
        if seconds < 1 or not self._usable():
            return
        try:
            cache.set(key, value, seconds)
        except Exception as exc:
            self._pause(exc)


_MISSING = object()
SHARED = SharedSections()


def kept(name: str, key: tuple, build: Callable[[], T], *, now: dt.datetime) -> T:
    """`build()`, or what it returned for the same `name`, `key` and data version in this process
    (until the next registered clock, at most `MAX_AGE`). `key` names everything else the section
    depends on: the portfolio, the local date, the viewer's money rights, the sort. What `build`
    returns is shared between requests and threads: plain data, lists and frames nobody changes."""
    if connection.in_atomic_block or not getattr(settings, "STEWARD_KEEP_SECTIONS", True):
        return _checked(build)
    version = _version_at(now)
    full_key = (name, *key, *version.key)
    found, value = KEPT.get(full_key, now)
    if found:
        return value
    until = now + MAX_AGE
    if version.next_clock is not None:
        until = min(until, version.next_clock)
    shared = SHARED.key(full_key)
    found, stored = SHARED.get(shared)
    if found and stored[1] > now:  # built by another process: it ends when that one's does
        value, until = stored
    else:
        value = _checked(build)
        SHARED.put(shared, (value, until), until - now)
    KEPT.put(full_key, value, until)
    return value


def _checked(build: Callable[[], T]) -> T:
    if not getattr(settings, "STEWARD_CHECK_KEPT_READS", False):
        return build()
    with connection.execute_wrapper(_refuse_untracked):
        return build()


def _refuse_untracked(execute, sql, params, many, context):
    for table in UNTRACKED:
        if f'"{table}"' in sql:
            raise AssertionError(
                f"a kept page section read {table}, which has no data-change trigger: "
                "add the trigger (remove it from portfolio.sections.UNTRACKED) or build it fresh"
            )
    return execute(sql, params, many, context)


# --- the triggers and the pruning -----------------------------------------------------------------


def install_triggers(using: str = "default", **_: Any) -> None:
    """After every migrate: a data-change trigger on every table but the untracked ones (tables
    added by later migrations get theirs the same way). Does nothing before the function exists."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT to_regproc(%s) IS NOT NULL", [TRIGGER])
        if not cursor.fetchone()[0]:
            return
        tables = conn.introspection.table_names(cursor, include_views=False)
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s",
            [TRIGGER],
        )
        have = {row[0] for row in cursor.fetchall()}
        for table in tables:
            quoted = conn.ops.quote_name(table)
            if table in UNTRACKED:
                if table in have:
                    cursor.execute(f"DROP TRIGGER {TRIGGER} ON {quoted}")
            elif table not in have:
                cursor.execute(
                    f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                    f" ON {quoted} FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
                )


def prune_data_changes(now: dt.datetime) -> int:
    """Forget data changes older than `KEEP_HOURS` and start a new epoch in the same transaction
    (so that the count of changes never repeats for different data). Returns how many went."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM portfolio_datachange WHERE at < %s",
            [now - dt.timedelta(hours=KEEP_HOURS)],
        )
        gone = cursor.rowcount
        cursor.execute(
            "INSERT INTO portfolio_datachangeepoch (id, n) VALUES (1, 1)"
            " ON CONFLICT (id) DO UPDATE SET n = portfolio_datachangeepoch.n + 1"
        )
    return gone
