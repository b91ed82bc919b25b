from django.urls import path

from sales import views

app_name = "sales"

urlpatterns = [
    path("", views.sale_list, name="list"),
    path("sales/<int:sale_id>/", views.buy_page, name="buy_page"),
    path("guest/", views.guest_sign_in, name="guest"),
    path("api/sales/<int:sale_id>/challenge", views.sale_challenge, name="challenge"),
    path("api/sales/<int:sale_id>/pass", views.sale_pass, name="pass"),
    path("api/sales/<int:sale_id>/audit", views.sale_audit, name="audit"),
    path("api/sales/<int:sale_id>/audit/mine", views.sale_audit_mine, name="audit-mine"),
    path("sales/<int:sale_id>/audit/", views.audit_page, name="audit-page"),
]
