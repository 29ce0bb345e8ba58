"""Warnings and dispatches through a real Kannel: bearerbox, smsbox and fakesmsc on loopback, calling a
live Siaga112 server back with delivery reports and the messages phones send."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.alerts.models import Delivery, DeliveryStatus
from siaga.sms.models import Message, MessageStatus
from tests.alerts.conftest import issue
from tests.e2e.servers import wait_for
from tests.sms.conftest import crew, run_sender, subscribe

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_warning_reaches_the_warned_kecamatan_only_and_its_cancel_the_same_people(kannel: Any,
                                                                                   actors: Any) -> None:
    from siaga.alerts import actions

    warned = ["+6281100000001", "+6281100000002", "+6281100000003"]
    for number in warned:
        subscribe(number, "36.72.04")  # Ciwandan
    subscribe("+6281100000009", "36.72.05")  # Jombang: not warned
    subscribe("+6281100000008", "36.72.04", active=False)  # said BERHENTI
    alert = issue(actors, hazard="kimia", headline="Kebocoran amonia di Ciwandan", area_codes=["36.72.04"],
                  instruction="Tutup pintu dan jendela, jauhi kawasan industri.", exercise=True,
                  headline_en="Ammonia leak in Ciwandan")
    assert run_sender() == 4  # the warning's one "subscribers" delivery made into three, then the three
    got = kannel.wait_received(3)
    assert sorted(m.to for m in got) == sorted(n.lstrip("+") for n in warned)
    text = got[0].text
    assert text.startswith("LATIHAN - PERINGATAN WASPADA: Kebocoran amonia di Ciwandan. Tutup pintu dan jendela")
    assert "/ EN: EXERCISE - Ammonia leak in Ciwandan" in text
    assert f"/peringatan/{alert.pk}/" in text and got[0].sender == "112"
    # every delivery sent, one message per number, each reported delivered by the SMSC
    fanout = Delivery.objects.get(alert=alert, channel="sms", target="subscribers")
    assert fanout.status == DeliveryStatus.SENT and fanout.result == {"numbers": 3}
    deliveries = Delivery.objects.filter(alert=alert, channel="sms").exclude(pk=fanout.pk)
    assert sorted(d.target for d in deliveries) == warned and {d.status for d in deliveries} == {DeliveryStatus.SENT}
    assert wait_for(lambda: Message.objects.filter(delivery__alert=alert, status=MessageStatus.DELIVERED).count() == 3)
    reports = Message.objects.filter(delivery__alert=alert).first().reports
    assert {r["type"] for r in reports} == {1, 8}

    # a number that subscribes in Ciwandan after the warning never heard of it, nor of its end
    subscribe("+6281100000004", "36.72.04")
    actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "kebocoran sudah teratasi")
    assert run_sender() == 4
    got = kannel.wait_received(6)
    cancels = [m for m in got if "PEMBATALAN" in m.text]
    assert sorted(m.to for m in cancels) == sorted(n.lstrip("+") for n in warned)
    assert cancels[0].text.startswith("LATIHAN - PEMBATALAN: ")


def test_a_warning_cancelled_while_its_sms_go_out_stops_them(kannel: Any, actors: Any) -> None:
    from siaga.alerts import actions

    for n in range(4):
        subscribe(f"+628110000010{n}", "36.72.04")
    alert = issue(actors, hazard="kimia", headline="Kebocoran amonia di Ciwandan", area_codes=["36.72.04"])
    from siaga.sms.sender import send_round

    send_round()  # the fan-out made: four deliveries due
    first = Delivery.objects.filter(alert=alert, channel="sms").exclude(target="subscribers").order_by("pk")[:2]
    alert_dispatch_send(list(first))  # two went out before the supervisor saw the mistake
    actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "salah kirim")
    run_sender()
    states = dict(Delivery.objects.filter(alert=alert, channel="sms").exclude(target="subscribers")
                  .values_list("target", "status"))
    assert sorted(states.values()) == ["sent", "sent", "superseded", "superseded"]
    got = kannel.wait_received(4)
    warned = sorted(m.to for m in got if "PERINGATAN" in m.text)
    assert warned == sorted(t.lstrip("+") for t, s in states.items() if s == "sent")
    assert sorted(m.to for m in got if "PEMBATALAN" in m.text) == warned  # only they hear it is over


def alert_dispatch_send(deliveries: list[Any]) -> None:
    """Send these deliveries only, as the sms lane would (the others stay due)."""
    from siaga.alerts import dispatch
    from siaga.alerts.models import Delivery as DeliveryModel

    others = DeliveryModel.objects.filter(channel="sms", status="queued").exclude(pk__in=[d.pk for d in deliveries])
    later = timezone.now() + timedelta(hours=1)
    held = list(others.values_list("pk", flat=True))
    others.update(next_attempt_at=later)
    dispatch.send_due(channel_names=("sms",))
    DeliveryModel.objects.filter(pk__in=held).update(next_attempt_at=timezone.now())


def test_a_long_warning_goes_in_three_parts_and_a_character_outside_gsm_in_ucs2(kannel: Any, actors: Any) -> None:
    subscribe("+6281100000011", "36.72.04")
    long_instruction = ("Segera menjauh dari pantai dan kawasan industri menuju tempat evakuasi terdekat yang "
                        "sudah ditentukan; ikuti arahan petugas BPBD, jangan kembali sebelum ada pengumuman resmi, "
                        "bawa dokumen penting, obat-obatan dan air minum secukupnya untuk keluarga Anda.")
    issue(actors, hazard="kimia", headline="Kebocoran gas di Ciwandan", area_codes=["36.72.04"],
          instruction=long_instruction, headline_en="Gas leak in Ciwandan")
    run_sender()
    first = kannel.wait_received(1)[0]
    assert first.parts in (2, 3) and "jangan kembali sebelum ada pengumuman resmi" in first.text
    issue(actors, hazard="kimia", headline="Asap pekat di Ciwandan 危险", area_codes=["36.72.04"],
          instruction="Tutup jendela.")
    run_sender()
    second = kannel.wait_received(2)[1]
    assert "危险" in second.text  # sent as UCS-2, read back as UCS-2
    message = Message.objects.filter(text__contains="危险").get()
    assert message.encoding == "ucs2"


def test_a_crew_works_a_dispatch_by_sms_and_the_agency_view_shows_it(kannel: Any, actors: Any, client: Any) -> None:
    from siaga.incidents import actions as incidents
    from siaga.incidents.models import Dispatch

    crew("+6281200000001", "damkar", "Regu A Damkar")
    operator = actors["operator"].principal
    incident, _ = incidents.do_create_incident(operator, category="kebakaran", lat=-6.0171, lon=106.0556,
                                            address="Jl. Sultan Ageng Tirtayasa No. 10", description="Gudang terbakar",
                                            reporter_name="Budi", reporter_phone="081234567890")
    dispatch, _ = incidents.do_dispatch(operator, incident.pk, "damkar")
    run_sender()
    sms = kannel.wait_received(1)[0]
    assert sms.to == "6281200000001"
    assert incident.ticket in sms.text and "Jl. Sultan Ageng Tirtayasa No. 10" in sms.text
    assert "Kel. Jombang Wetan, Kec. Jombang" in sms.text and "081234567890" in sms.text
    assert "/l/" in sms.text and f"Balas: 1 {incident.ticket} terima" in sms.text
    link = sms.text.split("/l/", 1)[1].split()[0]
    page = client.get(f"/l/{link}")
    assert page.status_code == 200 and "-6.01710" in page.content.decode() and "Budi" not in page.content.decode()

    kannel.send("6281200000001", f"1 {incident.ticket}")
    assert wait_for(lambda: Dispatch.objects.get(pk=dispatch.pk).status == "acknowledged")
    kannel.send("6281200000001", "2")
    assert wait_for(lambda: Dispatch.objects.get(pk=dispatch.pk).status == "en_route")
    run_sender()
    replies = sorted(m.text for m in kannel.wait_received(3)[1:])  # handed over side by side: in any order
    assert replies[0].startswith(f"OK {incident.ticket}: berangkat dicatat")
    assert replies[1].startswith(f"OK {incident.ticket}: diterima dicatat")

    # the agency's page and the wall's list say the steps came by SMS; the audit names the crew's number
    client.force_login(actors["agency"].user)
    detail = client.get(f"/api/v1/incidents/{incident.pk}").json()
    mine = next(d for d in detail["dispatches"] if d["id"] == dispatch.pk)
    assert mine["sms_steps"] == ["acknowledged", "en_route"]
    assert [e["data"].get("via") for e in detail["timeline"] if e["kind"] == "dispatch_status"] == ["sms", "sms"]
    listed = client.get("/api/v1/incidents?open=true").json()
    assert next(i for i in listed if i["id"] == incident.pk)["sms_agencies"] == ["damkar"]
    from siaga.core.models import AuditLog

    assert AuditLog.objects.filter(action="dispatch.en_route", actor__startswith="sms:+6281200000001").exists()


def test_keywords_subscribe_stop_and_help_over_the_gateway(kannel: Any, reference: None) -> None:
    from siaga.sms.models import Inbound, Subscriber

    kannel.send("6281300000001", "daftar kepuh")
    assert wait_for(lambda: Subscriber.objects.filter(phone="+6281300000001", active=True).exists())
    subscriber = Subscriber.objects.get(phone="+6281300000001")
    assert (subscriber.kelurahan.name, subscriber.kecamatan.name, subscriber.source) == ("Kepuh", "Ciwandan", "sms")
    kannel.send("6281300000001", "BERHENTI")
    assert wait_for(lambda: not Subscriber.objects.get(phone="+6281300000001").active)
    kannel.send("6281300000001", "apa ini")
    assert wait_for(lambda: Inbound.objects.count() == 3)
    run_sender()
    replies = [m.text for m in kannel.wait_received(3)]  # handed over side by side: in any order
    assert len(replies) == 3 and all(m.to == "6281300000001" for m in kannel.received())
    assert sum("terdaftar untuk SMS peringatan dini Kel. Kepuh, Kec. Ciwandan" in r for r in replies) == 1
    assert sum("Anda tidak lagi menerima SMS peringatan" in r for r in replies) == 1
    assert sum(r.startswith("Perintah tidak dikenal.") and "DAFTAR <kelurahan>" in r for r in replies) == 1
