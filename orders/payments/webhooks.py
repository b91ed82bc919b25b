"""Receiving a provider's webhook: verified, recorded once, applied in one transaction.

``receive`` is what ``POST /payments/webhook/<provider>`` calls, and what the mock
provider calls in-process. The event's id is recorded in the same transaction as its
effect, so a replay changes nothing; a capture or refund seen twice for one payment
(two events naming it) changes nothing either.

A capture for an order that is no longer awaiting payment (it expired, was cancelled,
or another payment paid it first) is refunded at once and recorded so: the order is
never both paid and returned, and the buyer's money is never kept for nothing.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders import lifecycle
from orders.models import Order, Payment, WebhookEvent
from orders.notify import notify_status
from orders.payments import providers, signing
from plumbing.transactions import atomic_retrying

log = logging.getLogger(__name__)


class InvalidWebhook(ValueError):
    """The body is not an event we know (the text says why)."""


@dataclass(frozen=True)
class Event:
    event_id: str
    kind: str  # payment.captured | payment.refunded
    provider_ref: str


KINDS = ("payment.captured", "payment.refunded")


def parse(body: bytes) -> Event:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidWebhook("not JSON") from None
    if not isinstance(data, dict):
        raise InvalidWebhook("not a JSON object")
    event_id, kind, ref = data.get("id"), data.get("type"), data.get("payment")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 100):
        raise InvalidWebhook("id must be a string of 1 to 100 characters")
    if kind not in KINDS:
        raise InvalidWebhook(f"type must be one of {', '.join(KINDS)}")
    if not (isinstance(ref, str) and 0 < len(ref) <= 100):
        raise InvalidWebhook("payment must be a string of 1 to 100 characters")
    return Event(event_id, kind, ref)


def receive(provider_name: str, body: bytes, signature: str | None) -> str:
    """Apply one webhook; returns what it did. Raises ``providers.UnknownProvider``,
    ``signing.BadSignature`` or ``InvalidWebhook`` (nothing changed)."""
    provider = providers.provider(provider_name)
    signing.verify(body, signature, provider.webhook_secret(), settings.PAYMENT_WEBHOOK_TOLERANCE)
    event = parse(body)
    outcome, payment = _apply(provider.name, event, timezone.now())
    if outcome == "paid":
        order = Order.objects.values_list("buyer_id", "order_id").get(pk=payment.order_id)
        notify_status([(order[0], str(order[1]), Order.Status.PAID)])
    elif outcome == "refund":
        provider.refund(payment.provider_ref)
    elif outcome == "cancelled":
        lifecycle.return_units()
    return outcome


@atomic_retrying()
def _apply(provider_name: str, event: Event, now: datetime) -> tuple[str, Payment]:
    """The event's effect and its record, in one transaction (run again whole if a deadlock
    chose it); what follows the commit (a refund, a unit back) is ``receive``'s."""
    payments = Payment.objects.select_for_update().filter(provider=provider_name, provider_ref=event.provider_ref)
    payment = payments.first()
    if payment is None:
        raise InvalidWebhook(f"no payment {event.provider_ref}")
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(provider=provider_name, event_id=event.event_id)
    except IntegrityError:
        return "duplicate", payment
    if event.kind == "payment.captured":
        return _captured(payment, now), payment
    return _refunded(payment, now), payment


def _captured(payment: Payment, now) -> str:
    if payment.status != Payment.Status.CREATED:
        return "already"
    payment.status, payment.captured_at = Payment.Status.CAPTURED, now
    status, paid_now = lifecycle.mark_paid(payment.order_id, now)
    if not paid_now:
        payment.note = (
            "captured after the order was already paid" if status == Order.Status.PAID else f"captured after {status}"
        )
        log.warning(
            "payment %s: %s; refunding",
            payment.payment_id,
            payment.note,
            extra={"payment_id": payment.payment_id, "order_id": payment.order.order_id},
        )
    payment.save(update_fields=["status", "captured_at", "note"])
    return "paid" if paid_now else "refund"


def _refunded(payment: Payment, now) -> str:
    if payment.status != Payment.Status.CAPTURED:
        return "already"
    payment.status, payment.refunded_at = Payment.Status.REFUNDED, now
    payment.save(update_fields=["status", "refunded_at"])
    still_paid = Payment.objects.filter(order_id=payment.order_id, status=Payment.Status.CAPTURED).exists()
    if not still_paid and lifecycle.cancel([payment.order_id], now, paid=True):
        return "cancelled"  # the order's own payment was refunded: its unit goes back
    return "refunded"
