"""Every write to incidents and dispatches: one transaction each, audited, published after commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.core import audit, regions
from siaga.core.errors import Conflict, Forbidden, IllegalTransition, LazyText, NotFound, ValidationFailed
from siaga.core.events import publish_on_commit
from siaga.core.models import Agency
from siaga.core.roles import MANAGERS, STAFF, Principal, Role
from siaga.geo import check_lat_lon
from siaga.incidents import lifecycle
from siaga.incidents.models import (
    ACTIVE_DISPATCH,
    Category,
    Dispatch,
    DispatchStatus,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Priority,
    TicketCounter,
)
from siaga.shifts.queries import shift_id_at

CLOCK_SKEW = timedelta(minutes=2)
INCIDENT_AUDIT_FIELDS = ("status", "category_id", "priority", "description", "lat", "lon", "address",
                         "kelurahan_id", "kecamatan_id", "reporter_name", "reporter_phone", "verified_at",
                         "dispatched_at", "on_scene_at", "resolved_at", "closed_at", "cancelled_at",
                         "duplicate_of_id")
DISPATCH_AUDIT_FIELDS = ("status", "unit_name", "requested_at", "acknowledged_at", "en_route_at", "on_scene_at",
                         "completed_at", "declined_at", "cancelled_at", "reason")


# ------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------
def _require(actor: Principal, roles: tuple[Role, ...], what: Any) -> None:
    if not actor.has(*roles):
        raise Forbidden(pgettext_lazy("error", "your role may not {what}"), what=what)


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # as the CTI contract: an earlier year is a typing error


def _step_time(at: datetime | None, now: datetime, after: list[tuple[Any, datetime | None]], step: Any) -> datetime:
    """The time of a step: ``at`` or now; never in the future, never before the steps it follows, and not
    before :data:`EARLIEST` (a year 1900 or 0001 is a typing error, not a record; it would also be a ticket
    number of that year)."""
    moment = at or now
    if timezone.is_naive(moment):
        raise ValidationFailed(pgettext_lazy("error", "times must carry a time zone"), field="at")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(pgettext_lazy("error", "{step} at {time} is outside the years a clock can hold"),
                               field="at", step=step, time=moment.isoformat()) from None
    if moment < EARLIEST:
        raise ValidationFailed(pgettext_lazy("error", "{step} at {time} is before {year}: a typing error?"),
                               field="at", step=step, time=moment.isoformat(), year=EARLIEST.year)
    if moment > now + CLOCK_SKEW:
        raise ValidationFailed(
            pgettext_lazy("error", "{step} at {time} is in the future"), field="at", step=step, time=moment.isoformat())
    for label, earlier in after:
        if earlier is not None and moment < earlier:
            raise IllegalTransition(
                pgettext_lazy("error", "{step} at {time} would be before {label} at {earlier}: times cannot go "
                                       "backwards"), field="at", code="time_backwards", step=step,
                                       time=moment.isoformat(), label=label, earlier=earlier.isoformat())
    return moment


def _event(incident: Incident, actor: Principal, kind: str, message: str, at: datetime,
           data: dict[str, Any] | None = None) -> None:
    IncidentEvent.objects.create(incident=incident, at=at, kind=kind, actor=actor.label[:100], message=message,
                                 data=data or {})


def _lock_incident(incident_id: int) -> Incident:
    incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(pgettext_lazy("error", "incident {incident_id} does not exist"), incident_id=incident_id)
    return incident


def incident_summary(incident: Incident) -> dict[str, Any]:
    """The ``data`` of ``incident.*`` live events. ``agency_ids`` lets agency pages receive only their own."""
    return {
        "id": incident.pk, "ticket": incident.ticket, "status": incident.status, "priority": incident.priority,
        "category_id": incident.category_id, "lat": incident.lat, "lon": incident.lon,
        "kelurahan_id": incident.kelurahan_id, "kecamatan_id": incident.kecamatan_id,
        "address": incident.address, "created_at": incident.created_at.isoformat(),
        "agency_ids": sorted(set(incident.dispatches.values_list("agency_id", flat=True))),
    }


def dispatch_summary(dispatch: Dispatch) -> dict[str, Any]:
    return {
        "id": dispatch.pk, "incident_id": dispatch.incident_id, "agency_id": dispatch.agency_id,
        "unit_name": dispatch.unit_name, "status": dispatch.status,
    }


def next_ticket(at: datetime) -> str:
    """Allocate the next ticket number for the (Jakarta-time) year of ``at``. Call inside a transaction."""
    prefix = settings.TICKET_PREFIX
    year = timezone.localtime(at).year
    counter, _ = TicketCounter.objects.get_or_create(prefix=prefix, year=year)
    TicketCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    last = TicketCounter.objects.filter(pk=counter.pk).values_list("last", flat=True).get()
    return f"{prefix}-{year}-{last:06d}"


def _location(lat: float | None, lon: float | None) -> tuple[Any, Any]:
    if (lat is None) != (lon is None):
        raise ValidationFailed(
            pgettext_lazy("error", "lat and lon come together; one is missing"), field="lon" if lon is None else "lat")
    if lat is None or lon is None:
        return None, None
    try:
        check_lat_lon(lat, lon)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="lat" if "latitude" in str(exc) else "lon") from None
    resolved = regions.resolve(lat, lon)
    return resolved.kelurahan_id, resolved.kecamatan_id


# ------------------------------------------------------------------------------------------------------
# incidents
# ------------------------------------------------------------------------------------------------------
@transaction.atomic
def do_create_incident(
    actor: Principal,
    *,
    category: str,
    priority: int | None = None,
    description: str = "",
    lat: float | None = None,
    lon: float | None = None,
    location_accuracy_m: float | None = None,
    location_source: str = "",
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    call_id: int | None = None,
    client_ref: str | None = None,
    at: datetime | None = None,
) -> tuple[Incident, bool]:
    """Open an incident (from a call, usually). Repeating with the same ``client_ref`` returns the first."""
    _require(actor, STAFF, pgettext_lazy("error", "create incidents"))
    if client_ref:
        existing = Incident.objects.filter(client_ref=client_ref).first()
        if existing is not None:
            return existing, False
    cat = Category.objects.filter(code=category, active=True).first()
    if cat is None:
        raise ValidationFailed(
            pgettext_lazy("error", "category {category!r} is unknown or inactive"), field="category", category=category)
    if priority is None:
        priority = cat.default_priority
    if priority not in Priority.values:
        raise ValidationFailed(
            pgettext_lazy("error", "priority {priority!r} is not one of 1 (critical) .. 4 (low)"), field="priority",
            priority=priority)
    kelurahan_id, kecamatan_id = _location(lat, lon)
    now = timezone.now()
    created_at = _step_time(at, now, [], pgettext_lazy("error", "the report"))
    call = None
    if call_id is not None:
        from siaga.calls.models import Call, Outcome

        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None:
            raise ValidationFailed(
                pgettext_lazy("error", "call {call_id} does not exist"), field="call_id", call_id=call_id)
        if call.incident_id is not None:
            raise Conflict(
                pgettext_lazy("error", "call {call_id} already belongs to incident {incident_id}"), field="call_id",
                call_id=call_id, incident_id=call.incident_id)
        from siaga.calls.actions import require_own_call

        require_own_call(call, actor, pgettext_lazy("error", "open an incident from"))
    incident = Incident.objects.create(
        ticket=next_ticket(created_at), category=cat, priority=priority, description=description.strip(),
        lat=lat, lon=lon, location_accuracy_m=location_accuracy_m, location_source=location_source[:12],
        address=address.strip()[:300], kelurahan_id=kelurahan_id, kecamatan_id=kecamatan_id,
        reporter_name=reporter_name.strip()[:100], reporter_phone=reporter_phone.strip()[:32],
        created_by=actor.user, created_at=created_at, client_ref=client_ref or None,
        shift_id=shift_id_at(created_at),
    )
    _event(incident, actor, "created", f"Kejadian dibuat: {cat.name}", created_at,
           {"priority": priority, "call_id": call_id})
    if call is not None:
        from siaga.calls.actions import call_summary
        from siaga.calls.models import Outcome

        before = audit.snapshot(call, ("incident_id", "outcome"))
        call.incident = incident
        if call.outcome in ("", Outcome.ABANDONED) or call.outcome_auto:
            call.outcome, call.outcome_auto = Outcome.NORMAL, False
            call.tagged_by, call.tagged_at = actor.user, now
        call.save(update_fields=["incident", "outcome", "outcome_auto", "tagged_by", "tagged_at"])
        audit.record(actor, "call.link_incident", call, before=before,
                     after=audit.snapshot(call, ("incident_id", "outcome")))
        publish_on_commit("call.updated", call_summary(call))
    audit.record(actor, "incident.create", incident, after=audit.snapshot(incident, INCIDENT_AUDIT_FIELDS))
    publish_on_commit("incident.created", incident_summary(incident))
    return incident, True


EDITABLE_FIELDS = ("category", "priority", "description", "lat", "lon", "location_accuracy_m", "location_source",
                   "address", "reporter_name", "reporter_phone")


@transaction.atomic
def do_update_incident(actor: Principal, incident_id: int, **changes: Any) -> Incident:
    """Edit what is known about an open incident (not its status: see :func:`do_change_incident_status`)."""
    _require(actor, STAFF, pgettext_lazy("error", "edit incidents"))
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            pgettext_lazy("error", "cannot edit {names}"), field=sorted(unknown)[0], names=', '.join(sorted(unknown)))
    incident = _lock_incident(incident_id)
    if not incident.is_open or incident.status == IncidentStatus.RESOLVED:
        raise IllegalTransition(
            pgettext_lazy("error", "incident {ticket} is {status}; it can no longer be edited"), ticket=incident.ticket,
            status=incident.status)
    before = audit.snapshot(incident, INCIDENT_AUDIT_FIELDS)
    if "category" in changes:
        cat = Category.objects.filter(code=changes.pop("category"), active=True).first()
        if cat is None:
            raise ValidationFailed(pgettext_lazy("error", "category is unknown or inactive"), field="category")
        incident.category = cat
    if "priority" in changes and changes["priority"] not in Priority.values:
        raise ValidationFailed(pgettext_lazy("error", "priority is not one of 1 .. 4"), field="priority")
    if "lat" in changes or "lon" in changes:
        lat, lon = changes.get("lat", incident.lat), changes.get("lon", incident.lon)
        incident.kelurahan_id, incident.kecamatan_id = _location(lat, lon)
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(incident, name, value)
    incident.save()
    b, a = audit.changed(before, audit.snapshot(incident, INCIDENT_AUDIT_FIELDS))
    if a:
        _event(incident, actor, "updated", "Data kejadian diperbarui", timezone.now(), {"changed": sorted(a)})
        audit.record(actor, "incident.update", incident, before=b, after=a)
        publish_on_commit("incident.updated", incident_summary(incident))
    return incident


def _previous_times(incident: Incident) -> list[tuple[str, datetime | None]]:
    return [(pgettext_lazy("error", "the report"), incident.created_at)] + [
        (status, getattr(incident, field)) for status, field in lifecycle.INCIDENT_TIME_FIELD.items()
    ]


@transaction.atomic
def do_change_incident_status(
    actor: Principal,
    incident_id: int,
    status: str,
    *,
    at: datetime | None = None,
    note: str = "",
    duplicate_of: int | None = None,
) -> Incident:
    """Move an incident along its lifecycle; refuses steps the lifecycle does not allow."""
    if status not in IncidentStatus.values:
        raise ValidationFailed(pgettext_lazy("error", "status {status!r} is unknown; expected one of {names}"),
                               field="status", status=status, names=', '.join(IncidentStatus.values))
    _require(actor, MANAGERS if status in ("closed", "cancelled", "duplicate") else STAFF,
             LazyText(pgettext_lazy("error", "set an incident to {status}"), status=status))
    incident = _lock_incident(incident_id)
    if incident.status == status:
        return incident  # repeating a step is harmless
    dispatches = list(incident.dispatches.select_for_update())
    active = [d for d in dispatches if d.status in ACTIVE_DISPATCH]
    refusal = lifecycle.step_refusal(incident.status, status, [d.status for d in dispatches])
    if refusal == "order":
        raise IllegalTransition(pgettext_lazy("error", "incident {ticket} is {status}; it cannot become {status2}"),
                                field="status", ticket=incident.ticket, status=incident.status, status2=status)
    if refusal == "no_active_dispatch":
        raise IllegalTransition(
            pgettext_lazy("error", "incident {ticket} has no active dispatch; dispatch an agency first"),
                                field="status", ticket=incident.ticket)
    if refusal == "no_unit_on_scene":
        raise IllegalTransition(
            pgettext_lazy("error", "incident {ticket}: no unit has reached the scene yet; it cannot become {status} "
                                   "(cancel it if it needs no response)"), field="status", ticket=incident.ticket,
                                   status=status)
    if refusal == "active_dispatches":
        names = ", ".join(d.agency.short_name for d in active)
        raise IllegalTransition(
            pgettext_lazy("error", "incident {ticket} still has active dispatches ({names}); complete or withdraw "
                                   "them before closing"), field="status", ticket=incident.ticket, names=names)
    target: Incident | None = None
    if status == IncidentStatus.DUPLICATE:
        if duplicate_of is None:
            raise ValidationFailed(
                pgettext_lazy("error", "duplicate_of is required to mark a duplicate"), field="duplicate_of")
        target = Incident.objects.filter(pk=duplicate_of).first()
        if target is None or target.pk == incident.pk or target.status == IncidentStatus.DUPLICATE:
            raise ValidationFailed(
                pgettext_lazy("error", "duplicate_of must be another incident that is not itself a duplicate"),
                                   field="duplicate_of")
    now = timezone.now()
    moment = _step_time(at, now, _previous_times(incident), LazyText(
        pgettext_lazy("error", "status {status}"), status=status))
    before = audit.snapshot(incident, INCIDENT_AUDIT_FIELDS)
    incident.status = status
    field = lifecycle.INCIDENT_TIME_FIELD[status]
    if getattr(incident, field) is None:
        setattr(incident, field, moment)
    if target is not None:
        incident.duplicate_of = target
    incident.save()
    if status in (IncidentStatus.CANCELLED, IncidentStatus.DUPLICATE):
        for dispatch in active:
            _set_dispatch_status(dispatch, actor, DispatchStatus.CANCELLED, moment,
                                 f"kejadian {status}: {note}".strip())
    _event(incident, actor, "status", note or f"Status: {incident.get_status_display()}", moment,
           {"from": before["status"], "to": status})
    b, a = audit.changed(before, audit.snapshot(incident, INCIDENT_AUDIT_FIELDS))
    audit.record(actor, f"incident.{status}", incident, before=b, after=a, note=note)
    publish_on_commit("incident.updated", incident_summary(incident))
    return incident


@transaction.atomic
def do_add_note(actor: Principal, incident_id: int, text: str) -> IncidentEvent:
    """A free-text line on the incident's timeline."""
    if not actor.has(*STAFF, Role.AGENCY):
        raise Forbidden(pgettext_lazy("error", "your role may not add notes"))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(pgettext_lazy("error", "the note is empty"), field="text")
    if len(text) > 4000:
        raise ValidationFailed(pgettext_lazy("error", "the note is longer than 4000 characters"), field="text")
    incident = _lock_incident(incident_id)
    if actor.is_agency_only and not incident.dispatches.filter(agency_id=actor.agency_id).exists():
        raise Forbidden(pgettext_lazy("error", "this incident was not dispatched to your agency"))
    now = timezone.now()
    event = IncidentEvent.objects.create(incident=incident, at=now, kind="note", actor=actor.label[:100],
                                         message=text)
    audit.record(actor, "incident.note", incident, after={"note": text[:500]})
    publish_on_commit("incident.updated", incident_summary(incident))
    return event


