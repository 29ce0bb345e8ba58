"""Every write to calls, locations and caller sanctions.

Each ``do_*`` function is one transaction that also writes its audit row and, after commit, publishes
a live event. Nothing else writes these models.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.calls import blocking
from siaga.calls.models import (
    OPERATOR_OUTCOMES,
    Call,
    CallerSanction,
    CallState,
    CtiEvent,
    LocationFix,
    Outcome,
    SanctionStage,
)
from siaga.core import audit, rawsql, regions
from siaga.core.auditchain import seal_soon
from siaga.core.errors import ActionError, Conflict, Forbidden, ValidationFailed
from siaga.core.events import publish_on_commit
from siaga.core.metrics import observe_answer
from siaga.core.models import AuditLog, Integration, UserProfile
from siaga.core.roles import Principal, Role
from siaga.formats import cti, phone
from siaga.formats.aml import AmlFix
from siaga.shifts.queries import shift_id_at

CALL_AUDIT_FIELDS = ("caller", "state", "offered_at", "answered_at", "ended_at", "agent", "operator_id",
                     "transferred_to", "end_cause", "outcome", "outcome_auto", "incident_id", "anomalies")


def call_summary(call: Call) -> dict[str, Any]:
    """What live pages need to show a call (also the ``data`` of ``call.updated`` events)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": call.pk,
        "caller": call.caller or (None if call.caller_withheld else call.caller_raw),
        "withheld": call.caller_withheld,
        "line": call.line,
        "state": call.state,
        "offered_at": iso(call.offered_at),
        "answered_at": iso(call.answered_at),
        "ended_at": iso(call.ended_at),
        "operator_id": call.operator_id,
        "agent": call.agent,
        "outcome": call.outcome,
        "incident_id": call.incident_id,
        "caller_blocked": call.caller_blocked,
    }


# ------------------------------------------------------------------------------------------------------
# CTI ingestion
# ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IngestResult:
    duplicate: bool
    call_id: int


_AGENT_CACHE: dict[str, tuple[int | None, float]] = {}
_AGENT_CACHE_SECONDS = 30.0


def _operator_for_agent(agent: str) -> int | None:
    """The user whose PBX extension (or username) is ``agent``; cached briefly, it is on the hot path."""
    now = time.monotonic()
    hit = _AGENT_CACHE.get(agent)
    if hit is not None and now - hit[1] < _AGENT_CACHE_SECONDS:
        return hit[0]
    user_id = UserProfile.objects.filter(extension=agent).values_list("user_id", flat=True).first()
    if user_id is None:
        user_id = get_user_model().objects.filter(username=agent, is_active=True).values_list("pk", flat=True).first()
    _AGENT_CACHE[agent] = (user_id, now)
    return user_id


def _blocked_numbers(numbers: set[str], now: datetime) -> set[str]:
    if not numbers:
        return set()
    # on the CTI lane's hot path: one fixed statement (see siaga.core.rawsql), the end time checked here
    return {caller for caller, ends_at in rawsql.matching(CallerSanction, ["caller", "ends_at"], "caller", numbers,
                                                          stage=SanctionStage.BLOCK, lifted_at=None)
            if ends_at is None or ends_at > now}


def _note_anomaly(call: Call, text: str) -> None:
    if text not in call.anomalies:
        call.anomalies = [*call.anomalies, text]


