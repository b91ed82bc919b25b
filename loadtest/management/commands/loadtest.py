import json
from dataclasses import fields
from pathlib import Path
from typing import TextIO, cast

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console

from loadtest.client import SiteMismatch
from loadtest.report import print_summary, print_verification, result_to_json, write_json
from loadtest.runner import run_loadtest
from loadtest.scenarios import DEFAULT_URL, SCENARIOS, LoadTestConfig, build_config
from loadtest.verify import Answers, verify


class Command(BaseCommand):
    help = (
        "Drive a running site over HTTP like a crowd of buyers, then wait for consume_orders and verify that "
        "answers, Redis and the order rows agree. The site must use the same Redis and database as this command. "
        "Exits with status 1 when an invariant fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help=f"Base URL of the running site (default {DEFAULT_URL}).")
        parser.add_argument(
            "--scenario",
            choices=sorted(SCENARIOS),
            help=f"Preset: {_describe_scenarios()}. Options given explicitly override the preset's values.",
        )
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--sale", type=int, dest="sale_id", help="Use this existing, open sale.")
        target.add_argument(
            "--stock",
            type=int,
            help=f"Create a fresh sale with this many units for the run (default {LoadTestConfig.stock}).",
        )
        for option, kind, text in _SETTING_OPTIONS:
            default = getattr(LoadTestConfig, option[2:].replace("-", "_"))
            shown = "off" if default is None else f"{default:g}"
            parser.add_argument(option, type=kind, help=f"{text} (default {shown}).")
        parser.add_argument(
            "--no-warmup",
            dest="warmup",
            action="store_const",
            const=False,
            help="Do not open the connections before the sale starts.",
        )
        parser.add_argument(
            "--gate",
            action="store_const",
            const=True,
            help="The fresh sale requires a purchase pass: every human earns one through the challenge first.",
        )
        parser.add_argument("--report", metavar="FILE.html", help="Write a self-contained HTML report with charts.")
        parser.add_argument("--json", metavar="FILE", help="Write every figure, and the answers, as JSON.")
        parser.add_argument(
            "--verify-from",
            metavar="FILE",
            help="Send nothing: verify again the run saved in this --json file (e.g. after the consumer caught up).",
        )

    def handle(self, *args, verify_from=None, **options):
        stream = cast(TextIO, self.stdout._out)  # the wrapped stream, which django-stubs leaves undeclared
        console = Console(file=stream, width=None if self.stdout.isatty() else 130)
        if verify_from:
            return self.verify_again(console, verify_from)
        explicit = {k: options[k] for k in _SETTINGS}
        try:
            config = build_config(options["scenario"], **explicit)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        problems = config.problems()
        if problems:
            raise CommandError("; ".join(problems))
        try:
            result = run_loadtest(config, console)
        except (SiteMismatch, LookupError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        print_summary(console, result)
        if config.json or config.report:
            data = result_to_json(result)
            if config.json:
                write_json(config.json, data)
                console.print(f"JSON written to {config.json}", highlight=False)
            if config.report:
                from loadtest.html_report import write_report

                write_report(config.report, data)
                console.print(f"report written to {config.report}", highlight=False)
        if not result.verification.passed:
            raise CommandError("verification failed")

    def verify_again(self, console: Console, path: str) -> None:
        try:
            data = json.loads(Path(path).read_text())
            answers = Answers.from_json(data["answers"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"cannot read a load-test result from {path}: {exc}") from None
        verification = verify(answers)
        print_verification(console, verification)
        if not verification.passed:
            raise CommandError("verification failed")


# The run's settings with a plain value: (option, type, help); each default is LoadTestConfig's.
_SETTING_OPTIONS = (
    ("--limit-per-buyer", int, "Units one buyer may take in a fresh sale"),
    ("--start-in", float, "Seconds between the buyers being ready and the fresh sale's start"),
    ("--buyers", int, "Distinct buyers, created in bulk with tokens"),
    ("--ramp", float, "Seconds over which the buyers' first requests are spread evenly; 0 = all at once"),
    ("--concurrency", int, "Open connections, i.e. requests in flight"),
    ("--processes", int, "Generator processes to spread the buyers and connections over, when one is saturated"),
    ("--attempts", int, "Requests per buyer, one after the other, to exercise the per-buyer and rate limits"),
    ("--timeout", float, "Seconds one request may take"),
    ("--drain-timeout", float, "Seconds to wait for consume_orders to write every reserved order"),
    (
        "--pay-ratio",
        float,
        "After the drain, winners pay with this probability and the rest expire (loadtest/payments.py)",
    ),
    ("--payment-window", float, "Seconds the fresh sale gives to pay, with --pay-ratio"),
    ("--bots", int, "Scripted buyers that skip the page, beside the humans (loadtest/bots.py says which tricks)"),
    ("--challenge-bits", int, "Proof-of-work bits of the fresh sale, with --gate"),
    ("--pass-multiple", int, "Purchase passes of the fresh sale, as a multiple of its stock, with --gate"),
)
# Options that are settings of the run (LoadTestConfig fields), as opposed to --scenario/--verify-from.
_SETTINGS = tuple(f.name for f in fields(LoadTestConfig) if f.name != "scenario")


def _describe_scenarios() -> str:
    return "; ".join(
        f"{name} = stock {preset['stock']:,}, {preset['buyers']:,} buyers "
        + (f"over {preset['ramp']:g} s" if preset.get("ramp") else "at once")
        for name, preset in SCENARIOS.items()
    )
