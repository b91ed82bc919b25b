from django.core.management.base import BaseCommand, CommandError

from sales.buyers import create_buyers, mint_token


class Command(BaseCommand):
    help = "Create N buyer accounts (no password hashing) and print '<buyer_id>\\t<token>' per buyer."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)

    def handle(self, *args, count, **options):
        if count < 1:
            raise CommandError("--count must be at least 1")
        lines = [f"{buyer_id}\t{mint_token(buyer_id)}" for buyer_id in create_buyers(count)]
        self.stdout.write("\n".join(lines))
