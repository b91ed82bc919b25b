from django.core.management.base import BaseCommand, CommandError

from sales import audit_log
from sales.models import Sale


class Command(BaseCommand):
    help = (
        "Freeze a sale's audit log with its head (after the sale) and print the head: publish it "
        "where buyers can see it; GET /api/sales/<id>/audit serves the frozen log from then on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sale", type=int, required=True)

    def handle(self, *args, sale, **options):
        found = Sale.objects.filter(pk=sale).first()
        if found is None:
            raise CommandError(f"no sale {sale}")
        published = audit_log.publish(found)
        self.stdout.write(f"sale {sale}: {published.entries} entries; head")
        self.stdout.write(published.head)
