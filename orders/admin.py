import uuid

from django.contrib import admin

from orders.models import Order


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
