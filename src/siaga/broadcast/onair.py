"""What the EWS carousel carries, kept in the database so that every process (``siaga serve``, a separate
``siaga ews broadcast``) puts the same sections on air at the same version.

A warning thread gets a package_id (1-255) when it first goes on TV and keeps it through its Updates. Its
Cancel, an Update to "nothing on TV" or its expiry turns it into level END, which stays on air for
``SIAGA_EWS_END_SECONDS`` so that receivers clear it; then the package_id is free again. The carousel's
version (0-31) moves on whenever the set of sections changes, and survives restarts (it lives in
:class:`~siaga.broadcast.models.CarouselState`), so receivers never take new content for a repeat.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from siaga.alerts.models import Alert
from siaga.broadcast.models import CarouselState, OnAir
from siaga.ews import fromcap
from siaga.ews.sections import Location, Message
from siaga.formats import cap


class NoPackageFree(RuntimeError):
    """All 255 package ids are on air."""


def to_json(message: Message) -> dict[str, Any]:
    data = dataclasses.asdict(message)
    data["locations"] = [[loc.postcode, loc.name] for loc in message.locations]
    return data


def from_json(data: dict[str, Any]) -> Message:
    values = dict(data)
    values["locations"] = tuple(Location(code, name) for code, name in data["locations"])
    return Message(**values)


def _state() -> CarouselState:
    CarouselState.objects.get_or_create(name="default")
    return CarouselState.objects.select_for_update().get(name="default")


def _ended(row: OnAir, now: datetime) -> datetime | None:
    if row.ended_at is not None:
        return row.ended_at
    if row.expires_at is not None and row.expires_at <= now:
        return row.expires_at
    return None


def _messages(rows: list[OnAir], now: datetime) -> tuple[list[Message], list[OnAir]]:
    """(what is on air, rows whose END has been on air long enough to leave)"""
    window = timedelta(seconds=settings.EWS_END_SECONDS)
    messages, leaving = [], []
    for row in rows:
        message = from_json(row.message)
        ended = _ended(row, now)
        if ended is None:
            messages.append(message)
        elif now - ended < window:
            if message.level != "END":  # expired: the END a Cancel would have put on air
                message = dataclasses.replace(message, level="END", text=row.end_text or "BERAKHIR")
            messages.append(message)
        else:
            leaving.append(row)
    return sorted(messages, key=lambda m: m.package_id), leaving


def _digest(messages: list[Message]) -> str:
    blob = json.dumps([to_json(m) for m in messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _refresh(state: CarouselState, now: datetime) -> tuple[int, list[Message]]:
    rows = list(OnAir.objects.filter(package_id__isnull=False).order_by("package_id"))
    messages, leaving = _messages(rows, now)
    if leaving:
        OnAir.objects.filter(pk__in=[row.pk for row in leaving]).update(package_id=None)
    digest = _digest(messages)
    if digest != state.digest:
        state.version = (state.version + 1) % 32
        state.digest, state.changed_at = digest, now
        state.save(update_fields=["version", "digest", "changed_at"])
    return state.version, messages


def snapshot(now: datetime | None = None) -> tuple[int, list[Message]]:
    """The carousel's version and the warnings it carries now (ENDs included)."""
    now = now or timezone.now()
    with transaction.atomic():
        return _refresh(_state(), now)


def _free_package() -> int:
    used = set(OnAir.objects.filter(package_id__isnull=False).values_list("package_id", flat=True))
    for candidate in range(1, 256):
        if candidate not in used:
            return candidate
    raise NoPackageFree("all 255 EWS package ids are on air")


def put_on_air(alert: Alert, now: datetime | None = None) -> dict[str, Any]:
    """Bring the carousel up to date with this CAP message of a thread (an Alert, Update or Cancel)."""
    now = now or timezone.now()
    parsed = cap.parse(alert.xml.encode())
    with transaction.atomic():
        state = _state()
        row = OnAir.objects.select_for_update().filter(thread_id=alert.thread_id).first()
        if row is not None and row.alert_id > alert.pk:
            return {"on_air": row.package_id is not None, "skipped": "a later message of this warning is on air",
                    "version": state.version}
        info = fromcap._info(parsed)
        level = fromcap.level_of(parsed, info)
        if level == "END" and (row is None or row.package_id is None):
            return {"on_air": False, "skipped": "this warning was never on air", "version": state.version}
        package = row.package_id if row is not None and row.package_id is not None else _free_package()
        message = fromcap.message_of(parsed, package)
        values = {"alert": alert, "package_id": package, "level": level, "message": to_json(message),
                  "end_text": fromcap.end_text(parsed),
                  "expires_at": alert.expires, "ended_at": now if level == "END" else None, "updated_at": now}
        if row is None:
            row = OnAir.objects.create(thread_id=alert.thread_id, **values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
        version, messages = _refresh(state, now)
    _announce(version)
    return {"on_air": True, "package_id": package, "level": level, "version": version,
            "postcodes": message.postcodes, "warnings_on_air": len(messages)}


def _announce(version: int) -> None:
    from siaga.core.events import publish_on_commit

    publish_on_commit("ews.changed", {"version": version})
