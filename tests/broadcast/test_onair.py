"""The ews channel and the carousel: alerts issued through the real actions, delivered by the real
dispatcher, put on air in the database, sent as MPEG-TS over real UDP to a set-top box that shows them."""

import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.alerts import actions, dispatch
from siaga.alerts.models import Delivery, DeliveryStatus
from siaga.broadcast import onair
from siaga.broadcast.models import CarouselState, OnAir
from siaga.broadcast.service import CarouselService
from siaga.broadcast.stb import SetTopBox
from siaga.ews.demux import Demux
from siaga.ews.sections import CarouselReader
from tests.alerts.conftest import issue, udp_port

pytestmark = pytest.mark.django_db(transaction=True)


def send_all() -> None:
    for _ in range(3):
        dispatch.send_due(now=timezone.now() + timedelta(hours=2))


@pytest.fixture
def ews_only(settings: Any) -> Any:
    settings.ALERT_CHANNELS = ["ews"]
    return settings


def test_an_alert_its_update_and_its_cancel_go_on_air_once_each(actors: Any, ews_only: Any) -> None:
    alert = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia",
                  headline="Kebocoran amonia di Ciwandan", area_codes=["36.72.03"])
    send_all()
    row = Delivery.objects.get(alert=alert)
    assert (row.channel, row.target, row.status, row.attempts) == ("ews", "carousel", DeliveryStatus.SENT, 1)
    assert row.result["on_air"] is True and row.result["level"] in ("AWAS", "SIAGA")
    on_air = OnAir.objects.get(thread=alert.thread)
    package, first_version = on_air.package_id, row.result["version"]
    version, messages = onair.snapshot()
    assert version == first_version and [m.package_id for m in messages] == [package]
    assert set(messages[0].postcodes) == set(alert.postcodes) and messages[0].authority == "BNPB"
    assert messages[0].disaster_code == 0x0C and "LATIHAN" not in messages[0].text

    update = actions.do_update_thread(actors["supervisor"].principal, alert.thread_id, display="ticker",
                                      headline="Kebocoran amonia teratasi sebagian")
    send_all()
    version, messages = onair.snapshot()
    assert version == (first_version + 1) % 32
    assert [(m.package_id, m.level) for m in messages] == [(package, "WASPADA")]
    assert "teratasi" in messages[0].text
    assert Delivery.objects.get(alert=update).result["package_id"] == package

    cancel = actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "gas sudah aman")
    send_all()
    version, messages = onair.snapshot()
    assert [(m.package_id, m.level) for m in messages] == [(package, "END")]
    assert Delivery.objects.filter(alert__thread=alert.thread).count() == 3
    # the END leaves the air after SIAGA_EWS_END_SECONDS; the package id is free again
    later = timezone.now() + timedelta(seconds=ews_only.EWS_END_SECONDS + 1)
    version_after, messages = onair.snapshot(later)
    assert messages == [] and version_after == (version + 1) % 32
    assert OnAir.objects.get(thread=alert.thread).package_id is None
    assert Delivery.objects.get(alert=cancel).status == DeliveryStatus.SENT


def test_expiry_ends_it_on_air_and_the_version_survives_restarts(actors: Any, ews_only: Any) -> None:
    alert = issue(actors)
    send_all()
    version, messages = onair.snapshot()
    assert [m.level for m in messages] == ["WASPADA"]
    assert CarouselState.objects.get().version == version
    after_expiry = alert.expires + timedelta(seconds=1)
    version2, messages = onair.snapshot(after_expiry)
    assert [m.level for m in messages] == ["END"] and version2 == (version + 1) % 32
    # the END carries the headline, not the instruction: an END is on air for minutes, in every repetition
    assert messages[0].text == "BERAKHIR: Banjir di Jombang Wetan"  # the headline, not the instruction
    assert onair.snapshot(after_expiry) == (version2, messages)  # nothing changed: the same version


def test_a_late_retry_of_an_older_message_does_not_undo_a_newer_one(actors: Any, ews_only: Any) -> None:
    alert = issue(actors, display="fullscreen", severity="Extreme")
    cancel = actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "salah kirim")
    assert onair.put_on_air(cancel)["skipped"] == "this warning was never on air"
    onair.put_on_air(alert)
    onair.put_on_air(cancel)
    result = onair.put_on_air(alert)  # the alert's delivery retried after the cancel went out
    assert result["skipped"].startswith("a later message")
    assert [m.level for m in onair.snapshot()[1]] == ["END"]


def test_the_carousel_over_udp_reaches_a_set_top_box(actors: Any, ews_only: Any) -> None:
    port, box_port = udp_port(), udp_port()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", port))
    listener.settimeout(2)
    alert = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia",
                  headline="Kebocoran amonia di Ciwandan", area_codes=["36.72.03"])
    box = SetTopBox(alert.postcodes[0], udp=f"127.0.0.1:{box_port}")
    box.start()
    service = CarouselService([f"127.0.0.1:{port}", f"127.0.0.1:{box_port}"])
    service.start()
    try:
        assert service.ready.wait(5)
        first = listener.recv(2048)
        assert len(first) == 7 * 188 and first[0] == 0x47  # 7 packets per datagram, as IPTV does
        assert box.state()["overlay"] == "none"
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
                if snapshot is not None and snapshot.messages:
                    found = snapshot
        assert found is not None and (found.version, found.messages) == onair.snapshot()
        actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "latihan selesai")
        send_all()
        deadline = time.monotonic() + 5
        while box.state()["overlay"] != "none" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert box.state()["overlay"] == "none"
    finally:
        service.stop()
        service.join(5)
        box.stop()
        listener.close()
