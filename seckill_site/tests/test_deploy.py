"""Production settings: ``manage.py check --deploy`` is clean with DEBUG off, and static files come
from whitenoise (with long-lived caching headers for hashed names, and compression)."""

import secrets

import httpx

from conftest import run_manage

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    "DJANGO_ALLOWED_HOSTS": "shop.example",
}


def test_check_deploy_is_clean_with_debug_off():
    done = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_static_files_come_from_whitenoise(live_site):
    r = httpx.get(f"{live_site.url}/static/sales/buy.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert "max-age" in r.headers.get("cache-control", "")  # whitenoise's; Django's serve() sends none
