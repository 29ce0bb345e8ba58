"""Every screen reads in Bahasa Indonesia (issue 13): no English word from our own catalogue shows on an
Indonesian page, for every role, in real Chromium with the browser itself set to English."""

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from tests.browser.conftest import screenshot
from tests.browser.test_flows import offered_and_answered
from tests.e2e.servers import Server

pytestmark = pytest.mark.slow
LOCALE = Path(__file__).resolve().parents[2] / "src" / "siaga" / "locale"
WORD = re.compile(r"[A-Za-z]{4,}")


def english_words() -> set[str]:
    """Words of our English translations that are not also words of the Indonesian texts (so "Normal",
    "Damkar" or "WASPADA", written the same in both, are not counted)."""
    english: set[str] = set()
    indonesian: set[str] = set()
    for domain in ("django", "djangojs"):
        with (LOCALE / "en" / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
            for m in read_po(handle):
                if not m.id or m.context in ("error", "cli"):
                    continue
                ids = m.id if isinstance(m.id, tuple) else (m.id,)
                strings = m.string if isinstance(m.string, tuple) else (m.string,)
                indonesian |= {w.lower() for text in ids for w in WORD.findall(text)}
                english |= {w.lower() for text in strings if text for w in WORD.findall(text)}
    with (LOCALE / "id" / "LC_MESSAGES" / "django.po").open("rb") as handle:
        for m in read_po(handle):  # the Indonesian of the texts written in English in the code
            if m.context in ("error", "cli") and m.string:
                indonesian |= {w.lower() for w in WORD.findall(m.string)}
    # technical names read the same in both languages
    return english - indonesian - {"json", "html", "bmkg", "inatews", "http", "https", "oasis", "atom", "stream"}


PAGES = [("operator", "/console/", "#console[data-ready='1']"), ("supervisor", "/console/", "#console[data-ready='1']"),
         ("damkar", "/agency/", "#agency[data-ready='1']"), ("wall", "/wall/", "#wall[data-ready='1']"),
         ("supervisor", "/roster/", "#roster[data-ready='1']"), ("supervisor", "/reports/", "#report-page"),
         ("operator", "/peringatan/kelola/", "#draft-form"), ("operator", "/peringatan/", "#active-warnings")]


def test_no_english_on_the_indonesian_pages(login: Any, site: Server) -> None:
    words = english_words()
    assert {"calls", "queue", "search"} <= words  # the list is the catalogue's
    call = offered_and_answered(site, "081277779001")  # something in the queue and in the caller history
    found: dict[str, list[str]] = {}
    for user, path, ready in PAGES:
        page = login(user, 1366, 768)  # the browser prefers English (locale en-US): the pages must not
        page.goto(site.url + path)
        page.wait_for_selector(ready, timeout=15000)
        if path == "/console/":
            page.click(f"li.call[data-call='{call}']")
            page.wait_for_selector("#strikes", timeout=5000)
        text = visible_text(page)
        hits = sorted({w for w in WORD.findall(text) if w.lower() in words})
        if hits:
            found[f"{user} {path}"] = hits
            screenshot(page, f"english-left-{user}-{path.strip('/').replace('/', '-') or 'home'}")
    assert found == {}
    # the check can fail: the same console in English is full of those words
    page = login("operator", 1366, 768)
    page.select_option("#language", "en")
    page.wait_for_selector("#console[data-ready='1']", timeout=15000)
    assert len({w for w in WORD.findall(visible_text(page)) if w.lower() in words}) > 10
    # ... and English reads as English: one call is "1 call", the shift's name and times are English
    fresh = offered_and_answered(site, "081277779002")
    page.wait_for_selector(f"li.call[data-call='{fresh}']", timeout=5000)
    page.click(f"li.call[data-call='{fresh}']")
    page.wait_for_selector("#call .history", timeout=5000)
    history = page.inner_text("#call .history")
    assert "1 call" in history and "1 calls" not in history and "panggilan" not in history, history
    strip = page.inner_text("#shift")
    assert re.search(r"(Morning|Afternoon|Night|Evening) ", strip) and re.search(r"\d\d:\d\d", strip), strip


def visible_text(page: Any) -> str:
    return str(page.evaluate("""() => {
            const skip = document.querySelectorAll('#external-cap, code, .cap-link, [lang=en]');
            skip.forEach((node) => node.setAttribute('data-skip', '1'));
            const clone = document.body.cloneNode(true);
            clone.querySelectorAll('[data-skip], script, style, option:not(:checked)').forEach((n) => n.remove());
            return clone.innerText + ' ' + document.title;
        }"""))


def test_the_report_cards_are_readable(login: Any, site: Server) -> None:
    """Dark text on a light card (they took the wall's dark style): WCAG contrast at least 4.5:1."""
    page = login("supervisor", 1366, 768)
    page.goto(site.url + "/reports/")
    page.wait_for_selector(".report .kpi", timeout=15000)
    ratios = page.eval_on_selector_all(".report .kpi", """cards => cards.map(card => {
        const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92
            : Math.pow((v + 0.055) / 1.055, 2.4); }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
        const style = getComputedStyle(card);
        const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05); })""")
    assert ratios and min(ratios) >= 4.5, ratios
    screenshot(page, "reports-1366")
