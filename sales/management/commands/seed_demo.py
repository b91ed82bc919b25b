import os
import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from sales.models import Sale
from sales.services import create_sale


class Command(BaseCommand):
    help = "Development set-up: an admin account and a demo sale, unless they exist already."

    def handle(self, *args, **options):
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            password = os.environ.get("SECKILL_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            User.objects.create_superuser("admin", "admin@example.invalid", password)
            self.stdout.write(f"admin account: admin / {password}  (shown once; manage.py changepassword admin)")
        else:
            self.stdout.write("admin account exists (reset it with: python manage.py changepassword admin)")
        if Sale.objects.filter(ends_at__gt=timezone.now()).exists():
            self.stdout.write("a sale is open or upcoming; no demo sale created")
            return
        sale = create_sale(
            title="Demo: limited sneakers",
            description="100 pairs, one per buyer.",
            stock=100,
            price=Decimal("99.00"),
            starts_at=timezone.now() + timedelta(seconds=30),
            duration=timedelta(hours=2),
        )
        self.stdout.write(f"demo sale {sale.pk} created: starts in 30 s, 100 units")
