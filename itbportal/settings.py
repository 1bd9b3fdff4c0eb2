"""ITB Portal settings, read from the environment (django-environ).

Every setting has a safe development default so that `make run` works on a bare machine
(SQLite and a filesystem Celery transport under var/). Production sets DEBUG=false and must
provide SECRET_KEY; a missing secret is a loud ImproperlyConfigured, never a silent default.
"""

from datetime import timedelta
from pathlib import Path

import environ
import xstatic.pkg.bootstrap
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("ITB_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# --- Core -------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (DEBUG=true gives a development key)."
        )
    # Development only: a throwaway key, regenerated per process start is fine for dev.
    SECRET_KEY = "dev-insecure-" + "itbportal-development-key-not-for-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    # The domain (models, rules, writes), then the engine, then the surfaces (README, "Layers").
    "patients",
    "pumps",
    "appointments",
    "alerts",
    "patients.accounts",
    "patients.demo",
]

# Benchmarks only (issue 9, `make bench`): mounts /bench/baseline/, a static page behind sign-in,
# and says which process answered, so the harness warms every worker.
BENCHMARK_VIEWS = env.bool("BENCHMARK_VIEWS", default=False)

# Every middleware, in order (one list: nothing below inserts or splices).
MIDDLEWARE = [
    *(["itbportal.bench_views.WorkerPidMiddleware"] if BENCHMARK_VIEWS else []),
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header on every response
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # right after authentication: request.user.is_verified()
    "patients.accounts.middleware.CaregiverLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sessions' idle and absolute limits, the two-step gate for staff, no-store on pages with
    # health data, the parents' offline copies, and refused requests in the audit log.
    "patients.accounts.security_middleware.SessionTimeoutMiddleware",
    "patients.accounts.security_middleware.TwoFactorGateMiddleware",
    "patients.accounts.security_middleware.NoStoreMiddleware",
    "patients.family.offline.OfflineCopyMiddleware",
    "patients.accounts.security_middleware.RefusalAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Path ids past the database's bigint are a 404 (not a DataError).
    "patients.accounts.security_middleware.BoundedPathIdsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "itbportal.urls"
WSGI_APPLICATION = "itbportal.wsgi.application"
ASGI_APPLICATION = "itbportal.asgi.application"

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
                "django.template.context_processors.i18n",
                "patients.common.context_processors.portal",
            ],
            # Template tags of the surfaces, by name ({% load family %}, {% load clinic_calls %}).
            "libraries": {
                "family": "patients.family.templatetags",
                "clinic_calls": "patients.common.templatetags",
            },
        },
    },
]


# --- Database: PostgreSQL when DATABASE_URL is set, else an embedded SQLite file ---------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'itbportal.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if _SQLITE:
    # `make run`: web, worker and beat share one file. A transaction takes the write lock when it
    # begins (IMMEDIATE), so two writers queue instead of one failing at once with "database is
    # locked" on upgrading a read lock; a writer waits up to 20 s for the other.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
# Persistent connections (issue 16). Opening a PostgreSQL connection (fork of a backend, TLS,
# authentication, session set-up) cost more than a whole page of the portal: reusing it gave the
# baseline page 1.9-2.6x the throughput. Every process that talks to the database holds one
# connection per thread: gunicorn's sync workers (one each), Celery's worker processes (one each,
# plus one per sending thread, SMS_SEND_THREADS), beat. Without a pool that is 21 per worker
# process, and two worker containers of two processes took 84 of PostgreSQL's default 100
# (issue 23): production sets DB_POOL_MAX_SIZE (below), which bounds every process.
# - CONN_MAX_AGE: a connection is closed after 10 minutes (at the end of a request or task), so a
#   restarted or failed-over database, or a changed password, is picked up within that time.
# - CONN_HEALTH_CHECKS: a reused connection is checked (a trivial query) at the start of each
#   request or task, and replaced if the server closed it meanwhile (restart, idle timeout,
#   network cut): persistent connections never turn a database restart into a failed request.
# Development (DEBUG, runserver: a new thread per request) keeps 0, as Django advises.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# A connection budget (issue 23): with DB_POOL_MAX_SIZE set (PostgreSQL), each process keeps a
# bounded pool (Django's psycopg pool) instead of one persistent connection per thread. Its
# sending threads share it: a thread takes a connection for a text's few short transactions and
# hands it back; with more threads than connections, a thread waits (up to DB_POOL_TIMEOUT) for
# one. Connections per process = DB_POOL_MAX_SIZE, whatever SMS_SEND_THREADS says; the budget of
# a deployment is in the README ("Connections"). The pool checks a connection before lending it.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=0)
if DB_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env.int("DB_POOL_MIN_SIZE", default=1), DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT", default=60.0),
        "name": "itbportal",
    }
    # The pool keeps the connections (Django requires 0); CONN_HEALTH_CHECKS (above) makes the
    # pool check each connection before lending it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` (issue 23): the web, the worker and beat write to one file. WAL lets readers go on
    # while one writes; a writer waits up to 20 s for the lock instead of failing at once with
    # "database is locked"; IMMEDIATE transactions take the write lock when they begin, so none
    # fails halfway when it upgrades a read lock. The worker also sends on one thread on SQLite
    # (alerts/send_pool.py): one writer per process.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and passwords ------------------------------------------------------------------
