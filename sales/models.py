import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from sales.challenge import MAX_DIFFICULTY


class Sale(models.Model):
    """A flash sale of one scarce item.

    ``total_stock`` is the number of units offered. While the sale runs, the
    remaining stock lives in Redis (see ``sales.inventory``); the database holds the
    offer and, through ``orders.Order``, what was sold.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    total_stock = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    limit_per_buyer = models.PositiveIntegerField(default=1)
    payment_window = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds a buyer has to pay an order; empty: the PAYMENT_WINDOW setting."
    )
    # The token gate (issue 14): buys need a purchase pass, earned by solving a proof-of-work
    # challenge of this many bits, and at most pass_multiple * total_stock passes are issued.
    requires_pass = models.BooleanField(
        default=False, help_text="Buyers need a purchase pass, earned by solving the page's challenge."
    )
    challenge_difficulty = models.PositiveSmallIntegerField(
        default=16, help_text="Bits of the proof-of-work challenge (about 2^bits hashes per buyer; 0 to 32)."
    )
    pass_multiple = models.PositiveSmallIntegerField(
        default=3, help_text="Passes issued at most, as a multiple of the stock."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return self.title

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The sale must end after it starts."})
        if self.limit_per_buyer is not None and self.limit_per_buyer < 1:
            raise ValidationError({"limit_per_buyer": "The limit per buyer must be at least 1."})
        if self.challenge_difficulty is not None and self.challenge_difficulty > MAX_DIFFICULTY:
            raise ValidationError({"challenge_difficulty": f"At most {MAX_DIFFICULTY} bits."})
        if self.pass_multiple is not None and self.pass_multiple < 1:
            raise ValidationError({"pass_multiple": "At least 1: one pass per unit."})
        if self.price is not None and self.price < 0:
            raise ValidationError({"price": "The price cannot be negative."})


class Denial(models.Model):
    """A buyer, or a range of client addresses, that may not buy or earn a pass (issue 14).

    The database is the list's source; ``sales.denials`` projects it into Redis, where every
    web process reads it within ``DENY_REFRESH`` of a change, without a restart.
    """

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    network = models.CharField(
        max_length=49, blank=True, help_text="An address or range, e.g. 203.0.113.0/24 or 2001:db8::/32."
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"buyer {self.buyer_id}" if self.buyer_id else self.network

    def clean(self):
        if bool(self.buyer_id) == bool(self.network):
            raise ValidationError("Deny either a buyer or an address range, one per entry.")
        if self.network:
            try:
                self.network = str(ipaddress.ip_network(self.network.strip(), strict=False))
            except ValueError:
                raise ValidationError({"network": "Not an IPv4 or IPv6 address or range."}) from None


class PublishedAudit(models.Model):
    """A sale's audit log as the operator published it (``manage.py publish_audit``): the chain's
    head, and the log it ends, kept in the database so that it outlives the sale's Redis keys."""

    sale = models.OneToOneField(Sale, on_delete=models.CASCADE, related_name="published_audit")
    head = models.CharField(max_length=64)
    entries = models.PositiveIntegerField()
    log = models.JSONField(
        help_text="The pseudonymised entries with their hashes, as GET /api/sales/<id>/audit serves them."
    )
    published_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"audit of sale {self.sale_id}: {self.entries} entries, head {self.head[:12]}…"
