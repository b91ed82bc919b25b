"""The inventory: the one owner of a sale's stock in Redis (keys, Lua scripts, reservations).

Like Saleor's ``warehouse.reservations`` or Oscar's ``StockRecord.allocate``: the
rest of the project (the buy service, the order worker, admin, the load test) calls
these functions and never reaches into the storage behind them.
``sales/inventory/keys.py`` and ``sales/inventory/lua/`` are private to this package.
"""

from sales.inventory.admissions import Admission, admissions
from sales.inventory.passes import Pass, PassRefusal
from sales.inventory.passes import issue as issue_pass
from sales.inventory.reservations import (
    Hold,
    Refusal,
    Refused,
    Released,
    Returned,
    Unavailable,
    confirm,
    holder_of,
    redis_time_ms,
    release,
    release_stale,
    remember_holder,
    reserve,
    reserve_many,
    return_units,
    stale_holds,
)
from sales.inventory.stock import (
    Ledger,
    Offer,
    Rebuilt,
    StockBelowSold,
    forget,
    held_by_buyer,
    ledger,
    load,
    mark_unchecked,
    offer,
    rebuild,
    remaining,
    remaining_now,
    returned_count,
    total_and_left,
    unchecked,
)

__all__ = [
    "Admission",
    "Hold",
    "Ledger",
    "Offer",
    "Pass",
    "PassRefusal",
    "Rebuilt",
    "Refusal",
    "Refused",
    "Released",
    "Returned",
    "StockBelowSold",
    "Unavailable",
    "admissions",
    "confirm",
    "forget",
    "held_by_buyer",
    "holder_of",
    "issue_pass",
    "ledger",
    "load",
    "mark_unchecked",
    "offer",
    "rebuild",
    "redis_time_ms",
    "release",
    "release_stale",
    "remaining",
    "remaining_now",
    "remember_holder",
    "reserve",
    "reserve_many",
    "return_units",
    "returned_count",
    "stale_holds",
    "total_and_left",
    "unchecked",
]
