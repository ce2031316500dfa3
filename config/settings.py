"""Steward's settings: one module, every value from the environment (see .env.example)."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from config.embedded import data_dir, read_services_file
from portfolio.sso.config import sso_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


_embedded = read_services_file()

SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-development-key-set-SECRET_KEY-in-production")
DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"
)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
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
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # a Redis that hangs makes /health/ say so within seconds instead of hanging with it
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
    }
}

CELERY_BROKER_URL = REDIS_URL
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
    # lost recompute and import jobs are sent again; every portfolio is recomputed fully at night
    "job-sweep": {"task": "valuestreams.tasks.sweep_jobs", "schedule": 60.0},
    "recompute-nightly": {
        "task": "valuestreams.tasks.recompute_all_portfolios_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
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
# batches are the largest bodies: at most 5,000 records (valuestreams.ingest.MAX_RECORDS) of 4 KB
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
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "portfolio.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
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

DEMO_PASSWORD = os.environ.get("STEWARD_DEMO_PASSWORD", "demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
