"""Django settings for the flash-sale site: what every deployment shares.

Everything comes from environment variables through django-environ (``seckill_site.environment``;
README, "Configuration"); the defaults match the local stack of ``scripts/stack`` and are for
development only. ``production.py`` adds what a deployment behind a TLS proxy needs and
``test.py`` isolates the test suite.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from seckill_site.environment import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Off unless set: scripts/run and the test settings set development mode explicitly.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me"
# Empty is unset (docker/compose.yml passes an unset one through as empty).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _DEV_SECRET
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

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

DATABASES = {
    "default": {
        **env.mysql_database("DATABASE_URL", default="mysql://seckill:seckill@127.0.0.1:3307/seckill"),
        "CONN_MAX_AGE": 60,
        "OPTIONS": {"charset": "utf8mb4"},
        "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6380/0")
# REDIS_URL is one node of a Redis Cluster: every client learns the rest (plumbing/redis_cluster.py)
REDIS_CLUSTER = env.bool("REDIS_CLUSTER", default=False)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CLIENT_CLASS": "plumbing.redis_cluster.ClusterClient"
            if REDIS_CLUSTER
            else "django_redis.client.DefaultClient"
        },
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Pub/sub layer: a group_send is one PUBLISH that each web process receives once
# and fans out locally (see README, "Live updates", for the measurement). redis-py's
# default 5 s socket timeout drops idle subscribers, hence socket_timeout None.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": env.str("CHANNEL_LAYER_BACKEND", default="channels_redis.pubsub.RedisPubSubChannelLayer"),
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": None,
                    "socket_connect_timeout": 5,
                    "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
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
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = DEBUG

# json: one JSON object per line, with the sale, order and buyer ids where they apply (plumbing/logs.py)
LOG_FORMAT = env.str("SECKILL_LOG_FORMAT", default="text" if DEBUG else "json")
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
        name: {"handlers": ["console"], "level": env.str("SECKILL_LOG_LEVEL", default="INFO")}
        for name in ("plumbing", "sales", "orders", "loadtest")
    },
}

# --- Flash sale -------------------------------------------------------------
KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS", default="127.0.0.1:9092")
ORDERS_TOPIC = env.str("ORDERS_TOPIC", default="orders")
ORDERS_DLQ_TOPIC = env.str("ORDERS_DLQ_TOPIC", default="orders.dlq")
ORDERS_TOPIC_PARTITIONS = env.int("ORDERS_TOPIC_PARTITIONS", default=3)
# Copies of each partition, and how many must have an event before the producer's ack (acks=all):
# 3 and 2 on the three-broker stack, so that one broker down loses nothing and refuses nothing.
ORDERS_TOPIC_REPLICATION_FACTOR = env.int("ORDERS_TOPIC_REPLICATION_FACTOR", default=1)
ORDERS_TOPIC_MIN_INSYNC_REPLICAS = env.int("ORDERS_TOPIC_MIN_INSYNC_REPLICAS", default=1)
ORDERS_CONSUMER_GROUP = env.str("ORDERS_CONSUMER_GROUP", default="seckill-orders")
# How long a buyer waits for the broker to acknowledge an order event before
# the reservation is given back and the answer is 503 retry.
BUY_ACK_TIMEOUT = env.float("BUY_ACK_TIMEOUT", default=5.0)
# A web process hands a reservation to its producer within this many seconds of the
# reservation, or gives it back: with BUY_ACK_TIMEOUT, it bounds when an order event
# can reach the broker (README, "No abandoned hold").
BUY_PRODUCE_WITHIN = env.float("BUY_PRODUCE_WITHIN", default=1.0)
# Added to that bound for clocks and a broker still writing a request in flight.
HOLD_SLACK = env.float("HOLD_SLACK", default=4.0)
# Seconds between two rounds of manage.py reconcile --every (and of release_abandoned).
HOLD_SWEEP_INTERVAL = env.float("HOLD_SWEEP_INTERVAL", default=2.0)
# Seconds a buyer has to pay a written order (a sale may set its own); then it expires and
# its unit goes back on sale (manage.py expire_orders).
PAYMENT_WINDOW = env.int("PAYMENT_WINDOW", default=900)
# Seconds between two rounds of manage.py expire_orders.
EXPIRE_INTERVAL = env.float("EXPIRE_INTERVAL", default=1.0)
# The payment provider (orders/payments/providers.py): "mock" captures at once.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="mock")
# The HMAC secret of the mock payment provider's webhooks (a real provider's comes from it).
_DEV_WEBHOOK_SECRET = "dev-only-mock-webhook-secret"
PAYMENT_WEBHOOK_SECRET = env.str("PAYMENT_WEBHOOK_SECRET", default="") or _DEV_WEBHOOK_SECRET
if not DEBUG and PAYMENT_WEBHOOK_SECRET == _DEV_WEBHOOK_SECRET:
    raise ImproperlyConfigured("Set PAYMENT_WEBHOOK_SECRET when DJANGO_DEBUG is off.")
# Seconds a webhook's signed timestamp may be off before it is refused as stale.
PAYMENT_WEBHOOK_TOLERANCE = env.int("PAYMENT_WEBHOOK_TOLERANCE", default=300)
# Buy requests one buyer may send per second to one sale; 0 disables the limit.
BUY_RATE_LIMIT = env.int("BUY_RATE_LIMIT", default=5)
# Buy requests one client address may send per second to one sale, whichever buyers it signs in
# as; 0 disables it (the default: buyers behind one carrier NAT share an address).
BUY_ADDRESS_RATE_LIMIT = env.int("BUY_ADDRESS_RATE_LIMIT", default=0)
# Proxies (comma-separated addresses or ranges) whose X-Forwarded-For names the client;
# empty: the connection's peer is the client.
TRUSTED_PROXIES = env.str("TRUSTED_PROXIES", default="")
# Seconds a web process may use its copy of the deny list before asking Redis again.
DENY_REFRESH = env.float("DENY_REFRESH", default=0.5)
# Seconds a purchase pass admits a buy after it is issued.
PURCHASE_PASS_TTL = env.int("PURCHASE_PASS_TTL", default=60)
# Lifetime of a buyer's bearer token, in seconds.
BUYER_TOKEN_MAX_AGE = env.int("BUYER_TOKEN_MAX_AGE", default=24 * 3600)
# Websocket frames a second one sale's stock updates may cost (viewers x updates/s);
# a sale with more viewers gets updates less often than every 0.1 s.
LIVE_PUSH_BUDGET = env.int("LIVE_PUSH_BUDGET", default=8000)
# Milliseconds a web process answers "sold out" from its own flag before asking Redis again:
# the longest a unit that comes back may wait for a buyer (0 = always ask Redis).
SOLD_OUT_RECHECK_MS = env.int("SOLD_OUT_RECHECK_MS", default=100)
# Largest request body the buy endpoint reads.
BUY_MAX_BODY = env.int("BUY_MAX_BODY", default=4096)
# A page for signed-in buyers (My orders) sends others to the sales, where "Continue as guest" is.
LOGIN_URL = "sales:list"
CSRF_FAILURE_VIEW = "seckill_site.views.csrf_failure"
