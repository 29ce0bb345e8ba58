"""Turning feed records into hazard events and decisions: exactly once, in one transaction.

:func:`do_ingest` takes the readings of one poll. For each record it finds the quake it belongs to (BMKG's
own identifier when both records carry it, else origin time, epicentre and magnitude within BMKG's
revision tolerances: an M5.1 seconds after an M7.0 is another quake), ignores it when the very same record
was applied before, merges it otherwise, asks the policy what this city sees, and hands the event and the
decision to the consumers downstream (the alerts app registers one with :func:`on_decision`), which issue,
update or cancel inside the same transaction. The record's fingerprint commits with the alert and its
queued deliveries, so a crash in between loses nothing and a repeat sends nothing twice. Data flows from
here to the alerts, and so do the imports: this module knows nothing of alerts.

An InaTEWS message whose ``sent`` is further in the future than ``SIAGA_CLOCK_SKEW_SECONDS`` is taken as
sent now (the feed is flagged), so that a wrong clock upstream cannot make every genuine later message
"older"; and the end of a warning always ends the warning it belongs to, whatever its time says.

Several server processes may poll at once: on PostgreSQL an advisory lock serialises ingestion, on SQLite
the immediate transaction does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.core import audit
from siaga.core.errors import Forbidden, NotFound
from siaga.core.events import publish_on_commit
from siaga.core.roles import MANAGERS, Principal
from siaga.formats.feeds import Reading
from siaga.formats.inatews import Zone
from siaga.formats.quake import Quake, felt_list, identifiers, iso_utc, same_event, tsunami_potential
from siaga.hazards.config import city, policy_config
from siaga.hazards.models import Feed, HazardEvent
from siaga.hazards.policy import Decision, WarningState, decide

log = logging.getLogger("siaga.hazards")
LOCK_KEY = 112_0001
MAX_FINGERPRINTS = 100


@dataclass
class IngestResult:
    new_events: list[int] = field(default_factory=list)
    updated_events: list[int] = field(default_factory=list)
    repeats: int = 0
    alerts: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Applied:
    """What a consumer did with a decision: the message it issued (if any), and whether it held a warning in
    force against a decision that would have lowered it (a person should look)."""

    alert_id: int | None = None
    held: bool = False


Consumer = Callable[[HazardEvent, Decision, datetime], Applied]
_consumers: list[Consumer] = []


def on_decision(consumer: Consumer) -> Callable[[], None]:
    """Call ``consumer(event, decision, now)`` for every hazard event ingested, inside its transaction."""
    _consumers.append(consumer)

    def remove() -> None:
        if consumer in _consumers:
            _consumers.remove(consumer)

    return remove


def fingerprint(reading: Reading) -> str:
    data: dict[str, Any] = {"quake": reading.quake.as_json()}
    data["quake"].pop("source", None)
    if reading.warning is not None:
        data["warning"] = reading.warning.as_json()
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _sent(reading: Reading, now: datetime) -> datetime | None:
    """When the InaTEWS message was sent, never later than now plus the allowed clock skew."""
    if reading.warning is None:
        return None
    return min(reading.warning.sent_utc, now + timedelta(seconds=settings.CLOCK_SKEW_SECONDS))


def _record_time(reading: Reading, now: datetime) -> datetime:
    sent = _sent(reading, now)
    return sent if sent is not None else reading.quake.time_utc


def _ids(reading: Reading) -> tuple[str, ...]:
    return identifiers(reading.quake, reading.warning.bmkg_event_id if reading.warning is not None else "")


def _find(quake: Quake, ids: tuple[str, ...]) -> HazardEvent | None:
    """The event this record describes: one carrying the same BMKG identifier, else the closest one within
    the revision tolerances (closest in magnitude, then in time)."""
    nearby = list(HazardEvent.objects.filter(origin_time__gte=quake.time_utc - timedelta(minutes=10),
                                             origin_time__lte=quake.time_utc + timedelta(minutes=10))
                  .order_by("origin_time"))
    wanted = set(ids)
    for event in nearby:
        if wanted & set(event.identifiers):
            return event
    matches = [event for event in nearby if any(same_event(quake, variant) for variant in _variants(event))]
    if not matches:
        return None
    return min(matches, key=lambda e: (abs(e.magnitude - quake.magnitude),
                                       abs((e.origin_time - quake.time_utc).total_seconds()), e.pk))


MAX_VARIANTS = 30


def _variants(event: HazardEvent) -> list[Quake]:
    """The event as each of its records described it (a record matches the event when it matches any of
    them: a revision is compared with what BMKG said before, not with the worst case kept)."""
    found = [_as_quake(event)]
    for when, lat, lon, magnitude in event.variants:
        found.append(dataclasses.replace(found[0], time_utc=datetime.fromisoformat(when), lat=lat, lon=lon,
                                         magnitude=magnitude))
    return found


def _as_quake(event: HazardEvent) -> Quake:
    return Quake(source="event", event_id=event.key, time_utc=event.origin_time, magnitude=event.magnitude,
                 depth_km=event.depth_km, lat=event.lat, lon=event.lon, region=event.region,
                 potential_text=event.potential_text, tsunami_potential=event.tsunami_potential,
                 potential_known=event.potential_known, felt_text=event.felt_text, felt=felt_list(event.felt_text))


def warning_state(event: HazardEvent) -> WarningState | None:
    if not event.warning:
        return None
    zones = tuple(Zone(z["province"], z["district"], z["level"],
                       datetime.fromisoformat(z["time_utc"].replace("Z", "+00:00")) if z.get("time_utc") else None)
                  for z in event.warning.get("zones", []))
    return WarningState(zones=zones, ended=bool(event.warning.get("ended")),
                        problems=tuple(event.warning.get("problems", [])))


def decide_event(event: HazardEvent) -> Decision:
    return decide(_as_quake(event), city(), policy_config(), warning_state(event))


def _weight(magnitude: float, when: datetime, lat: float, lon: float) -> tuple[float, datetime, float, float]:
    return (round(magnitude, 1), when, round(lat, 4), round(lon, 4))


def _potential_rank(text: str) -> tuple[int, str]:
    """Which Potensi sentence of a quake's records speaks for it: one of tsunami potential, else a known
    "no potential", else anything; between equals the same one whatever the order of arrival."""
    potential, known = tsunami_potential(text)
    return (2 if potential else 1 if known else 0, text)


def _apply_quake(event: HazardEvent, quake: Quake, created: bool) -> None:
    """Merge a record into its event so that the order of records never matters: the parameters are those of
    the record with the largest magnitude (when in doubt, the worst case; then the later origin time), the
    Potensi sentence the most telling one, the felt list the longest."""
    if created or _weight(quake.magnitude, quake.time_utc, quake.lat, quake.lon) >= _weight(
            event.magnitude, event.origin_time, event.lat, event.lon):
        event.lat, event.lon, event.magnitude = quake.lat, quake.lon, quake.magnitude
        event.depth_km, event.origin_time = quake.depth_km, quake.time_utc
        if quake.region:
            event.region = quake.region[:300]
    if quake.source != "usgs":  # USGS never speaks about tsunami potential
        if quake.potential_text and (not event.potential_text or _potential_rank(quake.potential_text[:300])
                                     > _potential_rank(event.potential_text)):
            event.potential_text = quake.potential_text[:300]
        event.tsunami_potential = event.tsunami_potential or quake.tsunami_potential
        # known: a sentence BMKG is known to write, or tsunami potential already established
        event.potential_known = event.tsunami_potential or (
            bool(event.potential_text) and tsunami_potential(event.potential_text)[1])
    if quake.felt_text and (len(quake.felt_text), quake.felt_text) > (len(event.felt_text), event.felt_text):
        event.felt_text = quake.felt_text[:500]


def do_ingest(feed: Feed, readings: list[Reading], now: datetime | None = None) -> IngestResult:
    """Apply one poll's readings (oldest first). Safe to call again with the same readings."""
    result = IngestResult()
    moment = now or timezone.now()
    max_age = timedelta(minutes=settings.ALERT_MAX_AGE_MINUTES)
    for reading in sorted(readings, key=lambda r: _record_time(r, moment)):
        with transaction.atomic():
            _lock()
            _ingest_one(feed, reading, moment, max_age, result)
    return result


