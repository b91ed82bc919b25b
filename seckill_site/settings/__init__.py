"""The settings, one module per kind of run (cookiecutter-django's layout).

- ``base``: what every run shares, all from the environment; ``DJANGO_DEBUG`` off unless set.
  The default of ``manage.py`` and ``asgi.py``; ``scripts/run`` sets ``DJANGO_DEBUG=true``.
- ``production``: behind a TLS proxy, no development defaults (deploy/systemd, docker/).
- ``test``: the test suite, isolated from the development data.

Nothing is imported here: ``test`` must set its environment before ``base`` reads it.
"""
