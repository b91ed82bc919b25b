"""The one reader of the environment: strict where django-environ is lenient."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from seckill_site.environment import env


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("TRUE", True), (" on ", True), ("no", False), ("", False)])
def test_booleans(monkeypatch, raw, value):
    monkeypatch.setenv("SECKILL_FLAG", raw)
    assert env.bool("SECKILL_FLAG", default=not value) is value


@pytest.mark.parametrize(
    ("cast", "raw", "message"),
    [
        ("bool", "ture", "SECKILL_VALUE must be a boolean"),  # django-environ alone: False
        ("float", "5s", "SECKILL_VALUE must be a number, got '5s'"),  # django-environ alone: 5.0
        ("float", "0.5.1", "SECKILL_VALUE must be a number"),  # django-environ alone: 5.1
        ("int", "10k", "SECKILL_VALUE must be an integer, got '10k'"),
    ],
)
def test_a_value_that_does_not_parse_names_its_variable(monkeypatch, cast, raw, message):
    monkeypatch.setenv("SECKILL_VALUE", raw)
    with pytest.raises(ImproperlyConfigured, match=message):
        getattr(env, cast)("SECKILL_VALUE", default=None)


def test_defaults_and_lists(monkeypatch):
    monkeypatch.delenv("SECKILL_HOSTS", raising=False)
    assert env.list("SECKILL_HOSTS", default=["localhost"]) == ["localhost"]
    assert env.float("SECKILL_HOSTS", default=1.5) == 1.5
    monkeypatch.setenv("SECKILL_HOSTS", " a.example, b.example,,")
    assert env.list("SECKILL_HOSTS", default=[]) == ["a.example", "b.example"]


def test_a_required_variable(monkeypatch):
    monkeypatch.delenv("SECKILL_SECRET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="Set the SECKILL_SECRET environment variable"):
        env.str("SECKILL_SECRET")


def test_a_leading_dollar_can_be_escaped(monkeypatch):
    monkeypatch.setenv("SECKILL_SECRET", r"\$ecret")
    assert env.str("SECKILL_SECRET") == "$ecret"


def test_database_urls(monkeypatch):
    monkeypatch.setenv("SECKILL_DB", "mariadb://shop:p%40ss@db.internal/seckill")
    assert env.mysql_database("SECKILL_DB", default="") == {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "seckill",
        "USER": "shop",
        "PASSWORD": "p@ss",
        "HOST": "db.internal",
        "PORT": "3306",
    }
    for bad, message in [("postgres://a@b/c", "must be mysql://"), ("mysql://a@b:3306/", "has no database name")]:
        monkeypatch.setenv("SECKILL_DB", bad)
        with pytest.raises(ImproperlyConfigured, match=message):
            env.mysql_database("SECKILL_DB", default="")
