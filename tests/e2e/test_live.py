"""Live updates over real HTTP: SSE on `siaga serve`, role filtering, and two nodes sharing one Redis."""

import subprocess
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.servers import (
    REDIS_URL,
    SIAGA,
    Server,
    SseReader,
    logged_in,
    prepared_env,
    require_redis,
    session_header,
    start,
    wait_for,
)

pytestmark = pytest.mark.slow


def create_incident(server: Server, category: str = "kebakaran") -> dict[str, Any]:
    response = httpx.post(server.url + "/api/v1/incidents", headers=server.headers("supervisor"),
                          json={"category": category, "lat": -6.0171, "lon": 106.0556, "description": "uji live"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def node(tmp_path_factory: Any) -> Any:
    server = start(prepared_env(tmp_path_factory.mktemp("live"), "siaga_e2e_live"))
    yield server
    server.stop()


def test_an_incident_reaches_a_live_page_within_a_second(node: Server) -> None:
    stream = SseReader(node.url + "/live/events", node.headers("supervisor"))
    try:
        started = time.monotonic()
        incident = create_incident(node)
        message = stream.next("incident.created", where=lambda d: d["id"] == incident["id"])
        assert message["received"] - started < 1.0
        assert message["data"]["ticket"] == incident["ticket"]
    finally:
        stream.close()


def test_each_role_sees_only_its_events(node: Server) -> None:
    # the demo has no wall or agency token: log in and use the session cookie, as the pages do
    wall = SseReader(node.url + "/live/events", session_header(logged_in(node.url, "wall", "demo-wall-112")))
    damkar = SseReader(node.url + "/live/events", session_header(logged_in(node.url, "damkar", "demo-damkar-112")))
    try:
        fire = create_incident(node, "kebakaran")
        theft = create_incident(node, "kriminalitas")
        for incident, agency in ((fire, "damkar"), (theft, "polres")):
            response = httpx.post(f"{node.url}/api/v1/incidents/{incident['id']}/dispatches",
                                  headers=node.headers("supervisor"), json={"agency": agency})
            assert response.status_code == 201
        httpx.post(node.url + "/api/v1/cti/events", headers=node.headers("pbx"), json={
            "event_id": f"live-{uuid.uuid4()}", "type": "call.offered", "call_id": f"live-{uuid.uuid4()}",
            "occurred_at": "2026-11-28T06:00:00Z", "caller": "081234567890"})
        # a last incident dispatched to Damkar: both streams keep the order of publication, so once it is
        # there, everything above has arrived (or never will)
        last = create_incident(node, "kebakaran")
        assert httpx.post(f"{node.url}/api/v1/incidents/{last['id']}/dispatches", headers=node.headers("supervisor"),
                          json={"agency": "damkar"}).status_code == 201
        mine = lambda data: data.get("incident_id") == last["id"]  # noqa: E731
        wall_topics = {m["topic"] for m in wall.until("dispatch.created", mine)}
        damkar_messages = damkar.until("dispatch.created", mine)
        assert {"incident.created", "dispatch.created"} <= wall_topics
        assert "call.updated" not in wall_topics  # the wall sees no caller numbers
        damkar_dispatches = [m["data"] for m in damkar_messages if m["topic"] == "dispatch.created"]
        assert damkar_dispatches and all(d["incident_id"] in (fire["id"], last["id"]) for d in damkar_dispatches)
        assert any(d["incident_id"] == fire["id"] for d in damkar_dispatches)
        assert not any(m["topic"].startswith("call.") for m in damkar_messages)
        assert not any(m["topic"] == "incident.updated" and m["data"]["id"] == theft["id"] for m in damkar_messages)
    finally:
        wall.close()
        damkar.close()


def _siaga(node: Server, *args: str) -> str:
    result = subprocess.run([*SIAGA, *args], env=node.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def _ends_within(stream: SseReader, seconds: float) -> float:
    started = time.monotonic()
    stream._thread.join(seconds)
    assert not stream._thread.is_alive(), f"the stream was still open after {seconds} s"
    return time.monotonic() - started


def test_a_stream_ends_within_seconds_after_its_token_is_revoked(node: Server) -> None:
    key = _siaga(node, "token", "create", "supervisor", "--name", "sse-revoke")
    stream = SseReader(node.url + "/live/events", {"Authorization": f"Bearer {key}"})
    try:
        create_incident(node)
        stream.next("incident.created")  # it delivers while the token is good
        _siaga(node, "token", "revoke", "supervisor", "--name", "sse-revoke")
        took = _ends_within(stream, 5 + 3)  # SIAGA_LIVE_RECHECK_SECONDS (5) and a margin
        topics = [m["topic"] for m in stream.drain(0)]
        assert topics[-1] == "session.ended", topics
        assert took < 8
        incident = create_incident(node)  # nothing more reaches it, and it cannot come back
        assert not any(m["data"].get("id") == incident["id"] for m in stream.drain(0.5))
        assert httpx.get(node.url + "/live/events", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    finally:
        stream.close()


def test_a_stream_ends_within_seconds_after_its_user_is_deactivated(node: Server) -> None:
    stream = SseReader(node.url + "/live/events",
                       session_header(logged_in(node.url, "operator", "demo-operator-112")))
    deactivate = "from django.contrib.auth.models import User; User.objects.filter(username='operator')" \
                 ".update(is_active={})"
    try:
        _siaga(node, "shell", "-c", deactivate.format(False))
        _ends_within(stream, 5 + 3)
        assert [m["topic"] for m in stream.drain(0)][-1] == "session.ended"
    finally:
        _siaga(node, "shell", "-c", deactivate.format(True))
        stream.close()


def test_unauthenticated_stream_is_refused(node: Server) -> None:
    assert httpx.get(node.url + "/live/events").status_code == 401
    assert httpx.get(node.url + "/live/events", headers={"Authorization": "Bearer sgu_wrong"}).status_code == 401


def test_two_nodes_on_one_redis(tmp_path_factory: Any) -> None:
    """An incident created through node A appears on a stream connected to node B."""
    require_redis()
    var = tmp_path_factory.mktemp("redis-nodes")
    import redis

    channel = f"siaga-test-{uuid.uuid4().hex}"
    env = prepared_env(var, "siaga_e2e_redis", {"SIAGA_REDIS_URL": REDIS_URL, "SIAGA_REDIS_CHANNEL": channel})
    node_a, node_b = start(env), start(env)
    try:
        stream = SseReader(node_b.url + "/live/events", node_b.headers("supervisor"))
        try:
            # node B's Redis listener subscribes as its first stream opens: wait for that, not for a time
            broker = redis.Redis.from_url(REDIS_URL)
            wait_for(lambda: dict(broker.pubsub_numsub(channel)).get(channel.encode(), 0) >= 1, 10,
                     "node B listening on Redis")
            started = time.monotonic()
            incident = create_incident(node_a)
            message = stream.next("incident.created", where=lambda d: d["id"] == incident["id"])
            assert message["received"] - started < 1.0
        finally:
            stream.close()
    finally:
        node_a.stop()
        node_b.stop()
