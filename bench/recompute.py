"""Benchmark of the metrics engine on a real organisation's typical day (not a test): prints figures
and ratios against the targets of issue 17.

    .venv/bin/python bench/recompute.py                      # 200k and 2M work items, 5 repeats
    .venv/bin/python bench/recompute.py --smoke              # 5,000 items, 1 repeat, < 1 minute
    .venv/bin/python bench/recompute.py --sizes 5000,20000 --repeats 3 --workers-demo

For each size it builds a synthetic organisation in its own PostgreSQL database (default: the
name of DATABASE_URL's database + ``_recompute``, on the same server; dropped and re-created per
size), loaded with COPY:

- one team per 1,400 work items (seven people finishing ~200 items each over two years: 20M items
  is a 100,000-person enterprise), ten teams per value stream;
- work items with a realistic type mix, lognormal time in each status, reopenings, cancellations,
  blocked spells, ~6 status changes each over two years;
- deployments: each team's rate drawn from a skewed (lognormal) distribution clipped to once a
  month .. six times a day; 3 % unsuccessful, 6 % rework; each with 1 + Poisson(2) changes
  (commits / pull requests, lognormal lead time, median 20 h; a few never deployed);
- incidents: each team's change failure rate drawn from Beta(1.2, 7) clipped to 2 .. 30 %; an
  incident per failed deployment, 85 % linked to it (the rest left for the engine to infer),
  lognormal recovery (median 1 h).

Then, in one run and side by side, it measures:

- the floor: a plain scan of the rows a recompute reads (``COPY (SELECT ...) TO STDOUT`` of every
  status change, deployment, change and incident of the portfolio; nothing parsed; best of two);
- a first full recompute (empty tables, every row written) and a full one over published rows;
- two days, each starting with the nightly full run at 00:30 local (as the hourly beat requests
  it after the portfolio's own midnight), its events written over the next 22 hours through the
  real ingest services (the API's work item and delivery ingest, ``team_update``), then
  recomputed incrementally at 23:30 local with exactly what the services asked for (the queued
  RecomputeJob's items and teams) — the largest incremental run of the day: every event since
  the nightly run in one run:

  * the best case: status changes appended to 0.4 % of the items, the day's new items;
  * the typical day: the same, plus late status changes (stamped 1-10 days back) and re-sent
    histories (~5 % of the day's item events), a few items moved to a team of another value
    stream, one team moved to another value stream, the day's deployments, changes and incidents,
    re-sent and corrected deployments, one back-dated incident, retries of part of the day's
    batch (no-ops for the idempotent ingest);

  each day's incremental run is paired with a full run at the same as_of measured right after it,
  both from the same published rows (restored before each run), each starting right after a
  checkpoint; the share is the median of the pairs' shares, and every column of every published
  table (item facts, flow, time-in-status and DORA rows) is compared between the two;
- every measured recompute runs in a fresh child process (multiprocessing, spawn): its peak RSS
  (``ru_maxrss``, which only grows) minus its own RSS when idle (Django and the engine imported,
  connected) is the run's memory;
- ingest through the bulk API (one request of many items) vs one item per request.

With two sizes or more it projects a 20M-item organisation by fitting the growth between the
two largest (log-log slope). ``--workers-demo`` starts two Celery workers on the bench's own
Redis database and queue and shows two portfolios recomputed at once, and a second job of one
portfolio waiting for the first (the per-portfolio lock).

Isolation: the Celery broker and cache are Redis database ``--redis-db`` (default 15) of
REDIS_URL's server, with the queue ``steward-bench-recompute`` and a key prefix of its own; only
that queue is ever purged. The configured REDIS_URL's database and the configured PostgreSQL
database are never touched.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# the history ends, and each measured day starts, with the nightly full run at 00:30 local
# (Europe/Zurich, UTC+2 in June), as the hourly beat requests it after the portfolio's midnight;
# the day's events arrive over the next 22 hours and its incremental run is at 23:30 local
AS_OF = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)
DAY = timedelta(days=1)
EVENTS = timedelta(hours=22)  # the day's events: from the nightly run on, for 22 hours
RUN_AT = timedelta(hours=23)  # the day's incremental run, after its events
HISTORY_DAYS = 730
ITEMS_PER_TEAM = 1400
TEAMS_PER_STREAM = 10
QUEUE = "steward-bench-recompute"
PROJECTED = 20_000_000
TYPES = np.array(["Story", "Bug", "Tech Debt", "Risk"])
TYPE_MIX = [0.55, 0.25, 0.12, 0.08]
# per path: statuses in order; chosen with the probabilities below
PATHS = [
    ["To Do", "In Progress", "Ready for Review", "In Review", "Ready to Deploy", "Done"],
    ["To Do", "In Progress", "In Review", "In Progress", "In Review", "Done"],
    ["To Do", "In Progress", "In Review", "Done", "In Progress", "Done"],  # reopened
    ["To Do", "In Progress", "Ready for Review", "In Review", "Won't Do"],  # canceled
    ["To Do", "Ready for Review", "In Progress", "In Review", "Done", "Closed"],
]
PATH_P = [0.42, 0.3, 0.08, 0.07, 0.13]
MEAN_HOURS = {
    "To Do": 60,
    "In Progress": 30,
    "Ready for Review": 14,
    "In Review": 8,
    "Ready to Deploy": 20,
    "Done": 300,
    "Won't Do": 1,
    "Closed": 1,
}
NEXT_STATUS = ["In Progress", "In Review", "Done", "Ready to Deploy"]
# the published tables compared between an incremental and a full run, with their natural keys
COMPARED = {
    "valuestreams_workitemfact": ["item_id"],
    "valuestreams_flowmetric": ["scope_kind", "scope_id", "grain", "window_start", "item_type"],
    "valuestreams_statustime": ["scope_kind", "scope_id", "grain", "window_start", "status"],
    "valuestreams_dorametric": ["scope_kind", "scope_id", "grain", "window_start"],
}
# what a run publishes (restored before each measured run), with each table's primary key
DERIVED = {
    "valuestreams_workitemfact": "item_id",
    "valuestreams_flowmetric": "id",
    "valuestreams_statustime": "id",
    "valuestreams_dorametric": "id",
    "valuestreams_metricrun": "id",
}


# --- isolation: our own PostgreSQL database, Redis database and queue ------------------------------


def database_url(name: str) -> str:
    base = urlparse(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x"))
    return urlunparse(base._replace(path=f"/{name}"))


def default_database() -> str:
    configured = urlparse(os.environ.get("DATABASE_URL", "")).path.strip("/") or "steward"
    return f"{configured}_recompute"


def isolate(database: str, redis_db: int) -> str:
    """Point this process and its children at the bench's database, Redis database and queue
    (set before Django is set up). Returns the Redis URL used."""
    configured = urlparse(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    if configured.path.strip("/") == str(redis_db):
        raise SystemExit(
            f"--redis-db {redis_db} is the configured REDIS_URL's database; pick another"
        )
    redis_url = urlunparse(configured._replace(path=f"/{redis_db}"))
    os.environ["DATABASE_URL"] = database_url(database)
    os.environ["REDIS_URL"] = redis_url
    os.environ["STEWARD_CELERY_QUEUE"] = QUEUE
    os.environ["STEWARD_REDIS_PREFIX"] = f"{QUEUE}:"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    return redis_url


def migrations_fingerprint() -> str:
    """A digest of every migration file: the migrated template is reused while it is the same."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def recreate_database(name: str) -> None:
    """Drop ``name`` and create it as a copy of a migrated, empty template (``name`` +
    ``_template``, migrated again only when a migration file changed: migrating takes ~20 s)."""
    import psycopg

    template, fingerprint = f"{name}_template", migrations_fingerprint()
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        found = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [template],
        ).fetchone()
        if found is None or found[0] != fingerprint:
            admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{template}"')
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
                cwd=ROOT,
                env={**os.environ, "DATABASE_URL": database_url(template)},
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            admin.execute(f"COMMENT ON DATABASE \"{template}\" IS '{fingerprint}'")
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def setup_django() -> None:
    import contextlib
    import io

    import django

    # django-axes announces itself when set up
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        django.setup()


