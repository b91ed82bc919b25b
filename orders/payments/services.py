"""The pay flow behind ``POST /api/orders/<id>/pay``, and refunds from admin."""

import uuid
from dataclasses import dataclass

from django.utils import timezone

from orders import lifecycle
from orders.models import Order, Payment
from orders.payments import providers
from sales import inventory

S = Order.Status


@dataclass(frozen=True)
class PayAnswer:
    """``status``: paid, awaiting_payment (a provider that captures later), pending (the row is
    not written yet: try again), expired, cancelled, or not_found."""

    status: str
    order_id: str
    payment_id: str | None = None


def _captured_payment(order: Order) -> Payment | None:
    return order.payments.filter(status=Payment.Status.CAPTURED).order_by("captured_at").first()


def pay_order(order_id: uuid.UUID, buyer_id: int) -> PayAnswer:
    """Pay the buyer's order through the default provider. Paying a paid order again answers
    the same payment; paying never moves ``pay_by``, and past it the order expires instead."""
    order = Order.objects.filter(order_id=order_id).first()
    if order is None:
        held = inventory.holder_of(str(order_id))
        status = "pending" if held is not None and held[1] == buyer_id else "not_found"
        return PayAnswer(status, str(order_id))
    if order.buyer_id != buyer_id:
        return PayAnswer("not_found", str(order_id))
    if order.status == S.AWAITING_PAYMENT:
        assert order.pay_by is not None  # the consumer writes it with the row (orders.services)
        if order.pay_by <= timezone.now():
            lifecycle.expire(pks=[order.pk])
            lifecycle.return_units()
        else:
            _attempt(order)
        order.refresh_from_db()
    if order.status == S.PAID:
        payment = _captured_payment(order)
        return PayAnswer(S.PAID, str(order_id), str(payment.payment_id) if payment else None)
    if order.status == S.AWAITING_PAYMENT:
        attempt = order.payments.order_by("-created_at").first()
        return PayAnswer(S.AWAITING_PAYMENT, str(order_id), str(attempt.payment_id) if attempt else None)
    return PayAnswer(order.status, str(order_id))


def _attempt(order: Order) -> Payment:
    provider = providers.default()
    payment_id = uuid.uuid4()
    ref = provider.create(order.price, str(payment_id))
    payment = Payment.objects.create(
        payment_id=payment_id, order=order, provider=provider.name, provider_ref=ref, amount=order.price
    )
    provider.confirm(ref)  # the mock captures now, through its webhook; a real provider later
    return payment


def refund_order(order: Order) -> bool:
    """Refund a paid order's payment; its refund webhook cancels the order and returns the unit.
    False when the order has no captured payment."""
    payment = _captured_payment(order)
    if payment is None:
        return False
    providers.provider(payment.provider).refund(payment.provider_ref)
    return True
