"""The Redis key layout of a sale's stock: the one place that names these keys.

Only ``sales.inventory`` reads or writes them.

All keys of one sale share the hash tag ``{sale:<id>}`` so that a sale lives on
one Redis Cluster shard and its Lua scripts can touch all of them atomically.

- ``meta``      hash: total, starts_at, ends_at (epoch ms), limit, price, title, and
  server: the run_id of the Redis server the state was last checked on (see
  ``sales/inventory/lua/purchase.lua``; another server's id, or "", means unchecked)
- ``stock``     integer: units left
- ``buyers``    hash: buyer id -> the order ids that buyer holds (reserved or
  confirmed), space-separated
- ``orders``    hash: order id -> buyer id, every reservation still held
- ``confirmed`` set: order ids the order consumer has accepted (no longer
  revocable)
- ``returned``  set: order ids whose unit went back to the stock after the order
  was confirmed (expired unpaid, or cancelled): each is returned once
- ``since``     sorted set: order id -> when it was reserved (Redis time, ms), for
  every reservation neither confirmed nor released: where abandoned holds are found
- ``idempotency`` hash: "<buyer id>:<Idempotency-Key>" -> the order id that key's buy reserved
- ``rate:<buyer>:<second>`` counter for the per-buyer rate limit
- ``arate:<address>:<second>`` counter for the per-address rate limit
- ``passes``    hash: purchase pass id -> "<buyer id>:<expires, Redis time ms>", the passes
  of a gated sale not used yet (``sales/inventory/lua/admit.lua``)
- ``seeds``     set: the nonces of the challenges that earned a pass (each earns one; its
  size is the number of passes issued, held against the gate)
- ``audit``     stream: every admission (a pass issued, a unit reserved) in the order Redis
  decided it, appended by the deciding script; fields kind, buyer, order (``sales/audit.py``
  chains them; a stream id's first part is the Redis time in ms)

``order_index`` (the holder index) is outside the sale's slot on purpose: it
maps an order id to its sale and buyer so that ``GET /api/orders/<id>`` can
answer "pending" before the row exists, without knowing the sale.
"""

# The holder index outlives any pending order by far; it only needs to expire eventually.
HOLDER_INDEX_TTL = 7 * 24 * 3600


def meta(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:meta"


def stock(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:stock"


def buyers(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:buyers"


def orders(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:orders"


def confirmed(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:confirmed"


def returned(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:returned"


def since(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:since"


def idempotency(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:idempotency"


def rate(sale_id: int, buyer_id: int, second: int) -> str:
    return f"{{sale:{sale_id}}}:rate:{buyer_id}:{second}"


def address_rate(sale_id: int, address: str, second: int) -> str:
    return f"{{sale:{sale_id}}}:arate:{address}:{second}"


def audit(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:audit"


def passes(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:passes"


def seeds(sale_id: int) -> str:
    return f"{{sale:{sale_id}}}:seeds"


def order_index(order_id: str) -> str:
    return f"order:{order_id}"


def all_of_sale(sale_id: int) -> list[str]:
    """The keys to delete when a sale is removed (rate counters expire alone)."""
    return [
        meta(sale_id),
        stock(sale_id),
        buyers(sale_id),
        orders(sale_id),
        confirmed(sale_id),
        returned(sale_id),
        since(sale_id),
        idempotency(sale_id),
        passes(sale_id),
        seeds(sale_id),
        audit(sale_id),
    ]
