from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("api/sales/<int:sale_id>/buy", views.buy_with_session, name="buy"),
    path("api/orders/<str:order_id>", views.order_detail, name="detail"),
]
