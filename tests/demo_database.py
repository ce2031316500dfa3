"""The demo bank, seeded once per test run and lent to the modules that read it.

Seeding the whole demo takes many seconds, and a dozen modules read it. The first module that asks
seeds it once into a PostgreSQL database of its own (``<test database>_demo``, made from the empty
migrated test database as a template); every module that asks then gets a fresh copy of that
database (``CREATE DATABASE … TEMPLATE``, a file copy that takes a second), and Django's default
connection points at the copy while the module runs. Tests inside the module still run in their own
transaction (``db``) or flush what they committed (``transactional_db``, the browser journeys): the
copy is dropped at the end of the module and the seeded template stays as it was.

The demo is seeded as of ``DEMO_NOON`` with ``DEMO_PASSWORD`` (midday, so that no demo time zone is on
another date). Tasks the seed enqueued after its commits are purged from this worker's queue.
"""

from __future__ import annotations

import datetime as dt
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


@pytest.fixture(scope="session")
def demo_template(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The name of a database holding the seeded demo bank (seeded once per run and worker)."""
    test_database = connections["default"].settings_dict["NAME"]
    template = f"{test_database}_demo"
    with django_db_blocker.unblock():
        copy_database(test_database, template)
        with using_database(template):
            _seed()
    yield template
    with django_db_blocker.unblock():
        _drop(template)


@contextmanager
def demo_copy(template: str, django_db_blocker) -> Iterator[None]:
    """A fresh copy of the seeded demo as the default database while the block runs."""
    copy = f"{template}_copy"
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
