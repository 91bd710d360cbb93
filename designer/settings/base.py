"""Settings shared by every environment. The one place that reads the environment."""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
env = os.environ.get

# Everything Atelier writes (SQLite database, artifact store, datasets) lives here.
DATA_DIR = Path(env("ATELIER_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# The key signs sessions: the environment's, else the one `make run` keeps in the data dir
# (manage.py create_secret_key), else a random one per process (fine for the CLI and
# tests, but a server restarted with it signs everyone out). Production requires one.
SECRET_KEY_FILE = DATA_DIR / "secret_key"


def _kept_secret_key() -> str:
    try:
        return SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        return ""


SECRET_KEY = env("DJANGO_SECRET_KEY") or _kept_secret_key() or secrets.token_urlsafe(50)
DEBUG = env("DJANGO_DEBUG", "false").lower() == "true"
ALLOWED_HOSTS = [h for h in env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "designer.pipelines",
    "designer.datasets",
    "designer.runs",
    "designer.realtime",
    "designer.compute",
    "designer.jobs",
    "designer.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "designer.request_limits.RequestSizeLimitMiddleware",
    "designer.sign_in_limits.SignInThrottleMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "designer.urls"
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
            ]
        },
    }
]
WSGI_APPLICATION = None
ASGI_APPLICATION = "designer.asgi.application"

DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'atelier.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A pool per process, not persistent connections: under ASGI every request may run on
    # another thread, and per-thread persistent connections pile up until PostgreSQL
    # refuses clients (Django's docs say as much). Requests wait for a free connection.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 1, "max_size": int(env("ATELIER_DB_POOL_SIZE", "10")), "timeout": 30},
    }
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the CLI, the server and its threads read while a run writes its events;
    # IMMEDIATE transactions avoid "database is locked" on write upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not memory, so that the processes a test starts share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise expects it, even before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "designer.api_defaults.Pagination",
    "DEFAULT_PARSER_CLASSES": [
        "designer.api_defaults.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "designer.api_errors.exception_handler",
    # Sign-in attempts (pages and /api/auth/token/) per client address: designer/sign_in_limits.py.
    "DEFAULT_THROTTLE_RATES": {"sign-in": env("ATELIER_SIGN_IN_RATE", "10/minute")},
    # The client address is the connection's unless this many proxies in front of Atelier
    # add theirs to X-Forwarded-For (which a client could otherwise fill with anything).
    "NUM_PROXIES": int(env("ATELIER_NUM_PROXIES", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atelier API",
    "DESCRIPTION": "Pipelines, runs, datasets and the module catalog of Atelier.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # 3.1: its schemas are JSON Schema, as the wire models' (pydantic's) are.
    "OAS_VERSION": "3.1.0",
    # Responses and requests get their own components, so a response lists what it always holds.
    "COMPONENT_SPLIT_REQUEST": True,
    # Self-hosted: the docs page's assets ship with the product, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "designer.runs.models.RunStatus",
        "StepStatusEnum": "designer.runs.models.StepStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Every operation says which errors it can answer (400, 404, 413, 503).
        "designer.api_schema.error_responses",
        "designer.api_schema.unavailable_responses",
        # The WebSocket messages and the pipeline file, for the canvas's generated types.
        "designer.web.wire_types.wire_components",
    ],
}

# Request bodies (pipeline files, JSON) are capped; dataset uploads have their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("ATELIER_MAX_REQUEST_BYTES", str(10 * 1024 * 1024)))

# Redis when configured (several processes and machines); in memory for the embedded default.
REDIS_URL = env("REDIS_URL", "")
# A Redis (or broker) host that cannot be reached fails a connection in seconds, not after
# the system's TCP timeout (minutes): meanwhile a request or a worker would wait on it.
REDIS_CONNECT_TIMEOUT_S = 5
CHANNEL_LAYERS = {
    "default": (
        # No socket timeout: redis-py 8's default (5 s) breaks the layer's blocking reads
        # and drops quiet subscriptions (django/channels_redis#422).
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{
                "address": REDIS_URL, "socket_timeout": None, "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_S,
            }]},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# `previews` keeps the statistics of stored tables (computed once per table: seconds on a
# large one), shared by every web process over Redis when there is one.
_PREVIEWS_TTL_S = 7 * 24 * 3600
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Sign-in attempts, counted per client address by every web process together.
    "throttle": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "atelier"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
    ),
    "previews": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "KEY_PREFIX": "atelier", "TIMEOUT": _PREVIEWS_TTL_S,
         "OPTIONS": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_S}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "previews",
              "TIMEOUT": _PREVIEWS_TTL_S, "OPTIONS": {"MAX_ENTRIES": 200}}
    ),
}