def _apply(call: Call, event: cti.CtiEvent, blocked: set[str],
           numbers: dict[str | None, phone.CallerNumber] | None = None) -> None:
    """Fold one event into the call. Order-independent and repeat-safe: the same events in any order, any
    number of times, give the same call. ``numbers``: callers already normalised (by the batch)."""
    at = event.occurred_at
    if event.type == "call.offered":
        if call.offered_at is None or at < call.offered_at:
            call.offered_at = at
        if event.line:
            call.line = event.line
        if not call.caller and not call.caller_raw and not call.caller_withheld:
            number = (numbers or {}).get(event.caller) or phone.normalise(event.caller, settings.PHONE_REGION)
            call.caller = number.e164
            call.caller_raw = number.raw
            call.caller_withheld = number.withheld
            if number.e164:
                call.caller_blocked = number.e164 in blocked
            elif not number.withheld:
                _note_anomaly(call, f"caller number {number.raw!r} is not a possible number")
    elif event.type == "call.answered":
        if call.answered_at is None or at < call.answered_at:
            if call.answered_at is None and call.offered_at is not None:  # counted once, when it commits
                seconds = (at - call.offered_at).total_seconds()
                transaction.on_commit(lambda: observe_answer(seconds))
            call.answered_at = at
            if event.agent:
                call.agent = event.agent
                call.operator_id = _operator_for_agent(event.agent)
        if call.outcome_auto and call.outcome == Outcome.ABANDONED:
            call.outcome, call.outcome_auto = Outcome.UNTAGGED, False  # it was answered after all
    elif event.type == "call.transferred":
        if call.transferred_at is None or at >= call.transferred_at:
            call.transferred_at = at
            call.transferred_to = event.target or ""
    elif event.type == "call.ended" and (call.ended_at is None or at > call.ended_at):
        call.ended_at = at
        call.end_cause = event.cause or ""

    call.state = CallState.ENDED if call.ended_at else CallState.ACTIVE if call.answered_at else CallState.RINGING
    if call.state == CallState.ENDED and call.answered_at is None and call.outcome == Outcome.UNTAGGED:
        call.outcome, call.outcome_auto = Outcome.ABANDONED, True
    if call.offered_at:
        if call.answered_at and call.answered_at < call.offered_at:
            _note_anomaly(call, "answered before offered (PBX clock?)")
        if call.ended_at and call.ended_at < call.offered_at:
            _note_anomaly(call, "ended before offered (PBX clock?)")
    if call.answered_at and call.ended_at and call.ended_at < call.answered_at:
        _note_anomaly(call, "ended before answered (PBX clock?)")


def payload_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@dataclass
class IngestItem:
    """One validated CTI event waiting to be stored."""

    integration: Integration
    event: cti.CtiEvent
    payload: dict[str, Any]
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.digest:
            self.digest = payload_digest(self.payload)


CALL_UPDATE_FIELDS = ["caller", "caller_raw", "caller_withheld", "line", "state", "offered_at", "answered_at",
                      "ended_at", "agent", "operator", "transferred_to", "transferred_at", "end_cause", "outcome",
                      "outcome_auto", "caller_blocked", "anomalies", "shift"]


