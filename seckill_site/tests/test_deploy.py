"""Production settings: ``manage.py check --deploy`` is clean under ``seckill_site.settings.production``,
which refuses development mode and missing secrets; static files come from whitenoise (with
long-lived caching headers for hashed names, and compression)."""

import os
import secrets
import shlex
import shutil
import subprocess
import sys

import httpx
import pytest
import yaml

from conftest import ROOT, run_manage, subprocess_env
from seckill_site import servers

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "seckill_site.settings.production",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
    "DJANGO_ALLOWED_HOSTS": "shop.example",
}


def test_check_deploy_is_clean_under_production_settings():
    done = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_check_deploy_finds_what_base_settings_leave_to_production():
    """The same check under the base settings: the warnings production.py exists to clear."""
    base = {**PRODUCTION, "DJANGO_SETTINGS_MODULE": "seckill_site.settings.base"}
    done = run_manage("check", "--deploy", "--fail-level", "WARNING", **base)
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):  # HSTS, redirect, cookies
        assert warning in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"DJANGO_DEBUG": "true"}, "production settings never run in development mode"),
        ({"DJANGO_SECRET_KEY": None}, "Set DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": ""}, "Set DJANGO_SECRET_KEY"),  # what compose passes for an unset one
        ({"PAYMENT_WEBHOOK_SECRET": None}, "Set PAYMENT_WEBHOOK_SECRET"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "Set the DJANGO_ALLOWED_HOSTS environment variable"),
        ({"SECURE_SSL_REDIRECT": "ture"}, "SECURE_SSL_REDIRECT must be a boolean"),
    ],
)
def test_production_settings_refuse_to_start_without_what_they_need(change, refusal):
    env = subprocess_env(**{k: v for k, v in {**PRODUCTION, **change}.items() if v is not None})
    for name, value in change.items():
        if value is None:
            env.pop(name, None)
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert refusal in done.stderr


def test_static_files_come_from_whitenoise(live_site):
    r = httpx.get(f"{live_site.url}/static/sales/buy.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert "max-age" in r.headers.get("cache-control", "")  # whitenoise's; Django's serve() sends none


def systemd_commands() -> list[list[str]]:
    """The commands deploy/systemd's units start (ExecStart of a python program)."""
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    return [
        shlex.split(line.split("=", 1)[1])
        for unit in units
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=") and ("manage.py" in line or "granian" in line)
    ]


def rendered_compose(**environment: str) -> dict:
    """docker/compose.yml's services as ``docker-compose config`` renders them (anchors merged,
    variables substituted from ``environment``)."""
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (scripts/test installs Debian's)")
    done = subprocess.run(
        ["docker-compose", "-f", "docker/compose.yml", "--profile", "demo", "config"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return yaml.safe_load(done.stdout)["services"]


def commands_of(service: dict) -> list[list[str]]:
    """A service's commands: a ``sh -c "a && b"`` is its commands a and b."""
    command = service.get("command") or []
    if isinstance(command, str):
        command = shlex.split(command)
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command] if command else []


def test_the_systemd_recipe_runs_the_commands_of_the_code():
    """deploy/systemd's units start what scripts/serve.py starts: the server's own command line
    (seckill_site.servers) and management commands that exist and take those options."""
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        assert "Environment=DJANGO_SETTINGS_MODULE=seckill_site.settings.production" in unit.read_text(), unit.name
    commands = systemd_commands()
    web = next(c for c in commands if "granian" in c)
    expected = servers.command("granian", host="127.0.0.1", port=8000, workers=2)
    assert web[1:] == expected[1:], "deploy/systemd/seckill-web.service differs from seckill_site.servers"
    managed = {tuple(c[2:]) for c in commands if "manage.py" in c}
    assert {c[0] for c in managed} >= {"consume_orders", "publish_stock", "reconcile", "expire_orders", "migrate"}
    for args in managed:
        done = run_manage(*args, "--help")
        assert done.returncode == 0, (args, done.stderr)


def test_compose_runs_the_image_with_the_commands_of_the_systemd_recipe():
    """One image for every role, and the same commands as the units (the web's on 0.0.0.0)."""
    services = rendered_compose()
    app = {name: service for name, service in services.items() if "build" in service}
    assert {service["image"] for service in app.values()} == {"seckill:latest"}
    assert {service["build"]["dockerfile"] for service in app.values()} == {"docker/Dockerfile"}

    (web,) = commands_of(services["web"])
    assert web[1:] == servers.command("granian", host="0.0.0.0", port=8000, workers=2)[1:]
    units = {tuple(c[2:]) for c in systemd_commands() if "manage.py" in c}
    composed = {tuple(c[2:]) for s in app.values() for c in commands_of(s) if c[:2] == ["python", "manage.py"]}
    assert composed - {("seed_demo",)} == units
    done = run_manage("seed_demo", "--help")
    assert done.returncode == 0, done.stderr


def test_compose_takes_production_settings_from_the_environment():
    web = rendered_compose(**PRODUCTION)["web"]["environment"]
    assert {name: web[name] for name in PRODUCTION} == PRODUCTION
