"""The people every test talks about, the organisation they work in, and a client per person.

Roles in `org.portfolio`: `executive`, `pmo` (Lean PMO), `member` (a seat in `org.team`),
`outsider` (logged in, no role anywhere), `admin` (superuser), and `anonymous` (not logged in).
`org.other_portfolio` has nobody but the admin, so reading it is the outsider case for everyone.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client

from portfolio.models import Portfolio
from teams.models import ProductTeam
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


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Fast password hashing; static files straight from the source tree (no collectstatic run)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` process on the configured Redis, using the test database.

    Tests that use it see committed data only (transactional_db), exactly as production workers do.
    """
    from django.db import connection

    from config.celery import app

    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict)}
    hostname = f"test-{uuid.uuid4().hex[:8]}@%h"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            hostname,
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            assert worker.poll() is None, "the Celery worker exited during start-up"
            assert time.monotonic() < deadline, "the Celery worker did not answer a ping in 30 s"
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
