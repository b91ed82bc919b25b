"""The provider interface, and the ``mock`` provider.

A real provider (Stripe-shaped) implements ``create`` (an intent for an amount, its id
back), ``confirm`` (the buyer pays; the capture arrives later as a webhook) and
``refund`` (the refund arrives as a webhook), and says how its webhooks are signed.
"""

import uuid
from decimal import Decimal
from typing import Protocol

import orjson
from django.conf import settings

from orders.payments import signing


class Provider(Protocol):
    name: str

    def webhook_secret(self) -> str: ...

    def create(self, amount: Decimal, payment_id: str) -> str:
        """Create a payment for ``amount``; returns the provider's id of it."""

    def confirm(self, provider_ref: str) -> None:
        """The buyer pays it; its capture comes as a webhook (at once, or later)."""

    def refund(self, provider_ref: str) -> None:
        """Give the captured money back; the refund comes as a webhook."""


class MockProvider:
    """Captures and refunds at once, each through a signed webhook handed to ``webhooks.receive``."""

    name = "mock"

    def webhook_secret(self) -> str:
        return settings.PAYMENT_WEBHOOK_SECRET

    def create(self, amount: Decimal, payment_id: str) -> str:
        return f"mock_{uuid.uuid4().hex}"

    def confirm(self, provider_ref: str) -> None:
        self._send("payment.captured", provider_ref)

    def refund(self, provider_ref: str) -> None:
        self._send("payment.refunded", provider_ref)

    def _send(self, kind: str, provider_ref: str) -> None:
        from orders.payments import webhooks  # the receiving end, as a real provider's HTTP call would reach it

        body = orjson.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": kind, "payment": provider_ref})
        webhooks.receive(self.name, body, signing.sign(body, self.webhook_secret()))


PROVIDERS: dict[str, Provider] = {"mock": MockProvider()}


class UnknownProvider(LookupError):
    pass


def provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise UnknownProvider(name) from None


def default() -> Provider:
    return provider(settings.PAYMENT_PROVIDER)
