"""Steward's settings: one module, every value from the environment (see .env.example)."""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.csp import CSP

from config.embedded import data_dir, read_services_file
from portfolio.sso.config import sso_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


_embedded = read_services_file()

# keys that have been public (an old fallback, the example file): never good outside DEBUG
PUBLISHED_SECRET_KEYS = {
    "insecure-development-key-set-SECRET_KEY-in-production",
    "change-me-to-a-long-random-string",
    "django-insecure-development-only",
}

DEBUG = env_bool("DJANGO_DEBUG")
# `make run` and `make test` hand over a random key kept in the data folder (config.embedded).
SECRET_KEY = os.environ.get("SECRET_KEY") or _embedded.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-development-only"  # public on purpose; check --deploy flags it
if not SECRET_KEY or (not DEBUG and SECRET_KEY in PUBLISHED_SECRET_KEYS):
    # one line, no traceback; exit status 4 is gunicorn's "App failed to load" (it stops at once)
    sys.stderr.write(
        "steward: SECRET_KEY is not set (or is a published example): set it to a long random "
        "string, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))', or set "
        "DJANGO_DEBUG=true for local development.\n"
    )
    raise SystemExit(4)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"
)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HTTPS (Django's deployment checklist). Secure cookies mean the site is served over HTTPS, so plain
# HTTP is redirected unless SECURE_SSL_REDIRECT says otherwise; /health/ answers on HTTP for probes.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# HSTS is remembered by browsers: start with a short time (e.g. 3600), then a year (31536000).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Reverse proxies in front of gunicorn that set X-Forwarded-For / -Proto (0: trust neither header).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT") or 0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every page's scripts and styles come from our own static files (plotly.js included): no inline
# script, no eval. plotly.js sets style attributes on what it draws (style-src-attr), adds its
# rules to an empty <style> through the CSSOM (the hash of ""), and injects MapLibre's stylesheet
# (its hash for plotly.js 4.1; after an upgrade the browser tests name the new one). The API docs
# have their own policy (API_DOCS_CSP).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [
        CSP.SELF,
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
    ],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Swagger UI and ReDoc (drf-spectacular-sidecar) add <style> elements, ReDoc searches in a blob:
