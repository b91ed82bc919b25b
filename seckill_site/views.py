from django.views import defaults
from django.views.csrf import csrf_failure as html_csrf_failure
from django.views.decorators.csrf import csrf_exempt

from plumbing.http import json_response, status_body


@csrf_exempt  # a 404 changes nothing; without this a cookie POST would get a CSRF 403 instead
def api_not_found(request):
    return json_response(404, status_body("not_found", f"no API endpoint {request.method} {request.path}"))


def _api(request) -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def bad_request(request, exception):
    if _api(request):
        return json_response(400, status_body("bad_request", "the request cannot be read"))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _api(request):
        return json_response(403, status_body("forbidden"))
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _api(request):
        return json_response(500, status_body("error", "the server failed; the request may be sent again"))
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """API clients get JSON, pages get Django's usual explanation."""
    if request.path.startswith("/api/"):
        return json_response(403, status_body("forbidden", f"CSRF check failed: {reason}"))
    return html_csrf_failure(request, reason)
