"""Outbound webhooks against a real HTTP receiver on loopback: signed, retried with backoff, one row per attempt."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from siaga.core import outbox
from siaga.incidents import actions
from siaga.webhooks import tasks
from siaga.webhooks.models import Attempt, Delivery, Webhook

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver that answers with the next status in ``script`` (then 200) and keeps what it got."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.script = list(script or [])
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/siaga"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def fire(actor: Any) -> Any:
    incident, _ = actions.do_create_incident(actor.principal, category="kebakaran", lat=-6.0171, lon=106.0556)
    return incident


def test_nothing_is_queued_without_webhooks(actors: Any) -> None:
    fire(actors["operator"])
    assert not Delivery.objects.exists()


def test_signed_delivery_with_eido(actors: Any, receiver: Receiver) -> None:
    hook = Webhook.objects.create(name="pusdalops", url=receiver.url, topics="incident.")
    incident = fire(actors["operator"])
    actions.do_dispatch(actors["operator"].principal, incident.pk, "damkar")  # incident.updated, dispatch.created
    topics = sorted(Delivery.objects.values_list("topic", flat=True))
    assert topics == ["incident.created", "incident.updated"]  # dispatch.* was not subscribed
    assert tasks.deliver_due() == 2
    assert len(receiver.received) == 2
    first = receiver.received[0]
    body = first["body"]
    expected = hmac.new(hook.secret.encode(), first["headers"]["X-Siaga-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert first["headers"]["X-Siaga-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["topic"] == first["headers"]["X-Siaga-Event"] == "incident.created"
    assert payload["eido"]["incidentComponent"]["internalIncidentId"] == incident.ticket
    assert payload["eido"]["$id"] == f"urn:emergency:uid:incidentid:{incident.ticket}:siaga112.cilegon.go.id"
    assert all(d.status == "delivered" for d in Delivery.objects.all())
    assert Attempt.objects.count() == 2


def test_an_eido_webhook_sends_the_document_alone_and_never_echoes_its_partner(actors: Any, receiver: Receiver,
                                                                              settings: Any) -> None:
    from siaga.core.events import changes_from
    from siaga.core.models import Integration

    partner = Integration.objects.create(name="setda", kind=Integration.Kind.PARTNER)
    hook = Webhook.objects.create(name="setda-eido", url=receiver.url, topics="incident.,dispatch.", format="eido",
                                  partner_name="cc-cilegon", partner=partner)
    incident = fire(actors["operator"])
    assert tasks.deliver_due() == 1
    sent = receiver.received[0]
    document = json.loads(sent["body"])
    assert document["$id"].endswith(f"{incident.ticket}:siaga112.cilegon.go.id") and "topic" not in document
    assert sent["headers"]["X-Siaga-Integration"] == "cc-cilegon"
    expected = hmac.new(hook.secret.encode(), sent["headers"]["X-Siaga-Timestamp"].encode() + b"." + sent["body"],
                        hashlib.sha256).hexdigest()
    assert sent["headers"]["X-Siaga-Signature"] == f"sha256={expected}"
    with changes_from(partner.pk):  # a change that came from this partner does not go back to it
        actions.do_add_note(actors["operator"].principal, incident.pk, "dari Setda")
    assert Delivery.objects.count() == 1
    actions.do_add_note(actors["operator"].principal, incident.pk, "dari kita")
    assert Delivery.objects.count() == 2


def test_retries_with_backoff_until_delivered(actors: Any) -> None:
    flaky = Receiver(script=[500, 503])
    try:
        Webhook.objects.create(name="flaky", url=flaky.url, topics="incident.created")
        fire(actors["operator"])
        now = timezone.now()
        assert tasks.deliver_due(now) == 1
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("retrying", 1)
        first, second = outbox.POLICY.backoff[:2]
        assert delivery.next_attempt_at == now + first
        assert tasks.deliver_due(now + first - timedelta(seconds=1)) == 0  # not due yet
        assert tasks.deliver_due(now + first) == 1
        assert tasks.deliver_due(now + first + second - timedelta(seconds=1)) == 0
        assert tasks.deliver_due(now + first + second) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("delivered", 3)
        assert list(delivery.attempt_rows.values_list("status_code", flat=True)) == [500, 503, 200]
        assert len({r["headers"]["X-Siaga-Delivery"] for r in flaky.received}) == 1  # same event id each time
    finally:
        flaky.close()


def test_unreachable_receiver_gives_up(actors: Any) -> None:
    Webhook.objects.create(name="gone", url="http://127.0.0.1:9/nowhere", topics="incident.created")
    fire(actors["operator"])
    moment = timezone.now()
    for _ in range(outbox.POLICY.max_attempts):
        moment += timedelta(hours=4)
        tasks.deliver_due(moment)
    delivery = Delivery.objects.get()
    assert delivery.status == "gave_up" and delivery.attempts == outbox.POLICY.max_attempts
    assert "ConnectError" in delivery.last_error
    assert tasks.deliver_due(moment + timedelta(days=1)) == 0
    assert tasks.resend([delivery.pk]) == 1
    assert tasks.deliver_due(moment + timedelta(days=1)) == 1


def test_rolled_back_writes_send_nothing(actors: Any, receiver: Receiver) -> None:
    Webhook.objects.create(name="w", url=receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        fire(actors["operator"])
        raise RuntimeError("abort")
    assert not Delivery.objects.exists()


def test_a_lost_worker_is_replaced_after_the_lease(actors: Any, receiver: Receiver) -> None:
    Webhook.objects.create(name="w", url=receiver.url, topics="incident.created")
    fire(actors["operator"])
    now = timezone.now()
    Delivery.objects.update(status="sending", lease_until=now + timedelta(seconds=30))
    assert tasks.deliver_due(now) == 0
    assert tasks.deliver_due(now + outbox.POLICY.lease) == 1
    assert Delivery.objects.get().status == "delivered"


def test_admin_sees_attempts_and_can_resend(client: Any, actors: Any, receiver: Receiver) -> None:
    Webhook.objects.create(name="w", url=receiver.url, topics="incident.created")
    fire(actors["operator"])
    tasks.deliver_due()
    delivery = Delivery.objects.get()
    client.force_login(actors["admin"].user)
    page = client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert "200" in page and str(delivery.event_id) in page
    client.post("/admin/webhooks/delivery/", {"action": "send_again", "_selected_action": [delivery.pk]})
    tasks.deliver_due()
    assert Attempt.objects.filter(delivery=delivery).count() == 2


def test_a_webhook_secret_never_reaches_the_audit_log_in_clear(client: Any, actors: Any) -> None:
    """Created and changed in the admin: the audit rows hold a fingerprint, and the audit API shows no secret,
    not even of a row written in clear before the field was known to be secret."""
    from siaga.core.models import AuditLog

    client.force_login(actors["admin"].user)
    secret = "s3cret-" + "a" * 40
    response = client.post("/admin/webhooks/webhook/add/", {
        "name": "sig", "url": "https://example.org/hook", "secret": secret, "topics": "incident.",
        "active": "on", "format": "event", "created_at_0": "2026-11-01", "created_at_1": "00:00:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    hook = Webhook.objects.get(name="sig")
    response = client.post(f"/admin/webhooks/webhook/{hook.pk}/change/", {
        "name": "sig", "url": "https://example.org/hook", "secret": secret + "2", "topics": "incident.",
        "active": "on", "format": "event", "created_at_0": "2026-11-01", "created_at_1": "00:00:00"})
    assert response.status_code == 302
    rows = AuditLog.objects.filter(object_type="webhooks.webhook")
    assert rows.count() == 2
    stored = json.dumps([[row.before, row.after] for row in rows])
    assert secret not in stored
    assert rows.get(action__endswith="add").after["secret"].startswith("sha256:")
    # a row as an older version wrote it: the secret in clear in the database, masked on the way out
    AuditLog.objects.create(actor="old", action="admin.change", object_type="webhooks.webhook",
                                  object_id=str(hook.pk), after={"secret": "clear-old-secret"})
    shown = client.get("/api/v1/audit?object_type=webhooks.webhook",
                       HTTP_AUTHORIZATION=f"Bearer {actors['supervisor'].token}")
    assert shown.status_code == 200
    assert secret not in shown.content.decode() and "clear-old-secret" not in shown.content.decode()
    assert all(row["after"]["secret"].startswith("sha256:") for row in shown.json() if row["after"])
    page = client.get(f"/admin/core/auditlog/{rows.first().pk}/change/").content.decode()
    assert secret not in page and "sha256:" in page


def test_a_delivery_that_cannot_be_sent_fails_alone_and_the_others_go(actors: Any, receiver: Receiver) -> None:
    """Found by the outside attack: a partner name that cannot go in an HTTP header (not ASCII) made the whole
    round fail, leaving every row claimed with it 'sending' for good and the healthy webhook without events."""
    Webhook.objects.create(name="bad", url=receiver.url, topics="incident.created", partner_name="Kota Serang\u2013B")
    Webhook.objects.create(name="ok", url=receiver.url, topics="incident.created")
    fire(actors["operator"])
    assert tasks.deliver_due() == 2
    statuses = dict(Delivery.objects.values_list("webhook__name", "status"))
    assert statuses == {"bad": "retrying", "ok": "delivered"}, statuses
    bad = Delivery.objects.get(webhook__name="bad")
    assert bad.attempts == 1 and "UnicodeEncodeError" in bad.last_error
    assert len(receiver.received) == 1
