"""The buy hot path: a plain ASGI router in front of Django.

Why it is not a Django view: through Django's request machinery (middleware,
URL resolution, request/response objects) one daphne process answered about
300 buys/s on this 2-core machine; the same logic as a bare ASGI callable
answers an order of magnitude more (bench/RESULTS.md). At the start of a flash
sale that difference decides whether buyers see answers or time-outs. So
``POST /api/sales/<id>/buy`` with a bearer token (``orders.api.buy``) and
``GET /api/sales/<id>`` (``sales.api.sale_detail``) and a gated sale's challenge and pass
requests with a bearer token (``sales.api.gate``) are answered here, and so are
``/healthz`` and ``/readyz`` (``seckill_site.health``: a probe must not queue behind Django), with the
same settings, the same services and the same answer tables as the Django side;
everything else, including a buy with a session cookie instead of a token, goes
to Django.
"""

import re

from django.conf import settings

from orders import api as orders_api
from plumbing.http import header, send_json, status_body
from sales import api as sales_api
from seckill_site import health

BUY_PATH = re.compile(r"^/api/sales/([^/]+)/buy/?$")
SALE_PATH = re.compile(r"^/api/sales/([^/]+)/?$")
GATE_PATH = re.compile(r"^/api/sales/([^/]+)/(challenge|pass)/?$")
HEALTH = {"/healthz": health.healthz, "/readyz": health.readyz, "/metrics": health.metrics}


def _has_session_cookie(scope) -> bool:
    wanted = settings.SESSION_COOKIE_NAME.encode() + b"="
    return any(name == b"cookie" and wanted in value for name, value in scope["headers"])


def _origin_form(scope) -> dict:
    """A request for ``http://host/path`` (absolute-form, which HTTP/1.1 servers must accept;
    some servers pass it through as the path) is a request for ``/path``."""
    path = scope["path"]
    scheme, sep, rest = path.partition("://")
    if sep and scheme.lower() in ("http", "https"):
        path = "/" + rest.partition("/")[2]
    else:
        path = "/" + path
    return {**scope, "path": path, "raw_path": path.encode()}


class HotPath:
    """Routes the two hot endpoints, hands every other request to ``django_app``."""

    def __init__(self, django_app):
        self.django_app = django_app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].startswith("/"):
            scope = _origin_form(scope)
        if scope["type"] == "http" and scope["path"] in HEALTH and scope["method"] in ("GET", "HEAD"):
            return await HEALTH[scope["path"]](scope, send)
        if scope["type"] == "http" and scope["path"].startswith("/api/sales/"):
            path = scope["path"]
            match = BUY_PATH.match(path)
            if match:
                authorization = header(scope, b"authorization")
                if authorization is None:
                    if not _has_session_cookie(scope):
                        return await send_json(send, 401, status_body("unauthorized"))
                    # Session buyers (cookie + CSRF) are Django's business.
                    return await self.django_app(scope, receive, send)
                return await orders_api.buy(scope, receive, send, match.group(1), authorization)
            match = SALE_PATH.match(path)
            if match:
                return await sales_api.sale_detail(scope, send, match.group(1))
            match = GATE_PATH.match(path)
            if match:
                authorization = header(scope, b"authorization")
                if authorization is not None:  # session buyers (cookie + CSRF) are Django's business
                    return await sales_api.gate(scope, receive, send, match.group(1), match.group(2), authorization)
        return await self.django_app(scope, receive, send)
