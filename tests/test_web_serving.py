"""How the web server serves: static files hashed, compressed once and cached for good; gunicorn's
processes and threads from the environment."""

from __future__ import annotations

import gzip
import importlib
import os
import re
import sys

import pytest
from django.core.management import call_command
from django.test import Client

from config import stack

pytestmark = pytest.mark.django_db


@pytest.fixture
def static_site(tmp_path, settings):
    """A collectstatic of two small files into a fresh STATIC_ROOT with the production storage."""
    source = tmp_path / "source"
    (source / "js").mkdir(parents=True)
    (source / "js" / "app.js").write_text("// app\n" + "var answer = 42;\n" * 400)
    (source / "site.css").write_text("body { color: #1c2430; }\n" * 300)
    root = tmp_path / "static"
    settings.STATIC_ROOT = root
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "config.staticstorage.StaticStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return root


def test_collectstatic_keeps_hashed_files_with_gzip_and_brotli_copies(static_site):
    names = sorted(p.name for p in (static_site / "js").iterdir())
    assert len(names) == 3
    hashed = names[0]
    assert re.fullmatch(r"app\.[0-9a-f]{12}\.js", hashed)
    assert names[1:] == [f"{hashed}.br", f"{hashed}.gz"]


def test_a_second_collectstatic_compresses_nothing_again(static_site):
    compressed = next((static_site / "js").glob("*.js.br"))
    compressed.write_bytes(b"marker: not recompressed")
    call_command("collectstatic", interactive=False, verbosity=0)
    assert compressed.read_bytes() == b"marker: not recompressed"


def test_whitenoise_serves_hashed_files_compressed_with_a_far_future_cache(static_site, settings):
    from django.templatetags.static import static

    settings.DEBUG = False
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    url = static("js/app.js")
    assert url != "/static/js/app.js"  # the hashed name from the manifest
    client = Client()  # a new client builds the middleware with these settings
    response = client.get(url, headers={"accept-encoding": "gzip, br"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response["Vary"] == "Accept-Encoding"
    body = b"".join(response.streaming_content)
    assert len(body) < 600  # 6 KB of JavaScript, compressed
    gzipped = client.get(url, headers={"accept-encoding": "gzip"})
    assert gzipped["Content-Encoding"] == "gzip"


def _gunicorn_settings(monkeypatch, **env: str):
    for name in ("WEB_CONCURRENCY", "WEB_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("config.gunicorn", None)
    return importlib.import_module("config.gunicorn")


def test_gunicorn_runs_a_process_per_core_plus_one_with_four_threads_by_default(monkeypatch):
    conf = _gunicorn_settings(monkeypatch)
    assert conf.workers == len(os.sched_getaffinity(0)) + 1
    assert conf.threads == 4
    assert conf.worker_class == "gthread"


def test_gunicorn_processes_and_threads_come_from_the_environment(monkeypatch):
    conf = _gunicorn_settings(monkeypatch, WEB_CONCURRENCY="5", WEB_THREADS="8")
    assert (conf.workers, conf.threads) == (5, 8)
    empty = _gunicorn_settings(monkeypatch, WEB_CONCURRENCY="", WEB_THREADS=" ")
    assert empty.threads == 4


@pytest.mark.parametrize("value", ["0", "two", "-3"])
def test_a_bad_web_concurrency_stops_gunicorn_naming_the_variable(monkeypatch, value):
    with pytest.raises(SystemExit, match=f"WEB_CONCURRENCY must be a whole number .*{value}"):
        _gunicorn_settings(monkeypatch, WEB_CONCURRENCY=value)
    sys.modules.pop("config.gunicorn", None)


def test_make_run_starts_gunicorn_with_these_settings():
    argv = stack.web_command("8123")
    assert argv[1:4] == ["--config", "python:config.gunicorn", "config.wsgi"]
    assert "127.0.0.1:8123" in argv


def test_the_settings_serve_static_files_through_the_compressing_storage():
    from config import settings as production  # the module's own values, not the tests' overrides

    assert production.STORAGES["staticfiles"]["BACKEND"] == "config.staticstorage.StaticStorage"
    assert production.WHITENOISE_KEEP_ONLY_HASHED_FILES is True


def test_pages_are_gzipped_for_browsers_that_accept_it(org, client_for):
    from django.urls import reverse

    client = client_for("member")
    url = reverse("portfolio-detail", args=[org.portfolio.pk])
    plain = client.get(url)
    assert "Content-Encoding" not in plain
    zipped = client.get(url, headers={"accept-encoding": "gzip, br"})
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content).startswith(b"<!doctype html>")