AUTH_USER_MODEL = "patients.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # 12 characters for clinic staff, 10 for parents (patients/accounts/validators.py).
    {
        "NAME": "patients.accounts.validators.RoleMinimumLengthValidator",
        "OPTIONS": {"staff_min": 12, "other_min": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60  # reset links expire within an hour

# --- Languages and time -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The clinic is in Salt Lake City. Instants are stored in UTC and shown in this zone.
TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="America/Denver")
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Bootstrap comes from an installed package (xstatic-bootstrap), never from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR)]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Media holds children's documents: it is never served by URL, only through authorised views.
MEDIA_URL = ""
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DEFAULT_REGION = "US"

# --- Celery: Redis when CELERY_BROKER_URL / REDIS_URL is set, else the filesystem transport -
REDIS_URL = env.str("REDIS_URL", default="")
# The filesystem transport names a host ("localhost") so kombu does not warn "No hostname was
# supplied" on every connection (issue 24, item 14); it reads and writes only the folders below.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),  # else kombu writes ./control in the repo
        "store_processed": False,
    }
else:
    # An unacknowledged task comes back after this long; sends are safe to repeat (alerts.sending).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# `make run`: the worker sweeps once as it starts, so the demo's first text shows within a minute.
SWEEP_AT_WORKER_START = env.bool("SWEEP_AT_WORKER_START", default=False)
# The beat schedule itself is in itbportal/celery.py (sweep every minute, checks, daily replan).
# The reminder engine's clock (alerts/sending.py): how often beat runs the sweep; after how long a
# claim whose task never began, or a send that no live worker holds, counts as lost and goes out
# again (a lost text is sent within two sweeps); the first retry delay after a transient error
# (then doubling, at most 60 times it). Production keeps the defaults; the chaos test shortens them.
# A send holds no lock while Twilio answers: "lost" must outlast the longest request, so keep
# REMINDER_LOST_AFTER_SECONDS above TWILIO_TIMEOUT_SECONDS (50 s against 15 s).
REMINDER_SWEEP_SECONDS = env.float("REMINDER_SWEEP_SECONDS", default=60.0)
REMINDER_LOST_AFTER_SECONDS = env.float("REMINDER_LOST_AFTER_SECONDS", default=50.0)
REMINDER_RETRY_SECONDS = env.float("REMINDER_RETRY_SECONDS", default=60.0)
# When the daily replan of every child runs, "HH:MM" UTC (at night in the Americas by default).
REMINDER_REPLAN_AT_UTC = env.str("REMINDER_REPLAN_AT_UTC", default="09:00")

# --- Text messages -------------------------------------------------------------------------
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# Tests and staging point the real SDK at a local fake of Twilio's HTTP API.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com")
# How long Twilio may hold a text before giving up (seconds; a reminder hours late is still useful).
TWILIO_VALIDITY_PERIOD = env.int("TWILIO_VALIDITY_PERIOD", default=4 * 60 * 60)
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=15.0)
# Threads per worker process that send a batch's texts side by side (alerts/send_pool.py): each
# waits ~150 ms on the provider, so one process sending one by one manages ~6 texts/s. A free
# thread takes the next text; it holds no database connection while the provider answers, only
# while it records the answer (DB_POOL_MAX_SIZE bounds them, see DATABASES above). On SQLite
# (`make run`) the worker sends on one thread whatever this says (alerts/send_pool.py).
SMS_SEND_THREADS = env.int("SMS_SEND_THREADS", default=1 if _SQLITE else 20)
# Links in texts and e-mails. Without it, the port `make run` serves on (WEB_PORT, as the Procfile).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env.int('WEB_PORT', default=8000)}")
if SMS_BACKEND == "twilio" and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN):
    raise ImproperlyConfigured("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")

# --- Phone calls (the last automatic step of the ladder, alerts/voice/) ----------------------
VOICE_BACKEND = env.str("VOICE_BACKEND", default="console")
# A voice-capable number of the account (a messaging service cannot place calls).
TWILIO_VOICE_FROM_NUMBER = env.str("TWILIO_VOICE_FROM_NUMBER", default="") or TWILIO_FROM_NUMBER
# How long a call rings before Twilio reports no-answer.
TWILIO_CALL_RING_SECONDS = env.int("TWILIO_CALL_RING_SECONDS", default=30)
if VOICE_BACKEND == "twilio" and not (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_VOICE_FROM_NUMBER):
    raise ImproperlyConfigured(
        "VOICE_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_VOICE_FROM_NUMBER."
    )

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
# Seconds before a silent mail server counts as a failure (the beat retries): a nurse-inbox
# message is sent holding its concern's row lock, so it must not wait forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ITB Portal <no-reply@localhost>")

