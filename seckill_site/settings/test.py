"""Settings for the test suite: the real local stack, isolated from the dev data.

Tests use Redis database 1 and Kafka topics and a consumer group named for
this run. The values go into ``os.environ`` so that the daphne and
``consume_orders`` processes a test starts see the same ones.
"""

import os
import uuid
from urllib.parse import urlparse

_run = os.environ.setdefault("SECKILL_TEST_RUN", uuid.uuid4().hex[:8])
# Tests flush their Redis database: never db 0, where the site keeps its data. A Redis Cluster has
# only db 0: the tests flush the whole cluster (scripts/stack's cluster mode is for tests).
_redis = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6380/0"))
if _redis.path in ("", "/", "/0") and os.environ.get("REDIS_CLUSTER", "").lower() not in ("1", "true", "yes", "on"):
    os.environ["REDIS_URL"] = _redis._replace(path="/1").geturl()
os.environ.setdefault("ORDERS_TOPIC", f"orders-test-{_run}")
os.environ.setdefault("ORDERS_DLQ_TOPIC", f"orders-test-{_run}.dlq")
os.environ.setdefault("ORDERS_CONSUMER_GROUP", f"seckill-test-{_run}")
os.environ.setdefault("SECKILL_LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_DEBUG", "true")  # development mode, for this process and the ones it starts

from seckill_site.settings.base import *  # noqa: E402,F403

# Two test runs at once (a developer and a helper, say) each need their own database.
if os.environ.get("SECKILL_TEST_DB"):
    DATABASES["default"]["TEST"]["NAME"] = os.environ["SECKILL_TEST_DB"]  # noqa: F405