def _flag_clock(feed: Feed, reading: Reading, now: datetime) -> None:
    assert reading.warning is not None
    ahead = (reading.warning.sent_utc - now).total_seconds()
    log.warning("%s: InaTEWS %s says it was sent %.0f s in the future; taken as sent now", feed.name,
                reading.warning.identifier, ahead)
    Feed.objects.filter(pk=feed.pk).update(clock_skew_seconds=ahead, clock_skew_at=now)
    feed.clock_skew_seconds = ahead


def _ingest_one(feed: Feed, reading: Reading, now: datetime, max_age: timedelta, result: IngestResult) -> None:
    quake, warning = reading.quake, reading.warning
    mark = fingerprint(reading)
    ids = _ids(reading)
    event = _find(quake, ids)
    if event is not None and mark in event.fingerprints:
        if feed.name not in event.sources:  # the same record in another feed: one more witness, nothing new
            event.sources = [*event.sources, feed.name]
            event.save(update_fields=["sources"])
        result.repeats += 1
        Feed.objects.filter(pk=feed.pk).update(records_repeat=F("records_repeat") + 1)
        return
    if not quake.potential_known and quake.potential_text.strip():
        log.warning("unknown BMKG Potensi wording %r in %s (event %s): BMKG's tsunami criteria decide",
                    quake.potential_text, feed.name, quake.event_id)
    sent = _sent(reading, now)
    if warning is not None and sent is not None and sent < warning.sent_utc:
        _flag_clock(feed, reading, now)
    elif warning is not None and feed.clock_skew_seconds is not None:  # a message with a sane clock again
        Feed.objects.filter(pk=feed.pk).update(clock_skew_seconds=None)
        feed.clock_skew_seconds = None
    record_time = _record_time(reading, now)
    exercise = feed.drill or (warning is not None and warning.status in ("Exercise", "Test"))
    created = event is None
    if event is None:
        event = HazardEvent(key=quake.event_id, origin_time=quake.time_utc, lat=quake.lat, lon=quake.lon,
                            magnitude=quake.magnitude, exercise=exercise, first_seen_at=now,
                            stale=now - record_time > max_age)
        if HazardEvent.objects.filter(key=event.key).exists():  # the same second: another quake
            event.key = f"{quake.event_id}-M{quake.magnitude:.1f}-{quake.lat:+.1f}{quake.lon:+.1f}"[:64]
            if HazardEvent.objects.filter(key=event.key).exists():
                event.key = f"{quake.event_id}-{mark[:12]}"
    previous = (event.display, event.ews_level, event.magnitude, event.depth_km, event.inatews_phase,
                json.dumps(event.warning, sort_keys=True) if event.warning else "")
    # an older InaTEWS message never undoes a newer one, but an end of warning always ends it
    older_warning = (warning is not None and sent is not None and event.warning_sent is not None
                     and sent < event.warning_sent and not warning.ended)
    if older_warning:
        log.info("%s: InaTEWS %s is older than the one applied to %s; kept for the record only", feed.name,
                 warning.identifier if warning else "", event.key)
    else:
        if created or quake.source != "usgs":  # USGS witnesses a quake BMKG has described; it never revises it
            _apply_quake(event, quake, created)
        if warning is not None and sent is not None:
            event.warning = warning.as_json()
            event.warning_sent = max(filter(None, [event.warning_sent, sent]))
            event.inatews_phase = warning.phase
    event.identifiers = sorted({*event.identifiers, *ids})
    variant = [quake.time_utc.isoformat(), quake.lat, quake.lon, quake.magnitude]
    if quake.source != "usgs" and variant not in event.variants:
        event.variants = [*event.variants, variant][-MAX_VARIANTS:]
    if feed.name not in event.sources:
        event.sources = [*event.sources, feed.name]
    event.fingerprints = [*event.fingerprints, mark][-MAX_FINGERPRINTS:]
    event.record_time = max(filter(None, [event.record_time, record_time]))
    decision = decide_event(event)
    event.display, event.ews_level = decision.display, decision.ews_level or ""
    event.reasons, event.distance_km = list(decision.reasons), decision.distance_km
    _set_review(event, decision.review)
    now_state = (event.display, event.ews_level, event.magnitude, event.depth_km, event.inatews_phase,
                 json.dumps(event.warning, sort_keys=True) if event.warning else "")
    if not created and now_state != previous:
        event.revision += 1
    event.updated_at = now
    event.save()
    (result.new_events if created else result.updated_events).append(event.pk)
    lag = max(0.0, (now - record_time).total_seconds())
    newest = Feed.objects.filter(pk=feed.pk).values_list("newest_record_at", flat=True).first()
    Feed.objects.filter(pk=feed.pk).update(records_new=F("records_new") + 1, lag_seconds=lag,
                                           newest_record_at=max(filter(None, [newest, record_time])))
    if not older_warning:
        for consumer in list(_consumers):
            applied = consumer(event, decision, now)
            if applied.alert_id is not None:
                result.alerts.append(applied.alert_id)
            if applied.held and "revision_lower_held" not in event.review:
                _set_review(event, (*decision.review, "revision_lower_held"))
                event.save(update_fields=["review", "reviewed_at", "reviewed_by"])
    publish_on_commit("hazard.event", event_summary(event))


