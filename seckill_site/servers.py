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


def command(
    server: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    fd: int | None = None,
    workers: int = 1,
    access_log: bool = False,
) -> list[str]:
    """One server process for ``APP``: on ``fd`` (an inherited listening socket) where given,
    else on ``host:port``. Only granian runs ``workers`` processes itself; the others serve one."""
    if server == "granian":
        if fd is not None:
            raise ValueError("granian binds its own socket: give host and port")
        command = [sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop", "--ws"]
        command += ["--host", host, "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
        command += ["--access-log" if access_log else "--no-access-log"]
        return [*command, APP]
    if workers != 1:
        raise ValueError(f"{server} serves one process; start several on one socket (fd)")
    where = ["--fd", str(fd)] if fd is not None else None
    if server == "daphne":
        where = where or ["-b", host, "-p", str(port)]
        command = [sys.executable, "-m", "seckill_site.daphne_server", *where, "--proxy-headers"]
        command += ["--access-log", "-"] if access_log else ["--verbosity", "0"]
        return [*command, APP]
    if server == "uvicorn":
        where = where or ["--host", host, "--port", str(port)]
        command = [sys.executable, "-m", "uvicorn", *where, "--loop", "uvloop", "--http", "httptools"]
        command += ["--ws", "websockets", "--proxy-headers", "--log-level", "warning"]
        command += ["--access-log"] if access_log else ["--no-access-log"]
        return [*command, APP]
    raise ValueError(f"unknown server {server!r}; one of {', '.join(SERVERS)}")
