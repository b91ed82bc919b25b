from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from seckill_site import views

# Django's own error answers (a bad Host header, an uncaught error) are JSON under /api/ too.
handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("admin/", admin.site.urls),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("", include("orders.urls")),
    path("", include("sales.urls")),
    # Last: whatever else is asked under /api/ gets the API's JSON 404, not a page.
    re_path(r"^api(?:/|$)", views.api_not_found),
]
