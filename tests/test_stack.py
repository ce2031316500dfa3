"""`make run` end to end: migrate, seed, serve, worker and beat; Ctrl-C (SIGINT) stops everything."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.fixture
def scratch_database():
    """A fresh database on the configured server, dropped afterwards."""
    name = f"steward_stack_{uuid.uuid4().hex[:8]}"
    server = settings.DATABASE_URL.rsplit("/", 1)[0]
    query = ""
    if "?" in settings.DATABASE_URL:  # socket URLs carry ?host=...
        query = "?" + settings.DATABASE_URL.split("?", 1)[1]
        server = settings.DATABASE_URL.split("?", 1)[0].rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres{query}", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}{query}"
    with psycopg.connect(f"{server}/postgres{query}", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_make_run_serves_the_demo_with_worker_and_beat_and_ctrl_c_stops_all(
    scratch_database, tmp_path
):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database,
        "REDIS_URL": settings.REDIS_URL,
        "STEWARD_PORT": str(port),
        "STEWARD_DATA_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
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
    try:
        deadline = time.monotonic() + 240
        report = None
        while time.monotonic() < deadline and launcher.poll() is None:
            report = _health(port)
            if report and report.get("celery_workers", 0) >= 1:
                break
            time.sleep(1)
        assert report is not None, "the web server never answered /health/"
        assert report["database"] == "ok"
        assert report["celery_workers"] >= 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as page:
            assert b"Log in to Steward" in page.read()
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.communicate()
    assert "Demo logins" in output
    assert "Steward is up at" in output
    assert launcher.returncode == 0
    leftovers = subprocess.run(["pgrep", "-g", str(launcher.pid)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", f"processes left running: {leftovers.stdout}"
