"""Buyers are Django users; these mint them in bulk and sign their API tokens.

A token is ``<buyer id>:<timestamp>:<signature>`` from Django's
``TimestampSigner``: checking one needs no database or Redis round trip,
which is what the buy hot path can afford.
"""

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import signing

if TYPE_CHECKING:  # a model: importing it needs the app registry ready
    from django.contrib.auth.models import User

TOKEN_SALT = "seckill.buyer-token"
_signer = None


class InvalidToken(Exception):
    """The token is malformed, forged or expired; the text says which."""


def _get_signer() -> signing.TimestampSigner:
    global _signer
    if _signer is None:
        _signer = signing.TimestampSigner(salt=TOKEN_SALT)
    return _signer


def mint_token(buyer_id: int) -> str:
    return _get_signer().sign(str(buyer_id))


def buyer_from_token(token: str) -> int:
    try:
        value = _get_signer().unsign(token, max_age=settings.BUYER_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidToken("token expired") from None
    except signing.BadSignature:
        raise InvalidToken("invalid token") from None
    return int(value)


def buyer_from_authorization(header: str) -> int:
    """The buyer of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("use Authorization: Bearer <token>")
    return buyer_from_token(token.strip())


def create_buyers(count: int, prefix: str = "buyer", batch_size: int = 2000) -> list[int]:
    """Create ``count`` buyer accounts quickly and return their ids.

    No password is hashed: the accounts get Django's unusable password and
    sign in with their token.
    """
    User = get_user_model()
    run = uuid.uuid4().hex[:10]
    unusable = make_password(None)
    ids: list[int] = []
    for start in range(0, count, batch_size):
        names = [f"{prefix}-{run}-{n}" for n in range(start, min(start + batch_size, count))]
        User.objects.bulk_create([User(username=name, password=unusable) for name in names])
        by_name = dict(User.objects.filter(username__in=names).values_list("username", "id"))
        ids.extend(by_name[name] for name in names)
    return ids


def create_guest() -> "User":
    User = get_user_model()
    return User.objects.create(username=f"guest-{uuid.uuid4().hex[:12]}", password=make_password(None))
