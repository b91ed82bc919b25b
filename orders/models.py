from django.conf import settings
from django.db import models


class Order(models.Model):
    """An order the consumer wrote from an order event.

    A row exists only once the event is in the database, so every row is
    ``confirmed``; "pending" (reserved, not yet written) is never stored here.
    ``order_id`` is the idempotency key: a redelivered event changes nothing.
    """

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"

    order_id = models.UUIDField(unique=True, editable=False)
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    reserved_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    kafka_partition = models.IntegerField()
    kafka_offset = models.BigIntegerField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sale", "status"]), models.Index(fields=["created_at"])]

    def __str__(self):
        return str(self.order_id)
