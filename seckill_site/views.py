from django.http import JsonResponse
from django.views.csrf import csrf_failure as html_csrf_failure


def csrf_failure(request, reason=""):
    """API clients get JSON, pages get Django's usual explanation."""
    if request.path.startswith("/api/"):
        return JsonResponse({"status": "forbidden", "detail": f"CSRF check failed: {reason}"}, status=403)
    return html_csrf_failure(request, reason)
