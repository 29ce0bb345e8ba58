"""Every write to alerts: issue (automatic or approved), update, cancel, drafts, resend. Audited, one
transaction each, deliveries queued in the same transaction, published after commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.alerts import capbuild, channels, signing
from siaga.alerts.models import Alert, Delivery, DeliveryStatus, Display, Draft, DraftStatus, Thread
from siaga.core import audit
from siaga.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from siaga.core.events import publish_on_commit
from siaga.core.roles import MANAGERS, STAFF, Principal, Role
from siaga.formats import cap
from siaga.hazards.actions import Applied
from siaga.hazards.models import HazardEvent
from siaga.hazards.policy import Decision

log = logging.getLogger("siaga.alerts")
SYSTEM = Principal.system("system:bmkg")
LEVEL_RANK = {"": 0, "WASPADA": 1, "SIAGA": 2, "AWAS": 3}
DISPLAY_RANK = {"none": 0, "ticker": 1, "fullscreen": 2}
_wake_callbacks: list[Any] = []


def on_new_deliveries(callback: Any) -> None:
    """The dispatcher asks to be woken when deliveries are queued (instead of waiting for its next poll)."""
    _wake_callbacks.append(callback)


def _wake() -> None:
    for callback in list(_wake_callbacks):
        callback()


# --------------------------------------------------------------------------------------------------------
# issuing
# --------------------------------------------------------------------------------------------------------

def _now() -> datetime:
    return timezone.now().replace(microsecond=0)


def _next_number(thread: Thread) -> int:
    return thread.alerts.count() + 1


def queue_deliveries(alert: Alert) -> list[Delivery]:
    """One delivery per (channel, target), in the issuing transaction; existing rows are left alone."""
    rows = []
    now = timezone.now()
    for channel in channels.active():
        for target in channel.targets(alert):
            rows.append(Delivery(alert=alert, channel=channel.name, target=target[:300], next_attempt_at=now,
                                 created_at=now))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(_wake)
    return rows


def _issue(thread: Thread, message: capbuild.Message, *, actor: Principal, created_by: Any = None,
           approved_by: Any = None, previous: Alert | None = None) -> Alert:
    built = capbuild.build(message)
    xml = signing.sign(capbuild.xml_of(built))  # enveloped XML-DSig; unsigned (logged) rather than held back
    problems = cap.validate(xml)
    if problems:  # never hold a warning back for a schema detail, but say so loudly
        log.error("alert %s is not valid CAP 1.2: %s", message.identifier, "; ".join(map(str, problems)))
    sent_text = cap.format_time(message.sent, capbuild.JAKARTA)
    alert = Alert.objects.create(
        thread=thread, identifier=message.identifier, sender=settings.CAP_SENDER, sent=message.sent,
        sent_text=sent_text, status=message.status, msg_type=message.msg_type, references=previous,
        display=message.display, ews_level=message.ews_level or "", event=message.event[:120],
        headline=built.infos[0].headline or "", headline_en=(built.infos[1].headline or "")[:300],
        instruction=message.instruction, severity=message.severity, urgency=message.urgency,
        expires=message.expires, area_codes=[a.code for a in message.areas],
        postcodes=sorted({p for a in message.areas for p in a.postcodes}), xml=xml.decode(),
        created_by=created_by, approved_by=approved_by)
    thread.current = alert
    thread.display = Display.NONE if message.msg_type == "Cancel" else message.display
    thread.ews_level = "" if message.msg_type == "Cancel" else (message.ews_level or "")
    thread.active = message.msg_type != "Cancel"
    thread.expires_at = message.expires
    thread.exercise = message.status == "Exercise"
    thread.updated_at = timezone.now()
    thread.save()
    queue_deliveries(alert)
    audit.record(actor, f"alert.{message.msg_type.lower()}", alert,
                 after={"identifier": alert.identifier, "display": alert.display, "ews_level": alert.ews_level,
                        "status": alert.status, "thread": thread.key})
    from siaga.alerts.public import public_summary

    publish_on_commit("alert.issued", public_summary(alert))
    publish_on_commit("warning.changed", {"thread": thread.pk, "display": thread.display, "active": thread.active})
    return alert


def _references(thread: Thread) -> tuple[Alert | None, list[cap.Reference]]:
    previous = thread.current
    if previous is None:
        return None, []
    return previous, [cap.Reference(previous.sender, previous.identifier, previous.sent_text)]


def _event_message(thread: Thread | None, event: HazardEvent, decision: Decision, msg_type: str, sent: datetime,
                   overrides: dict[str, Any] | None = None) -> capbuild.Message:
    display = decision.display if msg_type != "Cancel" else Display.NONE
    texts = capbuild.quake_texts(event, decision.display, decision.ews_level, list(decision.reasons),
                                 ended=decision.ended or msg_type == "Cancel")
    if overrides:
        texts.update({k: v for k, v in overrides.items() if v})
    references = _references(thread)[1] if thread is not None else []
    number = thread.pk * 100 + _next_number(thread) if thread is not None else 1
    return capbuild.Message(
        identifier=capbuild.identifier(1, sent, number), sent=sent,
        msg_type=msg_type, status="Exercise" if event.exercise else "Actual", display=display,
        ews_level=decision.ews_level if msg_type != "Cancel" else None, event=texts["event"],
        event_en=texts["event_en"], category=texts["category"], response=texts["response"],
        urgency=texts["urgency"], severity=texts["severity"], certainty=texts["certainty"],
        headline=texts["headline"], headline_en=texts["headline_en"], description=texts["description"],
        description_en=texts["description_en"], instruction=texts["instruction"],
        instruction_en=texts["instruction_en"],
        expires=capbuild.expiry(sent, decision.display) if msg_type != "Cancel" else sent + timedelta(hours=1),
        areas=capbuild.city_areas(), disaster_code=texts["disaster_code"], references=references,
        parameters=[("BMKG_EVENT", event.key), ("MAGNITUDE", f"{event.magnitude:.1f}"),
                    ("DEPTH_KM", f"{event.depth_km:g}" if event.depth_km is not None else ""),
                    ("DISTANCE_KM", f"{event.distance_km:.0f}"), ("EPICENTRE", f"{event.lat:.2f},{event.lon:.2f}"),
                    ("INATEWS_PHASE", str(event.inatews_phase or "")), ("POLICY", ",".join(decision.reasons))],
        web=f"{settings.PUBLIC_URL}/peringatan/", incidents=event.key, onset=event.origin_time,
    )


def preview(reading: Any, exercise: bool = False) -> bytes | None:
    """The CAP alert this system would issue for a feed reading now (nothing is stored); None if none."""
    from siaga.hazards.actions import decide_event

    quake, warning = reading.quake, reading.warning
    event = HazardEvent(key=quake.event_id, origin_time=quake.time_utc, lat=quake.lat, lon=quake.lon,
                        magnitude=quake.magnitude, depth_km=quake.depth_km, region=quake.region,
                        potential_text=quake.potential_text, tsunami_potential=quake.tsunami_potential,
                        felt_text=quake.felt_text, exercise=exercise,
                        warning=warning.as_json() if warning is not None else None,
                        inatews_phase=warning.phase if warning is not None else None)
    decision = decide_event(event)
    event.distance_km = decision.distance_km
    if decision.display == Display.NONE:
        return None
    return capbuild.xml_of(capbuild.build(_event_message(None, event, decision, "Alert", _now())))


def _digest(event: HazardEvent, decision: Decision) -> str:
    zones = ",".join(f"{z.district}:{z.level}" for z in decision.our_zones)
    return (f"{decision.display}|{decision.ews_level}|{event.magnitude:.1f}|{event.depth_km}|"
            f"{event.inatews_phase}|{zones}|{event.tsunami_potential}")


def consume_decision(event: HazardEvent, decision: Decision, now: datetime) -> Applied:
    """The alerts' side of ingestion (registered with :func:`siaga.hazards.actions.on_decision`)."""
    alert, held = apply_hazard_event(event, decision, now)
    return Applied(alert.pk if alert is not None else None, held)


