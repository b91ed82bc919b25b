"""What the live side measures (exposed by ``plumbing.metrics``): set by the stock ticker."""

from plumbing.metrics import Gauge

STOCK_REMAINING = Gauge(
    "seckill_stock_remaining", "Units left in a running sale.", ["sale"], multiprocess_mode="mostrecent"
)
LIVE_VIEWERS = Gauge(
    "seckill_live_viewers", "Open websockets watching a running sale.", ["sale"], multiprocess_mode="mostrecent"
)
