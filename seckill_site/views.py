from django.views.csrf import csrf_failure as html_csrf_failure

from plumbing.http import json_response, status_body


def csrf_failure(request, reason=""):
    """API clients get JSON, pages get Django's usual explanation."""
    if request.path.startswith("/api/"):
        return json_response(403, status_body("forbidden", f"CSRF check failed: {reason}"))
    return html_csrf_failure(request, reason)
