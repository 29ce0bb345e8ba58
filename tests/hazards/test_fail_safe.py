"""Intake and policy that fail safe (issue 11), over real HTTP from the local BMKG replay server: a bad record
never hides the good ones, a missing Potensi never means "no tsunami", an aftershock is its own quake, a
warning in force is never lowered by a revision, a clock that runs ahead cannot hold a warning on air, and a
slow or huge feed costs one deadline."""

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from siaga.alerts.models import Alert, Thread
from siaga.hazards.models import HazardEvent
from siaga.hazards.replay import scenario
from tests import clock

pytestmark = pytest.mark.django_db(transaction=True)


def tsunami_record(**changes: Any) -> dict[str, Any]:
    record = dict(json.loads(scenario("autogempa_drill_selat_sunda_m7_tsunami.json"))["Infogempa"]["gempa"])
    record.update(changes)
    return record


def at(when: datetime, record: dict[str, Any]) -> dict[str, Any]:
    """The record with its times at ``when`` (as the replay's shift_to_now does)."""
    from siaga.hazards.replay import _shift_bmkg

    return _shift_bmkg(record, when)


def test_a_malformed_record_does_not_hide_the_tsunami_in_the_same_list(feeds: Any) -> None:
    now = timezone.now().replace(microsecond=0)
    broken = at(now - timedelta(minutes=3), tsunami_record(Magnitude="7,4 SR??", Coordinates="-7.1,106.0"))
    good = at(now - timedelta(minutes=2), tsunami_record())
    not_an_object = "gempa"
    body = json.dumps({"Infogempa": {"gempa": [broken, not_an_object, good]}}).encode()
    feeds.replay.state.publish_document("gempaterkini", body)
    outcome = feeds.poll("gempaterkini")
    assert outcome.status == 200 and not outcome.error, outcome
    [event] = HazardEvent.objects.all()
    assert (event.magnitude, event.display, event.ews_level) == (7.4, "fullscreen", "AWAS")
    assert Alert.objects.get().display == "fullscreen"
    health = feeds.health("gempaterkini")
    assert (health.last_bad_records, health.bad_records) == (2, 2)
    assert "record 0 (Magnitude)" in health.last_bad_record and health.status() == "degraded"
    assert any("rekaman rusak" in p for p in health.problems())
    # the same document without the bad records: the feed is well again
    feeds.replay.state.publish_document("gempaterkini", json.dumps({"Infogempa": {"gempa": [good]}}).encode())
    feeds.poll("gempaterkini")
    assert feeds.health("gempaterkini").status() == "ok"


def test_a_document_of_only_bad_records_is_a_failed_poll(feeds: Any) -> None:
    body = json.dumps({"Infogempa": {"gempa": [{"Magnitude": "5"}]}}).encode()
    feeds.replay.state.publish_document("gempaterkini", body)
    outcome = feeds.poll("gempaterkini")
    assert "no record of the document could be used" in outcome.error
    assert feeds.health("gempaterkini").status() == "failing"