@transaction.atomic
def do_ingest_cti_events(items: list[IngestItem]) -> list[IngestResult | ActionError]:
    """Store CTI events and fold each into its call, in one transaction; the result per item is in order.

    A batch costs a fixed handful of statements whatever its size (the CTI lane groups concurrent
    requests into one batch, see :mod:`siaga.calls.ingest`). Every event still gets its own audit row and
    live event. The calls of the batch are created if missing and then locked in id order, so a PBX retry
    racing the original (in another process) waits for it and then finds it: the same ``event_id`` is
    stored once. A reused ``event_id`` with other content is that item's :class:`Conflict`; the others
    are stored.
    """
    now = timezone.now()
    results: list[IngestResult | ActionError | None] = [None] * len(items)
    keys = sorted({(item.integration.pk, item.event.call_id) for item in items})
    # 1. lock the calls that exist, create the others, lock those too (row locks always in id order, and
    #    new rows inserted in sorted key order, so two processes never wait on each other in a cycle)
    by_integration: dict[int, list[str]] = {}
    for integration_id, ref in keys:
        by_integration.setdefault(integration_id, []).append(ref)

    def lock(wanted: dict[int, list[str]]) -> dict[tuple[int, str], Call]:
        found: list[Call] = []
        for integration_id, refs in wanted.items():  # one PBX in a batch almost always: one statement
            found.extend(rawsql.locked_rows(Call, "call_ref", refs, integration_id=integration_id))
        return {(c.integration_id, c.call_ref): c for c in found}

    calls = lock(by_integration)
    missing = [key for key in keys if key not in calls]
    if missing:
        rawsql.insert_rows(Call, [rawsql.new_row(Call, integration_id=i, call_ref=ref, first_seen_at=now)
                                  for i, ref in missing], ignore_conflicts=True)
        wanted: dict[int, list[str]] = {}
        for integration_id, ref in missing:
            wanted.setdefault(integration_id, []).append(ref)
        calls.update(lock(wanted))
    # 3. which events are already stored
    stored_events: dict[tuple[int, str], tuple[str, int]] = {}
    for integration_id in by_integration:
        ids = [item.event.event_id for item in items if item.integration.pk == integration_id]
        for event_id, digest, call_id in rawsql.matching(CtiEvent, ["event_id", "payload_hash", "call_id"],
                                                         "event_id", ids, integration_id=integration_id):
            stored_events[(integration_id, event_id)] = (digest, call_id)
    numbers = {item.event.caller: phone.normalise(item.event.caller, settings.PHONE_REGION)
               for item in items if item.event.type == "call.offered"}
    blocked = _blocked_numbers({n.e164 for n in numbers.values() if n.e164}, now)
    # 4. fold
    current: dict[int, dict[str, Any]] = {}  # each call's audited fields as they stand in the fold
    offered_before: dict[int, datetime | None] = {}
    new_events: list[dict[str, Any]] = []
    new_items: list[int] = []
    audits: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        key = (item.integration.pk, item.event.event_id)
        call = calls[(item.integration.pk, item.event.call_id)]
        seen = stored_events.get(key)
        if seen is not None:
            if seen[0] != item.digest:
                results[index] = Conflict(
                    pgettext_lazy("error", "event_id {event_id!r} was already stored with different content"),
                    field="event_id", code="event_id_reused", event_id=item.event.event_id)
            elif seen[1] != call.pk:
                results[index] = Conflict(
                    pgettext_lazy("error", "event_id {event_id!r} was already used for another call"),
                                          field="event_id", code="event_id_reused", event_id=item.event.event_id)
            else:
                results[index] = IngestResult(duplicate=True, call_id=seen[1])
            continue
        stored_events[key] = (item.digest, call.pk)  # a copy later in this batch is a duplicate
        if call.pk not in current:
            current[call.pk] = audit.snapshot(call, CALL_AUDIT_FIELDS)
            offered_before[call.pk] = call.offered_at
        _apply(call, item.event, blocked, numbers)
        snapshot = audit.snapshot(call, CALL_AUDIT_FIELDS)
        b, a = audit.changed(current[call.pk], snapshot)
        current[call.pk] = snapshot
        new_events.append({"integration": item.integration.pk, "event_id": item.event.event_id,
                           "type": item.event.type, "call": call.pk, "occurred_at": item.event.occurred_at,
                           "received_at": now, "payload": item.payload, "payload_hash": item.digest})
        new_items.append(index)
        audits.append({"at": now, "actor_user": None, "actor": f"integration:{item.integration.name}"[:100],
                       "action": f"cti.{item.event.type}", "object_type": "calls.call", "object_id": str(call.pk),
                       "before": b or None, "after": a or None, "note": f"event_id={item.event.event_id}"[:500]})
    # 5. write
    if new_events:
        changed = [calls[k] for k in calls if calls[k].pk in current]
        for call in changed:
            # The shift the call happened in: by its offered time (its first sight until that is known).
            call.shift_id = shift_id_at(call.offered_at or call.first_seen_at)
        with rawsql.pipelined():  # three writes, one round trip
            rawsql.insert_rows(CtiEvent, new_events)
            rawsql.update_rows(Call, changed, CALL_UPDATE_FIELDS)
            rawsql.insert_rows(AuditLog, audits)
        seal_soon()
        fresh = [c for c in changed if c.caller and c.offered_at and offered_before[c.pk] is None]
        if fresh and rawsql.matching(LocationFix, ["id"], "caller", {c.caller for c in fresh}, call=None):
            for call in fresh:
                _attach_pending_fixes(call)
        for call in changed:
            publish_on_commit("call.updated", call_summary(call))
    # a call this batch created for nothing but refused events (a reused event_id) is not left behind empty
    created_empty = [calls[key].pk for key in missing if calls[key].pk not in current]
    if created_empty:
        Call.objects.filter(pk__in=created_empty, first_seen_at=now).exclude(
            pk__in=CtiEvent.objects.filter(call_id__in=created_empty).values("call_id")).delete()
    for index, stored in zip(new_items, new_events, strict=True):
        results[index] = IngestResult(duplicate=False, call_id=stored["call"])
    return [r for r in results if r is not None]


