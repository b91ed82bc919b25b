"""The admission gate of a sale that requires a purchase pass (issue 14): challenge, then pass.

A buyer asks for a challenge (``new_challenge``), the page solves it (about 2**difficulty
hashes), and the solution buys one pass (``admit``) while the gate has passes left; the buy
then spends the pass (in ``sales.inventory``, in the script that takes the unit). The gate is
``ceil(pass_multiple * total_stock)`` passes: enough that buyers who came through the page
find a unit, few enough that farming passes does not crowd them out. No pass is issued
before the sale opens, so none can be farmed ahead of it. Both steps read only Redis (the
difficulty and the gate are in the sale's offer there): at the start of a gated sale every
buyer goes through them. Plain functions, free of HTTP.
"""

from django.conf import settings

from sales import challenge, inventory


class NotGated(Exception):
    """The sale sells without a pass: there is no challenge to solve."""


class UnknownSale(Exception):
    pass


async def new_challenge(sale_id: int, buyer_id: int) -> challenge.Challenge:
    """A fresh challenge for this buyer and sale; raises ``UnknownSale`` or ``NotGated``."""
    offer = await inventory.offer(sale_id)
    if offer is None:
        raise UnknownSale(sale_id)
    if offer.gate is None:
        raise NotGated(sale_id)
    return challenge.issue(sale_id, buyer_id, offer.gate[0])


async def admit(sale_id: int, buyer_id: int, seed: str, counter: int) -> inventory.Pass | inventory.PassRefusal:
    """A pass for a solved challenge, or why none; raises ``challenge.ChallengeFailed`` (a wrong,
    expired or another buyer's solution)."""
    solved = challenge.verify(seed, counter, sale_id=sale_id, buyer_id=buyer_id)
    return await inventory.issue_pass(sale_id, buyer_id, solved.nonce, ttl_ms=settings.PURCHASE_PASS_TTL * 1000)
