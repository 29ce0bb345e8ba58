"""What a city installs is what was tested: the locks pin every dependency, with hashes, and this test run
has exactly the locked versions installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def pins(lock: str) -> dict[str, tuple[Version, str | None, int]]:
    """name -> (version, marker, number of hashes) of every requirement in a lock file."""
    found: dict[str, tuple[Version, str | None, int]] = {}
    current = None
    for line in (ROOT / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            current = canonicalize_name(name)
            if marker and not Marker(marker).evaluate():
                current = None  # a pin for another Python or platform
                continue
            found[current] = (Version(version), marker, 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, marker, hashes = found[current]
            found[current] = (version, marker, hashes + 1)
        elif line and not line.startswith(" "):
            current = None
    return found


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(text) for text in names]


@pytest.mark.parametrize(("lock", "extra"), [("requirements.lock", None), ("requirements-dev.lock", "dev")])
def test_every_declared_dependency_is_pinned_with_hashes_within_its_range(lock: str, extra: str | None) -> None:
    locked = pins(lock)
    assert locked, lock
    for requirement in declared(extra):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in {lock}: run `make lock`"
        version, _, _ = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), \
            f"{lock} pins {name}=={version}, outside {requirement.specifier}: run `make lock`"
    unhashed = [name for name, (_, _, hashes) in locked.items() if hashes == 0]
    assert not unhashed, f"pins without a hash in {lock}: {unhashed}"


def test_the_runtime_lock_agrees_with_the_development_lock() -> None:
    runtime, development = pins("requirements.lock"), pins("requirements-dev.lock")
    differ = {name: (str(v), str(development.get(name, (None,))[0])) for name, (v, _, _) in runtime.items()
              if development.get(name, (None,))[0] != v}
    assert not differ, f"the two locks pin different versions (run `make lock`): {differ}"


def test_this_run_has_the_locked_versions_installed() -> None:
    """The suite tests what install.sh installs: every locked package is installed at its locked version."""
    wrong = {}
    for name, (version, _, _) in pins("requirements-dev.lock").items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            wrong[name] = (str(version), "not installed")
            continue
        if installed != version:
            wrong[name] = (str(version), str(installed))
    assert not wrong, f"installed versions differ from requirements-dev.lock (locked, installed): {wrong}"
