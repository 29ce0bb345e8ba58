"""The intake's invariants, as properties (hypothesis): a malformed record never changes the decisions for the
others; the order of records never changes the outcome; no sequence of BMKG revisions lowers a warning in
force without an end of warning (a Cancel and an expiry are the other two ways, tested elsewhere)."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from siaga.formats import bmkg, feeds, inatews
from siaga.formats.quake import WIB, Quake, bmkg_event_id
from siaga.hazards.policy import PolicyConfig, decide, default_city
from siaga.hazards.replay import _shift_inatews, scenario

CITY, CONFIG = default_city(), PolicyConfig()
POTENSI = ["Tidak berpotensi tsunami", "Berpotensi tsunami", "Potensi tsunami untuk diteruskan pada masyarakat",
           "Gempa ini dirasakan untuk diteruskan pada masyarakat", "", "Kalimat yang belum pernah ada"]
BASE = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)

quakes = st.builds(
    lambda lat, lon, magnitude, depth, potensi, minutes: Quake(
        source="gempaterkini", event_id="x", time_utc=BASE + timedelta(minutes=minutes), magnitude=magnitude,
        depth_km=depth, lat=lat, lon=lon, region="Pusat gempa berada di laut", potential_text=potensi),
    st.floats(-9.0, -5.0), st.floats(104.0, 108.0), st.floats(3.0, 8.5).map(lambda m: round(m, 1)),
    st.floats(1.0, 300.0).map(lambda d: round(d)), st.sampled_from(POTENSI), st.integers(0, 600))


def _record(quake: Quake) -> dict[str, Any]:
    [record] = json.loads(bmkg.to_json([quake]))["Infogempa"]["gempa"]
    if not quake.potential_text:
        record.pop("Potensi", None)
    return dict(record)


bad_records = st.one_of(
    st.sampled_from([None, 7, "gempa", [], ["Magnitude"]]),
    st.tuples(quakes, st.sampled_from([("Magnitude", "tujuh"), ("Coordinates", "kemarin"), ("DateTime", "besok"),
                                       ("Kedalaman", "-5 km"), ("Magnitude", 99)])).map(
        lambda pair: {**_record(pair[0]), pair[1][0]: pair[1][1]}),
    st.tuples(quakes, st.sampled_from(["DateTime", "Coordinates", "Magnitude"])).map(
        lambda pair: {k: v for k, v in _record(pair[0]).items() if k not in (pair[1], "Tanggal", "Lintang")}))


def _decisions(data: bytes) -> tuple[list[Any], int]:
    quakes_read, bad = bmkg.parse_each(data, "gempaterkini")
    return [decide(q, CITY, CONFIG).as_json() for q in quakes_read], len(bad)


@given(st.lists(quakes, min_size=1, max_size=6), bad_records, st.integers(0, 6))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_a_malformed_record_never_changes_the_decisions_for_the_others(
        good: list[Quake], bad: Any, position: int) -> None:
    records = [_record(q) for q in good]
    clean, none_bad = _decisions(json.dumps({"Infogempa": {"gempa": records}}).encode())
    assert none_bad == 0 and len(clean) == len(good)
    dirty = [*records[:position], bad, *records[position:]]
    with_bad, one_bad = _decisions(json.dumps({"Infogempa": {"gempa": dirty}}).encode())
    assert one_bad == 1 and with_bad == clean


def _pd(phase: int, cilegon: str | None, minutes: float, origin: datetime) -> feeds.Reading:
    """An InaTEWS message for the drill quake at ``origin``: PD-``phase``, sent ``minutes`` after it, with
    Cilegon's zone at ``cilegon`` (None: Cilegon not among the zones)."""
    name = {1: "PD1", 2: "PD2", 3: "PD2", 4: "PD4"}[phase]
    document = json.loads(scenario(f"inatews_drill_selat_sunda_{name}.json"))
    first = inatews.parse(json.dumps(document).encode())
    shifted = _shift_inatews(document, origin - first.quake.time_utc)
    sent = origin + timedelta(minutes=minutes)
    shifted["sent"] = sent.astimezone(WIB).strftime("%Y-%m-%dT%H:%M:%S") + "WIB"
    shifted["info"]["subject"] = f"Warning Tsunami PD-{phase}"
    if phase != 4:
        zones = [z for z in shifted["info"].get("wzarea") or [] if "CILEGON" not in z["district"]]
        if cilegon is not None:
            zones.append({"province": "BANTEN", "district": "KOTA-CILEGON", "level": cilegon})
        shifted["info"]["wzarea"] = zones
    return feeds.Reading((warning := inatews.parse(json.dumps(shifted).encode())).quake, warning)


def _revision(origin: datetime, magnitude: float, potensi: str, seconds: int) -> feeds.Reading:
    record = json.loads(scenario("autogempa_drill_selat_sunda_m7_tsunami.json"))["Infogempa"]["gempa"]
    quake = bmkg.record_to_quake(dict(record, Magnitude=f"{magnitude:.1f}", Potensi=potensi), "autogempa")
    when = origin + timedelta(seconds=seconds)
    return feeds.Reading(dataclasses.replace(quake, time_utc=when, event_id=bmkg_event_id(when), shakemap=None))


