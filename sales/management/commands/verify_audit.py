import json
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from sales import audit


def _get(url: str, token: str | None = None) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except (urllib.error.URLError, ValueError) as exc:
        raise CommandError(f"{url}: {exc}") from None


class Command(BaseCommand):
    help = (
        "Check a sale's served audit log: every hash, seq without a gap, time never back, ending at "
        "the published head (or --head); with --token, that the buyer's own entries are in it. "
        "Exits 1 when anything does not verify."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The site.")
        parser.add_argument("--sale", type=int, required=True)
        parser.add_argument("--head", help="The head the operator published (default: the one the site serves).")
        parser.add_argument("--token", help="A buyer's bearer token: check their own entries too.")

    def handle(self, *args, url, sale, head, token, **options):
        base = f"{url.rstrip('/')}/api/sales/{sale}/audit"
        log = _get(base)
        if log.get("status") != "ok":
            raise CommandError(f"{base}: {log}")
        head = head or log["head"]
        try:
            links = audit.from_json(log["entries"])
            audit.verify(sale, links, head)
            kinds = [link.entry.kind for link in links]
            self.stdout.write(
                f"sale {sale}: {len(links)} entries verified ({kinds.count('pass')} passes, "
                f"{kinds.count('reserved')} reservations, in seq order), ending at head {head}"
                + ("" if log["published"] else " (the log is not published yet)")
            )
            if token:
                mine = _get(f"{base}/mine", token)
                checked = audit.check_own(links, mine["entries"])
                self.stdout.write(f"buyer {mine['pseudonym']}: {checked} own entries in the log, unchanged")
        except audit.ChainBroken as exc:
            self.stderr.write(f"DOES NOT VERIFY: {exc}")
            raise SystemExit(1) from None
