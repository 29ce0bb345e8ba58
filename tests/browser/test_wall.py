"""The wall during a warning (issue 13): it says what (the level first) and where (the warned kecamatan on
the map, named in the side panel), with a legend, and the KPI row stays in sight; 1920x1080, nothing scrolls."""

import subprocess
from typing import Any

import httpx
import pytest

from tests.browser.conftest import screenshot
from tests.e2e.servers import SIAGA, Server

pytestmark = pytest.mark.slow


def lines_of(page: Any, selector: str) -> list[float]:
    """The height of each element, in lines of its own font (1.0 = a single line)."""
    return page.eval_on_selector_all(selector, """els => els.map(e => {
        const style = getComputedStyle(e);
        const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.45;
        return e.getBoundingClientRect().height / line; })""")


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_the_wall_says_what_and_where_during_a_warning(login: Any, site: Server) -> None:
    kecamatan = httpx.get(site.url + "/api/v1/regions/kecamatan", headers=site.headers("supervisor")).json()
    coast = [k for k in kecamatan if k["name"] in ("Ciwandan", "Pulomerak")]
    assert len(coast) == 2, [k["name"] for k in kecamatan]
    wall = login("wall", 1920, 1080)
    wall.wait_for_selector("#wall[data-ready='1']", timeout=15000)
    assert "Tidak ada peringatan aktif" in wall.inner_text("#warnings")
    assert wall.locator("#legend").is_visible()

    # a manual flood notice for two coastal kecamatan, approved on the desk's API: live on the wall
    draft = httpx.post(site.url + "/api/v1/alerts/drafts", headers=site.headers("operator"), json={
        "hazard": "banjir", "display": "ticker", "headline": "Banjir rob di pesisir Ciwandan dan Pulomerak",
        "description": "Air laut pasang masuk ke permukiman pesisir.", "instruction": "Amankan barang, jauhi pantai.",
        "area_codes": [k["code"] for k in coast], "exercise": True})
    assert draft.status_code == 201, draft.text
    submitted = httpx.post(f"{site.url}/api/v1/alerts/drafts/{draft.json()['id']}/submit",
                           headers=site.headers("operator"))
    assert submitted.status_code == 200, submitted.text
    approved = httpx.post(f"{site.url}/api/v1/alerts/drafts/{draft.json()['id']}/approve",
                          headers=site.headers("supervisor"))
    assert approved.status_code == 201, approved.text
    wall.wait_for_selector("#banner:not([hidden])", timeout=10000)
    assert wall.inner_text("#banner .level").strip() == "WASPADA"  # the level a ticker notice carries
    wall.wait_for_function("document.getElementById('wall').dataset.warnedAreas === '2'", timeout=5000)
    warned = wall.eval_on_selector_all("#by-kecamatan li.warned", "els => els.map(e => e.dataset.kecamatan)")
    assert sorted(warned) == sorted(k["code"] for k in coast)
    assert "Ciwandan" in wall.inner_text("#warnings") and "Pulomerak" in wall.inner_text("#warnings")
    assert wall.locator("path[data-warned='ticker']").count() == 2

    # a BMKG tsunami warning, AWAS, for the whole city (written by the pipeline's own action)
    script = (
        "from django.db import transaction; from django.utils import timezone;"
        "from siaga.hazards.models import HazardEvent; from siaga.hazards.policy import Decision;"
        "from siaga.alerts.actions import apply_hazard_event\n"
        "with transaction.atomic():\n"
        "    e = HazardEvent.objects.create(key='bmkg-wall-awas', origin_time=timezone.now(), lat=-6.60, lon=105.40,"
        " magnitude=7.8, depth_km=10, region='Selat Sunda', distance_km=75, display='fullscreen', ews_level='AWAS',"
        " tsunami_potential=True, exercise=True)\n"
        "    apply_hazard_event(e, Decision('fullscreen', 'AWAS', 75.0, ('tsunami_potential_near',)))")
    made = subprocess.run([*SIAGA, "shell", "-c", script], env=site.env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    wall.reload()
    wall.wait_for_selector("#wall[data-ready='1']", timeout=15000)
    wall.wait_for_selector("#banner.fullscreen:not([hidden])", timeout=10000)
    assert wall.get_attribute("#wall", "data-level") == "AWAS"
    assert wall.inner_text("#banner .line .level") == "AWAS"
    assert all(height < 1.6 for height in lines_of(wall, "#banner .line")), lines_of(wall, "#banner .line")
    # the KPI row is in sight, below the banner, not under it
    banner, kpis = box(wall, "#banner"), box(wall, "#kpis")
    assert kpis["y"] >= banner["y"] + banner["height"] and kpis["y"] + kpis["height"] <= 1080
    wall.wait_for_function(f"document.getElementById('wall').dataset.warnedAreas === '{len(kecamatan)}'",
                           timeout=5000)
    assert wall.locator("path[data-warned='fullscreen']").count() == len(kecamatan)
    assert "AWAS" in wall.inner_text("#warnings")
    assert "evacuation-alert" in (wall.get_attribute("#wall", "class") or "")
    assert wall.locator("#legend").is_visible() and "jalur evakuasi" in wall.inner_text("#legend")
    size = wall.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size[0] <= 1920 and size[1] <= 1080, size
    screenshot(wall, "wall-awas-1920")
    assert wall.errors == [], wall.errors  # type: ignore[attr-defined]


def test_the_desk_pairs_each_box_with_its_name_and_a_cancelled_page_says_so_on_a_phone(
        login: Any, site: Server, browser: Any) -> None:
    from tests.browser.conftest import new_context

    desk = login("operator", 1366, 768)
    desk.goto(site.url + "/peringatan/kelola/")
    rows = desk.eval_on_selector_all("#draft-form .check-row", """rows => rows.map(r => {
        const box = r.querySelector('input').getBoundingClientRect();
        const name = r.querySelector('span').getBoundingClientRect();
        const drift = Math.abs((box.top + box.bottom) / 2 - (name.top + name.bottom) / 2);
        return [box.right, name.left, drift, box.width]; })""")
    assert len(rows) >= 9  # the kecamatan and "Latihan"
    for right, left, drift, width in rows:
        assert right <= left <= right + 12 and drift < 6 and width < 30, (right, left, drift, width)
    assert "Severe" not in desk.inner_text("#draft-form") and "Berat" in desk.inner_text("#draft-form")
    screenshot(desk, "desk-1366")

    sup, op = site.headers("supervisor"), site.headers("operator")
    draft = httpx.post(site.url + "/api/v1/alerts/drafts", headers=op, json={
        "hazard": "kimia", "headline": "Kebocoran gas di kawasan industri Ciwandan, jauhi area pabrik " * 2,
        "description": "Uji tata letak halaman di ponsel. " * 5, "instruction": "Tetap di dalam rumah.",
        "exercise": True}).json()
    httpx.post(f"{site.url}/api/v1/alerts/drafts/{draft['id']}/submit", headers=op)
    alert = httpx.post(f"{site.url}/api/v1/alerts/drafts/{draft['id']}/approve", headers=sup).json()
    cancelled = httpx.post(f"{site.url}/api/v1/alerts/threads/{alert['summary']['thread']}/cancel", headers=sup,
                           json={"reason": "uji selesai"})
    assert cancelled.status_code == 201, cancelled.text
    phone_context = new_context(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = phone_context.new_page()
    phone.goto(f"{site.url}/peringatan/{alert['summary']['id']}/")
    mark = phone.locator("#state-mark")
    assert mark.is_visible() and mark.inner_text().startswith("DIBATALKAN")
    assert box(phone, "#state-mark")["y"] < box(phone, "h1")["y"]  # at the top, before the headline
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing pushes the page sideways
    assert "Cancel" not in phone.inner_text("main") and "Pembatalan" in phone.inner_text("main")
    screenshot(phone, "public-cancelled-390")
    phone_context.close()
