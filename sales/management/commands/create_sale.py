from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sales.services import create_sale


def _price(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise CommandError(f"--price must be a decimal number, got {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise CommandError(f"--price must be a non-negative number, got {raw!r}")
    return value


class Command(BaseCommand):
    help = "Create a sale and load its stock into Redis; prints the sale id as the last line."

    def add_arguments(self, parser):
        parser.add_argument("--title", required=True)
        parser.add_argument("--stock", type=int, required=True, help="Units offered.")
        parser.add_argument("--price", required=True, help="Unit price, e.g. 19.99")
        parser.add_argument("--starts-in", type=float, default=0, help="Seconds from now until the start.")
        parser.add_argument("--duration", type=float, default=3600, help="Seconds the sale stays open.")
        parser.add_argument("--limit-per-buyer", type=int, default=1)
        parser.add_argument("--description", default="")

    def handle(self, *args, title, stock, price, starts_in, duration, limit_per_buyer, description, **options):
        if stock < 0:
            raise CommandError("--stock cannot be negative")
        if duration <= 0:
            raise CommandError("--duration must be positive")
        if starts_in < 0:
            raise CommandError("--starts-in cannot be negative")
        try:
            sale = create_sale(
                title=title,
                stock=stock,
                price=_price(price),
                starts_at=timezone.now() + timedelta(seconds=starts_in),
                duration=timedelta(seconds=duration),
                limit_per_buyer=limit_per_buyer,
                description=description,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        starts = f"{sale.starts_at:%Y-%m-%d %H:%M:%S} UTC"
        self.stdout.write(f"sale {sale.title!r}: {sale.total_stock} units at {sale.price}, starts {starts}")
        self.stdout.write(str(sale.pk))
