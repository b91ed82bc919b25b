"""The sale in admin: the offer, with its live stock from Redis.

The order columns (confirmed orders, units in flight) are added by ``orders.admin``,
which knows orders; this app does not import it.
"""

from django import forms
from django.contrib import admin
from django.db import transaction

from sales import denials, inventory
from sales.models import Denial, Sale
from sales.services import forget_sale, save_sale, validate_total_stock


class SaleForm(forms.ModelForm):
    class Meta:
        model = Sale
        fields = [
            "title",
            "description",
            "price",
            "total_stock",
            "starts_at",
            "ends_at",
            "limit_per_buyer",
            "requires_pass",
            "challenge_difficulty",
            "pass_multiple",
        ]

    def clean_total_stock(self):
        total = self.cleaned_data["total_stock"]
        validate_total_stock(self.instance, total)
        return total


@admin.register(Sale)
class SaleAdmin(admin.ModelAdmin):
    form = SaleForm
    list_display = [
        "title",
        "price",
        "total_stock",
        "starts_at",
        "ends_at",
        "remaining",
        "sold",
    ]
    search_fields = ["title"]
    date_hierarchy = "starts_at"

    @staticmethod
    def _left(sale) -> int | None:
        """Remaining stock from Redis, read once per row (kept on the row, not on
        this ModelAdmin, which every request and thread shares)."""
        if not hasattr(sale, "_remaining_in_redis"):
            sale._remaining_in_redis = inventory.remaining([sale.pk])[sale.pk]
        return sale._remaining_in_redis

    @admin.display(description="remaining (Redis)")
    def remaining(self, sale):
        left = self._left(sale)
        return "not loaded" if left is None else left

    @admin.display(description="units sold")
    def sold(self, sale):
        left = self._left(sale)
        return None if left is None else sale.total_stock - left

    def save_model(self, request, obj, form, change):
        save_sale(obj)

    def delete_model(self, request, obj):
        sale_id = obj.pk
        super().delete_model(request, obj)
        forget_sale(sale_id)


@admin.register(Denial)
class DenialAdmin(admin.ModelAdmin):
    """The deny list: every change is published to Redis after it commits, and every web
    process follows within ``DENY_REFRESH`` (``sales.denials``)."""

    list_display = ["__str__", "reason", "created_at"]
    raw_id_fields = ["buyer"]
    search_fields = ["network", "reason", "buyer__username"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(denials.publish)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(denials.publish)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(denials.publish)