messages = st.one_of(
    st.tuples(st.just("pd"), st.sampled_from([1, 2, 3]), st.sampled_from(["AWAS", "SIAGA", "WASPADA", None])),
    st.tuples(st.just("rev"), st.floats(6.9, 7.7).map(lambda m: round(m, 1)), st.sampled_from(POTENSI)),
    st.tuples(st.just("end"), st.just(4), st.none()))


@pytest.mark.django_db(transaction=True)
@given(st.lists(messages, min_size=1, max_size=8))
@example([("rev", 7.6, "Tidak berpotensi tsunami"), ("rev", 7.0, "Tidak berpotensi tsunami")])  # found by CI
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
def test_property_no_sequence_of_revisions_lowers_a_warning_without_an_end(reference: None, sequence: list[Any]
                                                                           ) -> None:
    from django.conf import settings as django_settings

    from siaga.alerts.actions import DISPLAY_RANK
    from siaga.alerts.models import Thread
    from siaga.hazards.actions import do_ingest
    from siaga.hazards.models import Feed

    django_settings.ALERT_CHANNELS = []
    feed, _ = Feed.objects.get_or_create(name="invariants", defaults={"kind": "inatews", "url": "http://x/"})
    origin = BASE + timedelta(hours=3 * (Thread.objects.count() + 1))  # a quake of its own for every example
    shown, ended, thread_id = 0, False, None
    for step, message in enumerate([("pd", 1, "AWAS"), *sequence]):
        kind, value, extra = message
        if kind == "pd":
            reading = _pd(value, extra, 5 + step, origin)
        elif kind == "rev":
            reading = _revision(origin, value, extra, 1)
        else:
            reading = _pd(4, None, 5 + step, origin)
        do_ingest(feed, [reading], now=origin + timedelta(minutes=6 + step))
        if thread_id is None:  # the warning of the PD-1; every later message is about the same quake
            thread_id = Thread.objects.get(hazard_event__origin_time__gte=origin - timedelta(minutes=1),
                                           hazard_event__origin_time__lte=origin + timedelta(minutes=1)).pk
        thread = Thread.objects.get(pk=thread_id)
        assert Thread.objects.filter(hazard_event__origin_time__gte=origin - timedelta(minutes=1),
                                     hazard_event__origin_time__lte=origin + timedelta(minutes=1)).count() == 1
        rank = DISPLAY_RANK[thread.display] if thread.active else 0
        if kind == "end":
            ended = True
        elif not ended:
            assert rank >= shown, (step, message, thread.display, thread.active)
        shown = max(shown, rank) if not ended else rank
    assert shown >= 0


@pytest.mark.django_db(transaction=True)
@given(st.lists(st.tuples(st.integers(0, 4), st.floats(5.0, 7.8).map(lambda m: round(m, 1)),
                          st.sampled_from(POTENSI[:4]), st.floats(-7.5, -5.5), st.floats(104.5, 107.0)),
                min_size=2, max_size=5, unique_by=lambda t: t[0]),
       st.randoms(use_true_random=False))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
def test_property_the_order_of_records_never_changes_the_outcome(reference: None, specs: list[Any],
                                                                 rng: Any) -> None:
    """Distinct quakes, each with a revision, ingested in two orders: the same events and the same warnings."""
    from django.conf import settings as django_settings

    from siaga.alerts.models import Thread
    from siaga.hazards.actions import do_ingest
    from siaga.hazards.models import Feed, HazardEvent

    django_settings.ALERT_CHANNELS = []
    feed, _ = Feed.objects.get_or_create(name="order", defaults={"kind": "bmkg", "url": "http://x/"})

    def world(base: datetime) -> list[Quake]:
        out = []
        for slot, magnitude, potensi, lat, lon in specs:
            when = base + timedelta(minutes=20 * slot)
            first = Quake(source="gempaterkini", event_id=bmkg_event_id(when), time_utc=when, magnitude=magnitude,
                          depth_km=10.0, lat=lat, lon=lon, region="Pusat gempa berada di laut",
                          potential_text=potensi)
            revised = dataclasses.replace(first, time_utc=when + timedelta(seconds=2),
                                          event_id=bmkg_event_id(when + timedelta(seconds=2)),
                                          magnitude=round(magnitude - 0.1, 1), lat=lat + 0.05)
            out += [bmkg.parse(bmkg.to_json([q]), "gempaterkini")[0] for q in (first, revised)]
        return out

    def outcome(base: datetime) -> list[tuple[Any, ...]]:
        events = HazardEvent.objects.filter(origin_time__gte=base, origin_time__lt=base + timedelta(hours=3))
        threads = {t.hazard_event_id: (t.display, t.ews_level, t.active)
                   for t in Thread.objects.filter(hazard_event__in=events)}
        return sorted((round((e.origin_time - base).total_seconds() / 60), e.display, e.ews_level,
                       threads.get(e.pk)) for e in events)

    used = HazardEvent.objects.count()
    first_base = BASE + timedelta(days=400 + used)
    second_base = first_base + timedelta(hours=5)
    readings = [feeds.Reading(q) for q in world(first_base)]
    do_ingest(feed, readings, now=first_base + timedelta(minutes=90))
    shuffled = [feeds.Reading(q) for q in world(second_base)]
    rng.shuffle(shuffled)
    for reading in shuffled:  # one poll per record, in another order
        do_ingest(feed, [reading], now=second_base + timedelta(minutes=90))
    assert outcome(first_base) == outcome(second_base)
    assert len(outcome(first_base)) == len(specs)
