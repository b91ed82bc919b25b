"""Production settings: a deployment behind a TLS-terminating proxy (deploy/systemd, docker/).

On top of ``base``: development mode is refused, the secrets and the host names have no
defaults, and the ``SECURE_*`` options are on (the proxy's ``X-Forwarded-Proto``, the redirect to
https, HSTS for a year, cookies only over https). ``manage.py check --deploy`` is clean with
these (seckill_site/tests/test_deploy.py). Each option can still be turned down from the
environment, e.g. ``SECURE_HSTS_PRELOAD=false`` before the domain is on the preload list.
"""

from django.core.exceptions import ImproperlyConfigured

from seckill_site.settings.base import *  # noqa: F403
from seckill_site.settings.base import DEBUG, env

if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG is on: production settings never run in development mode.")

# The secrets: base already refuses its development ones with DEBUG off. The host names have
# no default here: unset, the start stops with "Set the DJANGO_ALLOWED_HOSTS environment variable".
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# The proxy terminates TLS and says so in X-Forwarded-Proto; it must overwrite a client's own.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# /healthz and /readyz are answered ahead of Django (seckill_site/health.py), so a plain-http
# probe from the process manager or the load balancer is never redirected.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
