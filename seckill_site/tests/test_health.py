"""``/healthz`` and ``/readyz`` over the wire, with Redis stopped and started again."""

import httpx
import pytest

from conftest import stack, wait_until

pytestmark = pytest.mark.slow


def get(site, path):
    r = httpx.get(f"{site.url}{path}", timeout=10)
    return r.status_code, r.json()


def test_healthz_answers_and_readyz_says_what_is_down(live_site):
    assert get(live_site, "/healthz") == (200, {"status": "ok"})
    wait_until(lambda: get(live_site, "/readyz") == (200, {"status": "ready"}), 15, "ready")

    stack("stop", "redis")
    try:
        wait_until(
            lambda: get(live_site, "/readyz") == (503, {"status": "unready", "failing": ["redis"]}), 15, "unready"
        )
        assert get(live_site, "/healthz") == (200, {"status": "ok"})  # the process itself is fine
    finally:
        stack("start", "redis")
    wait_until(lambda: get(live_site, "/readyz") == (200, {"status": "ready"}), 15, "ready again")
    assert httpx.post(f"{live_site.url}/healthz").status_code != 200  # GET and HEAD only
