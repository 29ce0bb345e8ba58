"""What the EWS carousel carries, kept in the database so that every process (``siaga serve``, a separate
``siaga ews broadcast``) puts the same sections on air at the same versions.

A warning thread is on air from its first message with a level for TV until its Cancel, an Update to
"nothing on TV", or its expiry: then it simply leaves the carousel, and the new TRDW version without it is
what makes a box leave the warning (receivers know no end level). What is on air is planned afresh on every
change (:func:`siaga.ews.sections.plan`: packages of at most 5 postcodes, each postcode with the strongest
warning in force there); each sub-table's version moves on only when that sub-table's content changes, so
an update of a message's text does not make a box leave and rebuild a full-screen warning. The versions
survive restarts (:class:`~siaga.broadcast.models.CarouselState`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from siaga.alerts.models import Alert
from siaga.broadcast.models import CarouselState, OnAir
from siaga.ews import fromcap, layout, sections
from siaga.ews.sections import Location, Message
from siaga.formats import cap

log = logging.getLogger("siaga.broadcast")


def to_json(message: Message) -> dict[str, Any]:
    data = dataclasses.asdict(message)
    data["locations"] = [[loc.postcode, loc.name] for loc in message.locations]
    return data


def from_json(data: dict[str, Any]) -> Message:
    values = dict(data)
    values["locations"] = tuple(Location(code, name) for code, name in data["locations"])
    return Message(**values)


@dataclass
class OnAirState:
    """The carousel now: versions of TRDW / TCDW / TMDW, the packages, their section bodies, the plan's notes."""

    versions: dict[str, int]
    revision: int
    packages: list[sections.Package]
    bodies: dict[int, list[bytes]]
    notes: list[str]

    def sections(self) -> list[bytes]:
        return sections.encode_tables(self.bodies, {ext: self.versions[name]
                                                    for ext, name in layout.SUBTABLES.items()})

    @property
    def warnings(self) -> int:
        return len({p.key for p in self.packages})


def _state() -> CarouselState:
    CarouselState.objects.get_or_create(name="default")
    return CarouselState.objects.select_for_update().get(name="default")


def in_force(now: datetime) -> list[OnAir]:
    rows = OnAir.objects.filter(ended_at__isnull=True).order_by("pk")
    return [row for row in rows if row.expires_at is None or row.expires_at > now]


def _digest(bodies: list[bytes]) -> str:
    return hashlib.sha256(b"".join(len(b).to_bytes(2, "big") + b for b in bodies)).hexdigest()


def _refresh(state: CarouselState, now: datetime) -> OnAirState:
    form = settings.EWS_TMDW_FORM
    messages = [from_json(row.message) for row in in_force(now)]
    planned = sections.plan(messages, form)
    bodies = sections.tables(planned.packages, form)
    versions = dict(state.versions or {})
    digests = dict(state.digests or {})
    changed = []
    for extension, name in layout.SUBTABLES.items():
        digest = _digest(bodies[extension])
        if digests.get(name) != digest or state.form != form:
            versions[name] = (versions.get(name, 0) + 1) % 32 if name in digests else versions.get(name, 0)
            digests[name] = digest
            changed.append(name)
    if changed:
        if planned.notes != state.notes:
            for note in planned.notes:
                log.warning("EWS carousel: %s", note)
        state.versions, state.digests, state.form, state.notes = versions, digests, form, planned.notes
        state.revision += 1
        state.changed_at = now
        state.save(update_fields=["versions", "digests", "form", "notes", "revision", "changed_at"])
    return OnAirState(versions, state.revision, planned.packages, bodies, planned.notes)


def snapshot(now: datetime | None = None) -> OnAirState:
    """What the carousel carries now (expired warnings leave as the clock passes their expiry)."""
    now = now or timezone.now()
    with transaction.atomic():
        return _refresh(_state(), now)


def put_on_air(alert: Alert, now: datetime | None = None) -> dict[str, Any]:
    """Bring the carousel up to date with this CAP message of a thread (an Alert, Update or Cancel)."""
    now = now or timezone.now()
    parsed = cap.parse(alert.xml.encode())
    with transaction.atomic():
        state = _state()
        row = OnAir.objects.select_for_update().filter(thread_id=alert.thread_id).first()
        if row is not None and row.alert_id > alert.pk:
            return {"on_air": row.ended_at is None, "skipped": "a later message of this warning is on air",
                    "versions": state.versions}
        level = fromcap.level_of(parsed, fromcap.info_of(parsed))
        if level is None:
            if row is None or row.ended_at is not None:
                return {"on_air": False, "skipped": "this warning is not on air", "versions": state.versions}
            row.alert, row.ended_at, row.updated_at = alert, now, now
            row.save(update_fields=["alert", "ended_at", "updated_at"])
        else:
            message = fromcap.message_of(parsed)
            if row is None:
                row = OnAir.objects.create(thread_id=alert.thread_id, alert=alert, level=level, message={},
                                           expires_at=alert.expires, updated_at=now)
            message = dataclasses.replace(message, key=f"thread-{alert.thread_id}", order=row.pk)
            if row.message.get("date") and fromcap.info_of(parsed).onset is None:
                # without an onset the date is the message's own time: a warning's date on TV is when it
                # began, so an update of its text alone changes only the TMDW
                message = dataclasses.replace(message, date=row.message["date"])
            row.alert, row.level, row.message = alert, level, to_json(message)
            row.expires_at, row.ended_at, row.updated_at = alert.expires, None, now
            row.save()
        result = _refresh(state, now)
    _announce(result.revision)
    mine = [p for p in result.packages if p.key == f"thread-{alert.thread_id}"]
    return {"on_air": bool(mine), "level": level, "packages": [p.package_id for p in mine],
            "postcodes": sorted({code for p in mine for code in p.postcodes}), "versions": result.versions,
            "warnings_on_air": result.warnings, "notes": result.notes}


def _announce(revision: int) -> None:
    from siaga.core.events import publish_on_commit

    publish_on_commit("ews.changed", {"revision": revision})
