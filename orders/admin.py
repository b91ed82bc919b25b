"""Orders in admin (read-only: they come from the order worker), and the sale list's order columns."""

import uuid

from django.contrib import admin
from django.db.models import Count, Q

from orders.models import HOLDS_A_UNIT, Order
from sales.admin import SaleAdmin
from sales.models import Sale


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_id", "sale", "buyer", "price", "status", "reserved_at", "created_at"]
    list_filter = ["sale", "status", "created_at"]
    search_fields = ["buyer__username"]
    list_select_related = ["sale", "buyer"]
    readonly_fields = [
        "order_id",
        "sale",
        "buyer",
        "price",
        "reserved_at",
        "created_at",
        "kafka_partition",
        "kafka_offset",
    ]
    date_hierarchy = "created_at"

    def get_search_results(self, request, queryset, search_term):
        """Search by buyer name, or by an exact order id."""
        try:
            order_id = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(order_id=order_id), False

    def has_add_permission(self, request):
        return False  # orders come from the order consumer only


class SaleWithOrdersAdmin(SaleAdmin):
    """``sales.admin.SaleAdmin`` with how its units stand as orders: registered from here because
    this app knows orders and ``sales`` does not import it."""

    list_display = [*SaleAdmin.list_display, "confirmed", "in_flight"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(confirmed_orders=Count("orders", filter=Q(orders__status__in=HOLDS_A_UNIT)))
        )

    @admin.display(description="confirmed orders", ordering="confirmed_orders")
    def confirmed(self, sale):
        return sale.confirmed_orders

    @admin.display(description="in flight")
    def in_flight(self, sale):
        sold = self.sold(sale)
        return None if sold is None else sold - sale.confirmed_orders


admin.site.unregister(Sale)
admin.site.register(Sale, SaleWithOrdersAdmin)
