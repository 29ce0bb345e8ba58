"""GET /metrics: who may read it, and that what it says is what the database and the node hold. The
multi-process counting of `siaga serve` is tested end to end in tests/e2e/test_metrics.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def monitor(reference: None) -> str:
    from siaga.core.models import Integration

    return Integration.objects.create(name="prometheus", kind="monitor").rotate_token()


def test_metrics_need_a_monitor_token_or_an_administrator(client: Client, actors: Any, monitor: str,
                                                          pbx: Any) -> None:
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer sgi_not-a-token").status_code == 401
    assert client.get("/metrics", **pbx.headers()).status_code == 403  # a PBX token is not for this
    for role in ("operator", "supervisor", "wall", "agency"):
        assert client.get("/metrics", **actors[role].headers()).status_code == 403, role
    assert client.get("/metrics", **actors["admin"].headers()).status_code == 200
    ok = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {monitor}")
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain; version=")
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {monitor}").status_code == 405


def test_a_monitor_token_opens_nothing_else(client: Client, monitor: str) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {monitor}"}
    assert client.get("/api/v1/calls", **headers).status_code == 403
    assert client.get("/api/v1/incidents", **headers).status_code == 403
    assert client.post("/api/v1/cti/events", data={}, content_type="application/json", **headers).status_code \
        in (401, 403)


def test_metrics_report_the_state_in_the_database(client: Client, monitor: str, settings: Any) -> None:
    from siaga.alerts.models import Alert, Delivery, Thread
    from siaga.calls.models import Call, CallState
    from siaga.core.leases import Lease
    from siaga.core.models import AuditChainHead, AuditLog
    from siaga.hazards.models import Feed

    now = timezone.now()
    for n in range(3):
        Call.objects.create(call_ref=f"ring-{n}", state=CallState.RINGING, offered_at=now)
    Call.objects.create(call_ref="done", state=CallState.ENDED, offered_at=now, answered_at=now, ended_at=now)
    thread = Thread.objects.create(key="metrics-test", origin="manual")
    alert = Alert.objects.create(thread=thread, identifier="metrics-1", sender="test", sent=now, sent_text="x",
                                 status="Actual", msg_type="Alert", display="ticker", event="Gempa", headline="h",
                                 severity="Minor", urgency="Past", xml="<alert/>")
    for n, (channel, status) in enumerate((("web", "sent"), ("web", "sent"), ("mqtt", "retrying"),
                                           ("ews", "gave_up"))):
        Delivery.objects.create(alert=alert, channel=channel, target=f"target-{n}", status=status)
    from siaga.sms.models import Message

    for purpose, status in (("alert", "delivered"), ("alert", "delivered"), ("dispatch", "failed")):
        Message.objects.create(purpose=purpose, to="+6281100000001", text="x", status=status)
    Feed.objects.create(name="autogempa", kind="bmkg", url="http://127.0.0.1/x", polls=42, consecutive_failures=0,
                        last_success_at=now - timedelta(seconds=30))
    Feed.objects.create(name="inatews", kind="inatews", url="http://127.0.0.1/y", polls=7, consecutive_failures=3)
    assert Lease("carousel", "node-x:1:abc", 30).acquire()
    head = AuditChainHead.objects.filter(name="default").values_list("last_audit_id", flat=True).first() or 0
    unsealed = AuditLog.objects.filter(id__gt=head).count()

    got = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {monitor}").content.decode())
    assert got[("siaga_database_up", ())] == 1
    assert got[("siaga_calls_ringing", ())] == 3
    assert got[("siaga_alert_deliveries", (("channel", "web"), ("status", "sent")))] == 2
    assert got[("siaga_alert_deliveries", (("channel", "mqtt"), ("status", "retrying")))] == 1
    assert got[("siaga_alert_deliveries", (("channel", "ews"), ("status", "gave_up")))] == 1
    assert got[("siaga_sms_messages", (("purpose", "alert"), ("status", "delivered")))] == 2
    assert got[("siaga_sms_messages", (("purpose", "dispatch"), ("status", "failed")))] == 1
    assert got[("siaga_feed_polls_total", (("feed", "autogempa"),))] == 42
    assert got[("siaga_feed_consecutive_failures", (("feed", "inatews"),))] == 3
    assert 29 <= got[("siaga_feed_lag_seconds", (("feed", "autogempa"),))] < 120
    assert ("siaga_feed_lag_seconds", (("feed", "inatews"),)) not in got  # never read: no lag to give
    assert got[("siaga_lease_holder", (("holder", "node-x:1:abc"), ("role", "carousel")))] == 1
    assert 0 < got[("siaga_lease_expires_in_seconds", (("role", "carousel"),))] <= 30
    assert got[("siaga_audit_unsealed_rows", ())] == unsealed
    # this node's instruments are there from the first scrape
    assert ("siaga_cti_events_total", (("result", "stored"),)) in got or \
        any(name == "siaga_call_answer_seconds_count" for name, _ in got)


def test_the_answer_time_is_observed_once_when_the_answer_commits(client: Client, monitor: str, pbx: Any,
                                                                  django_capture_on_commit_callbacks: Any) -> None:
    from datetime import UTC, datetime

    from siaga.calls.actions import IngestItem, do_ingest_cti_events
    from siaga.formats import cti

    def count() -> tuple[float, float]:
        got = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {monitor}").content.decode())
        return got.get(("siaga_call_answer_seconds_count", ()), 0), \
            got.get(("siaga_call_answer_seconds_bucket", (("le", "15.0"),)), 0)

    before, before_15 = count()
    offered = datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC)
    events = [{"event_id": "m:offered", "type": "call.offered", "call_id": "m", "caller": "081234567890",
               "occurred_at": offered.isoformat()},
              {"event_id": "m:answered", "type": "call.answered", "call_id": "m", "agent": "2001",
               "occurred_at": (offered + timedelta(seconds=12)).isoformat()}]
    for payload in (*events, events[1]):  # the answer sent twice: counted once
        with django_capture_on_commit_callbacks(execute=True):
            do_ingest_cti_events([IngestItem(pbx.integration, cti.validate(payload), payload)])
    after, after_15 = count()
    assert after - before == 1 and after_15 - before_15 == 1  # 12 s: in the 15 s bucket


def test_without_the_database_the_scrape_still_answers(client: Client, monitor: str, monkeypatch: Any) -> None:
    from django.db import OperationalError

    from siaga.runtime.metrics import StateCollector

    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {monitor}")  # the token is cached by now

    def away(self: Any, *args: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(StateCollector, "_families", away)
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {monitor}")
    got = samples(response.content.decode())
    assert response.status_code == 200 and got[("siaga_database_up", ())] == 0
    assert ("siaga_calls_ringing", ()) not in got
