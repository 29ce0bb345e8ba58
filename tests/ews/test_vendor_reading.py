"""What real receivers would show, read by an independent reader (tests/ews/vendor_reader.py, written from
EWS-RECEIVERS.md) from the transport streams the product makes: the carousel over UDP, and
``siaga ews encode|from-cap``. Each Cilegon postcode is asked, and postcodes outside the city too."""

import csv
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from siaga.alerts import actions
from siaga.alerts.models import Alert
from siaga.broadcast import onair
from siaga.broadcast.service import CarouselService, make_carousel
from siaga.ews import layout
from tests import clock
from tests.alerts.conftest import issue, send_all, udp_port
from tests.ews.vendor_reader import VendorBox, shows
from tests.hazards.conftest import feeds, replay  # noqa: F401 (the BMKG replay fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
POSTCODES_CSV = Path(__file__).resolve().parents[2] / "src/siaga/core/data/geo/cilegon_kelurahan_postcodes.csv"
with POSTCODES_CSV.open(encoding="utf-8") as handle:
    ROWS = list(csv.DictReader(handle))
CILEGON = sorted({row["postal_code"] for row in ROWS})
CIWANDAN = sorted({row["postal_code"] for row in ROWS if row["kemendagri_code"].startswith("36.72.04")})
OUTSIDE = ["42111", "42455", "15111", "42410", "42430"]  # Kota Serang, Kab. Serang, Tangerang, near misses
ALL_KECAMATAN = [f"36.72.0{n}" for n in range(1, 9)]




def carousel_now(seconds: float = 1.0) -> bytes:
    """What the carousel thread sends for what is on air now (its own code: make_carousel, sections)."""
    carousel = make_carousel()
    carousel.set_sections(onair.snapshot().sections())
    return carousel.seconds(seconds)


def test_a_tsunami_warning_is_awas_on_every_cilegon_postcode_over_udp_and_nothing_outside(
        feeds: Any, ews_only: Any) -> None:  # noqa: F811 (the fixture)
    port = udp_port()
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", port))
    listener.settimeout(2)
    service = CarouselService([f"127.0.0.1:{port}"])
    service.start()
    try:
        assert service.ready.wait(5)
        feeds.publish("inatews", "inatews_drill_selat_sunda_PD1.json")
        feeds.poll("warning")
        send_all()
        alert = Alert.objects.latest("pk")
        assert "AWAS" in alert.xml and set(alert.postcodes) == set(CILEGON)
        deadline, data = time.monotonic() + 3, b""
        while time.monotonic() < deadline:
            data += listener.recv(2048)
        seen = shows(data, CILEGON + OUTSIDE)
        assert {code: seen[code] for code in CILEGON} == dict.fromkeys(CILEGON, "AWAS")
        assert {code: seen[code] for code in OUTSIDE} == dict.fromkeys(OUTSIDE)
        box = VendorBox("42431")
        box.read(data)
        assert box.screen.disaster == 0x02 and "TSUNAMI" in box.screen.text.upper()
        assert "LATIHAN" not in box.screen.text or alert.status == "Exercise"
    finally:
        service.stop()
        service.join(5)
        listener.close()


def test_the_mediatek_form_when_the_head_end_is_set_to_it(actors: Any, ews_only: Any) -> None:
    ews_only.EWS_TMDW_FORM = "mtk"
    issue(actors, display="fullscreen", severity="Extreme", hazard="kimia", area_codes=ALL_KECAMATAN,
          headline="Kebocoran amonia")
    send_all()
    data = carousel_now()
    assert shows(data, CILEGON, tmdw="mtk", wildcards=False) == dict.fromkeys(CILEGON, "AWAS")
    box = VendorBox("42417", tmdw="mtk", wildcards=False)
    assert "amonia" in box.read(data).text


def test_two_warnings_that_share_postcodes_each_postcode_shows_the_strongest(actors: Any, ews_only: Any) -> None:
    chemical = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia", area_codes=["36.72.04"],
                     headline="Kebocoran amonia di Ciwandan")
    send_all()
    flood = issue(actors, display="ticker", area_codes=ALL_KECAMATAN, headline="Hujan lebat di seluruh kota")
    send_all()  # the WASPADA came later: it must not replace the AWAS anywhere
    seen = shows(carousel_now(), CILEGON + OUTSIDE)
    assert {c for c in CILEGON if seen[c] == "AWAS"} == set(CIWANDAN)
    assert all(seen[c] == "WASPADA" for c in CILEGON if c not in CIWANDAN)
    assert all(seen[c] is None for c in OUTSIDE)
    packages = onair.snapshot().packages
    assert sum(len(p.locations) for p in packages) == 29 and all(len(p.locations) <= 5 for p in packages)

    # the AWAS ends (a supervisor's Cancel): Ciwandan falls back to the flood; then the flood ends too
    actions.do_cancel_thread(actors["supervisor"].principal, chemical.thread_id, "gas sudah aman")
    send_all()
    assert shows(carousel_now(), CIWANDAN) == dict.fromkeys(CIWANDAN, "WASPADA")
    actions.do_cancel_thread(actors["supervisor"].principal, flood.thread_id, "hujan reda")
    send_all()
    data = carousel_now()
    assert shows(data, CILEGON) == dict.fromkeys(CILEGON)
    assert data  # an empty TRDW is still on air: silence would leave boxes as they were


