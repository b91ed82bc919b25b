"""The command lines of the ASGI servers that can serve the site, defined once.

``scripts/serve.py`` (the site) and the tests' ``LiveSite`` start web processes
with these. granian is the default: on this machine it answered the stampede about
twice as fast as daphne and uvicorn and kept 3,000 websocket viewers' delay lower
than daphne (bench/RESULTS.md). daphne stays supported (the design names it); uvicorn
is there to measure against.
"""

import sys

APP = "seckill_site.asgi:application"
SERVERS = ("granian", "daphne", "uvicorn")
DEFAULT = "granian"
OWN_WORKERS = ("granian", "uvicorn")  # servers that start their worker processes themselves


def command(
    server: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    fd: int | None = None,
    workers: int = 1,
    access_log: bool = False,
) -> list[str]:
    """The server for ``APP`` on ``host:port``, or on ``fd`` (an inherited listening socket).

    granian and uvicorn run ``workers`` processes themselves on one socket; daphne serves
    one process, so several are started on one ``fd``. (uvicorn can do that too, but on
    this machine two uvicorns sharing an ``fd`` answered the stampede at half the rate of
    ``uvicorn --workers 2``: 5,114 against 11,131 answers/s, bench/RESULTS.md.)"""
    if server in OWN_WORKERS and fd is not None:
        raise ValueError(f"{server} binds its own socket: give host and port")
    if server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--ws"]
        command += ["--host", host, "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
        command += ["--access-log" if access_log else "--no-access-log"]
        return [*command, APP]
    if server == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port), "--loop", "uvloop"]
        command += ["--http", "httptools", "--ws", "websockets", "--proxy-headers", "--log-level", "warning"]
        command += ["--workers", str(workers)] if workers > 1 else []
        command += ["--access-log"] if access_log else ["--no-access-log"]
        return [*command, APP]
    if server == "daphne":
        if workers != 1:
            raise ValueError("daphne serves one process; start several on one socket (fd)")
        where = ["--fd", str(fd)] if fd is not None else ["-b", host, "-p", str(port)]
        command = [sys.executable, "-m", "seckill_site.daphne_server", *where, "--proxy-headers"]
        command += ["--access-log", "-"] if access_log else ["--verbosity", "0"]
        return [*command, APP]
    raise ValueError(f"unknown server {server!r}; one of {', '.join(SERVERS)}")
