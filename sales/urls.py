from django.urls import path

from sales import views

app_name = "sales"

urlpatterns = [
    path("", views.sale_list, name="list"),
    path("sales/<int:sale_id>/", views.buy_page, name="buy_page"),
    path("guest/", views.guest_sign_in, name="guest"),
]
