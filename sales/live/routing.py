"""The websocket routes. A sale id is 1 to 19 ASCII digits (``plumbing.http.parse_id``
checks its range); any other path is accepted and closed with 4404, never a 500."""

from django.urls import re_path

from sales.live.consumers import BuyerConsumer, NoSuchPath, SaleConsumer

websocket_urlpatterns = [
    re_path(r"^ws/sales/(?P<sale_id>[0-9]{1,19})/$", SaleConsumer.as_asgi()),
    re_path(r"^ws/orders/$", BuyerConsumer.as_asgi()),
    re_path(r"", NoSuchPath.as_asgi()),
]
