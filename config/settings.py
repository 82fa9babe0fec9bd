"""covidhub settings: one module, switched by environment variables.

Defaults run out of the box (SQLite, local files, the outbox instead of an SMS gateway,
console e-mail). Production sets DJANGO_ENV=production and the variables documented in
docs/operations.md; `manage.py check --deploy` is then clean.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_int,
    env_int_map,
    env_ints,
    env_list,
    env_str,
    site_url_from_listen,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("COVIDHUB_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_str("DJANGO_ENV", "development")
if ENVIRONMENT not in {"development", "production", "test"}:
    raise ImproperlyConfigured("DJANGO_ENV must be development, production or test")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    # Development: a key kept under var/ so that sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    try:
        SECRET_KEY = key_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        SECRET_KEY = secrets.token_urlsafe(50)
        key_file.write_text(SECRET_KEY, encoding="utf-8")
        key_file.chmod(0o600)

# Keys for secrets at rest (TOTP keys, session-key digests, sealed messages, opt-out links;
# covidhub/core/sealing.py): comma-separated, newest first; unset, SECRET_KEY is used.
SECRETS_KEYS = [
    key.strip() for key in env_str("SECRETS_KEYS").replace("\n", ",").split(",") if key.strip()
]

# Links that leave the page (result PDFs and their QR, SMS, open data, feeds) use SITE_URL;
# unset, it follows the address scripts/run listens on (HOST, PORT), so that `PORT=8080
# scripts/run` does not print links to port 8000.
SITE_URL = env_str(
    "SITE_URL", site_url_from_listen(env_str("HOST", "127.0.0.1"), env_str("PORT", "8000"))
).rstrip("/")
_SITE_HOST = urlsplit(SITE_URL).hostname or ""
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else sorted({"127.0.0.1", "localhost", _SITE_HOST} - {""})
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "covidhub.accounts.apps.CovidhubAdminConfig",  # django.contrib.admin behind staff sign-in
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "oauth2_provider",
    "django_tasks_db",
    "ninja",
    "covidhub.core",
    "covidhub.areas",
    "covidhub.accounts",
    "covidhub.people",
    "covidhub.audit",
    "covidhub.notifications",
    "covidhub.declarations",
    "covidhub.testing",
    "covidhub.vaccination",
    "covidhub.certificates",
    "covidhub.portal",
    "covidhub.adoption",
    "covidhub.fhir",
    "covidhub.clients",
    "covidhub.exchange",
    "covidhub.homecare",
    "covidhub.api",
    "covidhub.demo",
    # Last: an earlier app's catalogue wins, and Django's Vietnamese one translates
    # "sessions" as "session", which would name vaccination sessions in the admin.
    "django.contrib.sessions",
]

MIDDLEWARE = [
    "covidhub.core.middleware.RequestContextMiddleware",
    "covidhub.core.monitoring.MetricsMiddleware",
    "covidhub.core.replicas.ReplicaMiddleware",
    # Under /fhir/, an error from any layer below answers as an OperationOutcome.
    "covidhub.fhir.middleware.FhirOutcomeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "covidhub.core.headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "covidhub.core.middleware.InputCleaningMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "covidhub.accounts.middleware.CachedOTPMiddleware",
    "covidhub.audit.middleware.DeniedAccessMiddleware",
    "covidhub.clients.middleware.ClientCallAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "covidhub.accounts.middleware.SessionLifetimeMiddleware",
    "covidhub.core.idempotency.IdempotencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "covidhub.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "covidhub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "covidhub.core.context_processors.platform",
            ],
            # `{% form_token %}` in every form that changes something (core.formtokens).
            "builtins": ["covidhub.core.templatetags.formtokens"],
        },
    },
]

# Databases ---------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'covidhub.sqlite3'}")
if DATABASE_URL.startswith("sqlite:///"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
# Connection pooler in front of PostgreSQL (PgBouncer): "none", "session" or
# "transaction". In transaction mode a server connection serves another client between
# two transactions, so nothing may outlive a transaction: statements are not prepared
# (PgBouncer 1.18 does not track protocol-level prepared statements; with 1.21+ and
# max_prepared_statements, DB_PREPARE_THRESHOLD may be set again) and querysets'
# .iterator() reads without server-side cursors. See docs/scale.md.
DB_POOL_MODE = env_str("DB_POOL_MODE", "none").strip().lower()
if DB_POOL_MODE not in {"none", "session", "transaction"}:
    raise ImproperlyConfigured("DB_POOL_MODE must be none, session or transaction")


def _postgres_tuned(database: Any) -> Any:
    database["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
    database["CONN_HEALTH_CHECKS"] = True
    # Parameters travel apart from the SQL (no quoting in Python) and a statement run
    # DB_PREPARE_THRESHOLD times on a connection is prepared: PostgreSQL then neither
    # parses nor plans it again (half of its CPU on the busiest requests).
    options = database.setdefault("OPTIONS", {})
    options["server_side_binding"] = env_bool("DB_SERVER_SIDE_BINDING", True)
    default_threshold = "off" if DB_POOL_MODE == "transaction" else "5"
    prepare_threshold = env_str("DB_PREPARE_THRESHOLD", default_threshold).strip().lower()
    options["prepare_threshold"] = (
        None if prepare_threshold == "off" else env_int("DB_PREPARE_THRESHOLD", 5)
    )
    database["DISABLE_SERVER_SIDE_CURSORS"] = DB_POOL_MODE == "transaction"
    return database


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL and a busy timeout let the web server and the worker share the file.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _postgres_tuned(DATABASES["default"])
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("TEST_DATABASE_NAME") or None

# Hot standbys for the reads that may be a few seconds old (covidhub/core/replicas.py):
# comma-separated URLs, each a streaming replica of DATABASE_URL. Reads go there only
# inside `reads_from_replica`, while the replay lag stays under REPLICA_MAX_LAG_SECONDS;
# a client that wrote reads the primary for REPLICA_PIN_SECONDS.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = dj_database_url.parse(_url, conn_max_age=0)
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS must use the engine of DATABASE_URL")
    if _replica["ENGINE"] != "django.db.backends.sqlite3":
        _postgres_tuned(_replica)
        # A standby that does not answer must not hold a request for long.
        _replica["OPTIONS"]["connect_timeout"] = env_int("REPLICA_CONNECT_TIMEOUT", 2)
    # Tests run against the primary's test database.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica_{_number}")
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5)
REPLICA_LAG_CHECK_SECONDS = env_int("REPLICA_LAG_CHECK_SECONDS", 1)
REPLICA_RETRY_SECONDS = env_int("REPLICA_RETRY_SECONDS", 5)
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10)
if REPLICA_PIN_SECONDS < REPLICA_MAX_LAG_SECONDS + REPLICA_LAG_CHECK_SECONDS:
    # A standby used after the pin ends may lag by up to the bound plus one check.
    raise ImproperlyConfigured(
        "REPLICA_PIN_SECONDS must be at least REPLICA_MAX_LAG_SECONDS + REPLICA_LAG_CHECK_SECONDS"
    )
DATABASE_ROUTERS = ["covidhub.core.replicas.PrimaryReplicaRouter"] if DATABASE_REPLICAS else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and rate limits ---------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        # When Redis cannot be reached, every cache operation goes to "database" instead:
        # slower, correct (covidhub/core/cache.py; /readyz reports "degraded").
        "default": {
            "BACKEND": "covidhub.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "covidhub",
            "OPTIONS": {
                "FALLBACK": "database",
                "RETRY_SECONDS": env_int("REDIS_RETRY_SECONDS", 5),
            },
        },
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "covidhub_cache",
        },
    }
    # Sessions are read from Redis and written through to the database, which stays the
    # record (a Redis restart signs nobody out): no session query on a staff request.
    SESSION_ENGINE = "covidhub.accounts.sessions"  # cached_db, plus this process's copy
else:
    # Shared by every server process and the worker, unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "covidhub_cache",
        }
    }
    # Database sessions, stored by the hash of their key as the Redis engine's are.
    SESSION_ENGINE = "covidhub.accounts.sessions_db"

# Background tasks --------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "notifications"],
    }
}

# Auth --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["covidhub.accounts.backends.CachedModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:citizen_login"
LOGIN_REDIRECT_URL = "core:home"
OTP_TOTP_ISSUER = "covidhub"
# django-otp's own admin never shows a device's key or its QR code (ours does not either).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Staff sessions end after 15 minutes idle and 12 hours in all; citizens stay longer.
STAFF_IDLE_SECONDS = env_int("STAFF_IDLE_SECONDS", 15 * 60)
STAFF_ABSOLUTE_SECONDS = env_int("STAFF_ABSOLUTE_SECONDS", 12 * 3600)
# Wrong staff passwords: a browser (address, or a device that signed in before) is locked
# after STAFF_FAILURES_MAX in 15 minutes; an account, for every unknown browser at once, only
# after STAFF_FAILURES_MAX_PER_ACCOUNT in an hour, so that nobody locks a colleague out.
STAFF_FAILURES_MAX = env_int("STAFF_FAILURES_MAX", 10)
STAFF_FAILURES_MAX_PER_ACCOUNT = env_int("STAFF_FAILURES_MAX_PER_ACCOUNT", 100)
SESSION_COOKIE_AGE = env_int("CITIZEN_SESSION_SECONDS", 30 * 24 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# One-time codes for citizens.
PHONE_CODE_TTL_SECONDS = 5 * 60
PHONE_CODE_MAX_ATTEMPTS = 5
PHONE_CODE_MAX_PER_PHONE_PER_HOUR = 5
PHONE_CODE_MAX_PER_ADDRESS_PER_HOUR = env_int("PHONE_CODE_MAX_PER_ADDRESS_PER_HOUR", 30)
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90)
# Identity numbers a citizen account may enter (new or changed) per 24 hours; counted in
# the database, so the limit holds without Redis.
IDENTITY_NUMBERS_PER_ACCOUNT_PER_DAY = env_int("IDENTITY_NUMBERS_PER_ACCOUNT_PER_DAY", 10)
# Bearer tokens, the accounts of web sessions and their verified TOTP devices are read from
# the shared cache (Redis) instead of the database for up to this many seconds; revoking a
# token, or saving or deleting the account, token or device, clears the entry at once.
# Off without Redis: the fallback cache is itself a database.
AUTH_CACHE_SECONDS = env_int("AUTH_CACHE_SECONDS", 60 if REDIS_URL else 0)
# Each server process also keeps the bearer tokens it used in the last few seconds, in front
# of Redis: a token revoked through another process stops working here within this time.
AUTH_LOCAL_CACHE_SECONDS = env_int("AUTH_LOCAL_CACHE_SECONDS", 5)

# Machine clients (covidhub.clients): OAuth 2.0 client credentials through
# django-oauth-toolkit. Tokens live CLIENT_TOKEN_SECONDS and are kept as their SHA-256 only
# (RFC 9700 token storage); client secrets are kept hashed with the password hashers.
# Each client's calls are limited per minute and per day (its own figures, these defaults).
CLIENT_TOKEN_SECONDS = env_int("CLIENT_TOKEN_SECONDS", 600)
CLIENT_RATE_PER_MINUTE = env_int("CLIENT_RATE_PER_MINUTE", 120)
CLIENT_QUOTA_PER_DAY = env_int("CLIENT_QUOTA_PER_DAY", 50_000)
# Wrong secrets for one client id before its token requests are refused for 15 minutes.
CLIENT_SECRET_FAILURES_MAX = env_int("CLIENT_SECRET_FAILURES_MAX", 10)
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": CLIENT_TOKEN_SECONDS,
    "OAUTH2_VALIDATOR_CLASS": "covidhub.clients.oauth.ClientValidator",
    "SCOPES_BACKEND_CLASS": "covidhub.clients.oauth.ClientScopes",
    # Filled in by covidhub.clients.scopes (every capability, read and write).
    "SCOPES": {},
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    # Only the client-credentials grant is used (no redirects, no refresh tokens); the rest
    # of RFC 9700 is set so that nothing weaker can be switched on by accident.
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# The library's own models (named here because our clients refer to its application).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# Staff bearer tokens for the native staff apps (password and TOTP, like the web sign-in):
# they end with the staff session's absolute limit.
STAFF_TOKEN_SECONDS = env_int("STAFF_TOKEN_SECONDS", STAFF_ABSOLUTE_SECONDS)

# The web server process's garbage-collector thresholds (gc.set_threshold: young
# collections every N container objects made, then the older generations every M and K
# of those), set by config/wsgi.py: see covidhub/core/gcconfig.py. Python's default is
# 2000,10,10; "WEB_GC_THRESHOLD=2000,10,10" restores it.
WEB_GC_THRESHOLD = env_ints("WEB_GC_THRESHOLD", (50_000, 20, 100), count=3, minimum=1)

# Misuse the audit trail watches for (covidhub.audit.alerts): this many refused look-ups
# by one account within the window raise an alert; a staff account may look up this many
# distinct people per hour before further look-ups are refused (0 turns the limit off).
DENIED_BURST_COUNT = env_int("DENIED_BURST_COUNT", 20)
DENIED_BURST_WINDOW_SECONDS = env_int("DENIED_BURST_WINDOW_SECONDS", 600)
STAFF_LOOKUPS_PER_HOUR = env_int("STAFF_LOOKUPS_PER_HOUR", 200)
# Per role, for the roles whose work is looking people up one after another: a sampling
# lane at a mass-testing site scans a person every 10-20 s at its peak (up to ~360 an
# hour), a vaccination site's check-in desk about a person a minute. A role not listed
# gets STAFF_LOOKUPS_PER_HOUR; an account with several roles gets the largest of its
# roles' limits; 0 for a role turns its limit off. Env: "sampler=800,vaccinator=300".
STAFF_LOOKUPS_PER_HOUR_BY_ROLE = env_int_map(
    "STAFF_LOOKUPS_PER_HOUR_BY_ROLE",
    {"sampler": 600, "vaccinator": 300, "site_manager": 300},
)

# Only trust X-Forwarded-For when a reverse proxy in front sets it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Notifications -----------------------------------------------------------------------
# SMS: "outbox" keeps messages readable in the outbox (demo); "http" posts to a gateway.
SMS_BACKEND = env_str("SMS_BACKEND", "outbox")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN")
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10)
SMS_SENDER = env_str("SMS_SENDER", "HAIDUONG")
if SMS_BACKEND not in {"outbox", "http"}:
    raise ImproperlyConfigured("SMS_BACKEND must be 'outbox' or 'http'")
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL")
NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 12)
NOTIFY_BACKOFF_BASE_SECONDS = env_int("NOTIFY_BACKOFF_BASE_SECONDS", 30)
# A message left "sending" this long (its worker died between claiming and recording it)
# is sent again by the sweep, which runs every NOTIFY_SWEEP_SECONDS: the gateway drops the
# repeat by the message's Idempotency-Key (its UUID).
NOTIFY_SENDING_STUCK_SECONDS = env_int("NOTIFY_SENDING_STUCK_SECONDS", 600)
NOTIFY_SWEEP_SECONDS = env_int("NOTIFY_SWEEP_SECONDS", 60)

SMTP_HOST = env_str("EMAIL_HOST")
if PRODUCTION and not SMTP_HOST:
    raise ImproperlyConfigured("EMAIL_HOST (the SMTP server) is required in production")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "covidhub <no-reply@covid.haiduong.gov.vn>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": SMTP_HOST,
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": env_int("EMAIL_TIMEOUT", 10),
            },
        }
        if SMTP_HOST
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}

# Certificates ------------------------------------------------------------------------
# Trust-list sync (certificates_trust_sync): the base URL of a trust hub that publishes
# trust-list.json and value-sets.json in our format (e.g. the national one). Empty: no sync.
CERTIFICATES_TRUST_SYNC_URL = env_str("CERTIFICATES_TRUST_SYNC_URL")
CERTIFICATES_TRUST_SYNC_TIMEOUT = env_int("CERTIFICATES_TRUST_SYNC_TIMEOUT", 20)

# Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "covidhub" / "locale"]
# One date format per language (config/formats): day first in Vietnamese, the month's name
# in English. Templates write dates with SHORT_DATE_FORMAT / SHORT_DATETIME_FORMAT.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Static files ------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
# FHIR bulk exports: NDJSON files written by the worker and served to their requester (the
# web servers and the worker must share this directory), deleted after FHIR_EXPORT_HOURS.
FHIR_EXPORT_DIR = Path(env_str("FHIR_EXPORT_DIR", str(VAR_DIR / "fhir-exports")))
FHIR_EXPORT_HOURS = env_int("FHIR_EXPORT_HOURS", 24)
# Exchange with the national systems: a JSON list of endpoints, each
# {"name": "nvp", "url": "https://.../fhir", "kinds": ["dose", "result"], "token_env": "VAR"}
# (the bearer token is read from the environment variable named by token_env, never
# stored). Empty: nothing is queued.
EXCHANGE_ENDPOINTS = json.loads(env_str("EXCHANGE_ENDPOINTS", "[]"))
EXCHANGE_BATCH = env_int("EXCHANGE_BATCH", 200)
EXCHANGE_TIMEOUT_SECONDS = env_int("EXCHANGE_TIMEOUT_SECONDS", 20)
EXCHANGE_MAX_ATTEMPTS = env_int("EXCHANGE_MAX_ATTEMPTS", 8)
EXCHANGE_BACKOFF_SECONDS = env_int("EXCHANGE_BACKOFF_SECONDS", 30)
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Province ----------------------------------------------------------------------------
# The provinces this deployment serves, by official code (two digits): their areas are
# loaded, their communes are the ones people may register in, the portal publishes each of
# them, and a national officer sees all of them. The first is the portal's home page.
# PROVINCE_CODE is the older single-province spelling, read when the list is not set.
PROVINCES = env_list("COVIDHUB_PROVINCES", [env_str("PROVINCE_CODE", "30")])
for _code in PROVINCES:
    if not (len(_code) == 2 and _code.isdigit()):
        raise ImproperlyConfigured(
            f"COVIDHUB_PROVINCES: {_code!r} is not a province's two-digit official code"
        )
if not PROVINCES or len(set(PROVINCES)) != len(PROVINCES):
    raise ImproperlyConfigured("COVIDHUB_PROVINCES must name each province once")
PROVINCE_CODE = PROVINCES[0]  # the home province (covidhub.areas.served.home_province_code)
SUPPORT_PHONE = env_str("SUPPORT_PHONE", "02203.897.353")
PLATFORM_NAME = env_str("PLATFORM_NAME", "covidhub Hải Dương")

# Declarations and exposure tracing.
DECLARATIONS_RETENTION_DAYS = env_int("DECLARATIONS_RETENTION_DAYS", 30)
DECLARATIONS_EXPOSURE_WINDOW_MINUTES = env_int("DECLARATIONS_EXPOSURE_WINDOW_MINUTES", 60)
DECLARATIONS_INFECTIOUS_DAYS_BEFORE_ONSET = env_int("DECLARATIONS_INFECTIOUS_DAYS_BEFORE_ONSET", 2)
DECLARATIONS_CHECKIN_REPEAT_MINUTES = env_int("DECLARATIONS_CHECKIN_REPEAT_MINUTES", 10)
DECLARATIONS_DEFAULT_STAY_MINUTES = env_int("DECLARATIONS_DEFAULT_STAY_MINUTES", 60)

# Benchmarks: bare baseline views (bench/harness.py); never set in a real deployment.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)

# API ---------------------------------------------------------------------------------
API_PAGE_SIZE_MAX = 100
NINJA_PAGINATION_MAX_LIMIT = API_PAGE_SIZE_MAX
NINJA_PAGINATION_PER_PAGE = 20
# Every list of the API is paged one way (covidhub/core/api_base.py).
NINJA_PAGINATION_CLASS = "covidhub.core.api_base.Pagination"
IDEMPOTENCY_TTL_HOURS = 24

# Security ----------------------------------------------------------------------------
# Content-Security-Policy (django-csp): scripts, styles, images and connections from this
# origin only — no inline script or event handler anywhere (templates load static files),
# no plugin, no framing but the portal's embed page (its own `csp_replace`). Style
# attributes stay allowed (bar widths); <style> elements do not. Permissions-Policy and
# Cache-Control: covidhub/core/headers.py.
# The public checkpoint verifier (/verifier/) refuses to check certificates with a trust
# list older than this (it warns past 24 hours): a revocation must reach every checkpoint.
VERIFIER_DATA_MAX_AGE_HOURS = env_int("VERIFIER_DATA_MAX_AGE_HOURS", 72)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Monitoring --------------------------------------------------------------------------
# /metrics (Prometheus) answers these networks only, and when METRICS_TOKEN is set, only
# with "Authorization: Bearer <token>"; everyone else gets a 404. Behind a reverse proxy
# the client address comes from X-Forwarded-For (TRUSTED_PROXY_COUNT); the proxy should
# not forward /metrics at all (deploy/nginx).
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env_str("METRICS_TOKEN")
# /readyz says "degraded" when the oldest task that is due has waited longer than this.
WORKER_LAG_MAX_SECONDS = env_int("WORKER_LAG_MAX_SECONDS", 120)
# Each worker records a heartbeat every WORKER_BEAT_SECONDS; a task still "running" under a
# worker silent for WORKER_DEAD_SECONDS (killed, its machine gone) goes back to the queue
# and runs again — tasks are written to be run twice safely (covidhub/core/workers.py).
WORKER_BEAT_SECONDS = env_int("WORKER_BEAT_SECONDS", 5)
WORKER_DEAD_SECONDS = env_int("WORKER_DEAD_SECONDS", 60)
if WORKER_DEAD_SECONDS < 3 * WORKER_BEAT_SECONDS:
    raise ImproperlyConfigured("WORKER_DEAD_SECONDS must be at least 3 × WORKER_BEAT_SECONDS")

# Logging: no personal data goes to logs (covidhub/core/logging.py masks what libraries
# write); request ids tie log lines to audit rows. JSON lines in production.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "plain")
_LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "covidhub.core.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {
            "()": "covidhub.core.logging.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {"()": "covidhub.core.logging.JsonLinesFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    "loggers": {
        # One line per request (route pattern, status, time, request id); on in production.
        "covidhub.access": {
            "level": env_str("ACCESS_LOG_LEVEL", _LOG_LEVEL if PRODUCTION else "WARNING")
        },
        # Django logs 4xx/5xx of a request: its route pattern, not its path (core.logging).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # One line per task run is noise at INFO; failures still show.
        "django.tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
    },
}