def _lowers(thread: Thread, decision: Decision) -> bool:
    """Would this decision lower the warning in force? What people see (the display) never goes down but
    by an end; BMKG's level may follow a new InaTEWS message about our own zones, never a mere revision."""
    if DISPLAY_RANK[decision.display] < DISPLAY_RANK[thread.display]:
        return True
    from_zones = any(reason.startswith("inatews_zone_") for reason in decision.reasons)
    return LEVEL_RANK[decision.ews_level or ""] < LEVEL_RANK[thread.ews_level or ""] and not from_zones


def apply_hazard_event(event: HazardEvent, decision: Decision,
                       now: datetime | None = None) -> tuple[Alert | None, bool]:
    """Issue, update or cancel the alert of a hazard event, inside the ingest transaction: (the message
    issued, whether a lowering was held back). A warning in force is lowered only by BMKG's end of warning
    (or a supervisor's Cancel, or its expiry): a revision or a merge that would lower it changes nothing and
    is flagged for a person."""
    sent = (now or _now()).replace(microsecond=0)
    thread = Thread.objects.select_for_update(of=("self",)).filter(key=event.key).select_related("current").first()
    digest = _digest(event, decision)
    if thread is None:
        if decision.display == Display.NONE or event.stale:
            return None, False
        thread = Thread.objects.create(key=event.key, hazard_event=event, origin="bmkg", digest=digest,
                                       created_at=sent, updated_at=sent)
        return _issue(thread, _event_message(thread, event, decision, "Alert", sent), actor=SYSTEM), False
    if thread.digest == digest:
        return None, False
    previous_display, previous_level = thread.display, thread.ews_level
    thread.digest = digest
    if thread.held:
        escalation = (DISPLAY_RANK[decision.display] > DISPLAY_RANK[thread.held_display]
                      or LEVEL_RANK[decision.ews_level or ""] > LEVEL_RANK[thread.held_level])
        if not escalation or decision.ended:
            thread.save(update_fields=["digest"])
            log.warning("BMKG changed %s, but a supervisor holds the thread: not sent", event.key)
            return None, False
        thread.held = False
    in_force = thread.active and (thread.expires_at is None or thread.expires_at > sent)
    if not in_force:
        if decision.display == Display.NONE or decision.ended or event.stale:
            thread.save(update_fields=["digest", "held"])
            return None, False
        return _issue(thread, _event_message(thread, event, decision, "Alert", sent), actor=SYSTEM,
                      previous=thread.current), False
    if decision.ended:
        previous, _ = _references(thread)
        return _issue(thread, _event_message(thread, event, decision, "Cancel", sent), actor=SYSTEM,
                      previous=previous), False
    if _lowers(thread, decision):
        thread.save(update_fields=["digest", "held"])
        log.warning("%s: BMKG's new record would lower the warning in force (%s/%s -> %s/%s); it stays until "
                    "an end of warning, a Cancel or its expiry", event.key, previous_display, previous_level,
                    decision.display, decision.ews_level)
        return None, True
    log.info("%s: %s/%s -> %s/%s", event.key, previous_display, previous_level, decision.display, decision.ews_level)
    previous, _ = _references(thread)
    return _issue(thread, _event_message(thread, event, decision, "Update", sent), actor=SYSTEM,
                  previous=previous), False


