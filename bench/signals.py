"""Benchmark of the steward's signals (not a test): prints times, never passes or fails.

    .venv/bin/python bench/signals.py --scales 1,10

For each scale it seeds the demo bank in its own database (default ``steward_signals_bench`` on
the server of DATABASE_URL, dropped and re-created) with every value stream and its teams copied
`scale` times — 10 gives 80 value streams and 220 teams, with two years of generated delivery
history, outcomes, funding and decisions, through the demo's own generators (`seed_demo` without
its last, signals, step). Then, for every portfolio, it measures the full evaluation of every
detector as of the seeding day's noon:

- reading the detectors' inputs (and how many queries that takes: it must not grow with size);
- each detector's time, findings, scopes checked and scopes without enough data;
- the writes (the upsert of the signals) and the whole `signals_evaluate`, first (every signal
  created) and again (nothing changes: the steady state of the nightly run), median of repeats;
- the cost per scope: the whole evaluation divided by the value streams and teams it covers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TODAY = date(2026, 11, 18)
AS_OF = datetime.combine(TODAY, dtime(12), tzinfo=UTC)


def database_url(name: str) -> str:
    base = urlparse(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x"))
    return urlunparse(base._replace(path=f"/{name}"))


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def setup_django(name: str) -> None:
    os.environ["DATABASE_URL"] = database_url(name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(scale: int) -> float:
    """The demo bank at `scale`, every seeding step but the signals; returns seconds."""
    import time_machine
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    from portfolio.demo import demo_seed
    from portfolio.management.commands.seed_demo import DEMO_STEPS

    started = time.perf_counter()
    with time_machine.travel(AS_OF, tick=True):
        call_command("migrate", verbosity=0)
        demo_seed(today=TODAY, password="bench", scale=scale)
        for step in DEMO_STEPS:
            if step.endswith("seed_signals"):
                continue
            print("  ", import_string(step)(today=TODAY), flush=True)
    return time.perf_counter() - started


def measure(portfolio, repeats: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leanpmo.detectors.registry import DETECTORS, run_detectors
    from leanpmo.selectors.signals import detector_inputs, portfolio_thresholds
    from leanpmo.services.signals import signals_evaluate

    thresholds = portfolio_thresholds(portfolio)
    reads, detector_times = [], {info.code: [] for info in DETECTORS}
    runs = None
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            inputs = detector_inputs(portfolio, as_of=AS_OF, thresholds=thresholds)
            reads.append(time.perf_counter() - started)
        runs = run_detectors(inputs, thresholds)
        for run in runs:
            detector_times[run.code].append(run.seconds)
    first = signals_evaluate(portfolio=portfolio, as_of=AS_OF)
    again = [signals_evaluate(portfolio=portfolio, as_of=AS_OF) for _ in range(repeats)]
    assert not any(outcome.changed for outcome in again), "a re-run changed signals"
    return {
        "inputs": inputs,
        "queries": len(queries),
        "read_s": statistics.median(reads),
        "detectors": {
            run.code: (statistics.median(detector_times[run.code]), run) for run in runs or []
        },
        "first_s": first.seconds,
        "created": len(first.created),
        "again_s": statistics.median(outcome.seconds for outcome in again),
    }


def report(scale: int, repeats: int) -> None:
    from portfolio.models import Portfolio
    from teams.models import ProductTeam, TeamMembership
    from valuestreams.models import StatusChange, ValueStream, WorkItem

    print(
        f"Scale {scale}: {ValueStream.objects.count()} value streams, "
        f"{ProductTeam.objects.count()} teams, "
        f"{TeamMembership.objects.values('person').distinct().count()} people, "
        f"{WorkItem.objects.count():,} work items, {StatusChange.objects.count():,} status changes"
    )
    totals = {"read": 0.0, "first": 0.0, "again": 0.0, "scopes": 0, "detect": {}}
    for portfolio in Portfolio.objects.order_by("name"):
        figures = measure(portfolio, repeats)
        inputs = figures["inputs"]
        scopes = len(inputs.value_streams) + len(inputs.teams)
        totals["scopes"] += scopes
        totals["read"] += figures["read_s"]
        totals["first"] += figures["first_s"]
        totals["again"] += figures["again_s"]
        print(
            f"\n{portfolio.name}: {len(inputs.value_streams)} value streams, {len(inputs.teams)} "
            f"teams, {len(inputs.key_results)} open key results, {len(inputs.decisions)} "
            f"decisions, {len(inputs.flow_weeks):,} weekly flow rows"
        )
        print(f"  inputs read: {figures['read_s'] * 1000:8.1f} ms in {figures['queries']} queries")
        print(f"  {'detector':34} {'ms':>8} {'findings':>9} {'checked':>8} {'no data':>8} {'µs/scope':>9}")  # fmt: skip
        for code, (seconds, run) in figures["detectors"].items():
            result = run.result
            totals["detect"][code] = totals["detect"].get(code, 0.0) + seconds
            print(
                f"  {code:34} {seconds * 1000:8.2f} {len(result.findings):9d} "
                f"{result.checked:8d} {len(result.not_enough_data):8d} "
                f"{seconds / scopes * 1e6:9.1f}"
            )
        detect = sum(seconds for seconds, _ in figures["detectors"].values())
        print(f"  all detectors: {detect * 1000:8.1f} ms")
        print(
            f"  whole evaluation, first (creates {figures['created']} signals): "
            f"{figures['first_s'] * 1000:8.1f} ms; again (changes nothing): "
            f"{figures['again_s'] * 1000:8.1f} ms = {figures['again_s'] / scopes * 1000:.2f} ms "
            f"per scope ({scopes} value streams and teams)"
        )
    print(
        f"\nAll portfolios at scale {scale}: inputs {totals['read'] * 1000:.0f} ms, detectors "
        f"{sum(totals['detect'].values()) * 1000:.0f} ms, whole evaluation first "
        f"{totals['first'] * 1000:.0f} ms, again {totals['again'] * 1000:.0f} ms, "
        f"{totals['again'] / totals['scopes'] * 1000:.2f} ms per scope ({totals['scopes']} scopes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10", help="comma-separated copies, e.g. 1,10")
    parser.add_argument("--database", default="steward_signals_bench")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    if len(scales) > 1:  # Django is set up once per process: one process per scale
        for scale in scales:
            subprocess.run(
                [sys.executable, __file__, "--scales", str(scale), "--database", args.database,
                 "--repeats", str(args.repeats)],
                check=True,
            )  # fmt: skip
        return
    scale = scales[0]
    recreate_database(args.database)
    setup_django(args.database)
    print(f"Seeding the demo bank at scale {scale} into {args.database} …", flush=True)
    seconds = seed(scale)
    print(f"Seeded in {seconds:.0f} s.", flush=True)
    report(scale, args.repeats)


if __name__ == "__main__":
    main()
