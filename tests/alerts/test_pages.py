"""The public warnings (no login), the Atom feed of CAP alerts, and the warnings desk."""

from typing import Any

import pytest
from django.test import Client
from lxml import etree

from siaga.alerts.models import Alert, Draft, Thread
from tests.alerts.conftest import issue

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def public() -> Client:
    return Client(HTTP_HOST="127.0.0.1")


def test_public_page_shows_active_warnings_and_how_to_use_112(public: Client, actors: Any) -> None:
    calm = public.get("/peringatan/").content.decode()
    assert "Tidak ada peringatan yang berlaku" in calm and "Gunakan 112 dengan bijak" in calm
    assert "telepon iseng" in calm.lower()
    alert = issue(actors, display="fullscreen", severity="Extreme", exercise=True)
    page = public.get("/peringatan/").content.decode()
    assert "Banjir di Jombang Wetan" in page and "LATIHAN" in page and "Tidak ada peringatan" not in page
    assert f'/peringatan/{alert.pk}/' in page
    detail = public.get(f"/peringatan/{alert.pk}/").content.decode()
    assert "Flooding in Jombang Wetan" in detail and "Kecamatan Jombang" in detail and alert.identifier in detail
    english = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="en")
    english.post("/i18n/setlang/", {"language": "en", "next": "/peringatan/"})
    assert "Use 112 wisely" in english.get("/peringatan/").content.decode()


def test_cap_file_and_atom_feed(public: Client, actors: Any) -> None:
    first = issue(actors)
    from siaga.alerts import actions

    cancel = actions.do_cancel_thread(actors["supervisor"].principal, first.thread_id, "surut")
    xml = public.get(f"/peringatan/{first.pk}.xml")
    assert xml["Content-Type"].startswith("application/cap+xml") and xml.content.decode() == first.xml
    feed = public.get("/peringatan/feed.atom")
    assert feed["Content-Type"].startswith("application/atom+xml")
    root = etree.fromstring(feed.content)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [cancel.identifier, first.identifier]
    links = [link.get("href") for link in entries[0].findall(f"{ATOM}link")
             if link.get("type") == "application/cap+xml"]
    assert links == [f"http://127.0.0.1:8112/peringatan/{cancel.pk}.xml"]
    for pk in (first.pk, cancel.pk):  # the warning's own page and the cancel's say so at the top
        detail = public.get(f"/peringatan/{pk}/").content.decode()
        assert 'id="state-mark"' in detail and "DIBATALKAN" in detail.split('id="state-mark"')[1][:200]
        assert ">Peringatan<" in detail and ">Pembatalan<" in detail and ">Cancel<" not in detail
    assert public.get("/peringatan/999999/").status_code == 404
    assert public.get("/peringatan/999999.xml").status_code == 404
    assert public.get(f"/peringatan/{first.pk}.wav").status_code == 404  # no audio made in this test


def test_desk_for_the_call_centre(client: Client, actors: Any) -> None:
    alert = issue(actors, exercise=True)
    client.force_login(actors["wall"].user)
    page = client.get("/peringatan/kelola/").content.decode()
    from siaga.alerts.capbuild import bare_headline

    assert "Meja peringatan" in page and bare_headline(alert.headline) in page
    assert "[LATIHAN]" not in page  # the badge says LATIHAN once: "LATIHAN [LATIHAN]" no more
    client.force_login(actors["operator"].user)
    desk = client.get("/peringatan/kelola/").content.decode()
    assert '<option value="Severe" selected>Berat</option>' in desk and ">Immediate<" not in desk
    assert 'class="check-row"><input type="checkbox" name="area_codes"' in desk
    assert "Siarkan pembatalan" not in page  # the wall watches, it does not act
    client.force_login(actors["supervisor"].user)
    page = client.get("/peringatan/kelola/").content.decode()
    assert "Siarkan pembatalan" in page and "Umpan data" in page and "Pengiriman" in page


