#!/usr/bin/env python3
"""Run the site: N web processes, order consumers, the stock ticker.

The web server is ``--server`` (``seckill_site.servers``; granian by default).
granian and uvicorn run their N worker processes themselves on the port. daphne
has no workers of its own: ``--fd`` lets N processes accept on one socket that
this launcher opens, so the kernel spreads connections across them and each
process runs its own event loop on its own core. Ctrl-C or SIGTERM stops
everything; each child finishes what it has.
"""

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seckill_site import servers  # noqa: E402
from seckill_site.environment import env  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env.str("SECKILL_HOST", default="127.0.0.1"))
    parser.add_argument("--port", type=int, default=env.int("SECKILL_PORT", default=8000))
    parser.add_argument(
        "--web-processes",
        type=int,
        default=env.int("SECKILL_WEB_PROCESSES", default=os.cpu_count() or 1),
        help="web processes (default: SECKILL_WEB_PROCESSES or the number of cores)",
    )
    parser.add_argument(
        "--consumers",
        type=int,
        default=env.int("SECKILL_CONSUMERS", default=1),
        help="consume_orders processes (up to the topic's partitions share the work)",
    )
    parser.add_argument(
        "--server",
        choices=servers.SERVERS,
        default=env.str("SECKILL_SERVER", default=servers.DEFAULT),
        help=f"the ASGI server of the web processes (default: SECKILL_SERVER or {servers.DEFAULT})",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=env.bool("SECKILL_ACCESS_LOG", default=False),
        help="log every HTTP request to stdout (default off, on with SECKILL_ACCESS_LOG=1; a trivial app "
        "under wrk answered ~18%% fewer requests with it)",
    )
    args = parser.parse_args()
    if args.web_processes < 1 or args.consumers < 0:
        parser.error("--web-processes must be >= 1 and --consumers >= 0")

    # Every process writes its Prometheus samples here and /metrics adds them up (plumbing/metrics.py);
    # emptied at each start, as prometheus-client's multiprocess mode asks.
    metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(ROOT / ".stack" / "metrics")))
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for samples in metrics_dir.glob("*.db"):  # only prometheus-client's files: the directory may be the user's
        samples.unlink()

    # Every websocket viewer is an open file in a web process.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    sock.listen(4096)
    sock.set_inheritable(True)
    fd = sock.fileno()

    # (command, file descriptors it inherits): only the web processes get the listening socket
    launches: list[tuple[list[str], tuple[int, ...]]]
    if args.server in servers.OWN_WORKERS:  # it runs its own worker processes and binds the port itself
        sock.close()
        web = servers.command(
            args.server, host=args.host, port=args.port, workers=args.web_processes, access_log=args.access_log
        )
        launches = [(web, ())]
    else:
        launches = [(servers.command(args.server, fd=fd, access_log=args.access_log), (fd,))] * args.web_processes
    launches += [([sys.executable, "manage.py", "consume_orders"], ())] * args.consumers
    launches += [([sys.executable, "manage.py", "publish_stock"], ())]
    # abandoned holds given back, lost Redis state rebuilt, differences logged: orders/reconcile.py
    launches += [([sys.executable, "manage.py", "reconcile", "--repair", "--every"], ())]
    # unpaid orders expire at pay_by and their units go back on sale: orders/lifecycle.py
    launches += [([sys.executable, "manage.py", "expire_orders"], ())]

    stopping = False
    crashed = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    # Before the first child starts: a signal at any moment stops the ones already running.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children: list[subprocess.Popen] = []
    try:
        for command, fds in launches:
            if stopping:
                break
            children.append(subprocess.Popen(command, cwd=ROOT, pass_fds=fds))
        print(
            f"\n  Flash sale running at http://{args.host}:{args.port}/  "
            f"({args.web_processes} {args.server} processes, {args.consumers} order consumer(s)); Ctrl-C stops.\n",
            flush=True,
        )
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"process {child.args!r} exited with {child.returncode}; stopping", file=sys.stderr)
                    stopping = crashed = True
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
