"""After the run: do the answers, Redis and the order rows tell the same story?

Each invariant is a ``Check`` with its numbers. The inputs (``Answers``) are
what the buyers were told; they are saved in the ``--json`` file so that a run
can be verified again later (``loadtest --verify-from FILE``).
"""

from collections import Counter
from dataclasses import asdict, dataclass, field

from orders.models import HOLDS_A_UNIT, Order
from sales import inventory


@dataclass
class Answers:
    """What a run told its buyers about one sale, and the sale before the run."""

    sale_id: int
    total_stock: int
    limit_per_buyer: int
    reserved: list[tuple[str, int]]  # (order_id, buyer_id) of every "reserved" answer
    min_remaining_answered: int | None = None  # lowest "remaining" in a reserved answer
    min_stock_sampled: int | None = None  # lowest stock the sampler saw in Redis
    unanswered: int = 0  # requests without an HTTP answer: their outcome is unknown
    baseline_order_ids: list[str] = field(default_factory=list)
    baseline_units_sold: int = 0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Answers":
        data = dict(data)
        data["reserved"] = [tuple(pair) for pair in data["reserved"]]
        return cls(**data)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class Verification:
    checks: list[Check]
    rows: int
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_json(self) -> dict:
        checks = [asdict(c) for c in self.checks]
        return {"passed": self.passed, "rows": self.rows, "checks": checks, "notes": self.notes}


def _ids(ids) -> str:
    ids = sorted(ids)
    shown = ", ".join(ids[:3])
    return shown + (f" … (+{len(ids) - 3})" if len(ids) > 3 else "")


def verify(answers: Answers) -> Verification:
    sale_id, limit = answers.sale_id, answers.limit_per_buyer
    baseline = set(answers.baseline_order_ids)
    rows = [
        (str(order_id), buyer_id, status)
        for order_id, buyer_id, status in Order.objects.filter(sale_id=sale_id).values_list(
            "order_id", "buyer_id", "status"
        )
        if str(order_id) not in baseline
    ]
    confirmed = [r for r in rows if r[2] in HOLDS_A_UNIT]  # written, and not given back
    stock = inventory.total_and_left(sale_id)
    held = inventory.held_by_buyer(sale_id)

    reserved = len(answers.reserved)
    answered_ids = {order_id for order_id, _ in answers.reserved}
    row_ids = {order_id for order_id, _, _ in rows}
    checks = []

    if stock is None:
        taken_text, taken = "sale not in Redis", None
    else:
        total, left = stock
        taken = total - left - answers.baseline_units_sold
        taken_text = f"units taken from Redis {taken} (total {total} - stock {left}"
        taken_text += f" - {answers.baseline_units_sold} sold before)" if answers.baseline_units_sold else ")"
    checks.append(
        Check(
            "confirmed rows = reserved answers = units taken",
            len(confirmed) == reserved == taken,
            f"confirmed rows {len(confirmed)}, reserved answers {reserved}, {taken_text}",
        )
    )

    per_buyer = Counter(buyer for _, buyer, status in rows if status in HOLDS_A_UNIT)
    over = {b: n for b, n in per_buyer.items() if n > limit}
    checks.append(
        Check(
            "no buyer above the limit (order rows)",
            not over,
            f"limit {limit}; {len(per_buyer)} buyers with rows, most rows of one buyer "
            f"{max(per_buyer.values(), default=0)}, buyers above the limit {len(over)}",
        )
    )
    over_redis = {b: n for b, n in held.items() if n > limit}
    checks.append(
        Check(
            "no buyer above the limit (Redis buyers hash)",
            not over_redis,
            f"limit {limit}; {len(held)} buyers hold units, most units of one buyer "
            f"{max(held.values(), default=0)}, buyers above the limit {len(over_redis)}",
        )
    )

    missing = answered_ids - row_ids
    duplicates = reserved - len(answered_ids)
    checks.append(
        Check(
            "every answered order_id has a row",
            not missing and not duplicates,
            f"{len(answered_ids)} answered order ids, {len(missing)} without a row"
            + (f" ({_ids(missing)})" if missing else "")
            + (f", {duplicates} answered twice" if duplicates else ""),
        )
    )
    extra = row_ids - answered_ids
    checks.append(
        Check(
            "no row whose order_id was not answered",
            not extra,
            f"{len(row_ids)} rows, {len(extra)} never answered" + (f" ({_ids(extra)})" if extra else ""),
        )
    )

    lows = {
        "stock now": stock[1] if stock is not None else None,
        "lowest sampled": answers.min_stock_sampled,
        "lowest answered": answers.min_remaining_answered,
    }
    known = {k: v for k, v in lows.items() if v is not None}
    checks.append(
        Check(
            "Redis stock never negative",
            bool(known) and min(known.values()) >= 0,
            ", ".join(f"{k} {v}" for k, v in known.items()) or "no stock value seen",
        )
    )

    notes = []
    if answers.unanswered:
        notes.append(
            f"{answers.unanswered} requests got no HTTP answer (network error or time-out): a unit each of them "
            "took would show up as a row nobody was told about."
        )
    return Verification(checks=checks, rows=len(confirmed), notes=notes)
