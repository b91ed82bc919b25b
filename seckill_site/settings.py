"""Django settings for the flash-sale site.

Everything comes from environment variables (see README, "Configuration"); the
defaults match the local stack of ``scripts/stack`` and are for development only.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from seckill_site.envparse import (
    database_from_url,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Off unless set: scripts/run and the test settings set development mode explicitly.
DEBUG = env_bool("DJANGO_DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "sales",
    "sales.live",
    "orders",
    "loadtest",
]

MIDDLEWARE = [
    "seckill_site.middleware.ApiErrors",  # first: it answers a bad Host under /api/ in JSON
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, with caching headers and compression
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "seckill_site.urls"
ASGI_APPLICATION = "seckill_site.asgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "mysql://seckill:seckill@127.0.0.1:3307/seckill"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6380/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Pub/sub layer: a group_send is one PUBLISH that each web process receives once
# and fans out locally (see README, "Live updates", for the measurement). redis-py's
# default 5 s socket timeout drops idle subscribers, hence socket_timeout None.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": env_str("CHANNEL_LAYER_BACKEND", "channels_redis.pubsub.RedisPubSubChannelLayer"),
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": None,
                    "socket_connect_timeout": 5,
                    "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 1000),
                }
            ],
        },
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / ".staticfiles"
# whitenoise serves the files from where they are (no collectstatic step to forget); fine for
# this project's few files. A deployment behind a CDN can run collectstatic and turn this off.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
WHITENOISE_AUTOREFRESH = DEBUG

# Behind a TLS-terminating proxy (the production recipe): on unless DEBUG. `manage.py check
# --deploy` is clean with DEBUG off (seckill_site/tests/test_deploy.py).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECKILL_BEHIND_PROXY", not DEBUG) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

# json: one JSON object per line, with the sale, order and buyer ids where they apply (plumbing/logs.py)
LOG_FORMAT = env_str("SECKILL_LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"SECKILL_LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "plumbing.logs.JsonLines"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "loggers": {
        name: {"handlers": ["console"], "level": env_str("SECKILL_LOG_LEVEL", "INFO")}
        for name in ("plumbing", "sales", "orders", "loadtest")
    },
}

# --- Flash sale -------------------------------------------------------------
KAFKA_BOOTSTRAP_SERVERS = env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
ORDERS_TOPIC = env_str("ORDERS_TOPIC", "orders")
ORDERS_DLQ_TOPIC = env_str("ORDERS_DLQ_TOPIC", "orders.dlq")
ORDERS_TOPIC_PARTITIONS = env_int("ORDERS_TOPIC_PARTITIONS", 3)
ORDERS_CONSUMER_GROUP = env_str("ORDERS_CONSUMER_GROUP", "seckill-orders")
# How long a buyer waits for the broker to acknowledge an order event before
# the reservation is given back and the answer is 503 retry.
BUY_ACK_TIMEOUT = env_float("BUY_ACK_TIMEOUT", 5.0)
# A web process hands a reservation to its producer within this many seconds of the
# reservation, or gives it back: with BUY_ACK_TIMEOUT, it bounds when an order event
# can reach the broker (README, "No abandoned hold").
BUY_PRODUCE_WITHIN = env_float("BUY_PRODUCE_WITHIN", 1.0)
# Added to that bound for clocks and a broker still writing a request in flight.
HOLD_SLACK = env_float("HOLD_SLACK", 4.0)
# Seconds between two rounds of manage.py reconcile --every (and of release_abandoned).
HOLD_SWEEP_INTERVAL = env_float("HOLD_SWEEP_INTERVAL", 2.0)
# Seconds a buyer has to pay a written order (a sale may set its own); then it expires and
# its unit goes back on sale (manage.py expire_orders).
PAYMENT_WINDOW = env_int("PAYMENT_WINDOW", 900)
# Seconds between two rounds of manage.py expire_orders.
EXPIRE_INTERVAL = env_float("EXPIRE_INTERVAL", 1.0)
# The payment provider (orders/payments/providers.py): "mock" captures at once.
PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", "mock")
# The HMAC secret of the mock payment provider's webhooks (a real provider's comes from it).
_DEV_WEBHOOK_SECRET = "dev-only-mock-webhook-secret"
PAYMENT_WEBHOOK_SECRET = env_str("PAYMENT_WEBHOOK_SECRET", _DEV_WEBHOOK_SECRET)
if not DEBUG and PAYMENT_WEBHOOK_SECRET == _DEV_WEBHOOK_SECRET:
    raise ImproperlyConfigured("Set PAYMENT_WEBHOOK_SECRET when DJANGO_DEBUG is off.")
# Seconds a webhook's signed timestamp may be off before it is refused as stale.
PAYMENT_WEBHOOK_TOLERANCE = env_int("PAYMENT_WEBHOOK_TOLERANCE", 300)
# Buy requests one buyer may send per second to one sale; 0 disables the limit.
BUY_RATE_LIMIT = env_int("BUY_RATE_LIMIT", 5)
# Lifetime of a buyer's bearer token, in seconds.
BUYER_TOKEN_MAX_AGE = env_int("BUYER_TOKEN_MAX_AGE", 24 * 3600)
# Websocket frames a second one sale's stock updates may cost (viewers x updates/s);
# a sale with more viewers gets updates less often than every 0.1 s.
LIVE_PUSH_BUDGET = env_int("LIVE_PUSH_BUDGET", 8000)
# Milliseconds a web process answers "sold out" from its own flag before asking Redis again:
# the longest a unit that comes back may wait for a buyer (0 = always ask Redis).
SOLD_OUT_RECHECK_MS = env_int("SOLD_OUT_RECHECK_MS", 100)
# Largest request body the buy endpoint reads.
BUY_MAX_BODY = env_int("BUY_MAX_BODY", 4096)
# A page for signed-in buyers (My orders) sends others to the sales, where "Continue as guest" is.
LOGIN_URL = "sales:list"
CSRF_FAILURE_VIEW = "seckill_site.views.csrf_failure"
