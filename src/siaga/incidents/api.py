"""API: incidents, their timeline, dispatches and dispatch progress.

Agency liaisons see only incidents dispatched to their agency and only their agency's dispatches;
anything else answers 403 (a dispatch) or is filtered out (lists).
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import pgettext_lazy
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import AwareDatetime, ConfigDict, Field, StrictInt

from siaga.core.api_support import ErrorOut, Limit, ObjectId, Offset, QueryId, allow, clamp_limit, required_text
from siaga.core.errors import Forbidden, LazyText, NotFound
from siaga.core.roles import STAFF, Principal, Role
from siaga.incidents import actions, lifecycle
from siaga.incidents.models import (
    ACTIVE_DISPATCH,
    OPEN_STATUSES,
    Category,
    Dispatch,
    DispatchStatus,
    Incident,
    IncidentStatus,
)

router = Router(tags=["incidents"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READERS = (*STAFF, Role.WALL, Role.AGENCY)


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    default_priority: int
    default_agencies: list[str]
    active: bool


@router.get("/categories", auth=allow(*READERS), response=list[CategoryOut],
            summary="Incident categories with their default priority and agencies")
def categories(request: HttpRequest) -> Any:
    rows = Category.objects.prefetch_related("default_agencies").order_by("sort_order", "name")
    return [{"id": c.pk, "code": c.code, "name": c.name, "name_en": c.name_en,
             "default_priority": c.default_priority, "active": c.active,
             "default_agencies": [a.code for a in c.default_agencies.all()]} for c in rows]


class DispatchOut(Schema):
    id: int
    incident_id: int
    agency: str
    unit_name: str
    status: str
    requested_at: datetime
    acknowledged_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    completed_at: datetime | None
    declined_at: datetime | None
    cancelled_at: datetime | None
    reason: str
    sms_steps: list[str] = Field([], description="the steps the crew reported by SMS")

    @staticmethod
    def resolve_agency(obj: Dispatch) -> str:
        return obj.agency.code


class TimelineOut(Schema):
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]


class IncidentOut(Schema):
    id: int
    ticket: str
    category: str
    priority: int
    status: str
    description: str
    lat: float | None
    lon: float | None
    location_accuracy_m: float | None
    address: str
    kelurahan_id: int | None
    kecamatan_id: int | None
    reporter_name: str
    reporter_phone: str
    created_at: datetime
    verified_at: datetime | None
    dispatched_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    duplicate_of_id: int | None

    agencies: list[str] = []
    sms_agencies: list[str] = Field([], description="agencies (of `agencies`) whose last step came by SMS")

    @staticmethod
    def resolve_category(obj: Incident) -> str:
        return obj.category.code

    @staticmethod
    def resolve_agencies(obj: Incident) -> list[str]:
        """Agencies with an active dispatch (an agency user sees only its own)."""
        only = getattr(obj, "only_agency_id", None)
        return sorted({d.agency.code for d in obj.dispatches.all()
                       if d.status in ACTIVE_DISPATCH and (only is None or d.agency_id == only)})

    @staticmethod
    def resolve_sms_agencies(obj: Incident) -> list[str]:
        only = getattr(obj, "only_agency_id", None)
        return sorted({d.agency.code for d in obj.dispatches.all()
                       if d.status in ACTIVE_DISPATCH and (only is None or d.agency_id == only)
                       and d.sms_steps and d.sms_steps[-1] == d.status})


class IncidentDetailOut(IncidentOut):
    """An incident with what :func:`_detail` attached: visible dispatches, timeline, linked calls."""

    dispatches: list[DispatchOut]
    timeline: list[TimelineOut]
    call_ids: list[int]
    category_name: str
    kelurahan: str
    kecamatan: str
    callers: list[str]
    next_steps: list[str]

    @staticmethod
    def resolve_category_name(obj: Incident) -> str:
        return obj.category.name

    @staticmethod
    def resolve_kelurahan(obj: Incident) -> str:
        return obj.kelurahan.name if obj.kelurahan_id else ""

    @staticmethod
    def resolve_kecamatan(obj: Incident) -> str:
        return obj.kecamatan.name if obj.kecamatan_id else ""

    @staticmethod
    def resolve_callers(obj: Incident) -> list[str]:
        """The numbers that called about it (the callback number for a crew), first call first."""
        numbers = obj.calls.order_by("offered_at", "id").values_list("caller", flat=True)
        return list(dict.fromkeys(n for n in numbers if n))

    @staticmethod
    def resolve_next_steps(obj: Incident) -> list[str]:
        """The statuses it may move to now (every dispatch counts, even those an agency user cannot see)."""
        return lifecycle.incident_next_steps(obj.status, list(obj.dispatches.values_list("status", flat=True)))

    @staticmethod
    def resolve_dispatches(obj: Incident) -> list[Dispatch]:
        return obj.dispatches_list  # type: ignore[attr-defined, no-any-return]

    @staticmethod
    def resolve_timeline(obj: Incident) -> list[Any]:
        return list(obj.timeline.all())

    @staticmethod
    def resolve_call_ids(obj: Incident) -> list[int]:
        return list(obj.calls.values_list("id", flat=True))


def _principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined, no-any-return]


def _visible_incidents(principal: Principal) -> QuerySet[Incident]:
    rows = Incident.objects.select_related("category")
    if principal.is_agency_only:
        rows = rows.filter(dispatches__agency_id=principal.agency_id).distinct()
    return rows


class IncidentFilter(Schema):
    status: IncidentStatus | None = None
    open: bool | None = None
    category: str | None = None
    kecamatan_id: QueryId | None = None
    since: datetime | None = None
    q: str | None = Field(None, max_length=100, description="words in the ticket, description, address or a "
                                                             "caller's number")
    limit: Limit = 50
    offset: Offset = 0


@router.get("/incidents", auth=allow(*READERS), response=list[IncidentOut], summary="Incidents, newest first")
def incidents(request: HttpRequest, filters: Query[IncidentFilter]) -> Any:
    rows = _visible_incidents(_principal(request)).order_by("-created_at", "-id")
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.open is True:
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif filters.open is False:
        rows = rows.exclude(status__in=OPEN_STATUSES)
    if filters.category:
        rows = rows.filter(category__code=filters.category)
    if filters.kecamatan_id:
        rows = rows.filter(kecamatan_id=filters.kecamatan_id)
    if filters.since:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.q and filters.q.strip():
        rows = rows.filter(_matching(filters.q)).distinct()
    offset = max(0, filters.offset)
    page = list(rows.prefetch_related("dispatches__agency")[offset: offset + clamp_limit(filters.limit)])
    principal = _principal(request)
    if principal.is_agency_only:
        for incident in page:
            incident.only_agency_id = principal.agency_id  # type: ignore[attr-defined]
    return page


def _matching(text: str) -> Q:
    """Every word of ``text`` in the ticket, description, address, reporter or a linked caller's number."""
    where = Q()
    for word in text.split()[:8]:
        digits = word.lstrip("+")
        number = Q(calls__caller__contains=digits[1:] if digits.startswith("0") else digits) if digits.isdigit() \
            else Q(pk__in=[])
        where &= (Q(ticket__icontains=word) | Q(description__icontains=word) | Q(address__icontains=word)
                  | Q(reporter_name__icontains=word) | Q(reporter_phone__contains=word) | number)
    return where