def test_classify_names_the_bad_record_and_classifies_the_others(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    body = {"Infogempa": {"gempa": [at(now, tsunami_record(Kedalaman="deep")), at(now, tsunami_record())]}}
    path = tmp_path / "gempaterkini.json"
    path.write_text(json.dumps(body))
    done = subprocess.run([*clock.siaga(), "--lang", "en", "bmkg", "classify", str(path)], capture_output=True,
                          text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "record 0 (field Kedalaman)" in done.stderr and "'deep' is not a number" in done.stderr
    [line] = done.stdout.splitlines()
    assert json.loads(line)["display"] == "fullscreen"


@pytest.mark.parametrize("potensi", [None, "", "Gempa ini terjadi di zona subduksi"])
def test_a_missing_or_unfamiliar_potensi_follows_bmkgs_criteria_and_is_flagged(feeds: Any, potensi: str | None,
                                                                              actors: Any) -> None:
    from siaga.hazards.actions import do_review_event

    record = tsunami_record()
    if potensi is None:
        record.pop("Potensi")
    else:
        record["Potensi"] = potensi
    feeds.replay.state.publish("autogempa", record=record, shift_to_now=True)
    feeds.poll("autogempa")
    event = HazardEvent.objects.get()
    assert (event.display, event.ews_level, event.reasons[0]) == ("fullscreen", "AWAS", "tsunami_potential_near")
    assert "tsunami_criteria" in event.review and event.needs_review
    assert Alert.objects.get().display == "fullscreen"
    from siaga.core.warnings import active

    [warning] = active()
    assert "tsunami_criteria" in warning["review"]  # the wall says a person should look
    do_review_event(actors["supervisor"].principal, event.pk, "dicek dengan BMKG per telepon")
    event.refresh_from_db()
    assert not event.needs_review and event.reviewed_by == actors["supervisor"].user
    assert active()[0]["review"] == []
    with pytest.raises(Exception, match="supervisor"):
        do_review_event(actors["operator"].principal, event.pk)


def test_a_small_quake_with_no_potensi_is_not_flagged(feeds: Any) -> None:
    record = tsunami_record(Magnitude="5.1")
    record.pop("Potensi")
    feeds.replay.state.publish("autogempa", record=record, shift_to_now=True)
    feeds.poll("autogempa")
    event = HazardEvent.objects.get()
    assert event.display == "ticker" and event.review == []


def test_an_aftershock_seconds_later_is_another_quake_and_never_replaces_the_tsunami(feeds: Any) -> None:
    now = timezone.now().replace(microsecond=0)
    feeds.replay.state.publish("gempaterkini", record=at(now - timedelta(seconds=20), tsunami_record(
        Magnitude="7.0")))
    feeds.poll("gempaterkini")
    aftershock = at(now - timedelta(seconds=14), tsunami_record(
        Magnitude="5.1", Coordinates="-6.80,105.25", Potensi="Tidak berpotensi tsunami", Shakemap=""))
    feeds.replay.state.publish("gempaterkini", record=aftershock)
    feeds.poll("gempaterkini")
    events = list(HazardEvent.objects.filter(stale=False).order_by("magnitude"))
    assert [(e.magnitude, e.display) for e in events] == [(5.1, "ticker"), (7.0, "fullscreen")]
    tsunami = Thread.objects.get(hazard_event=events[1])
    assert tsunami.display == "fullscreen" and tsunami.alerts.count() == 1
    assert "7.0" in tsunami.current.xml and ">5.1<" not in tsunami.current.xml


def test_a_revision_of_the_same_quake_by_its_shakemap_is_merged(feeds: Any) -> None:
    now = timezone.now().replace(microsecond=0)
    first = at(now - timedelta(seconds=30), tsunami_record())
    feeds.replay.state.publish("gempaterkini", record=first)
    feeds.poll("gempaterkini")
    # BMKG's review moves the origin 40 s and the magnitude by 0.7: only the shakemap says it is the same quake
    revised = at(now - timedelta(seconds=70), tsunami_record(Magnitude="6.7"))
    revised["Shakemap"] = first["Shakemap"]
    feeds.replay.state.publish("gempaterkini", record=revised)
    feeds.poll("gempaterkini")
    [event] = HazardEvent.objects.filter(stale=False)  # one quake: the shakemap says so
    assert event.identifiers == [f"shakemap:{first['Shakemap'].split('.')[0]}"]
    assert event.magnitude == 7.4 and event.display == "fullscreen"  # the worst case of its records stays


def test_a_new_inatews_message_never_lowers_the_full_screen_only_the_end_does(feeds: Any) -> None:
    feeds.publish("inatews", "inatews_drill_selat_sunda_PD1.json")
    feeds.poll("warning")
    thread = Thread.objects.get()
    assert (thread.display, thread.ews_level) == ("fullscreen", "AWAS")
    pd2 = json.loads(scenario("inatews_drill_selat_sunda_PD2.json"))
    for zone in pd2["info"]["wzarea"]:
        zone["level"] = "WASPADA"  # a wave smaller than feared: still not an end of the warning
    feeds.replay.state.publish("inatews", record=pd2, shift_to_now=True)
    feeds.poll("warning")
    thread.refresh_from_db()
    assert (thread.display, thread.alerts.count()) == ("fullscreen", 1)
    event = HazardEvent.objects.get()
    assert "revision_lower_held" in event.review and event.needs_review
    feeds.publish("inatews", "inatews_drill_selat_sunda_PD4.json")
    feeds.poll("warning")
    thread.refresh_from_db()
    assert (thread.active, thread.current.msg_type) == (False, "Cancel")


def test_a_future_sent_time_is_clamped_and_the_end_of_warning_still_ends(feeds: Any) -> None:
    pd1 = feeds.publish("inatews", "inatews_drill_selat_sunda_PD1.json")
    future = dict(pd1, sent="9999-12-31T23:59:59WIB")
    feeds.replay.state.publish("inatews", record=future)
    feeds.poll("warning")
    thread = Thread.objects.get()
    assert thread.display == "fullscreen"
    health = feeds.health("warning")
    assert health.clock_skew_seconds and health.clock_skew_seconds > 1e9 and health.status() == "degraded"
    event = HazardEvent.objects.get()
    assert event.warning_sent <= timezone.now() + timedelta(minutes=3)  # clamped, not year 9999
    assert feeds.poll("warning").status == 304 and feeds.health("warning").status() == "degraded"  # still served
    feeds.publish("inatews", "inatews_drill_selat_sunda_PD4.json")
    feeds.poll("warning")
    thread.refresh_from_db()
    assert thread.active is False and thread.current.msg_type == "Cancel"
    assert feeds.health("warning").status() == "ok"  # a message with a sane clock


def test_an_end_older_than_the_warning_still_ends_it(feeds: Any) -> None:
    pd1 = feeds.publish("inatews", "inatews_drill_selat_sunda_PD1.json")
    feeds.poll("warning")
    assert Thread.objects.get().active
    pd4 = feeds.publish("inatews", "inatews_drill_selat_sunda_PD4.json")
    sent = datetime.fromisoformat(pd1["sent"].removesuffix("WIB") + "+07:00") - timedelta(minutes=1)
    pd4["sent"] = sent.strftime("%Y-%m-%dT%H:%M:%S") + "WIB"  # an end that says it was sent before the warning
    feeds.replay.state.publish("inatews", record=pd4)
    feeds.poll("warning")
    assert Thread.objects.get().active is False


@pytest.mark.parametrize("mode", ["drip", "huge"])
def test_a_slow_or_huge_feed_costs_one_deadline_and_shows_failing(feeds: Any, settings: Any, mode: str) -> None:
    settings.POLL_DEADLINE_SECONDS = 1.5
    feeds.replay.drip_seconds = 0.3
    feeds.replay.state.publish("autogempa", record=tsunami_record(), shift_to_now=True)
    with feeds.replay.state.lock:
        from siaga.hazards.replay import Fault

        feeds.replay.state.faults["/DataMKG/TEWS/autogempa.json"] = Fault(mode, 1)
    started = time.monotonic()
    outcome = feeds.poll("autogempa")
    assert time.monotonic() - started < 1.5 + 1.0 + 0.5  # the deadline, a read timeout at most, and a margin
    assert ("deadline" if mode == "drip" else "more than") in outcome.error
    assert feeds.health("autogempa").status() == "failing"
    assert feeds.poll("autogempa").status == 200  # the next poll reads it


def test_a_feed_whose_last_attempt_is_overdue_shows_degraded(feeds: Any, settings: Any) -> None:
    feeds.poll("autogempa")
    health = feeds.health("autogempa")
    assert health.status() == "ok"
    later = health.last_attempt_at + timedelta(seconds=3 * settings.POLL_INTERVAL_SECONDS
                                               + settings.POLL_DEADLINE_SECONDS + 1)
    assert health.overdue(later) and health.status(later) == "degraded"
    assert any("terlambat" in p for p in health.problems(later))
