"""``python -m seckill_site.daphne_server [daphne options]``: daphne, on a uvloop event loop.

daphne runs Twisted's asyncio reactor on a stock ``asyncio`` loop. Under a
stampede most of a daphne process's CPU goes to the event loop and Twisted's
HTTP plumbing, not to the buy itself; on uvloop the same daphne answered ~20 %
more requests per second per core here (bench/RESULTS.md). Twisted lets the
reactor be installed on any loop as long as that happens before
``twisted.internet.reactor`` is first imported, and ``daphne.server`` keeps an
asyncio reactor it finds already installed, so this module installs one on a
uvloop loop first and then hands over to daphne's own command line unchanged.

``SECKILL_UVLOOP=0`` (or uvloop not installed) keeps daphne's stock loop.

daphne speaks no ASGI lifespan, so this launcher runs ``seckill_site.lifespan``'s
startup once the reactor runs and its shutdown before the reactor stops (while
daphne cancels the requests in flight and waits for them).
"""

import asyncio
import os


def install_reactor() -> str:
    """Install Twisted's asyncio reactor on uvloop if we can; return the loop's name."""
    from twisted.internet import asyncioreactor

    loop: asyncio.AbstractEventLoop | None = None
    from seckill_site.environment import env  # the one parser of the environment

    if env.bool("SECKILL_UVLOOP", default=True):
        try:
            import uvloop
        except ImportError:
            pass
        else:
            loop = uvloop.new_event_loop()
    if loop is None:
        loop = asyncio.new_event_loop()
    if "ASGI_THREADS" in os.environ:  # what daphne.server would do to its own loop
        from concurrent.futures import ThreadPoolExecutor

        loop.set_default_executor(ThreadPoolExecutor(max_workers=int(os.environ["ASGI_THREADS"])))
    asyncio.set_event_loop(loop)
    asyncioreactor.install(loop)
    return type(loop).__module__


def silence_twisted_access_log() -> None:
    """Twisted's ``HTTPFactory`` formats a combined-log line for every request into
    Twisted's legacy log, which daphne forwards to Python logging; daphne keeps
    its own access log (``--access-log``), so this second one only costs CPU
    (3.6 % of a daphne process in a py-spy profile under wrk)."""
    from daphne.http_protocol import HTTPFactory

    HTTPFactory.log = lambda self, request: None


_started: list = []


def run_lifespan_on_reactor() -> None:
    """The lifespan's startup when the reactor starts, its shutdown as a "before shutdown" trigger."""
    from twisted.internet import defer, reactor

    def start():
        from seckill_site.lifespan import startup

        _started.append(asyncio.ensure_future(startup()))  # kept: a task nobody holds may be collected

    def stop():
        from seckill_site.lifespan import shutdown

        return defer.Deferred.fromFuture(asyncio.ensure_future(shutdown()))

    reactor.callWhenRunning(start)
    # Twisted's interfaces declare their methods without self, which mypy reads only with mypy-zope
    reactor.addSystemEventTrigger("before", "shutdown", stop)  # type: ignore[arg-type]


def main() -> None:
    install_reactor()
    silence_twisted_access_log()
    run_lifespan_on_reactor()
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