def _detail(incident_id: int, principal: Principal) -> Incident:
    incident = Incident.objects.select_related("category", "kelurahan", "kecamatan").filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(pgettext_lazy("error", "incident {incident_id} does not exist"), incident_id=incident_id)
    dispatches = list(incident.dispatches.select_related("agency"))
    if principal.is_agency_only and not any(d.agency_id == principal.agency_id for d in dispatches):
        raise Forbidden(pgettext_lazy("error", "this incident was not dispatched to your agency"))
    if principal.is_agency_only:
        dispatches = [d for d in dispatches if d.agency_id == principal.agency_id]
        incident.only_agency_id = principal.agency_id  # type: ignore[attr-defined]
    incident.dispatches_list = dispatches  # type: ignore[attr-defined]
    return incident


@router.get("/incidents/{incident_id}", auth=allow(*READERS), response={200: IncidentDetailOut, **ERRORS},
            summary="One incident with its dispatches and timeline")
def incident_detail(request: HttpRequest, incident_id: int) -> Any:
    return _detail(incident_id, _principal(request))


@router.get("/incidents/{incident_id}/eido", auth=allow(*READERS), response={200: dict[str, Any], **ERRORS},
            summary="The incident as a NENA EIDO-style JSON document (for other command-centre systems)")
def incident_eido(request: HttpRequest, incident_id: int) -> Any:
    from siaga.incidents.eido import document

    incident = _detail(incident_id, _principal(request))
    return document(incident, incident.dispatches_list)  # type: ignore[attr-defined]


class EidoAck(Schema):
    incident_id: int
    ticket: str
    tracking_id: str
    created: bool
    changes: list[str]


