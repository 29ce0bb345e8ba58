"""The operator console for a real night shift, in Chromium at 1366x768 and 1920x1080 (issue 13).

A ringing call is heard, seen and counted in the tab title; the queue and the incident list are searched
and filtered; an incident is created by keyboard with its form above the fold, then amended (agency added
and withdrawn, a note, priority, category and location) with only the legal next steps offered.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.browser.conftest import make_user, screenshot
from tests.browser.test_flows import api, offered_and_answered
from tests.e2e.servers import Server

pytestmark = pytest.mark.slow
SIZES = [(1366, 768), (1920, 1080)]


def offered(site: Server, number: str) -> str:
    """A call offered to the queue and left ringing; returns its PBX call id."""
    call_id = f"ring-{uuid.uuid4().hex[:10]}"
    response = httpx.post(site.url + "/api/v1/cti/events", headers=site.headers("pbx"), json={
        "event_id": f"{call_id}:offered", "type": "call.offered", "call_id": call_id,
        "occurred_at": (datetime.now(UTC) - timedelta(seconds=2)).isoformat(), "caller": number, "line": "112"})
    assert response.status_code == 201, response.text
    return call_id


def answer(site: Server, call_id: str, agent: str) -> None:
    response = httpx.post(site.url + "/api/v1/cti/events", headers=site.headers("pbx"), json={
        "event_id": f"{call_id}:answered", "type": "call.answered", "call_id": call_id,
        "occurred_at": datetime.now(UTC).isoformat(), "agent": agent})
    assert response.status_code == 201, response.text


def in_view(page: Any, selector: str) -> bool:
    """The element is drawn inside the window, without the user scrolling anything."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] + box["width"] <= size["width"]


def test_a_ringing_call_is_heard_seen_and_counted_and_the_mute_is_the_users(login: Any, site: Server) -> None:
    user = make_user(site, "ring3001", extension="3001")
    page = login(user, 1366, 768)
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    sound = page.request.get(site.url + page.get_attribute("#ring-audio", "src"))
    assert sound.status == 200 and sound.body()[:4] == b"OggS"  # the sound ships with the app
    call_id = offered(site, "081277773001")
    page.wait_for_selector("#ring-banner:not([hidden])", timeout=5000)
    assert "+6281277773001" in page.inner_text("#ring-banner")
    assert page.title().startswith("(") and "Berdering" in page.title()
    page.wait_for_function("document.getElementById('console').dataset.ring === 'playing'", timeout=5000)
    # the sound really plays: the audio element decoded the shipped file and its clock moves
    page.wait_for_function("(() => { const a = document.getElementById('ring-audio');"
                           " return !a.paused && a.duration > 2 && a.currentTime > 0.2; })()", timeout=5000)
    assert "ringing" in (page.get_attribute("body", "class") or "")
    assert page.is_hidden("#ring-blocked")
    screenshot(page, "console-ringing-1366")

    page.keyboard.press("m")  # mute: the flash and the title stay, the sound stops
    page.wait_for_function("document.getElementById('console').dataset.ring === 'silent'", timeout=5000)
    me = page.request.get(site.url + "/api/v1/me").json()
    assert me["ring_muted"] is True
    page.reload()
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    page.wait_for_selector("#ring-banner:not([hidden])", timeout=5000)
    assert page.get_attribute("#ring-toggle", "aria-pressed") == "false"  # kept for this user
    assert page.get_attribute("#console", "data-ring") == "silent"
    page.click("#ring-toggle")
    page.wait_for_function("document.getElementById('console').dataset.ring === 'playing'", timeout=5000)

    answer(site, call_id, "3001")  # answered here: it stops ringing
    page.wait_for_selector("#ring-banner", state="hidden", timeout=5000)
    assert not page.title().startswith("(")
    assert page.get_attribute("#console", "data-ring") == "off"
    assert page.errors == []