# ------------------------------------------------------------------------------------------------------
# dispatches
# ------------------------------------------------------------------------------------------------------
@transaction.atomic
def do_dispatch(
    actor: Principal,
    incident_id: int,
    agency: str,
    *,
    unit_name: str = "",
    at: datetime | None = None,
    note: str = "",
) -> tuple[Dispatch, bool]:
    """Send an incident to an agency. Sending the same agency and unit again returns the active dispatch."""
    _require(actor, STAFF, pgettext_lazy("error", "dispatch agencies"))
    incident = _lock_incident(incident_id)
    if incident.status not in lifecycle.DISPATCHABLE:
        raise IllegalTransition(
            pgettext_lazy("error", "incident {ticket} is {status}; only an open incident can be dispatched"),
            field="incident", ticket=incident.ticket, status=incident.status)
    target = Agency.objects.filter(code=agency, active=True).first()
    if target is None:
        raise ValidationFailed(
            pgettext_lazy("error", "agency {agency!r} is unknown or inactive"), field="agency", agency=agency)
    unit = unit_name.strip()[:100]
    existing = incident.dispatches.filter(agency=target, unit_name=unit, status__in=ACTIVE_DISPATCH).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    moment = _step_time(at, now, [(pgettext_lazy("error", "the report"), incident.created_at)],
                        pgettext_lazy("error", "the dispatch"))
    dispatch = Dispatch.objects.create(incident=incident, agency=target, unit_name=unit, requested_at=moment,
                                       requested_by=actor.user, reason=note.strip()[:300])
    _event(incident, actor, "dispatch", f"Diteruskan ke {target.short_name}" + (f" ({unit})" if unit else ""),
           moment, {"dispatch_id": dispatch.pk, "agency": target.code})
    audit.record(actor, "dispatch.create", dispatch, after=audit.snapshot(dispatch, DISPATCH_AUDIT_FIELDS))
    if incident.status in (IncidentStatus.NEW, IncidentStatus.VERIFIED):
        _follow(incident, actor, IncidentStatus.DISPATCHED, moment)
    publish_on_commit("dispatch.created", dispatch_summary(dispatch))
    publish_on_commit("incident.updated", incident_summary(incident))
    return dispatch, True


