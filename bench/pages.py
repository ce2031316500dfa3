"""Benchmark of the main pages (not a test): prints server times, query counts, load and bytes.

    .venv/bin/python bench/pages.py                      # 1× and 10×, then the load at 10×
    .venv/bin/python bench/pages.py --sizes 10 --reuse   # measure again what is seeded

For each size it seeds the demo bank (`seed_demo --scale N`: 1× is 8 value streams and 22 teams,
10× is 80 and 220) into its own database (default ``steward_execflow_bench`` on the server of
DATABASE_URL, dropped and re-created per size unless ``--reuse`` finds that size there), then:

- **in-process**, with Django's test client and the production settings (DEBUG off, the
  manifest of a real `collectstatic`): per main page the median and p95 server time of
  ``--requests`` requests after three warm-ups (read again: the sections the process keeps per
  data version are reused, `portfolio.sections`), its query count and its HTML size; and the same
  for the first view after a write (nothing kept: every section built, as after a check-in, a
  saved budget, a signal evaluation or a newly published recompute);
- **against the real stack** (at ``--load-size``): gunicorn started exactly as `make run` starts
  it (`config.stack.web_command`, `config/gunicorn.py`), then
  - the bytes a browser transfers on a first visit of a chart page (the HTML and every stylesheet
    and script it loads, asking for ``br, gzip`` as Chromium does), with the encodings and the
    Cache-Control the static files come with;
  - ``--users`` people logged in at once (a third each executive, Lean PMO and team member) for
    ``--seconds``: each fetches their first page with its static files, then pages of their role
    in random order, reading each for a uniform 1–5 s (3 s on average) before the next — the
    p50 / p95 / p99 of the HTML answers, per page and overall — while the organisation writes:
    a check-in every ``--write-every`` seconds (default 30: 120 an hour, about ten times what
    220 teams checking in weekly on two key results each post in working hours), each followed
    by the portfolio's signal evaluation and the warming of its costliest sections, as the worker
    does, so the kept sections are built again all through the run.

Targets: p95 ≤ 150 ms per page in-process at 10×; the same query count at both sizes; p95 ≤
300 ms for the 30 people on two cores; ≤ 1.5 MB transferred on a chart page's first visit.
The machine's load average is printed before each phase: on a shared machine it says how much of
the CPU the measurement had.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlparse, urlunparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_PAGE_P95_MS = 150
TARGET_LOAD_P95_MS = 300
TARGET_FIRST_VISIT_BYTES = 1_500_000
STATIC_ROOT = ROOT / ".steward" / "bench-static"
PASSWORD = "bench-pass-42"
THINK_SECONDS = (1.0, 5.0)


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
    os.environ["STATIC_ROOT"] = str(STATIC_ROOT)
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["STEWARD_DEMO_PASSWORD"] = PASSWORD
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import config.wsgi  # noqa: F401 (the server's start: its application and its gc.freeze())


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def seeded_scale() -> int | None:
    """The scale of the demo in the database (value streams ÷ 8), None when there is none."""
    from django.db import connection
    from django.db.utils import ProgrammingError

    from valuestreams.models import MetricRun, ValueStream

    try:
        streams = ValueStream.objects.count()
        computed = MetricRun.objects.exists()
    except ProgrammingError:
        connection.close()
        return None
    return streams // 8 if streams and computed else None


def seed(size: int, database: str, reuse: bool) -> str:
    from django.core.management import call_command
    from django.db import connection

    if reuse and seeded_scale() == size:
        return f"{size}×: reusing the demo already seeded in {database}"
    connection.close()
    recreate_database(database)
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("seed_demo", scale=size, stdout=open(os.devnull, "w"))  # noqa: SIM115
    connection.close()
    return f"{size}×: seeded in {time.monotonic() - started:.0f} s"


# --- pages ------------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str
    user: str  # who asks for it in-process
    roles: tuple[str, ...]  # who asks for it under load


def main_pages() -> list[Page]:
    """The main pages of the demo's Everyday Banking portfolio (and the signals inbox if there is
    one on this branch)."""
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from leanpmo.models import FundingPeriod
    from portfolio.models import Portfolio
    from teams.models import ProductTeam
    from valuestreams.models import ValueStream

    portfolio = Portfolio.objects.get(name="Everyday Banking")
    stream = ValueStream.objects.get(portfolio=portfolio, name="Payments & Transfers")
    team = ProductTeam.objects.get(value_stream=stream, name="Instant Payments")
    today = timezone.localdate()
    period = (
        FundingPeriod.objects.filter(portfolio=portfolio, starts_on__lte=today, ends_on__gte=today)
        .order_by("-starts_on")
        .first()
    )
    everyone = ("executive", "pmo", "member")
    money = ("executive", "pmo")
    pages = [
        Page("home", reverse("home"), "executive", everyone),
        Page("portfolio", reverse("portfolio-detail", args=[portfolio.pk]), "executive", everyone),
        Page(
            "value stream", reverse("value-stream-detail", args=[stream.pk]), "executive", everyone
        ),
        Page("team", reverse("team-detail", args=[team.pk]), "executive", everyone),
        Page("investment mix", reverse("investment-mix", args=[portfolio.pk]), "executive", money),
        Page(
            "funding editor",
            reverse("funding-editor", args=[portfolio.pk, period.pk]),
            "pmo",
            ("pmo",),
        ),
        Page("decision log", reverse("decision-log", args=[portfolio.pk]), "executive", money),
        Page("outcomes", reverse("portfolio-outcomes", args=[portfolio.pk]), "executive", everyone),
        Page("kanban", reverse("initiative-board", args=[portfolio.pk]), "executive", everyone),
    ]
    for name in ("signal-inbox", "signals-inbox", "signal-list"):
        try:
            url = reverse(name, args=[portfolio.pk])
        except NoReverseMatch:
            continue
        pages.append(Page("signals inbox", url, "pmo", money))
        break
    return pages


@dataclass
class PageTiming:
    name: str
    median_ms: float
    p95_ms: float
    queries: int
    html_bytes: int
    status: int
    cpu_median_ms: float = 0.0  # of this process: the page's Python, whatever else the machine does
    # the first view after a write: nothing kept by the process (portfolio.sections.KEPT and
    # valuestreams.panels.PUBLISHED emptied, as a write or a newly published run leaves them)
    cold_median_ms: float | None = None
    cold_p95_ms: float | None = None
    cold_queries: int | None = None


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share)) if values else float("nan")


def measure_in_process(pages: list[Page], requests: int) -> list[PageTiming]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import F
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portfolio.models import Portfolio
    from portfolio.sections import KEPT
    from valuestreams.panels import PUBLISHED

    portfolio_id = Portfolio.objects.get(name="Everyday Banking").pk

    def forget() -> None:
        """As after a write: one committed no-op update moves the data version (nothing kept by
        any process or in Redis is current), and this process forgets its flow part too (as if
        a recompute had published)."""
        Portfolio.objects.filter(pk=portfolio_id).update(name=F("name"))
        KEPT.clear()
        PUBLISHED.clear()

    clients = {}
    for username in {page.user for page in pages}:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        clients[username] = client
    results = []
    for page in pages:
        client = clients[page.user]
        for _ in range(3):
            client.get(page.url)
        times, cpu = [], []
        for _ in range(requests):
            started, used = time.perf_counter(), time.process_time()
            response = client.get(page.url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
        timing = PageTiming(
            page.name,
            statistics.median(times),
            percentile(times, 95),
            len(queries.captured_queries),
            len(response.content),
            response.status_code,
            cpu_median_ms=statistics.median(cpu),
        )
        cold = []
        for _ in range(requests):
            forget()
            started = time.perf_counter()
            client.get(page.url)
            cold.append((time.perf_counter() - started) * 1000)
        forget()
        with CaptureQueriesContext(connection) as queries:
            client.get(page.url)
        timing.cold_median_ms = statistics.median(cold)
        timing.cold_p95_ms = percentile(cold, 95)
        timing.cold_queries = len(queries.captured_queries)
        results.append(timing)
    return results


# --- the real stack ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(database: str, port: int, concurrency: str | None, threads: str | None):
    from config.stack import web_command

    env = {
        **os.environ,
        "DATABASE_URL": database_url(database),
        "STATIC_ROOT": str(STATIC_ROOT),
        "DJANGO_DEBUG": "false",
    }
    for name, value in (("WEB_CONCURRENCY", concurrency), ("WEB_THREADS", threads)):
        if value:
            env[name] = value
    log = open(ROOT / ".steward" / "bench-gunicorn.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        web_command(str(port)), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start within a minute; see .steward/bench-gunicorn.log")


def log_in(base: str, username: str):
    import requests

    session = requests.Session()
    login = session.get(urljoin(base, "/accounts/login/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    answer = session.post(
        urljoin(base, "/accounts/login/"),
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": urljoin(base, "/accounts/login/")},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"{username} could not log in: {answer.status_code}")
    return session


ASSET = re.compile(r'<(?:script[^>]+src|link[^>]+href)="(/static/[^"]+)"')
BROWSER = {"Accept-Encoding": "br, gzip, deflate", "Accept": "text/html,*/*"}


@dataclass
class Transfer:
    url: str
    wire_bytes: int
    encoding: str
    cache_control: str


def first_visit(session, base: str, url: str) -> list[Transfer]:
    """What a browser with an empty cache transfers for `url`: the HTML and its static files."""
    transfers = []
    html = fetch(session, urljoin(base, url), stream=True)
    body = html.raw.read(decode_content=False)
    transfers.append(Transfer(url, len(body), html.headers.get("Content-Encoding", "identity"), ""))
    for asset in dict.fromkeys(ASSET.findall(body_text(html, body))):
        answer = fetch(session, urljoin(base, asset), stream=True)
        raw = answer.raw.read(decode_content=False)
        transfers.append(
            Transfer(
                asset,
                len(raw),
                answer.headers.get("Content-Encoding", "identity"),
                answer.headers.get("Cache-Control", ""),
            )
        )
    return transfers


def body_text(response, body: bytes) -> str:
    encoding = response.headers.get("Content-Encoding", "")
    if encoding == "gzip":
        import gzip

        body = gzip.decompress(body)
    elif encoding == "br":
        import brotli

        body = brotli.decompress(body)
    return body.decode("utf-8", "replace")


@dataclass
class LoadResult:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int | str, int] = field(default_factory=dict)
    first_visits: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, ms: float, status: int | str) -> None:
        with self.lock:
            if isinstance(status, int):
                self.latencies.setdefault(name, []).append(ms)
            self.statuses[status] = self.statuses.get(status, 0) + 1


def fetch(session, url: str, **options):
    """GET as a browser does: once more on a fresh connection when the server closed the idle
    one just as the request went out (the keep-alive race)."""
    import requests

    try:
        return session.get(url, headers=BROWSER, **options)
    except requests.ConnectionError:
        return session.get(url, headers=BROWSER, **options)


def one_user(base, username, pages, seconds, result: LoadResult, start: threading.Barrier, seed):
    rng = random.Random(seed)
    session = log_in(base, username)
    mine = [page for page in pages if username in page.roles]
    start.wait()
    deadline = time.monotonic() + seconds
    began = time.perf_counter()
    try:
        first_visit(session, base, mine[0].url)  # the first page, with its static files
    except OSError as exc:  # counted; the person goes on
        result.record(mine[0].name, 0, type(exc).__name__)
    else:
        with result.lock:
            result.first_visits.append((time.perf_counter() - began) * 1000)
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(*THINK_SECONDS))
        page = rng.choice(mine)
        began = time.perf_counter()
        try:
            answer = fetch(session, urljoin(base, page.url))
        except OSError as exc:  # requests' errors are OSErrors: counted, the person goes on
            result.record(page.name, 0, type(exc).__name__)
            continue
        result.record(page.name, (time.perf_counter() - began) * 1000, answer.status_code)


def organisation_writes(every: float, stop: threading.Event, done: list[float]) -> None:
    """While the people read: every `every` seconds someone of a team of the portfolio checks in
    on a key result (a new value), the portfolio's signals are evaluated again and its costliest
    sections warmed, as the Celery worker does after a check-in (leanpmo.tasks.evaluate_signals) —
    two committed writes, so every page section any process kept and the warming did not build
    is built again on its next view. `done` gets the time each write took."""
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from leanpmo.panels.warming import warm_portfolio_pages
    from leanpmo.services.signals import signals_evaluate
    from portfolio.models import Portfolio
    from teams.models import KeyResult, OutcomeUpdate

    portfolio = Portfolio.objects.get(name="Everyday Banking")
    key_results = list(
        KeyResult.objects.filter(objective__portfolio=portfolio, closed=False)
        .exclude(objective__team=None)
        .select_related("objective__team")
        .order_by("pk")[:40]
    )
    people = {
        kr.pk: kr.objective.team.memberships.values_list("person", flat=True).first()
        for kr in key_results
    }
    key_results = [kr for kr in key_results if people[kr.pk]]
    rng = random.Random(7)
    try:
        while not stop.wait(every):
            began = time.perf_counter()
            kr = rng.choice(key_results)
            low, high = sorted((float(kr.baseline), float(kr.target)))
            OutcomeUpdate.objects.create(
                key_result=kr,
                posted_by_id=people[kr.pk],
                posted_at=timezone.now(),
                value=Decimal(f"{rng.uniform(low, high):.2f}"),
                confidence=rng.randint(1, 5),
                status=OutcomeUpdate.Status.ON_TRACK,
            )
            signals_evaluate(portfolio=portfolio, as_of=timezone.now())
            warm_portfolio_pages(portfolio, now=timezone.now())  # as leanpmo.tasks does after it
            done.append((time.perf_counter() - began) * 1000)
    finally:
        connection.close()


def run_load(base: str, pages: list[Page], users: int, seconds: float) -> LoadResult:
    result = LoadResult()
    roles = ("executive", "pmo", "member")
    start = threading.Barrier(users)
    threads = [
        threading.Thread(
            target=one_user,
            args=(base, roles[n % 3], pages, seconds, result, start, n),
            daemon=True,
        )
        for n in range(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return result


# --- the report -------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report_pages(results: dict[int, list[PageTiming]]) -> str:
    sizes = sorted(results)
    head = (
        "| page | "
        + " | ".join(f"{s}× median | {s}× p95 | {s}× CPU | {s}× queries" for s in sizes)
        + " | KiB (largest) |"
    )
    lines = [head, "|" + "---|" * (2 + 4 * len(sizes))]
    names = [timing.name for timing in results[sizes[0]]]
    for name in names:
        cells = []
        largest = 0
        for size in sizes:
            timing = next(t for t in results[size] if t.name == name)
            flag = "" if timing.status == 200 else f" ({timing.status})"
            cells += [f"{timing.median_ms:.0f} ms{flag}", f"{timing.p95_ms:.0f} ms",
                      f"{timing.cpu_median_ms:.0f} ms", str(timing.queries)]  # fmt: skip
            largest = max(largest, timing.html_bytes)
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {largest / 1024:.0f} |")
    lines.append(
        "\nmedian and p95: server time of the request (the clock on the wall); CPU: the median "
        "time this process spent on the CPU for it (Python and the templates; PostgreSQL's work "
        "is the rest of the server time, and so is waiting for a core on a busy machine).\n"
    )
    lines += [
        "**The first view after a write** (a check-in, a saved budget, a signal evaluation or a "
        "newly published recompute: nothing kept by the process, every section built):\n",
        "| page | " + " | ".join(f"{s}× median | {s}× p95 | {s}× queries" for s in sizes) + " |",
        "|" + "---|" * (1 + 3 * len(sizes)),
    ]
    for name in names:
        cells = []
        for size in sizes:
            timing = next(t for t in results[size] if t.name == name)
            cells += [f"{timing.cold_median_ms:.0f} ms", f"{timing.cold_p95_ms:.0f} ms",
                      str(timing.cold_queries)]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    largest_size = sizes[-1]
    slow = [t.name for t in results[largest_size] if t.p95_ms > TARGET_PAGE_P95_MS]
    lines.append(
        f"p95 ≤ {TARGET_PAGE_P95_MS} ms per page in-process at {largest_size}×, read again: "
        + (verdict(not slow) if not slow else f"MISSED by {', '.join(slow)}")
    )
    slow = [t.name for t in results[largest_size] if t.cold_p95_ms > TARGET_PAGE_P95_MS]
    lines.append(
        f"p95 ≤ {TARGET_PAGE_P95_MS} ms per page in-process at {largest_size}×, the first view "
        "after a write: " + (verdict(not slow) if not slow else f"MISSED by {', '.join(slow)}")
    )
    if len(sizes) > 1:
        grown = [
            name
            for name in names
            if len({next(t for t in results[s] if t.name == name).queries for s in sizes}) > 1
        ]
        lines.append(
            "the same query count at every size: "
            + (verdict(True) if not grown else f"MISSED by {', '.join(grown)}")
        )
    return "\n".join(lines)


def report_transfers(name: str, transfers: list[Transfer]) -> str:
    total = sum(t.wire_bytes for t in transfers)
    lines = [f"First visit of the {name} page (empty cache, Accept-Encoding: br, gzip):", ""]
    lines += ["| file | bytes on the wire | encoding | Cache-Control |", "|---|---|---|---|"]
    for t in transfers:
        lines.append(f"| {t.url} | {t.wire_bytes:,} | {t.encoding} | {t.cache_control or '—'} |")
    lines.append(
        f"| **total** | **{total:,}** ({total / 1e6:.2f} MB) | | |\n\n"
        f"≤ {TARGET_FIRST_VISIT_BYTES / 1e6:.1f} MB on a chart page's first visit: "
        f"{verdict(total <= TARGET_FIRST_VISIT_BYTES)}"
    )
    return "\n".join(lines)


def report_load(result: LoadResult, users: int, seconds: float, config: str) -> str:
    every = [ms for values in result.latencies.values() for ms in values]
    p95 = percentile(every, 95)
    lines = [
        f"{users} people logged in at once for {seconds:.0f} s ({config}), reading each page "
        f"{THINK_SECONDS[0]:.0f}–{THINK_SECONDS[1]:.0f} s: {len(every):,} pages, "
        f"{len(every) / seconds:.1f} a second; answers "
        f"{dict(sorted(result.statuses.items(), key=lambda item: str(item[0])))}",
        "",
        "| page | requests | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    for name, values in sorted(result.latencies.items()):
        lines.append(
            f"| {name} | {len(values)} | {percentile(values, 50):.0f} ms | "
            f"{percentile(values, 95):.0f} ms | {percentile(values, 99):.0f} ms | "
            f"{max(values):.0f} ms |"
        )
    lines.append(
        f"| **every page** | {len(every)} | **{percentile(every, 50):.0f} ms** | "
        f"**{p95:.0f} ms** | {percentile(every, 99):.0f} ms | {max(every, default=0):.0f} ms |"
    )
    if result.first_visits:
        lines.append(
            f"\nFirst visits (HTML and static files, all {users} at once at the start): "
            f"p50 {percentile(result.first_visits, 50):.0f} ms, "
            f"p95 {percentile(result.first_visits, 95):.0f} ms"
        )
    lines.append(f"\np95 ≤ {TARGET_LOAD_P95_MS} ms for {users} people: "
                 f"{verdict(p95 <= TARGET_LOAD_P95_MS)}")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10", help="demo scales, commas")
    parser.add_argument("--database", default="steward_execflow_bench")
    parser.add_argument("--reuse", action="store_true", help="keep a database of the same size")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--load-size", type=int, help="scale of the load test (default: largest)")
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--no-load", action="store_true", help="in-process figures only")
    parser.add_argument(
        "--write-every", type=float, default=30.0,
        help="seconds between check-ins (each with a signal evaluation) during the load; 0: none",
    )  # fmt: skip
    parser.add_argument("--web-concurrency", help="WEB_CONCURRENCY for gunicorn (default: its own)")
    parser.add_argument("--web-threads", help="WEB_THREADS for gunicorn (default: its own)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load_size = args.load_size or sizes[-1]
    setup_django(args.database)
    from django.core.management import call_command

    from config.gunicorn import threads as default_threads
    from config.gunicorn import workers as default_workers

    print(f"# page benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(
        f"commit {commit}; machine: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}; {load_average()}\n",
        flush=True,
    )
    call_command("collectstatic", interactive=False, verbosity=0)
    results: dict[int, list[PageTiming]] = {}
    for size in sizes:
        print(seed(size, args.database, args.reuse), flush=True)
        print(f"{size}× in-process, {args.requests} requests a page; {load_average()}", flush=True)
        results[size] = measure_in_process(main_pages(), args.requests)
        if size == load_size and not args.no_load:
            load_section = measure_stack(args, default_workers, default_threads)
    print("\n## In-process (Django test client, production settings)\n")
    print(report_pages(results))
    if not args.no_load and load_size in results:
        print(load_section)


def measure_stack(args, default_workers: int, default_threads: int) -> str:
    from django.db import connection

    connection.close()
    pages = main_pages()
    port = free_port()
    workers = args.web_concurrency or str(default_workers)
    threads = args.web_threads or str(default_threads)
    config = f"gunicorn as make run starts it: {workers} workers × {threads} threads (gthread)"
    process = start_web(args.database, port, args.web_concurrency, args.web_threads)
    base = f"http://127.0.0.1:{port}"
    try:
        session = log_in(base, "executive")
        sections = ["\n## The real stack\n", config + "\n"]
        for name in ("value stream", "team"):
            page = next(p for p in pages if p.name == name)
            sections.append(report_transfers(name, first_visit(session, base, page.url)) + "\n")
        print(f"load: {args.users} people for {args.seconds:.0f} s; {load_average()}", flush=True)
        stop, writes = threading.Event(), []
        writer = None
        if args.write_every > 0:
            writer = threading.Thread(
                target=organisation_writes, args=(args.write_every, stop, writes), daemon=True
            )
            writer.start()
        result = run_load(base, pages, args.users, args.seconds)
        stop.set()
        if writer is not None:
            writer.join(60)
        sections.append(report_load(result, args.users, args.seconds, config))
        if args.write_every > 0:
            sections.append(
                f"\nMeanwhile the organisation wrote: {len(writes)} check-ins, one every "
                f"{args.write_every:.0f} s, each followed by the portfolio's signal evaluation "
                f"and warming (median {statistics.median(writes) if writes else 0:.0f} ms a write, "
                "its evaluation and the warming, on the same two cores); after each, the sections "
                "the warming does not build are built again by the first view."
            )
        else:
            sections.append(
                "\nNo writes during the load (--write-every 0): every section stays kept."
            )
        sections.append(f"\nafter the load: {load_average()}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return "\n".join(sections)


if __name__ == "__main__":
    main()
