"""``manage.py loadtest``: drive a running site over HTTP like a crowd of buyers,
then check that what the buyers were told is what the database holds.

The modules, in the order a run uses them:

- ``scenarios``  the run's settings (``LoadTestConfig``) and the named presets
- ``prepare``    a fresh sale and the buyers with their bearer tokens
- ``client``     the asynchronous load generator (keep-alive, on uvloop)
- ``http``       its HTTP/1.1 client (httptools), cheaper per request than aiohttp
- ``sampler``    remaining stock and order rows sampled while the run goes on
- ``stats``      percentiles, answers by status, time series
- ``verify``     the invariants between answers, Redis and the order rows
- ``report``     the terminal output (rich) and the ``--json`` file
- ``html_report`` and ``charts``  the self-contained ``--report`` HTML file
- ``runner``     all of the above in order: ``run_loadtest(config)``
"""