# --------------------------------------------------------------------------------------------------------
# a supervisor acts at once on any thread
# --------------------------------------------------------------------------------------------------------

def _thread(thread_id: int) -> Thread:
    thread = Thread.objects.select_for_update(of=("self",)).select_related("current", "hazard_event").filter(
        pk=thread_id).first()
    if thread is None or thread.current is None:
        raise NotFound(pgettext_lazy("error", "alert thread {thread_id} does not exist"), thread_id=thread_id)
    return thread


def _manual_message(thread: Thread | None, draft_like: dict[str, Any], msg_type: str, sent: datetime,
                    number: int) -> capbuild.Message:
    hazard = draft_like.get("hazard", "lainnya")
    event_id, event_en, category = capbuild.HAZARD_EVENT.get(hazard, capbuild.HAZARD_EVENT["lainnya"])
    references: list[cap.Reference] = []
    if thread is not None:
        _, references = _references(thread)
    display = draft_like.get("display", Display.TICKER) if msg_type != "Cancel" else Display.NONE
    level = {"fullscreen": "AWAS", "ticker": "WASPADA"}.get(display)
    if display == "fullscreen" and draft_like.get("severity") == "Severe":
        level = "SIAGA"
    try:
        areas = capbuild.city_areas(draft_like.get("area_codes") or None)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="area_codes") from None
    hours = int(draft_like.get("expires_hours") or 6)
    return capbuild.Message(
        identifier=capbuild.identifier(2, sent, number), sent=sent, msg_type=msg_type,
        status="Exercise" if draft_like.get("exercise") else "Actual", display=display, ews_level=level,
        event=event_id, event_en=event_en, category=category,
        response="AllClear" if msg_type == "Cancel" else draft_like.get("response", "Prepare"),
        urgency="Past" if msg_type == "Cancel" else draft_like.get("urgency", "Immediate"),
        severity="Minor" if msg_type == "Cancel" else draft_like.get("severity", "Severe"),
        certainty=draft_like.get("certainty", "Likely"),
        headline=draft_like["headline"], headline_en=draft_like.get("headline_en") or draft_like["headline"],
        description=draft_like.get("description", ""),
        description_en=draft_like.get("description_en") or draft_like.get("description", ""),
        instruction=draft_like.get("instruction", ""),
        instruction_en=draft_like.get("instruction_en") or draft_like.get("instruction", ""),
        expires=sent + timedelta(hours=hours), areas=areas,
        disaster_code=capbuild.DISASTER_CODES.get(hazard, "0C"), references=references,
        web=f"{settings.PUBLIC_URL}/peringatan/",
    )