ATELIER = {
    # Content-addressed artifact store: a local (or shared) folder, or an fsspec URL such as
    # s3://bucket/prefix that workers on several machines share (options as JSON, e.g.
    # {"client_kwargs": {"endpoint_url": …}}), with a local cache of what was read.
    "ARTIFACT_STORE": env("ATELIER_ARTIFACT_STORE", str(DATA_DIR / "artifacts")),
    "ARTIFACT_STORE_OPTIONS": json.loads(env("ATELIER_ARTIFACT_STORE_OPTIONS", "{}")),
    "ARTIFACT_CACHE": Path(env("ATELIER_ARTIFACT_CACHE", DATA_DIR / "artifact-cache")),
    # Registered datasets (uploads and Export Data), one folder per name and version.
    "DATASETS_DIR": Path(env("ATELIER_DATASETS_DIR", DATA_DIR / "datasets")),
    # Folders Import Data may read with `source: path` (colon-separated); none by default.
    "DATA_ROOTS": [p for p in env("ATELIER_DATA_ROOTS", "").split(os.pathsep) if p],
    # Steps run at once on the local compute target.
    "LOCAL_MAX_PARALLEL": int(env("ATELIER_LOCAL_MAX_PARALLEL", str(os.cpu_count() or 2))),
    # Default per-step timeout in seconds (a node's `timeout` overrides it).
    "STEP_TIMEOUT_S": float(env("ATELIER_STEP_TIMEOUT", "3600")),
    # The local compute target's sandbox (bubblewrap): `auto` uses it wherever it works,
    # `required` refuses to run local steps without it, `off` never uses it. Without it,
    # only staff may run their code (Execute Python Script…) on local compute.
    "LOCAL_SANDBOX": env("ATELIER_LOCAL_SANDBOX", "auto"),
    # Per local step: address space (MB; the warm server's libraries take about 0.7 GB of
    # it), processes (all its server's steps together), CPU seconds per process, largest
    # file (MB), and its /tmp (MB, in memory).
    "LOCAL_MEMORY_MB": int(env("ATELIER_LOCAL_MEMORY_MB", "4096")),
    "LOCAL_PROCESSES": int(env("ATELIER_LOCAL_PROCESSES", "512")),
    "LOCAL_CPU_S": int(env("ATELIER_LOCAL_CPU_S", env("ATELIER_STEP_TIMEOUT", "3600").split(".")[0])),
    "LOCAL_FILE_MB": int(env("ATELIER_LOCAL_FILE_MB", "4096")),
    "LOCAL_TMP_MB": int(env("ATELIER_LOCAL_TMP_MB", "256")),
    # The local step servers' folders (the steps' in/, out/, work/): on the artifact store's
    # filesystem, inputs are linked, not copied.
    "LOCAL_SCRATCH_DIR": Path(env("ATELIER_LOCAL_SCRATCH_DIR", DATA_DIR / "steps")),
    # Largest dataset file an upload may send (the request body limit is raised to it for the
    # dataset upload endpoints only).
    "MAX_UPLOAD_BYTES": int(env("ATELIER_MAX_UPLOAD_BYTES", str(100 * 1024 * 1024))),
    # Docker compute: the image environments build on (built locally by
    # docker/build-base-image.sh; a deployment with a registry may use python:3.11-slim).
    "DOCKER_BASE_IMAGE": env("ATELIER_DOCKER_BASE_IMAGE", "atelier-base:bookworm"),
    # Defaults for docker compute targets that leave a limit empty: steps at once, and per
    # step memory (MB), CPUs, processes, and /tmp size (MB, counted in its memory).
    "DOCKER_CAPACITY": int(env("ATELIER_DOCKER_CAPACITY", "2")),
    "DOCKER_MEMORY_MB": int(env("ATELIER_DOCKER_MEMORY_MB", "2048")),
    "DOCKER_CPUS": float(env("ATELIER_DOCKER_CPUS", "1")),
    "DOCKER_PIDS": int(env("ATELIER_DOCKER_PIDS", "256")),
    "DOCKER_TMPFS_MB": int(env("ATELIER_DOCKER_TMPFS_MB", "256")),
    # Started containers kept waiting (imports done) per image, so steps start at once.
    "DOCKER_WARM_POOL": int(env("ATELIER_DOCKER_WARM_POOL", "2")),
    # The step containers' folders: on the artifact store's filesystem, inputs are linked,
    # not copied.
    "DOCKER_SCRATCH_DIR": Path(env("ATELIER_DOCKER_SCRATCH_DIR", DATA_DIR / "containers")),
    # Environment image builds: their logs and build folders.
    "ENVIRONMENTS_DIR": Path(env("ATELIER_ENVIRONMENTS_DIR", DATA_DIR / "environments")),
    # Largest table read anywhere (uploads, previews, profiles, steps' inputs and outputs),
    # checked before reading: columns, cells (rows x columns), and the data a Parquet file
    # declares uncompressed (bytes). Unset: modules.sdk.table_limits' defaults.
    "TABLE_LIMITS": {
        name: int(value) for name, value in (
            ("max_columns", env("ATELIER_MAX_TABLE_COLUMNS")), ("max_cells", env("ATELIER_MAX_TABLE_CELLS")),
            ("max_bytes", env("ATELIER_MAX_TABLE_BYTES")),
        ) if value
    },
    # Apply SQL Transformation's DuckDB, per step: memory (MB, never spilled to disk) and
    # threads. Unset: modules.builtin.sql's defaults (2048 MB, 2 threads).
    "SQL_LIMITS": {
        name: int(value) for name, value in (
            ("memory_mb", env("ATELIER_SQL_MEMORY_MB")), ("threads", env("ATELIER_SQL_THREADS")),
        ) if value
    },
    # The web server's table workers (previews, profiles, uploads): how many, and the
    # memory (MB of address space) each may use.
    "TABLE_WORKERS": int(env("ATELIER_TABLE_WORKERS", "2")),
    "TABLE_WORKER_MEMORY_MB": int(env("ATELIER_TABLE_WORKER_MEMORY_MB", "2048")),
    # Import Data from a URL: the largest download, and networks (comma-separated, e.g.
    # 10.20.0.0/16) that URLs may reach although they are private, loopback or link-local.
    "URL_MAX_BYTES": int(env("ATELIER_URL_MAX_BYTES", str(512 * 1024 * 1024))),
    # The most a job's code snapshot may hold (what its .amlignore or .gitignore leaves).
    "JOB_SNAPSHOT_MAX_BYTES": int(env("ATELIER_JOB_SNAPSHOT_MAX_MB", "300")) * 1024 * 1024,
    "URL_ALLOWED_NETWORKS": [
        ipaddress.ip_network(n.strip(), strict=False) for n in env("ATELIER_URL_ALLOWED_NETWORKS", "").split(",")
        if n.strip()
    ],
}

