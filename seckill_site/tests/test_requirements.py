"""The lock files hold what requirements*.txt ask for: an edit to one without the other fails here.

scripts/run installs requirements.lock, scripts/test requirements-dev.lock, the image
requirements.lock (README, "Code health" says how pip-compile writes them)."""

import re

import pytest
from packaging.requirements import Requirement

from conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", re.M)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    pins = {normalized(name): version for name, version in PIN.findall(text)}
    assert text.count("==") == len(pins), f"{lock}: a pin this test does not read"
    return pins


def asked(requirements: str) -> list[Requirement]:
    found = []
    for line in (ROOT / requirements).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += asked(line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_the_lock_pins_every_requirement_within_its_range(requirements, lock):
    pins = locked(lock)
    for requirement in asked(requirements):
        name = normalized(requirement.name)
        assert name in pins, f"{requirement} is not in {lock}: run pip-compile (README, 'Code health')"
        assert requirement.specifier.contains(pins[name], prereleases=True), (requirement, pins[name], lock)


def test_the_development_lock_has_the_runtime_lock_versions():
    runtime, development = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: development.get(name) for name in runtime} == runtime


def test_every_pin_has_hashes():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        assert text.count("==") == len(re.findall(r"==\S+ \\\n\s+--hash=sha256:", text)), lock