def purge_own_queue() -> int:
    """Drop the messages of the bench's own queue on its own Redis database (nothing else)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return int(client.delete(QUEUE))


# --- the synthetic organisation -------------------------------------------------------------------


def copy_rows(table: str, frame) -> None:
    import pandas as pd
    from django.db import connection
    from psycopg import sql

    columns = list(frame.columns)
    buffer = frame.to_csv(index=False, header=False)
    text = [c for c in columns if pd.api.types.is_string_dtype(frame[c].dtype)]
    options = sql.SQL("FORMAT csv")
    if text:
        options = sql.SQL("FORMAT csv, FORCE_NOT_NULL ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, text))
        )
    statement = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)), options
    )
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.encode())


def next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        return int(cursor.fetchone()[0])


def reset_sequences(tables: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )


def _us(ns: np.ndarray) -> np.ndarray:
    """Times rounded down to the microsecond (what PostgreSQL stores and the ingest sends back)."""
    return ns // 1000 * 1000


def _stamps(ns: np.ndarray):
    import pandas as pd

    return pd.DatetimeIndex(ns, tz="UTC")


def team_rates(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per team: deployments per day (skewed: once a month .. six times a day, median 0.3) and
    change failure rate (2 .. 30 %, mean ~14 %)."""
    rates = np.clip(rng.lognormal(np.log(0.3), 1.2, count), 1 / 30, 6)
    failure = np.clip(rng.beta(1.2, 7, count), 0.02, 0.30)
    return rates, failure


