from django.conf import settings
from django.core.management.base import BaseCommand
from redis.exceptions import RedisError

from orders.abandoned import AbandonedHolds, bound_ms
from plumbing.kafka.offsets import GroupOffsets
from plumbing.stopping import StopOnSignal


class Command(BaseCommand):
    help = (
        "Give back holds whose buy died before its order event reached Kafka, once no event for them "
        "can still arrive (orders/abandoned.py says why that is safe). Runs until SIGTERM/SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One sweep (waiting for the consumer), then exit.")
        parser.add_argument("--group", default=settings.ORDERS_CONSUMER_GROUP, help="The order consumer group.")

    def handle(self, *args, once, group, **options):
        stop = StopOnSignal()
        offsets = GroupOffsets(settings.ORDERS_TOPIC, group, client_id="seckill-release-abandoned")
        holds = AbandonedHolds(offsets)
        self.stdout.write(f"releasing holds abandoned for more than {bound_ms() / 1000:g} s (group {group})")
        self.stdout.flush()
        try:
            while not stop.requested:
                try:
                    sweep = holds.sweep()
                except (RedisError, RuntimeError, OSError) as exc:  # Redis or the broker away: try again later
                    self.stderr.write(f"sweep failed: {exc!r}")
                    sweep = None
                if sweep is not None and sweep.released:
                    self.stdout.write(f"gave back {len(sweep.released)} abandoned hold(s)")
                    self.stdout.flush()
                if once and sweep is not None and not sweep.waiting:
                    break
                stop.wait(settings.HOLD_SWEEP_INTERVAL)
        finally:
            offsets.close()
