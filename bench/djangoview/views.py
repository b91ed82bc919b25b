"""The same purchase as the hot path (``orders.api.buy``), written as an ordinary Django view.

Bearer token, body check and ``orders.api.buy_answer``, exactly like the hot path,
so that a benchmark of the two measures what Django's request machinery costs.
"""

from django.views.decorators.csrf import csrf_exempt

from orders.api import buy_answer, parse_buy_body
from plumbing.http import bad_request, json_response, status_body
from sales.buyers import InvalidToken, buyer_from_authorization


@csrf_exempt  # token-authenticated API, like the hot path
async def buy_view(request, sale_id: int):
    if request.method != "POST":
        return json_response(405, bad_request("use POST"), headers={"Allow": "POST"})
    try:
        buyer_id = buyer_from_authorization(request.headers.get("Authorization", ""))
    except InvalidToken as exc:
        return json_response(401, status_body("unauthorized", str(exc)))
    problem = parse_buy_body(request.body)
    if problem:
        return json_response(400, bad_request(problem))
    return json_response(*await buy_answer(sale_id, buyer_id))
