from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("api/sales/<int:sale_id>/buy", views.buy_with_session, name="buy"),
    path("api/orders", views.order_list, name="list"),
    path("api/orders/<str:order_id>", views.order_detail, name="detail"),
    path("api/orders/<str:order_id>/pay", views.order_pay, name="pay"),
    path("payments/webhook/<str:provider>", views.payment_webhook, name="payment-webhook"),
    path("orders/", views.my_orders, name="mine"),
]
