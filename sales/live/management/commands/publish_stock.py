import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from sales.live.ticker import StockTicker


class Command(BaseCommand):
    help = (
        "Push each running sale's stock to its websocket viewers, at most every --interval "
        "seconds. One copy leads site-wide; more copies are standbys."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.1, help="Seconds between ticks (default 0.1).")

    def handle(self, *args, interval, **options):
        if not 0.01 <= interval <= 10:
            raise CommandError("--interval must be between 0.01 and 10 seconds")
        ticker = StockTicker(interval=interval)

        async def main():
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, ticker.stop)
            loop.add_signal_handler(signal.SIGINT, ticker.stop)
            await ticker.run()

        self.stdout.write(f"publishing stock every {interval}s")
        self.stdout.flush()
        asyncio.run(main())
        self.stdout.write(f"stopped after {ticker.messages_sent} messages")
