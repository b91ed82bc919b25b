import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from redis.exceptions import RedisError

from orders import metrics
from orders.reconcile import Repairer, Repairs, check
from orders.reconcile import repair as repair_all
from plumbing import heartbeat
from plumbing.kafka.offsets import BrokerUnavailable, GroupOffsets
from plumbing.stopping import StopOnSignal

HEADER = ("sale", "total", "in stock", "held", "confirmed", "rows", "abandoned")


class Command(BaseCommand):
    help = (
        "Compare, per sale, Redis (stock, holds, confirmed), the order rows and the order topic; print one "
        "table and exit 1 on a difference that work in flight does not explain. --repair gives back "
        "abandoned holds and rebuilds from the rows and the topic a sale Redis lost; --every N does it "
        "all again every N seconds until SIGTERM (orders/reconcile.py says what is checked)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sale", type=int, action="append", dest="sales", help="Only this sale (repeatable).")
        parser.add_argument("--repair", action="store_true", help="Repair what is safe, then check again.")
        parser.add_argument("--group", default=settings.ORDERS_CONSUMER_GROUP, help="The order consumer group.")
        parser.add_argument(
            "--every",
            type=float,
            nargs="?",
            const=settings.HOLD_SWEEP_INTERVAL,
            metavar="SECONDS",
            help="Run until stopped: a repair round every SECONDS (default HOLD_SWEEP_INTERVAL).",
        )
        parser.add_argument(
            "--check-every",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="With --every: compare the counts (which reads every row count) every SECONDS, logging changes.",
        )

    def handle(self, *args, sales, repair: bool, group, every, check_every, **options):
        offsets = GroupOffsets(settings.ORDERS_TOPIC, group, client_id="seckill-reconcile")
        try:
            if every:
                return self._watch(offsets, sales, repair, every, check_every)
            if repair:
                self._report_repairs(repair_all(offsets, check(sales, offsets.lag())))
            lag = offsets.lag()
            checks = check(sales, lag)
        except BrokerUnavailable as exc:
            raise CommandError(f"Kafka did not answer: {exc}") from exc
        finally:
            offsets.close()
        self.stdout.write(f"order events not yet read by group {group}: {lag}")
        self._table(checks)
        if any(c.problems for c in checks):
            raise CommandError("differences found")

    def _table(self, checks) -> None:
        self.stdout.write("".join(f"{h:>11}" for h in HEADER) + "  differences")
        for c in checks:
            stock = "-" if c.in_stock is None else c.in_stock
            cells = (c.sale_id, c.total, stock, c.held, c.confirmed, c.rows, c.abandoned)
            self.stdout.write("".join(f"{v:>11}" for v in cells) + "  " + ("; ".join(c.problems) or "none"))

    def _report_repairs(self, done: Repairs) -> None:
        self.stdout.write(f"repair: gave back {len(done.released)} abandoned hold(s)")
        for sale_id, order_id in done.released:
            self.stdout.write(f"  sale {sale_id}: order {order_id}")
        for r in done.restored:
            self.stdout.write(
                f"repair: rebuilt sale {r.sale_id} in Redis from {r.rows} row(s) and {r.unread} unread event(s); "
                f"{r.remaining} in stock"
            )
        if done.waiting:
            self.stdout.write("repair: not finished (the order consumer is behind, or a rebuild still waits)")
        self.stdout.flush()

    def _watch(self, offsets, sales, repair: bool, every: float, check_every: float) -> None:
        """Repair rounds are cheap (Redis reads and the group's offsets); a check counts rows, so
        it runs less often. Holds and unchecked sales are found by the repair round itself."""
        stop = StopOnSignal()
        repairer = Repairer(offsets) if repair else None
        self.stdout.write(f"reconciling every {every:g} s{' and repairing' if repair else ''}")
        self.stdout.flush()
        reported, checked_at = None, None
        while not stop.requested:
            heartbeat.beat("reconcile")
            try:
                checks = []
                if checked_at is None or time.monotonic() - checked_at >= check_every:
                    checked_at = time.monotonic()
                    checks = check(sales, offsets.lag())
                    problems = [(c.sale_id, p) for c in checks for p in c.problems]
                    if problems != reported:
                        for sale_id, problem in problems:
                            self.stderr.write(f"sale {sale_id}: {problem}")
                        reported = problems
                if checks:
                    metrics.RECONCILE_DIFFERENCES.set(sum(len(c.problems) for c in checks))
                if repairer is not None:
                    done = repairer.round(checks)
                    metrics.HOLDS_GIVEN_BACK.inc(len(done.released))
                    metrics.SALES_REBUILT.inc(len(done.restored))
                    if done.released or done.restored:
                        self._report_repairs(done)
            except (RedisError, DatabaseError, RuntimeError, OSError) as exc:  # a service away: next round
                self.stderr.write(f"round failed: {exc!r}")
            stop.wait(every)
