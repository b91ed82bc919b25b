"""Paying an order: providers behind one interface, signed webhooks, the pay flow.

A provider is Stripe-shaped: create a payment (an "intent") for an amount, learn of its
capture from a signed webhook, refund it. The ``mock`` provider (the default) captures at
once, but through the same path a real one takes: a payment record, then a webhook body
signed with the provider's secret handed to ``webhooks.receive``, the function behind
``POST /payments/webhook/<provider>``.
"""
