"""Qualipact settings: one module, driven by the environment.

See docs/configuration.md for every variable.
"""

from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from qualipact import config
from qualipact.privacy.countries import digital_consent_ages

BASE_DIR = config.BASE_DIR
# Local state (SQLite files, file cache, static files, development secrets). Settings only
# read: run_site creates it (config.local_dirs_init); in production it is provisioned
# with the host.
VAR_DIR = config.var_dir()

ENVIRONMENT = config.env_str("QUALIPACT_ENV", "development")
if ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured("QUALIPACT_ENV must be 'development' or 'production'")
PRODUCTION = ENVIRONMENT == "production"

# Development reads what `manage.py secrets_init` (or run_site) wrote; a missing file is a
# clear error naming that command, except in those two commands, which write it.
SECRETS_FILE = VAR_DIR / config.SECRETS_FILE_NAME
_secrets = config.secret_settings(
    config.load_secrets(
        production=PRODUCTION,
        local_file=SECRETS_FILE,
        required=PRODUCTION or not config.secrets_writer_running(),
    )
)
SECRET_KEY = _secrets["SECRET_KEY"]
VAULT_MASTER_KEYS = _secrets["VAULT_MASTER_KEYS"]
BLIND_INDEX_KEY = _secrets["BLIND_INDEX_KEY"]
AUDIT_KEY = _secrets["AUDIT_KEY"]
# Unwrapped data keys stay in memory this long at most; shredding invalidates them at once.
VAULT_KEY_CACHE_SECONDS = config.env_int("VAULT_KEY_CACHE_SECONDS", 60, minimum=0)

DEBUG = config.env_bool("DEBUG", False)
ALLOWED_HOSTS = config.env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and DEBUG:
    # DEBUG pages show settings, SQL and local variables (personal data) to anyone.
    raise ImproperlyConfigured("Production mode refuses DEBUG on: unset DEBUG or set DEBUG=0")
if PRODUCTION and not ALLOWED_HOSTS:
    # With none, every request would be answered 400: a site that cannot serve anyone.
    raise ImproperlyConfigured(
        "Production mode needs ALLOWED_HOSTS: the site's host names, comma-separated "
        "(e.g. ALLOWED_HOSTS=www.qualipact.example)"
    )

INSTALLED_APPS = [
    "qualipact.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "django_celery_beat",
    "qualipact.privacy",
    "qualipact.web",
    "qualipact.notices",
    "qualipact.contact",
    "qualipact.consent",
    "qualipact.comms",
    "qualipact.analytics",
    "qualipact.offers",
    "qualipact.retention",
    "qualipact.rights",
    "qualipact.support",
    "qualipact.backoffice",
    # django-allauth: login, logout, re-authentication, MFA and social login. Sign-up,
    # email verification and password reset are ours (see accounts/flows), because
    # allauth's EmailAddress table would hold addresses in plaintext.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "qualipact.web.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "qualipact.web.middleware.NoEmptySessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Outside the API's error shape, so its answers are marked no-store too.
    "qualipact.web.middleware.NoStoreMiddleware",
    "qualipact.web.middleware.ApiErrorMiddleware",
    "qualipact.web.middleware.CrossOriginProtectionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qualipact.accounts.middleware.SessionLifetimeMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "qualipact.consent.middleware.BrowserSignalMiddleware",
    "qualipact.analytics.middleware.PageViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the final response of a sign-in attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qualipact.urls"
WSGI_APPLICATION = "qualipact.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "qualipact.web.context_processors.site",
            ],
        },
    },
]


