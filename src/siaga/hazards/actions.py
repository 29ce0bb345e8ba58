"""Turning feed records into hazard events, and events into alerts: exactly once, in one transaction.

:func:`do_ingest` takes the readings of one poll. For each record it finds the quake it belongs to (origin
times within a minute, epicentres within 100 km), ignores it when the very same record was applied before,
merges it otherwise, asks the policy what this city sees, and hands the answer to the alerts app, which
issues, updates or cancels inside the same transaction. The record's fingerprint commits with the alert
and its queued deliveries, so a crash in between loses nothing and a repeat sends nothing twice.

Several server processes may poll at once: on PostgreSQL an advisory lock serialises ingestion, on SQLite
the immediate transaction does.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from siaga.core.events import publish_on_commit
from siaga.formats.feeds import Reading
from siaga.formats.inatews import Zone
from siaga.formats.quake import Quake, felt_list, iso_utc, same_event
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


def _record_time(reading: Reading) -> datetime:
    return reading.warning.sent_utc if reading.warning is not None else reading.quake.time_utc


def _find(quake: Quake) -> HazardEvent | None:
    window = timedelta(seconds=90)
    for event in HazardEvent.objects.filter(origin_time__gte=quake.time_utc - window,
                                            origin_time__lte=quake.time_utc + window).order_by("origin_time"):
        if same_event(quake, _as_quake(event)):
            return event
    return None


def _as_quake(event: HazardEvent) -> Quake:
    return Quake(source="event", event_id=event.key, time_utc=event.origin_time, magnitude=event.magnitude,
                 depth_km=event.depth_km, lat=event.lat, lon=event.lon, region=event.region,
                 potential_text=event.potential_text, tsunami_potential=event.tsunami_potential,
                 felt_text=event.felt_text, felt=felt_list(event.felt_text))


def warning_state(event: HazardEvent) -> WarningState | None:
    if not event.warning:
        return None
    zones = tuple(Zone(z["province"], z["district"], z["level"],
                       datetime.fromisoformat(z["time_utc"].replace("Z", "+00:00")) if z.get("time_utc") else None)
                  for z in event.warning.get("zones", []))
    return WarningState(zones=zones, ended=bool(event.warning.get("ended")))


def decide_event(event: HazardEvent) -> Decision:
    return decide(_as_quake(event), city(), policy_config(), warning_state(event))


def _apply_quake(event: HazardEvent, quake: Quake) -> None:
    event.lat, event.lon, event.magnitude, event.depth_km = quake.lat, quake.lon, quake.magnitude, quake.depth_km
    event.origin_time = quake.time_utc
    if quake.region:
        event.region = quake.region[:300]
    # USGS never speaks about tsunami potential
    if quake.source != "usgs" and (quake.potential_text or quake.tsunami_potential):
        event.potential_text = quake.potential_text[:300]
        event.tsunami_potential = event.tsunami_potential or quake.tsunami_potential
    if quake.felt_text:
        event.felt_text = quake.felt_text[:500]


def do_ingest(feed: Feed, readings: list[Reading], now: datetime | None = None) -> IngestResult:
    """Apply one poll's readings (oldest first). Safe to call again with the same readings."""
    result = IngestResult()
    moment = now or timezone.now()
    max_age = timedelta(minutes=settings.ALERT_MAX_AGE_MINUTES)
    for reading in sorted(readings, key=_record_time):
        with transaction.atomic():
            _lock()
            _ingest_one(feed, reading, moment, max_age, result)
    return result


def _ingest_one(feed: Feed, reading: Reading, now: datetime, max_age: timedelta, result: IngestResult) -> None:
    from siaga.alerts import actions as alert_actions

    quake, warning = reading.quake, reading.warning
    mark = fingerprint(reading)
    event = _find(quake)
    if event is not None and mark in event.fingerprints:
        if feed.name not in event.sources:  # the same record in another feed: one more witness, nothing new
            event.sources = [*event.sources, feed.name]
            event.save(update_fields=["sources"])
        result.repeats += 1
        Feed.objects.filter(pk=feed.pk).update(records_repeat=F("records_repeat") + 1)
        return
    if not quake.potential_known:
        log.warning("unknown BMKG Potensi wording %r in %s (event %s): read as tsunami potential=%s",
                    quake.potential_text, feed.name, quake.event_id, quake.tsunami_potential)
    record_time = _record_time(reading)
    exercise = feed.drill or (warning is not None and warning.status in ("Exercise", "Test"))
    created = event is None
    if event is None:
        event = HazardEvent(key=quake.event_id, origin_time=quake.time_utc, lat=quake.lat, lon=quake.lon,
                            magnitude=quake.magnitude, exercise=exercise, first_seen_at=now,
                            stale=now - record_time > max_age)
        if HazardEvent.objects.filter(key=event.key).exists():  # same second, far away: a different quake
            event.key = f"{quake.event_id}-{quake.lat:+.1f}{quake.lon:+.1f}"
    previous = (event.display, event.ews_level, event.magnitude, event.depth_km, event.inatews_phase,
                json.dumps(event.warning, sort_keys=True) if event.warning else "")
    older_warning = (warning is not None and event.warning_sent is not None and warning.sent_utc < event.warning_sent)
    if older_warning:
        log.info("%s: InaTEWS %s is older than the one applied to %s; kept for the record only", feed.name,
                 warning.identifier if warning else "", event.key)
    else:
        if created or quake.source != "usgs":  # USGS witnesses a quake BMKG has described; it never revises it
            _apply_quake(event, quake)
        if warning is not None:
            event.warning = warning.as_json()
            event.warning_sent = warning.sent_utc
            event.inatews_phase = warning.phase
    if feed.name not in event.sources:
        event.sources = [*event.sources, feed.name]
    event.fingerprints = [*event.fingerprints, mark][-MAX_FINGERPRINTS:]
    event.record_time = max(filter(None, [event.record_time, record_time]))
    decision = decide_event(event)
    event.display, event.ews_level = decision.display, decision.ews_level or ""
    event.reasons, event.distance_km = list(decision.reasons), decision.distance_km
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
    alert = None if older_warning else alert_actions.apply_hazard_event(event, decision, now=now)
    if alert is not None:
        result.alerts.append(alert.pk)
    publish_on_commit("hazard.event", event_summary(event))


def event_summary(event: HazardEvent) -> dict[str, Any]:
    return {
        "id": event.pk, "key": event.key, "origin_time": iso_utc(event.origin_time), "lat": event.lat,
        "lon": event.lon, "magnitude": event.magnitude, "depth_km": event.depth_km, "region": event.region,
        "tsunami_potential": event.tsunami_potential, "display": event.display, "ews_level": event.ews_level or None,
        "reasons": event.reasons, "distance_km": round(event.distance_km, 1), "sources": event.sources,
        "inatews_phase": event.inatews_phase, "exercise": event.exercise, "stale": event.stale,
        "revision": event.revision,
    }
