"""Two `siaga serve` nodes on one Redis: an incident created through node A appears on the wall page of node B."""

import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.browser.conftest import PASSWORDS, new_context
from tests.e2e.servers import REDIS_URL, prepared_env, require_redis, start

pytestmark = pytest.mark.slow


def test_wall_on_node_b_shows_incident_from_node_a(browser: Any, tmp_path_factory: Any) -> None:
    require_redis()
    env = prepared_env(tmp_path_factory.mktemp("two-nodes"), "siaga_browser_redis",
                       {"SIAGA_REDIS_URL": REDIS_URL, "SIAGA_REDIS_CHANNEL": f"siaga-test-{uuid.uuid4().hex}"})
    node_a, node_b = start(env), start(env)
    context = new_context(browser, viewport={"width": 1920, "height": 1080})
    try:
        page = context.new_page()
        page.goto(node_b.url + "/login/")
        page.fill("input[name=username]", "wall")
        page.fill("input[name=password]", PASSWORDS["wall"])
        page.click("button[type=submit]")
        page.wait_for_selector("#wall[data-ready='1']", timeout=15000)
        page.wait_for_selector("#live-state.on", timeout=5000)
        before = int(page.get_attribute("#wall", "data-incidents") or "0")
        started = time.monotonic()
        response = httpx.post(node_a.url + "/api/v1/incidents", headers=node_a.headers("supervisor"),
                              json={"category": "banjir", "lat": -6.02, "lon": 106.05, "description": "dua node"})
        assert response.status_code == 201
        page.wait_for_function(f"Number(document.getElementById('wall').dataset.incidents) > {before}",
                               timeout=5000)
        elapsed = time.monotonic() - started
        assert elapsed < 2.0, elapsed  # the event itself arrives within 1 s (tests/e2e/test_live.py)
    finally:
        context.close()
        node_a.stop()
        node_b.stop()


def test_with_redis_away_a_node_keeps_its_own_pages_live_and_they_resync_when_it_returns(
        browser: Any, tmp_path_factory: Any) -> None:
    """Node B reaches Redis through a relay the test cuts: B's wall still sees B's own writes; A's writes
    meanwhile reach it when Redis is back, by the resynchronisation, not by a reload of the page."""
    from tests.e2e.relay import Relay
    from tests.e2e.servers import SseReader, logged_in, session_header

    require_redis()
    target = urlsplit(REDIS_URL)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 6379)
    env = prepared_env(tmp_path_factory.mktemp("redis-away"), "siaga_browser_redis_away",
                       {"SIAGA_REDIS_URL": REDIS_URL, "SIAGA_REDIS_CHANNEL": f"siaga-test-{uuid.uuid4().hex}"})
    node_a = start(env)
    node_b = start({**env, "SIAGA_REDIS_URL": urlunsplit(target._replace(netloc=f"127.0.0.1:{relay.port}"))})
    context = new_context(browser, viewport={"width": 1920, "height": 1080})
    supervisor = logged_in(node_b.url, "supervisor", PASSWORDS["supervisor"])
    stream = SseReader(node_b.url + "/live/events", session_header(supervisor))

    def incident(node: Any, text: str) -> None:
        response = httpx.post(node.url + "/api/v1/incidents", headers=node.headers("supervisor"),
                              json={"category": "banjir", "lat": -6.02, "lon": 106.05, "description": text})
        assert response.status_code == 201, response.text

    def count() -> int:
        return int(page.get_attribute("#wall", "data-incidents") or "0")

    try:
        page = context.new_page()
        page.goto(node_b.url + "/login/")
        page.fill("input[name=username]", "wall")
        page.fill("input[name=password]", PASSWORDS["wall"])
        page.click("button[type=submit]")
        page.wait_for_selector("#wall[data-ready='1']", timeout=15000)
        page.wait_for_selector("#live-state.on", timeout=5000)
        page.evaluate("window.__notReloaded = true")
        before = count()

        relay.cut()
        deadline = time.monotonic() + 15
        while httpx.get(node_b.url + "/readyz").json()["degraded"] != ["redis"]:
            assert time.monotonic() < deadline, "node B did not notice that Redis is away"
            time.sleep(0.2)
        assert httpx.get(node_b.url + "/readyz").status_code == 200  # degraded, still taking calls
        incident(node_b, "tanpa redis, dari node B")  # B's own write: B's pages see it at once
        page.wait_for_function(f"Number(document.getElementById('wall').dataset.incidents) >= {before + 1}",
                               timeout=5000)
        incident(node_a, "tanpa redis, dari node A")  # cannot reach B while Redis is away from it
        time.sleep(2)
        assert count() == before + 1

        relay.mend()
        assert stream.next("live.resync", timeout=15)["data"] == {"reason": "bus"}
        page.wait_for_function(f"Number(document.getElementById('wall').dataset.incidents) >= {before + 2}",
                               timeout=10000)
        assert page.evaluate("window.__notReloaded") is True  # resynchronised in place
        incident(node_a, "redis kembali")  # and the bus carries A's writes to B again
        page.wait_for_function(f"Number(document.getElementById('wall').dataset.incidents) >= {before + 3}",
                               timeout=5000)
    finally:
        stream.close()
        supervisor.close()
        context.close()
        node_a.stop()
        node_b.stop()
        relay.close()
