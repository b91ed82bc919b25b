"""JSON lines for the logs (``SECKILL_LOG_FORMAT=json``, the default outside development).

One object per line: time, level, logger, message, and the ids a record carries in
``extra`` (``sale_id``, ``order_id``, ``buyer_id``, ``payment_id``), so a log pipeline can
follow one order or one sale across processes; the traceback, if any, as ``exc``.
"""

import logging
from datetime import UTC, datetime

import orjson

IDS = ("sale_id", "order_id", "buyer_id", "payment_id")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in IDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value if isinstance(value, int) else str(value)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()
