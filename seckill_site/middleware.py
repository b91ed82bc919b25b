"""Errors under ``/api/`` answered as the API answers: JSON with a ``status``.

Redis or the database failing is not the client's fault and not a bug: the request
decided nothing, so it gets ``503 {"status": "retry"}`` and can be sent again. Any
other exception is a bug, logged with its traceback, and still answered in JSON.
A ``Host`` not in ``ALLOWED_HOSTS`` is a 400 in JSON too, also with DEBUG on (Django
would answer its HTML debug page): this runs first, before anything asks for the host.
"""

import logging

from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.utils.deprecation import MiddlewareMixin
from redis.exceptions import RedisError

from plumbing.http import RETRY, json_response, status_body

log = logging.getLogger(__name__)


class ApiErrors(MiddlewareMixin):
    def process_request(self, request):
        if not request.path.startswith("/api/"):
            return None
        try:
            request.get_host()
        except DisallowedHost as exc:
            return json_response(400, status_body("bad_request", str(exc)))
        return None

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        if isinstance(exception, RedisError | DatabaseError):
            log.warning("%s %s: %r; answered 503 retry", request.method, request.path, exception)
            return json_response(503, status_body(RETRY))
        log.error("%s %s failed", request.method, request.path, exc_info=exception)
        return json_response(500, status_body("error", "the server failed; the request may be sent again"))
