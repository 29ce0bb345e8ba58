"""Django settings for Siaga112.

Three layers, in this order:

1. defaults written here, good for a single machine with no other service (SQLite under ``var/``);
2. ``SIAGA_*`` environment variables (read through :mod:`siaga.config.env`, which names a wrong value);
3. values computed from both, including the refusals: production without a secret key, and DEBUG on a
   host reachable from outside loopback, stop the process with a clear message.

docs/operations.md lists every variable; a test fails when one is read here and not documented there.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from siaga.config.env import Env

env = Env()

# --------------------------------------------------------------------------------------------------------
# Layer 1 + 2: defaults, overridden by the environment
# --------------------------------------------------------------------------------------------------------
PACKAGE_DIR = Path(__file__).resolve().parent.parent
_SOURCE_ROOT = PACKAGE_DIR.parent.parent
# A source checkout keeps its runtime files in <repo>/var; an installed package uses ./var.
_DEFAULT_VAR = (_SOURCE_ROOT / "var") if (_SOURCE_ROOT / "pyproject.toml").exists() else Path.cwd() / "var"

# Under pytest the default is "test" (pytest-django reads the settings before any conftest runs).
ENVIRONMENT = env.choice("ENV", "test" if "pytest" in sys.modules else "development",
                         ("development", "production", "test"))
VAR_DIR = env.path("VAR_DIR", _DEFAULT_VAR)
BACKUP_DIR = env.path("BACKUP_DIR", VAR_DIR / "backups")  # where `siaga backup` writes (dump + manifest)
DEBUG = env.bool("DEBUG", ENVIRONMENT == "development")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto `siaga serve` believes (addresses or CIDR
# networks). Empty: forwarded headers are ignored and the client address is the connection's own.
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES")
DATABASE_URL = env.str("DATABASE_URL", "")
if ENVIRONMENT == "test" and env.optional("TEST_DATABASE_URL"):
    DATABASE_URL = env.str("TEST_DATABASE_URL", "")  # the suite's second pass (PostgreSQL)
DB_POOL = env.bool("DB_POOL", True)
REDIS_URL = env.optional("REDIS_URL")
REDIS_CHANNEL = env.str("REDIS_CHANNEL", "siaga:live")  # one channel per deployment sharing a Redis

CITY_NAME = env.str("CITY_NAME", "Kota Cilegon")
# The signature block of the PDF reports: the head of the office that runs Call Center 112.
REPORT_SIGNER_TITLE = env.str("REPORT_SIGNER_TITLE", f"Kepala Perangkat Daerah Pengelola Call Center 112 {CITY_NAME}")
REPORT_SIGNER_NAME = env.str("REPORT_SIGNER_NAME", "")
REPORT_SIGNER_NIP = env.str("REPORT_SIGNER_NIP", "")
# Optional map tiles (e.g. a tile server inside the government network); without it the maps draw the
# city's boundaries only, which works with no internet.
MAP_TILE_URL = env.optional("MAP_TILE_URL")
CITY_CODE = env.str("CITY_CODE", "36.72")  # Kemendagri code of the city
TICKET_PREFIX = env.str("TICKET_PREFIX", "CLG")
EIDO_ISSUER = env.str("EIDO_ISSUER", "siaga112.cilegon.go.id")  # names this system in EIDO documents
EIDO_SCHEMA_DIR = env.str("EIDO_SCHEMA_DIR", "")  # a copy of NENA's EIDO schema: partners' documents checked by it
PHONE_REGION = env.str("PHONE_REGION", "ID")

# Staged blocking of prank / ghost callers (calls.blocking): one stage per strike, counted over a window.
BLOCK_STAGES = env.list("BLOCK_STAGES", ["warn", "24h", "3d", "permanent"])
BLOCK_OUTCOMES = env.list("BLOCK_OUTCOMES", ["prank", "ghost"])
BLOCK_WINDOW_DAYS = env.int("BLOCK_WINDOW_DAYS", 90, minimum=1)

# AML: how far back from a location fix we look for the call it belongs to, and forward for a call that
# arrives after its fix.
AML_MATCH_BEFORE_MINUTES = env.int("AML_MATCH_BEFORE_MINUTES", 60, minimum=1)
AML_MATCH_AFTER_MINUTES = env.int("AML_MATCH_AFTER_MINUTES", 10, minimum=0)
# CTI/AML HMAC signatures carry a timestamp; older or newer than this is refused as a possible replay.
SIGNATURE_MAX_SKEW_SECONDS = env.int("SIGNATURE_MAX_SKEW_SECONDS", 300, minimum=1)

SESSION_COOKIE_AGE = env.int("SESSION_AGE_SECONDS", 12 * 3600, minimum=300)
SHIFT_GRACE_MINUTES = env.int("SHIFT_GRACE_MINUTES", 10, minimum=0)  # late start / early leave tolerance
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCK_MINUTES = env.int("LOGIN_LOCK_MINUTES", 15, minimum=1)
# an open live stream checks its session or token again this often; revoked or deactivated -> it ends
LIVE_RECHECK_SECONDS = env.int("LIVE_RECHECK_SECONDS", 5, minimum=1)
# allocations between two passes of Python's garbage collector in a server process (siaga.config.asgi)
GC_YOUNG_THRESHOLD = env.int("GC_YOUNG_THRESHOLD", 50_000, minimum=700)

# Warning policy (siaga.hazards.policy; defaults justified in docs/decisions/0011-warning-policy.md)
POLICY_TSUNAMI_KM = env.float("POLICY_TSUNAMI_KM", 300.0)  # tsunami potential this close -> full screen
POLICY_TICKER_KM = env.float("POLICY_TICKER_KM", 300.0)  # M >= POLICY_TICKER_MAGNITUDE this close -> ticker
POLICY_TICKER_MAGNITUDE = env.float("POLICY_TICKER_MAGNITUDE", 5.0)
POLICY_FELT_PLACES = env.list("POLICY_FELT_PLACES",
                              ["Cilegon", "Serang", "Anyer", "Merak", "Pandeglang", "Lampung Selatan"])
POLICY_ZONE_PROVINCES = env.list("POLICY_ZONE_PROVINCES", ["BANTEN"])  # InaTEWS zones that are "our area"
POLICY_ZONE_DISTRICTS = env.list("POLICY_ZONE_DISTRICTS", ["CILEGON"])
# BMKG's criteria for a tsunami-capable quake, used when the Potensi sentence is missing or not known
POLICY_CRITERIA_MAGNITUDE = env.float("POLICY_CRITERIA_MAGNITUDE", 7.0)
POLICY_CRITERIA_DEPTH_KM = env.float("POLICY_CRITERIA_DEPTH_KM", 100.0)

# Nodes (siaga.runtime.roles): several `siaga serve` / `siaga worker` processes on one database. The EWS carousel and
# the pollers run on one node at a time, the one holding their lease; another takes over within LEASE_SECONDS + 1 s.
NODE_NAME = env.str("NODE_NAME", "")  # how this node shows in /readyz, the metrics and the leases (default: host name)
LEASE_SECONDS = env.float("LEASE_SECONDS", 6.0)
if LEASE_SECONDS < 2:
    raise ImproperlyConfigured(f"SIAGA_LEASE_SECONDS is {LEASE_SECONDS:g}; a lease needs 2 s or more to be renewed")
# The outbox (siaga.core.outbox): a worker holds a row it is sending this long; a row whose worker died is sent
# again after it. Longer than any channel's own time-out (webhooks 10 s), or a slow send is sent twice.
OUTBOX_LEASE_SECONDS = env.float("OUTBOX_LEASE_SECONDS", 120.0)
if not 15 <= OUTBOX_LEASE_SECONDS <= 3600:  # also refuses nan and inf
    raise ImproperlyConfigured(f"SIAGA_OUTBOX_LEASE_SECONDS is {OUTBOX_LEASE_SECONDS:g}; it must be 15 to 3600 s "
                               "(longer than a webhook's 10 s time-out; a dead worker's rows wait this long)")

# Hazard feeds (siaga.hazards.poller). BMKG allows about 60 requests a minute per address: three feeds every
# 5 s is 36. SIAGA_INATEWS_FEEDS has no default: its address comes with the BMKG agreement.
_BMKG = "https://data.bmkg.go.id/DataMKG/TEWS/"
HAZARD_POLLING = env.bool("HAZARD_POLLING", ENVIRONMENT != "test")  # `siaga serve` runs the pollers
BMKG_FEEDS = env.list("BMKG_FEEDS", [_BMKG + "autogempa.json", _BMKG + "gempaterkini.json",
                                     _BMKG + "gempadirasakan.json"])
INATEWS_FEEDS = env.list("INATEWS_FEEDS", [])
USGS_FEEDS = env.list("USGS_FEEDS", [])  # e.g. .../summary/4.5_hour.geojson (optional second source)
CAP_FEEDS = env.list("CAP_FEEDS", [])  # other senders' CAP: a CAP file, or an Atom / RSS list of them
DRILL_FEEDS = env.list("DRILL_FEEDS", [])  # URLs (of the lists above) whose alerts are exercises
POLL_INTERVAL_SECONDS = env.float("POLL_INTERVAL_SECONDS", 5.0)
POLL_TIMEOUT_SECONDS = env.float("POLL_TIMEOUT_SECONDS", 4.0)  # connect, and between two received bytes
POLL_DEADLINE_SECONDS = env.float("POLL_DEADLINE_SECONDS", 8.0)  # a whole poll, however slowly the bytes come
POLL_MAX_BYTES = env.int("POLL_MAX_BYTES", 4 * 1024 * 1024, minimum=64 * 1024)  # read while it streams
CLOCK_SKEW_SECONDS = env.float("CLOCK_SKEW_SECONDS", 120.0)  # a feed's "sent" further ahead is clamped
ALERT_MAX_AGE_MINUTES = env.int("ALERT_MAX_AGE_MINUTES", 30, minimum=1)  # older records are recorded, not sent

# Alerts (siaga.alerts): CAP identity, lifetimes, channels
CAP_OID = env.str("CAP_OID", "2.25.248088204554926907520195227912430839554")  # register 2.49.0.0.360.x with WMO
CAP_SENDER = env.str("CAP_SENDER", "siaga112@cilegon.go.id")
CAP_SENDER_NAME = env.str("CAP_SENDER_NAME", "Pemerintah Kota Cilegon - Siaga112")
CAP_CONTACT = env.str("CAP_CONTACT", "112")
PUBLIC_URL = env.str("PUBLIC_URL", "http://127.0.0.1:8112").rstrip("/")  # absolute links in CAP, e-mail, Atom
# every CAP message we issue is signed (XML-DSig) with this key and certificate (PEM files, outside the
# repository); outside production a self-signed pair is made under <var>/cap/ on first use (siaga cap keygen)
CAP_SIGNING_KEY_FILE = env.optional("CAP_SIGNING_KEY_FILE")
CAP_SIGNING_CERT_FILE = env.optional("CAP_SIGNING_CERT_FILE")
CAP_TRUSTED_CERTS = env.list("CAP_TRUSTED_CERTS", [])  # PEM files: other senders' certificates or authorities
# the Atom feed (/peringatan/feed.atom): every message of a warning in force, and the others of the last hours
CAP_FEED_HOURS = env.int("CAP_FEED_HOURS", 48, minimum=1)
CAP_FEED_MAX = env.int("CAP_FEED_MAX", 500, minimum=10)
ALERT_FULLSCREEN_HOURS = env.int("ALERT_FULLSCREEN_HOURS", 6, minimum=1)
ALERT_TICKER_MINUTES = env.int("ALERT_TICKER_MINUTES", 60, minimum=5)
ALERT_CHANNELS = env.list("ALERT_CHANNELS", ["web", "mqtt", "email", "webhook", "tts", "ews", "sms"])
MQTT_URL = env.optional("MQTT_URL")  # mqtt://user:pass@host:1883; without it the MQTT channel is off
MQTT_TOPIC_PREFIX = env.str("MQTT_TOPIC_PREFIX", "siaga112/cilegon/peringatan")
SMTP_URL = env.optional("SMTP_URL")  # smtp://host:25 or smtps://user:pass@host:465; without it e-mail is off
EMAIL_FROM = env.str("EMAIL_FROM", "Siaga112 Cilegon <siaga112@cilegon.go.id>")
ALERT_EMAILS = env.list("ALERT_EMAILS", [])  # besides every active agency's address
TTS_COMMAND = env.str("TTS_COMMAND", "espeak-ng")  # the WAV of the Indonesian text; empty turns TTS off

# SMS through a gateway (siaga.sms): Kannel's sendsms interface; without SMS_SENDSMS_URL every SMS is off
SMS_SENDSMS_URL = env.optional("SMS_SENDSMS_URL")  # e.g. http://127.0.0.1:13013/cgi-bin/sendsms
SMS_USERNAME = env.str("SMS_USERNAME", "")  # Kannel's sendsms-user
SMS_PASSWORD = env.str("SMS_PASSWORD", "")
SMS_SENDER = env.str("SMS_SENDER", "112")  # the sender the operator allows us (a number or a mask)
SMS_SMSC = env.str("SMS_SMSC", "")  # Kannel's smsc-id to route through (empty: Kannel chooses)
SMS_NUMBER_FORMAT = env.choice("SMS_NUMBER_FORMAT", "international", ("international", "e164", "national"))
SMS_CALLBACK_URL = env.str("SMS_CALLBACK_URL", "").rstrip("/")  # how Kannel reaches us (default PUBLIC_URL)
SMS_SECRET = env.str("SMS_SECRET", "")  # signs the MO and delivery-report URLs (default: from SECRET_KEY)
SMS_RATE = env.float("SMS_RATE", 50.0)  # messages per second handed to the gateway (match its SMSC throughput)
SMS_CONCURRENCY = env.int("SMS_CONCURRENCY", 8, minimum=1)  # requests to the gateway in flight at once
SMS_MAX_PARTS = env.int("SMS_MAX_PARTS", 3, minimum=1)  # parts of a concatenated warning or dispatch
SMS_REPLIES_PER_HOUR = env.int("SMS_REPLIES_PER_HOUR", 10, minimum=1)  # answers to one number (keywords)
SMS_SIGNATURE = env.str("SMS_SIGNATURE", "Siaga112 Cilegon")
SMS_PLACE_LINK_DAYS = env.int("SMS_PLACE_LINK_DAYS", 7, minimum=1)  # how long a dispatch's map link opens
if SMS_RATE <= 0:
    raise ImproperlyConfigured(f"SIAGA_SMS_RATE is {SMS_RATE:g}; it must be above 0 (messages per second)")

# DVB-T2 EWS (siaga.broadcast): the carousel `siaga serve` sends, and its transport stream
EWS_UDP = env.list("EWS_UDP", [])  # host:port destinations (multicast groups too); empty: serve sends none
EWS_PID = env.int("EWS_PID", 0x0080, minimum=0x0020)  # boxes read 0x0080 (and try 0x038F); they ignore the PMT
EWS_BITRATE = env.int("EWS_BITRATE", 500_000, minimum=50_000)  # bit/s of the carousel's TS
EWS_REPEAT_MS = env.int("EWS_REPEAT_MS", 250, minimum=50)  # every section again at least this often (<= 500)
EWS_TMDW_FORM = env.choice("EWS_TMDW_FORM", "mstar", ("mstar", "mtk"))  # how the viewers' boxes read the TMDW
EWS_SERVICE_NAME = env.str("EWS_SERVICE_NAME", "EWS Kota Cilegon")
if EWS_REPEAT_MS > 500:
    raise ImproperlyConfigured("SIAGA_EWS_REPEAT_MS must be at most 500")
if EWS_PID not in (0x0080, 0x038F):
    raise ImproperlyConfigured(f"SIAGA_EWS_PID={EWS_PID:#06x}: set-top boxes read the EWS on PID 0x0080 (and try "
                               "0x038F when it is silent); they do not follow the PMT, so no other PID reaches them")

# --------------------------------------------------------------------------------------------------------
# Layer 3: computed
# --------------------------------------------------------------------------------------------------------
_LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1", "testserver"}


def _secret_key() -> str:
    """The secret key: from the environment, a file, or (not in production) one generated under var/."""
    value = env.optional("SECRET_KEY")
    if value:
        return value
    key_file = env.optional("SECRET_KEY_FILE")
    if key_file:
        try:
            text = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"SIAGA_SECRET_KEY_FILE={key_file!r} cannot be read: {exc}.") from exc
        if not text:
            raise ImproperlyConfigured(f"SIAGA_SECRET_KEY_FILE={key_file!r} is empty.")
        return text
    if ENVIRONMENT == "production":
        raise ImproperlyConfigured(
            "Refusing to start in production without a secret key: set SIAGA_SECRET_KEY or "
            "SIAGA_SECRET_KEY_FILE (50+ random characters, never committed to the repository)."
        )
    # Development and tests: a random key kept on this machine only (var/ is ignored by git).
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("The secret key is shorter than 32 characters; use 50+ random characters.")

if DEBUG:
    public = [host for host in ALLOWED_HOSTS if host not in _LOOPBACK]
    if ENVIRONMENT == "production" or public:
        raise ImproperlyConfigured(
            "Refusing to start with DEBUG on "
            + (f"for the public host(s) {', '.join(public)}" if public else "in production")
            + ": DEBUG shows source code and settings to anyone who triggers an error. "
            "Set SIAGA_DEBUG=0, or serve on loopback only."
        )

if ENVIRONMENT == "test" and "testserver" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append("testserver")

VAR_DIR.mkdir(parents=True, exist_ok=True)

if not DATABASE_URL:
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'siaga.sqlite3'}"
try:
    _db = dj_database_url.parse(DATABASE_URL)
except Exception as exc:  # dj_database_url raises several types for a bad URL
    raise ImproperlyConfigured(
        f"SIAGA_DATABASE_URL is not a database URL ({exc}); use sqlite:///path or postgres://user@host/db."
    ) from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two writers
    # queue on busy_timeout instead of failing with "database is locked" on lock upgrade.
    _db["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=10000;"
            "PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # Tests use a file, not shared-cache memory: live-server tests write from several threads, and
    # shared-cache SQLite answers "table is locked" instead of waiting on busy_timeout.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-siaga.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    if DB_POOL:
        _db["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env.int("DB_POOL_SIZE", 20, minimum=2)},
                          # Server-side parameter binding: psycopg sends parameters apart from the SQL instead
                          # of quoting them into it, which halves its Python cost per statement (measured in
                          # docs/benchmarks.md). SIAGA_DB_SERVER_BINDING=0 turns it off.
                          "server_side_binding": env.bool("DB_SERVER_BINDING", True)}
        # a request waits at most this long for a pooled connection (then 503, retried by the sender)
        _db["OPTIONS"]["pool"]["timeout"] = env.float("DB_POOL_TIMEOUT", 5.0)
        _db["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
    else:
        _db["CONN_MAX_AGE"] = 60
        _db["CONN_HEALTH_CHECKS"] = True
    # a database that does not answer (a cut network) is given up on after this, not after minutes
    _db.setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", 3, minimum=1)
else:
    raise ImproperlyConfigured(f"SIAGA_DATABASE_URL uses {_db['ENGINE']}; Siaga112 supports SQLite and PostgreSQL.")
DATABASES = {"default": _db}

# --------------------------------------------------------------------------------------------------------
# Django
# --------------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "axes",
    "siaga.core",
    "siaga.calls",
    "siaga.incidents",
    "siaga.shifts",
    "siaga.webhooks",
    "siaga.reports",
    "siaga.hazards",
    "siaga.alerts",
    "siaga.broadcast",
    "siaga.sms",
    "siaga.console",
    "siaga.runtime",
]

MIDDLEWARE = [
    "siaga.core.guard.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "siaga.core.locale.IndonesianFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "siaga.core.presence.PresenceMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the login page with a wait (429)
]

# Login throttling (django-axes; siaga.console.auth): LOGIN_MAX_FAILURES per username (normalised),
# four times that per address, then LOGIN_LOCK_MINUTES after the last failure.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCK_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "siaga.console.auth.ThrottleHandler"
AXES_USERNAME_CALLABLE = "siaga.console.auth.throttle_username"
AXES_CLIENT_IP_CALLABLE = "siaga.console.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "siaga.console.auth.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit log already
AXES_VERBOSE = False

ROOT_URLCONF = "siaga.config.urls"
ASGI_APPLICATION = "siaga.config.asgi.application"
WSGI_APPLICATION = "siaga.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "siaga.core.context.siaga",
            ],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENVIRONMENT == "test":
    # Hashing cost is not what the tests measure.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True  # stored in UTC ...
TIME_ZONE = "Asia/Jakarta"  # ... shown in WIB

STATIC_URL = "/static/"


def _package_static(package: str) -> str:
    """The static folder of an installed package, found without importing it (django-leaflet reads the
    settings at import time, and its app would pull in GeoDjango); Leaflet is served from there, offline."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ImproperlyConfigured(f"the package {package!r} is missing; run `make setup` (pip install -e .)")
    return str(Path(spec.origin).parent / "static")


STATICFILES_DIRS = [_package_static("leaflet")]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = ENVIRONMENT != "production"
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # no SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from anyone; `siaga serve` takes the
    # scheme from it only when the connection comes from one of TRUSTED_PROXIES
    if TRUSTED_PROXIES:  # the TLS proxy redirects to HTTPS and sends HSTS (docs/deploy.md), not Django
        SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008"]

DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # no legitimate request body is larger

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error"))
LOG_FORMAT = env.choice("LOG_FORMAT", "plain", ("plain", "json"))  # json: one object a line, for collectors
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # one JSON object a line, for a log collector: time (UTC, ISO 8601), level, logger, message, and
        # exc_info with the traceback when there is one
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": "%(levelname)s %(name)s %(message)s",
                 "rename_fields": {"levelname": "level", "name": "logger"}, "timestamp": "time"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "siaga": {"handlers": ["console"], "level": LOG_LEVEL.upper(), "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