def do_ingest_cti_event(integration: Integration, event: cti.CtiEvent, payload: dict[str, Any]) -> IngestResult:
    """Store one CTI event (see :func:`do_ingest_cti_events`); a reused event_id raises :class:`Conflict`."""
    result = do_ingest_cti_events([IngestItem(integration, event, payload)])[0]
    if isinstance(result, ActionError):
        raise result
    return result


# ------------------------------------------------------------------------------------------------------
# Tagging and the blocking policy
# ------------------------------------------------------------------------------------------------------
def counted_strikes(caller: str, now: datetime) -> int:
    """Strikes of a number: its prank/ghost-tagged calls within the window, tagged after the last lift."""
    start = now - timedelta(days=settings.BLOCK_WINDOW_DAYS)
    calls = Call.objects.filter(
        Q(offered_at__gte=start) | Q(offered_at__isnull=True, first_seen_at__gte=start),
        caller=caller, outcome__in=blocking.counted_outcomes(), outcome_auto=False,
    )
    last_lift = (CallerSanction.objects.filter(caller=caller, lifted_at__isnull=False)
                 .exclude(lift_reason__startswith="retag:")
                 .order_by("-lifted_at").values_list("lifted_at", flat=True).first())
    if last_lift is not None:
        calls = calls.filter(tagged_at__gt=last_lift)
    return calls.count()


def _apply_strike(call: Call, actor: Principal, now: datetime) -> CallerSanction | None:
    if not call.caller:
        return None  # a withheld or unusable number cannot be sanctioned
    strike = counted_strikes(call.caller, now)
    if strike < 1:
        return None
    stage = blocking.stage_for_strike(strike)
    sanction = CallerSanction.objects.create(
        caller=call.caller,
        stage=SanctionStage.BLOCK if stage.is_block else SanctionStage.WARN,
        strike=strike,
        duration=stage.label,
        starts_at=now,
        ends_at=(now + stage.duration) if stage.duration else None,
        reason=f"{call.get_outcome_display()} (panggilan #{call.pk})",
        call=call,
        created_by=actor.user,
    )
    audit.record(actor, "caller.sanction", sanction, after=audit.snapshot(sanction))
    publish_on_commit("caller.sanctioned", sanction_summary(sanction))
    return sanction


def sanction_summary(sanction: CallerSanction) -> dict[str, Any]:
    return {
        "id": sanction.pk, "caller": sanction.caller, "stage": sanction.stage, "strike": sanction.strike,
        "duration": sanction.duration, "starts_at": sanction.starts_at.isoformat(),
        "ends_at": sanction.ends_at.isoformat() if sanction.ends_at else None,
        "lifted_at": sanction.lifted_at.isoformat() if sanction.lifted_at else None,
    }


def _revoke_for_call(call: Call, actor: Principal, now: datetime) -> None:
    """A corrected tag withdraws the sanctions that tag caused."""
    for sanction in call.sanctions.filter(lifted_at__isnull=True):
        before = audit.snapshot(sanction, ("lifted_at", "lift_reason"))
        sanction.lifted_at = now
        sanction.lifted_by = actor.user
        sanction.lift_reason = "retag: penandaan panggilan dikoreksi"
        sanction.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit.record(actor, "caller.sanction_revoked", sanction, before=before,
                     after=audit.snapshot(sanction, ("lifted_at", "lift_reason")))
        publish_on_commit("caller.sanction_lifted", sanction_summary(sanction))


def require_own_call(call: Call, actor: Principal, what: Any) -> None:
    """An operator acts on a call only while it is theirs: a call still going on at another extension is that
    operator's (a supervisor or an admin may step in). Ended calls and calls nobody answered yet are open."""
    if actor.has(Role.SUPERVISOR, Role.ADMIN) or call.state == CallState.ENDED or call.operator_id is None:
        return
    if actor.user is None or call.operator_id != actor.user.pk:
        from siaga.core.errors import Forbidden

        where = f"extension {call.agent}" if call.agent else "another operator"
        raise Forbidden(
            pgettext_lazy("error", "call {pk} is going on at {where}: only that operator (or a supervisor) may {what} "
                                   "it"), pk=call.pk, where=where, what=what)


