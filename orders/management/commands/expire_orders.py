from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from redis.exceptions import RedisError

from orders import lifecycle, metrics
from plumbing import heartbeat
from plumbing.stopping import StopOnSignal


class Command(BaseCommand):
    help = (
        "Expire orders unpaid at their pay_by and give their units back to the sale, once each "
        "(orders/lifecycle.py). Runs until SIGTERM/SIGINT, a round every EXPIRE_INTERVAL seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One round (expire, return units), then exit.")

    def handle(self, *args, once, **options):
        stop = StopOnSignal()
        self.stdout.write(f"expiring unpaid orders every {settings.EXPIRE_INTERVAL:g} s")
        self.stdout.flush()
        while not stop.requested:
            heartbeat.beat("expire_orders")
            try:
                expired = lifecycle.expire()
                returned = lifecycle.return_units()
            except (DatabaseError, RedisError) as exc:  # a service away: the next round does it
                self.stderr.write(f"round failed: {exc!r}")
                expired = returned = 0
            metrics.ORDERS_EXPIRED.inc(expired)
            metrics.UNITS_RETURNED.inc(returned)
            if expired or returned:
                self.stdout.write(f"expired {expired} order(s); {returned} unit(s) back on sale")
                self.stdout.flush()
            if once:
                break
            if expired < 1000:  # a full round may have more waiting
                stop.wait(settings.EXPIRE_INTERVAL)