def build_organisation(size: int, *, name: str = "Bench Bank", seed: int = 1):
    """The portfolio, its value streams and teams; items, histories, deployments, changes and
    incidents loaded with COPY. Returns the portfolio and what was loaded."""
    import pandas as pd
    from django.db import connection

    from portfolio.models import Portfolio
    from teams.models import ProductTeam
    from valuestreams.models import ValueStream

    rng = np.random.default_rng(seed)
    team_count = max(size // ITEMS_PER_TEAM, 20)
    stream_count = max(team_count // TEAMS_PER_STREAM, 4)
    portfolio = Portfolio.objects.create(name=name, time_zone="Europe/Zurich")
    streams = ValueStream.objects.bulk_create(
        ValueStream(portfolio=portfolio, name=f"Stream {i}") for i in range(stream_count)
    )
    teams = ProductTeam.objects.bulk_create(
        ProductTeam(
            value_stream=streams[i % stream_count],
            name=f"Team {i}",
            formed_on=datetime(2023, 1, 1).date(),
            capacity_fte=7,
            loaded_cost_per_fte=100000,
        )
        for i in range(team_count)
    )
    team_ids = np.array([t.pk for t in teams])
    as_of_ns = int(AS_OF.timestamp() * 1e9)
    start_ns = as_of_ns - HISTORY_DAYS * 86400 * 10**9

    first_item = next_id("valuestreams_workitem")
    item_ids = np.arange(first_item, first_item + size)
    created_ns = _us(start_ns + rng.uniform(0, HISTORY_DAYS * 86400, size).astype(np.int64) * 10**9)
    types = rng.choice(TYPES, size, p=TYPE_MIX)
    items = pd.DataFrame(
        {
            "id": item_ids,
            "portfolio_id": portfolio.pk,
            "source": "jira",
            "external_key": [f"B-{i}" for i in range(1, size + 1)],
            "title": "",
            "source_type": types,
            "source_team": "",
            "team_id": rng.choice(team_ids, size),
            "created_at": _stamps(created_ns),
            "url": "",
            "content_hash": "",
            "updated_at": pd.Timestamp(AS_OF),
        }
    )
    copy_rows("valuestreams_workitem", items)

    # histories as the ingest writes them: one row per change of status or blocked flag, at
    # distinct times (seq 0); a blocked spell inside 5 % of the In Progress periods
    path_of_item = rng.choice(len(PATHS), size, p=PATH_P)
    parts = []
    for p, statuses in enumerate(PATHS):
        chosen = np.flatnonzero(path_of_item == p)
        t = created_ns[chosen].copy()
        for status in statuses:
            hours = rng.lognormal(np.log(MEAN_HOURS[status]) - 0.5, 1.0, len(t))
            span = (hours * 3.6e12).astype(np.int64)
            rows = [(t, np.zeros(len(t), bool))]
            if status == "In Progress":
                spell = rng.random(len(t)) < 0.05
                rows.append(
                    (_us(t + (span * rng.uniform(0.1, 0.4, len(t))).astype(np.int64)), spell)
                )
                rows.append(
                    (_us(t + (span * rng.uniform(0.6, 0.9, len(t))).astype(np.int64)), spell)
                )
            for k, (at, mask) in enumerate(rows):
                keep = (at <= as_of_ns) & (mask if k else True)
                parts.append(
                    pd.DataFrame(
                        {
                            "item_id": item_ids[chosen[keep]],
                            "at": at[keep],
                            "status": status,
                            "blocked": k == 1,
                        }
                    )
                )
            t = _us(t + span)
    changes = pd.concat(parts, ignore_index=True).sort_values(["item_id", "at"], kind="stable")
    changes = changes.drop_duplicates(["item_id", "at"])  # a blocked spell inside 1 µs: none
    changes["seq"] = 0
    changes["source_type"] = types[changes["item_id"].to_numpy() - first_item]
    changes["at"] = _stamps(changes["at"].to_numpy())
    first_change = next_id("valuestreams_statuschange")
    changes.insert(0, "id", np.arange(first_change, first_change + len(changes)))
    columns = ["id", "item_id", "at", "seq", "status", "source_type", "blocked"]
    copy_rows("valuestreams_statuschange", changes[columns])
    status_changes = len(changes)
    del changes, parts

    deliveries = delivery_history(portfolio, team_ids, rng, start_ns=start_ns, end_ns=as_of_ns)
    reset_sequences(
        [
            "valuestreams_workitem",
            "valuestreams_statuschange",
            "valuestreams_deployment",
            "valuestreams_change",
            "valuestreams_incident",
        ]
    )
    connection.ensure_connection()
    connection.connection.execute("VACUUM ANALYZE")
    return portfolio, {
        "items": size,
        "status_changes": status_changes,
        "teams": team_count,
        "value_streams": stream_count,
        **deliveries,
    }


def delivery_history(portfolio, team_ids, rng, *, start_ns: int, end_ns: int) -> dict[str, int]:
    """Deployments, changes and incidents of every team between the two times (COPY)."""
    import pandas as pd

    rates, failure = team_rates(len(team_ids), rng)
    days = (end_ns - start_ns) / 86400e9
    counts = rng.poisson(rates * days)
    team_of = np.repeat(np.arange(len(team_ids)), counts)
    n = len(team_of)
    finished = np.sort(_us(start_ns + (rng.uniform(0, days * 86400, n) * 1e9).astype(np.int64)))
    started = _us(finished - (rng.lognormal(np.log(15 * 60), 0.6, n) * 1e9).astype(np.int64))
    successful = rng.random(n) >= 0.03
    first_deployment = next_id("valuestreams_deployment")
    deployment_ids = np.arange(first_deployment, first_deployment + n)
    copy_rows(
        "valuestreams_deployment",
        pd.DataFrame(
            {
                "id": deployment_ids,
                "portfolio_id": portfolio.pk,
                "source": "ci",
                "external_key": [f"D-{i}" for i in deployment_ids],
                "team_id": team_ids[team_of],
                "content_hash": "",
                "environment": "production",
                "successful": successful,
                "is_rework": rng.random(n) < 0.06,
                "started_at": _stamps(started),
                "finished_at": _stamps(finished),
            }
        ),
    )
    per_deployment = 1 + rng.poisson(2, n)
    of = np.repeat(np.arange(n), per_deployment)
    lead = (rng.lognormal(np.log(20), 1.3, len(of)) * 3.6e12).astype(np.int64)
    deployed = rng.random(len(of)) >= 0.02  # a few changes never shipped (yet)
    first_change = next_id("valuestreams_change")
    change_ids = np.arange(first_change, first_change + len(of))
    copy_rows(
        "valuestreams_change",
        pd.DataFrame(
            {
                "id": change_ids,
                "portfolio_id": portfolio.pk,
                "source": "github",
                "external_key": [f"C-{i}" for i in change_ids],
                "team_id": team_ids[team_of[of]],
                "content_hash": "",
                "first_commit_at": _stamps(_us(finished[of] - lead)),
                "deployment_id": pd.Series(deployment_ids[of], dtype="Int64").where(deployed),
            }
        ),
    )
    failed = successful & (rng.random(n) < failure[team_of])
    which = np.flatnonzero(failed)
    created = _us(finished[which] + (rng.exponential(4, len(which)) * 3.6e12).astype(np.int64))
    recovery = (rng.lognormal(np.log(60), 1.3, len(which)) * 6e10).astype(np.int64)
    resolved = _us(created + recovery)
    keep = created <= end_ns
    which, created, resolved = which[keep], created[keep], resolved[keep]
    linked = rng.random(len(which)) < 0.85
    first_incident = next_id("valuestreams_incident")
    incident_ids = np.arange(first_incident, first_incident + len(which))
    incidents = pd.DataFrame(
        {
            "id": incident_ids,
            "portfolio_id": portfolio.pk,
            "source": "pagerduty",
            "external_key": [f"I-{i}" for i in incident_ids],
            "team_id": team_ids[team_of[which]],
            "content_hash": "",
            "title": "",
            "created_at": _stamps(created),
            "resolved_at": _stamps(resolved).where(resolved <= end_ns),
            "deployment_id": pd.Series(deployment_ids[which], dtype="Int64").where(linked),
        }
    )
    copy_rows("valuestreams_incident", incidents)
    return {
        "deployments": n,
        "changes": len(of),
        "incidents": len(which),
        "deploys_per_team_day_min_median_max": (
            float(rates.min()),
            float(np.median(rates)),
            float(rates.max()),
        ),
        "change_failure_rate_min_mean_max": (
            float(failure.min()),
            float(failure.mean()),
            float(failure.max()),
        ),
    }


# --- a day of events, through the real ingest services --------------------------------------------


def _iso(moment) -> str:
    return moment.isoformat()


def item_records(item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The API records of stored items (their whole history), as a source would send them."""
    from valuestreams.models import StatusChange, WorkItem

    records = {}
    for pk, key, item_type, team_id, created_at in WorkItem.objects.filter(
        pk__in=item_ids
    ).values_list("pk", "external_key", "source_type", "team_id", "created_at"):
        records[pk] = {
            "key": key,
            "type": item_type,
            "created_at": _iso(created_at),
            "team": team_id,
            "status_history": [],
            "blocked_changes": [],
        }
    last: dict[int, tuple[str, bool]] = {}
    for pk, at, status, blocked in (
        StatusChange.objects.filter(item_id__in=item_ids)
        .order_by("item_id", "at", "seq")
        .values_list("item_id", "at", "status", "blocked")
    ):
        record, previous = records[pk], last.get(pk)
        if previous is None or previous[0] != status:
            record["status_history"].append({"at": _iso(at), "status": status})
        if (previous is None and blocked) or (previous is not None and previous[1] != blocked):
            record["blocked_changes"].append({"at": _iso(at), "blocked": blocked})
        last[pk] = (status, blocked)
    return records


def send_items(portfolio, records: list[dict[str, Any]]) -> None:
    from valuestreams.services.work_items import work_items_ingest

    for chunk in range(0, len(records), 1000):
        work_items_ingest(portfolio=portfolio, records=records[chunk : chunk + 1000], source="jira")


def _pick(rng, values: np.ndarray, count: int) -> np.ndarray:
    count = min(count, len(values))
    return rng.choice(values, count, replace=False) if count else values[:0]


def _open_and_recent(
    portfolio, day_start: datetime, *, created_before: datetime | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The open items, and the items done in the last week (created before the given time)."""
    from valuestreams.models import WorkItemFact

    facts = WorkItemFact.objects.filter(portfolio=portfolio)
    if created_before is not None:
        facts = facts.filter(item__created_at__lt=created_before)
    open_items = np.array(
        facts.filter(state__in=["waiting", "active", "new"]).values_list("item_id", flat=True)
    )
    recent = np.array(
        facts.filter(state="done", done__gte=day_start - timedelta(days=7)).values_list(
            "item_id", flat=True
        )
    )
    return open_items, recent


def appended_and_new(portfolio, rng, *, day_start: datetime, size: int, tag: str):
    """Status changes appended to 0.4 % of the items (open ones moving on, 10 % of them recently
    done ones reopening), and the day's new items. Returns the records and the touched ids."""
    import pandas as pd

    from teams.models import ProductTeam

    open_items, recent = _open_and_recent(portfolio, day_start)
    wanted = max(round(size * 0.004), 2)
    reopened = _pick(rng, recent, wanted // 10)
    moving = _pick(rng, open_items, wanted - len(reopened))
    touched = [int(i) for i in np.concatenate([moving, reopened])]
    records = item_records(touched)
    when = (
        pd.Timestamp(day_start)
        + pd.to_timedelta(rng.uniform(60, EVENTS.total_seconds(), len(touched)), "s")
    ).floor("us")
    for n, pk in enumerate(touched):
        status = "In Progress" if n >= len(moving) else str(rng.choice(NEXT_STATUS))
        history = records[pk]["status_history"]
        if history[-1]["status"] == status:
            status = "In Review" if status != "In Review" else "Done"
        history.append({"at": _iso(when[n].to_pydatetime()), "status": status})
    team_ids = list(
        ProductTeam.objects.filter(value_stream__portfolio=portfolio).values_list("pk", flat=True)
    )
    fresh = []
    for n in range(max(size // HISTORY_DAYS, 1)):
        created = day_start + timedelta(hours=1 + n * 19 / max(size // HISTORY_DAYS, 1))
        fresh.append(
            {
                "key": f"N-{tag}-{n}",
                "type": "Story",
                "created_at": _iso(created),
                "team": team_ids[n % len(team_ids)],
                "status_history": [
                    {"at": _iso(created), "status": "To Do"},
                    {"at": _iso(created + timedelta(hours=2)), "status": "In Progress"},
                ],
            }
        )
    return [*records.values(), *fresh], touched, len(fresh)


def best_case_day(portfolio, rng, *, day_start: datetime, size: int) -> dict[str, Any]:
    """Only appended status changes and new items (the best case of an incremental run)."""
    records, touched, fresh = appended_and_new(
        portfolio, rng, day_start=day_start, size=size, tag="best"
    )
    send_items(portfolio, records)
    return {"appended": len(touched), "new items": fresh}


def typical_day(portfolio, rng, *, day_start: datetime, size: int) -> dict[str, Any]:
    """The best case's events plus what a real organisation also sends in a day (see the
    module's docstring). Written through the ingest services in the order a source sends them."""
    from teams.models import ProductTeam
    from teams.services.teams import team_update
    from valuestreams.models import Deployment, WorkItem
    from valuestreams.services.deliveries import (
        changes_ingest,
        deployments_ingest,
        incidents_ingest,
    )

    day_end = day_start + EVENTS
    records, touched, fresh = appended_and_new(
        portfolio, rng, day_start=day_start, size=size, tag="typical"
    )
    # ~5 % of the day's item events late (stamped 1-10 days back) or re-sent (same history)
    odd = max(round(0.025 * (len(touched) + fresh)), 1)
    # late: a change of an open or recently done item that arrives 1-10 days after it happened;
    # re-sent and moved: any item (its whole history again; to a team of another value stream)
    cutoff = day_start - timedelta(days=10)  # a late change is never before the item's creation
    open_items, recent = _open_and_recent(portfolio, day_start, created_before=cutoff)
    old = WorkItem.objects.filter(portfolio=portfolio, created_at__lt=cutoff)
    candidates = np.setdiff1d(np.concatenate([open_items, recent]), touched)
    late_ids = [int(i) for i in _pick(rng, candidates, odd)]
    others_ids = np.setdiff1d(
        np.array(old.order_by("?").values_list("pk", flat=True)[: 4 * odd + 20]),
        np.concatenate([touched, late_ids]),
    )
    resent_ids = [int(i) for i in others_ids[:odd]]
    moved_ids = [int(i) for i in others_ids[odd : odd + 3]]
    others = item_records(late_ids + resent_ids + moved_ids)
    for pk in late_ids:
        stamp = day_end - timedelta(days=float(rng.uniform(1, 10)))
        history = others[pk]["status_history"]
        before = [h for h in history if datetime.fromisoformat(h["at"]) <= stamp]
        status = "In Review" if before and before[-1]["status"] != "In Review" else "In Progress"
        history.append({"at": _iso(stamp), "status": status})
        history.sort(key=lambda h: datetime.fromisoformat(h["at"]))
    teams = list(ProductTeam.objects.filter(value_stream__portfolio=portfolio).select_related())
    for pk in moved_ids:  # to a team of another value stream
        current = next(t for t in teams if t.pk == others[pk]["team"])
        others[pk]["team"] = next(
            t.pk for t in teams if t.value_stream_id != current.value_stream_id
        )
    batch = [*records, *others.values()]
    send_items(portfolio, batch)
    retried = batch[: max(len(batch) // 50, 1)]  # a retry of part of the batch: no-ops
    send_items(portfolio, retried)

    # one team moved to another value stream
    moved_team = teams[len(teams) // 2]
    target = next(t.value_stream for t in teams if t.value_stream_id != moved_team.value_stream_id)
    team_update(team=moved_team, value_stream=target)

    # the day's deliveries, at each team's own rates over the two years
    rates, failure = team_history_rates(portfolio, teams)
    deployments, changes, incidents = [], [], []
    for index, team in enumerate(teams):
        for n in range(rng.poisson(rates[index])):
            finished = day_start + timedelta(
                seconds=float(rng.uniform(600, EVENTS.total_seconds()))
            )
            key = f"D-{day_start:%Y%m%d}-{team.pk}-{n}"
            deployments.append(
                {
                    "key": key,
                    "team": team.pk,
                    "environment": "production",
                    "successful": bool(rng.random() >= 0.03),
                    "is_rework": bool(rng.random() < 0.06),
                    "started_at": _iso(finished - timedelta(minutes=15)),
                    "finished_at": _iso(finished),
                }
            )
            for c in range(1 + rng.poisson(2)):
                lead = timedelta(hours=float(rng.lognormal(np.log(20), 1.3)))
                changes.append(
                    {
                        "key": f"C-{key}-{c}",
                        "team": team.pk,
                        "first_commit_at": _iso(finished - lead),
                        "deployment": key,
                        "deployment_source": "ci",
                    }
                )
            if rng.random() < failure[index]:
                created = finished + timedelta(minutes=float(rng.uniform(5, 120)))
                if created < day_end:
                    recovery = timedelta(minutes=float(rng.lognormal(np.log(60), 1.3)))
                    incidents.append(
                        {
                            "key": f"I-{key}",
                            "team": team.pk,
                            "created_at": _iso(created),
                            "resolved_at": _iso(created + recovery)
                            if created + recovery < day_end
                            else None,
                            "deployment": key,
                            "deployment_source": "ci",
                        }
                    )
    # re-sent deployments of the last three days (unchanged) and one corrected (now rework)
    recent = list(
        Deployment.objects.filter(
            portfolio=portfolio, finished_at__gte=day_start - timedelta(days=3)
        ).order_by("?")[: max(len(deployments) // 20, 1) + 1]
    )

    def as_record(d, **changed) -> dict[str, Any]:
        return {
            "key": d.external_key,
            "team": d.team_id,
            "environment": d.environment,
            "successful": d.successful,
            "is_rework": d.is_rework,
            "started_at": _iso(d.started_at) if d.started_at else None,
            "finished_at": _iso(d.finished_at),
            **changed,
        }

    resent = [as_record(d) for d in recent[1:]]
    corrected = [as_record(d, is_rework=not d.is_rework) for d in recent[:1]]
    # one back-dated incident: created five days ago, caused by a deployment of six days ago
    cause = (
        Deployment.objects.filter(
            portfolio=portfolio,
            successful=True,
            finished_at__range=(day_start - timedelta(days=6), day_start - timedelta(days=5)),
        )
        .order_by("finished_at")
        .first()
    )
    backdated = []
    if cause is not None:
        created = cause.finished_at + timedelta(hours=3)
        backdated.append(
            {
                "key": f"I-late-{day_start:%Y%m%d}",
                "team": cause.team_id,
                "created_at": _iso(created),
                "resolved_at": _iso(created + timedelta(hours=20)),
                "deployment": cause.external_key,
                "deployment_source": "ci",
            }
        )
    deployments_ingest(portfolio=portfolio, records=deployments + resent + corrected, source="ci")
    changes_ingest(portfolio=portfolio, records=changes, source="github")
    incidents_ingest(portfolio=portfolio, records=incidents + backdated, source="pagerduty")
    return {
        "appended": len(touched),
        "new items": fresh,
        "late": len(late_ids),
        "re-sent": len(resent_ids),
        "moved items": len(moved_ids),
        "retried (no-op)": len(retried),
        "moved teams": 1,
        "deployments": len(deployments),
        "changes": len(changes),
        "incidents": len(incidents),
        "back-dated incidents": len(backdated),
        "re-sent deployments": len(resent),
        "corrected deployments": len(corrected),
    }


def team_history_rates(portfolio, teams) -> tuple[np.ndarray, np.ndarray]:
    """Per team (in the order given): deployments per day and the share of them with a linked
    incident, over the stored history."""
    from django.db.models import Count

    from valuestreams.models import Deployment, Incident

    deployed = dict(
        Deployment.objects.filter(portfolio=portfolio)
        .values("team_id")
        .annotate(n=Count("id"))
        .values_list("team_id", "n")
    )
    failed = dict(
        Incident.objects.filter(portfolio=portfolio, deployment__isnull=False)
        .values("team_id")
        .annotate(n=Count("deployment_id", distinct=True))
        .values_list("team_id", "n")
    )
    rates = np.array([deployed.get(t.pk, 0) / HISTORY_DAYS for t in teams])
    failure = np.array([failed.get(t.pk, 0) / max(deployed.get(t.pk, 0), 1) for t in teams])
    return rates, failure


def requested(portfolio) -> tuple[list[int], list[int]]:
    """What the day's writes asked the engine for (the queued recompute job(s): items and
    teams); the jobs are then deleted and the bench's own queue purged (the bench runs them)."""
    from valuestreams.models import JobStatus, RecomputeJob

    jobs = list(RecomputeJob.objects.filter(portfolio=portfolio, status=JobStatus.QUEUED))
    if any(job.kind == "full" for job in jobs):
        raise RuntimeError("the day's writes asked for a full recompute")
    item_ids = sorted({i for job in jobs for i in job.item_ids})
    team_ids = sorted({t for job in jobs for t in job.team_ids})
    RecomputeJob.objects.filter(pk__in=[job.pk for job in jobs]).delete()
    purge_own_queue()
    return item_ids, team_ids


def affected_items(item_ids: list[int], team_ids: list[int]) -> int:
    from valuestreams.models import WorkItem

    of_teams = set(WorkItem.objects.filter(team_id__in=team_ids).values_list("pk", flat=True))
    return len(of_teams | set(item_ids))


# --- measuring: the floor, runs in child processes, snapshots and comparisons ----------------------


def floor_seconds(portfolio) -> dict[str, float]:
    """A plain scan of the rows a recompute reads, copied out as text (``COPY ... TO STDOUT``,
    nothing parsed): every status change of the portfolio's items, and its deployments, changes
    and incidents. Best of two, per table."""
    from django.db import connection

    pk = int(portfolio.pk)
    statements = {
        "status changes": "SELECT sc.item_id, sc.at, sc.seq, sc.status, sc.source_type, sc.blocked"
        " FROM valuestreams_statuschange sc JOIN valuestreams_workitem wi ON wi.id = sc.item_id"
        f" WHERE wi.portfolio_id = {pk}",
        "deployments": "SELECT id, finished_at, successful, environment, is_rework, team_id"
        f" FROM valuestreams_deployment WHERE portfolio_id = {pk}",
        "changes": "SELECT id, first_commit_at, deployment_id, team_id FROM valuestreams_change"
        f" WHERE portfolio_id = {pk}",
        "incidents": "SELECT id, created_at, resolved_at, deployment_id, team_id"
        f" FROM valuestreams_incident WHERE portfolio_id = {pk}",
    }
    connection.ensure_connection()
    out = {}
    for name, query in statements.items():
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            with (
                connection.connection.cursor() as cursor,
                cursor.copy(f"COPY ({query}) TO STDOUT") as copy,
            ):
                for _ in copy:
                    pass
            best = min(best, time.perf_counter() - started)
        out[name] = best
    return out


def _memory(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    """Start the peak (VmHWM) again from the RSS now (Linux >= 4.0); False if not allowed, and
    then the peak is the process's peak so far, imports included."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _child_run(pipe, kind: str, portfolio_id: int, as_of: str, item_ids, team_ids) -> None:
    """One measured recompute in a fresh process: its idle RSS (Django and the engine imported,
    connected), then a checkpoint, the run, and its peak RSS."""
    setup_django()
    from django.db import connection

    from portfolio.models import Portfolio
    from valuestreams.recompute import recompute_full_now, recompute_incremental_now

    portfolio = Portfolio.objects.get(pk=portfolio_id)
    moment = datetime.fromisoformat(as_of)
    connection.ensure_connection()
    connection.connection.execute("CHECKPOINT")
    gc.collect()
    idle = _memory("VmRSS")
    reset = _reset_peak()
    started = time.perf_counter()
    if kind == "full":
        run = recompute_full_now(portfolio=portfolio, as_of=moment)
    else:
        run = recompute_incremental_now(
            portfolio=portfolio, item_ids=item_ids, team_ids=team_ids, as_of=moment
        )
    seconds = time.perf_counter() - started
    peak = _memory("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    pipe.send(
        {
            "s": seconds,
            "idle_rss": idle,
            "peak_rss": peak,
            "above_idle": max(peak - idle, 0),
            "kind": run.kind,
            "items_read": run.items_read,
        }
    )


def measured(kind: str, portfolio, as_of: datetime, item_ids=(), team_ids=()) -> dict[str, Any]:
    """Run one recompute in a child process (spawn) and return its figures."""
    from django.db import connection

    connection.close()  # nothing of ours open while it runs
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_run,
        args=(send, kind, portfolio.pk, as_of.isoformat(), list(item_ids), list(team_ids)),
    )
    child.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError as error:
        child.join()
        raise RuntimeError(
            f"the {kind} recompute's process died (exit code {child.exitcode})"
        ) from error
    child.join()
    return result


def _columns(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
            " ORDER BY ordinal_position",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def save_state(tag: str, portfolio_id: int) -> None:
    """Copies of everything a run publishes for the portfolio (unlogged: not in the WAL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in DERIVED:
            cursor.execute(f"DROP TABLE IF EXISTS bench_{tag}_{table}")
            cursor.execute(
                f"CREATE UNLOGGED TABLE bench_{tag}_{table} AS SELECT * FROM {table}"
                f" WHERE portfolio_id = {int(portfolio_id)}"
            )


def restore_state(tag: str, portfolio_id: int) -> None:
    """Put back what :func:`save_state` copied: the rows that differ are deleted and the saved
    ones inserted (unchanged rows stay where they are), the runs since are deleted, and the
    tables vacuumed, as autovacuum would (this machine's server runs without it)."""
    from django.db import connection

    pid = int(portfolio_id)
    with connection.cursor() as cursor:
        for table, pk in DERIVED.items():
            saved = f"bench_{tag}_{table}"
            mine = f"(SELECT * FROM {table} WHERE portfolio_id = {pid})"
            if table == "valuestreams_metricrun":
                cursor.execute("UPDATE valuestreams_recomputejob SET run_id = NULL")
                cursor.execute(f"DELETE FROM {table} WHERE portfolio_id = {pid}")
                cursor.execute(f"INSERT INTO {table} SELECT * FROM {saved}")
                continue
            cursor.execute(
                f"DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM"
                f" (SELECT * FROM {mine} m EXCEPT ALL SELECT * FROM {saved}) gone)"
            )
            cursor.execute(
                f"INSERT INTO {table} SELECT * FROM"
                f" (SELECT * FROM {saved} EXCEPT ALL SELECT * FROM {mine} m) back"
            )
    connection.ensure_connection()
    for table in DERIVED:
        connection.connection.execute(f"VACUUM ANALYZE {table}")


def snapshot(tag: str, portfolio_id: int) -> None:
    """The published rows of the compared tables, every column but the surrogate id."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in COMPARED:
            columns = ", ".join(c for c in _columns(table) if c != "id")
            cursor.execute(f"DROP TABLE IF EXISTS bench_{tag}_{table}")
            cursor.execute(
                f"CREATE UNLOGGED TABLE bench_{tag}_{table} AS SELECT {columns} FROM {table}"
                f" WHERE portfolio_id = {int(portfolio_id)}"
            )


def differences(a: str, b: str) -> dict[str, dict[str, Any]]:
    """Per compared table: rows in one snapshot and not the other (both ways, every column),
    the row count, and where rows differ, which columns differ for rows of the same key."""
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table, key in COMPARED.items():
            left, right = f"bench_{a}_{table}", f"bench_{b}_{table}"
            cursor.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM {left} EXCEPT ALL"
                f" SELECT * FROM {right}) x), (SELECT count(*) FROM (SELECT * FROM {right}"
                f" EXCEPT ALL SELECT * FROM {left}) y), (SELECT count(*) FROM {right})"
            )
            only_a, only_b, rows = cursor.fetchone()
            found: dict[str, Any] = {"differing": int(only_a) + int(only_b), "rows": int(rows)}
            if found["differing"]:
                columns = [c for c in _columns(left) if c not in key]
                on = " AND ".join(f"l.{c} = r.{c}" for c in key)
                counts = ", ".join(
                    f"count(*) FILTER (WHERE l.{c} IS DISTINCT FROM r.{c})" for c in columns
                )
                cursor.execute(
                    f"SELECT count(*) FILTER (WHERE r.{key[0]} IS NULL),"
                    f" count(*) FILTER (WHERE l.{key[0]} IS NULL), {counts}"
                    f" FROM {left} l FULL JOIN {right} r ON {on}"
                )
                values = cursor.fetchone()
                found[f"keys only in {a}"], found[f"keys only in {b}"] = values[0], values[1]
                found["columns"] = {c: v for c, v in zip(columns, values[2:], strict=True) if v}
            out[table.removeprefix("valuestreams_")] = found
    return out


def paired_day(portfolio, base: str, as_of: datetime, item_ids, team_ids, repeats: int) -> dict:
    """The day's incremental run and a full run at the same as_of, ``repeats`` pairs, both from
    the published rows saved as ``base``; every compared table checked after every pair."""
    pairs = []
    for _ in range(repeats):
        restore_state(base, portfolio.pk)
        incremental = measured("incremental", portfolio, as_of, item_ids, team_ids)
        snapshot("inc", portfolio.pk)
        restore_state(base, portfolio.pk)
        full = measured("full", portfolio, as_of)
        snapshot("full", portfolio.pk)
        pairs.append({"incremental": incremental, "full": full, "diff": differences("inc", "full")})
    incremental_s = [p["incremental"]["s"] for p in pairs]
    full_s = [p["full"]["s"] for p in pairs]
    shares = [i / f for i, f in zip(incremental_s, full_s, strict=True)]
    return {
        "pairs": pairs,
        "incremental_s": float(np.median(incremental_s)),
        "full_s": float(np.median(full_s)),
        "shares": shares,
        "share": float(np.median(shares)),
        "identical": all(d["differing"] == 0 for p in pairs for d in p["diff"].values()),
        "incremental_rss": max(p["incremental"]["above_idle"] for p in pairs),
        "full_rss": max(p["full"]["above_idle"] for p in pairs),
        "idle_rss": float(np.median([p["incremental"]["idle_rss"] for p in pairs])),
        "items_read": pairs[-1]["incremental"]["items_read"],
        "kind": pairs[-1]["incremental"]["kind"],
    }


def ingest_rates(portfolio, bulk: int = 1000, single: int = 30) -> dict[str, float]:
    """Seconds per item through the ingest API: one request of ``bulk`` items vs ``single``
    requests of one item (a token of the portfolio, the real endpoint and service)."""
    import warnings

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from portfolio.services import integration_token_issue

    token = integration_token_issue(portfolio=portfolio, name="bench", days=1, now=timezone.now())
    team = portfolio.value_streams.first().teams.first()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token.text}")
    url = reverse("api:ingest-work-items-list")

    def record(key: str) -> dict:
        return {
            "key": key,
            "type": "Story",
            "created_at": "2026-05-01T08:00:00Z",
            "team": team.pk,
            "status_history": [
                {"at": "2026-05-01T08:00:00Z", "status": "To Do"},
                {"at": "2026-05-02T08:00:00Z", "status": "In Progress"},
                {"at": "2026-05-04T08:00:00Z", "status": "In Review"},
                {"at": "2026-05-05T08:00:00Z", "status": "Done"},
            ],
        }

    def post(records: list[dict]) -> None:
        body = json.dumps({"source": "bench", "records": records})
        response = client.post(url, body, content_type="application/json")
        assert response.status_code in {200, 201, 202}, response.content[:300]

    warnings.filterwarnings("ignore", message="No directory at")  # static files: not built here
    started = time.perf_counter()
    post([record(f"BULK-{n}") for n in range(bulk)])
    per_item_bulk = (time.perf_counter() - started) / bulk
    started = time.perf_counter()
    for n in range(single):
        post([record(f"ONE-{n}")])
    per_item_single = (time.perf_counter() - started) / single
    purge_own_queue()
    return {"bulk_s_per_item": per_item_bulk, "single_s_per_item": per_item_single}


class Stages:
    """How long each stage of the benchmark took (its own time, not a measured figure)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.last = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self.last
        self.last = now


def measure(size: int, repeats: int) -> dict[str, Any]:
    stages = Stages()
    portfolio, loaded = build_organisation(size)
    stages.done("load")
    result: dict[str, Any] = {**loaded, "load_s": stages.seconds["load"], "stages": stages.seconds}
    result["floor"] = floor_seconds(portfolio)
    result["floor_s"] = sum(result["floor"].values())
    result["full_first"] = measured("full", portfolio, AS_OF)
    result["full_again"] = measured("full", portfolio, AS_OF)
    rng = np.random.default_rng(2)
    save_state("base", portfolio.pk)
    stages.done("floor and full runs")

    day_one = AS_OF + RUN_AT
    result["best_events"] = best_case_day(portfolio, rng, day_start=AS_OF, size=size)
    items, teams = requested(portfolio)
    result["best_named"] = (len(items), len(teams))
    result["best_affected"] = affected_items(items, teams)
    stages.done("best-case day's writes")
    result["best"] = paired_day(portfolio, "base", day_one, items, teams, repeats)
    stages.done("best-case day's pairs")

    # the next day starts with its nightly full run (00:30 local), and its events come after it
    night = AS_OF + DAY
    result["nightly"] = measured("full", portfolio, night)
    save_state("base", portfolio.pk)
    day_two = night + RUN_AT
    result["typical_events"] = typical_day(portfolio, rng, day_start=night, size=size)
    items, teams = requested(portfolio)
    result["typical_named"] = (len(items), len(teams))
    result["typical_affected"] = affected_items(items, teams)
    stages.done("typical day's writes")
    result["typical"] = paired_day(portfolio, "base", day_two, items, teams, repeats)
    stages.done("typical day's pairs")
    result.update(ingest_rates(portfolio))
    stages.done("ingest")
    return result


# --- the report -----------------------------------------------------------------------------------


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _share_target(items: int) -> float | None:
    return {200_000: 0.10, 2_000_000: 0.05}.get(items)


def _diff_text(day: dict) -> str:
    if day["identical"]:
        tables = day["pairs"][0]["diff"]
        return (
            "identical in every column ("
            + ", ".join(f"{t} {d['rows']:,} rows" for t, d in tables.items())
            + f"; {len(day['pairs'])} pair(s))"
        )
    parts = []
    for n, pair in enumerate(day["pairs"], 1):
        for table, d in pair["diff"].items():
            if d["differing"]:
                extra = {k: v for k, v in d.items() if k not in {"differing", "rows", "columns"}}
                parts.append(
                    f"pair {n} {table}: {d['differing']} of {d['rows']:,} rows differ {extra}"
                    f", columns {d.get('columns', {})}"
                )
    return "NOT IDENTICAL: " + "; ".join(parts)


def day_lines(name: str, r: dict, day: dict, events: dict, named, affected: int) -> list[str]:
    target = _share_target(r["items"])
    runs = ", ".join(f"{p['incremental']['s']:.3f}/{p['full']['s']:.2f} s" for p in day["pairs"])
    shares = ", ".join(f"{x:.1%}" for x in day["shares"])
    verdict = (
        f"target ≤ {target:.0%}: {_verdict(day['share'] <= target)}"
        if target
        else "targets are set at 200k (≤ 10 %) and 2M (≤ 5 %)"
    )
    return [
        f"- {name}: " + ", ".join(f"{k} {v:,}" for k, v in events.items()),
        f"  asked for: {named[0]:,} items and {named[1]:,} teams → {affected:,} affected items",
        f"  incremental/full pairs: {runs}; shares {shares} → median {day['share']:.1%} of full"
        f" ({verdict}); the {day['kind']} run read {day['items_read']:,} items",
        f"  incremental vs full: {_diff_text(day)}",
        f"  peak RSS above idle: incremental {_mib(day['incremental_rss'])}, full"
        f" {_mib(day['full_rss'])}; cost per affected item"
        f" {day['incremental_s'] / max(affected, 1) * 1000:.3f} ms",
    ]


def size_report(r: dict) -> str:
    floor = r["floor_s"]
    full, first = r["full_again"], r["full_first"]
    nightly = r["typical"]["full_s"]
    rss = max(first["above_idle"], full["above_idle"], r["typical"]["full_rss"])
    per_change = rss / r["status_changes"]
    bulk = r["single_s_per_item"] / r["bulk_s_per_item"]
    low, median, high = r["deploys_per_team_day_min_median_max"]
    cfr = r["change_failure_rate_min_mean_max"]
    lines = [
        f"## {r['items']:,} work items, {r['status_changes']:,} status changes, {r['deployments']:,}"
        f" deployments, {r['changes']:,} changes, {r['incidents']:,} incidents",
        "",
        f"- organisation: {r['value_streams']} value streams, {r['teams']} teams deploying"
        f" {low:.2f} .. {high:.1f} times a day (median {median:.2f}), change failure rate"
        f" {cfr[0]:.0%} .. {cfr[2]:.0%} (mean {cfr[1]:.0%}); loaded (COPY) in {r['load_s']:.1f} s",
        f"- floor, a plain COPY of every row read: {floor:.2f} s ("
        + ", ".join(f"{k} {v:.2f} s" for k, v in r["floor"].items())
        + ")",
        f"- full recompute over published rows: {full['s']:.2f} s → {full['s'] / floor:.2f}× floor"
        f" (target ≤ 10×: {_verdict(full['s'] <= 10 * floor)}); the nightly full after the typical"
        f" day (median): {nightly:.2f} s → {nightly / floor:.2f}× floor"
        f" ({_verdict(nightly <= 10 * floor)})",
        f"- first full recompute (empty tables, every row written): {first['s']:.2f} s →"
        f" {first['s'] / floor:.2f}× floor",
        f"- peak RSS above an idle process (idle {_mib(first['idle_rss'])}): first full"
        f" {_mib(first['above_idle'])}, full {_mib(full['above_idle'])}, nightly full"
        f" {_mib(r['typical']['full_rss'])} → largest {per_change:.0f} B per status change"
        f" (target ≤ 200: {_verdict(per_change <= 200)})",
        *day_lines(
            "best-case day", r, r["best"], r["best_events"], r["best_named"], r["best_affected"]
        ),
        *day_lines(
            "typical day",
            r,
            r["typical"],
            r["typical_events"],
            r["typical_named"],
            r["typical_affected"],
        ),
        f"- ingest per item: bulk {r['bulk_s_per_item'] * 1000:.2f} ms, one per request"
        f" {r['single_s_per_item'] * 1000:.2f} ms → bulk {bulk:.0f}× faster",
        "- the benchmark's own time: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in r["stages"].items()),
        "",
    ]
    return "\n".join(lines)


def summary_report(results: list[dict]) -> str:
    lines = [
        "## Side by side",
        "",
        "| items | floor | full | full ÷ floor | typical incr. | share | best-case incr. | share"
        " | identical | peak RSS full, B/change | ms per affected item (typical) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        typical, best = r["typical"], r["best"]
        rss = max(r["full_first"]["above_idle"], r["full_again"]["above_idle"], typical["full_rss"])
        lines.append(
            f"| {r['items']:,} | {r['floor_s']:.2f} s | {typical['full_s']:.2f} s |"
            f" {typical['full_s'] / r['floor_s']:.1f}× | {typical['incremental_s']:.3f} s |"
            f" {typical['share']:.1%} | {best['incremental_s']:.3f} s | {best['share']:.1%} |"
            f" {'yes' if typical['identical'] and best['identical'] else 'NO'} |"
            f" {rss / r['status_changes']:.0f} |"
            f" {typical['incremental_s'] / max(r['typical_affected'], 1) * 1000:.3f} |"
        )
    lines.append("")
    return "\n".join(lines)


def projection_report(results: list[dict]) -> str:
    """20M items projected from the two largest sizes: y = y2 · (20M / n2)^b, b the log-log
    slope between the two measured sizes."""
    if len(results) < 2:
        return "Projection to 20M items: needs two sizes (--sizes a,b).\n"
    small, large = sorted(results, key=lambda r: r["items"])[-2:]
    span = np.log(large["items"] / small["items"])
    rows = [
        ("floor (plain scan)", lambda r: r["floor_s"], "s", None),
        ("nightly full", lambda r: r["typical"]["full_s"], "s", 600.0),
        ("typical incremental day", lambda r: r["typical"]["incremental_s"], "s", 10.0),
        ("best-case incremental day", lambda r: r["best"]["incremental_s"], "s", None),
        ("peak RSS of a full run above idle", lambda r: r["typical"]["full_rss"], "B", None),
        (
            "peak RSS of the typical incremental",
            lambda r: r["typical"]["incremental_rss"],
            "B",
            None,
        ),
    ]
    lines = [
        f"## Projection to {PROJECTED:,} work items (one portfolio, one worker)",
        "",
        f"Fitted between {small['items']:,} and {large['items']:,} items: y(n) = y({large['items']:,})"
        " · (n / that)^b, b = log(y2 / y1) / log(n2 / n1) (log-log slope). Teams and value"
        " streams grow with the items (one team per 1,400), the day's events too (0.4 % of the"
        " items). A slope fitted on small sizes is dominated by fixed costs and projects too low.",
        "",
        f"| figure | {small['items']:,} | {large['items']:,} | slope b | projected 20M | target |",
        "|---|---|---|---|---|---|",
    ]
    for name, get, unit, target in rows:
        y1, y2 = get(small), get(large)
        slope = float(np.log(y2 / y1) / span) if y1 > 0 and y2 > 0 else float("nan")
        projected = y2 * (PROJECTED / large["items"]) ** slope
        shown = (lambda v: f"{v:.2f} s") if unit == "s" else (lambda v: f"{v / 2**30:.2f} GiB")
        goal = "" if target is None else f"≤ {target:.0f} s: {_verdict(projected <= target)}"
        if name.startswith("peak RSS of a full"):
            per = projected / (large["status_changes"] / large["items"] * PROJECTED)
            goal = f"{per:.0f} B per status change (≤ 200: {_verdict(per <= 200)})"
        lines.append(
            f"| {name} | {shown(y1)} | {shown(y2)} | {slope:.2f} | {shown(projected)} | {goal} |"
        )
    lines += [
        "",
        "How several Celery workers share the work: every recompute job takes its portfolio's"
        " PostgreSQL advisory lock (valuestreams/recompute/jobs.py, portfolio_lock; a job that"
        " finds it held is sent again 5 s later), so N workers recompute N portfolios at once,"
        " while within one portfolio every run — full or incremental — is serial, and requests"
        " queued meanwhile merge into one job. A 20M-item organisation in one portfolio gets one"
        " worker's time for its nightly full and for each incremental run; split into k"
        " portfolios it gets up to k workers (bounded by cores and PostgreSQL's I/O).",
        "",
    ]
    return "\n".join(lines)


# --- two workers, two portfolios -------------------------------------------------------------------


def workers_demo(size: int) -> str:
    """Two Celery worker processes on the bench's own Redis database and queue; full recomputes
    of two portfolios requested at once, then a second one of the first portfolio: the two
    portfolios run at the same time, the first portfolio's two jobs one after the other."""
    from config.celery import app
    from valuestreams.models import RecomputeJob
    from valuestreams.recompute import recompute_request

    first, _ = build_organisation(size, name="Demo A", seed=3)
    second, _ = build_organisation(size, name="Demo B", seed=4)
    purge_own_queue()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                QUEUE,
                "-c",
                "1",
                "-n",
                f"bench{n}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in (1, 2)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=1) or []) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the two workers did not start within 60 s")
        jobs = [
            recompute_request(portfolio=first, full=True),
            recompute_request(portfolio=second, full=True),
        ]
        while not RecomputeJob.objects.filter(pk=jobs[0].pk, status="running").exists():
            time.sleep(0.05)
        jobs.append(recompute_request(portfolio=first, full=True))
        deadline = time.monotonic() + 600
        while (
            RecomputeJob.objects.filter(pk__in=[j.pk for j in jobs])
            .exclude(status__in=["succeeded", "failed"])
            .exists()
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the demo's jobs did not finish within 10 minutes")
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        purge_own_queue()
    done = {j.pk: j for j in RecomputeJob.objects.filter(pk__in=[j.pk for j in jobs])}
    zero = min(j.started_at for j in done.values())
    lines = [
        f"## Two workers, two portfolios ({size:,} items each)",
        "",
        "| job | portfolio | status | attempts | start | end |",
        "|---|---|---|---|---|---|",
    ]
    for n, job in enumerate(jobs, 1):
        j = done[job.pk]
        lines.append(
            f"| {n} | {j.portfolio.name} | {j.status} | {j.attempts} |"
            f" {(j.started_at - zero).total_seconds():.2f} s |"
            f" {(j.finished_at - zero).total_seconds():.2f} s |"
        )
    a1, b1, a2 = (done[j.pk] for j in jobs)
    together = min(a1.finished_at, b1.finished_at) > max(a1.started_at, b1.started_at)
    lines += [
        "",
        f"Demo A and Demo B ran at the same time: {'yes' if together else 'NO'}; Demo A's second"
        f" job started after its first ended: {'yes' if a2.started_at >= a1.finished_at else 'NO'}.",
        "",
    ]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000,2000000", help="work items per run, commas")
    parser.add_argument("--repeats", type=int, default=5, help="pairs of runs per day (median)")
    parser.add_argument("--smoke", action="store_true", help="5,000 items, 1 repeat")
    parser.add_argument(
        "--database", default=None, help="default: DATABASE_URL's name + _recompute"
    )
    parser.add_argument("--redis-db", type=int, default=15, help="the bench's own Redis database")
    parser.add_argument(
        "--workers-demo",
        action="store_true",
        help="two portfolios, two Celery workers (after the sizes)",
    )
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.repeats = "5000", 1
    sizes = [int(s) for s in args.sizes.split(",")]
    database = args.database or default_database()
    redis_url = isolate(database, args.redis_db)
    setup_django()
    from django.db import connection

    print(
        f"# metrics engine benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"machine: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, load average "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
        + f"; database {database}, Redis {redis_url} (queue {QUEUE}); {args.repeats} pair(s) per day\n",
        flush=True,
    )
    results = []
    for size in sizes:
        connection.close()
        recreate_database(database)
        started = time.perf_counter()
        results.append(measure(size, args.repeats))
        results[-1]["total_s"] = time.perf_counter() - started
        print(size_report(results[-1]), flush=True)
    print(summary_report(results))
    print(projection_report(results))
    if args.workers_demo:
        print(workers_demo(min(sizes)), flush=True)
    print("load average at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