# --- Backups: what /healthz reads of pgBackRest (itbportal/backups.py, README "Backups") ------
# BACKUP_INFO_FILE: the JSON of `pgbackrest info --output=json` that the compose file's backup
# service writes; or BACKUP_INFO_COMMAND, run (at most BACKUP_INFO_TIMEOUT s) where pgBackRest is
# at hand. Neither set: "backup: not configured". Read at most every BACKUP_INFO_CACHE_SECONDS;
# the last good backup older than BACKUP_STALE_AFTER_HOURS fails the check.
BACKUP_INFO_FILE = env.str("BACKUP_INFO_FILE", default="")
BACKUP_INFO_COMMAND = env.str("BACKUP_INFO_COMMAND", default="")
BACKUP_INFO_TIMEOUT = env.float("BACKUP_INFO_TIMEOUT", default=10.0)
BACKUP_INFO_CACHE_SECONDS = env.float("BACKUP_INFO_CACHE_SECONDS", default=300.0)
BACKUP_STALE_AFTER_HOURS = env.float("BACKUP_STALE_AFTER_HOURS", default=26.0)

# --- Logging: no health data in logs; messages carry ids only --------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint reports every layout step at INFO; only its warnings are worth a line.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Security: proxy, HTTPS, cookies, headers (env-driven; production defaults when DEBUG is off) ---
# How many reverse proxies in front of the portal append to X-Forwarded-For. 0 = connected directly;
# then REMOTE_ADDR is the client. One rule (patients.audit.client_ip) serves the audit log and axes.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# The proxies' own addresses (or networks, e.g. 172.30.0.10 or 10.0.0.0/24): X-Forwarded-For is
# believed only on a connection from one of them; from anywhere else it is ignored.
TRUSTED_PROXY_ADDRESSES = env.list("TRUSTED_PROXY_ADDRESSES", default=[])
if TRUSTED_PROXY_COUNT and not TRUSTED_PROXY_ADDRESSES:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT needs TRUSTED_PROXY_ADDRESSES (the proxy's address).")
if env.bool("SECURE_BEHIND_PROXY", default=TRUSTED_PROXY_COUNT > 0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer and the compose health check probe /healthz over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Oversized or field-flooded posts get the plain-words 400 page (templates/400.html).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=500)

# Content Security Policy (django-csp 4): no inline or remote scripts; JS lives in static/js/*.js.
# Inline style attributes stay allowed (Bootstrap widths, crispy forms); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Sessions: idle and absolute limits (patients/accounts/security_middleware.py) ---------------------
STAFF_IDLE_TIMEOUT = env.int("STAFF_IDLE_TIMEOUT", default=15 * 60)  # seconds
PARENT_IDLE_TIMEOUT = env.int("PARENT_IDLE_TIMEOUT", default=30 * 60)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_EXPIRE_AT_BROWSER_CLOSE = True  # shared family computers and clinic PCs
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Sign-in: lockout (django-axes) and two-factor (django-otp) ---------------------------------
INSTALLED_APPS += [  # noqa: F405
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username+address
    "django.contrib.auth.backends.ModelBackend",
]

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))  # never permanent
# Beyond axes' lock per account AND address: failures counted per account across every address, and
# per address across every account (patients.accounts.lockout). 10 failures within an hour from any
# addresses pause the account; pauses grow (5, 10, 20, 40 minutes, then an hour each), so a spread
# attack gets about 40 guesses the first hour and 10 an hour after (OWASP ASVS: at most 100 failed
# attempts per hour per account), yet a stranger can keep a family out for an hour at most. The
# owner is e-mailed the first time in a day.
SIGN_IN_ACCOUNT_FAILURE_LIMIT = env.int("SIGN_IN_ACCOUNT_FAILURE_LIMIT", default=10)
SIGN_IN_ACCOUNT_WINDOW = timedelta(minutes=env.int("SIGN_IN_ACCOUNT_WINDOW_MINUTES", default=60))
SIGN_IN_ACCOUNT_PAUSE = timedelta(minutes=env.int("SIGN_IN_ACCOUNT_PAUSE_MINUTES", default=5))
SIGN_IN_ACCOUNT_PAUSE_MAX = timedelta(minutes=env.int("SIGN_IN_ACCOUNT_PAUSE_MAX_MINUTES", default=60))
SIGN_IN_ADDRESS_FAILURE_LIMIT = env.int("SIGN_IN_ADDRESS_FAILURE_LIMIT", default=50)
SIGN_IN_ADDRESS_PAUSE = timedelta(minutes=env.int("SIGN_IN_ADDRESS_PAUSE_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# The client address behind the proxy: same rule as the audit log (X-Forwarded-For, counted from the
# right by TRUSTED_PROXY_COUNT). The ipware settings say the same for when django-ipware is present.
AXES_CLIENT_IP_CALLABLE = "patients.audit.client_ip"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="ITB Portal")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
TWO_FACTOR_RECOVERY_CODES = 10

# --- Logging hygiene: every console line passes the health-data filter ------------------------
LOGGING["filters"] = {"no_health_data": {"()": "patients.accounts.security_logging.NoHealthDataFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["no_health_data"]
