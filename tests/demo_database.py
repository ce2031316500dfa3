"""The demo bank, seeded once per test run and lent to the modules that read it.

Seeding the whole demo takes many seconds, and a dozen modules read it. The first module that asks,
in whichever pytest-xdist worker, seeds it once into a PostgreSQL database of its own
(``test_<database>_demo``, made from that worker's empty migrated test database as a template)
while it holds an advisory lock; a worker that asks meanwhile waits for the lock and then finds the
demo seeded for this run (the database's comment names the run's id). Every module that asks then
gets a fresh copy of that database in its worker (``<worker's test database>_demo``, ``CREATE
DATABASE … TEMPLATE``, a file copy that takes a second), and Django's default connection points at
the copy while the module runs. The run's last step drops the seeded database (the session's end in
a run without workers, xdist's controller's `pytest_sessionfinish` otherwise; a database left by an
interrupted run is seeded anew by the next, whose id differs). Tests inside the module still run in their own
transaction (``db``) or flush what they committed (``transactional_db``, the browser journeys): the
copy is dropped at the end of the module and the seeded template stays as it was.

The demo is seeded as of ``DEMO_NOON`` with ``DEMO_PASSWORD`` (midday, so that no demo time zone is on
another date). Tasks the seed enqueued after its commits are purged from this worker's queue.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from psycopg import sql

DEMO_NOON = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)
DEMO_TODAY = DEMO_NOON.date()
DEMO_PASSWORD = "secret-pass-123"  # the factories' users' too, so log_in() needs no argument
# the same in every worker of one pytest-xdist run, another in every run
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


def shared_template_name(test_database: str) -> str:
    """The seeded demo's database for a test database (a worker's ``test_x_gw3`` → ``test_x_demo``)."""
    return re.sub(r"_gw\d+$", "", test_database) + "_demo"


@contextmanager
def _maintenance() -> Iterator[psycopg.Connection]:
    """An autocommit connection to the server's ``postgres`` database (to create and drop ours)."""
    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        yield admin


def copy_database(template: str, name: str) -> None:
    """Replace database ``name`` by a copy of ``template``. PostgreSQL copies only a database
    nobody is connected to: this thread's connections are closed, and those other threads of this
    test process left open (a live server's, a heartbeat's) are ended; Django reconnects them."""
    connections.close_all()
    with _maintenance() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [template],
        )
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )


def _drop(name: str) -> None:
    connections.close_all()
    with _maintenance() as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextmanager
def using_database(name: str) -> Iterator[None]:
    """Point Django's default connection (and every thread's, e.g. a live server's) at ``name``."""
    settings_dict = connections["default"].settings_dict  # shared with connections.settings
    original = settings_dict["NAME"]
    connections.close_all()
    settings_dict["NAME"] = name
    try:
        yield
    finally:
        connections.close_all()
        settings_dict["NAME"] = original


def _seed() -> None:
    from config.celery import app

    fast_hashing = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py
    with (
        override_settings(DEMO_PASSWORD=DEMO_PASSWORD, PASSWORD_HASHERS=fast_hashing),
        time_machine.travel(DEMO_NOON, tick=False),
    ):
        call_command("seed_demo", verbosity=0)
    app.control.purge()  # what the seed's commits enqueued is for no worker of this run


def _seeded_for_this_run(admin: psycopg.Connection, template: str) -> bool:
    row = admin.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [template],
    ).fetchone()
    return row is not None and row[0] == f"steward demo seeded by run {RUN_ID}"


@pytest.fixture(scope="session")
def demo_template(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The name of a database holding the seeded demo bank (seeded once per run, by the first
    worker that asks; the others wait for it)."""
    test_database = connections["default"].settings_dict["NAME"]
    template = shared_template_name(test_database)
    with django_db_blocker.unblock(), _maintenance() as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])
        try:
            if not _seeded_for_this_run(admin, template):
                copy_database(test_database, template)
                with using_database(template):
                    _seed()
                admin.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                        sql.Identifier(template),
                        sql.Literal(f"steward demo seeded by run {RUN_ID}"),
                    )
                )
        finally:
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])
    yield template
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # else the controller drops it (conftest.py)
        with django_db_blocker.unblock():
            _drop(template)


def drop_shared_template() -> None:
    """Drop this run's seeded demo (called by xdist's controller once every worker is done)."""
    creation = connection.creation
    _drop(shared_template_name(creation._get_test_db_name()))


@contextmanager
def demo_copy(template: str, django_db_blocker) -> Iterator[None]:
    """A fresh copy of the seeded demo, in this worker, as the default database while the block
    runs."""
    copy = f"{connections['default'].settings_dict['NAME']}_demo_copy"
    with django_db_blocker.unblock():
        copy_database(template, copy)
    with using_database(copy):
        yield
    with django_db_blocker.unblock():
        _drop(copy)


@pytest.fixture(scope="module")
def demo(demo_template, django_db_blocker) -> Iterator[None]:
    """The seeded demo bank for this module's tests (each still in its own transaction)."""
    with demo_copy(demo_template, django_db_blocker):
        yield


@pytest.fixture
def demo_per_test(demo_template, django_db_blocker) -> Iterator[None]:
    """The seeded demo bank for one test that commits (a browser journey, a real worker)."""
    with demo_copy(demo_template, django_db_blocker):
        yield
