from django.core.management.base import BaseCommand, CommandError

from orders.topics import ensure_order_topics


class Command(BaseCommand):
    help = "Create the order topic and its dead-letter topic in Kafka (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--partitions", type=int, default=None, help="Partitions of the order topic.")

    def handle(self, *args, partitions, **options):
        if partitions is not None and partitions < 1:
            raise CommandError("--partitions must be at least 1")
        for line in ensure_order_topics(partitions):
            self.stdout.write(line)
