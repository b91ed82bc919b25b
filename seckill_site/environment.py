"""The one reader of the environment: django-environ, made strict.

The settings, ``scripts/serve.py`` and the daphne launcher all read the environment through
``env`` here, so ``SECKILL_UVLOOP=false`` means the same thing everywhere. django-environ's own
casts are lenient where an operator would not expect it: a boolean it does not know is
``False`` (``SECURE_SSL_REDIRECT=ture`` would silently turn the redirect off), a float drops
what is not a digit (``BUY_ACK_TIMEOUT=5s`` becomes 5.0, ``0.5.1`` becomes 5.1), and a bad
integer is a bare ``ValueError``. Here a value that does not parse is an
``ImproperlyConfigured`` that names the variable: bad input gets a clear error at start-up.
"""

from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


class StrictEnv(environ.Env):
    DB_SCHEMES = {**environ.Env.DB_SCHEMES, "mariadb": "django.db.backends.mysql"}

    def get_value(self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, parse_default: bool = False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{var} {exc}") from None

    @classmethod
    def parse_value(cls, value: Any, cast: Any) -> Any:
        if cast is bool:
            word = value.strip().lower()
            if word in TRUE:
                return True
            if word in FALSE:
                return False
            raise ValueError(f"must be a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")
        if cast is int:
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"must be an integer, got {value!r}") from None
        if cast is float:
            try:
                return float(value)
            except ValueError:
                raise ValueError(f"must be a number, got {value!r}") from None
        if cast is list:  # "a, b" is two hosts, not "a" and " b"
            return [item.strip() for item in value.split(",") if item.strip()]
        return super().parse_value(value, cast)

    def mysql_database(self, var: str, default: str) -> dict[str, Any]:
        """A Django DATABASES entry from ``mysql://user:password@host:port/name`` (or ``mariadb://``)."""
        config = self.db_url_config(self.str(var, default=default))
        if config.get("ENGINE") != "django.db.backends.mysql":
            raise ImproperlyConfigured(f"{var} must be mysql://user:password@host:port/name")
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{var} has no database name")
        config["HOST"] = config.get("HOST") or "127.0.0.1"
        config["PORT"] = str(config.get("PORT") or 3306)
        return config


# escape_proxy: django-environ reads a value that starts with "$" as the name of another variable;
# a secret that starts with "$" is written "\$...", which becomes "$...".
env = StrictEnv()
env.escape_proxy = True