if ATELIER["LOCAL_SANDBOX"] not in ("auto", "required", "off"):
    raise ImproperlyConfigured(f"ATELIER_LOCAL_SANDBOX must be auto, required or off, not {ATELIER['LOCAL_SANDBOX']!r}")

# Distributed dispatch: with a broker configured, every step is a Celery task on the queue
# named after its compute target, and workers anywhere run them; without one, the web
# process runs the executor itself (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "")
CELERY_TASK_DEFAULT_QUEUE = "atelier.control"  # orchestration chores (the lost-worker sweep)
CELERY_TASK_IGNORE_RESULT = True  # state lives in the database, not in a result backend
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A worker takes a step only when it has a free slot, so a queued step goes to the first
# worker that is free rather than waiting behind a busy one.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker whose broker is away waits for it however long it takes (Celery's default gives
# up after 100 tries, about 45 minutes, and the worker exits); what was dispatched meanwhile
# waits in the outbox.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_S}
DISPATCH = {
    # A worker running a step says it is alive this often…
    "HEARTBEAT_S": float(env("ATELIER_HEARTBEAT_S", "5")),
    # …and one silent for this long is lost: its step is retried once, then fails.
    "WORKER_LOST_AFTER_S": float(env("ATELIER_WORKER_LOST_AFTER_S", "30")),
    # How often beat sweeps for lost workers.
    "SWEEP_S": float(env("ATELIER_SWEEP_S", "10")),
    # A step sent this long ago to a queue no worker reads: its run is told (it waits on).
    "UNSERVED_AFTER_S": float(env("ATELIER_UNSERVED_AFTER_S", "30")),
    "MAX_ATTEMPTS": 2,
    # A step's task sent this long ago that no worker started is sent again (then after
    # twice as long, …): the broker may have lost it (restarted empty).
    "RESEND_AFTER_S": float(env("ATELIER_RESEND_AFTER_S", "60")),
    # Embedded dispatch: a run whose server process stopped is resumed by the next one (its
    # finished steps reused), or, when false, fails as interrupted. Runs of `run_pipeline`
    # are never resumed. The heartbeat and lost-after settings above apply to servers too.
    "RESUME_RUNS": env("ATELIER_RESUME_RUNS", "true").lower() != "false",
}
CELERY_BEAT_SCHEDULE = {
    "sweep-lost-steps": {"task": "atelier.steps_sweep_lost", "schedule": DISPATCH["SWEEP_S"]},
}
