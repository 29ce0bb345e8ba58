"""From a feed record to an alert, over real HTTP from the local BMKG replay server: the drill sequence,
repeats, stale records, faults survived, out-of-order records, several pollers at once."""

import itertools
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.alerts.models import Alert, Delivery, Thread
from siaga.formats import cap
from siaga.hazards.models import HazardEvent

pytestmark = pytest.mark.django_db(transaction=True)


def alerts() -> list[Alert]:
    return list(Alert.objects.order_by("id"))


def test_recorded_history_is_recorded_not_broadcast(feeds: Any) -> None:
    for name in ("autogempa", "gempaterkini", "warning"):
        outcome = feeds.poll(name)
        assert outcome.status == 200 and not outcome.error, outcome
    assert HazardEvent.objects.count() == 1 + 15 + 1
    assert HazardEvent.objects.filter(stale=True).count() == 17  # all old: never broadcast
    assert alerts() == []
    # BMKG is asked again: nothing changed, a 304 costs nothing and changes nothing
    assert feeds.poll("autogempa").status == 304
    health = feeds.health("autogempa")
    assert health.polls == 2 and health.not_modified == 1 and health.healthy


def test_the_drill_sequence_is_one_thread_of_valid_cap(feeds: Any) -> None:
    feeds.publish("autogempa", "autogempa_drill_selat_sunda_m5_felt.json", at=timezone.now() - timedelta(minutes=20))
    feeds.poll("autogempa")
    [felt] = alerts()
    assert (felt.msg_type, felt.display, felt.ews_level) == ("Alert", "ticker", "WASPADA")
    for scenario in ("inatews_drill_selat_sunda_PD1.json", "inatews_drill_selat_sunda_PD2.json",
                     "inatews_drill_selat_sunda_PD4.json"):
        feeds.publish("inatews", scenario)
        outcome = feeds.poll("warning")
        assert outcome.result is not None and len(outcome.result.alerts) == 1  # one message per BMKG message
    messages = alerts()
    # the felt quake 20 minutes ago is another event than the tsunami quake now: two threads
    tsunami = [a for a in messages if a.thread_id != felt.thread_id]
    assert [(a.msg_type, a.display, a.ews_level) for a in tsunami] == [
        ("Alert", "fullscreen", "AWAS"), ("Update", "fullscreen", "SIAGA"), ("Cancel", "none", "")]
    for previous, current in itertools.pairwise(tsunami):
        assert current.references_id == previous.pk
        parsed = cap.parse(current.xml.encode())
        assert [str(r) for r in parsed.references] == [f"{previous.sender},{previous.identifier},{previous.sent_text}"]
    for alert in messages:
        assert cap.validate(alert.xml.encode()) == [], alert.identifier
        parsed = cap.parse(alert.xml.encode())
        assert [i.language for i in parsed.infos] == ["id-ID", "en-US"]
        assert len(parsed.infos[0].areas) == 8  # the kecamatan of Cilegon
        assert all(len(p) <= 100 for a in parsed.infos[0].areas for p in a.polygons)
        assert any(name == "POSTCODE" for a in parsed.infos[0].areas for name, _ in a.geocodes)
    full = tsunami[0]
    parsed = cap.parse(full.xml.encode())
    assert parsed.infos[0].response_types == ["Evacuate"] and parsed.infos[0].severity == "Extreme"
    assert parsed.infos[0].parameter("EWS_LEVEL") == "AWAS"
    thread = Thread.objects.get(pk=full.thread_id)
    assert not thread.active and thread.display == "none"
    # every message has its deliveries queued in the same transaction, one per channel target
    assert set(Delivery.objects.filter(alert=full).values_list("channel", flat=True)) >= {"web"}


def test_the_same_record_again_sends_nothing(feeds: Any) -> None:
    feeds.publish("autogempa", "autogempa_drill_selat_sunda_m7_tsunami.json")
    feeds.poll("autogempa")
    assert len(alerts()) == 1
    # served again with a new ETag (the server restarted, say): the record is recognised
    feeds.replay.state.documents["autogempa"].body_json += b" "
    outcome = feeds.poll("autogempa")
    assert outcome.status == 200 and outcome.result.repeats == 1
    assert len(alerts()) == 1
    assert feeds.health("autogempa").records_repeat == 1
    # and the same quake in gempaterkini is the same event
    feeds.replay.state.records["gempaterkini"].insert(0, feeds.replay.state.records["autogempa"][0])
    feeds.replay.state._render("gempaterkini")
    feeds.poll("gempaterkini")
    assert len(alerts()) == 1
    event = HazardEvent.objects.exclude(stale=True).get()
    assert len(event.sources) == 2


@pytest.mark.parametrize("mode", ["500", "hang", "truncate", "html"])
def test_faults_are_survived_and_nothing_is_missed(feeds: Any, mode: str) -> None:
    path = "/DataMKG/TEWS/autogempa.json"
    from siaga.hazards.replay import Fault

    feeds.replay.state.faults[path] = Fault(mode, 2)
    feeds.publish("autogempa", "autogempa_drill_selat_sunda_m7_tsunami.json")
    for _ in range(2):
        outcome = feeds.poll("autogempa")
        assert outcome.error
    health = feeds.health("autogempa")
    assert health.consecutive_failures == 2 and not health.healthy and health.last_error
    expected = {"500": "HTTP 500", "hang": "timeout", "truncate": "unreadable", "html": "unreadable"}[mode]
    assert expected in health.last_error
    assert alerts() == []
    recovered = feeds.poll("autogempa")  # the fault is over: the record that was waiting goes out
    assert recovered.status == 200 and not recovered.error
    assert len(alerts()) == 1 and alerts()[0].display == "fullscreen"
    health = feeds.health("autogempa")
    assert health.consecutive_failures == 0 and health.healthy