@transaction.atomic
def do_tag_call(call_id: int, outcome: str, actor: Principal, notes: str | None = None) -> Call:
    """Tag a call (normal / ghost / prank / information / abandoned / test), applying the blocking policy.

    Repeating the same tag changes nothing; correcting a prank/ghost tag withdraws the sanction it caused.
    """
    if outcome not in OPERATOR_OUTCOMES:
        raise ValidationFailed(
            pgettext_lazy("error", "outcome {outcome!r} is unknown; expected one of {names}"),
            field="outcome", outcome=outcome, names=", ".join(o.value for o in OPERATOR_OUTCOMES))
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        from siaga.core.errors import NotFound

        raise NotFound(pgettext_lazy("error", "call {call_id} does not exist"), call_id=call_id)
    if notes is not None and len(notes) > 2000:
        raise ValidationFailed(pgettext_lazy("error", "notes are longer than 2000 characters"), field="notes")
    require_own_call(call, actor, pgettext_lazy("error", "tag"))
    now = timezone.now()
    before = audit.snapshot(call, ("outcome", "outcome_auto", "tagged_by_id", "notes"))
    same = call.outcome == outcome and not call.outcome_auto
    if same and (notes is None or notes == call.notes):
        return call
    counted = blocking.counted_outcomes()
    was_counted = call.outcome in counted and not call.outcome_auto
    if not same:
        call.outcome = outcome
        call.outcome_auto = False
        call.tagged_by = actor.user
        call.tagged_at = now
    if notes is not None:
        call.notes = notes
    call.save(update_fields=["outcome", "outcome_auto", "tagged_by", "tagged_at", "notes"])
    audit.record(actor, "call.tag", call, before=before,
                 after=audit.snapshot(call, ("outcome", "outcome_auto", "tagged_by_id", "notes")))
    if not same:
        if was_counted and outcome not in counted:
            _revoke_for_call(call, actor, now)
        elif outcome in counted and not was_counted:
            _apply_strike(call, actor, now)
    publish_on_commit("call.updated", call_summary(call))
    return call


