"""`make run` end to end: migrate, seed, serve, worker and beat; a process that dies (the worker, the
embedded Redis) is restarted and the stack keeps serving; Ctrl-C (SIGINT) stops everything."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from config.embedded import read_services_file
from tests.demo_database import copy_database

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scratch_database(transactional_db, django_db_blocker):
    """A fresh database on the configured server, dropped afterwards: a copy of the empty test
    database, which pytest-django made by running every migration on an empty database (that
    proof is not made again here: `make run`'s migrate finds nothing to apply)."""
    name = f"steward_stack_{uuid.uuid4().hex[:8]}"
    server = settings.DATABASE_URL.rsplit("/", 1)[0]
    query = ""
    if "?" in settings.DATABASE_URL:  # socket URLs carry ?host=...
        query = "?" + settings.DATABASE_URL.split("?", 1)[1]
        server = settings.DATABASE_URL.split("?", 1)[0].rsplit("/", 1)[0]
    with django_db_blocker.unblock():
        copy_database(connections["default"].settings_dict["NAME"], name)
    with psycopg.connect(f"{server}/{name}{query}") as conn:
        users = conn.execute("SELECT count(*) FROM auth_user").fetchone()[0]
    assert users == 0, "the test database was not left empty by an earlier test"
    yield f"{server}/{name}{query}"
    with psycopg.connect(f"{server}/postgres{query}", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _status(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read()
    except OSError:  # not listening (yet)
        return 0, b""


def _children(pid: int, marker: str) -> list[int]:
    """The pids of the launcher's child processes whose command line contains ``marker``."""
    listing = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(line.split()[0]) for line in listing.splitlines() if marker in line]


def _child(pid: int, marker: str) -> int:
    found = _children(pid, marker)
    assert len(found) == 1, f"not one child {marker!r} of {pid}: {found}"
    return found[0]


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_make_run_serves_the_demo_restarts_what_dies_and_only_ctrl_c_stops_all(
    scratch_database, tmp_path
):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},  # the embedded Redis
        "DATABASE_URL": scratch_database,
        "STEWARD_PORT": str(port),
        "STEWARD_DATA_DIR": str(tmp_path),
        # kept between runs: brotli compresses plotly.js once, not at every run of this test
        "STATIC_ROOT": str(ROOT / ".steward" / "test-static"),
        "WEB_CONCURRENCY": "1",
        "CELERY_CONCURRENCY": "1",
    }
    launcher = subprocess.Popen(
        [sys.executable, "-m", "config.stack", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        # as when started in the background by a shell: SIGINT arrives ignored, Ctrl-C must still work
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True)
    reader.start()

    def said(text: str) -> bool:
        return any(text in line for line in list(lines))

    def workers_answer() -> bool:
        status, body = _status(port, "/health/")
        return status == 200 and json.loads(body)["celery_workers"] >= 1

    try:
        assert _wait_for(workers_answer, 240), "the stack never reported a Celery worker"
        assert _status(port, "/accounts/login/")[0] == 200
        redis_port = int(read_services_file(tmp_path)["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])

        # a child that dies is restarted, with a line in the log
        os.kill(_child(launcher.pid, " worker "), signal.SIGKILL)
        assert _wait_for(lambda: said("steward: celery worker restarted"), 30), lines[-20:]
        assert said("steward: celery worker stopped (exit code -9); restarting it in 1 s")
        assert _wait_for(workers_answer, 60), "the restarted worker never answered"

        # the embedded Redis dies: the stack keeps serving and says what is down, Redis comes back
        # on its port and the worker reconnects
        os.kill(_child(launcher.pid, "redis-server"), signal.SIGKILL)
        status, body = _status(port, "/health/")
        assert status == 503
        assert json.loads(body)["redis"].startswith("error: ")
        assert _status(port, "/accounts/login/")[0] == 200
        assert _wait_for(lambda: said("steward: embedded Redis restarted"), 30), lines[-20:]
        assert _wait_for(workers_answer, 90), "the worker never reconnected to the new Redis"
        assert launcher.poll() is None

        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if launcher.poll() is None:
            for redis_server in _children(launcher.pid, "redis-server"):  # in its own session
                os.kill(redis_server, signal.SIGKILL)
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    output = "".join(lines)
    assert "Demo logins" in output
    assert "Steward is up at" in output
    assert launcher.returncode == 0
    leftovers = subprocess.run(["pgrep", "-g", str(launcher.pid)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", f"processes left running: {leftovers.stdout}"
    with pytest.raises(ConnectionRefusedError):  # the embedded Redis stopped too
        socket.create_connection(("127.0.0.1", redis_port), timeout=2).close()
