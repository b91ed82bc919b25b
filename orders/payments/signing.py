"""Webhook signatures: ``Seckill-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The HMAC is over ``"<t>.<body>"`` with the provider's secret (Stripe's scheme): the
timestamp is signed with the body, so an old body cannot be replayed with a new time,
and one older than the tolerance is refused even with a valid signature.
"""

import hashlib
import hmac
import time

HEADER = "Seckill-Signature"


class BadSignature(ValueError):
    """The webhook is not signed by the provider, or is too old (the text says which)."""


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(body: bytes, header: str | None, secret: str, tolerance: int, now: float | None = None) -> None:
    """Raise ``BadSignature`` unless ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    if not header:
        raise BadSignature(f"no {HEADER} header")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise BadSignature(f"malformed {HEADER} header") from None
    now = time.time() if now is None else now
    if abs(now - t) > tolerance:
        raise BadSignature(f"timestamp {t} is more than {tolerance} s from now")
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise BadSignature("signature does not match")