@transaction.atomic
def do_lift_caller_sanctions(caller: str, actor: Principal, reason: str) -> list[CallerSanction]:
    """A supervisor lifts every active warning and block of a number; its strike count starts again."""
    if not actor.has(Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(pgettext_lazy("error", "only a supervisor or an admin can lift a block"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(pgettext_lazy("error", "a reason is required to lift a block"), field="reason")
    if len(reason) > 300:
        raise ValidationFailed(pgettext_lazy("error", "the reason is longer than 300 characters"), field="reason")
    number = phone.normalise_or_raw(caller, settings.PHONE_REGION)
    if not number:
        raise ValidationFailed(
            pgettext_lazy("error", "{caller!r} is not a caller number"), field="caller", caller=caller)
    now = timezone.now()
    active = list(CallerSanction.objects.select_for_update().filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now), caller=number, lifted_at__isnull=True))
    for sanction in active:
        before = audit.snapshot(sanction, ("lifted_at", "lift_reason"))
        sanction.lifted_at = now
        sanction.lifted_by = actor.user
        sanction.lift_reason = reason
        sanction.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit.record(actor, "caller.sanction_lifted", sanction, before=before,
                     after=audit.snapshot(sanction, ("lifted_at", "lift_reason")), note=reason)
        publish_on_commit("caller.sanction_lifted", sanction_summary(sanction))
    if not active:
        raise Conflict(
            pgettext_lazy("error", "{number} has no active warning or block to lift"), field="caller",
            code="nothing_to_lift", number=number)
    return active


# ------------------------------------------------------------------------------------------------------
# AML locations
# ------------------------------------------------------------------------------------------------------
def _attach_pending_fixes(call: Call) -> int:
    """Fixes that arrived before the call's CTI event are attached once the call is known."""
    assert call.offered_at is not None and call.caller
    window_start = call.offered_at - timedelta(minutes=settings.AML_MATCH_AFTER_MINUTES)
    window_end = call.offered_at + timedelta(minutes=settings.AML_MATCH_BEFORE_MINUTES)
    pending = LocationFix.objects.filter(
        Q(fix_time__gte=window_start, fix_time__lte=window_end)
        | Q(fix_time__isnull=True, received_at__gte=window_start, received_at__lte=window_end),
        call__isnull=True, caller=call.caller,
    )
    return pending.update(call=call)


def _matching_call(number: str, reference: datetime) -> Call | None:
    """The most recent call from ``number`` that a fix taken at ``reference`` belongs to."""
    return (Call.objects.filter(
        caller=number,
        offered_at__gte=reference - timedelta(minutes=settings.AML_MATCH_BEFORE_MINUTES),
        offered_at__lte=reference + timedelta(minutes=settings.AML_MATCH_AFTER_MINUTES),
    ).order_by("-offered_at").first())


AML_MAX_FUTURE = timedelta(hours=1)
AML_MAX_AGE = timedelta(days=7)


@dataclass(frozen=True)
class StoredFix:
    fix: LocationFix
    duplicate: bool


@transaction.atomic
def do_store_location(fix: AmlFix, raw: str, actor: Principal, number: str | None, *,
                      number_field: str = "sender") -> StoredFix:
    """Store an AML fix and attach it to the caller's recent call; kept unattached (never lost) otherwise.

    Checked before anything is written: the number must be a phone number (E.164 once normalised; a withheld
    one is kept as unknown), the time of a position within :data:`AML_MAX_AGE` before and
    :data:`AML_MAX_FUTURE` after now (a message without a position carries nothing to misplace).
    Idempotent: the same message from the same provider again is the fix already stored."""
    now = timezone.now()
    given = number or fix.device_number
    parsed = phone.normalise(given, settings.PHONE_REGION)
    if given and (not given.isprintable() or (not parsed.withheld and parsed.e164 is None)):
        shown = (number or fix.device_number or "")[:40].encode("unicode_escape").decode()
        raise ValidationFailed(
            pgettext_lazy("error", "{number_field} {shown!r} is not a phone number (E.164)"), field=number_field,
            number_field=number_field, shown=shown)
    caller = parsed.e164
    time_field = "top" if fix.transport == "sms" else "location_time"
    if fix.has_fix and fix.time_utc is not None and not now - AML_MAX_AGE <= fix.time_utc <= now + AML_MAX_FUTURE:
        raise ValidationFailed(
            pgettext_lazy("error", "{time_field} {time_utc} is implausible: more than {aml_max_future} in the future "
                                   "or {days} days in the past; check the handset's or the gateway's clock"),
                                   field=time_field, time_field=time_field, time_utc=fix.time_utc.isoformat(),
                                   aml_max_future=AML_MAX_FUTURE, days=AML_MAX_AGE.days)
    integration = actor.integration
    digest = hashlib.sha256(f"{fix.transport}\n{raw}".encode("utf-8", "surrogatepass")).hexdigest()
    existing = LocationFix.objects.filter(integration=integration, digest=digest).first()
    if existing is not None:
        return StoredFix(existing, duplicate=True)
    kelurahan_id = None
    if fix.has_fix and fix.lat is not None and fix.lon is not None:
        kelurahan_id = regions.resolve(fix.lat, fix.lon).kelurahan_id
    stored = LocationFix(
        caller=caller, transport=fix.transport, has_fix=fix.has_fix, lat=fix.lat, lon=fix.lon,
        radius_m=fix.radius_m, fix_time=fix.time_utc, method=fix.method, confidence_pct=fix.confidence_pct,
        imei=(fix.imei or "")[:20], kelurahan_id=kelurahan_id, raw=raw[:8000].replace("\x00", "\ufffd"),
        received_at=now, integration=integration, digest=digest,
    )
    if caller:
        stored.call = _matching_call(caller, fix.time_utc or now)
    try:
        with transaction.atomic():
            stored.save()
    except IntegrityError:  # the same message raced in from another request: that one is the fix
        return StoredFix(LocationFix.objects.get(integration=integration, digest=digest), duplicate=True)
    audit.record(actor, "aml.location", stored,
                 after={"caller": caller, "call_id": stored.call_id, "has_fix": fix.has_fix,
                        "lat": fix.lat, "lon": fix.lon, "radius_m": fix.radius_m})
    publish_on_commit("call.location", location_summary(stored))
    return StoredFix(stored, duplicate=False)


def location_summary(fix: LocationFix) -> dict[str, Any]:
    return {
        "id": fix.pk, "call_id": fix.call_id, "caller": fix.caller, "has_fix": fix.has_fix, "lat": fix.lat,
        "lon": fix.lon, "radius_m": fix.radius_m, "method": fix.method,
        "fix_time": fix.fix_time.isoformat() if fix.fix_time else None, "kelurahan_id": fix.kelurahan_id,
        "transport": fix.transport,
    }
