import uuid

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from orders.selectors import order_status
from sales.buyers import InvalidToken, buyer_from_authorization


def _buyer_id(request) -> int | None:
    header = request.headers.get("Authorization")
    if header:
        return buyer_from_authorization(header)
    return request.user.pk if request.user.is_authenticated else None


@require_GET
def order_detail(request, order_id: str):
    """``GET /api/orders/<order_id>``: its buyer only (token or session)."""
    try:
        buyer_id = _buyer_id(request)
    except InvalidToken as exc:
        return JsonResponse({"status": "unauthorized", "detail": str(exc)}, status=401)
    if buyer_id is None:
        return JsonResponse({"status": "unauthorized"}, status=401)
    try:
        parsed = uuid.UUID(order_id)
    except ValueError:
        return JsonResponse({"status": "not_found"}, status=404)
    found = order_status(parsed, buyer_id)
    if found is None:
        return JsonResponse({"status": "not_found"}, status=404)
    return JsonResponse(found, headers={"Cache-Control": "no-store"})
