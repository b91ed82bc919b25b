"""The inventory: the one owner of a sale's stock in Redis (keys, Lua scripts, reservations).

Like Saleor's ``warehouse.reservations`` or Oscar's ``StockRecord.allocate``: the
rest of the project (the buy service, the order worker, admin, the load test) calls
these functions and never reaches into the storage behind them.
``sales/inventory/keys.py`` and ``sales/inventory/lua/`` are private to this package.
"""

from sales.inventory.reservations import (
    Hold,
    Refusal,
    Refused,
    Released,
    confirm,
    holder_of,
    redis_time_ms,
    release,
    release_stale,
    remember_holder,
    reserve,
    reserve_many,
    stale_holds,
)
from sales.inventory.stock import (
    Ledger,
    Offer,
    StockBelowSold,
    forget,
    held_by_buyer,
    ledger,
    load,
    offer,
    remaining,
    remaining_now,
    total_and_left,
)

__all__ = [
    "Hold",
    "Ledger",
    "Offer",
    "Refusal",
    "Refused",
    "Released",
    "StockBelowSold",
    "confirm",
    "forget",
    "held_by_buyer",
    "holder_of",
    "ledger",
    "load",
    "offer",
    "redis_time_ms",
    "release",
    "release_stale",
    "remaining",
    "remaining_now",
    "remember_holder",
    "reserve",
    "reserve_many",
    "stale_holds",
    "total_and_left",
]
