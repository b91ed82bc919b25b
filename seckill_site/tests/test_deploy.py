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


def test_the_systemd_recipe_runs_the_commands_of_the_code():
    """deploy/systemd's units start what scripts/serve.py starts: the server's own command line
    (seckill_site.servers) and management commands that exist and take those options."""
    import shlex

    from conftest import ROOT
    from seckill_site import servers

    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    commands = [
        shlex.split(line.split("=", 1)[1])
        for unit in units
        for line in unit.read_text().splitlines()
        if (line.startswith("ExecStart=") and "manage.py" in line)
        or (line.startswith("ExecStart=") and "granian" in line)
    ]
    web = next(c for c in commands if "granian" in c)
    expected = servers.command("granian", host="127.0.0.1", port=8000, workers=2)
    assert web[1:] == expected[1:], "deploy/systemd/seckill-web.service differs from seckill_site.servers"
    managed = {tuple(c[2:]) for c in commands if "manage.py" in c}
    assert {c[0] for c in managed} >= {"consume_orders", "publish_stock", "reconcile", "expire_orders", "migrate"}
    for args in managed:
        done = run_manage(*args, "--help")
        assert done.returncode == 0, (args, done.stderr)
