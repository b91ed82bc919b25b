"""The admission gate's Prometheus metrics (exposed by ``plumbing.metrics``)."""

from plumbing.metrics import BufferedCounter, Counter

# Requests the deny list refused (buys, passes, challenges), by what matched: buyer or address.
# On the buy path, so buffered (plumbing.metrics._Buffered says why).
DENIED = BufferedCounter(Counter("seckill_denied_requests", "Requests refused by the deny list.", ["kind"]))
PASS_ANSWERS = Counter("seckill_pass_answers", "Purchase-pass requests answered, by the answer's status.", ["status"])
CHALLENGES = Counter("seckill_challenges_issued", "Proof-of-work challenges handed out.")
