from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.abandoned import AbandonedHolds
from orders.reconcile import check, repair
from plumbing.kafka.offsets import GroupOffsets


class Command(BaseCommand):
    help = (
        "Compare, per sale, Redis (stock, holds, confirmed), the order rows and the order topic; print one "
        "table and exit 1 on a difference that work in flight does not explain. --repair gives back "
        "abandoned holds (orders/reconcile.py says what is checked)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sale", type=int, action="append", dest="sales", help="Only this sale (repeatable).")
        parser.add_argument("--repair", action="store_true", help="Give back abandoned holds, then check again.")
        parser.add_argument("--group", default=settings.ORDERS_CONSUMER_GROUP, help="The order consumer group.")

    def handle(self, *args, sales, repair: bool, group, **options):
        offsets = GroupOffsets(settings.ORDERS_TOPIC, group, client_id="seckill-reconcile")
        try:
            if repair:
                released = _repair(offsets)
                self.stdout.write(f"repair: gave back {len(released)} abandoned hold(s)")
                for sale_id, order_id in released:
                    self.stdout.write(f"  sale {sale_id}: order {order_id}")
            lag = offsets.lag()
            checks = check(sales, lag)
        finally:
            offsets.close()
        self.stdout.write(f"order events not yet read by group {group}: {lag}")
        header = ("sale", "total", "in stock", "held", "confirmed", "rows", "abandoned")
        self.stdout.write("".join(f"{h:>11}" for h in header) + "  differences")
        for c in checks:
            stock = "-" if c.in_stock is None else c.in_stock
            cells = (c.sale_id, c.total, stock, c.held, c.confirmed, c.rows, c.abandoned)
            self.stdout.write("".join(f"{v:>11}" for v in cells) + "  " + ("; ".join(c.problems) or "none"))
        if any(c.problems for c in checks):
            raise CommandError("differences found")


def _repair(offsets):
    return repair(AbandonedHolds(offsets))
