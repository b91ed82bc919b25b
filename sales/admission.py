"""The admission gate of a sale that requires a purchase pass (issue 14): challenge, then pass.

A buyer asks for a challenge (``new_challenge``), the page solves it (about 2**difficulty
hashes), and the solution buys one pass (``admit``) while the gate has passes left; the buy
then spends the pass (in ``sales.inventory``, in the script that takes the unit). The gate is
``ceil(pass_multiple * total_stock)`` passes: enough that buyers who came through the page
find a unit, few enough that farming passes does not crowd them out. No pass is issued
before the sale opens, so none can be farmed ahead of it. Plain functions, free of HTTP.
"""

import math
from dataclasses import dataclass

from django.conf import settings

from sales import challenge, inventory
from sales.models import Sale


class NotGated(Exception):
    """The sale sells without a pass: there is no challenge to solve."""


class UnknownSale(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Gate:
    difficulty: int
    passes: int  # issued at most


async def gate_of(sale_id: int) -> Gate:
    row = (
        await Sale.objects.filter(pk=sale_id)
        .values_list("requires_pass", "challenge_difficulty", "pass_multiple", "total_stock")
        .afirst()
    )
    if row is None:
        raise UnknownSale(sale_id)
    gated, difficulty, multiple, total = row
    if not gated:
        raise NotGated(sale_id)
    return Gate(difficulty=difficulty, passes=math.ceil(multiple * total))


async def new_challenge(sale_id: int, buyer_id: int) -> challenge.Challenge:
    """A fresh challenge for this buyer and sale; raises ``UnknownSale`` or ``NotGated``."""
    return challenge.issue(sale_id, buyer_id, (await gate_of(sale_id)).difficulty)


async def admit(sale_id: int, buyer_id: int, seed: str, counter: int) -> inventory.Pass | inventory.PassRefusal:
    """A pass for a solved challenge, or why none; raises ``challenge.ChallengeFailed`` (a wrong,
    expired or another buyer's solution), ``UnknownSale`` or ``NotGated``."""
    gate = await gate_of(sale_id)
    solved = challenge.verify(seed, counter, sale_id=sale_id, buyer_id=buyer_id)
    return await inventory.issue_pass(
        sale_id, buyer_id, solved.nonce, gate=gate.passes, ttl_ms=settings.PURCHASE_PASS_TTL * 1000
    )
