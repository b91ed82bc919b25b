"""Purchase passes: the token gate of a sale that requires one (issue 14).

A buyer who solved the sale's challenge (``sales.challenge``) gets a pass: a random id,
bound to that buyer, valid for a while, and issued only while fewer than the gate's
number of passes are out (a few times the stock, so that the units go to buyers who
came through the page while bots pay for every attempt). Each solved challenge earns
one pass, decided in one script (``admit.lua``) so that two requests with the same
solution cannot both get one.
"""

import enum
import secrets
from dataclasses import dataclass

from sales.inventory.scripts import hot_scripts


class PassRefusal(enum.StrEnum):
    """Why no pass was issued; the values are the API's statuses."""

    SOLD_OUT = "sold_out"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    UNKNOWN_SALE = "not_found"
    CHALLENGE_USED = "challenge_used"
    NOT_REQUIRED = "not_required"


_REFUSALS = {
    -1: PassRefusal.SOLD_OUT,
    -3: PassRefusal.NOT_STARTED,
    -4: PassRefusal.ENDED,
    -5: PassRefusal.UNKNOWN_SALE,
    -8: PassRefusal.CHALLENGE_USED,
    -11: PassRefusal.NOT_REQUIRED,
}


@dataclass(frozen=True, slots=True)
class Pass:
    pass_id: str
    expires_ms: int  # Redis time


async def issue(sale_id: int, buyer_id: int, nonce: str, *, ttl_ms: int) -> Pass | PassRefusal:
    """A pass for the buyer whose solved challenge had ``nonce``, or why not (on the hot path's client)."""
    pass_id = secrets.token_urlsafe(18)
    code, expires = await hot_scripts().admit(sale_id, buyer_id, nonce, pass_id, ttl_ms=ttl_ms)
    if code != 1:
        return _REFUSALS[code]
    return Pass(pass_id=pass_id, expires_ms=int(expires))
