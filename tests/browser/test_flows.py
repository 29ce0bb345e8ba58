"""The whole flow of a 112 call in real Chromium: tag by keyboard, incident and dispatch, agency, wall, languages."""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import screenshot
from tests.e2e.servers import Server

pytestmark = pytest.mark.slow
JAKARTA = ZoneInfo("Asia/Jakarta")


def offered_and_answered(site: Server, number: str, with_fix: bool = False, agent: str = "2001") -> int:
    call_id = f"br-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    for kind, at, extra in (("offered", now - timedelta(seconds=8), {"caller": number, "line": "112"}),
                            ("answered", now - timedelta(seconds=3), {"agent": agent})):
        response = httpx.post(site.url + "/api/v1/cti/events", headers=site.headers("pbx"), json={
            "event_id": f"{call_id}:{kind}", "type": f"call.{kind}", "call_id": call_id,
            "occurred_at": at.isoformat(), **extra})
        assert response.status_code == 201, response.text
        pk = int(response.json()["call_id"])
    if with_fix:
        body = (f'A"ML=1;lt=-6.01712;lg=+106.05563;rd=14;top={now:%Y%m%d%H%M%S};lc=68;pm=G;'
                "si=510100000000000;ei=355458061005220;mcc=510;mnc=10;")
        body += f"ml={len(body) + 6}"
        response = httpx.post(site.url + "/api/v1/aml/sms", headers=site.headers("aml"),
                              json={"sender": number, "text": body})
        assert response.status_code == 201 and response.json()["call_id"] == pk, response.text
    return pk


def api(site: Server, path: str) -> Any:
    response = httpx.get(site.url + "/api/v1" + path, headers=site.headers("supervisor"))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("user", "landing", "marker"), [
    ("operator", "/console/", "#queue"), ("supervisor", "/console/", "#queue"), ("damkar", "/agency/", "#dispatches"),
    ("wall", "/wall/", "#kpis"), ("admin", "/console/", "#queue")])
def test_each_role_logs_in_to_its_screen(login: Any, site: Server, user: str, landing: str, marker: str) -> None:
    page = login(user)
    assert page.url == site.url + landing
    page.wait_for_selector("[data-ready='1']", timeout=15000)
    assert page.locator(marker).count() == 1
    assert page.errors == []


def test_prank_call_is_tagged_and_closed_with_one_keystroke(login: Any, site: Server) -> None:
    page = login("operator")
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    call_id = offered_and_answered(site, "081277770001")
    page.wait_for_selector(f"li.call.selected[data-call='{call_id}']", timeout=5000)  # it became the current call
    keystrokes = 0
    page.keyboard.press("p")
    keystrokes += 1
    page.wait_for_selector(f"li.call[data-call='{call_id}'] .tag.t-prank", timeout=5000)
    assert keystrokes <= 2
    assert api(site, f"/calls/{call_id}")["outcome"] == "prank"
    ghost = offered_and_answered(site, "081277770002")
    page.wait_for_selector(f"li.call.selected[data-call='{ghost}']", timeout=5000)
    page.keyboard.press("g")
    page.wait_for_selector(f"li.call[data-call='{ghost}'] .tag.t-ghost", timeout=5000)
    assert api(site, f"/calls/{ghost}")["outcome"] == "ghost"
    assert page.errors == []