def _follow(incident: Incident, actor: Principal, status: str, moment: datetime) -> None:
    """An incident step that follows from a dispatch (first dispatch, first unit on scene)."""
    field = lifecycle.INCIDENT_TIME_FIELD[status]
    before = audit.snapshot(incident, INCIDENT_AUDIT_FIELDS)
    incident.status = status
    setattr(incident, field, getattr(incident, field) or moment)
    incident.save(update_fields=["status", field, "updated_at"])
    b, a = audit.changed(before, audit.snapshot(incident, INCIDENT_AUDIT_FIELDS))
    audit.record(actor, f"incident.{status}", incident, before=b, after=a)


def _fall_back_without_dispatch(incident: Incident, actor: Principal, moment: datetime) -> bool:
    """A dispatched incident whose last active dispatch was declined or withdrawn has no agency on its way:
    it is "verified" again, so it shows as waiting for a dispatch instead of looking handled."""
    if incident.status != IncidentStatus.DISPATCHED or \
            Dispatch.objects.filter(incident=incident, status__in=lifecycle.ACTIVE).exists():
        return False
    _follow(incident, actor, IncidentStatus.VERIFIED, moment)
    _event(incident, actor, "status", f"Status: {incident.get_status_display()} (tidak ada instansi yang menuju "
                                      "lokasi lagi)", moment, {"to": IncidentStatus.VERIFIED,
                                                               "from": IncidentStatus.DISPATCHED})
    return True


