"""The daphne launcher really puts Twisted's reactor on uvloop (and can be told not to)."""

import os
import subprocess
import sys

import pytest

PROBE = (
    "from seckill_site.daphne_server import install_reactor; loop = install_reactor(); "
    "from twisted.internet import reactor; import daphne.server; "
    "print(loop, type(reactor._asyncioEventloop).__module__)"
)


@pytest.mark.parametrize(
    ("flag", "expected"),
    # read by the one parser of the environment (seckill_site.environment): "false" is off, as for DJANGO_DEBUG
    [("1", "uvloop"), ("true", "uvloop"), ("0", "asyncio.unix_events"), ("false", "asyncio.unix_events")],
)
def test_reactor_runs_on_the_chosen_loop(flag, expected):
    env = {**os.environ, "SECKILL_UVLOOP": flag}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    # daphne.server must keep the reactor installed first, not replace it with its own loop
    assert out.stdout.split() == [expected, expected]