def test_incident_created_dispatched_acknowledged_and_on_the_wall(login: Any, site: Server) -> None:
    operator = login("operator")
    operator.wait_for_selector("#console[data-ready='1']", timeout=15000)
    wall = login("wall", 1920, 1080)
    wall.wait_for_selector("#wall[data-ready='1']", timeout=15000)
    before = int(wall.get_attribute("#wall", "data-incidents") or "0")
    damkar = login("damkar", 1280, 800)
    damkar.wait_for_selector("#agency[data-ready='1']", timeout=15000)

    call_id = offered_and_answered(site, "081277770003", with_fix=True)
    operator.wait_for_selector(f"li.call.selected[data-call='{call_id}']", timeout=5000)
    operator.wait_for_function("document.getElementById('aml-fix').textContent.includes('±14')", timeout=5000)
    started = time.monotonic()
    steps = 0
    operator.keyboard.press("n")  # 1: normal call -> incident form, location from the AML fix
    steps += 1
    operator.wait_for_selector("#f-category:focus")
    operator.keyboard.type("kebak")  # 2: type-ahead
    steps += 1
    operator.keyboard.press("Enter")  # 3: Kebakaran, its priority and agencies
    steps += 1
    operator.keyboard.type("Rumah terbakar di belakang pasar")  # 4
    steps += 1
    operator.keyboard.press("Control+Enter")  # 5: create and dispatch
    steps += 1
    operator.wait_for_selector("#incident-ticket", timeout=10000)
    elapsed = time.monotonic() - started
    assert steps <= 6 and elapsed < 30, (steps, elapsed)
    detail = api(site, f"/calls/{call_id}")
    incident = api(site, f"/incidents/{detail['incident_id']}")
    assert detail["outcome"] == "normal" and incident["category"] == "kebakaran"
    assert {d["agency"] for d in incident["dispatches"]} >= {"damkar", "polres", "psc119"}
    assert incident["kelurahan_id"] is not None and incident["location_accuracy_m"] == 14
    screenshot(operator, "console")

    # the wall shows it live, without reload
    wall.wait_for_function(f"Number(document.getElementById('wall').dataset.incidents) > {before}", timeout=3000)
    screenshot(wall, "wall")

    # Damkar sees its dispatch appear and acknowledges it with one key
    damkar_dispatch = next(d for d in incident["dispatches"] if d["agency"] == "damkar")
    card = f"li[data-dispatch='{damkar_dispatch['id']}']"
    damkar.wait_for_selector(card, timeout=5000)
    damkar.click(card)
    damkar.keyboard.press("a")
    damkar.wait_for_selector(f"{card} button[data-status='en_route']", timeout=5000)
    screenshot(damkar, "agency")
    assert api(site, f"/dispatches/{damkar_dispatch['id']}")["status"] == "acknowledged"
    # ... and the operator's incident panel follows live
    operator.wait_for_selector("table.dispatches td[data-status='acknowledged']", timeout=3000)
    for page in (operator, wall, damkar):
        assert page.errors == []


def test_agency_cannot_see_another_agencys_dispatch(login: Any, site: Server) -> None:
    incident = httpx.post(site.url + "/api/v1/incidents", headers=site.headers("supervisor"),
                          json={"category": "kriminalitas", "description": "pencurian"}).json()
    police = httpx.post(f"{site.url}/api/v1/incidents/{incident['id']}/dispatches", headers=site.headers("supervisor"),
                        json={"agency": "polres"}).json()
    damkar = login("damkar", 1280, 800)
    damkar.wait_for_selector("#agency[data-ready='1']", timeout=15000)
    assert damkar.locator(f"li[data-dispatch='{police['id']}']").count() == 0
    # the browser's own session, through the API
    assert damkar.request.get(f"{site.url}/api/v1/dispatches/{police['id']}").status == 403
    assert damkar.request.get(f"{site.url}/api/v1/incidents/{incident['id']}").status == 403
    assert damkar.request.get(f"{site.url}/console/").status == 403


def test_language_switch(login: Any, site: Server) -> None:
    page = login("operator")
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    assert "Antrian panggilan" in page.inner_text("h2")  # Indonesian first, whatever the browser prefers
    page.select_option("#language", "en")
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    assert "Call queue" in page.inner_text("h2")
    page.select_option("#language", "id")
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    assert "Antrian panggilan" in page.inner_text("h2")


