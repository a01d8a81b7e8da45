"""dtiplan settings: one module, every deployment-specific value from the environment.

README.md lists the variables. Development (DEBUG=true) works with none of them set;
production (DEBUG=false, the default) refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from dtiplan.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DTIPLAN_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG=false) needs it in the environment; "
            "for development set DEBUG=true and a key is generated under var/."
        )
    # Development only: a stable key kept out of git, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set; production needs the site's host names.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The absolute address of the site, used in links inside e-mails.
SITE_URL_IS_SET = bool(env_str("SITE_URL"))
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
# One machine runs everything (web, worker, beat): the folder broker and each process's own cache
# are then deliberate, and `check --deploy` accepts them (dtiplan/checks.py).
DTIPLAN_SINGLE_MACHINE = env_bool("DTIPLAN_SINGLE_MACHINE", default=False)

INSTALLED_APPS = [
    "dtiplan",
    # Our apps first so that their management commands (``import``) win over the libraries'.
    "indicators",
    "plans",
    "notifications",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "import_export",
    "simple_history",
    "axes",
    # Last, as it asks: deletes a file once the row that held it is deleted or points to another
    # file, after the transaction commits (evidence must not outlive its task).
    "django_cleanup.apps.CleanupConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Instead of Django's LocaleMiddleware: the person's language, not the browser's.
    "dtiplan.middleware.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records who made a change in the admin in the history rows; services pass the user
    # explicitly, so changes from commands and workers are attributed too.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dtiplan.urls"
WSGI_APPLICATION = "dtiplan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dtiplan" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "notifications.context_processors.portal_nav",
                "notifications.context_processors.admin_alerts",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'dtiplan.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The web server, the worker and the schedule write to one file: wait for the lock instead
    # of failing, and take the write lock at BEGIN so two writers cannot deadlock on upgrade.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    # A file, not memory, so that a Celery worker started by a test sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No just-in-time compilation: it pays off on long analytical queries, while every query
    # here is a page's or a batch's. With it on, a report query over 100,000 tasks whose cost
    # estimate crossed jit_above_cost spent 0.8 s compiling for 0.3 s of work, on every request,
    # and the reminder sweep's candidates' query 6 s of 7 (docs/reminders.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and login ---------------------------------------------------------------------
AUTH_USER_MODEL = "plans.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username or address before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The portal's login serves everyone; coordinators go on to /admin/ from the portal.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:task_list"
LOGOUT_REDIRECT_URL = "login"
# Throttling: 5 failures lock that username from that address for 30 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind N reverse proxies, the client's address is the one the outermost proxy saw (see
# dtiplan/client_ip.py); without, X-Forwarded-For is ignored so it cannot be spoofed.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "dtiplan.client_ip.client_ip"
# A locked-out person sees a page that says so and for how long (not axes' bare text).
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
# 2nd: Vietnamese for apps shipping none (import-export, axes), Django rewordings; makemessages: 1st
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_overrides"]
# dd/mm/yyyy everywhere in the UI, including what forms accept.
FORMAT_MODULE_PATH = ["dtiplan.formats"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# Evidence files: outside MEDIA_ROOT and never under a URL; served only by the portal's
# access-checked download view (plans/uploads.py).
EVIDENCE_ROOT = Path(env_str("EVIDENCE_ROOT") or VAR_DIR / "evidence")
EVIDENCE_MAX_UPLOAD_BYTES = env_int("EVIDENCE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    # No mail server configured: every message becomes a file under var/mail/ to read.
    EMAIL_BACKEND = "dtiplan.mail.FilePerMessageBackend"
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or EMAIL_BACKEND
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
# Django waits forever by default; a stuck mail server must not hang a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
# The sender: DEFAULT_FROM_EMAIL, else no-reply at the site's own domain (SITE_URL's host, less a
# leading "www."), so that production mail is not "from localhost" when only SITE_URL is set;
# an address such as 127.0.0.1 (development) is no mail domain: localhost then.
_SITE_HOST = (urlsplit(SITE_URL).hostname or "localhost").removeprefix("www.")
if not re.search(r"[a-z]", _SITE_HOST.split(".")[-1]):
    _SITE_HOST = "localhost"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or f"dtiplan <no-reply@{_SITE_HOST}>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
# A cache shared by every process when Redis is there (counters such as the password-reset
# limit must be the same in every web worker); otherwise each process keeps its own.
CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    # Where a counter falls back to when the shared cache is down (plans/accounts.py).
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
}
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL") or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "queue"),
        "data_folder_out": str(_queue / "queue"),
        "processed_folder": str(_queue / "processed"),
        # Without this kombu writes a control/ folder into the current directory.
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
# A claimed e-mail whose sender has not refreshed its claim for this long is sent again (the
# sender died; a live one refreshes every fifth of it, between e-mails): at-least-once for the
# e-mail in flight, see docs/reminders.md. At least 5 × EMAIL_TIMEOUT (dtiplan.E006).
NOTIFICATIONS_STALE_CLAIM_SECONDS = env_int("NOTIFICATIONS_STALE_CLAIM_SECONDS", 300, minimum=1)
# The steering committee's report pack covers a month or a quarter (REPORTS_PERIOD) and goes
# out on this working day (1: the first) of the month after the period ends.
REPORTS_PERIOD = env_choice("REPORTS_PERIOD", "month", ("month", "quarter"))
REPORTS_MONTHLY_WORKING_DAY = env_int("REPORTS_MONTHLY_WORKING_DAY", 1, minimum=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
# A killed worker process must give its message back, not acknowledge it: with acks_late alone,
# Celery still acknowledges the task of a worker process that was killed.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "send-reminders": {
        "task": "notifications.tasks.send_reminders",
        # Every day at 08:00 Asia/Ho_Chi_Minh: the sweep itself does nothing on a non-working
        # day, and a make-up working Saturday gets its run. Safe to run twice.
        "schedule": crontab(hour=8, minute=0),
    },
    "send-monthly-report": {
        "task": "notifications.tasks.send_monthly_report",
        # Every day at 08:00; the task itself acts only on the REPORTS_MONTHLY_WORKING_DAY-th
        # working day of the month after a period (REPORTS_PERIOD: a month or a quarter) ends
        # (a crontab cannot know Tết or a make-up Saturday). Safe to run twice: one pack per
        # person and period (ReportDelivery).
        "schedule": crontab(hour=8, minute=0),
    },
    "send-events": {
        "task": "notifications.tasks.send_events",
        # Decisions on requests and new tasks: in the inbox and by e-mail within minutes.
        "schedule": crontab(minute="*/5"),
    },
    "deliver-notifications": {
        "task": "notifications.tasks.deliver_notifications",
        # Retries sends that failed (mail server down) without waiting for the next sweep.
        "schedule": crontab(minute="*/15"),
    },
}

# --- Spreadsheets (django-import-export) ----------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# django-import-export's permission codes default to None: without these, anyone who reaches the
# admin view may import or export.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, minimum=1024)
# The largest table an import reads (admin and `manage.py import`, which can raise them with
# --max-rows/--max-columns): a file declaring or holding a cell beyond is refused before it is
# read into memory. The unpacked size bounds what an XLSX or DOCX (a zip) may expand to.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000, minimum=10)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 100, minimum=5)
IMPORT_MAX_UNPACKED_BYTES = env_int("IMPORT_MAX_UNPACKED_BYTES", 100 * 1024 * 1024, minimum=1024)
# Rows read, checked and written together by an import that streams (a task table): its memory
# is that of one batch, however long the file.
IMPORT_BATCH_ROWS = 1000

# --- History (django-simple-history) -------------------------------------------------------
# History is a record, not a way to edit: no "revert" from the admin's history pages.
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Security (production) ------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_HTTPS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # django-axes logs every successful login at INFO; failures and lockouts stay visible.
        "axes": {"level": "WARNING"},
    },
}
