from django.urls import include, path

from bench.djangoview.views import buy_view

urlpatterns = [
    path("bench/sales/<int:sale_id>/buy", buy_view),
    path("", include("seckill_site.urls")),
]