def test_wall_fits_1920_by_1080_without_scrolling(login: Any) -> None:
    page = login("wall", 1920, 1080)
    page.wait_for_selector("#wall[data-ready='1']", timeout=15000)
    size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size[0] <= 1920 and size[1] <= 1080, size


def test_supervisor_lifts_a_block_from_the_console(login: Any, site: Server) -> None:
    number = "081277770099"
    for _ in range(2):
        pk = offered_and_answered(site, number)
        httpx.post(f"{site.url}/api/v1/calls/{pk}/tag", headers=site.headers("supervisor"), json={"outcome": "prank"})
    blocked = httpx.get(site.url + "/api/v1/blocklist", headers=site.headers("pbx")).json()
    assert "+6281277770099" in [b["caller"] for b in blocked["blocks"]]
    page = login("supervisor")
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    latest = offered_and_answered(site, number)
    page.wait_for_selector(f"li.call[data-call='{latest}']", timeout=5000)
    page.click(f"li.call[data-call='{latest}']")
    page.once("dialog", lambda dialog: dialog.accept("penelepon sudah dibina"))
    page.click("#lift", timeout=5000)
    page.wait_for_selector("#strikes:not(.red)", timeout=5000)
    assert page.locator("#lift").count() == 0
    blocked = httpx.get(site.url + "/api/v1/blocklist", headers=site.headers("pbx")).json()
    assert "+6281277770099" not in [b["caller"] for b in blocked["blocks"]]


@pytest.mark.calendar
def test_roster_page_shows_coverage_and_supervisors_edit_it(login: Any, site: Server) -> None:
    # the demo plans this month and the next (Jakarta time); the month after those is nobody's yet
    this_month = datetime.now(JAKARTA).date().replace(day=1)
    month = (this_month + timedelta(days=62)).strftime("%Y-%m")
    page = login("supervisor")
    page.goto(f"{site.url}/roster/?month={month}")
    page.wait_for_selector("#roster[data-ready='1']", timeout=15000)
    cell = f"td[data-cell='{month}-15/pagi']"
    assert "short" in (page.get_attribute(cell, "class") or "")  # nobody planned yet: understaffed
    page.select_option(f"{cell} select[name=username]", "operator")
    # someone else edits the roster meanwhile: the live refresh redraws the grid but keeps this choice
    other = f"{month}-16/malam"
    added = httpx.post(f"{site.url}/api/v1/roster", headers=site.headers("supervisor"),
                       json={"date": f"{month}-16", "shift": "malam", "username": "op02", "role": "operator"})
    assert added.status_code in (200, 201), added.text
    page.wait_for_selector(f"td[data-cell='{other}'] .person", timeout=5000)
    assert page.eval_on_selector(f"{cell} select[name=username]", "s => s.value") == "operator"
    before = int(page.inner_text("#problem-count"))
    page.click(f"{cell} button[type=submit]")
    page.wait_for_selector(f"{cell} .person", timeout=5000)
    assert "Operator Demo" in page.inner_text(cell)  # people by their names, not their logins
    exported = page.request.get(f"{site.url}/api/v1/roster/export?month={month}").text()
    assert f"{month}-15,pagi,operator,operator" in exported
    # dates say their weekday; the role picker says what it picks
    assert re.match(r"^\w{3}, 15 ", page.inner_text(f"th[data-date='{month}-15']"))
    assert page.eval_on_selector(f"{cell} select[name=role]", "s => [...s.options].map(o => o.text)") == [
        "Operator", "Supervisor"]
    # a removal asks first: dismissing the question keeps the entry
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click(f"{cell} .person .x")
    time.sleep(0.5)
    assert page.locator(f"{cell} .person").count() == 1
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click(f"{cell} .person .x")
    page.wait_for_function(f"!document.querySelector(\"{cell} .person\")", timeout=5000)
    assert "Operator Demo" in questions[0]
    assert int(page.inner_text("#problem-count")) == before
    page.click("#undo-button")  # ... and can be undone
    page.wait_for_selector(f"{cell} .person", timeout=5000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"{cell} .person .x")
    page.wait_for_function(f"!document.querySelector(\"{cell} .person\")", timeout=5000)
    screenshot(page, "roster")
    # an operator reads the roster but cannot edit it
    operator = login("operator")
    operator.goto(f"{site.url}/roster/?month={month}")
    operator.wait_for_selector("#roster[data-ready='1']", timeout=15000)
    assert operator.locator("form.add").count() == 0


