"""The ews channel and the carousel: alerts issued through the real actions, delivered by the real
dispatcher, put on air in the database (packages of at most five postcodes, a version per sub-table), sent
as MPEG-TS over real UDP to a set-top box that shows them."""

import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.alerts import actions
from siaga.alerts.models import Delivery, DeliveryStatus
from siaga.broadcast import onair
from siaga.broadcast.models import CarouselState, OnAir
from siaga.broadcast.service import CarouselService
from siaga.broadcast.stb import SetTopBox
from siaga.ews.demux import Demux
from siaga.ews.sections import CarouselReader
from tests.alerts.conftest import issue, send_all, udp_port

pytestmark = pytest.mark.django_db(transaction=True)




def test_an_alert_its_update_and_its_cancel_go_on_air_once_each(actors: Any, ews_only: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # every message of the thread is sent seconds after the one before (as when a person types the update):
    # the date on TV stays the warning's own
    ticks = iter(range(1, 1000))
    monkeypatch.setattr(actions, "_now", lambda: timezone.now().replace(microsecond=0)
                        + timedelta(seconds=5 * next(ticks)))
    alert = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia",
                  headline="Kebocoran amonia di Ciwandan", area_codes=["36.72.03"])
    send_all()
    row = Delivery.objects.get(alert=alert)
    assert (row.channel, row.target, row.status, row.attempts) == ("ews", "carousel", DeliveryStatus.SENT, 1)
    assert row.result["on_air"] is True and row.result["level"] == "AWAS"  # full screen on TV is AWAS
    assert row.result["postcodes"] == sorted(alert.postcodes)
    first = onair.snapshot()
    assert first.versions == row.result["versions"] and first.warnings == 1
    assert sorted(c for p in first.packages for c in p.postcodes) == sorted(alert.postcodes)
    assert all(len(p.locations) <= 5 for p in first.packages)
    package = first.packages[0]
    assert package.authority == "BNPB" and package.disaster_code == 0x0C and "LATIHAN" not in package.text

    # a new level changes every sub-table; a new text alone changes only the TMDW
    update = actions.do_update_thread(actors["supervisor"].principal, alert.thread_id, display="ticker",
                                      headline="Kebocoran amonia teratasi sebagian")
    send_all()
    second = onair.snapshot()
    assert {p.level for p in second.packages} == {"WASPADA"} and "teratasi" in second.packages[0].text
    assert all(second.versions[t] == (first.versions[t] + 1) % 32 for t in ("TRDW", "TMDW"))
    assert Delivery.objects.get(alert=update).result["on_air"] is True
    actions.do_update_thread(actors["supervisor"].principal, alert.thread_id, display="ticker",
                             headline="Kebocoran amonia teratasi")
    send_all()
    third = onair.snapshot()
    assert third.versions["TRDW"] == second.versions["TRDW"] and third.versions["TCDW"] == second.versions["TCDW"]
    assert third.versions["TMDW"] == (second.versions["TMDW"] + 1) % 32
    assert third.packages[0].date == first.packages[0].date  # when the warning began, not its last update

    cancel = actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "gas sudah aman")
    send_all()
    gone = onair.snapshot()
    assert gone.packages == [] and gone.versions["TRDW"] == (third.versions["TRDW"] + 1) % 32
    assert Delivery.objects.filter(alert__thread=alert.thread).count() == 4
    assert Delivery.objects.get(alert=cancel).status == DeliveryStatus.SENT
    assert OnAir.objects.get(thread=alert.thread).ended_at is not None
    assert onair.snapshot().versions == gone.versions  # nothing changed: the same versions


def test_expiry_takes_it_off_the_air_and_the_versions_survive_restarts(actors: Any, ews_only: Any) -> None:
    alert = issue(actors)
    send_all()
    state = onair.snapshot()
    assert {p.level for p in state.packages} == {"WASPADA"}
    assert CarouselState.objects.get().versions == state.versions
    after_expiry = alert.expires + timedelta(seconds=1)
    expired = onair.snapshot(after_expiry)
    assert expired.packages == [] and expired.versions["TRDW"] == (state.versions["TRDW"] + 1) % 32
    again = onair.snapshot(after_expiry)
    assert (again.versions, again.revision) == (expired.versions, expired.revision)


def test_a_late_retry_of_an_older_message_does_not_undo_a_newer_one(actors: Any, ews_only: Any) -> None:
    alert = issue(actors, display="fullscreen", severity="Extreme")
    cancel = actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "salah kirim")
    assert onair.put_on_air(cancel)["skipped"] == "this warning is not on air"
    onair.put_on_air(alert)
    onair.put_on_air(cancel)
    result = onair.put_on_air(alert)  # the alert's delivery retried after the cancel went out
    assert result["skipped"].startswith("a later message")
    assert onair.snapshot().packages == []


def test_the_carousel_over_udp_reaches_a_set_top_box(actors: Any, ews_only: Any) -> None:
    port, box_port = udp_port(), udp_port()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", port))
    listener.settimeout(2)
    alert = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia",
                  headline="Kebocoran amonia di Ciwandan", area_codes=["36.72.03"])
    box = SetTopBox(alert.postcodes[0], "mstar", udp=f"127.0.0.1:{box_port}")
    box.start()
    service = CarouselService([f"127.0.0.1:{port}", f"127.0.0.1:{box_port}"])
    service.start()
    try:
        assert service.ready.wait(5)
        first = listener.recv(2048)
        assert len(first) == 7 * 188 and first[0] == 0x47  # 7 packets per datagram, as IPTV does
        deadline = time.monotonic() + 3
        while not box.state()["watching"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert box.state()["overlay"] == "none" and box.state()["watching"] is True  # it has seen the PAT
        published = time.monotonic()
        send_all()
        deadline = time.monotonic() + 5
        while box.state()["overlay"] != "fullscreen" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert box.state()["overlay"] == "fullscreen", box.state()
        assert time.monotonic() - published < 3
        assert "amonia" in box.state()["text"]
        # the stream on the wire carries exactly what the database says is on air
        demux, reader, found = Demux({0x80}), CarouselReader(), None
        deadline = time.monotonic() + 3
        while found is None and time.monotonic() < deadline:
            for _, section in demux.feed(listener.recv(2048)):
                snapshot = reader.feed(section)
                if snapshot is not None and snapshot.packages:
                    found = snapshot
        state = onair.snapshot()
        assert found is not None and found.versions == state.versions
        assert [p.postcodes for p in found.packages] == [p.postcodes for p in state.packages]
        actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "latihan selesai")
        send_all()
        deadline = time.monotonic() + 5
        while box.state()["overlay"] != "none" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert box.state()["overlay"] == "none"
        time.sleep(0.5)
        assert listener.recv(2048)  # still sending: the empty TRDW says nothing is on air
    finally:
        service.stop()
        service.join(5)
        box.stop()
        listener.close()
