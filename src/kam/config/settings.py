"""Django settings for KAM, read from the environment.

Variables (all optional):
- ``KAM_DEBUG``: 1/0; off by default.
- ``KAM_SECRET_KEY``: required when ``KAM_DEBUG`` is off, unless the data
  directory already holds a generated key (``make run`` creates one there; it is
  never committed).
- ``KAM_DATA_DIR``: where the SQLite database and the generated key live;
  default ``./data`` in the working directory, created on first use.
- ``DATABASE_URL``: ``postgres://user:pass@host:port/name`` for PostgreSQL; the
  default is SQLite in the data directory.
- ``KAM_ALLOWED_HOSTS``: comma-separated host names; default localhost only.

``kam serve`` (the production server) reads ``KAM_WORKERS``, ``KAM_THREADS`` and
``KAM_WORKER`` itself: see docs/deploy.md.
"""

import secrets
from pathlib import Path

import dj_database_url

from kam.config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("KAM_DEBUG", False)

DATA_DIR = Path(env_str("KAM_DATA_DIR", "data")).expanduser().resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfiguredEnv(
        f"KAM_DATA_DIR={str(DATA_DIR)!r} cannot be created: {exc}"
    ) from exc


def _secret_key() -> str:
    key = env_str("KAM_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ImproperlyConfiguredEnv("KAM_SECRET_KEY is shorter than 32 characters")
        return key
    # A key generated on first run stays on this machine only, beside the data it protects.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.touch(mode=0o600)
    key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("KAM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "kam.web",
    "kam.org",
    "kam.history",
    "kam.sales",
    "kam.imports",
    "kam.exports",
    "kam.ops",
    "kam.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files before anything else touches the request: no session, no locale.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kam.config.urls"
WSGI_APPLICATION = "kam.config.wsgi.application"

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
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "kam.sqlite3",
            "OPTIONS": {
                # WAL lets readers work while one writer writes; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue on the busy timeout instead of failing
                # with "database is locked" half-way through a transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("KAM_SQLITE_TIMEOUT", 20),
            },
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"DATABASE_URL cannot be parsed: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfiguredEnv(
            f"DATABASE_URL names an unsupported database ({engine or 'unknown'}); "
            "KAM runs on PostgreSQL or SQLite"
        )
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The fallback for browsers asking for neither Chinese nor English is English;
# zh-CN, zh-SG and zh-Hans browsers are served Simplified Chinese.
LANGUAGE_CODE = "en"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# ISO dates first in Chinese too: <input type="date"> reads nothing else.
FORMAT_MODULE_PATH = ["kam.config.formats"]
TIME_ZONE = env_str("KAM_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `kam serve` runs collectstatic into the data directory before it starts the server;
# WhiteNoise serves from there, each file under a content-hashed name with a far-future
# Cache-Control and its gzip variant beside it. The manifest storage is strict: a template
# naming a missing file fails loudly instead of linking to a 404. The test suite has no
# manifest, so kam.config.test_settings swaps in the plain storage (see there why).
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Background work (django-tasks): tasks are rows in KAM's own database, SQLite or
# PostgreSQL alike, run by `kam db_worker`; `kam serve` starts one beside the web server.
# A larger installation moves to another backend by changing TASKS["default"]["BACKEND"]
# (e.g. django-tasks-rq's RQ backend): see docs/deploy.md.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Behind a proxy that terminates HTTPS (nginx ...) and sets X-Forwarded-Proto, Django must
# trust that header to know a request came over https (the CSRF origin check needs it).
# Only where nothing but the proxy reaches `kam serve`: a client could claim https itself.
HTTPS_PROXY = env_bool("KAM_HTTPS_PROXY", False)
if HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and (env_bool("KAM_HTTPS", False) or HTTPS_PROXY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# Rows per page on every list (pages and the API default).
PAGE_SIZE = env_int("KAM_PAGE_SIZE", 50)
