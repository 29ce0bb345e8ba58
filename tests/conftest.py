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