def do_update_thread(actor: Principal, thread_id: int, *, display: str | None = None,
                     headline: str | None = None, instruction: str | None = None,
                     headline_en: str | None = None, instruction_en: str | None = None,
                     note: str = "") -> Alert:
    """A supervisor updates a warning at once (no approval: seconds matter)."""
    if not actor.has(*MANAGERS):
        raise Forbidden(pgettext_lazy("error", "only a supervisor or an admin may update a warning"))
    if display is not None and display not in (Display.TICKER, Display.FULLSCREEN):
        raise ValidationFailed(pgettext_lazy("error", "display must be ticker or fullscreen"), field="display")
    with transaction.atomic():
        thread = _thread(thread_id)
        if not thread.active:
            raise Conflict(pgettext_lazy("error", "this warning has been cancelled or has ended; issue a new one"))
        sent = _now()
        previous = thread.current
        assert previous is not None
        overrides = {"headline": headline, "instruction": instruction, "headline_en": headline_en,
                     "instruction_en": instruction_en}
        if thread.hazard_event is not None:
            from siaga.hazards.actions import decide_event

            decision = decide_event(thread.hazard_event)
            wanted = display or thread.display
            level = thread.ews_level or None
            if wanted != thread.display:
                level = "AWAS" if wanted == "fullscreen" else "WASPADA"
            decision = Decision(wanted, level, decision.distance_km, decision.reasons, decision.our_zones)
            message = _event_message(thread, thread.hazard_event, decision, "Update", sent, overrides)
        else:
            texts = capbuild_texts_of(previous)
            texts.update({k: v for k, v in overrides.items() if v})
            texts["display"] = display or thread.display
            message = _manual_message(thread, texts, "Update", sent, thread.pk * 100 + _next_number(thread))
        thread.held, thread.held_display, thread.held_level = True, message.display, message.ews_level or ""
        alert = _issue(thread, message, actor=actor, created_by=actor.user, previous=previous)
        if note:
            audit.record(actor, "alert.note", alert, note=note)
        return alert


