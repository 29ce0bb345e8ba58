"""API: warnings (threads of CAP messages), supervisor Update / Cancel, manual drafts with approval,
deliveries and their resend, external CAP; hazard events and feed health."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from siaga.alerts import actions
from siaga.alerts.models import Alert, Delivery, DeliveryStatus, Draft, DraftStatus, ExternalAlert, Thread
from siaga.alerts.public import public_summary
from siaga.core.api_support import ErrorOut, Limit, ObjectId, QueryId, allow, clamp_limit, required_text
from siaga.core.errors import NotFound
from siaga.core.roles import HUMAN_ROLES, MANAGERS, STAFF, Principal, Role
from siaga.formats import cap
from siaga.hazards.actions import do_review_event, event_summary
from siaga.hazards.models import Feed, HazardEvent

router = Router(tags=["warnings"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
WATCHERS = (*STAFF, Role.WALL)


def _principal(request: HttpRequest) -> Principal:
    return request.auth  # type: ignore[attr-defined, no-any-return]


class ThreadOut(Schema):
    id: int
    key: str
    origin: str
    active: bool
    display: str
    ews_level: str
    exercise: bool
    held: bool
    expires_at: datetime | None
    current: dict[str, Any] | None
    messages: int


def _thread_out(thread: Thread) -> dict[str, Any]:
    return {"id": thread.pk, "key": thread.key, "origin": thread.origin, "active": thread.active,
            "display": thread.display, "ews_level": thread.ews_level, "exercise": thread.exercise,
            "held": thread.held, "expires_at": thread.expires_at,
            "current": public_summary(thread.current) if thread.current else None,
            "messages": thread.alerts.count()}


@router.get("/alerts/threads", auth=allow(*HUMAN_ROLES), response=list[ThreadOut],
            summary="Warnings, newest first (active=true for those in force)")
def threads(request: HttpRequest, active: bool | None = None, limit: Limit = 50) -> Any:
    found = Thread.objects.select_related("current").order_by("-updated_at")
    if active is not None:
        found = found.filter(active=active)
    return [_thread_out(t) for t in found[: clamp_limit(limit)]]


class AlertOut(Schema):
    summary: dict[str, Any]
    references: int | None
    created_by: str | None
    approved_by: str | None
    deliveries: list[dict[str, Any]] | None


def _delivery_out(d: Delivery) -> dict[str, Any]:
    out = {"id": d.pk, "alert": d.alert_id, "channel": d.channel, "target": d.target, "status": d.status,
           "attempts": d.attempts, "last_error": d.last_error, "created_at": d.created_at,
           "first_attempt_at": d.first_attempt_at, "sent_at": d.sent_at, "next_attempt_at": d.next_attempt_at,
           "result": d.result, "tries": [{"number": a.number, "at": a.at, "ok": a.ok, "error": a.error,
                                         "duration_ms": a.duration_ms} for a in d.attempt_rows.all()]}
    if d.channel == "sms":  # each try's message, as the gateway's delivery reports left it (siaga.sms)
        out["messages"] = [{"attempt": m.attempt, "status": m.status, "answer": m.answer,
                            "reported_at": m.reported_at} for m in d.sms_messages.all()]
    return out


DELIVERY_DETAILS = ("attempt_rows", "sms_messages")


@router.get("/alerts/{int:alert_id}", auth=allow(*HUMAN_ROLES), response={200: AlertOut, **ERRORS},
            summary="One CAP message; its deliveries for the call centre")
def alert_detail(request: HttpRequest, alert_id: int) -> Any:
    alert = Alert.objects.select_related("created_by", "approved_by").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(pgettext_lazy("error", "alert {alert_id} does not exist"), alert_id=alert_id)
    deliveries = None
    if _principal(request).has(*STAFF):
        deliveries = [_delivery_out(d) for d in alert.deliveries.prefetch_related(*DELIVERY_DETAILS).order_by(
            "channel", "target")]
    return {"summary": public_summary(alert), "references": alert.references_id,
            "created_by": alert.created_by.get_username() if alert.created_by else None,
            "approved_by": alert.approved_by.get_username() if alert.approved_by else None,
            "deliveries": deliveries}


@router.get("/alerts/{int:alert_id}/cap", auth=allow(*HUMAN_ROLES), response={200: None, **ERRORS},
            summary="The CAP 1.2 XML exactly as issued")
def alert_cap(request: HttpRequest, alert_id: int) -> Any:
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(pgettext_lazy("error", "alert {alert_id} does not exist"), alert_id=alert_id)
    return HttpResponse(alert.xml.encode(), content_type="application/cap+xml; charset=utf-8")


class UpdateIn(Schema):
    display: str | None = None
    headline: str | None = None
    instruction: str | None = None
    headline_en: str | None = None
    instruction_en: str | None = None
    note: str = ""


@router.post("/alerts/threads/{int:thread_id}/update", auth=allow(*MANAGERS), response={201: AlertOut, **ERRORS},
             summary="Update a warning at once (supervisor; no approval)")
def update_thread(request: HttpRequest, thread_id: int, payload: UpdateIn) -> Any:
    alert = actions.do_update_thread(_principal(request), thread_id, **payload.dict())
    return Status(201, alert_detail(request, alert.pk))


class CancelIn(Schema):
    reason: required_text(500, "why the warning is cancelled (required)")


@router.post("/alerts/threads/{int:thread_id}/cancel", auth=allow(*MANAGERS), response={201: AlertOut, **ERRORS},
             summary="Cancel a warning at once (supervisor; a reason is required)")
def cancel_thread(request: HttpRequest, thread_id: int, payload: CancelIn) -> Any:
    alert = actions.do_cancel_thread(_principal(request), thread_id, payload.reason)
    return Status(201, alert_detail(request, alert.pk))


class DraftIn(Schema):
    hazard: Literal[tuple(key for key, _ in Draft.HAZARDS)]  # type: ignore[valid-type]
    thread_id: int | None = None
    msg_type: str = "Alert"
    display: Literal["ticker", "fullscreen"] = "ticker"
    severity: Literal[cap.SEVERITIES] = "Severe"  # type: ignore[valid-type]
    urgency: Literal[cap.URGENCIES] = "Immediate"  # type: ignore[valid-type]
    certainty: Literal[cap.CERTAINTIES] = "Likely"  # type: ignore[valid-type]
    response: Literal[cap.RESPONSE_TYPES] = "Prepare"  # type: ignore[valid-type]
    headline: required_text(200, "in Bahasa Indonesia")
    description: required_text(4000, "in Bahasa Indonesia")
    instruction: required_text(4000, "in Bahasa Indonesia")
    headline_en: str = ""
    description_en: str = ""
    instruction_en: str = ""
    area_codes: list[str] = []
    expires_hours: int = 6
    exercise: bool = False


class DraftOut(Schema):
    id: int
    hazard: str
    thread_id: int | None
    msg_type: str
    display: str
    headline: str
    status: str
    author: str
    approver: str | None
    exercise: bool
    alert_id: int | None
    decision_note: str
    created_at: datetime


def _draft_out(d: Draft) -> dict[str, Any]:
    return {"id": d.pk, "hazard": d.hazard, "thread_id": d.thread_id, "msg_type": d.msg_type,
            "display": d.display, "headline": d.headline, "status": d.status, "author": d.author.get_username(),
            "approver": d.approver.get_username() if d.approver else None, "exercise": d.exercise,
            "alert_id": d.alert_id, "decision_note": d.decision_note, "created_at": d.created_at}


@router.get("/alerts/drafts", auth=allow(*STAFF), response=list[DraftOut], summary="Manual warnings in the works")
def drafts(request: HttpRequest, status: DraftStatus | None = None, limit: Limit = 50) -> Any:
    found = Draft.objects.select_related("author", "approver").order_by("-created_at")
    if status:
        found = found.filter(status=status)
    return [_draft_out(d) for d in found[: clamp_limit(limit)]]


@router.post("/alerts/drafts", auth=allow(*STAFF), response={201: DraftOut, **ERRORS},
             summary="Write a manual warning (flood, chemical release, fire...); another person approves it")
def create_draft(request: HttpRequest, payload: DraftIn) -> Any:
    draft = actions.do_draft_create(_principal(request), payload.dict())
    return Status(201, _draft_out(draft))


@router.post("/alerts/drafts/{int:draft_id}/submit", auth=allow(*STAFF), response={200: DraftOut, **ERRORS},
             summary="Ask for approval")
def submit_draft(request: HttpRequest, draft_id: int) -> Any:
    return _draft_out(actions.do_draft_submit(_principal(request), draft_id))


@router.post("/alerts/drafts/{int:draft_id}/approve", auth=allow(*MANAGERS), response={201: AlertOut, **ERRORS},
             summary="Approve and send at once (supervisor or admin; not the author)")
def approve_draft(request: HttpRequest, draft_id: int) -> Any:
    alert = actions.do_draft_approve(_principal(request), draft_id)
    return Status(201, alert_detail(request, alert.pk))


class RejectIn(Schema):
    reason: required_text(500, "why the draft is rejected (required)")


@router.post("/alerts/drafts/{int:draft_id}/reject", auth=allow(*MANAGERS), response={200: DraftOut, **ERRORS},
             summary="Send a draft back with a reason")
def reject_draft(request: HttpRequest, draft_id: int, payload: RejectIn) -> Any:
    return _draft_out(actions.do_draft_reject(_principal(request), draft_id, payload.reason))


class DeliveryFilter(Schema):
    alert: QueryId | None = None
    status: DeliveryStatus | None = None
    channel: str | None = None
    limit: Limit = 100


@router.get("/alerts/deliveries", auth=allow(*STAFF), response=list[dict[str, Any]],
            summary="Every delivery attempt row: channel, target, status, attempts, last error, times")
def deliveries(request: HttpRequest, filters: Query[DeliveryFilter]) -> Any:
    found = Delivery.objects.prefetch_related(*DELIVERY_DETAILS).order_by("-created_at", "channel", "target")
    if filters.alert:
        found = found.filter(alert_id=filters.alert)
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.channel:
        found = found.filter(channel=filters.channel)
    return [_delivery_out(d) for d in found[: clamp_limit(filters.limit)]]


class ResendIn(Schema):
    ids: list[ObjectId] = Field(default_factory=list, max_length=1000)


@router.post("/alerts/deliveries/resend", auth=allow(Role.ADMIN), response={200: dict[str, int], **ERRORS},
             summary="Send deliveries again (admin)")
def resend(request: HttpRequest, payload: ResendIn) -> Any:
    return {"queued": actions.do_resend(_principal(request), payload.ids)}


@router.get("/alerts/external", auth=allow(*WATCHERS), response=list[dict[str, Any]],
            summary="CAP alerts from other senders (e.g. BMKG nowcasts), newest first")
def external(request: HttpRequest, limit: Limit = 50) -> Any:
    return [{"id": a.pk, "sender": a.sender, "identifier": a.identifier, "sent": a.sent, "status": a.status,
             "msg_type": a.msg_type, "event": a.event, "headline": a.headline, "severity": a.severity,
             "urgency": a.urgency, "area": a.area_desc, "expires": a.expires, "valid": a.valid,
             "problems": a.problems, "signature": a.signature, "signature_detail": a.signature_detail,
             "signer": a.signer, "signer_trusted": a.signer_trusted}
            for a in ExternalAlert.objects.order_by("-sent")[: clamp_limit(limit)]]


@router.get("/hazards/events", auth=allow(*WATCHERS), response=list[dict[str, Any]],
            summary="Quakes seen by the feeds, newest first, with what the policy decided and why")
def hazard_events(request: HttpRequest, limit: Limit = 50, shown: bool = False) -> Any:
    found = HazardEvent.objects.order_by("-origin_time")
    if shown:
        found = found.exclude(display="none")
    return [event_summary(e) for e in found[: clamp_limit(limit)]]


@router.get("/hazards/review", auth=allow(*WATCHERS), response=list[dict[str, Any]],
            summary="Automatic decisions a supervisor should check (unknown wording, criteria, held lowerings)")
def hazard_review(request: HttpRequest, limit: Limit = 20) -> Any:
    found = HazardEvent.objects.exclude(review=[]).filter(reviewed_at__isnull=True).order_by("-origin_time")
    return [event_summary(e) for e in found[: clamp_limit(limit)] if e.needs_review]


class ReviewIn(Schema):
    note: str = ""


@router.post("/hazards/events/{int:event_id}/review", auth=allow(*MANAGERS), response={200: dict[str, Any], **ERRORS},
             summary="Mark a flagged automatic decision as checked by a supervisor (audited)")
def review_event(request: HttpRequest, event_id: int, payload: ReviewIn) -> Any:
    return event_summary(do_review_event(_principal(request), event_id, payload.note))


@router.get("/hazards/feeds", auth=allow(*WATCHERS), response=list[dict[str, Any]],
            summary="Health of every feed: status (ok, degraded, failing), last success, last error, bad records")
def feeds(request: HttpRequest) -> Any:
    now = timezone.now()
    return [{"name": f.name, "kind": f.kind, "url": f.url, "enabled": f.enabled, "drill": f.drill,
             "healthy": f.healthy, "status": f.status(now), "problems": f.problems(now),
             "bad_records": f.bad_records, "last_bad_records": f.last_bad_records,
             "last_bad_record": f.last_bad_record, "clock_skew_seconds": f.clock_skew_seconds,
             "last_attempt_at": f.last_attempt_at, "last_success_at": f.last_success_at,
             "last_error_at": f.last_error_at, "last_error": f.last_error, "last_status": f.last_status,
             "consecutive_failures": f.consecutive_failures, "polls": f.polls, "not_modified": f.not_modified,
             "records_new": f.records_new, "records_repeat": f.records_repeat, "lag_seconds": f.lag_seconds,
             "newest_record_at": f.newest_record_at} for f in Feed.objects.order_by("kind", "name")]
