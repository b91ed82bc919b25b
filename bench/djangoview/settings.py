"""Bench only: the project's settings plus one route, ``/bench/sales/<id>/buy``,
served by a regular Django view (see ``views.py``). Run the site with
``DJANGO_SETTINGS_MODULE=bench.djangoview.settings python scripts/serve.py``:
``seckill_site.hotpath`` only claims ``/api/sales/...``, so this path goes through
Django's full middleware stack and URL resolver."""

from seckill_site.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.djangoview.urls"