def test_an_older_warning_after_a_newer_one_changes_nothing(feeds: Any) -> None:
    pd1 = feeds.publish("inatews", "inatews_drill_selat_sunda_PD1.json")
    feeds.poll("warning")
    feeds.publish("inatews", "inatews_drill_selat_sunda_PD2.json")
    feeds.poll("warning")
    assert [a.ews_level for a in alerts()] == ["AWAS", "SIAGA"]
    feeds.replay.state.publish("inatews", record=pd1)  # the PD-1 again, already shifted: older than the PD-2
    outcome = feeds.poll("warning")
    assert not outcome.error
    assert [a.ews_level for a in alerts()] == ["AWAS", "SIAGA"]
    assert HazardEvent.objects.exclude(stale=True).get().ews_level == "SIAGA"


def test_unknown_potensi_wording_is_logged_loudly_and_read_conservatively(feeds: Any, caplog: Any) -> None:
    import json

    from siaga.hazards.replay import scenario

    record = json.loads(scenario("autogempa_drill_selat_sunda_m7_tsunami.json"))["Infogempa"]["gempa"]
    record["Potensi"] = "Waspadai kemungkinan tsunami"
    feeds.replay.state.publish("autogempa", record=record, shift_to_now=True)
    with caplog.at_level("WARNING", logger="siaga.hazards"):
        feeds.poll("autogempa")
    assert any("unknown BMKG Potensi wording" in r.getMessage() for r in caplog.records)
    [alert] = alerts()
    assert alert.display == "fullscreen"


def test_two_pollers_at_once_issue_one_alert(feeds: Any) -> None:
    import httpx

    from siaga.hazards import poller
    from siaga.hazards.models import Feed

    feeds.publish("autogempa", "autogempa_drill_selat_sunda_m7_tsunami.json")
    errors: list[BaseException] = []

    def run() -> None:
        from django.db import connection

        try:
            with httpx.Client(timeout=2) as client:
                poller.poll_once(Feed.objects.get(pk=feeds.rows["autogempa"].pk), client)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(alerts()) == 1
    assert HazardEvent.objects.filter(stale=False).count() == 1


def test_usgs_is_a_second_witness_never_a_tsunami_source(feeds: Any) -> None:
    from datetime import UTC, datetime

    feeds.publish("autogempa", "autogempa_drill_selat_sunda_m7_tsunami.json")
    feeds.poll("autogempa")
    [alert] = alerts()
    bmkg_event = HazardEvent.objects.get(stale=False)
    millis = int(bmkg_event.origin_time.timestamp() * 1000) + 4000  # USGS's origin a few seconds later
    feeds.replay.state.publish("usgs", record={
        "type": "Feature", "id": "us7000drill", "geometry": {"type": "Point", "coordinates": [105.3, -6.9, 15.0]},
        "properties": {"mag": 7.1, "place": "Sunda Strait, Indonesia", "time": millis, "tsunami": 1}})
    feeds.poll("summary")
    event = HazardEvent.objects.get(stale=False)
    assert event.pk == bmkg_event.pk and len(event.sources) == 2  # the same quake
    assert event.tsunami_potential  # BMKG said so; USGS's flag neither adds nor removes it
    # a USGS-only strong quake near Cilegon: a ticker at most, never full screen
    feeds.replay.state.publish("usgs", record={
        "type": "Feature", "id": "us7000other", "geometry": {"type": "Point", "coordinates": [106.4, -7.6, 20.0]},
        "properties": {"mag": 6.6, "place": "south of Java", "time": int(datetime.now(UTC).timestamp() * 1000),
                       "tsunami": 1}})
    feeds.poll("summary")
    latest = Alert.objects.exclude(pk=alert.pk).get()
    assert latest.display == "ticker"


def test_an_empty_xml_feed_is_healthy_as_the_empty_json_is(replay: Any, settings: Any, reference: None) -> None:
    """BMKG's XML form with no gempa (what the replay serves for an empty list) is an empty feed, not a fault
    that marks the feed unhealthy."""
    import httpx

    from siaga.hazards import poller
    from siaga.hazards.models import Feed

    base = replay.feed_urls()["gempaterkini"].rsplit(".", 1)[0]
    settings.BMKG_FEEDS = [base + ".xml", base + ".json"]
    settings.INATEWS_FEEDS, settings.USGS_FEEDS, settings.CAP_FEEDS, settings.DRILL_FEEDS = [], [], [], []
    replay.state.publish_document("gempaterkini", b'{"Infogempa": {"gempa": []}}')
    rows = poller.ensure_feeds()
    with httpx.Client(timeout=2.0) as client:
        for row in rows:
            poller.poll_once(Feed.objects.get(pk=row.pk), client)
    for row in rows:
        fresh = Feed.objects.get(pk=row.pk)
        assert fresh.healthy and not fresh.last_error, (fresh.url, fresh.last_error)
