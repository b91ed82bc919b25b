import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.notify import notify_confirmed
from orders.worker import order_worker


class Command(BaseCommand):
    help = (
        "Consume order events from Kafka and write them as order rows. Run several "
        "copies to share the topic's partitions. SIGTERM/SIGINT finish the batch in hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="Most events written in one transaction.")
        parser.add_argument("--batch-timeout", type=int, default=100, help="Milliseconds to wait to fill a batch.")
        parser.add_argument("--max-messages", type=int, default=None, help="Exit after this many events.")
        parser.add_argument("--group", default=settings.ORDERS_CONSUMER_GROUP, help="Kafka consumer group id.")

    def handle(self, *args, batch_size, batch_timeout, max_messages, group, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if batch_timeout < 1:
            raise CommandError("--batch-timeout must be at least 1 ms")
        if max_messages is not None and max_messages < 1:
            raise CommandError("--max-messages must be at least 1")
        written = 0

        def committed(result):
            nonlocal written
            written += len(result.written)
            notify_confirmed(result)

        worker = order_worker(
            group_id=group,
            batch_size=batch_size,
            batch_timeout=batch_timeout / 1000,
            max_messages=max_messages,
            on_committed=committed,
        )
        signal.signal(signal.SIGTERM, worker.stop)
        signal.signal(signal.SIGINT, worker.stop)
        self.stdout.write(f"consuming {settings.ORDERS_TOPIC} as group {group}")
        self.stdout.flush()
        worker.run()
        self.stdout.write(f"stopped: {worker.processed} events, {written} rows written")
