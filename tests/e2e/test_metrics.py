"""/metrics on a real `siaga serve` with two server processes on PostgreSQL (one on SQLite): whichever process
answers the scrape, the counts are the node's, summed over its processes; the carousel role, which runs
in the supervising process, is counted too."""

from __future__ import annotations

import os
import random
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import clock
from tests.e2e.servers import prepared_env, start

pytestmark = pytest.mark.slow


def scrape(url: str, token: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def test_metrics_add_up_over_the_server_processes_of_a_node(tmp_path_factory: Any) -> None:
    workers = 2 if os.environ.get("SIAGA_TEST_DATABASE_URL") else 1
    group = f"239.255.{random.randint(1, 254)}.{random.randint(1, 254)}:{random.randint(20000, 60000)}"
    env = prepared_env(tmp_path_factory.mktemp("metrics"), "siaga_e2e_metrics", {"SIAGA_EWS_UDP": group})
    tokens = {}
    for kind in ("pbx", "monitor"):
        out = subprocess.run([*clock.siaga(), "integration", "create", f"e2e-{kind}", "--kind", kind], env=env,
                             capture_output=True, text=True, check=True).stdout
        tokens[kind] = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("token:"))
    node = start(env, workers=workers)
    try:
        offered = datetime.now(UTC).replace(microsecond=0)
        calls = 12
        with httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {tokens['pbx']}"}) as pbx:
            for n in range(calls):
                for kind, extra, after in (("offered", {"caller": f"08131111{n:04d}", "line": "112"}, 0),
                                           ("answered", {"agent": "2001"}, 7), ("ended", {"cause": "normal"}, 30)):
                    response = pbx.post("/api/v1/cti/events", json={
                        "event_id": f"m{n}:{kind}", "type": f"call.{kind}", "call_id": f"m{n}",
                        "occurred_at": (offered + timedelta(seconds=after)).isoformat(), **extra})
                    assert response.status_code == 201, response.text
            assert pbx.post("/api/v1/cti/events", json={
                "event_id": "m0:offered", "type": "call.offered", "call_id": "m0", "caller": "081311110000",
                "line": "112", "occurred_at": offered.isoformat()}).status_code == 200
            assert pbx.post("/api/v1/cti/events", json={"type": "call.offered"}).status_code == 422
        deadline = time.monotonic() + 20
        while True:  # the carousel starts beside the server; give it its first repetition
            got = scrape(node.url, tokens["monitor"])
            if got.get(("siaga_carousel_sending", ()), 0) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for _ in range(6):  # each scrape may be answered by another process: the same sums every time
            got = scrape(node.url, tokens["monitor"])
            assert got[("siaga_cti_events_total", (("result", "stored"),))] == 3 * calls
            assert got[("siaga_cti_events_total", (("result", "duplicate"),))] == 1
            assert got[("siaga_cti_events_total", (("result", "rejected"),))] == 1
            assert got[("siaga_call_answer_seconds_count", ())] == calls
            assert got[("siaga_call_answer_seconds_sum", ())] == pytest.approx(7 * calls)
            assert got[("siaga_call_answer_seconds_bucket", (("le", "5.0"),))] == 0
            assert got[("siaga_call_answer_seconds_bucket", (("le", "10.0"),))] == calls
            assert got[("siaga_calls_ringing", ())] == 0 and got[("siaga_database_up", ())] == 1
        assert got[("siaga_carousel_sending", ())] == 1
        assert 0 < got[("siaga_carousel_repetition_seconds", ())] <= 0.5
        assert got[("siaga_carousel_datagrams_total", ())] > 0
        assert got[("siaga_lease_holder", (("holder", node_holder(got)), ("role", "carousel")))] == 1
    finally:
        node.stop()


def node_holder(got: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> str:
    [holder] = [dict(labels)["holder"] for name, labels in got if name == "siaga_lease_holder"
                and dict(labels)["role"] == "carousel"]
    return holder
