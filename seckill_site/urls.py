from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("", include("orders.urls")),
    path("", include("sales.urls")),
]
