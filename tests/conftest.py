"""Test set-up: SQLite by default, PostgreSQL when SIAGA_TEST_DATABASE_URL is set; real actions, no mocks."""

from __future__ import annotations

# The settings know they run under pytest (SIAGA_ENV defaults to "test") and use
# SIAGA_TEST_DATABASE_URL when it is set; see siaga.config.settings.
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests import clock

ROLE_USERS = {
    "operator": ("operator", None),
    "supervisor": ("supervisor", None),
    "agency": ("agency", "damkar"),
    "agency_polres": ("agency", "polres"),
    "wall": ("wall", None),
    "admin": ("admin", None),
}


def pytest_configure(config: Any) -> None:
    # SIAGA_TEST_CLOCK moves the clock of this process and of every process the tests start (tests/clock.py)
    clock.start()


def pytest_report_header(config: Any) -> str | None:
    return f"test clock: {clock.now().isoformat()} ({clock.SETTING})" if clock.offset() is not None else None


# The modules whose tests count days, shifts, months and years: `make test-clocks` runs them again with the
# clock on a month's first and last day, 31 December and 29 February (tests/clock.py). A single test
# elsewhere is marked ``@pytest.mark.calendar`` where it stands.
CALENDAR_MODULES = (
    "tests/core/test_clock.py", "tests/shifts/", "tests/reports/", "tests/incidents/", "tests/calls/test_blocking.py",
    "tests/core/test_auditchain.py", "tests/hazards/test_ingest.py", "tests/alerts/test_actions.py",
    "tests/webhooks/", "tests/api/test_permissions.py",
)
# Fixtures that give a test a database (directly or through another fixture).
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                     "live_server", "django_db_setup"}
# Words in a module that starts processes on a database of their own (servers, commands, restore drills).
DATABASE_WORDS = ("prepared_env", "SIAGA_TEST_DATABASE_URL", "SIAGA_DATABASE_URL", "call_command")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Mark ``calendar`` and ``database`` tests. The PostgreSQL pass of CI runs ``-m database`` only: a test
    that touches no database has nothing to learn from a second one (it runs once, in the SQLite pass)."""
    import pathlib

    root = pathlib.Path(str(config.rootpath))
    texts: dict[str, str] = {}
    for item in items:
        path = pathlib.Path(str(item.path))
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        if relative.startswith(CALENDAR_MODULES):
            item.add_marker(pytest.mark.calendar)
        if relative not in texts:
            texts[relative] = path.read_text(encoding="utf-8")
        if (item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
                or any(word in texts[relative] for word in DATABASE_WORDS)
                or relative.startswith(("tests/e2e/", "tests/browser/", "tests/deploy/"))):
            item.add_marker(pytest.mark.database)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """The last lines of a run: one per group of skipped tests and why, so that a newcomer sees what was not
    tested on this machine (CI sets SIAGA_REQUIRE_* so that a missing tool fails instead of skipping)."""
    groups: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        groups[reason] = groups.get(reason, 0) + 1
    if not groups:
        return
    terminalreporter.section("not tested here", sep="-")
    for reason, count in sorted(groups.items(), key=lambda item: (-item[1], item[0])):
        terminalreporter.write_line(f"skipped {count:>3}: {reason}")


@pytest.fixture(autouse=True)
def _clear_process_caches() -> Iterator[None]:
    from siaga.calls import actions
    from siaga.core import auth, presence, regions
    from siaga.shifts import queries as shift_queries

    auth.clear_caches()
    shift_queries.forget()
    actions._AGENT_CACHE.clear()
    presence._last.clear()
    regions.invalidate()
    yield
    regions.invalidate()
    shift_queries.forget()


@pytest.fixture
def reference(db: Any) -> None:
    """Cilegon's reference data (regions, agencies, categories, role groups), loaded by the real loader."""
    from siaga.core.models import Kelurahan
    from siaga.runtime.reference import load_all

    if not Kelurahan.objects.exists():
        load_all()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    # Loaded once for the session; tests run in transactions that roll back on top of it.
    from siaga.runtime.reference import load_all

    with django_db_blocker.unblock():
        load_all()


@pytest.fixture
def ews_only(settings: Any) -> Any:
    """Only the ews alert channel is on: alerts go to the carousel's state and nowhere else."""
    settings.ALERT_CHANNELS = ["ews"]
    return settings


@dataclass
class Actor:
    """A user of a role with an API token, and the principal actions take."""

    user: Any
    token: str
    principal: Any

    def headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}


def make_actor(username: str, role: str, agency: str | None = None) -> Actor:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from siaga.core.models import Agency, ApiToken, UserProfile
    from siaga.core.roles import Principal

    user = get_user_model().objects.create_user(username=username, password="correct-horse-112")
    user.groups.add(Group.objects.get(name=role))
    if role == "admin":
        user.is_staff = user.is_superuser = True
        user.save()
    UserProfile.objects.create(user=user, agency=Agency.objects.get(code=agency) if agency else None)
    _, key = ApiToken.issue(user, "test")
    user = get_user_model().objects.get(pk=user.pk)
    return Actor(user=user, token=key, principal=Principal.for_user(user))


@pytest.fixture
def actors(reference: None) -> dict[str, Actor]:
    return {name: make_actor(f"t_{name}", role, agency) for name, (role, agency) in ROLE_USERS.items()}


@dataclass
class Machine:
    integration: Any
    token: str
    principal: Any

    def headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}


@pytest.fixture
def pbx(reference: None) -> Machine:
    from siaga.core.models import Integration
    from siaga.core.roles import Principal

    integration = Integration.objects.create(name="test-pbx", kind="pbx", hmac_secret="s3cret-pbx-signing-key")
    token = integration.rotate_token()
    return Machine(integration, token, Principal.for_integration(integration))


@pytest.fixture
def aml_provider(reference: None) -> Machine:
    from siaga.core.models import Integration
    from siaga.core.roles import Principal

    integration = Integration.objects.create(name="test-aml", kind="aml", hmac_secret="aml-shared-key-0123456789")
    token = integration.rotate_token()
    return Machine(integration, token, Principal.for_integration(integration))