EIDO_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "An EIDO document (NENA-STA-021): its $id is the incident tracking identifier",
    "required": ["$id", "eidoVersion", "issuingElementIdentification", "lastUpdateTimeStamp",
                 "updatedByAgencyReference", "agencyComponent", "incidentComponent"]}}}}}


@router.post("/eido", auth=allow(Role.PARTNER), response={200: EidoAck, 201: EidoAck, **ERRORS},
             openapi_extra=EIDO_BODY,
             summary="A partner command centre hands an incident over or updates it (EIDO; idempotent by its $id)")
def receive_eido(request: HttpRequest) -> Any:
    import json

    from siaga.core.errors import ValidationFailed
    from siaga.formats.storable import first_unstorable
    from siaga.incidents import eido_in

    try:
        document = json.loads(request.body)
    except RecursionError:
        raise ValidationFailed(pgettext_lazy("error", "the body is nested too deeply"), field="body") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(pgettext_lazy("error", "the body is not JSON: {problem}"), field="body",
                               problem=str(exc)) from None
    problem = first_unstorable(document, max_depth=64)
    if problem is not None:
        raise ValidationFailed(problem[1], field=problem[0] or "body")
    outcome = eido_in.receive(_principal(request), document)
    incident = outcome.incident
    return Status(201 if outcome.created else 200, {
        "incident_id": incident.pk, "ticket": incident.ticket, "created": outcome.created, "changes": outcome.changes,
        "tracking_id": incident.eido_tracking_id or f"urn:emergency:uid:incidentid:{incident.ticket}:"
                                                     f"{settings.EIDO_ISSUER}"})


class IncidentIn(Schema):
    category: str
    priority: StrictInt | None = Field(None, ge=1, le=4)
    description: str = Field("", max_length=4000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    location_accuracy_m: float | None = Field(None, ge=0)
    location_source: str = Field("", max_length=12)
    address: str = Field("", max_length=300)
    reporter_name: str = Field("", max_length=100)
    reporter_phone: str = Field("", max_length=32)
    call_id: ObjectId | None = None
    client_ref: str | None = Field(None, max_length=64)
    at: AwareDatetime | None = None


@router.post("/incidents", auth=allow(*STAFF), response={200: IncidentDetailOut, 201: IncidentDetailOut, **ERRORS},
             summary="Open an incident (idempotent with client_ref)")
def create_incident(request: HttpRequest, payload: IncidentIn) -> Any:
    principal = _principal(request)
    incident, created = actions.do_create_incident(principal, **payload.dict())
    return Status(201 if created else 200, _detail(incident.pk, principal))


class IncidentPatch(Schema):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})  # an empty edit is refused

    category: str | None = None
    priority: int | None = None
    description: str | None = Field(None, max_length=4000)
    lat: float | None = None
    lon: float | None = None
    location_accuracy_m: float | None = Field(None, ge=0)
    location_source: str | None = Field(None, max_length=12)
    address: str | None = Field(None, max_length=300)
    reporter_name: str | None = Field(None, max_length=100)
    reporter_phone: str | None = Field(None, max_length=32)


@router.patch("/incidents/{incident_id}", auth=allow(*STAFF), response={200: IncidentDetailOut, **ERRORS},
              summary="Edit an open incident")
def update_incident(request: HttpRequest, incident_id: int, payload: IncidentPatch) -> Any:
    principal = _principal(request)
    changes = payload.dict(exclude_unset=True)
    if not changes:
        raise HttpError(422, LazyText(pgettext_lazy("error", "nothing to change")))
    actions.do_update_incident(principal, incident_id, **changes)
    return _detail(incident_id, principal)


class StatusIn(Schema):
    status: IncidentStatus
    at: AwareDatetime | None = None
    note: str = Field("", max_length=500)
    duplicate_of: ObjectId | None = None


@router.post("/incidents/{incident_id}/status", auth=allow(*STAFF), response={200: IncidentDetailOut, **ERRORS},
             summary="Move an incident along its lifecycle")
def incident_status(request: HttpRequest, incident_id: int, payload: StatusIn) -> Any:
    principal = _principal(request)
    actions.do_change_incident_status(principal, incident_id, payload.status, at=payload.at, note=payload.note,
                                      duplicate_of=payload.duplicate_of)
    return _detail(incident_id, principal)


class NoteIn(Schema):
    text: required_text(4000)


@router.post("/incidents/{incident_id}/notes", auth=allow(*STAFF, Role.AGENCY),
             response={201: TimelineOut, **ERRORS}, summary="Add a note to the timeline")
