from django.urls import path

from sales.consumers import SaleConsumer

websocket_urlpatterns = [path("ws/sales/<int:sale_id>/", SaleConsumer.as_asgi())]