def do_cancel_thread(actor: Principal, thread_id: int, reason: str) -> Alert:
    """A supervisor cancels a warning at once (a false alarm, or the danger is over)."""
    if not actor.has(*MANAGERS):
        raise Forbidden(pgettext_lazy("error", "only a supervisor or an admin may cancel a warning"))
    if not reason.strip():
        raise ValidationFailed(pgettext_lazy("error", "say why the warning is cancelled"), field="reason")
    with transaction.atomic():
        thread = _thread(thread_id)
        if not thread.active:
            raise Conflict(pgettext_lazy("error", "this warning is already cancelled or ended"))
        sent = _now()
        previous = thread.current
        assert previous is not None
        thread.held, thread.held_display, thread.held_level = True, thread.display, thread.ews_level
        if thread.hazard_event is not None:
            from siaga.hazards.actions import decide_event

            decision = decide_event(thread.hazard_event)
            overrides = {"description": f"{reason.strip()}", "description_en": f"{reason.strip()}"}
            message = _event_message(thread, thread.hazard_event, decision, "Cancel", sent, overrides)
            message.headline = f"Peringatan dibatalkan: {capbuild.bare_headline(previous.headline)}"[:250]
            message.headline_en = ("Warning cancelled: "
                                   f"{capbuild.bare_headline(previous.headline_en or previous.headline)}")[:250]
        else:
            texts = capbuild_texts_of(previous)
            texts.update(headline=f"Peringatan dibatalkan: {capbuild.bare_headline(previous.headline)}"[:250],
                         headline_en=("Warning cancelled: "
                                      f"{capbuild.bare_headline(previous.headline_en or previous.headline)}")[:250],
                         description=reason.strip(), description_en=reason.strip(),
                         instruction="Peringatan sebelumnya tidak berlaku lagi.",
                         instruction_en="The earlier warning no longer applies.")
            message = _manual_message(thread, texts, "Cancel", sent, thread.pk * 100 + _next_number(thread))
        alert = _issue(thread, message, actor=actor, created_by=actor.user, previous=previous)
        audit.record(actor, "alert.cancel_reason", alert, note=reason)
        return alert


def capbuild_texts_of(alert: Alert) -> dict[str, Any]:
    """The editable parts of a manual alert, read back from its CAP (for Updates and Cancels)."""
    from siaga.alerts.public import texts_of

    texts = texts_of(alert)
    draft = getattr(alert, "draft", None)
    return {
        "hazard": draft.hazard if draft is not None else "lainnya",
        "display": alert.display, "severity": alert.severity, "urgency": alert.urgency,
        "headline": capbuild.bare_headline(texts.get("id", {}).get("headline", alert.headline)),
        "headline_en": capbuild.bare_headline(texts.get("en", {}).get("headline", "")),
        "description": texts.get("id", {}).get("description", ""),
        "description_en": texts.get("en", {}).get("description", ""),
        "instruction": texts.get("id", {}).get("instruction", ""),
        "instruction_en": texts.get("en", {}).get("instruction", ""),
        "area_codes": alert.area_codes, "exercise": alert.exercise,
        "expires_hours": max(1, round(((alert.expires or alert.sent) - alert.sent).total_seconds() / 3600)),
    }


# --------------------------------------------------------------------------------------------------------
# manual alerts: written by one user, approved by another
# --------------------------------------------------------------------------------------------------------

DRAFT_FIELDS = ("hazard", "msg_type", "display", "severity", "urgency", "certainty", "response", "headline",
                "description", "instruction", "headline_en", "description_en", "instruction_en", "area_codes",
                "expires_hours", "exercise")


