"""The SECRET_KEY: refused when missing or published outside DEBUG; `make run` makes and keeps one."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.embedded import SECRET_KEY_FILE, SERVICES_FILE, start_missing_services

ROOT = Path(__file__).resolve().parents[1]


def _environment(data_dir: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_DEBUG"}}
    return {
        **env,
        "STEWARD_DATA_DIR": str(data_dir),
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        **values,
    }


def _manage_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    "key", [None, "", "change-me-to-a-long-random-string", "django-insecure-development-only"]
)
def test_without_debug_a_missing_or_published_key_is_refused_in_one_line(tmp_path, key):
    env = _environment(tmp_path, DJANGO_DEBUG="false")
    if key is not None:
        env["SECRET_KEY"] = key
    result = _manage_check(env)
    assert result.returncode == 4
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("steward: SECRET_KEY is not set")
    assert "DJANGO_DEBUG=true" in lines[0]


def test_gunicorn_stops_at_once_without_a_key(tmp_path):
    env = _environment(tmp_path, DJANGO_DEBUG="false")
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "config.wsgi",
         "--bind", "127.0.0.1:0", "--workers", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 4  # "App failed to load": no restart loop
    assert "steward: SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_a_key(tmp_path):
    result = _manage_check(_environment(tmp_path, DJANGO_DEBUG="true"))
    assert result.returncode == 0, result.stderr


def test_the_launcher_makes_a_key_keeps_it_and_hands_it_to_manage_py(tmp_path, monkeypatch):
    for name, value in _environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SECRET_KEY")
    services = start_missing_services()  # DATABASE_URL / REDIS_URL set: nothing embedded starts
    try:
        key = services.env["SECRET_KEY"]
        assert len(key) >= 50
        assert stat.S_IMODE((tmp_path / SECRET_KEY_FILE).stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / SERVICES_FILE).stat().st_mode) == 0o600
        assert start_missing_services().env["SECRET_KEY"] == key  # kept for the next run
        # `manage.py` beside `make run` finds it, DJANGO_DEBUG off
        assert _manage_check(_environment(tmp_path, DJANGO_DEBUG="false")).returncode == 0
    finally:
        services.stop()
    assert _manage_check(_environment(tmp_path, DJANGO_DEBUG="false")).returncode == 4


def test_a_key_from_the_environment_wins_and_nothing_is_written(tmp_path, monkeypatch):
    for name, value in _environment(tmp_path, SECRET_KEY="x" * 60).items():
        monkeypatch.setenv(name, value)
    services = start_missing_services()
    assert "SECRET_KEY" not in services.env
    assert not (tmp_path / SECRET_KEY_FILE).exists()
