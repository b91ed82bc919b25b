"""ASGI entry point: ``daphne seckill_site.asgi:application``.

HTTP goes first through ``seckill_site.hotpath.HotPath`` (the lean buy endpoint, see
its docstring for why), then to Django; websockets go to Channels.
"""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seckill_site.settings.base")

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

# Static files: whitenoise's middleware (settings.MIDDLEWARE), not Django's development serve().
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from sales.live.routing import websocket_urlpatterns  # noqa: E402
from seckill_site.hotpath import HotPath  # noqa: E402
from seckill_site.lifespan import lifespan  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": HotPath(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        # The Kafka producer and the Redis connection start here, not at import (seckill_site.lifespan).
        "lifespan": lifespan,
    }
)

# Everything loaded so far lives as long as the process. Freezing it keeps the
# cyclic GC from scanning it again and again: unfrozen, a full collection took
# 50-110 ms here and stalled every request in flight (the seed's p99).
gc.collect()
gc.freeze()