def _check_draft(data: dict[str, Any]) -> None:
    hazards = {key for key, _ in Draft.HAZARDS}
    if data.get("hazard") not in hazards:
        raise ValidationFailed(
            pgettext_lazy("error", "hazard must be one of: {names}"), field="hazard", names=', '.join(sorted(hazards)))
    if data.get("display") not in (Display.TICKER, Display.FULLSCREEN):
        raise ValidationFailed(pgettext_lazy("error", "display must be ticker or fullscreen"), field="display")
    for name, allowed in (("severity", cap.SEVERITIES), ("urgency", cap.URGENCIES), ("certainty", cap.CERTAINTIES),
                          ("response", cap.RESPONSE_TYPES)):
        if data.get(name) not in allowed:
            raise ValidationFailed(
                pgettext_lazy("error", "{name} must be one of: {names}"), field=name, name=name,
                names=', '.join(allowed))
    for name in ("headline", "description", "instruction"):
        if not str(data.get(name) or "").strip():
            raise ValidationFailed(
                pgettext_lazy("error", "{name} is required (in Bahasa Indonesia)"), field=name, name=name)
    if len(data["headline"]) > 200:
        raise ValidationFailed(pgettext_lazy("error", "headline is longer than 200 characters"), field="headline")
    if not 1 <= int(data.get("expires_hours") or 0) <= 72:
        raise ValidationFailed(pgettext_lazy("error", "expires_hours must be between 1 and 72"), field="expires_hours")
    try:
        capbuild.city_areas(data.get("area_codes") or None)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="area_codes") from None
    for channel in channels.active():  # a channel with limits of its own (SMS: at most 3 parts)
        check = getattr(channel, "check_draft", None)
        if check is not None:
            check(data)


def do_draft_create(actor: Principal, data: dict[str, Any]) -> Draft:
    if not actor.has(*STAFF):
        raise Forbidden(pgettext_lazy("error", "your role may not write warnings"))
    values = {"msg_type": "Alert", "display": Display.TICKER, "severity": "Severe", "urgency": "Immediate",
              "certainty": "Likely", "response": "Prepare", "expires_hours": 6, "exercise": False, "area_codes": [],
              "headline_en": "", "description_en": "", "instruction_en": ""}
    values.update({k: v for k, v in data.items() if k in DRAFT_FIELDS and v is not None})
    _check_draft(values)
    thread = None
    if data.get("thread_id"):
        with transaction.atomic():
            thread = Thread.objects.filter(pk=data["thread_id"]).first()
        if thread is None:
            raise NotFound(pgettext_lazy("error", "alert thread {value} does not exist"), value=data['thread_id'])
        if values["msg_type"] == "Alert":
            values["msg_type"] = "Update"
    elif values["msg_type"] != "Alert":
        raise ValidationFailed(
            pgettext_lazy("error", "an Update or Cancel names the warning it changes (thread_id)"), field="thread_id")
    with transaction.atomic():
        draft = Draft.objects.create(author=actor.user, thread=thread, status=DraftStatus.DRAFT, **values)
        audit.record(actor, "alert.draft_create", draft, after=audit.snapshot(draft, DRAFT_FIELDS))
    publish_on_commit("alert.draft", {"id": draft.pk, "status": draft.status})
    return draft


def do_draft_submit(actor: Principal, draft_id: int) -> Draft:
    with transaction.atomic():
        draft = Draft.objects.select_for_update().filter(pk=draft_id).first()
        if draft is None:
            raise NotFound(pgettext_lazy("error", "draft {draft_id} does not exist"), draft_id=draft_id)
        if draft.author_id != getattr(actor.user, "pk", None) and not actor.has(*MANAGERS):
            raise Forbidden(pgettext_lazy("error", "only its author submits a draft"))
        if draft.status != DraftStatus.DRAFT:
            raise Conflict(pgettext_lazy("error", "the draft is {status}, not a draft"), status=draft.status)
        draft.status, draft.submitted_at = DraftStatus.SUBMITTED, timezone.now()
        draft.save(update_fields=["status", "submitted_at"])
        audit.record(actor, "alert.draft_submit", draft)
    publish_on_commit("alert.draft", {"id": draft.pk, "status": draft.status})
    return draft