def _set_dispatch_status(dispatch: Dispatch, actor: Principal, status: str, moment: datetime, reason: str) -> None:
    before = audit.snapshot(dispatch, DISPATCH_AUDIT_FIELDS)
    dispatch.status = status
    setattr(dispatch, lifecycle.DISPATCH_TIME_FIELD[status], moment)
    if reason:
        dispatch.reason = reason[:300]
    if actor.via == "sms":
        dispatch.sms_steps = [*dispatch.sms_steps, status]
    dispatch.save()
    label = DispatchStatus(status).label
    data = {"dispatch_id": dispatch.pk, "to": status, "from": before["status"]}
    if actor.via:
        data["via"] = actor.via
    _event(dispatch.incident, actor, "dispatch_status",
           f"{dispatch.agency.short_name}: {label}" + (" (SMS)" if actor.via == "sms" else "")
           + (f" — {reason}" if reason else ""), moment, data)
    b, a = audit.changed(before, audit.snapshot(dispatch, DISPATCH_AUDIT_FIELDS))
    audit.record(actor, f"dispatch.{status}", dispatch, before=b, after=a, note=reason)
    publish_on_commit("dispatch.updated", dispatch_summary(dispatch))


@transaction.atomic
def do_update_dispatch(
    actor: Principal,
    dispatch_id: int,
    status: str,
    *,
    at: datetime | None = None,
    reason: str = "",
) -> Dispatch:
    """An agency (or a supervisor on its behalf) reports progress on a dispatch."""
    if status not in DispatchStatus.values or status == DispatchStatus.REQUESTED:
        allowed = [s for s in DispatchStatus.values if s != DispatchStatus.REQUESTED]
        raise ValidationFailed(
            pgettext_lazy("error", "status {status!r} is not one of {names}"), field="status", status=status,
            names=', '.join(allowed))
    dispatch = Dispatch.objects.select_for_update().select_related("incident", "agency").filter(pk=dispatch_id).first()
    if dispatch is None:
        raise NotFound(pgettext_lazy("error", "dispatch {dispatch_id} does not exist"), dispatch_id=dispatch_id)
    own_agency = actor.has(Role.AGENCY) and actor.agency_id == dispatch.agency_id
    if not (own_agency or actor.has(*MANAGERS)):
        raise Forbidden(pgettext_lazy("error", "only the agency itself or a supervisor can update this dispatch"))
    if status == DispatchStatus.CANCELLED and not actor.has(*MANAGERS):
        raise Forbidden(pgettext_lazy("error", "only a supervisor can withdraw a dispatch"))
    if dispatch.status == status:
        return dispatch
    if not lifecycle.dispatch_step_allowed(dispatch.status, status):
        raise IllegalTransition(
            pgettext_lazy("error", "dispatch is {status}; it cannot become {status2}"), field="status",
            status=dispatch.status, status2=status)
    incident = Incident.objects.select_for_update().get(pk=dispatch.incident_id)
    dispatch.incident = incident
    if status != DispatchStatus.CANCELLED and incident.status not in (*lifecycle.DISPATCHABLE, IncidentStatus.RESOLVED):
        raise IllegalTransition(pgettext_lazy("error", "incident {ticket} is {status}; its dispatches are closed"),
                                field="status", ticket=incident.ticket, status=incident.status)
    reason = (reason or "").strip()
    if status == DispatchStatus.DECLINED and not reason:
        raise ValidationFailed(pgettext_lazy("error", "a reason is required to decline a dispatch"), field="reason")
    now = timezone.now()
    earlier = [(s, getattr(dispatch, f)) for s, f in lifecycle.DISPATCH_TIME_FIELD.items()]
    moment = _step_time(at, now, earlier, LazyText(pgettext_lazy("error", "dispatch {status}"), status=status))
    _set_dispatch_status(dispatch, actor, status, moment, reason)
    if status == DispatchStatus.ON_SCENE and incident.status == IncidentStatus.DISPATCHED:
        _follow(incident, actor, IncidentStatus.ON_SCENE, moment)
        publish_on_commit("incident.updated", incident_summary(incident))
    elif status in (DispatchStatus.DECLINED, DispatchStatus.CANCELLED) and \
            _fall_back_without_dispatch(incident, actor, moment):
        publish_on_commit("incident.updated", incident_summary(incident))
    return dispatch


