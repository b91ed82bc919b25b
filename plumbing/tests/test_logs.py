"""JSON log lines: the formatter, and the setting that picks it (in a fresh process)."""

import logging
import os
import subprocess
import sys

import orjson

from conftest import ROOT
from plumbing.logs import JsonLines

EMIT = (
    "import django; django.setup(); import logging; "
    "logging.getLogger('orders.test').warning('unit %s back', 3, extra={'sale_id': 7, 'order_id': 'abc'})"
)


def test_a_record_becomes_one_json_line_with_its_ids():
    record = logging.LogRecord("orders.x", logging.WARNING, __file__, 1, "sale %s: %s", (7, "late"), None)
    record.sale_id, record.buyer_id = 7, 42
    line = orjson.loads(JsonLines().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "orders.x", "sale 7: late")
    assert (line["sale_id"], line["buyer_id"]) == (7, 42)
    assert "order_id" not in line and line["ts"].endswith("+00:00")


def emitted(**env) -> str:
    done = subprocess.run(
        [sys.executable, "-c", EMIT],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "seckill_site.settings.base", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.strip()


def test_json_outside_development_text_in_it_and_either_when_asked():
    production = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50, "PAYMENT_WEBHOOK_SECRET": "s"}
    line = orjson.loads(emitted(**production))
    assert (line["message"], line["sale_id"], line["order_id"]) == ("unit 3 back", 7, "abc")
    assert emitted(DJANGO_DEBUG="true").endswith("WARNING orders.test unit 3 back")
    assert orjson.loads(emitted(DJANGO_DEBUG="true", SECKILL_LOG_FORMAT="json"))["logger"] == "orders.test"