def test_desk_two_person_flow(client: Client, actors: Any) -> None:
    client.force_login(actors["operator"].user)
    response = client.post("/peringatan/kelola/draft", {
        "hazard": "kebakaran", "display": "ticker", "severity": "Severe", "urgency": "Immediate",
        "certainty": "Observed", "response": "Avoid", "headline": "Kebakaran gudang di Citangkil",
        "description": "Asap tebal.", "instruction": "Hindari Jl. Raya Anyer km 5.", "expires_hours": "3"})
    assert response.status_code == 302
    draft = Draft.objects.get()
    assert draft.status == "submitted" and draft.author == actors["operator"].user
    # the author's own page offers no approval
    assert "penulis tidak dapat menyetujui" not in client.get("/peringatan/kelola/").content.decode()
    client.force_login(actors["supervisor"].user)
    client.post(f"/peringatan/kelola/draft/{draft.pk}/decide", {"decision": "approve"})
    alert = Alert.objects.get()
    assert alert.headline == "Kebakaran gudang di Citangkil" and alert.approved_by == actors["supervisor"].user
    response = client.post(f"/peringatan/kelola/{alert.thread_id}/cancel", {"reason": ""}, follow=True)
    assert "alasan" in response.content.decode().lower() or "reason" in response.content.decode().lower()
    assert Thread.objects.get().active
    client.post(f"/peringatan/kelola/{alert.thread_id}/cancel", {"reason": "api sudah padam"})
    assert not Thread.objects.get().active


def test_wall_and_warnings_api_show_active_warnings(client: Client, actors: Any) -> None:
    alert = issue(actors, display="fullscreen", severity="Extreme")
    response = client.get("/api/v1/warnings/active", **actors["wall"].headers())
    [warning] = response.json()
    assert warning["id"] == str(alert.pk) and warning["level"] == "fullscreen"
    threads = client.get("/api/v1/alerts/threads?active=true", **actors["agency"].headers()).json()
    assert [t["current"]["identifier"] for t in threads] == [alert.identifier]
    detail = client.get(f"/api/v1/alerts/{alert.pk}", **actors["agency"].headers()).json()
    assert detail["deliveries"] is None  # deliveries are for the call centre
    detail = client.get(f"/api/v1/alerts/{alert.pk}", **actors["operator"].headers()).json()
    assert detail["deliveries"] is not None and detail["approved_by"] == "t_supervisor"


def test_the_feed_keeps_every_warning_in_force_and_lets_old_ones_go(actors: Any, settings: Any,
                                                                    monkeypatch: Any) -> None:
    """An aggregator reading the feed must never lose a warning in force behind newer messages (the feed
    was the newest 50), and ended ones leave after SIAGA_CAP_FEED_HOURS (Google: 24-48 hours)."""
    import datetime as dt

    from django.utils import timezone

    from siaga.alerts import actions
    from siaga.alerts.views import feed_alerts

    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=5)
    clock = {"now": start}
    monkeypatch.setattr(actions, "_now", lambda: clock["now"])

    def at(hours: float) -> None:
        clock["now"] = start + dt.timedelta(hours=hours)

    at(-72)
    old = issue(actors, headline="Banjir lama")
    at(-71)
    old_cancel = actions.do_cancel_thread(actors["supervisor"].principal, old.thread_id, "surut")
    at(-24)
    ended = issue(actors, headline="Banjir kemarin")
    at(-23)
    ended_cancel = actions.do_cancel_thread(actors["supervisor"].principal, ended.thread_id, "surut")
    at(0)
    warning = issue(actors, display="fullscreen", severity="Extreme", headline="Banjir besar")
    at(0.2)
    update = actions.do_update_thread(actors["supervisor"].principal, warning.thread_id,
                                      headline="Banjir besar meluas")
    later = []
    for n in range(12):
        at(1 + n / 12)
        later.append(issue(actors, headline=f"Genangan {n}", expires_hours=1))
    now = start + dt.timedelta(hours=3)
    assert Thread.objects.get(pk=warning.thread_id).expires_at > now  # still in force at that moment

    settings.CAP_FEED_MAX = 10
    listed = [a.pk for a in feed_alerts(now)]
    assert len(listed) == 10
    assert warning.pk in listed and update.pk in listed  # older than 12 newer messages, still listed
    assert listed[:8] == [a.pk for a in reversed(later)][:8]  # the room left goes to the newest
    settings.CAP_FEED_MAX = 500
    listed = [a.pk for a in feed_alerts(now)]
    assert {ended.pk, ended_cancel.pk} <= set(listed)  # ended a day ago: still there for aggregators
    assert old.pk not in listed and old_cancel.pk not in listed  # ended three days ago: gone
    assert len(listed) == 2 + 2 + 12
    # once the warning has ended and two days have passed, it leaves too
    assert warning.pk not in [a.pk for a in feed_alerts(start + dt.timedelta(hours=60))]
