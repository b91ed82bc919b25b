from django.core.management.base import BaseCommand, CommandError

from plumbing import heartbeat

# What scripts/run starts besides the web processes: each must be beating somewhere.
EXPECTED = ("consume_orders", "publish_stock", "reconcile", "expire_orders")


class Command(BaseCommand):
    help = (
        "List the workers whose loops beat within the last 30 s (plumbing/heartbeat.py); exit 1 if one of "
        f"{', '.join(EXPECTED)} has none."
    )

    def handle(self, *args, **options):
        beating = heartbeat.alive()
        self.stdout.write(f"{'worker':<16}{'host':<24}{'pid':>8}{'last beat':>12}")
        for name, host, pid, age in beating:
            self.stdout.write(f"{name:<16}{host:<24}{pid:>8}{age:>10.1f} s")
        missing = sorted(set(EXPECTED) - {name for name, *_ in beating})
        if missing:
            raise CommandError(f"no heartbeat from: {', '.join(missing)}")
        self.stdout.write("every worker is beating")
