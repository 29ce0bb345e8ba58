"""Reading shifts: which shift a moment belongs to (cached per process), the roster, coverage, who is on duty."""

from __future__ import annotations

import threading
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from siaga.shifts.models import RosterEntry, RosterRole, Shift, ShiftDefinition
from siaga.shifts.schedule import ScheduleError, Window, bounds, locate

_lock = threading.Lock()
_windows: tuple[float, list[tuple[Window, int]]] | None = None
_shift_ids: dict[tuple[date, int], int] = {}
CACHE_SECONDS = 30.0


def forget() -> None:
    """Drop the cached definitions and shift ids (after the definitions change)."""
    global _windows
    with _lock:
        _windows = None
        _shift_ids.clear()


def windows() -> list[tuple[Window, int]]:
    """The active definitions as (window, definition id), cached briefly."""
    global _windows
    now = clock.monotonic()
    with _lock:
        if _windows is not None and now - _windows[0] < CACHE_SECONDS:
            return _windows[1]
    rows = [(Window(d.code, d.name, d.start, d.end), d.pk) for d in ShiftDefinition.objects.filter(active=True)]
    with _lock:
        _windows = (now, rows)
    return rows


def locate_moment(moment: datetime) -> tuple[date, Window, int]:
    active = windows()
    if not active:
        raise ScheduleError(["no shifts are defined; run `siaga load-reference` or define them"])
    day, window = locate(timezone.localtime(moment), [w for w, _ in active])
    return day, window, next(pk for w, pk in active if w.code == window.code)


def get_shift(day: date, definition_id: int) -> Shift:
    definition = ShiftDefinition.objects.get(pk=definition_id)
    start, end = bounds(day, _window_of(definition), timezone.get_default_timezone())
    try:
        with transaction.atomic():
            shift, _ = Shift.objects.get_or_create(date=day, definition=definition,
                                                   defaults={"starts_at": start, "ends_at": end})
    except IntegrityError:  # created by another writer a moment ago
        shift = Shift.objects.get(date=day, definition=definition)
    return shift


def _window_of(definition: ShiftDefinition) -> Window:
    return Window(definition.code, definition.name, definition.start, definition.end)


def shift_id_at(moment: datetime) -> int | None:
    """The id of the shift a moment belongs to (created on first use); None when no shifts are defined."""
    try:
        day, _window, definition_id = locate_moment(moment)
    except ScheduleError:
        return None
    key = (day, definition_id)
    with _lock:
        hit = _shift_ids.get(key)
    if hit is not None:
        return hit
    shift_id = get_shift(day, definition_id).pk

    def remember() -> None:
        with _lock:
            _shift_ids[key] = shift_id

    # Cached only once committed: a shift row created inside a transaction that rolls back must not be
    # handed out again (every later write pointing at it would fail).
    transaction.on_commit(remember)
    return shift_id


def shift_at(moment: datetime) -> Shift | None:
    shift_id = shift_id_at(moment)
    return Shift.objects.select_related("definition").get(pk=shift_id) if shift_id else None


def current_shift() -> Shift | None:
    return shift_at(timezone.now())


def next_shift(shift: Shift) -> Shift:
    following = shift_at(shift.ends_at)
    assert following is not None
    return following


def shifts_between(first: date, last: date) -> list[Shift]:
    """Every shift from the first date to the last (inclusive), created where missing, in time order."""
    if last < first:
        raise ScheduleError([f"{last} is before {first}"])
    active = windows()
    shifts = []
    day = first
    while day <= last:
        for _window, definition_id in sorted(active, key=lambda item: item[0].start_minute):
            shifts.append(get_shift(day, definition_id))
        day += timedelta(days=1)
    return shifts


@dataclass
class Coverage:
    """What is wrong with a roster: understaffed shifts and people on more than two shifts in a row."""

    understaffed: list[dict[str, Any]] = field(default_factory=list)
    too_long: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.understaffed and not self.too_long


MAX_CONSECUTIVE = 2


def coverage(first: date, last: date) -> Coverage:
    shifts = shifts_between(first, last)
    result = Coverage()
    counts = {row["shift_id"]: row for row in RosterEntry.objects.filter(shift__in=shifts).values("shift_id").annotate(
        operators=Count("id", filter=Q(role=RosterRole.OPERATOR)),
        supervisors=Count("id", filter=Q(role=RosterRole.SUPERVISOR)))}
    for shift in shifts:
        row = counts.get(shift.pk, {"operators": 0, "supervisors": 0})
        definition = shift.definition
        if row["operators"] < definition.min_operators or row["supervisors"] < definition.min_supervisors:
            result.understaffed.append({
                "date": shift.date.isoformat(), "shift": definition.code, "shift_name": definition.name,
                "operators": row["operators"], "min_operators": definition.min_operators,
                "supervisors": row["supervisors"], "min_supervisors": definition.min_supervisors})
    # runs of consecutive shifts per person (the shift just before the range counts too)
    extended = shifts_between(first - timedelta(days=1), last)
    order = {s.pk: i for i, s in enumerate(extended)}
    people: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    full: dict[int, str] = {}
    for entry in RosterEntry.objects.filter(shift__in=extended).select_related("user"):
        people.setdefault(entry.user_id, []).append(order[entry.shift_id])
        names[entry.user_id] = entry.user.get_username()
        full[entry.user_id] = entry.user.get_full_name() or entry.user.get_username()
    for user_id, positions in people.items():
        positions.sort()
        run_start = previous = positions[0]
        for position in [*positions[1:], None]:
            if position is not None and position == previous + 1:
                previous = position
                continue
            length = previous - run_start + 1
            if length > MAX_CONSECUTIVE and extended[previous].date >= first:
                result.too_long.append({
                    "user": names[user_id], "name": full[user_id], "shifts": length,
                    "from": f"{extended[run_start].date.isoformat()} {extended[run_start].definition.code}",
                    "to": f"{extended[previous].date.isoformat()} {extended[previous].definition.code}"})
            if position is not None:
                run_start = previous = position
    return result


def on_duty(shift: Shift) -> list[RosterEntry]:
    return list(shift.roster.select_related("user", "attendance").order_by("role", "user__username"))


def grace() -> timedelta:
    return timedelta(minutes=settings.SHIFT_GRACE_MINUTES)