def _set_review(event: HazardEvent, reasons: tuple[str, ...] | list[str]) -> None:
    """The reasons a person should look at this event; new reasons ask again even if it was reviewed."""
    wanted = sorted(set(reasons) | ({"revision_lower_held"} & set(event.review)))
    if set(wanted) - set(event.review):
        event.reviewed_at, event.reviewed_by = None, None
    event.review = wanted


def do_review_event(actor: Principal, event_id: int, note: str = "") -> HazardEvent:
    """A supervisor has looked at an automatic decision that was flagged (audited)."""
    if not actor.has(*MANAGERS):
        raise Forbidden(pgettext_lazy("error", "only a supervisor or an admin may mark a decision reviewed"))
    with transaction.atomic():
        event = HazardEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound(pgettext_lazy("error", "hazard event {event_id} does not exist"), event_id=event_id)
        before = {"review": event.review, "reviewed_at": iso_utc(event.reviewed_at) if event.reviewed_at else None}
        event.reviewed_at = timezone.now()
        event.reviewed_by = actor.user
        event.save(update_fields=["reviewed_at", "reviewed_by"])
        audit.record(actor, "hazard.review", event, before=before,
                     after={"review": event.review, "reviewed_at": iso_utc(event.reviewed_at)}, note=note[:300])
        publish_on_commit("hazard.event", event_summary(event))
    return event


def event_summary(event: HazardEvent) -> dict[str, Any]:
    return {
        "id": event.pk, "key": event.key, "origin_time": iso_utc(event.origin_time), "lat": event.lat,
        "lon": event.lon, "magnitude": event.magnitude, "depth_km": event.depth_km, "region": event.region,
        "tsunami_potential": event.tsunami_potential, "display": event.display, "ews_level": event.ews_level or None,
        "reasons": event.reasons, "distance_km": round(event.distance_km, 1), "sources": event.sources,
        "inatews_phase": event.inatews_phase, "exercise": event.exercise, "stale": event.stale,
        "revision": event.revision, "review": list(event.review), "needs_review": event.needs_review,
        "reviewed_at": iso_utc(event.reviewed_at) if event.reviewed_at else None,
    }