def test_operator_starts_and_ends_a_shift_from_the_console(login: Any, site: Server) -> None:
    page = login("operator")
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    page.click("#start-shift")
    page.wait_for_selector("#end-shift", timeout=5000)
    now = httpx.get(site.url + "/api/v1/shifts/current", headers=site.headers("supervisor")).json()
    assert any(p["username"] == "operator" and p["started_at"] for p in now["shift"]["people"])
    page.click("#end-shift")
    page.wait_for_selector("#start-shift", timeout=5000)


def test_two_operators_each_tag_only_their_own_calls(login: Any, site: Server) -> None:
    """Two call-takers on extensions 2011 and 2012, at 1366x768: after each tag the next current call is one's
    own, never the other extension's; the same key on each console tags each one's own call."""
    import subprocess

    from tests.browser.conftest import PASSWORDS
    from tests.e2e.servers import SIAGA

    # two call-takers of their own (the demo operator's calls from other tests would be theirs too)
    for name, extension in (("op2011", "2011"), ("op2012", "2012")):
        script = ("from django.contrib.auth.models import Group, User; from siaga.core.models import UserProfile;"
                  f"u, _ = User.objects.get_or_create(username='{name}');"
                  f"u.set_password('demo-{name}-112'); u.save(); u.groups.add(Group.objects.get(name='operator'));"
                  f"UserProfile.objects.update_or_create(user=u, defaults={{'extension': '{extension}'}})")
        made = subprocess.run([*SIAGA, "shell", "-c", script], env=site.env, capture_output=True, text=True,
                              timeout=120)
        assert made.returncode == 0, made.stderr
        PASSWORDS[name] = f"demo-{name}-112"
    first = login("op2011", 1366, 768)
    second = login("op2012", 1366, 768)
    for page in (first, second):
        page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    first.click("#scope-all")  # the first console sees every extension's calls: the hard case
    theirs = offered_and_answered(site, "081277770201", agent="2012")
    mine = offered_and_answered(site, "081277770202", agent="2011")
    first.wait_for_selector(f"li.call.selected[data-call='{mine}']", timeout=5000)
    first.wait_for_selector(f"li.call.others[data-call='{theirs}']", timeout=5000)
    second.wait_for_selector(f"li.call.selected[data-call='{theirs}']", timeout=5000)
    first.keyboard.press("p")
    first.wait_for_selector(f"li.call[data-call='{mine}'] .tag.t-prank", timeout=5000)
    time.sleep(0.5)
    # the next current call is not the other extension's, so the same key again tags nothing of theirs
    assert first.locator(f"li.call.selected[data-call='{theirs}']").count() == 0
    first.keyboard.press("p")
    time.sleep(0.5)
    assert api(site, f"/calls/{theirs}")["outcome"] == ""
    second.keyboard.press("g")
    second.wait_for_selector(f"li.call[data-call='{theirs}'] .tag.t-ghost", timeout=5000)
    assert api(site, f"/calls/{mine}")["outcome"] == "prank" and api(site, f"/calls/{theirs}")["outcome"] == "ghost"
    # "mine" (an operator's default) hides the other extension's calls
    first.click("#scope-mine")
    first.wait_for_selector(f"li.call[data-call='{theirs}']", state="detached", timeout=5000)
    assert second.locator(f"li.call[data-call='{mine}']").count() == 0
    screenshot(first, "operator-two-extensions-1366")
    assert first.errors == [] and second.errors == []
