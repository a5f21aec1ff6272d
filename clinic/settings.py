"""Settings for Clinic Intake.

Every value comes from the environment (or a ``.env`` file beside manage.py) through
the typed helpers in ``clinic.env``; the defaults suit local development. README.md
lists the variables.
"""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from clinic import embedded_db
from clinic.env import (
    env_bool,
    env_class_path,
    env_int,
    env_int_list,
    env_list,
    env_log_level,
    env_str,
)

# Lets admin.ModelAdmin[Model] and similar generics work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CLINIC_NAME = env_str("CLINIC_NAME", default="Clinic Intake")
# The street address patients come to: on the consultation page, the e-mails and the
# calendar invitation, after the room (empty: the room alone).
CLINIC_ADDRESS = env_str("CLINIC_ADDRESS", default="")
# The telephone number patients call about their care: after a procedure (their
# care page) and when follow-up answers need the physician (empty: "call the clinic").
CLINIC_PHONE = env_str("CLINIC_PHONE", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_filters",
    "phonenumber_field",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    "treatments",
    "clinic",
    "intake",
    "care",
    "records",
]

MIDDLEWARE = [
    "clinic.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages are compressed (static files are already, by WhiteNoise, which answers
    # them above this line). Django pads each compressed page with random bytes
    # against BREACH, and masks the CSRF token anew in every response; see
    # docs/benchmarks.md ("A patient's phone", BREACH) for what else a page reflects.
    "django.middleware.gzip.GZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware (Django's order): the cookie and the
    # browser's Accept-Language choose the language of a visitor's first page.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Once the user is known: a patient's stored language wins, staff get English.
    "clinic.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.SessionLimitsMiddleware",
    "clinic.middleware.SecondFactorRequiredMiddleware",
    "clinic.middleware.NoStoreForSignedInMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinic.middleware.HistoryMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

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
                "clinic.context_processors.clinic",
            ],
        },
    },
]

# Database: PostgreSQL, always. Without DATABASE_URL, the embedded cluster that
# `make run` and `make test` start (clinic/embedded_db.py: a pinned wheel of the
# PostgreSQL server, in .pgdata/ or EMBEDDED_DB_DIR, reached over its Unix socket).
CONN_MAX_AGE = env_int("CONN_MAX_AGE", default=60, minimum=0)
DATABASE_URL = env_str(
    "DATABASE_URL",
    default=embedded_db.database_url(embedded_db.data_dir(env_str("EMBEDDED_DB_DIR", default=""))),
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured(
        "DATABASE_URL must point to PostgreSQL (postgres://...); SQLite and other databases "
        "are not supported. Leave it unset to use the embedded PostgreSQL of `make run`."
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "clinic.User"
# django-axes first: it refuses a login attempt from a locked-out account or address
# before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "role_home"
LOGOUT_REDIRECT_URL = "home"

# Patients choose English or Spanish (the switch in templates/base.html; stored on
# their account); staff pages are always English. Catalogues live in locale/ and are
# compiled by the build (`pybabel compile`, see the Makefile), never committed.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]  # as clinic.models.LANGUAGE_CHOICES
LOCALE_PATHS = [BASE_DIR / "locale"]
# Per-language date formats for patient pages (clinic/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["clinic.formats"]
TIME_ZONE = env_str("TIME_ZONE", default="America/New_York")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone.") from None
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in the clinic's zone

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
    # Uploaded imaging, outside the web root (PRIVATE_MEDIA_ROOT): one setting to
    # change for object storage when several web hosts serve the clinic
    # (docs/scaling.md).
    "private": {"BACKEND": "clinic.storage.PrivateMediaStorage"},
}

# Uploaded imaging: outside the web root, never served by a static or media URL;
# only the intake's file view (which checks who asks) reads it back.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private-media")))
IMAGING_MAX_UPLOAD_MB = env_int("IMAGING_MAX_UPLOAD_MB", default=10, minimum=1)
IMAGING_MAX_FILES = env_int("IMAGING_MAX_FILES", default=10, minimum=1)
# Uploads above this size stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The request header that carries the client's address behind a proxy, as Django
# names it (e.g. HTTP_X_FORWARDED_FOR); empty uses the connection's address.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", default="")
PHONENUMBER_DEFAULT_REGION = env_str("PHONENUMBER_DEFAULT_REGION", default="US")

# The review queue: how long a case may wait for a physician's decision (Monday to
# Friday in TIME_ZONE count), after which it is marked overdue and raised to high.
REVIEW_TARGET_BUSINESS_DAYS = env_int("REVIEW_TARGET_BUSINESS_DAYS", default=2, minimum=1)
REVIEW_QUEUE_PAGE_SIZE = env_int("REVIEW_QUEUE_PAGE_SIZE", default=25, minimum=5)

# A patient's "Download my record" (records/): at most this many downloads an hour,
# counted from the audit rows each download writes.
RECORD_DOWNLOADS_PER_HOUR = env_int("RECORD_DOWNLOADS_PER_HOUR", default=10, minimum=1)

# Consultations: how many days ahead they can be booked (today counts as the first)
# and the least notice a booking needs, both enforced by the booking service; the
# reminders (hours before; each sent once per consultation and time), the age after
# which an unsubmitted draft is listed for a reminder, and where text messages go.
BOOKING_HORIZON_DAYS = env_int("BOOKING_HORIZON_DAYS", default=60, minimum=1)
BOOKING_MINIMUM_NOTICE_MINUTES = env_int("BOOKING_MINIMUM_NOTICE_MINUTES", default=60, minimum=0)
REMINDER_HOURS = env_int_list("REMINDER_HOURS", default=[24, 2], minimum=1)
INCOMPLETE_INTAKE_DAYS = env_int("INCOMPLETE_INTAKE_DAYS", default=3, minimum=1)
# Follow-ups: reminders to a patient who has not answered, days after it opened (at
# most two), and the days after the second before the front desk's call list.
FOLLOWUP_REMINDER_DAYS = env_int_list("FOLLOWUP_REMINDER_DAYS", default=[3, 7], minimum=1)
FOLLOWUP_CALL_AFTER_DAYS = env_int("FOLLOWUP_CALL_AFTER_DAYS", default=3, minimum=0)
SMS_BACKEND = env_class_path("SMS_BACKEND", default="intake.notifications.ConsoleSmsBackend")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail: through the SMTP server EMAIL_HOST, or the backend EMAIL_BACKEND names. In
# development without either it is printed to the console; in production that would
# put whole messages (password-reset links, names, consultation times) in the log, so
# the app refuses to start instead (and `check --deploy` refuses the console backend).
EMAIL_HOST = env_str("EMAIL_HOST", default="")
if not DEBUG and not EMAIL_HOST and not env_str("EMAIL_BACKEND", default=""):
    raise ImproperlyConfigured(
        "Set EMAIL_HOST (the SMTP server) or EMAIL_BACKEND when DEBUG is off: without "
        "them e-mail, password-reset links included, would be printed to the log."
    )
EMAIL_BACKEND = env_class_path(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.smtp.EmailBackend"
        if EMAIL_HOST
        else "django.core.mail.backends.console.EmailBackend"
    ),
)
EMAIL_PORT = env_int("EMAIL_PORT", default=587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=20, minimum=1)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", default=str(BASE_DIR / "tmp" / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="Clinic Intake <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Celery: with no broker configured, tasks run in-process (eagerly).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == ""
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "escalate-overdue-cases": {
        "task": "intake.tasks.escalate_overdue_cases",
        "schedule": 15 * 60,
    },
    "consultation-reminders": {
        "task": "intake.tasks.send_consultation_reminders",
        "schedule": 5 * 60,
    },
    "instruction-reminders": {
        "task": "care.tasks.send_instruction_reminders",
        "schedule": 60 * 60,
    },
    "followups": {
        "task": "care.tasks.run_followups",
        "schedule": 60 * 60,
    },
}

