"""Django settings for kamfit, read only from the environment.

Variables: ``KAMFIT_DATA_DIR`` (default ``./var``), ``DATABASE_URL`` (default SQLite
in the data directory), ``KAMFIT_SECRET_KEY`` (or ``KAMFIT_SECRET_KEY_FILE``),
``KAMFIT_DEBUG``, ``KAMFIT_ALLOWED_HOSTS``, ``KAMFIT_CONN_MAX_AGE`` (seconds a
database connection is kept; default 0 on SQLite, 60 otherwise) and
``KAMFIT_TASKS_BACKEND`` (``database``, the default, or ``immediate``) and
``KAMFIT_API_RATE`` (API requests per user, default ``200/min``),
``KAMFIT_EXPORT_RATE`` (bulk exports per user, pages and API together, default
``30/10min``),
``KAMFIT_IMPORT_MAX_BYTES`` (largest upload, default 10 MB) and
``KAMFIT_IMPORT_MAX_ROWS`` (most data rows in one import, default 50,000),
``KAMFIT_MFA_REQUIRED`` (two-factor authentication compulsory for owner, HR, director,
consultant and staff; default true, false when debugging), and for e-mail
(reminders) ``KAMFIT_SMTP_HOST``, ``KAMFIT_SMTP_PORT`` (587), ``KAMFIT_SMTP_USER``,
``KAMFIT_SMTP_PASSWORD`` (or ``_FILE``) and ``KAMFIT_FROM_EMAIL``; without a host,
mail is written to the log (console) instead of sent. A bad value stops start-up with a
message naming the variable.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp import constants as csp
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor  # type: ignore[import-untyped]

django_stubs_ext.monkeypatch()  # lets Django's generic classes take type arguments at run time

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable, refusing anything ambiguous."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true or false")


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [x.strip() for x in raw.split(",") if x.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name} is set but empty")
    return items


def env_secret(name: str) -> str | None:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    if file_name := os.environ.get(f"{name}_FILE"):
        try:
            return Path(file_name).read_text("utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r}: {exc.strerror}") from exc
    return os.environ.get(name)


DEBUG = env_bool("KAMFIT_DEBUG", False)
DATA_DIR = Path(os.environ.get("KAMFIT_DATA_DIR") or Path.cwd() / "var").resolve()
if DATA_DIR.exists() and not DATA_DIR.is_dir():
    raise ImproperlyConfigured(f"KAMFIT_DATA_DIR={str(DATA_DIR)!r} is not a directory")

_secret = env_secret("KAMFIT_SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "KAMFIT_SECRET_KEY (or KAMFIT_SECRET_KEY_FILE) must be set when KAMFIT_DEBUG is false"
        )
    _secret = "dev-only-" + secrets.token_urlsafe(32)
elif len(_secret) < 32:
    raise ImproperlyConfigured("KAMFIT_SECRET_KEY must be at least 32 characters")
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list(
    "KAMFIT_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "kamfit.web",
    "kamfit.orgs",
    "kamfit.frameworks",
    "kamfit.audits",
    "kamfit.profiles",
    "kamfit.assessments",
    "kamfit.development",
    "kamfit.jobs",
    "kamfit.members",
    "kamfit.accounts",
    "kamfit.auditlog",
    "kamfit.privacy",
    "kamfit.api",
]

MIDDLEWARE = [
    "kamfit.auditlog.context.RequestIdMiddleware",  # X-Request-ID, for logs and audit events
    "django.middleware.security.SecurityMiddleware",
    "kamfit.web.security.NonceCSPMiddleware",  # Content-Security-Policy with a nonce
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kamfit.web.errors.DatabaseUnavailableMiddleware",  # a database outage: a 503 page
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): passed TOTP
    "kamfit.auditlog.middleware.AccessDeniedMiddleware",  # every 403 in the audit trail
    "kamfit.web.security.NoStoreMiddleware",  # Cache-Control: no-store when signed in
    "django.contrib.messages.middleware.MessageMiddleware",
    "kamfit.accounts.middleware.SessionLifetimeMiddleware",  # 30 min idle, 12 h absolute
    "kamfit.accounts.middleware.MfaRequiredMiddleware",  # no page or API before TOTP
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "kamfit.web.urls"
WSGI_APPLICATION = "kamfit.web.wsgi.application"

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
                "kamfit.orgs.context_processors.organisations",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kamfit.sqlite3'}",
            conn_max_age=0,
            conn_health_checks=True,  # a connection that died between requests is reopened
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL kamfit knows: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"KAMFIT_DATA_DIR={str(DATA_DIR)!r}: {exc.strerror}") from exc
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }

_engine = DATABASES["default"]["ENGINE"]
try:
    DATABASES["default"]["CONN_MAX_AGE"] = int(
        os.environ.get("KAMFIT_CONN_MAX_AGE") or (0 if _engine.endswith("sqlite3") else 60)
    )
except ValueError as exc:
    raise ImproperlyConfigured("KAMFIT_CONN_MAX_AGE must be a whole number of seconds") from exc

# Background work (imports, batch reports, reminders) through Django's tasks API. The
# database backend needs nothing more than the database; ``kamfit worker`` runs it.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_task_backend = os.environ.get("KAMFIT_TASKS_BACKEND") or "database"
if _task_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"KAMFIT_TASKS_BACKEND={_task_backend!r}: use one of {', '.join(_TASK_BACKENDS)}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_task_backend], "QUEUES": ["default"]}}

# Import limits (RELIABILITY A29): the largest uploaded file and the most data rows one
# import takes, on pages, the API, the CLI and background jobs alike.
try:
    IMPORT_MAX_BYTES = int(os.environ.get("KAMFIT_IMPORT_MAX_BYTES") or 10 * 1024 * 1024)
    IMPORT_MAX_ROWS = int(os.environ.get("KAMFIT_IMPORT_MAX_ROWS") or 50_000)
except ValueError as exc:
    raise ImproperlyConfigured(
        "KAMFIT_IMPORT_MAX_BYTES and KAMFIT_IMPORT_MAX_ROWS must be whole numbers"
    ) from exc
if IMPORT_MAX_BYTES < 1 or IMPORT_MAX_ROWS < 1:
    raise ImproperlyConfigured(
        "KAMFIT_IMPORT_MAX_BYTES and KAMFIT_IMPORT_MAX_ROWS must be positive"
    )

# E-mail (rater reminders): SMTP with STARTTLS when a host is named, else the console.
DEFAULT_FROM_EMAIL = os.environ.get("KAMFIT_FROM_EMAIL") or "kamfit@localhost"
if _smtp_host := os.environ.get("KAMFIT_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp_host
    try:
        EMAIL_PORT = int(os.environ.get("KAMFIT_SMTP_PORT") or 587)
    except ValueError as exc:
        raise ImproperlyConfigured("KAMFIT_SMTP_PORT must be a port number") from exc
    EMAIL_HOST_USER = os.environ.get("KAMFIT_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env_secret("KAMFIT_SMTP_PASSWORD") or ""
    EMAIL_USE_TLS = True
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# 8 to 128 characters as typed, no composition rules; common passwords and context
# words refused (RELIABILITY A1, A2; docs/security/accounts.md). Hashing: Django's
# default PBKDF2-SHA256 at 1,000,000 iterations; older hashes are upgraded at login.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {
        "NAME": "kamfit.accounts.validators.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "kamfit.accounts.validators.ContextWordsValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link works for one hour, once
_invitation_hours = os.environ.get("KAMFIT_INVITATION_HOURS") or "72"
if not _invitation_hours.isdecimal() or not 1 <= int(_invitation_hours) <= 168:  # a week at most
    raise ImproperlyConfigured(
        f"KAMFIT_INVITATION_HOURS={_invitation_hours!r}: a whole number of hours, 1 to 168"
    )
KAMFIT_INVITATION_HOURS = int(_invitation_hours)  # an invitation link works this long, once

# Two-factor authentication (TOTP) for owner, HR, director, consultant and staff. Off by
# default in development so that `make run`'s demo accounts sign in with a password.
MFA_REQUIRED = env_bool("KAMFIT_MFA_REQUIRED", not DEBUG)
OTP_TOTP_ISSUER = "kamfit"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# The default cache is each process's memory (derived data that any process can rebuild).
# Rate-limit counts must be one per installation, not one per worker: they live in a
# directory every worker on the host shares (kamfit.web.throttling).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimits": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "ratelimits"),
    },
}
# WhiteNoise serves the static files from the app server, compressed and with far-future
# cache headers once ``collectstatic`` has run (``kamfit serve --production`` runs it).
# In development WhiteNoise finds files in the apps directly, as runserver does.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Only the hashed copies are served (each compressed once); source maps are not worth it.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60
# Enforced on the server by kamfit.accounts.middleware (RELIABILITY A8).
SESSION_IDLE_TIMEOUT = 30 * 60  # seconds without a request
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60  # seconds since the password login
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "kamfit.web.errors.csrf_failure"  # generic, with an error id
if not DEBUG:
    # __Host- cookies are Secure, host-only and Path=/; browsers refuse them over plain
    # HTTP, so development (DEBUG) keeps Django's names (docs/security/hardening.md).
    SESSION_COOKIE_NAME = "__Host-session"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# Content-Security-Policy (django-csp 4, kamfit.web.security.NonceCSPMiddleware): only
# kamfit's own files, scripts only with the per-request nonce, no inline style, no
# plugins, no <base>, no framing, forms post only to kamfit (RELIABILITY A11).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "frame-ancestors": [csp.NONE],
        "form-action": [csp.SELF],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = env_bool("KAMFIT_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer's plain-HTTP health check

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours: the lock clears by itself after 30 minutes
# Failures are counted per username (5, whatever the IP: RELIABILITY A3) and per IP
# address with its own, higher limit against password spraying; the handler applies the
# two limits (kamfit.accounts.lockout, docs/security/accounts.md).
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "kamfit.accounts.lockout.AccountAndAddressHandler"
LOGIN_IP_FAILURE_LIMIT = 50
AXES_RESET_ON_SUCCESS = True
# Failures during a lockout do not extend it: the lock clears 30 minutes after it began,
# so nobody can keep an account locked for ever by guessing on (no malicious lockout).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429

API_RATE = os.environ.get("KAMFIT_API_RATE") or "200/min"
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_RATE):
    raise ImproperlyConfigured(
        f"KAMFIT_API_RATE={API_RATE!r}: write it as a count per unit, e.g. 200/min"
    )
# Bulk exports (files, a person's full record) per user, pages and API counted together
# (kamfit.web.export_limit): a count per period, the period optionally a multiple.
_export_rate = os.environ.get("KAMFIT_EXPORT_RATE") or "30/10min"
if not re.fullmatch(
    r"[1-9][0-9]*/([1-9][0-9]*)?(s|sec|second|m|min|minute|h|hour|d|day)", _export_rate
):
    raise ImproperlyConfigured(
        f"KAMFIT_EXPORT_RATE={_export_rate!r}: write it as a count per period, e.g. 30/10min"
    )
EXPORT_RATE: str | None = _export_rate  # None (the test settings) switches the limit off

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON only, so a body in another type answers 415; uploads (imports) name their own.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer tokens only: HTTP Basic would let a password alone bypass two-factor auth.
        "kamfit.members.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "kamfit.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["kamfit.web.throttling.SharedUserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": API_RATE},
    "EXCEPTION_HANDLER": "kamfit.api.errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "kamfit API",
    "DESCRIPTION": (
        "Key account management competencies. Framework content: Woodburn, D. (2006), "
        "Competencies for key account managers, Warwick Business School."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kamfit.api.schema.document_errors",  # the shared error answers of every operation
    ],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status": give each choice set its own stable name.
    "ENUM_NAME_OVERRIDES": {
        "VersionStatusEnum": "kamfit.frameworks.models.VersionStatus",
        "AuditStatusEnum": "kamfit.audits.models.AuditStatus",
        "RespondentStatusEnum": "kamfit.audits.models.RespondentStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # User input in a message cannot forge a log line; URL secrets are blanked (A36).
    "filters": {
        "escape": {"()": "kamfit.auditlog.logfilters.EscapeControlCharacters"},
        "request_id": {"()": "kamfit.auditlog.logfilters.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["escape", "request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}
