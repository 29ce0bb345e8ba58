"""What the gateway calls: messages in and delivery reports, with their secrets; and a gateway that refuses
or is away (real Kannel with the wrong password; no gateway at all)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from siaga.alerts import dispatch as alert_dispatch
from siaga.alerts.models import Delivery, DeliveryAttempt, DeliveryStatus
from siaga.core import outbox as core_outbox
from siaga.sms import gateway, outbox
from siaga.sms.models import Inbound, Message, MessageStatus, Purpose
from tests.alerts.conftest import issue
from tests.sms.conftest import crew, run_sender, subscribe


def mo_path() -> str:
    url = urlsplit(gateway.mo_url())
    return url.path


def queued(to: str = "+6281100000001") -> Message:
    from siaga.formats import gsm

    return outbox.queue(to, gsm.fit("uji"), Purpose.REPLY)


@pytest.mark.django_db
def test_messages_in_need_the_secret_and_their_fields_and_a_repeat_is_taken_once(sms_settings: Any, client: Any,
                                                                                 reference: None) -> None:
    path = mo_path()
    wrong = path.replace(path.split("/")[-2], "0" * 32)
    assert client.get(wrong, {"id": "a", "from": "0811", "text": "INFO"}).status_code == 403
    missing = client.get(path, {"id": "a", "text": "INFO"})
    assert missing.status_code == 400 and "missing from" in missing.content.decode()
    assert client.get(path, {"id": "a", "from": "0811\x00", "text": "INFO"}).status_code == 400
    first = client.get(path, {"id": "k-1", "from": "081100000001", "to": "112", "text": "INFO"})
    again = client.get(path, {"id": "k-1", "from": "081100000001", "to": "112", "text": "INFO"})
    assert first.status_code == again.status_code == 200 and "already taken" in again.content.decode()
    assert Inbound.objects.count() == 1 and Message.objects.filter(purpose=Purpose.REPLY).count() == 1
    assert client.post(path, {"id": "k-2", "from": "081100000001", "text": "INFO"}).status_code == 200


@pytest.mark.django_db
def test_delivery_reports_are_signed_named_and_never_move_a_message_back(sms_settings: Any, client: Any) -> None:
    message = queued()
    url = urlsplit(gateway.dlr_url(str(message.key)))
    params = dict(p.split("=", 1) for p in url.query.split("&") if not p.endswith(("%d", "%A")))
    assert client.get(url.path, {**params, "s": "0" * 32, "type": "1"}).status_code == 403
    assert client.get(url.path, {**params, "type": "x"}).status_code == 400
    assert client.get(url.path, {**params, "type": "3"}).status_code == 400
    forged_key = "00000000-0000-0000-0000-000000000000"
    unknown = client.get(url.path, {"m": forged_key, "s": gateway.sign("dlr:" + forged_key), "type": "1"})
    assert unknown.status_code == 404 and "no message" in unknown.content.decode()
    assert client.get(url.path, {**params, "type": "8", "answer": "ACK/"}).status_code == 200
    assert Message.objects.get(pk=message.pk).status == MessageStatus.ACCEPTED
    assert client.get(url.path, {**params, "type": "1"}).status_code == 200
    repeat = client.get(url.path, {**params, "type": "1"})
    late = client.get(url.path, {**params, "type": "8", "answer": "late"})
    assert "already recorded" in repeat.content.decode() and late.status_code == 200
    final = Message.objects.get(pk=message.pk)
    assert final.status == MessageStatus.DELIVERED and [r["type"] for r in final.reports] == [8, 1, 8]


@pytest.mark.django_db
def test_a_draft_whose_sms_needs_more_than_three_parts_is_refused_with_the_count(sms_settings: Any,
                                                                                actors: Any) -> None:
    from siaga.alerts import actions
    from siaga.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        actions.do_draft_create(actors["operator"].principal, {
            "hazard": "banjir", "display": "ticker", "headline": "Banjir di Jombang Wetan",
            "description": "Air naik.", "instruction": "Jauhi sungai dan kali. " * 25, "area_codes": ["36.72.05"]})
    assert refused.value.field == "instruction" and "need 5 parts (681 characters" in refused.value.message
    sms_settings.ALERT_CHANNELS = ["web"]  # without the SMS channel the same draft is fine
    assert actions.do_draft_create(actors["operator"].principal, {
        "hazard": "banjir", "display": "ticker", "headline": "Banjir di Jombang Wetan", "description": "Air naik.",
        "instruction": "Jauhi sungai dan kali. " * 25, "area_codes": ["36.72.05"]}).pk


@pytest.mark.django_db
def test_a_gateway_that_is_away_is_tried_again_and_the_other_channels_go_on(sms_settings: Any, actors: Any,
                                                                           settings: Any) -> None:
    settings.ALERT_CHANNELS = ["web", "sms"]
    subscribe("+6281100000001", "36.72.05")
    crew("+6281200000001", "damkar")
    alert = issue(actors)
    # the shared dispatcher sends the web channel and leaves SMS to its own lane
    assert alert_dispatch.send_due() == 1
    assert Delivery.objects.get(alert=alert, channel="web").status == DeliveryStatus.SENT
    assert Delivery.objects.get(alert=alert, channel="sms").status == DeliveryStatus.QUEUED
    run_sender(2)  # the warning's "subscribers" delivery made into one per number, then that one tried
    sms = Delivery.objects.get(alert=alert, channel="sms", target="+6281100000001")
    assert sms.status == DeliveryStatus.RETRYING and "did not answer" in sms.last_error
    assert sms.next_attempt_at > timezone.now() and DeliveryAttempt.objects.filter(delivery=sms).count() == 1
    assert Message.objects.get(delivery=sms).status == MessageStatus.REFUSED
    # a reply queued meanwhile: its try is a row, the next try a new row after the backoff
    message = queued("+6281100000009")
    before = timezone.now()
    assert outbox.send_queued() == 1
    assert Message.objects.get(pk=message.pk).status == MessageStatus.REFUSED
    retry = Message.objects.get(to="+6281100000009", attempt=2)
    wait = core_outbox.POLICY.backoff[0]  # the outbox's one retry policy
    assert retry.status == MessageStatus.QUEUED and before + wait <= retry.due_at <= timezone.now() + wait


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_kannel_refusing_our_credentials_is_final_for_that_try_and_said(kannel: Any, sms_settings: Any,
                                                                       actors: Any) -> None:
    sms_settings.SMS_PASSWORD = "salah"
    gateway.reset()
    subscribe("+6281100000001", "36.72.05")
    alert = issue(actors)
    run_sender(2)
    delivery = Delivery.objects.get(alert=alert, channel="sms", target="+6281100000001")
    assert delivery.status == DeliveryStatus.RETRYING and "HTTP 403" in delivery.last_error
    assert "Authorization failed" in Message.objects.get(delivery=delivery).answer
    assert kannel.received() == []
    # the right password again: the retry goes out
    sms_settings.SMS_PASSWORD = "rahasia"
    gateway.reset()
    alert_dispatch.send_due(now=timezone.now() + timedelta(minutes=1), channel_names=("sms",))
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT
    assert [m.to for m in kannel.wait_received(1)] == ["6281100000001"]
    assert Message.objects.filter(delivery=delivery).count() == 2


@pytest.mark.django_db
def test_reports_written_together_each_say_what_they_did(sms_settings: Any) -> None:
    from siaga.sms import reports

    first, second = queued("+6281100000001"), queued("+6281100000002")
    batch = [reports.parse(str(first.key), "8", "ACK/"), reports.parse(str(first.key), "1"),
             reports.parse(str(first.key), "1"), reports.parse(str(second.key), "16", "rejected"),
             reports.parse("00000000-0000-0000-0000-000000000000", "1")]
    results = reports.apply_many(batch)
    assert [r.changed if isinstance(r, reports.Applied) else r.status for r in results] == [True, True, False, True,
                                                                                          404]
    assert Message.objects.get(pk=first.pk).status == MessageStatus.DELIVERED
    assert Message.objects.get(pk=second.pk).status == MessageStatus.FAILED
    assert [r["type"] for r in Message.objects.get(pk=first.pk).reports] == [8, 1]


@given(key=st.text(max_size=60), kind=st.text(max_size=8), answer=st.text(max_size=300))
def test_property_a_report_is_read_or_refused_with_a_400(key: str, kind: str, answer: str) -> None:
    from siaga.sms import reports

    try:
        report = reports.parse(key, kind, answer)
    except reports.ReportError as exc:
        assert exc.status == 400 and str(exc)
    else:
        assert report.kind in reports.TYPES and len(report.answer) <= 160
