"""JSON answers of the API, written once for the lean ASGI handlers and for Django views.

Every answer of the API is a JSON object with ``status``; an error may add
``detail``, a sentence for the person reading it (``status_body``). ASGI handlers
send it with ``send_json`` (always ``Cache-Control: no-store``), Django views
return ``json_response``.
"""

import functools
import inspect
import ipaddress

import orjson
from django.http import JsonResponse

RETRY = "retry"  # the status of every 503: nothing was decided, the same request may be sent again
MAX_ID = 2**63 - 1  # the largest primary key of the database's BIGINT columns
_JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


def status_body(status: str, detail: str | None = None) -> dict:
    """``{"status": status}``, with ``"detail"`` when there is something to explain."""
    if detail is None:
        return {"status": status}
    return {"status": status, "detail": detail}


def bad_request(detail: str) -> dict:
    return status_body("bad_request", detail)


def parse_id(raw: str) -> int | None:
    """A positive id written as plain ASCII digits within the database's range, else None.

    Not ``str.isdigit()`` + ``int()`` alone: ``"²".isdigit()`` is true and ``int()``
    refuses it, and ``int()`` refuses strings of 4,300 digits or more.
    """
    if not (0 < len(raw) <= 19 and raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def json_methods(*methods: str):
    """Like Django's ``require_http_methods``, but the 405 is the API's JSON with ``Allow``."""
    allowed = ", ".join(methods)

    def decorate(view):
        async def check_async(request, *args, **kwargs):
            if request.method not in methods:
                return method_not_allowed(allowed)
            return await view(request, *args, **kwargs)

        def check(request, *args, **kwargs):
            if request.method not in methods:
                return method_not_allowed(allowed)
            return view(request, *args, **kwargs)

        wrapper = check_async if inspect.iscoroutinefunction(view) else check
        return functools.wraps(view)(wrapper)

    return decorate


def method_not_allowed(allowed: str) -> JsonResponse:
    return json_response(405, bad_request(f"use {allowed}"), headers={"Allow": allowed})


def json_response(http_status: int, body: dict, headers: dict | None = None) -> JsonResponse:
    """The Django flavour of ``send_json``."""
    return JsonResponse(body, status=http_status, headers=headers)


async def send_json(send, http_status: int, body: dict, extra_headers=()) -> None:
    """Answer an ASGI HTTP request with ``body`` as JSON (never cached)."""
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": http_status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode()), *extra_headers],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodyTooLarge(Exception):
    pass


async def read_body(scope, receive, limit: int) -> bytes:
    """The request body of an ASGI request; ``BodyTooLarge`` past ``limit`` bytes (checked against
    ``Content-Length`` first), ``ConnectionAbortedError`` if the client went away."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise BodyTooLarge
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def header(scope, name: bytes) -> bytes | None:
    """The first value of a request header (``name`` in lower case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


@functools.cache
def _trusted_proxies(spec: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def client_address(peer: str, forwarded_for: str | None, trusted: str) -> str:
    """The client's address: the connection's peer, unless that peer is one of the
    ``trusted`` proxies (comma-separated addresses or ranges), in which case the rightmost
    ``X-Forwarded-For`` hop that is not a trusted proxy. Hops a client wrote itself are
    left of that and never believed; a malformed hop ends the walk at the last proxy."""
    proxies = _trusted_proxies(trusted)
    if not proxies or not forwarded_for or not _within(peer, proxies):
        return peer
    address = peer
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if not _within(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address
        address = hop
    return address


def _within(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def scope_client_address(scope, trusted: str) -> str:
    """``client_address`` of an ASGI request."""
    peer = (scope.get("client") or ("",))[0] or ""
    if not trusted:
        return peer
    forwarded = header(scope, b"x-forwarded-for")
    return client_address(peer, forwarded.decode("latin-1") if forwarded is not None else None, trusted)
