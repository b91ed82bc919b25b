from django.conf import settings
from django.db import models


class Order(models.Model):
    """An order the consumer wrote from an order event.

    A row exists only once the event is in the database; "pending" (reserved, not yet
    written) is never stored here. A written order awaits payment until ``pay_by``, then
    is paid, or expires, or is cancelled in admin; the last two give the unit back to the
    sale (``unit_returned`` records that the inventory has it back: ``orders.lifecycle``).
    ``order_id`` is the idempotency key: a redelivered event changes nothing.
    """

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    order_id = models.UUIDField(unique=True, editable=False)
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AWAITING_PAYMENT)
    reserved_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    pay_by = models.DateTimeField(null=True, blank=True)  # written + the payment window; never moved
    paid_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # when it expired or was cancelled
    unit_returned = models.BooleanField(default=False)
    kafka_partition = models.IntegerField()
    kafka_offset = models.BigIntegerField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["sale", "status"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["status", "pay_by"]),  # the expiry worker's query
            models.Index(fields=["status", "unit_returned"]),
            models.Index(fields=["buyer", "created_at"]),  # a buyer's orders, newest first
        ]

    def __str__(self):
        return str(self.order_id)


# Statuses in which the order holds its unit (the others gave it back).
HOLDS_A_UNIT = (Order.Status.AWAITING_PAYMENT, Order.Status.PAID)


class Payment(models.Model):
    """One attempt to pay an order through a provider (``orders.payments``).

    ``payment_id`` is ours (what the buyer is told); ``provider_ref`` is the provider's id
    of the payment, unique per provider: its webhooks name it, and a capture seen twice
    changes nothing.
    """

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        CAPTURED = "captured", "Captured"
        REFUNDED = "refunded", "Refunded"  # captured, then given back (e.g. it came after the order expired)

    payment_id = models.UUIDField(unique=True, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=32)
    provider_ref = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)  # why it was refunded

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["provider", "provider_ref"], name="payment_provider_ref")]

    def __str__(self):
        return str(self.payment_id)


class WebhookEvent(models.Model):
    """A provider's webhook event already handled: a replay of it changes nothing."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once")]

    def __str__(self):
        return f"{self.provider}:{self.event_id}"
