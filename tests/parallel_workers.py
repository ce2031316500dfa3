"""A pytest plugin loaded before Django's settings (``-p tests.parallel_workers`` in addopts).

`make test` runs the suite on every core (pytest-xdist). The workers share the machine's Redis,
so each gets its own Celery queue and cache keys (see STEWARD_CELERY_QUEUE and
STEWARD_REDIS_PREFIX in config/settings.py): a task one worker's test enqueues is never run by
the Celery worker process another test started, and a cached answer of one worker's database
(whose ids overlap with another's) is never read by the other. The Celery worker processes that
tests start inherit these variables. xdist sets PYTEST_XDIST_WORKER before it loads plugins.
"""

import os
from urllib.parse import urlsplit

# Two runs on one machine (two checkouts, each with its own DATABASE_URL) share Redis too: the
# database's name keeps their queues apart as well.
_database = urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/") or "embedded"
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ["STEWARD_CELERY_QUEUE"] = f"steward-test-{_database}-{_worker}"
os.environ["STEWARD_REDIS_PREFIX"] = f"steward-test-{_database}-{_worker}"
