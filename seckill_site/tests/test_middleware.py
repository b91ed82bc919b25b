"""``seckill_site.middleware.ApiErrors``: every error under /api/ in JSON, with DEBUG on too."""

import pytest


@pytest.mark.parametrize("debug", [True, False])
def test_a_host_not_allowed_is_a_json_400_under_api(client, settings, debug):
    settings.DEBUG = debug
    settings.ALLOWED_HOSTS = ["shop.example"]
    response = client.get("/api/orders/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "bad_request"
    assert client.get("/api/nothing-here", HTTP_HOST="shop.example").json()["status"] == "not_found"
