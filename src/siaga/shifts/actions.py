"""Every write to shifts: definitions, roster, attendance, handovers. One transaction each, audited."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.core import audit, warnings
from siaga.core.errors import Conflict, Forbidden, LazyJoin, LazyText, NotFound, ValidationFailed, lazy
from siaga.core.events import publish_on_commit
from siaga.core.roles import MANAGERS, STAFF, Principal, Role, user_roles
from siaga.shifts import queries
from siaga.shifts.models import (
    Attendance,
    Handover,
    HandoverVersion,
    RosterEntry,
    RosterRole,
    Shift,
    ShiftDefinition,
)
from siaga.shifts.schedule import ScheduleError, Window, check_tiling

CSV_COLUMNS = ["date", "shift", "username", "role"]


def _require(actor: Principal, roles: tuple[Role, ...], what: Any) -> None:
    if not actor.has(*roles):
        raise Forbidden(pgettext_lazy("error", "your role may not {what}"), what=what)


# ------------------------------------------------------------------------------------------------------
# definitions
# ------------------------------------------------------------------------------------------------------
@transaction.atomic
def do_define_shifts(actor: Principal, windows: list[Window], min_operators: int | None = None,
                     min_supervisors: int | None = None) -> list[ShiftDefinition]:
    """Replace the active shift definitions; refused (nothing changed) unless they tile the 24 hours."""
    _require(actor, (Role.ADMIN,), pgettext_lazy("error", "define shifts"))
    problems = check_tiling(windows)
    if problems:
        raise ValidationFailed(pgettext_lazy("error", "the shifts do not cover the day exactly: {problems}"),
                               field="shifts", problems="; ".join(problems))
    before = [audit.snapshot(d, ("code", "name", "start", "end", "active")) for d in ShiftDefinition.objects.all()]
    kept = []
    for window in windows:
        defaults: dict[str, Any] = {"name": window.name, "start": window.start, "end": window.end, "active": True}
        if min_operators is not None:
            defaults["min_operators"] = min_operators
        if min_supervisors is not None:
            defaults["min_supervisors"] = min_supervisors
        definition, _ = ShiftDefinition.objects.update_or_create(code=window.code, defaults=defaults)
        kept.append(definition)
    ShiftDefinition.objects.exclude(pk__in=[d.pk for d in kept]).update(active=False)
    audit.record(actor, "shifts.define", object_type="shifts.shiftdefinition", object_id="all",
                 before={"definitions": before},
                 after={"definitions": [audit.snapshot(d, ("code", "name", "start", "end")) for d in kept]})
    transaction.on_commit(queries.forget)
    queries.forget()
    return kept


# ------------------------------------------------------------------------------------------------------
# roster
# ------------------------------------------------------------------------------------------------------
def _shift(day: date, code: str) -> Shift:
    definition = ShiftDefinition.objects.filter(code=code, active=True).first()
    if definition is None:
        codes = ", ".join(ShiftDefinition.objects.filter(active=True).values_list("code", flat=True))
        raise ValidationFailed(
            pgettext_lazy("error", "shift {code_!r} is unknown; the shifts are {codes}"), field="shift", code_=code,
            codes=codes)
    return queries.get_shift(day, definition.pk)


def _check_entry(actor: Principal, shift: Shift, user: Any, role: str) -> None:
    if role not in RosterRole.values:
        raise ValidationFailed(
            pgettext_lazy("error", "role {role!r} is not operator or supervisor"), field="role", role=role)
    if not user.is_active:
        raise ValidationFailed(
            pgettext_lazy("error", "{value} is deactivated"), field="username", value=user.get_username())
    roles = user_roles(user)
    allowed = {Role.SUPERVISOR} if role == RosterRole.SUPERVISOR else {Role.OPERATOR, Role.SUPERVISOR}
    if not roles & allowed:
        raise ValidationFailed(
            pgettext_lazy("error", "{value} is not in the {role} group"), field="role", value=user.get_username(),
            role=role)
    if shift.ends_at < timezone.now() - timedelta(days=1) and not actor.has(Role.ADMIN):
        raise ValidationFailed(
            pgettext_lazy("error", "{shift} is over; only an admin corrects a past roster"), field="date", shift=shift)
    if RosterEntry.objects.filter(shift=shift, user=user).exists():
        raise Conflict(
            pgettext_lazy("error", "{value} is already on {shift}"), field="username", value=user.get_username(),
            shift=shift)
    clash = RosterEntry.objects.filter(user=user, shift__starts_at__lt=shift.ends_at,
                                       shift__ends_at__gt=shift.starts_at).exclude(shift=shift).first()
    if clash is not None:
        raise Conflict(
            pgettext_lazy("error", "{value} is already on {shift}, which overlaps {shift2}"), field="username",
            value=user.get_username(), shift=clash.shift, shift2=shift)


@transaction.atomic
def do_roster_add(actor: Principal, day: date, code: str, username: str, role: str, note: str = "") -> RosterEntry:
    _require(actor, MANAGERS, pgettext_lazy("error", "edit the roster"))
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationFailed(pgettext_lazy("error", "no user {username!r}"), field="username", username=username)
    shift = _shift(day, code)
    _check_entry(actor, shift, user, role)
    entry = RosterEntry.objects.create(shift=shift, user=user, role=role, note=note[:200])
    audit.record(actor, "roster.add", entry, after={"shift": str(shift), "user": username, "role": role})
    publish_on_commit("roster.updated", {"shift_id": shift.pk})
    return entry


@transaction.atomic
def do_roster_remove(actor: Principal, entry_id: int) -> None:
    _require(actor, MANAGERS, pgettext_lazy("error", "edit the roster"))
    entry = RosterEntry.objects.select_related("shift", "user").filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(pgettext_lazy("error", "roster entry {entry_id} does not exist"), entry_id=entry_id)
    if Attendance.objects.filter(entry=entry).exists():
        raise Conflict(
            pgettext_lazy("error", "{value} already worked {shift}; the entry stays"), field="entry",
            value=entry.user.get_username(), shift=entry.shift)
    snapshot = {"shift": str(entry.shift), "user": entry.user.get_username(), "role": entry.role}
    entry.delete()
    audit.record(actor, "roster.remove", object_type="shifts.rosterentry", object_id=entry_id, before=snapshot)
    publish_on_commit("roster.updated", {"shift_id": entry.shift_id})


def month_bounds(month: str) -> tuple[date, date]:
    """``YYYY-MM`` to its first and last day; refuses anything else with a clear message."""
    try:
        first = date.fromisoformat(month + "-01") if len(month) == 7 else date.fromisoformat("invalid")
    except ValueError:
        raise ValidationFailed(
            pgettext_lazy("error", "month {month!r} is not YYYY-MM (e.g. 2026-12)"), field="month",
            month=month) from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def export_roster(month: str) -> str:
    first, last = month_bounds(month)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in (RosterEntry.objects.filter(shift__date__gte=first, shift__date__lte=last)
                  .select_related("shift__definition", "user").order_by("shift__starts_at", "role", "user__username")):
        writer.writerow([entry.shift.date.isoformat(), entry.shift.definition.code, entry.user.get_username(),
                         entry.role])
    return out.getvalue()


@dataclass
class ImportResult:
    added: int
    removed: int
    kept: int


@transaction.atomic
def do_import_roster(actor: Principal, month: str, text: str) -> ImportResult:
    """Make the month's roster what the CSV says; any bad line refuses the whole file (nothing changes).

    Entries of people who already worked (attendance) are kept even if the file leaves them out.
    """
    _require(actor, MANAGERS, pgettext_lazy("error", "import a roster"))
    first, last = month_bounds(month)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames][:4] != CSV_COLUMNS:
        raise ValidationFailed(
            pgettext_lazy("error", "the first line must be {names}"), field="file", names=','.join(CSV_COLUMNS))
    users = {u.username: u for u in get_user_model().objects.all()}
    wanted: dict[tuple[int, int], str] = {}
    problems: list[Any] = []
    for line, row in enumerate(reader, start=2):
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
        except ValueError:
            problems.append(LazyText(pgettext_lazy("error", "line {line}: date {value!r} is not YYYY-MM-DD"),
                                     line=line, value=row.get("date")))
            continue
        if not first <= day <= last:
            problems.append(LazyText(pgettext_lazy("error", "line {line}: {day} is not in {month}"), line=line,
                                     day=day, month=month))
            continue
        user = users.get((row.get("username") or "").strip())
        if user is None:
            problems.append(LazyText(pgettext_lazy("error", "line {line}: no user {username!r}"), line=line,
                                     username=row.get("username")))
            continue
        try:
            shift = _shift(day, (row.get("shift") or "").strip())
            role = (row.get("role") or "").strip()
            key = (shift.pk, user.pk)
            if key in wanted:
                raise Conflict(
                    pgettext_lazy("error", "{username} appears twice on {shift}"), username=user.username, shift=shift)
            existing = RosterEntry.objects.filter(shift=shift, user=user).first()
            if existing is None:
                _check_entry(actor, shift, user, role)
            wanted[key] = role
        except (ValidationFailed, Conflict) as exc:
            problems.append(LazyText(pgettext_lazy("error", "line {line}: {problem}"), line=line, problem=lazy(exc)))
    if problems:
        shown: list[Any] = problems[:20]
        if len(problems) > 20:
            shown.append(LazyText(pgettext_lazy("error", "and {count} more"), count=len(problems) - 20))
        raise ValidationFailed(pgettext_lazy("error", "the roster was not imported: {problems}"), field="file",
                               problems=LazyJoin("; ", shown))
    # the same person on two overlapping shifts within the file
    by_user: dict[int, list[Shift]] = {}
    shifts = {s.pk: s for s in Shift.objects.filter(pk__in={k[0] for k in wanted})}
    for shift_id, user_id in wanted:
        by_user.setdefault(user_id, []).append(shifts[shift_id])
    month_entries = RosterEntry.objects.filter(shift__date__gte=first, shift__date__lte=last)
    removed = kept = added = 0
    for entry in month_entries.select_related("attendance"):
        if (entry.shift_id, entry.user_id) in wanted:
            if entry.role != wanted[(entry.shift_id, entry.user_id)]:
                entry.role = wanted[(entry.shift_id, entry.user_id)]
                entry.save(update_fields=["role"])
            del wanted[(entry.shift_id, entry.user_id)]
        elif hasattr(entry, "attendance"):
            kept += 1
        else:
            entry.delete()
            removed += 1
    for (shift_id, user_id), role in wanted.items():
        RosterEntry.objects.create(shift_id=shift_id, user_id=user_id, role=role)
        added += 1
    audit.record(actor, "roster.import", object_type="shifts.rosterentry", object_id=month,
                 after={"added": added, "removed": removed, "kept": kept})
    publish_on_commit("roster.updated", {"month": month})
    return ImportResult(added, removed, kept)


# ------------------------------------------------------------------------------------------------------
# attendance
# ------------------------------------------------------------------------------------------------------
EARLY_START = timedelta(minutes=30)


@transaction.atomic
def do_start_shift(actor: Principal, at: datetime | None = None) -> Attendance:
    """The person starts their shift (the current one, or the next if it starts within 30 minutes)."""
    _require(actor, STAFF, pgettext_lazy("error", "start a shift"))
    now = at or timezone.now()
    shift = queries.shift_at(now)
    if shift is None:
        raise ValidationFailed(pgettext_lazy("error", "no shifts are defined"), field="shift")
    following = queries.next_shift(shift)
    entry = RosterEntry.objects.filter(user=actor.user, shift=following).first() \
        if following.starts_at - now <= EARLY_START else None
    if entry is None:
        entry = RosterEntry.objects.filter(user=actor.user, shift=shift).first()
    if entry is None:  # a substitute: recorded, marked as not planned
        role = RosterRole.SUPERVISOR if actor.has(Role.SUPERVISOR) else RosterRole.OPERATOR
        entry = RosterEntry.objects.create(shift=shift, user=actor.user, role=role, planned=False)
    attendance = Attendance.objects.filter(entry=entry).first()
    if attendance is not None:
        return attendance  # starting twice is harmless
    attendance = Attendance.objects.create(entry=entry, started_at=now)
    audit.record(actor, "shift.start", attendance,
                 after={"shift": str(entry.shift), "late_min": attendance.late_minutes})
    publish_on_commit("presence.shift", {"shift_id": entry.shift_id, "user_id": actor.user.pk, "started": True})
    return attendance


@transaction.atomic
def do_end_shift(actor: Principal, at: datetime | None = None) -> Attendance:
    _require(actor, STAFF, pgettext_lazy("error", "end a shift"))
    now = at or timezone.now()
    attendance = (Attendance.objects.select_for_update().select_related("entry__shift")
                  .filter(entry__user=actor.user, ended_at__isnull=True).order_by("-started_at").first())
    if attendance is None:
        raise Conflict(pgettext_lazy("error", "you have not started a shift"), field="shift")
    if now < attendance.started_at:
        raise ValidationFailed(pgettext_lazy("error", "a shift cannot end before it started"), field="at")
    attendance.ended_at = now
    attendance.save(update_fields=["ended_at"])
    audit.record(actor, "shift.end", attendance, after={"early_min": attendance.early_minutes})
    publish_on_commit("presence.shift", {"shift_id": attendance.entry.shift_id, "user_id": actor.user.pk,
                                         "started": False})
    return attendance


# ------------------------------------------------------------------------------------------------------
# handover
# ------------------------------------------------------------------------------------------------------
def open_items() -> dict[str, Any]:
    """Everything still open, as the incoming shift must see it."""
    from siaga.incidents.models import ACTIVE_DISPATCH, OPEN_STATUSES, Dispatch, Incident

    incidents = [{"id": i.pk, "ticket": i.ticket, "category": i.category.name, "priority": i.priority,
                  "status": i.status, "address": i.address, "created_at": i.created_at.isoformat()}
                 for i in Incident.objects.filter(status__in=OPEN_STATUSES).select_related("category")
                 .order_by("priority", "created_at")]
    dispatches = [{"id": d.pk, "ticket": d.incident.ticket, "agency": d.agency.short_name, "status": d.status,
                   "requested_at": d.requested_at.isoformat()}
                  for d in Dispatch.objects.filter(status__in=ACTIVE_DISPATCH).select_related("incident", "agency")
                  .order_by("requested_at")]
    return {"incidents": incidents, "dispatches": dispatches, "warnings": list(warnings.active())}


@transaction.atomic
def do_write_handover(actor: Principal, note: str, at: datetime | None = None) -> Handover:
    """The outgoing supervisor's handover of the current shift to the next; rewritable until acknowledged.

    Only a supervisor on that shift's roster (planned, or a substitute who started it) or an admin writes
    it. A rewrite keeps what was written before: each text is a :class:`HandoverVersion`."""
    _require(actor, MANAGERS, pgettext_lazy("error", "write a handover"))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(pgettext_lazy("error", "the handover note is empty"), field="note")
    now = at or timezone.now()
    shift = queries.shift_at(now)
    if shift is None:
        raise ValidationFailed(pgettext_lazy("error", "no shifts are defined"), field="shift")
    if not actor.has(Role.ADMIN) and not RosterEntry.objects.filter(
            shift=shift, user=actor.user, role=RosterRole.SUPERVISOR).exists():
        raise Forbidden(
            pgettext_lazy("error", "only the supervisor on the roster of {shift} (or an admin) writes its handover; "
                                   "start the shift first if you are taking it over"), shift=shift)
    following = queries.next_shift(shift)
    handover = Handover.objects.select_for_update().filter(from_shift=shift).first()
    if handover is not None and handover.acknowledged_at is not None:
        raise Conflict(
            pgettext_lazy("error", "the handover of {shift} was already acknowledged; it cannot change"), field="note",
            shift=shift)
    items = open_items()
    before = None
    if handover is None:
        handover = Handover.objects.create(from_shift=shift, to_shift=following, note=note, open_items=items,
                                           written_by=actor.user, written_at=now)
    else:
        before = {"note": handover.note[:200], "written_by": handover.written_by.get_username()}
        handover.note, handover.open_items, handover.written_by, handover.written_at = note, items, actor.user, now
        handover.save()
    number = handover.versions.count() + 1
    HandoverVersion.objects.create(handover=handover, number=number, note=note, open_items=items,
                                   written_by=actor.user, written_at=now)
    audit.record(actor, "handover.write", handover, before=before,
                 after={"note": note[:200], "version": number, "incidents": len(items["incidents"]),
                        "dispatches": len(items["dispatches"])})
    publish_on_commit("presence.handover", {"id": handover.pk, "acknowledged": False})
    return handover


@transaction.atomic
def do_acknowledge_handover(actor: Principal, handover_id: int, at: datetime | None = None) -> Handover:
    _require(actor, MANAGERS, pgettext_lazy("error", "acknowledge a handover"))
    handover = Handover.objects.select_for_update().filter(pk=handover_id).first()
    if handover is None:
        raise NotFound(pgettext_lazy("error", "handover {handover_id} does not exist"), handover_id=handover_id)
    if handover.acknowledged_at is not None:
        return handover
    if actor.user is not None and handover.written_by_id == actor.user.pk:
        raise Conflict(
            pgettext_lazy("error", "the incoming supervisor acknowledges, not the one who wrote it"), field="handover")
    handover.acknowledged_by = actor.user
    handover.acknowledged_at = at or timezone.now()
    handover.save(update_fields=["acknowledged_by", "acknowledged_at"])
    audit.record(actor, "handover.acknowledge", handover)
    publish_on_commit("presence.handover", {"id": handover.pk, "acknowledged": True})
    return handover


def parse_windows(spec: str) -> list[Window]:
    from siaga.shifts.schedule import parse_spec

    try:
        return parse_spec(spec)
    except ScheduleError as exc:
        raise ValidationFailed("; ".join(exc.problems), field="shifts") from None
