"""The proof-of-work puzzle: pure logic, no service."""

import subprocess
import time
from pathlib import Path

import pytest

from sales import challenge
from sales.challenge import ChallengeFailed


def test_a_solved_challenge_verifies_for_its_buyer_and_sale():
    c = challenge.issue(sale_id=7, buyer_id=42, difficulty=8)
    counter = challenge.solve(c)
    assert challenge.leading_zero_bits(challenge.digest(c.seed, counter)) >= 8
    solved = challenge.verify(c.seed, counter, sale_id=7, buyer_id=42)
    assert (solved.sale_id, solved.buyer_id) == (7, 42)
    assert solved.nonce and solved.nonce in c.seed


def test_two_challenges_have_different_nonces():
    a, b = (challenge.issue(sale_id=1, buyer_id=1, difficulty=0) for _ in range(2))
    assert a.seed != b.seed


@pytest.mark.parametrize(("sale_id", "buyer_id"), [(8, 42), (7, 43)])
def test_a_solution_does_not_move_to_another_buyer_or_sale(sale_id, buyer_id):
    c = challenge.issue(sale_id=7, buyer_id=42, difficulty=4)
    with pytest.raises(ChallengeFailed, match="another buyer or sale"):
        challenge.verify(c.seed, challenge.solve(c), sale_id=sale_id, buyer_id=buyer_id)


def test_a_wrong_solution_is_refused():
    c = challenge.issue(sale_id=7, buyer_id=42, difficulty=12)
    right = challenge.solve(c)
    wrong = next(
        n for n in range(right + 1, right + 100_000) if challenge.leading_zero_bits(challenge.digest(c.seed, n)) < 12
    )
    with pytest.raises(ChallengeFailed, match="wrong solution"):
        challenge.verify(c.seed, wrong, sale_id=7, buyer_id=42)
    with pytest.raises(ChallengeFailed, match="wrong solution"):
        challenge.verify(c.seed, -1, sale_id=7, buyer_id=42)


def test_an_easier_seed_cannot_be_forged():
    c = challenge.issue(sale_id=7, buyer_id=42, difficulty=20)
    value, _, _ = c.seed.rpartition(":")  # drop the signature
    forged = value.replace(".20.", ".0.") + ":" + c.seed.rsplit(":", 1)[1]
    with pytest.raises(ChallengeFailed, match="invalid challenge"):
        challenge.verify(forged, 0, sale_id=7, buyer_id=42)


def test_an_old_seed_has_expired():
    c = challenge.issue(sale_id=7, buyer_id=42, difficulty=0)
    time.sleep(1.1)
    with pytest.raises(ChallengeFailed, match="expired"):
        challenge.verify(c.seed, 0, sale_id=7, buyer_id=42, max_age=1)


def test_difficulty_is_bounded():
    with pytest.raises(ValueError):
        challenge.issue(sale_id=7, buyer_id=42, difficulty=challenge.MAX_DIFFICULTY + 1)


def test_leading_zero_bits():
    assert challenge.leading_zero_bits(b"\x00\x00\xff") == 16
    assert challenge.leading_zero_bits(b"\x00\x01") == 15
    assert challenge.leading_zero_bits(b"\x80") == 0
    assert challenge.leading_zero_bits(b"\x00\x00") == 16


def test_the_pages_solver_finds_what_the_server_accepts():
    """static/sales/challenge.js, run by Node, against the Python verifier (the browser test
    runs it in Chromium once the gate is on the page)."""
    c = challenge.issue(sale_id=7, buyer_id=42, difficulty=12)
    script = (
        "const c = require(process.argv[1]);"
        "process.stdout.write(String(c.solve(process.argv[2], Number(process.argv[3]))));"
    )
    solver = Path(__file__).resolve().parents[2] / "static" / "sales" / "challenge.js"
    done = subprocess.run(
        ["node", "-e", script, str(solver), c.seed, str(c.difficulty)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    counter = int(done.stdout)
    assert counter == challenge.solve(c)  # the smallest solution, found by both
    assert challenge.verify(c.seed, counter, sale_id=7, buyer_id=42).buyer_id == 42
