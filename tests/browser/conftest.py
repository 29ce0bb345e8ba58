"""Browser tests: Playwright for Python driving Debian's Chromium against a real `siaga serve`.

Without /usr/bin/chromium the tests are skipped on a developer machine and fail in CI (SIAGA_REQUIRE_BROWSER=1,
set by .ci/run after installing the browser), so a missing browser can never pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import clock
from tests.e2e.servers import Server, prepared_env, start

CHROMIUM = os.environ.get("SIAGA_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORDS = {"operator": "demo-operator-112", "supervisor": "demo-supervisor-112", "damkar": "demo-damkar-112",
             "wall": "demo-wall-112", "admin": "demo-admin-112"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API keeps an event loop running while it is open, which would stop
    # other tests from using asyncio.run.
    if not Path(CHROMIUM).exists():
        if os.environ.get("SIAGA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic",
            # the console's ring cue plays without a click first (a real console asks for one click)
            "--autoplay-policy=no-user-gesture-required"])
        yield instance
        instance.close()


def new_context(browser: Any, **options: Any) -> Any:
    """A browser context whose pages run on the test clock (tests/clock.py), as the servers do."""
    context = browser.new_context(**options)
    if clock.offset() is not None:
        context.clock.install(time=clock.now())
    return context


@pytest.fixture(scope="module")
def site(tmp_path_factory: Any) -> Iterator[Server]:
    server = start(prepared_env(tmp_path_factory.mktemp("browser"), "siaga_browser"))
    yield server
    server.stop()


@pytest.fixture
def login(browser: Any, site: Server) -> Any:
    contexts: list[Any] = []

    def open_as(user: str, width: int = 1600, height: int = 900) -> Any:
        context = new_context(browser, viewport={"width": width, "height": height}, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
        page.goto(site.url + "/login/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORDS[user])
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def make_user(site: Server, name: str, group: str = "operator", extension: str | None = None,
              agency: str | None = None) -> str:
    """A user of the browser site's own (tests share one site per module), with its password in PASSWORDS."""
    import subprocess

    from tests.e2e.servers import SIAGA

    profile = {"extension": extension} if extension else {}
    script = ("from django.contrib.auth.models import Group, User; from siaga.core.models import Agency, UserProfile;"
              f"u, _ = User.objects.get_or_create(username='{name}');"
              f"u.set_password('demo-{name}-112'); u.save(); u.groups.add(Group.objects.get(name='{group}'));"
              f"d = {profile!r};"
              + (f"d['agency'] = Agency.objects.get(code='{agency}');" if agency else "")
              + "UserProfile.objects.update_or_create(user=u, defaults=d)")
    made = subprocess.run([*SIAGA, "shell", "-c", script], env=site.env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    PASSWORDS[name] = f"demo-{name}-112"
    return name