def test_an_ended_warning_leaves_boxes_that_were_showing_it(actors: Any, ews_only: Any) -> None:
    alert = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia", area_codes=ALL_KECAMATAN)
    send_all()
    carousel = make_carousel()
    carousel.set_sections(onair.snapshot().sections())
    boxes = {code: VendorBox(code) for code in CILEGON}
    first = carousel.seconds(1.0)
    assert all(box.read(first).level == "AWAS" for box in boxes.values())
    actions.do_cancel_thread(actors["supervisor"].principal, alert.thread_id, "latihan selesai")
    send_all()
    carousel.set_sections(onair.snapshot().sections())  # the same carousel goes on: one continuous stream
    second = carousel.seconds(1.0)
    assert all(box.read(second).level is None for box in boxes.values())


def test_a_carousel_change_during_an_awas(actors: Any, ews_only: Any) -> None:
    coast = [code for code in ALL_KECAMATAN if code != "36.72.05"]  # all but Jombang
    tsunami = issue(actors, display="fullscreen", severity="Extreme", hazard="tsunami", area_codes=coast,
                    headline="AWAS TSUNAMI")
    send_all()
    before = onair.snapshot()
    carousel = make_carousel()
    carousel.set_sections(before.sections())
    box = VendorBox("42431")
    assert box.read(carousel.seconds(1.0)).level == "AWAS"
    # a new text for the same warning: only the TMDW changes; the box never leaves the full screen
    actions.do_update_thread(actors["supervisor"].principal, tsunami.thread_id, display="fullscreen",
                             headline="AWAS TSUNAMI: gelombang pertama diperkirakan 17:25 WIB")
    send_all()
    after = onair.snapshot()
    assert after.versions["TRDW"] == before.versions["TRDW"] and after.versions["TMDW"] != before.versions["TMDW"]
    box.history.clear()
    carousel.set_sections(after.sections())
    screen = box.read(carousel.seconds(1.0))
    assert screen.level == "AWAS" and "17:25" in screen.text
    assert all(s.level == "AWAS" for s in box.history)
    # a warning for somewhere else changes the TRDW: the box leaves and rebuilds, and ends on the AWAS
    issue(actors, display="ticker", hazard="banjir", area_codes=["36.72.05"], headline="Banjir di Jombang")
    send_all()
    moved = onair.snapshot()
    assert moved.versions["TRDW"] != after.versions["TRDW"]
    carousel.set_sections(moved.sections())
    assert box.read(carousel.seconds(1.0)).level == "AWAS"


def test_siaga_ews_encode_and_from_cap_are_read_by_real_receivers(actors: Any, ews_only: Any,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "encode.ts"
    done = subprocess.run([*clock.siaga(), "--lang", "en", "ews", "encode", "--level", "AWAS", "--disaster", "02",
                           "--postcodes",
                           ",".join(CILEGON), "--message", "AWAS TSUNAMI. Segera evakuasi.", "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "6 package(s)" in done.stderr
    seen = shows(out.read_bytes(), CILEGON + OUTSIDE)
    assert [c for c in CILEGON if seen[c] != "AWAS"] == [] and all(seen[c] is None for c in OUTSIDE)

    alert = issue(actors, display="fullscreen", severity="Extreme", hazard="kimia", area_codes=["36.72.04"],
                  headline="Kebocoran amonia di Ciwandan")
    flood = issue(actors, display="ticker", area_codes=ALL_KECAMATAN, headline="Hujan lebat")
    files = []
    for n, item in enumerate((flood, alert)):
        path = tmp_path / f"alert{n}.xml"
        path.write_text(item.xml, encoding="utf-8")
        files.append(str(path))
    out = tmp_path / "from-cap.ts"
    done = subprocess.run([*clock.siaga(), "--lang", "en", "ews", "from-cap", *files, "--out", str(out)],
                          capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = shows(out.read_bytes(), CILEGON)
    assert {c for c in CILEGON if seen[c] == "AWAS"} == set(CIWANDAN)
    assert {c for c in CILEGON if seen[c] == "WASPADA"} == set(CILEGON) - set(CIWANDAN)
    assert layout.PROGRAM_NUMBER == 0x038F
