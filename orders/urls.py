from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [path("api/orders/<str:order_id>", views.order_detail, name="detail")]