def add_note(request: HttpRequest, incident_id: int, payload: NoteIn) -> Any:
    return Status(201, actions.do_add_note(_principal(request), incident_id, payload.text))


class DispatchIn(Schema):
    agency: str
    unit_name: str = Field("", max_length=100)
    note: str = Field("", max_length=300)
    at: AwareDatetime | None = None


@router.post("/incidents/{incident_id}/dispatches", auth=allow(*STAFF),
             response={200: DispatchOut, 201: DispatchOut, **ERRORS},
             summary="Dispatch an agency (idempotent per agency and unit)")
def dispatch(request: HttpRequest, incident_id: int, payload: DispatchIn) -> Any:
    created_dispatch, created = actions.do_dispatch(_principal(request), incident_id, payload.agency,
                                                    unit_name=payload.unit_name, at=payload.at, note=payload.note)
    return Status(201 if created else 200, Dispatch.objects.select_related("agency").get(pk=created_dispatch.pk))


class DispatchFilter(Schema):
    status: DispatchStatus | None = None
    active: bool | None = None
    agency: str | None = None
    since: datetime | None = Field(None, description="requested at or after this time")
    limit: Limit = 100
    offset: Offset = 0


@router.get("/dispatches", auth=allow(*READERS), response=list[DispatchOut],
            summary="Dispatches, newest first (agency users: their own)")
def dispatches(request: HttpRequest, filters: Query[DispatchFilter]) -> Any:
    principal = _principal(request)
    rows = Dispatch.objects.select_related("agency").order_by("-requested_at", "-id")
    if principal.is_agency_only:
        if filters.agency and filters.agency != _agency_code(principal):
            raise Forbidden(pgettext_lazy("error", "agency users can only list their own agency's dispatches"))
        rows = rows.filter(agency_id=principal.agency_id)
    elif filters.agency:
        rows = rows.filter(agency__code=filters.agency)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.active is True:
        rows = rows.filter(status__in=ACTIVE_DISPATCH)
    elif filters.active is False:
        rows = rows.exclude(status__in=ACTIVE_DISPATCH)
    if filters.since:
        rows = rows.filter(requested_at__gte=filters.since)
    offset = max(0, filters.offset)
    return rows[offset: offset + clamp_limit(filters.limit)]


def _agency_code(principal: Principal) -> str | None:
    from siaga.core.models import Agency

    return Agency.objects.filter(pk=principal.agency_id).values_list("code", flat=True).first()


def _dispatch_for(principal: Principal, dispatch_id: int) -> Dispatch:
    row = Dispatch.objects.select_related("agency").filter(pk=dispatch_id).first()
    if row is None:
        raise NotFound(pgettext_lazy("error", "dispatch {dispatch_id} does not exist"), dispatch_id=dispatch_id)
    if principal.is_agency_only and row.agency_id != principal.agency_id:
        raise Forbidden(pgettext_lazy("error", "this dispatch belongs to another agency"))
    return row


@router.get("/dispatches/{dispatch_id}", auth=allow(*READERS), response={200: DispatchOut, **ERRORS},
            summary="One dispatch")
def dispatch_detail(request: HttpRequest, dispatch_id: int) -> Any:
    return _dispatch_for(_principal(request), dispatch_id)


class DispatchStatusIn(Schema):
    status: str
    at: AwareDatetime | None = None
    reason: str = Field("", max_length=300)


@router.post("/dispatches/{dispatch_id}/status", auth=allow(Role.AGENCY, Role.SUPERVISOR, Role.ADMIN),
             response={200: DispatchOut, **ERRORS},
             summary="Report dispatch progress: acknowledged, en_route, on_scene, completed, declined, cancelled")
def dispatch_status(request: HttpRequest, dispatch_id: int, payload: DispatchStatusIn) -> Any:
    principal = _principal(request)
    _dispatch_for(principal, dispatch_id)
    actions.do_update_dispatch(principal, dispatch_id, payload.status, at=payload.at, reason=payload.reason)
    return Dispatch.objects.select_related("agency").get(pk=dispatch_id)


class WithdrawIn(Schema):
    reason: required_text(300)


@router.post("/dispatches/{dispatch_id}/withdraw", auth=allow(*STAFF), response={200: DispatchOut, **ERRORS},
             summary="Withdraw an active dispatch (the call centre takes it back, with a reason)")
def withdraw_dispatch(request: HttpRequest, dispatch_id: int, payload: WithdrawIn) -> Any:
    withdrawn = actions.do_withdraw_dispatch(_principal(request), dispatch_id, payload.reason)
    return Dispatch.objects.select_related("agency").get(pk=withdrawn.pk)
