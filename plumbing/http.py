"""JSON answers of the API, written once for the lean ASGI handlers and for Django views.

Every answer of the API is a JSON object with ``status``; an error may add
``detail``, a sentence for the person reading it (``status_body``). ASGI handlers
send it with ``send_json`` (always ``Cache-Control: no-store``), Django views
return ``json_response``.
"""

import orjson
from django.http import JsonResponse

_JSON_HEADERS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


def status_body(status: str, detail: str | None = None) -> dict:
    """``{"status": status}``, with ``"detail"`` when there is something to explain."""
    if detail is None:
        return {"status": status}
    return {"status": status, "detail": detail}


def bad_request(detail: str) -> dict:
    return status_body("bad_request", detail)


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