def test_the_queue_and_the_incident_list_are_searched_and_filtered(login: Any, site: Server) -> None:
    user = make_user(site, "filter3002", group="supervisor", extension="3002")
    numbers = ["081277773011", "081277773012", "081277773013"]
    ids = [offered_and_answered(site, n, agent="3002") for n in numbers]
    httpx.post(f"{site.url}/api/v1/calls/{ids[1]}/tag", headers=site.headers("supervisor"), json={"outcome": "ghost"})
    flood, _ = (httpx.post(site.url + "/api/v1/incidents", headers=site.headers("supervisor"),
                           json={"category": "banjir", "description": "Air setinggi lutut di Jl. Filter Satu",
                                 "lat": -6.0171, "lon": 106.0556}).json(), None)
    fire = httpx.post(site.url + "/api/v1/incidents", headers=site.headers("supervisor"),
                      json={"category": "kebakaran", "description": "Gudang terbakar",
                            "address": "Jl. Filter Dua"}).json()
    page = login(user, 1366, 768)
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    page.click("#scope-all")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q-search"
    page.keyboard.type("0812 7777 3012")  # as a caller reads it out
    page.wait_for_function("document.querySelectorAll('#queue li.call').length === 1", timeout=5000)
    assert page.locator(f"#queue li.call[data-call='{ids[1]}']").count() == 1
    page.fill("#q-search", "77773")
    page.select_option("#q-tag", "untagged")
    page.wait_for_selector(f"#queue li.call[data-call='{ids[1]}']", state="detached", timeout=5000)
    assert page.locator(f"#queue li.call[data-call='{ids[0]}']").count() == 1
    page.select_option("#q-tag", "")
    page.select_option("#q-state", "ringing")
    page.wait_for_selector(f"#queue li.call[data-call='{ids[0]}']", state="detached", timeout=5000)
    page.select_option("#q-state", "")

    page.wait_for_selector(f"#incidents li[data-incident='{flood['id']}']", timeout=5000)
    page.select_option("#i-category", "kebakaran")
    page.wait_for_selector(f"#incidents li[data-incident='{flood['id']}']", state="detached", timeout=5000)
    assert page.locator(f"#incidents li[data-incident='{fire['id']}']").count() == 1
    page.select_option("#i-category", "")
    page.fill("#i-search", flood["ticket"])
    page.wait_for_function(f"document.querySelectorAll('#incidents li[data-incident]').length === 1 && "
                           f"!!document.querySelector(\"#incidents li[data-incident='{flood['id']}']\")", timeout=5000)
    page.fill("#i-search", "")
    kecamatan = api(site, f"/incidents/{flood['id']}")["kecamatan_id"]
    page.select_option("#i-kecamatan", str(kecamatan))
    page.wait_for_selector(f"#incidents li[data-incident='{fire['id']}']", state="detached", timeout=5000)
    assert page.locator(f"#incidents li[data-incident='{flood['id']}']").count() == 1
    screenshot(page, "console-filters-1366")
    assert page.errors == []


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_an_incident_is_created_by_keyboard_and_amended(login: Any, site: Server, width: int, height: int) -> None:
    extension = f"31{width % 100:02d}"
    user = make_user(site, f"amend{width}", extension=extension)
    page = login(user, width, height)
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    call_id = offered_and_answered(site, f"0812777731{width % 100:02d}", with_fix=True, agent=extension)
    page.wait_for_selector(f"li.call.selected[data-call='{call_id}']", timeout=5000)
    page.wait_for_function("document.getElementById('aml-fix').textContent.includes('±14')", timeout=5000)
    page.keyboard.press("n")
    page.wait_for_selector("#f-category:focus")
    assert page.eval_on_selector("#f-priority", "s => s.value") == ""  # no P1 before a category
    page.keyboard.type("kebak")
    page.keyboard.press("Enter")
    assert page.eval_on_selector("#f-priority", "s => s.value") == "1"
    page.wait_for_selector("#f-description:focus")
    page.locator("#map").click(position={"x": 60, "y": 60})  # the caller says "not there": a place on the map
    page.wait_for_function("!document.getElementById('f-location').textContent.includes('AML')", timeout=5000)
    page.click("#f-description")
    page.keyboard.type("Rumah terbakar")
    page.keyboard.press("Alt+l")  # back to the AML location, with the cursor still in "Uraian"
    page.wait_for_function("document.getElementById('f-location').textContent.includes('AML')", timeout=5000)
    assert page.evaluate("document.activeElement.id") == "f-description"
    assert page.eval_on_selector("#f-description", "t => t.value") == "Rumah terbakar"  # no stray "l"
    # everything needed to finish is on screen at this size
    for selector in ("#f-agencies input[value='damkar']", "#f-submit", "#f-location"):
        assert in_view(page, selector), selector
    screenshot(page, f"console-form-{width}")
    page.uncheck("#f-agencies input[value='polres']")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#incident-ticket", timeout=10000)
    incident_id = api(site, f"/calls/{call_id}")["incident_id"]
    detail = api(site, f"/incidents/{incident_id}")
    # the panel names what a call-taker needs
    facts = page.inner_text("#incident-facts")
    assert "Kebakaran" in facts and "P1" in facts and f"+62812777731{width % 100:02d}" in facts
    assert detail["kelurahan"] and detail["kelurahan"] in facts and detail["kecamatan"] in facts
    # only legal next steps: every dispatch is still "Diminta", so no "Tertangani"
    assert page.locator("#incident-steps [data-step='resolved']").count() == 0
    assert page.locator("#incident-steps [data-step='closed']").count() == 0

    page.select_option("#add-agency-code", "polres")
    page.click("#add-agency-go")
    page.wait_for_selector("table.dispatches tr[data-agency='polres'] td[data-status='requested']", timeout=5000)
    page.once("dialog", lambda dialog: dialog.accept("salah instansi"))
    page.click("table.dispatches tr[data-agency='polres'] .withdraw")
    page.wait_for_selector("table.dispatches tr[data-agency='polres'] td[data-status='cancelled']", timeout=5000)

    page.fill("#note-text", "Penelepon menunggu di depan gang")
    page.press("#note-text", "Enter")
    page.wait_for_function("document.querySelector('.timeline').textContent.includes('menunggu di depan gang')",
                           timeout=5000)

    page.click("#amend summary")
    page.select_option("#e-priority", "2")
    page.select_option("#e-category", "kebocoran-gas-kimia")
    page.fill("#e-address", "Gang Mawar 3")
    page.locator("#map").click(position={"x": 220, "y": 160})  # a new place from the map
    page.wait_for_function("document.getElementById('e-location').textContent.includes('(peta)')", timeout=5000)
    page.click("#e-save")
    # generous: the save, the incident's reload and the panel's redraw, on a loaded CI machine
    page.wait_for_function("document.getElementById('i-fact-address').textContent.includes('Gang Mawar 3')",
                           timeout=15000)
    after = api(site, f"/incidents/{incident_id}")
    assert after["priority"] == 2 and after["address"] == "Gang Mawar 3" and after["category"] == "kebocoran-gas-kimia"
    assert (after["lat"], after["lon"]) != (detail["lat"], detail["lon"])
    actions = {row["action"] for row in api(site, f"/audit?object_type=incidents.incident&object_id={incident_id}")}
    assert "incident.update" in actions
    withdrawn = next(d for d in after["dispatches"] if d["agency"] == "polres")
    assert withdrawn["status"] == "cancelled" and withdrawn["reason"] == "salah instansi"

    # once a unit is on scene, "Tertangani" is offered
    damkar = next(d for d in after["dispatches"] if d["agency"] == "damkar")
    httpx.post(f"{site.url}/api/v1/dispatches/{damkar['id']}/status", headers=site.headers("supervisor"),
               json={"status": "on_scene"})
    page.wait_for_selector("#incident-steps [data-step='resolved']", timeout=5000)
    screenshot(page, f"console-incident-{width}")
    time.sleep(0.2)
    assert page.errors == []


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_an_agency_crew_finds_the_place_and_todays_history(login: Any, site: Server, width: int, height: int) -> None:
    number = f"0812777732{width % 100:02d}"
    call = offered_and_answered(site, number, agent="2001")
    sup = site.headers("supervisor")
    incident = httpx.post(site.url + "/api/v1/incidents", headers=sup, json={
        "category": "kebakaran", "lat": -6.0171, "lon": 106.0556, "call_id": call,
        "address": f"Jl. Agung No. {width}", "description": "Asap tebal dari dapur, dua orang di lantai atas",
        "reporter_name": "Ibu Sari"}).json()
    dispatch = httpx.post(f"{site.url}/api/v1/incidents/{incident['id']}/dispatches", headers=sup,
                          json={"agency": "damkar"}).json()
    page = login("damkar", width, height)
    page.wait_for_selector("#agency[data-ready='1']", timeout=15000)
    page.click(f"#dispatches li[data-dispatch='{dispatch['id']}']")
    page.wait_for_function(f"document.getElementById('detail-ticket')?.textContent.includes('{incident['ticket']}')",
                           timeout=5000)
    detail = api(site, f"/incidents/{incident['id']}")
    assert page.inner_text("#detail-address") == f"Jl. Agung No. {width}"
    assert page.inner_text("#detail-kelurahan") == detail["kelurahan"] != ""
    assert page.inner_text("#detail-kecamatan") == detail["kecamatan"] != ""
    assert "dua orang di lantai atas" in page.inner_text("#detail-description")
    assert page.inner_text("#detail-reporter") == "Ibu Sari"
    assert "null" not in page.inner_text("#detail") and "undefined" not in page.inner_text("#detail")
    assert page.get_attribute("#detail-callback a", "href") == f"tel:+62{number[1:]}"
    assert page.locator("#agency-map path.leaflet-interactive").count() > 0  # the place on the small map
    assert in_view(page, "#detail-callback")
    # links this role cannot open are not shown, and a page it cannot open is a styled page
    assert page.locator("header a[href='/wall/']").count() == 0
    assert page.locator("header a[href='/console/']").count() == 0
    screenshot(page, f"agency-{width}")
    page.keyboard.press("e")  # en route, on scene, completed
    page.wait_for_selector(f"li[data-dispatch='{dispatch['id']}'] button[data-status='on_scene']", timeout=5000)
    page.keyboard.press("s")
    page.wait_for_selector(f"li[data-dispatch='{dispatch['id']}'] button[data-status='completed']", timeout=5000)
    page.keyboard.press("c")
    page.wait_for_selector(f"#history tr[data-dispatch='{dispatch['id']}']", timeout=5000)
    page.fill("#history-search", f"Agung No. {width}")
    page.wait_for_function("document.querySelectorAll('#history tbody tr[data-dispatch]').length === 1", timeout=5000)
    page.fill("#history-search", "tidak-ada-yang-begini")
    page.wait_for_selector(f"#history tr[data-dispatch='{dispatch['id']}']", state="detached", timeout=5000)
    denied = page.goto(site.url + "/console/")
    assert denied is not None and denied.status == 403
    assert page.inner_text("#forbidden h1") == "Akses ditolak" and page.locator("header.bar").count() == 1
    assert page.errors == []