# Security. Production values are the defaults once DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Sessions: signed out after this many minutes without a request (staff, patients),
# and after SESSION_MAX_HOURS whatever happens; a warning shows this many seconds
# before the idle limit, with a button to stay signed in.
SESSION_IDLE_MINUTES_STAFF = env_int("SESSION_IDLE_MINUTES_STAFF", default=15, minimum=1)
SESSION_IDLE_MINUTES_PATIENT = env_int("SESSION_IDLE_MINUTES_PATIENT", default=30, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", default=12, minimum=1)
SESSION_WARNING_SECONDS = env_int("SESSION_WARNING_SECONDS", default=120, minimum=10)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 60 * 60
# Activity is written to the session at most this often (seconds).
SESSION_ACTIVITY_SECONDS = env_int("SESSION_ACTIVITY_SECONDS", default=30, minimum=1)

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failed attempts for one
# account, or from one address, logins are refused for LOGIN_LOCKOUT_MINUTES. The
# address is read by clinic.access.client_ip (CLIENT_IP_HEADER), so a client cannot
# reset its count with a forged X-Forwarded-For.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", default=15, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "clinic.access.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
# Failures count under the address as the login lookup reads it (no case, no
# surrounding spaces), so another spelling of the same account shares its count.
AXES_USERNAME_CALLABLE = "clinic.login.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-factor sign-in (django-otp): staff confirm a time-based code from an
# authenticator app, or a recovery code, before any page opens.
OTP_TOTP_ISSUER = CLINIC_NAME
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Content-Security-Policy (django-csp): our own files only; scripts only from our
# static files or with this response's nonce, never inline. Styles allow inline
# attributes (the intake's progress bar, the admin site's templates); a style
# cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# Change history (django-pghistory): triggers keep every version of clinical rows,
# with who and which request; the history tables refuse UPDATE and DELETE.
PGHISTORY_APPEND_ONLY = True
# The context (who, which URL, request id) is attached to the statements of requests
# that may change rows; reads (GET, HEAD) write no tracked row and skip it.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Log lines carry the request id (also in the X-Request-ID header and audit rows).
# django.template stays at INFO whatever LOG_LEVEL says: its DEBUG records of a
# missing variable carry the whole page context, which may hold health data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "clinic.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_log_level("LOG_LEVEL", default="INFO")},
    "loggers": {"django.template": {"level": "INFO"}},
}
