from django.urls import path

from sales.live.consumers import SaleConsumer

websocket_urlpatterns = [path("ws/sales/<int:sale_id>/", SaleConsumer.as_asgi())]
