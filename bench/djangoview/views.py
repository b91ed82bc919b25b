"""The same purchase as ``sales.hotpath``, written as an ordinary Django view.

Bearer token, body check and ``sales.buying.buy``, exactly like the hot path,
so that a benchmark of the two measures what Django's request machinery costs.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sales.buyers import InvalidToken, buyer_from_authorization
from sales.buying import buy, parse_buy_body


@csrf_exempt  # token-authenticated API, like the hot path
async def buy_view(request, sale_id: int):
    if request.method != "POST":
        return JsonResponse({"status": "bad_request", "detail": "use POST"}, status=405, headers={"Allow": "POST"})
    try:
        buyer_id = buyer_from_authorization(request.headers.get("Authorization", ""))
    except InvalidToken as exc:
        return JsonResponse({"status": "unauthorized", "detail": str(exc)}, status=401)
    problem = parse_buy_body(request.body)
    if problem:
        return JsonResponse({"status": "bad_request", "detail": problem}, status=400)
    outcome = await buy(sale_id, buyer_id)
    return JsonResponse(outcome.body(), status=outcome.http_status)