# worker and shows its logo from its site; their scripts still come from our static files only.
API_DOCS_CSP = {
    **SECURE_CSP,
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
    "img-src": [CSP.SELF, "data:", "https://cdn.redoc.ly"],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "portfolio",
    "valuestreams",
    "teams",
    "leanpmo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML pages gzipped (config/compression.py); below WhiteNoise, whose files come compressed
    "config.compression.PageGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pghistory.middleware.HistoryMiddleware",  # audit history: who and which URL made a change
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into its 429 page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or _embedded.get(
    "DATABASE_URL", f"postgresql://postgres@/steward?host={data_dir() / 'pg'}"
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or _embedded.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Several Steward instances (or the test suite's parallel workers) may share one Redis: each gets
# its own cache keys and its own Celery queue.
REDIS_KEY_PREFIX = os.environ.get("STEWARD_REDIS_PREFIX", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        # a Redis that hangs makes /health/ say so within seconds instead of hanging with it
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("STEWARD_CELERY_QUEUE") or "celery"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "3600"))
# A broker outage never stops a worker: it reconnects for as long as it takes (Celery's default
# gives up after 100 attempts, about 45 minutes, and the worker exits), running tasks finish
# (their job rows say what happened; cancelling them would only throw their work away), and the
# consumer survives Celery 5.7's failing clean-up of the lost connection (config.celery).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_CONSUMER = "config.celery:BrokerLossConsumer"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # a broker that vanishes without closing its sockets fails a publish after seconds (redis-py
    # waits forever by default); BRPOP polls every second, well within these
    "socket_connect_timeout": 5,
    "socket_timeout": 10,
    "socket_keepalive": True,
    # an unacknowledged (acks_late) message is redelivered after this long: longer than any task
    # may run, so a running task is never handed to a second worker
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 600,
}
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "portfolio.tasks.beat_heartbeat", "schedule": 60.0},
    # the page sections' data version forgets changes older than an hour (portfolio.sections)
    "data-changes-prune": {
        "task": "portfolio.tasks.prune_data_changes",
        "schedule": crontab(minute=40),
    },
    # lost recompute and import jobs are sent again; every portfolio is recomputed fully once a
    # day, by the first hourly beat after its own local midnight
    "job-sweep": {"task": "valuestreams.tasks.sweep_jobs", "schedule": 60.0},
    "recompute-nightly": {
        "task": "valuestreams.tasks.recompute_all_portfolios_nightly",
        "schedule": crontab(minute=10),
    },
    # signals: lost evaluations re-enqueued; every portfolio nightly; digests hourly (each
    # portfolio's Monday morning in its own time zone)
    "signals-sweep": {"task": "leanpmo.tasks.sweep_signal_evaluations", "schedule": 60.0},
    "signals-nightly": {
        "task": "leanpmo.tasks.evaluate_all_signals_nightly",
        "schedule": crontab(hour=3, minute=15),
    },
    "signals-digest": {
        "task": "leanpmo.tasks.send_weekly_digests",
        "schedule": crontab(minute=5),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in throttling (django-axes): failures are counted per username and, separately, per client
# address; whichever reaches the limit is paused for the cool-off (a wrong password during the
# pause starts it again), on every sign-in path: the login page, the admin's, any later one. Every
# failure is kept (AccessFailureLog, in the admin) with whether it caused a lockout; successful
# sign-ins are kept too (AccessLog).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a paused sign-in before the password
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT") or 5)
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES") or 15))
# a success does not wipe the address's count: one known password must not reset other guessing
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# ipware's proxy counting does not match proxies that append the client's address; see client_address
AXES_CLIENT_IP_CALLABLE = "config.login_throttle.client_address"
AXES_LOCKOUT_CALLABLE = "config.login_throttle.lockout_response"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Single sign-on (OpenID Connect) and who may use a password: STEWARD_OIDC_* and STEWARD_PASSWORD_LOGIN
# (see portfolio/sso/config.py and .env.example); off, with nothing changed, unless STEWARD_OIDC_ISSUER
# is set. A value that cannot work stops start-up with a message naming the variable.
STEWARD_SSO = sso_settings(os.environ)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or data_dir() / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.staticfinders.PlotlyJsFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # hashed names served with a far-future immutable Cache-Control, gzip and brotli copies
    "staticfiles": {"BACKEND": "config.staticstorage.StaticStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

# The largest request body read into memory (file uploads excluded: they stream to disk). Ingest
# batches are the largest bodies: at most 5,000 records (valuestreams.parsing.batch.MAX_RECORDS) of 4 KB
# on average, which holds every text at its documented maximum (key, type and team 120, source 40,
# title and url 500 characters: about 1.6 KB of JSON with the field names and times) plus a dozen
# status changes with 120-character statuses (about 2.2 KB). So every documented batch fits:
# 5,000 × 4 KB = 20 MB. A larger body answers 413 with this limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("STEWARD_MAX_BODY_BYTES", 5000 * 4000))

# The largest uploaded file (an import, a CSV of budgets): checked while it streams in, before
# anything reads it into memory (portfolio.uploads). In MB (10^6 bytes), as the messages say.
STEWARD_MAX_UPLOAD_BYTES = int(os.environ.get("STEWARD_MAX_UPLOAD_MB", "50")) * 1_000_000
FILE_UPLOAD_HANDLERS = [
    "portfolio.uploads.UploadLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

REST_FRAMEWORK = {
    # the token is recognised everywhere so that PeopleOnly can tell it plainly that it may not read
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portfolio.api.authentication.IntegrationTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portfolio.api.authentication.PeopleOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "portfolio.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # related objects are filtered by id, never offered as a list of every row (portfolio.api.access)
    "DEFAULT_FILTER_BACKENDS": ["portfolio.api.access.IdFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "portfolio.api.schema.StewardAutoSchema",
    # one error shape: a 400 keyed by the client's fields (non_field_errors otherwise)
    "EXCEPTION_HANDLER": "portfolio.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Steward API",
    "DESCRIPTION": "Lean portfolio governance: portfolios, value streams, product teams.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # several models have a `kind` or `status` field with different choices: name each set once
    "ENUM_NAME_OVERRIDES": {
        "MetricRunKindEnum": "valuestreams.models.MetricRun.Kind",
        "JobStatusEnum": "valuestreams.models.JobStatus",
        "FlowStateEnum": "valuestreams.models.FlowState",
        "GuardrailKindEnum": "leanpmo.models.Guardrail.Kind",
        "DecisionKindEnum": "leanpmo.models.DecisionKind",
        "FundingPeriodStatusEnum": "leanpmo.models.FundingPeriod.Status",
        "OutcomeStatusEnum": "teams.models.OutcomeUpdate.Status",
        "ObjectiveLevelEnum": "teams.models.Objective.Level",
        "InitiativeStateEnum": "leanpmo.models.InitiativeState",
        "WorkShapeEnum": "leanpmo.models.WorkShape",
        "FundingModeEnum": "leanpmo.models.FundingMode",
    },
}

# `?as_of=` on the metric lists computes live: at most this many computations per person
# (DRF's rate syntax), and the same question is answered from the cache until the next recompute.
LIVE_METRICS_RATE = os.environ.get("STEWARD_LIVE_METRICS_RATE", "30/hour")
LIVE_METRICS_CACHE_SECONDS = 3600

# Page sections (scorecard, investment charts, outcome roll-ups) are kept per process and data
# version and built again after any write (portfolio.sections); off: built on every request.
STEWARD_KEEP_SECTIONS = env_bool("STEWARD_KEEP_SECTIONS", True)
# A kept section that reads a table without a data-change trigger fails (on in the tests).
STEWARD_CHECK_KEPT_READS = env_bool("STEWARD_CHECK_KEPT_READS")

DEMO_PASSWORD = os.environ.get("STEWARD_DEMO_PASSWORD", "demo")

# E-mail (the weekly signals digest): printed to the console unless an SMTP host is configured
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_email_host = os.environ.get("EMAIL_HOST", "")
_email_backend = os.environ.get("EMAIL_BACKEND") or (
    SMTP_BACKEND if _email_host else "django.core.mail.backends.console.EmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": {
            "host": _email_host,
            "port": int(os.environ.get("EMAIL_PORT", "587")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", default=not env_bool("EMAIL_USE_SSL")),
            "use_ssl": env_bool("EMAIL_USE_SSL"),
            "timeout": int(os.environ.get("EMAIL_TIMEOUT", "30")),
        }
        if _email_backend == SMTP_BACKEND
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Steward <steward@localhost>")
# where links in e-mails point
STEWARD_BASE_URL = os.environ.get("STEWARD_BASE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
