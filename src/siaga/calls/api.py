"""API: CTI events from the PBX, AML locations, the blocklist, calls and caller history."""

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from ninja import Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from siaga.calls import ingest, queries
from siaga.calls.actions import (
    IngestItem,
    do_ingest_cti_events,
    do_lift_caller_sanctions,
    do_store_location,
    do_tag_call,
)
from siaga.calls.models import OPERATOR_OUTCOMES, Call, CallState, LocationFix, Outcome
from siaga.core.api_support import ErrorOut, Limit, Offset, allow, clamp_limit, gate, required_text
from siaga.core.auth import AmlHmacAuth
from siaga.core.errors import LazyText, NotFound
from siaga.core.roles import STAFF, Principal, Role
from siaga.formats import aml, cti

router = Router(tags=["calls"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}

CTI_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["event_id", "type", "call_id", "occurred_at"],
            "properties": {
                "event_id": {"type": "string", "maxLength": 128, "description": "unique per PBX; retries reuse it"},
                "type": {"type": "string", "enum": list(cti.EVENT_TYPES)},
                "call_id": {"type": "string", "maxLength": 128, "description": "the PBX's id of the call"},
                "occurred_at": {"type": "string", "format": "date-time", "description": "with a time zone"},
                "caller": {"type": "string", "description": "calling number (offered)"},
                "line": {"type": "string", "description": "trunk / DID the call came in on"},
                "agent": {"type": "string", "description": "operator extension or username (answered)"},
                "target": {"type": "string", "description": "where the call went (transferred)"},
                "cause": {"type": "string", "description": "hang-up cause (ended)"},
            },
        }}},
    }
}


class CtiAck(Schema):
    status: str  # stored | duplicate
    event_id: str
    call_id: int


@router.post("/cti/events", auth=allow(Role.PBX), response={200: CtiAck, 201: CtiAck, **ERRORS},
             openapi_extra=CTI_BODY, summary="Report a call event from the PBX (idempotent by event_id)")
def cti_event(request: HttpRequest) -> Any:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    assert principal.integration is not None
    try:
        event, payload = ingest.parse_body(request.body)
    except ingest.CtiRequestError as exc:
        return HttpResponse(json.dumps(exc.body()), status=exc.status, content_type="application/json")
    result = do_ingest_cti_events([IngestItem(principal.integration, event, payload)])[0]
    status, document = ingest.answer(event, result)
    if status >= 400:
        return HttpResponse(json.dumps(document), status=status, content_type="application/json")
    return Status(status, document)


# ------------------------------------------------------------------------------------------------------
# AML
# ------------------------------------------------------------------------------------------------------
class AmlSmsIn(Schema):
    sender: str
    text: str
    received_at: datetime | None = None


class LocationOut(Schema):
    id: int
    call_id: int | None
    caller: str | None
    has_fix: bool
    lat: float | None
    lon: float | None
    radius_m: float | None
    method: str
    fix_time: datetime | None
    kelurahan_id: int | None
    transport: str


@router.post("/aml/sms", auth=allow(Role.AML), response={200: LocationOut, 201: LocationOut, **ERRORS},
             summary="An AML SMS as received by the SMS gateway (idempotent: the same SMS again is 200)")
def aml_sms(request: HttpRequest, payload: AmlSmsIn) -> Any:
    fix = aml.parse_sms(payload.text)
    stored = do_store_location(fix, payload.text, request.auth, payload.sender)  # type: ignore[attr-defined]
    return Status(200 if stored.duplicate else 201, stored.fix)


@router.post("/aml/https", auth=[gate(AmlHmacAuth, Role.AML), *allow(Role.AML)],
             response={200: LocationOut, 201: LocationOut, **ERRORS},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": {"type": "string"}}}}},
             summary="An AML / ELS HTTPS report (form-encoded, authenticated by its hmac field or a token; "
                     "idempotent: the same report again is 200)")
def aml_https(request: HttpRequest) -> Any:
    fix = aml.parse_https(request.body)
    stored = do_store_location(fix, request.body.decode("utf-8", "replace"), request.auth,  # type: ignore[attr-defined]
                               fix.device_number, number_field="device_number")
    return Status(200 if stored.duplicate else 201, stored.fix)


# ------------------------------------------------------------------------------------------------------
# blocklist and caller history
# ------------------------------------------------------------------------------------------------------
class BlockOut(Schema):
    caller: str
    since: datetime
    until: datetime | None
    permanent: bool
    strike: int
    reason: str
    sanction_id: int


class BlocklistOut(Schema):
    generated_at: datetime
    count: int
    blocks: list[BlockOut]


@router.get("/blocklist", auth=allow(Role.PBX, *STAFF), response=BlocklistOut,
            summary="Numbers blocked now (for the PBX); ?format=text gives one number per line",
            openapi_extra={"responses": {200: {"description": "OK", "content": {
                "text/plain": {"schema": {"type": "string", "description": "one blocked number per line"}}}}}})
