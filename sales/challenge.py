"""The proof-of-work puzzle a buyer solves before a gated sale admits them (issue 14).

Why proof of work rather than an image captcha: it needs no third party and no tracking,
works the same for a screen reader, and puts a price on every attempt that a bot farm pays
many times over while one buyer pays it once (``difficulty`` bits: about 2**difficulty
SHA-256 hashes on average; what that costs on a phone is for the page's solver to measure).

A challenge is stateless for the server: ``seed`` is signed (Django's ``TimestampSigner``,
its own salt) over the sale, the buyer, the difficulty and a random nonce, so checking a
solution needs no storage and a seed cannot be moved to another buyer or sale, or made
easier. A solution is ``counter`` such that ``sha256(seed + ":" + counter)`` starts with
``difficulty`` zero bits. That a seed is used once is not decided here: the pass it earns
is single-use in Redis, keyed by the seed's nonce.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.core import signing

SALT = "seckill.challenge"
MAX_DIFFICULTY = 32  # bits; 2**32 hashes is far beyond what a buyer's page should do
MAX_AGE = 120  # seconds a seed stays solvable


class ChallengeFailed(Exception):
    """The solution does not admit the buyer; the text says why (safe to show)."""


@dataclass(frozen=True, slots=True)
class Challenge:
    seed: str
    difficulty: int


@dataclass(frozen=True, slots=True)
class Solved:
    sale_id: int
    buyer_id: int
    nonce: str  # what makes the pass single-use


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def issue(sale_id: int, buyer_id: int, difficulty: int) -> Challenge:
    if not 0 <= difficulty <= MAX_DIFFICULTY:
        raise ValueError(f"difficulty must be 0..{MAX_DIFFICULTY} bits, not {difficulty}")
    seed = _signer().sign(f"{sale_id}.{buyer_id}.{difficulty}.{secrets.token_hex(8)}")
    return Challenge(seed=seed, difficulty=difficulty)


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def digest(seed: str, counter: int) -> bytes:
    return hashlib.sha256(f"{seed}:{counter}".encode()).digest()


def solve(challenge: Challenge) -> int:
    """The smallest counter that solves the challenge: what the page's script does, for the
    load generator's human buyers and the tests."""
    counter = 0
    while leading_zero_bits(digest(challenge.seed, counter)) < challenge.difficulty:
        counter += 1
    return counter


def verify(seed: str, counter: int, *, sale_id: int, buyer_id: int, max_age: int = MAX_AGE) -> Solved:
    """Check a solution for this sale and buyer; raises ``ChallengeFailed``."""
    try:
        value = _signer().unsign(seed, max_age=max_age)
    except signing.SignatureExpired:
        raise ChallengeFailed("challenge expired") from None
    except signing.BadSignature:
        raise ChallengeFailed("invalid challenge") from None
    seed_sale, seed_buyer, difficulty, nonce = value.split(".")
    if (int(seed_sale), int(seed_buyer)) != (sale_id, buyer_id):
        raise ChallengeFailed("challenge for another buyer or sale")
    if counter < 0 or leading_zero_bits(digest(seed, counter)) < int(difficulty):
        raise ChallengeFailed("wrong solution")
    return Solved(sale_id=sale_id, buyer_id=buyer_id, nonce=nonce)
