"""gunicorn's settings wherever Steward's web server runs: `make run`, the Docker image, compose.

Loaded with `gunicorn -c python:config.gunicorn config.wsgi`; the bind address stays on the
command line. Every value comes from the environment:

- `WEB_CONCURRENCY`: worker processes. Default: one per CPU core the process may use, plus one.
  A page spends most of its time in Python (templates, pandas), which one process runs on one
  core at a time, so more processes than cores buy little but memory (~200 MB each).
- `WEB_THREADS`: threads per worker (gthread). Default 4. While one thread waits for PostgreSQL
  or Redis, or sends a large response to a slow client, the others run; a burst of requests waits
  in threads rather than in the listen queue.

`bench/pages.py` measured 30 concurrent executives on two cores with these defaults (see
`bench/RESULTS.md`).
"""

from __future__ import annotations

import os


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _positive(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {value!r}.") from None
    if number < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {value!r}.")
    return number


workers = _positive("WEB_CONCURRENCY", _cores() + 1)
threads = _positive("WEB_THREADS", 4)
worker_class = "gthread"
# A browser's next click within 5 s reuses its connection (gunicorn's default is 2 s); an idle
# connection waits in the worker's poller, not in a thread.
keepalive = 5
# Waits longer than the slowest page (an XLSX export) before a stuck worker is replaced.
timeout = 60