def blocklist(request: HttpRequest, format: Literal["json", "text"] = "json") -> Any:
    blocks = queries.blocklist()
    if format == "text":
        return HttpResponse("".join(f"{b['caller']}\n" for b in blocks), content_type="text/plain; charset=utf-8")
    if format != "json":
        raise HttpError(422, LazyText(pgettext_lazy("error", "format must be json or text")))
    return {"generated_at": timezone.now(), "count": len(blocks), "blocks": blocks}


# a caller's number in a path: printable (control characters are a 400 before anything reads it)
CallerNumber = Annotated[str, Path(pattern=r"^[^\x00-\x1f\x7f]{1,64}$")]


class CallOut(Schema):
    id: int
    call_ref: str
    caller: str | None
    caller_raw: str
    caller_withheld: bool
    line: str
    state: str
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    answer_seconds: float | None
    agent: str
    operator_id: int | None
    transferred_to: str
    end_cause: str
    outcome: str
    outcome_auto: bool
    tagged_at: datetime | None
    notes: str
    incident_id: int | None
    caller_blocked: bool
    anomalies: list[str]


class CtiEventOut(Schema):
    event_id: str
    type: str
    occurred_at: datetime
    received_at: datetime


class CallDetailOut(CallOut):
    events: list[CtiEventOut]
    locations: list[LocationOut]


class CallFilter(Schema):
    state: CallState | None = None
    outcome: Outcome | None = None
    caller: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: Limit = 50
    offset: Offset = 0


@router.get("/calls", auth=allow(*STAFF), response=list[CallOut], summary="Calls, newest first")
def calls(request: HttpRequest, filters: Query[CallFilter]) -> Any:
    rows = Call.objects.order_by("-offered_at", "-id")
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.outcome is not None:
        rows = rows.filter(outcome=filters.outcome)
    if filters.caller:
        from siaga.formats import phone

        rows = rows.filter(caller=phone.normalise_or_raw(filters.caller))
    if filters.since:
        rows = rows.filter(offered_at__gte=filters.since)
    if filters.until:
        rows = rows.filter(offered_at__lt=filters.until)
    offset = max(0, filters.offset)
    return rows[offset: offset + clamp_limit(filters.limit)]


def _call(call_id: int) -> Call:
    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        raise NotFound(pgettext_lazy("error", "call {call_id} does not exist"), call_id=call_id)
    return call


@router.get("/calls/{call_id}", auth=allow(*STAFF), response={200: CallDetailOut, 404: ErrorOut},
            summary="One call with its CTI events and AML locations")
def call_detail(request: HttpRequest, call_id: int) -> Any:
    call = _call(call_id)
    call.events = list(call.cti_events.order_by("occurred_at", "id"))  # type: ignore[attr-defined]
    call.locations = list(LocationFix.objects.filter(call=call).order_by("received_at"))  # type: ignore[attr-defined]
    return call


class TagIn(Schema):
    outcome: Literal[tuple(o.value for o in OPERATOR_OUTCOMES)]  # type: ignore[valid-type]
    notes: str | None = None


@router.post("/calls/{call_id}/tag", auth=allow(*STAFF), response={200: CallOut, **ERRORS, 404: ErrorOut},
             summary="Tag a call: normal, ghost, prank, information, abandoned or test")
def tag_call(request: HttpRequest, call_id: int, payload: TagIn) -> Any:
    return do_tag_call(call_id, payload.outcome, request.auth, payload.notes)  # type: ignore[attr-defined]


class SanctionOut(Schema):
    id: int
    stage: str
    strike: int
    duration: str
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    call_id: int | None
    lifted_at: datetime | None
    lift_reason: str


class CallerHistoryOut(Schema):
    caller: str | None
    total_calls: int
    by_outcome: dict[str, int]
    blocked: bool
    strikes: int
    next_stage: str | None
    recent: list[CallOut]
    sanctions: list[SanctionOut]


@router.get("/callers/{number}", auth=allow(*STAFF), response=CallerHistoryOut,
            summary="A number's call history, strikes and sanctions")
def caller_history(request: HttpRequest, number: CallerNumber) -> Any:
    return queries.caller_history(number)


class LiftIn(Schema):
    reason: required_text(300, "why the block is lifted (required)")


class LiftOut(Schema):
    caller: str
    lifted: list[SanctionOut]


@router.post("/callers/{number}/lift", auth=allow(Role.SUPERVISOR, Role.ADMIN), response={200: LiftOut, **ERRORS},
             summary="Lift a number's warnings and blocks (supervisor)")
def lift(request: HttpRequest, number: CallerNumber, payload: LiftIn) -> Any:
    lifted = do_lift_caller_sanctions(number, request.auth, payload.reason)  # type: ignore[attr-defined]
    return {"caller": lifted[0].caller, "lifted": lifted}