def _database(url: str, *, alias: str) -> dict[str, Any]:
    try:
        parsed = dj_database_url.parse(url, conn_max_age=0 if "sqlite" in url else 60)
        db: dict[str, Any] = dict(parsed)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{alias} database URL is not valid: {exc}") from None
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server and the worker read while one writes; secure_delete
        # overwrites freed pages so deleted rows do not linger in the file. The write-ahead
        # log is copied back into the database by the worker's periodic checkpoint
        # (privacy.tasks.sqlite_checkpoint), not inside whichever write crosses SQLite's
        # default 1,000 pages (one erasure writes about 100): the automatic checkpoint
        # stays as a safety net at 10,000 pages, and the log file is cut back to 64 MiB.
        db["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA secure_delete=ON; PRAGMA busy_timeout=5000; "
                "PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
        name = Path(db["NAME"])
        db["TEST"] = {"NAME": str(name.with_name(f"test_{name.name}"))}
    return db


DATABASES = {
    "default": _database(
        config.env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'qualipact.sqlite3'}"),
        alias="DATABASE_URL",
    ),
    "keys": _database(
        config.env_str("KEYS_DATABASE_URL", f"sqlite:///{VAR_DIR / 'keys.sqlite3'}"),
        alias="KEYS_DATABASE_URL",
    ),
}
DATABASE_ROUTERS = ["qualipact.privacy.routers.KeyStoreRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = config.env_str("REDIS_URL", "")
if PRODUCTION and not REDIS_URL:
    # The shred epoch and rate limits must be shared by every host.
    raise ImproperlyConfigured("Production mode needs REDIS_URL (cache and Celery broker)")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Shared between the web server and the worker on one host, no server needed.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

CELERY_BROKER_URL = config.env_str(
    "CELERY_BROKER_URL", REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'broker.sqlite3'}"
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# Sessions exist only after sign-in: exactly one strictly necessary cookie. Browsers
# accept a Secure cookie from http://127.0.0.1 and localhost, so the `__Host-` prefix
# holds in development too.
SESSION_COOKIE_NAME = "__Host-qp_session"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Idle timeout: the session ends after an hour without a request. The absolute limit
# (24 h after sign-in) is enforced by accounts.middleware.SessionLifetimeMiddleware.
SESSION_IDLE_SECONDS = config.env_int("SESSION_IDLE_SECONDS", 3600, minimum=60)
SESSION_ABSOLUTE_SECONDS = config.env_int("SESSION_ABSOLUTE_SECONDS", 24 * 3600, minimum=60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Lockout first: a locked-out username or address never reaches a password check.
    "axes.backends.AxesStandaloneBackend",
    "qualipact.accounts.backends.UsernameOrEmailBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# NIST SP 800-63B-4: length, not composition; a blocklist of common and breached passwords.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "qualipact.accounts.passwords.LengthValidator"},
    {"NAME": "qualipact.accounts.passwords.BlocklistValidator"},
    {"NAME": "qualipact.accounts.passwords.ContextValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "web:home"

# django-allauth. Only its login, logout, password change, re-authentication, MFA and
# social login run; its email table stays empty (the address lives encrypted on User).
ACCOUNT_ADAPTER = "qualipact.accounts.adapter.AccountAdapter"
# allauth's notices (MFA changes) are titled like our own emails, not "[host:port] ...".
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Qualipact: "
SOCIALACCOUNT_ADAPTER = "qualipact.accounts.services.social.SocialAccountAdapter"
ACCOUNT_USER_MODEL_EMAIL_FIELD = None
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # the password-change service ends every session
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_PREVENT_ENUMERATION = True
# The sign-in field takes a username or a whole email address (up to 254 characters).
ACCOUNT_FORMS = {"login": "qualipact.accounts.forms.SignInForm"}
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Per client address only. Per account, django-axes decides, for each (account, client
    # address) pair (AXES_FAILURE_LIMIT): a limit per account alone would let anyone lock
    # the owner out of sign-in from their own address by failing from elsewhere.
    "login_failed": "10/m/ip",
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Qualipact"
# Plain http in development. Use http://localhost there: browsers refuse passkeys on an
# IP address such as 127.0.0.1 (a relying party must be a domain).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_ADAPTER = "qualipact.accounts.mfa_adapter.MFAAdapter"
# Every flow that accepts an authenticator-app code claims its time step in the database,
# so a code works once across enrolment, sign-in and re-authentication (accounts.one_time).
MFA_FORMS = {
    "activate_totp": "qualipact.accounts.one_time.SingleUseActivateTOTPForm",
    "authenticate": "qualipact.accounts.one_time.SingleUseAuthenticateForm",
    "reauthenticate": "qualipact.accounts.one_time.SingleUseReauthenticateForm",
}
# "Trust this browser" would set a second, long-lived cookie: off, every sign-in asks.
MFA_TRUST_ENABLED = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_AUTO_SIGNUP = False  # the age gate comes before any account is created
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_FORMS = {"signup": "qualipact.accounts.services.social.SocialSignupForm"}


def _social_app(prefix: str, *, provider_id: str, name: str, server_url: str) -> list[dict]:
    """One OpenID Connect app, present only when {prefix}_CLIENT_ID is set."""
    client_id = config.env_str(f"{prefix}_CLIENT_ID", "")
    if not client_id:
        return []
    secret = config.env_secret(f"{prefix}_CLIENT_SECRET")
    if not secret:
        raise ImproperlyConfigured(
            f"{prefix}_CLIENT_ID is set: set {prefix}_CLIENT_SECRET or {prefix}_CLIENT_SECRET_FILE"
        )
    app_settings = {
        "server_url": server_url,
        "oauth_pkce_enabled": True,
        "token_auth_method": "client_secret_post",
    }
    return [
        {
            "provider_id": provider_id,
            "name": name,
            "client_id": client_id,
            "secret": secret,
            "settings": app_settings,
        }
    ]


# Social login (accounts/services/social.py): Google and LinkedIn through OpenID Connect.
_SOCIAL_APPS = [
    *_social_app(
        "GOOGLE", provider_id="google", name="Google", server_url="https://accounts.google.com"
    ),
    *_social_app(
        "LINKEDIN",
        provider_id="linkedin",
        name="LinkedIn",
        server_url="https://www.linkedin.com/oauth",
    ),
]
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": _SOCIAL_APPS}}
# The "Continue" form posts to allauth, which redirects to the provider's authorize page;
# browsers check that redirect against the CSP's form-action, so it must name these origins.
SOCIALACCOUNT_FORM_ACTION_ORIGINS = sorted(
    {"/".join(app["settings"]["server_url"].split("/")[:3]) for app in _SOCIAL_APPS}
)
ACCOUNT_EMAIL_NOTIFICATIONS = True

# django-axes: lock an account (whatever identifier is typed: accounts.lockout) after
# repeated failures from one client address. Its records are personal data
# (accounts/privacy.py) kept 30 days.
AXES_FAILURE_LIMIT = config.env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = config.env_int("AXES_COOLOFF_MINUTES", 30, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "qualipact.accounts.lockout.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_SENSITIVE_PARAMETERS = ["password", "login", "code", "token"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "qualipact.web.ratelimit.client_address"
# How axes names a client in its log lines: by nothing that identifies them (it would
# write the typed username and the client address).
AXES_CLIENT_STR_CALLABLE = "qualipact.accounts.lockout.lockout_client_str"

# Sign-up, password reset and "send the confirmation again" mail a typed address: at most
# this many such forms per client address and window.
ACCOUNT_MAIL_RATE_LIMIT = config.env_int("ACCOUNT_MAIL_RATE_LIMIT", 10, minimum=1)
ACCOUNT_MAIL_RATE_WINDOW_SECONDS = config.env_int(
    "ACCOUNT_MAIL_RATE_WINDOW_SECONDS", 600, minimum=1
)

# Age gate (GDPR Art 8): below this age a parent must consent. Member states choose 13-16.
CHILD_AGE_DEFAULT = config.env_int("CHILD_AGE_DEFAULT", 14, minimum=14)
# Each country's age of digital consent: one table in the privacy core.
CHILD_AGE_BY_COUNTRY = digital_consent_ages()
PARENTAL_CONSENT_DAYS = 7

# Data-subject requests (qualipact.rights).
# Direct portability transfers may reach private or loopback addresses only when set.
RIGHTS_TRANSFER_ALLOW_PRIVATE = config.env_bool("RIGHTS_TRANSFER_ALLOW_PRIVATE", False)
# A CA bundle (path) for checking the receiving provider's certificate; empty: the system's.
RIGHTS_TRANSFER_CA_BUNDLE = config.env_str("RIGHTS_TRANSFER_CA_BUNDLE", "")
# How long an export's download link and file live.
RIGHTS_EXPORT_DAYS = 7
# Requests by email, per client address and window; verification allows more tries, so a
# person can use all five tries of their code.
RIGHTS_REQUEST_RATE_LIMIT = config.env_int("RIGHTS_REQUEST_RATE_LIMIT", 5, minimum=1)
RIGHTS_VERIFY_RATE_LIMIT = config.env_int("RIGHTS_VERIFY_RATE_LIMIT", 10, minimum=1)
RIGHTS_RATE_WINDOW_SECONDS = config.env_int("RIGHTS_RATE_WINDOW_SECONDS", 600, minimum=1)
# Access transparency (qualipact.backoffice.access): one staff member viewing the data of
# more than ACCESS_ALERT_PEOPLE distinct people within ACCESS_ALERT_WINDOW_MINUTES
# alerts every security officer (at most once per staff member and window).
ACCESS_ALERT_PEOPLE = config.env_int("ACCESS_ALERT_PEOPLE", 20, minimum=1)
ACCESS_ALERT_WINDOW_MINUTES = config.env_int("ACCESS_ALERT_WINDOW_MINUTES", 10, minimum=1)
# Email-plus: the delayed second message to a parent who consented, with a way to revoke.
PARENTAL_CONFIRMATION_HOURS = 24

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # created with VAR_DIR (config.local_dirs_init)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves hashed, compressed files from `collectstatic`; the embedded
    # default serves the app directories directly, so nothing needs collecting.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Security headers. HSTS only where TLS terminates in front of us (production).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = config.env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, *SOCIALACCOUNT_FORM_ACTION_ORIGINS],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    },
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)

# Outgoing email: the comms outbox sends through Django's SMTP backend.
EMAIL_HOST = config.env_str("EMAIL_HOST", "127.0.0.1")
# Development: run_site starts a local mailbox on 127.0.0.1:1025 that keeps every message
# in var/mail (a Maildir), so sign-up and reset links can be followed without a mail server.
EMAIL_PORT = config.env_int("EMAIL_PORT", 25 if PRODUCTION else 1025, minimum=1)
DEV_MAILBOX = (
    not PRODUCTION
    and config.env_bool("DEV_MAILBOX", True)
    and EMAIL_HOST in ("127.0.0.1", "localhost")
)
EMAIL_HOST_USER = config.env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = config.env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = config.env_bool("EMAIL_USE_TLS", False)
# Must stay well below the outbox's 300 s lease, so a live worker never loses its claim.
EMAIL_TIMEOUT = config.env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = config.env_str("DEFAULT_FROM_EMAIL", "Qualipact <noreply@qualipact.localhost>")
# Absolute links in emails (unsubscribe, preference centre) start with this.
SITE_URL = config.env_str("SITE_URL", "http://127.0.0.1:8000")

# Support replies: each ticket's emails carry a Reply-To of its own at this domain
# (ticket-<id>-<code>@SUPPORT_REPLY_DOMAIN), which finds the ticket when the person
# answers. Production: point the domain's MX at a provider that forwards to
# `manage.py support_mail_receive`, or have `support_imap_poll` read its mailbox
# (docs/support.md). Development: run_site's mailbox takes these replies itself.
SUPPORT_REPLY_DOMAIN = config.env_str("SUPPORT_REPLY_DOMAIN", "support.qualipact.localhost")
# Inbound mail by recipient domain: the function (dotted path) that takes an email sent
# to that domain, called as f(raw=<bytes>, recipients=<envelope recipients>). The
# development mailbox (`manage.py mailbox_serve`, under run_site) hands each email it
# receives there; the web app names the support app only here, never imports it.
INBOUND_MAIL_ROUTES = {SUPPORT_REPLY_DOMAIN.lower(): "qualipact.support.inbound.email_receive"}
# Production, for a provider that keeps replies in a mailbox: `manage.py
# support_imap_poll` (and, when SUPPORT_IMAP_HOST is set, Celery beat every
# SUPPORT_IMAP_POLL_SECONDS) reads its unseen emails over IMAP with TLS, then flags each
# \Seen, or deletes it with SUPPORT_IMAP_DELETE.
SUPPORT_IMAP_HOST = config.env_str("SUPPORT_IMAP_HOST", "")
SUPPORT_IMAP_PORT = config.env_int("SUPPORT_IMAP_PORT", 993, minimum=1)
SUPPORT_IMAP_USER = config.env_str("SUPPORT_IMAP_USER", "")
SUPPORT_IMAP_PASSWORD = config.env_secret("SUPPORT_IMAP_PASSWORD")
SUPPORT_IMAP_FOLDER = config.env_str("SUPPORT_IMAP_FOLDER", "INBOX")
SUPPORT_IMAP_DELETE = config.env_bool("SUPPORT_IMAP_DELETE", False)
SUPPORT_IMAP_POLL_SECONDS = config.env_int("SUPPORT_IMAP_POLL_SECONDS", 60, minimum=10)

# Forms that create something carry out an identical submission once within this window
# (a reload, Back and Submit, a double-click): qualipact.web.submissions.
SUBMISSION_WINDOW_SECONDS = config.env_int("SUBMISSION_WINDOW_SECONDS", 300, minimum=1)

# Contact form flood control: at most this many submissions per client per window.
CONTACT_RATE_LIMIT = config.env_int("CONTACT_RATE_LIMIT", 5, minimum=1)
CONTACT_RATE_WINDOW_SECONDS = config.env_int("CONTACT_RATE_WINDOW_SECONDS", 600, minimum=1)
# How many reverse proxies in front of us append to X-Forwarded-For (0: none, use the peer).
TRUSTED_PROXY_COUNT = config.env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

GPC_LAST_UPDATE = "2026-11-24"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "utc": {
            "()": "qualipact.web.logformat.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {"redact_link_tokens": {"()": "qualipact.web.logformat.RedactLinkTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "utc",
            "filters": ["redact_link_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": config.env_str("LOG_LEVEL", "INFO")},
    # Django's own default handlers (console in DEBUG, mail to ADMINS) would write records
    # before the redacting filter sees them: everything goes through ours instead.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # axes logs the typed username and the client address of every attempt at INFO;
        # its warnings name the client by AXES_CLIENT_STR_CALLABLE, which names nobody.
        "axes": {"level": "WARNING"},
        # aiosmtpd (the development mailbox) logs every peer address and envelope at INFO.
        "mail.log": {"level": "WARNING"},
    },
}
# The test suite's scan of every log record for personal data (web.logcapture); set only
# by the tests, for this process and the ones they start.
if _log_scan_dir := config.env_str("QUALIPACT_LOG_SCAN_DIR", ""):
    # Imported only when the tests ask for it: production never loads the scanner.
    from qualipact.web.logcapture import tee_to_directory

    tee_to_directory(_log_scan_dir)

CELERY_BEAT_SCHEDULE = {
    "audit-chain-check": {"task": "qualipact.privacy.tasks.audit_chain_check", "schedule": 86400.0},
    "comms-outbox-reconcile": {"task": "qualipact.comms.tasks.outbox_reconcile", "schedule": 60.0},
    "privacy-deferred-work-reconcile": {
        "task": "qualipact.privacy.tasks.deferred_work_reconcile",
        "schedule": 60.0,
    },
    "analytics-salt-rotation": {
        "task": "qualipact.analytics.tasks.salt_rotation",
        "schedule": 3600.0,
    },
    "rights-requests-reconcile": {
        "task": "qualipact.rights.tasks.requests_reconcile",
        "schedule": 300.0,
    },
    "sqlite-checkpoint": {"task": "qualipact.privacy.tasks.sqlite_checkpoint", "schedule": 60.0},
    "rights-deadline-reminders": {
        "task": "qualipact.rights.tasks.deadline_reminders",
        "schedule": 86400.0,
    },
    "rights-appeal-reminders": {
        "task": "qualipact.rights.tasks.appeal_reminders",
        "schedule": 86400.0,
    },
    # Support: the DPOs hear of a complaint's deadline two days ahead (hourly, so no
    # deadline slips between two runs); answered tickets quiet for 30 days are closed.
    "support-complaint-reminders": {
        "task": "qualipact.support.tasks.complaint_reminders",
        "schedule": 3600.0,
    },
    "support-quiet-tickets-close": {
        "task": "qualipact.support.tasks.quiet_tickets_close",
        "schedule": 86400.0,
    },
    "accounts-parental-confirmations": {
        "task": "qualipact.accounts.tasks.parental_confirmations_send",
        "schedule": 600.0,
    },
    # Every declared retention rule (retention.engine): hourly, so the shortest periods
    # (a day, an export's 7 days, an unanswered parental request) are kept to the hour.
    "retention-sweep": {"task": "qualipact.retention.tasks.retention_sweep", "schedule": 3600.0},
}
if SUPPORT_IMAP_HOST:
    CELERY_BEAT_SCHEDULE["support-mailbox-poll"] = {
        "task": "qualipact.support.tasks.mailbox_poll",
        "schedule": float(SUPPORT_IMAP_POLL_SECONDS),
    }