def do_draft_approve(actor: Principal, draft_id: int) -> Alert:
    """A second person (supervisor or admin, not the author) approves: the alert goes out at once."""
    if not actor.has(*MANAGERS):
        raise Forbidden(pgettext_lazy("error", "only a supervisor or an admin approves warnings"))
    with transaction.atomic():
        draft = Draft.objects.select_for_update(of=("self",)).select_related("thread").filter(pk=draft_id).first()
        if draft is None:
            raise NotFound(pgettext_lazy("error", "draft {draft_id} does not exist"), draft_id=draft_id)
        if draft.status != DraftStatus.SUBMITTED:
            raise Conflict(
                pgettext_lazy("error", "the draft is {status}; only a submitted draft can be approved"),
                status=draft.status)
        if draft.author_id == getattr(actor.user, "pk", None):
            raise Forbidden(pgettext_lazy("error", "the author of a warning cannot approve it: another person must"))
        sent = _now()
        data = {name: getattr(draft, name) for name in DRAFT_FIELDS}
        if draft.thread is not None:
            thread = Thread.objects.select_for_update(of=("self",)).select_related("current").get(pk=draft.thread_id)
            if not thread.active:
                raise Conflict(pgettext_lazy("error", "the warning this draft changes has been cancelled or has ended"))
        else:
            thread = Thread.objects.create(key=f"manual-{draft.pk}", origin="manual", created_at=sent,
                                           updated_at=sent)
        message = _manual_message(thread if draft.thread is not None else None, data, draft.msg_type, sent,
                                  thread.pk * 100 + _next_number(thread))
        alert = _issue(thread, message, actor=actor, created_by=draft.author, approved_by=actor.user,
                       previous=thread.current)
        draft.status, draft.approver, draft.decided_at, draft.alert = (DraftStatus.APPROVED, actor.user,
                                                                       timezone.now(), alert)
        draft.save(update_fields=["status", "approver", "decided_at", "alert"])
        audit.record(actor, "alert.draft_approve", draft, after={"alert": alert.identifier})
    return alert


def do_draft_reject(actor: Principal, draft_id: int, reason: str) -> Draft:
    if not actor.has(*MANAGERS):
        raise Forbidden(pgettext_lazy("error", "only a supervisor or an admin rejects warnings"))
    if not reason.strip():
        raise ValidationFailed(pgettext_lazy("error", "say why the draft is rejected"), field="reason")
    with transaction.atomic():
        draft = Draft.objects.select_for_update().filter(pk=draft_id).first()
        if draft is None:
            raise NotFound(pgettext_lazy("error", "draft {draft_id} does not exist"), draft_id=draft_id)
        if draft.status != DraftStatus.SUBMITTED:
            raise Conflict(
                pgettext_lazy("error", "the draft is {status}; only a submitted draft can be rejected"),
                status=draft.status)
        draft.status, draft.approver, draft.decided_at = DraftStatus.REJECTED, actor.user, timezone.now()
        draft.decision_note = reason.strip()[:300]
        draft.save(update_fields=["status", "approver", "decided_at", "decision_note"])
        audit.record(actor, "alert.draft_reject", draft, note=reason)
    publish_on_commit("alert.draft", {"id": draft.pk, "status": draft.status})
    return draft


# --------------------------------------------------------------------------------------------------------
# deliveries
# --------------------------------------------------------------------------------------------------------

def do_resend(actor: Principal, delivery_ids: list[int]) -> int:
    """An admin sends deliveries again (after fixing a mail server, say). The row is reused: still one per target."""
    if not actor.has(Role.ADMIN):
        raise Forbidden(pgettext_lazy("error", "only an admin may send deliveries again"))
    with transaction.atomic():
        count = Delivery.objects.filter(pk__in=delivery_ids).update(
            status=DeliveryStatus.QUEUED, next_attempt_at=timezone.now(), lease_until=None)
        audit.record(actor, "alert.resend", object_type="alerts.delivery", object_id=",".join(map(str, delivery_ids)),
                     after={"count": count, "ids": list(delivery_ids)})
    transaction.on_commit(_wake)
    return count


def expire_threads(now: datetime | None = None) -> int:
    """Threads whose current message has expired are no longer active (no message is needed: CAP says so)."""
    moment = now or timezone.now()
    with transaction.atomic():
        ids = list(Thread.objects.filter(active=True, expires_at__lte=moment).values_list("pk", flat=True))
        if ids:
            Thread.objects.filter(pk__in=ids).update(active=False, updated_at=moment)
            for pk in ids:
                publish_on_commit("alert.expired", {"thread": pk})
                publish_on_commit("warning.changed", {"thread": pk, "display": "none", "active": False})
    return len(ids)
