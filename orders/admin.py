"""Orders in admin (they come from the order worker; only cancel and refund change them), and the
sale list's order columns."""

import uuid

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse

from orders import lifecycle
from orders.models import HOLDS_A_UNIT, Order, Payment
from orders.payments.services import refund_order
from sales import inventory
from sales.admin import SaleAdmin
from sales.models import Sale


def _confirm(modeladmin, request, queryset, *, action, title, verb, explanation, applies):
    """Django's delete_selected pattern: a confirmation page first; ``None`` once confirmed."""
    if request.POST.get("post") == "yes":
        return None
    orders = [o for o in queryset.select_related("buyer") if applies(o)]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "verb": verb,
        "orders": orders,
        "queryset": queryset,
        "skipped": queryset.count() - len(orders),
        "action": action,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/orders/confirm_action.html", context)


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = (
        "payment_id",
        "provider",
        "provider_ref",
        "amount",
        "status",
        "created_at",
        "captured_at",
        "refunded_at",
        "note",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_id", "sale", "buyer", "price", "status", "pay_by", "unit_returned", "created_at"]
    list_filter = ["sale", "status", "created_at"]
    search_fields = ["buyer__username"]
    list_select_related = ["sale", "buyer"]
    readonly_fields = [
        "order_id",
        "sale",
        "buyer",
        "price",
        "status",  # changed only by the actions below (and by paying, expiring): orders.lifecycle
        "pay_by",
        "paid_at",
        "ended_at",
        "unit_returned",
        "reserved_at",
        "created_at",
        "kafka_partition",
        "kafka_offset",
    ]
    date_hierarchy = "created_at"
    inlines = [PaymentInline]
    actions = ["cancel_orders", "refund_orders"]

    @admin.action(description="Cancel (return the unit)")
    def cancel_orders(self, request, queryset):
        waiting = lambda o: o.status == Order.Status.AWAITING_PAYMENT  # noqa: E731
        page = _confirm(
            self,
            request,
            queryset,
            action="cancel_orders",
            title="Cancel orders",
            verb="cancel them",
            explanation="These orders await payment. Cancelled, each gives its unit back to its sale.",
            applies=waiting,
        )
        if page is not None:
            return page
        cancelled = lifecycle.cancel([o.pk for o in queryset if waiting(o)])
        returned = lifecycle.return_units()
        self.message_user(
            request, f"Cancelled {cancelled} order(s); {returned} unit(s) back on sale.", messages.SUCCESS
        )
        return None

    @admin.action(description="Refund (and return the unit)")
    def refund_orders(self, request, queryset):
        paid = lambda o: o.status == Order.Status.PAID  # noqa: E731
        page = _confirm(
            self,
            request,
            queryset,
            action="refund_orders",
            title="Refund orders",
            verb="refund them",
            explanation="These orders are paid. Refunded through their payment provider, each is cancelled and "
            "gives its unit back to its sale.",
            applies=paid,
        )
        if page is not None:
            return page
        refunded = sum(refund_order(o) for o in queryset if paid(o))
        self.message_user(request, f"Refunded {refunded} order(s); their units are back on sale.", messages.SUCCESS)
        return None

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
    """``sales.admin.SaleAdmin`` with how its units stand: registered from here because this app
    knows orders and ``sales`` does not import it. In stock and held come from Redis (held: reserved,
    not yet written); the rest from the rows."""

    list_display = [*SaleAdmin.list_display, "in_stock", "held", "awaiting", "paid", "returned"]

    def get_queryset(self, request):
        by = Order.Status
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_awaiting=Count("orders", filter=Q(orders__status=by.AWAITING_PAYMENT)),
                n_paid=Count("orders", filter=Q(orders__status=by.PAID)),
                n_returned=Count("orders", filter=Q(orders__status__in=lifecycle.ENDED, orders__unit_returned=True)),
                n_holding=Count("orders", filter=Q(orders__status__in=HOLDS_A_UNIT)),
            )
        )

    @admin.display(description="in stock")
    def in_stock(self, sale):
        return self.remaining(sale)

    @admin.display(description="held")
    def held(self, sale):
        ledger = inventory.ledger(sale.pk)
        return None if ledger is None else ledger.holds - sale.n_holding

    @admin.display(description="awaiting payment", ordering="n_awaiting")
    def awaiting(self, sale):
        return sale.n_awaiting

    @admin.display(description="paid", ordering="n_paid")
    def paid(self, sale):
        return sale.n_paid

    @admin.display(description="returned", ordering="n_returned")
    def returned(self, sale):
        return sale.n_returned


admin.site.unregister(Sale)
admin.site.register(Sale, SaleWithOrdersAdmin)