@transaction.atomic
def do_withdraw_dispatch(actor: Principal, dispatch_id: int, reason: str) -> Dispatch:
    """The call centre takes back a dispatch it sent (wrong agency, no longer needed), with a reason.

    Any staff member may withdraw one of an open incident's active dispatches; the agency sees it as
    "Ditarik" with the reason. An agency cannot withdraw its own: it declines instead.
    """
    _require(actor, STAFF, pgettext_lazy("error", "withdraw dispatches"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(pgettext_lazy("error", "a reason is required to withdraw a dispatch"), field="reason")
    dispatch = Dispatch.objects.select_for_update().select_related("incident", "agency").filter(pk=dispatch_id).first()
    if dispatch is None:
        raise NotFound(pgettext_lazy("error", "dispatch {dispatch_id} does not exist"), dispatch_id=dispatch_id)
    if dispatch.status == DispatchStatus.CANCELLED:
        return dispatch  # withdrawing twice is harmless
    if dispatch.status not in ACTIVE_DISPATCH:
        raise IllegalTransition(
            pgettext_lazy("error", "dispatch is {status}; only an active dispatch can be withdrawn"),
                                field="status", status=dispatch.status)
    incident = _lock_incident(dispatch.incident_id)
    dispatch.incident = incident
    if not incident.is_open:
        raise IllegalTransition(pgettext_lazy("error", "incident {ticket} is {status}; its dispatches are closed"),
                                field="status", ticket=incident.ticket, status=incident.status)
    moment = timezone.now()
    _set_dispatch_status(dispatch, actor, DispatchStatus.CANCELLED, moment, reason)
    _fall_back_without_dispatch(incident, actor, moment)
    publish_on_commit("incident.updated", incident_summary(incident))
    return dispatch
