"""Qualify settings: one file, configured by environment variables.

Defaults are for development (`make run`); production differs only in environment values.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# Off unless asked for: a forgotten variable must not serve tracebacks. `make run` and the test
# settings (tests/settings.py) turn it on.
DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_KEY = "dev-only-not-secret-" + "x" * 40
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is the development key: set SECRET_KEY to a long random value "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=true for development."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "accounts",
    "qualify.leads",
    "qualify.notifications",
    "qualify.frameworks",
    "qualify.handoff",
    "qualify.scoring",
    "qualify.sla",
    "qualify.routing",
    "qualify.reviews",
    "qualify.pipeline",
    "qualify.dedupe",
    "qualify.abm",
    "qualify.analytics",
    "qualify.predictions",
    "qualify.imports",
    "qualify.webhooks",
    "qualify.segment",
    "qualify.calibration",
    "qualify.demo",
]

# What follows a change of a lead, in this order (qualify/leads/changes.py; README, Architecture).
QUALIFY_LISTENERS = [
    "qualify.routing.listeners",  # owner changes recorded; new MQLs routed
    "qualify.handoff.listeners",  # an outcome closes the lead's pending handoff
    "qualify.frameworks.listeners",  # a rejection naming a dimension disputes that answer
    "qualify.sla.listeners",  # clocks follow stages, owners, touches and handoffs
    "qualify.notifications.listeners",  # handoffs, new owners and review follow-ups told, in the change's transaction
    "qualify.scoring.listeners",  # new and edited leads and accounts rescored
    "qualify.predictions.listeners",  # scored, new and edited leads get their predicted conversion
    "qualify.reviews.listeners",  # merges: review items and follow-up tasks move to the survivor
    "qualify.pipeline.listeners",  # merges: re-qualifications and sub-stages move; a done task resolves its re-qualification
    "qualify.dedupe.listeners",  # new leads and accounts checked for duplicates; candidates of merges closed
    "qualify.abm.listeners",  # account engagement, committee coverage and MQA, after each scoring chunk
    "qualify.webhooks.listeners",  # outbox rows for subscribed endpoints, in the change's transaction
]
LISTENER_ERRORS_RAISE = env.bool("LISTENER_ERRORS_RAISE", default=False)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "qualify.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # NUL characters and oversize bodies get a clear 400/413 before any view (qualify/middleware.py).
    "qualify.middleware.InputGuardMiddleware",
    # Attaches the acting user and URL to every history row written during the request.
    "pghistory.middleware.HistoryMiddleware",
    # Last, so it sees the outcome of the login attempt and turns a lockout into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qualify.urls"

# The largest request body read into memory: a full event batch (1,000 events, each up to 4 KB of
# properties plus its envelope) fits; uploads (CSV) stream to disk and are limited by the importer.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=6 * 1024 * 1024)
WSGI_APPLICATION = "qualify.wsgi.application"

# One date format throughout ("4 Dec 2026, 14:05"): qualify/formats/en/formats.py. Django 5 always
# localizes, so the locale's formats win over DATE_FORMAT here; this path is how to set them.
FORMAT_MODULE_PATH = ["qualify.formats"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials", "qualify.formatting"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Only for `*.jinja` templates, rendered many times a page (qualify/jinja.py says why).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "qualify.jinja.environment"},
    },
]

# PostgreSQL is the only database. `make run` / `make test` export DATABASE_URL for the embedded
# server under var/ when none is configured.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/qualify")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user name and address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# The cache holds API throttle counters; with several app servers it must be shared (Redis).
# Without a URL each process keeps its own in memory, which is right for one development process.
CACHE_URL = env("REDIS_CACHE_URL", default="") or env("CACHE_URL", default="")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Proxies in front of the app servers that append to X-Forwarded-For (the load balancer: 1). With 0
# the client address is REMOTE_ADDR; behind a proxy that would lock out and throttle everyone at once.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sign-in lockout (django-axes): failures are counted per user name and address together, in
# PostgreSQL (so every app server sees them; admin lists them under "Axes"), for /login/ and
# POST /api/token/. A success clears that pair's count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

API_TOKEN_LIFETIME = datetime.timedelta(days=env.int("API_TOKEN_LIFETIME_DAYS", default=90))

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="qualify@localhost")

REST_FRAMEWORK = {
    # Token first: DRF answers a failed authentication with the first class's challenge, so a bad
    # token is a 401 with `WWW-Authenticate: Token` rather than a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Rates are per user (per address when anonymous); "none" switches a scope off. Event ingestion
    # has its own scope: its clients post 1,000-event batches several times a second.
    "DEFAULT_THROTTLE_CLASSES": ["qualify.api.throttling.AnonThrottle", "qualify.api.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
        "ingest": env("API_THROTTLE_INGEST", default="1200/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser but for bodies nested too deeply for Python (qualify/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "qualify.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Related objects are filtered by id, never checked against their table (qualify/api/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["qualify.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "qualify.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Qualify API",
    "DESCRIPTION": "Leads, accounts and qualification workflow for B2B revenue teams.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "qualify.leads.models.Stage",
        "SegmentEnum": "qualify.leads.models.Segment",
        "HandoffStatusEnum": "qualify.handoff.models.HandoffStatus",
        "AnswerStatusEnum": "qualify.frameworks.models.AnswerStatus",
        "ImportKindEnum": "qualify.imports.models.ImportKind",
        "ImportModeEnum": "qualify.imports.models.ImportMode",
        "TaskKindEnum": "qualify.reviews.models.TaskKind",
        "TriggerKindEnum": "qualify.pipeline.models.TriggerKind",
        "PopulationEnum": "qualify.reviews.models.Population",
        "ClockKindEnum": "qualify.sla.models.ClockKind",
        "WebhookEventEnum": "qualify.webhooks.models.EventType",
    },
    # One entry per webhook event (qualify/webhooks/schema.py); a webhooks section needs OpenAPI 3.1.
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": [f"qualify.webhooks.schema.{name}" for name in (
        "LEAD_CREATED", "LEAD_MQL", "LEAD_ASSIGNED", "HANDOFF_CREATED", "HANDOFF_ACCEPTED", "HANDOFF_REJECTED",
        "HANDOFF_REASSIGNED",
        "LEAD_NURTURED", "LEAD_DISQUALIFIED", "LEAD_RECYCLED", "LEAD_WON", "LEAD_LOST", "SLA_WARNING", "SLA_BREACHED",
        "REVIEW_VERDICT")],
}

# Outgoing webhooks (qualify/webhooks). Private, loopback and link-local targets are refused unless
# this is on (tests and local receivers only).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=5.0)
WEBHOOK_RETRY_DAYS = env.float("WEBHOOK_RETRY_DAYS", default=3.0)
WEBHOOK_DISABLE_AFTER_DAYS = env.float("WEBHOOK_DISABLE_AFTER_DAYS", default=3.0)
# How long a claimed delivery is a worker's; longer than a whole exchange (15 s): a worker sends
# a claimed row only while its lease still covers one, and gives the rest back unsent.
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)

# Calibration of the rule score (qualify/calibration; README, Calibration): closed leads counted
# (days back from today), the fewest leads behind a suggestion, and the share of won leads a
# suggested MQL threshold must keep.
CALIBRATION_WINDOW_DAYS = env.int("CALIBRATION_WINDOW_DAYS", default=365)
CALIBRATION_MIN_SAMPLE = env.int("CALIBRATION_MIN_SAMPLE", default=30)
CALIBRATION_KEEP_WON = env.float("CALIBRATION_KEEP_WON", default=0.8)

# Celery. With no CELERY_BROKER_URL, development uses kombu's filesystem transport under var/,
# so `make run` needs no broker server. Production sets a Redis URL.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # kombu raises on a missing folder; a fresh checkout running a benchmark or a shell has none yet.
    for _folder in ("out", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Longer than any task may run, or acks_late tasks are redelivered while still running.
    # Socket timeouts: a hung Redis fails a publish in seconds instead of holding a web request.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 5, "socket_connect_timeout": 2}
    # Prefixes every key kombu writes, so a test run or a benchmark sharing a Redis touches only its own.
    if _prefix := env("CELERY_BROKER_KEY_PREFIX", default=""):
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = _prefix
# Publishing gives up after about a second: ingestion answers anyway (its events are committed) and
# the reconciler scores them; a request must not wait out a broker outage.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TASK_TIME_LIMIT = 600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by kind, so each scales on its own workers (Procfile): incremental scoring after
# ingestion is latency-critical and must not wait behind a million-lead recompute.
CELERY_TASK_ROUTES = {
    "scoring.score_leads": {"queue": "ingest"},
    "scoring.*": {"queue": "scoring"},
    "sla.*": {"queue": "sla"},
    "routing.*": {"queue": "sla"},
    "analytics.run_import": {"queue": "io"},  # the CSV import task's name from before qualify/imports/
    "imports.*": {"queue": "io"},
    "dedupe.*": {"queue": "io"},
    "predictions.*": {"queue": "scoring"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A year once HTTPS works; browsers then refuse plain HTTP to this host for that long.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (qualify/csp.py): scripts only from our own origin, so no inline <script>
# or on*= handler runs. Inline style attributes stay allowed: progress bars set their width in
# style="", and htmx adds its indicator styles inline.
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

# Audit history (django-pghistory): Postgres triggers record every insert and update, including
# bulk updates and task writes, with the acting user attached by the middleware or a context.
import pghistory  # noqa: E402

PGHISTORY_OBJ_FIELD = pghistory.ObjForeignKey(related_name="history")
PGHISTORY_CONTEXT_FIELD = pghistory.ContextForeignKey(db_index=True)
# Reads write nothing audited, so only writing methods carry the context: under GET, pghistory would
# prepend a set_config() statement to every query of the page (the queue: about 3 ms of 35).
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
