"""API: shift definitions, the current shift and who is on it, the roster, attendance, handovers."""

from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import pgettext_lazy
from ninja import Body, Query, Router, Schema
from ninja.responses import Status

from siaga.core.api_support import ErrorOut, Month, allow, required_text
from siaga.core.errors import NotFound
from siaga.core.roles import HUMAN_ROLES, MANAGERS, STAFF, Principal, Role, user_roles
from siaga.shifts import actions, queries
from siaga.shifts.models import Handover, RosterEntry, RosterRole, Shift, ShiftDefinition

router = Router(tags=["shifts"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
WALL_READERS = (*STAFF, Role.WALL)


def _principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined, no-any-return]


class DefinitionOut(Schema):
    code: str
    name: str
    start: str
    end: str
    min_operators: int
    min_supervisors: int


@router.get("/shifts/definitions", auth=allow(*HUMAN_ROLES), response=list[DefinitionOut],
            summary="The shifts of a day (Jakarta time)")
def definitions(request: HttpRequest) -> Any:
    return [{"code": d.code, "name": d.name, "start": d.start.strftime("%H:%M"), "end": d.end.strftime("%H:%M"),
             "min_operators": d.min_operators, "min_supervisors": d.min_supervisors}
            for d in ShiftDefinition.objects.filter(active=True)]


class DefinitionsIn(Schema):
    spec: required_text(2000, "the shifts, e.g. pagi=07:00-15:00,siang=15:00-23:00,malam=23:00-07:00")
    min_operators: int | None = None
    min_supervisors: int | None = None


@router.put("/shifts/definitions", auth=allow(Role.ADMIN), response={200: list[DefinitionOut], **ERRORS},
            summary='Replace the shifts: "Pagi=07:00-15:00,Siang=15:00-23:00,Malam=23:00-07:00" (must tile 24 h)')
def define(request: HttpRequest, payload: DefinitionsIn) -> Any:
    actions.do_define_shifts(_principal(request), actions.parse_windows(payload.spec), payload.min_operators,
                             payload.min_supervisors)
    return definitions(request)


class PersonOut(Schema):
    entry_id: int
    username: str
    name: str
    role: str
    planned: bool
    started_at: datetime | None
    ended_at: datetime | None
    late_minutes: int
    early_minutes: int


class ShiftOut(Schema):
    id: int
    date: date
    code: str
    name: str
    starts_at: datetime
    ends_at: datetime
    people: list[PersonOut]


def _person(entry: RosterEntry) -> dict[str, Any]:
    attendance = getattr(entry, "attendance", None)
    return {"entry_id": entry.pk, "username": entry.user.get_username(),
            "name": entry.user.get_full_name() or entry.user.get_username(), "role": entry.role,
            "planned": entry.planned, "started_at": attendance.started_at if attendance else None,
            "ended_at": attendance.ended_at if attendance else None,
            "late_minutes": attendance.late_minutes if attendance else 0,
            "early_minutes": attendance.early_minutes if attendance else 0}


def _shift_out(shift: Shift) -> dict[str, Any]:
    return {"id": shift.pk, "date": shift.date, "code": shift.definition.code, "name": shift.definition.name,
            "starts_at": shift.starts_at, "ends_at": shift.ends_at,
            "people": [_person(e) for e in queries.on_duty(shift)]}


class HandoverVersionOut(Schema):
    number: int
    note: str
    written_by: str
    written_at: datetime


class HandoverOut(Schema):
    id: int
    from_shift: str
    to_shift: str
    note: str
    open_items: dict[str, Any]
    written_by: str
    written_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    versions: list[HandoverVersionOut]  # every text it had, oldest first; the last is the note above


def _handover_out(h: Handover) -> dict[str, Any]:
    return {"id": h.pk, "from_shift": str(h.from_shift), "to_shift": str(h.to_shift), "note": h.note,
            "open_items": h.open_items, "written_by": h.written_by.get_username(), "written_at": h.written_at,
            "acknowledged_by": h.acknowledged_by.get_username() if h.acknowledged_by else None,
            "acknowledged_at": h.acknowledged_at,
            "versions": [{"number": v.number, "note": v.note, "written_by": v.written_by.get_username(),
                          "written_at": v.written_at} for v in h.versions.select_related("written_by")]}


class CurrentOut(Schema):
    shift: ShiftOut | None
    next_shift: ShiftOut | None
    pending_handover: HandoverOut | None
    my_attendance: PersonOut | None


@router.get("/shifts/current", auth=allow(*WALL_READERS), response=CurrentOut,
            summary="The shift now, who is on it (planned and present), the handover waiting for it")
def current(request: HttpRequest) -> Any:
    shift = queries.current_shift()
    if shift is None:
        return {"shift": None, "next_shift": None, "pending_handover": None, "my_attendance": None}
    following = queries.next_shift(shift)
    pending = (Handover.objects.filter(to_shift=shift, acknowledged_at__isnull=True)
               .select_related("from_shift__definition", "to_shift__definition", "written_by").first())
    principal = _principal(request)
    mine = None
    if principal.user is not None:
        entry = (RosterEntry.objects.filter(user=principal.user, attendance__ended_at__isnull=True,
                                            attendance__isnull=False).select_related("user", "shift", "attendance")
                 .order_by("-attendance__started_at").first())
        mine = _person(entry) if entry else None
    return {"shift": _shift_out(shift), "next_shift": _shift_out(following),
            "pending_handover": _handover_out(pending) if pending else None, "my_attendance": mine}


@router.post("/shifts/start", auth=allow(*STAFF), response={200: PersonOut, **ERRORS},
             summary="I start my shift (late starts are recorded)")
def start(request: HttpRequest) -> Any:
    attendance = actions.do_start_shift(_principal(request))
    return _person(RosterEntry.objects.select_related("user", "shift", "attendance").get(pk=attendance.entry_id))


@router.post("/shifts/end", auth=allow(*STAFF), response={200: PersonOut, **ERRORS},
             summary="I end my shift (early leaves are recorded)")
def end(request: HttpRequest) -> Any:
    attendance = actions.do_end_shift(_principal(request))
    return _person(RosterEntry.objects.select_related("user", "shift", "attendance").get(pk=attendance.entry_id))


class RosterFilter(Schema):
    month: Month


class RosterEntryOut(Schema):
    id: int
    date: date
    shift: str
    username: str
    name: str
    role: str
    planned: bool


class CoverageOut(Schema):
    understaffed: list[dict[str, Any]]
    too_long: list[dict[str, Any]]


class RosterOut(Schema):
    month: str
    shifts: list[dict[str, Any]]
    entries: list[RosterEntryOut]
    coverage: CoverageOut


@router.get("/roster", auth=allow(*STAFF), response={200: RosterOut, **ERRORS},
            summary="A month's roster with its coverage problems")
def roster(request: HttpRequest, filters: Query[RosterFilter]) -> Any:
    first, last = actions.month_bounds(filters.month)
    shifts = queries.shifts_between(first, last)
    entries = (RosterEntry.objects.filter(shift__in=shifts).select_related("shift__definition", "user")
               .order_by("shift__starts_at", "role", "user__username"))
    check = queries.coverage(first, last)
    return {"month": filters.month,
            "shifts": [{"id": s.pk, "date": s.date.isoformat(), "code": s.definition.code,
                        "name": s.definition.name} for s in shifts],
            "entries": [{"id": e.pk, "date": e.shift.date, "shift": e.shift.definition.code,
                         "username": e.user.get_username(), "name": e.user.get_full_name() or e.user.get_username(),
                         "role": e.role, "planned": e.planned} for e in entries],
            "coverage": {"understaffed": check.understaffed, "too_long": check.too_long}}


class RosterIn(Schema):
    date: date
    shift: str
    username: str
    role: RosterRole
    note: str = ""


@router.post("/roster", auth=allow(*MANAGERS), response={201: RosterEntryOut, **ERRORS},
             summary="Put a person on a shift")
def roster_add(request: HttpRequest, payload: RosterIn) -> Any:
    entry = actions.do_roster_add(_principal(request), payload.date, payload.shift, payload.username, payload.role,
                                  payload.note)
    return Status(201, {"id": entry.pk, "date": entry.shift.date, "shift": entry.shift.definition.code,
                        "username": entry.user.get_username(), "name": entry.user.get_full_name()
                        or entry.user.get_username(), "role": entry.role, "planned": entry.planned})


@router.delete("/roster/{int:entry_id}", auth=allow(*MANAGERS), response={204: None, **ERRORS},
               summary="Take a person off a shift (not once they worked it)")
def roster_remove(request: HttpRequest, entry_id: int) -> Any:
    actions.do_roster_remove(_principal(request), entry_id)
    return Status(204, None)


@router.get("/roster/export", auth=allow(*MANAGERS), summary="A month's roster as CSV (date,shift,username,role)")
def roster_export(request: HttpRequest, filters: Query[RosterFilter]) -> HttpResponse:
    text = actions.export_roster(filters.month)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="roster-{filters.month}.csv"'
    return response


class ImportOut(Schema):
    added: int
    removed: int
    kept: int


@router.post("/roster/import", auth=allow(*MANAGERS), response={200: ImportOut, **ERRORS},
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
             summary="Replace a month's roster with a CSV (all or nothing)")
def roster_import(request: HttpRequest, filters: Query[RosterFilter]) -> Any:
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        from siaga.core.errors import ValidationFailed

        raise ValidationFailed(pgettext_lazy("error", "the file is not UTF-8 text"), field="file") from None
    result = actions.do_import_roster(_principal(request), filters.month, text)
    return {"added": result.added, "removed": result.removed, "kept": result.kept}


class StaffOut(Schema):
    username: str
    name: str
    roles: list[str]


@router.get("/staff", auth=allow(*MANAGERS), response=list[StaffOut], summary="People who can be rostered")
def staff(request: HttpRequest) -> Any:
    people = get_user_model().objects.filter(is_active=True, groups__name__in=["operator", "supervisor"]).distinct()
    return [{"username": u.get_username(), "name": u.get_full_name() or u.get_username(),
             "roles": sorted(r.value for r in user_roles(u))} for u in people.order_by("username")]


class HandoverIn(Schema):
    note: required_text(10000)


@router.post("/handovers", auth=allow(*MANAGERS), response={201: HandoverOut, **ERRORS},
             summary="Write the handover of the current shift (open incidents, dispatches, warnings attached)")
def handover_write(request: HttpRequest, payload: HandoverIn = Body(...)) -> Any:  # noqa: B008
    return Status(201, _handover_out(actions.do_write_handover(_principal(request), payload.note)))


@router.post("/handovers/{handover_id}/acknowledge", auth=allow(*MANAGERS), response={200: HandoverOut, **ERRORS},
             summary="The incoming supervisor acknowledges a handover")
def handover_acknowledge(request: HttpRequest, handover_id: int) -> Any:
    return _handover_out(actions.do_acknowledge_handover(_principal(request), handover_id))


@router.get("/handovers/{handover_id}", auth=allow(*WALL_READERS), response={200: HandoverOut, **ERRORS},
            summary="One handover with what was open")
def handover_detail(request: HttpRequest, handover_id: int) -> Any:
    handover = Handover.objects.filter(pk=handover_id).first()
    if handover is None:
        raise NotFound(pgettext_lazy("error", "handover {handover_id} does not exist"), handover_id=handover_id)
    return _handover_out(handover)
