"""Messages that come in (MO): keywords from residents, answers to dispatches from crews.

Every message is stored once (by the gateway's id) with what it did, and answered in Indonesian unless its
sender cannot be answered (not a phone number) or has had ``SIAGA_SMS_REPLIES_PER_HOUR`` answers already.

Keywords (the first word, any case):

* ``DAFTAR <kelurahan>`` (or a kecamatan; ``DAFTAR <kelurahan> <kecamatan>`` when a kelurahan's name is not
  unique): the number gets the warnings of that kecamatan;
* ``BERHENTI`` (``STOP``): it gets none any more;
* ``INFO`` (``BANTUAN``, ``HELP``): how it works;
* from a crew's registered number, an answer to a dispatch: ``1 <ticket>`` acknowledged, ``2`` en route,
  ``3`` on scene, ``4`` completed, ``0 <reason>`` declined (``0 <ticket> <reason>`` too). The ticket may be
  the whole ticket (``CLG-2026-000123``) or its number (``123``); without one, the step applies to the
  agency's one dispatch where it can follow, and the crew is asked for the ticket when there are several.
  These are the same audited actions as the agency page, as the crew (``sms:<number> <name>``).

Anything else gets the help text. A step from a number that is not a crew's, for a ticket of another
agency, or one the dispatch cannot take, gets a clear answer and changes nothing.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from siaga.core.errors import ActionError
from siaga.formats import phone
from siaga.sms import outbox
from siaga.sms.models import CrewMember, Inbound, Purpose, Subscriber

log = logging.getLogger("siaga.sms")
STEPS = {"1": "acknowledged", "2": "en_route", "3": "on_scene", "4": "completed", "0": "declined"}
STEP_WORDS = {"acknowledged": "diterima", "en_route": "berangkat", "on_scene": "tiba di lokasi",
              "completed": "selesai", "declined": "ditolak"}
SUBSCRIBE = ("DAFTAR", "REG")
STOP = ("BERHENTI", "STOP", "UNREG")
HELP = ("INFO", "BANTUAN", "HELP", "?")


@dataclass(frozen=True)
class Received:
    gateway_id: str
    sender: str
    receiver: str
    text: str


def _help() -> str:
    return (f"{settings.SMS_SIGNATURE}: DAFTAR <kelurahan> untuk SMS peringatan dini, BERHENTI untuk berhenti. "
            "Petugas: 1 <tiket> terima, 2 berangkat, 3 tiba, 4 selesai, 0 <alasan> tolak. Darurat? Telepon 112.")


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]+", " ", "".join(c for c in plain if not unicodedata.combining(c)).lower()).strip()


def _without_prefix(text: str) -> str:
    return re.sub(r"^(kel|kelurahan|desa|kec|kecamatan)\b\.?\s*", "", _fold(text)).strip()


def find_area(words: str) -> tuple[object | None, object | None, str]:
    """(kecamatan, kelurahan, problem) for what follows DAFTAR."""
    from siaga.core.models import Kecamatan, Kelurahan

    wanted = _without_prefix(words)
    if not wanted:
        return None, None, "empty"
    kelurahan = list(Kelurahan.objects.select_related("kecamatan"))
    kecamatan = list(Kecamatan.objects.all())
    exact = [k for k in kelurahan if _fold(k.name) == wanted]
    if len(exact) == 1:
        return exact[0].kecamatan, exact[0], ""
    # "<kelurahan> <kecamatan>" (a name that two kecamatan share), or a kecamatan alone
    both = [k for k in kelurahan if wanted == f"{_fold(k.name)} {_without_prefix(k.kecamatan.name)}"]
    if len(both) == 1:
        return both[0].kecamatan, both[0], ""
    district = [k for k in kecamatan if _fold(k.name) == wanted]
    if len(district) == 1 and not exact:
        return district[0], None, ""
    if exact:
        return None, None, "ambiguous:" + ", ".join(sorted(k.kecamatan.name for k in exact))
    return None, None, "unknown"


class _Answer(Exception):
    """What to answer, and the outcome to record, when a step cannot be taken."""

    def __init__(self, outcome: str, text: str) -> None:
        super().__init__(text)
        self.outcome, self.text = outcome, text


def _dispatch_for(crew: CrewMember, token: str, status: str) -> object:
    from siaga.incidents import lifecycle
    from siaga.incidents.models import Dispatch

    active = Dispatch.objects.select_related("incident", "agency").filter(status__in=lifecycle.ACTIVE)
    if token:
        wanted = token.upper()
        digits = wanted.lstrip("0") if wanted.isdigit() else None
        candidates = [d for d in Dispatch.objects.select_related("incident", "agency").filter(
                      incident__ticket__iexact=wanted).order_by("-requested_at")] if digits is None else [
            d for d in active.filter(incident__ticket__endswith=wanted[-6:].rjust(6, "0"))
            if d.incident.ticket.rsplit("-", 1)[-1].lstrip("0") == digits]
        if not candidates:
            raise _Answer("unknown_ticket", f"Tiket {token} tidak ditemukan. Kirim mis. 1 {_example()}.")
        own = [d for d in candidates if d.agency_id == crew.agency_id]
        if not own:
            raise _Answer("other_agency", f"Tiket {candidates[0].incident.ticket} bukan penugasan "
                                          f"{crew.agency.short_name}. Tidak ada yang diubah.")
        active_own = [d for d in own if d.status in lifecycle.ACTIVE]
        return (active_own or own)[0]
    mine = [d for d in active.filter(agency_id=crew.agency_id).order_by("-requested_at")
            if lifecycle.dispatch_step_allowed(d.status, status)]
    if not mine:
        raise _Answer("no_dispatch", f"Tidak ada penugasan {crew.agency.short_name} yang bisa "
                                     f"{STEP_WORDS[status]}. Sertakan tiket, mis. 2 {_example()}.")
    if len(mine) > 1:
        tickets = ", ".join(d.incident.ticket for d in mine[:3])
        key = next(k for k, v in STEPS.items() if v == status)
        raise _Answer("which_ticket", f"Ada {len(mine)} penugasan aktif ({tickets}). Kirim {key} <tiket>.")
    return mine[0]


def _example() -> str:
    return f"{settings.TICKET_PREFIX}-{timezone.localtime().year}-000123"


def _step(crew: CrewMember, words: list[str]) -> tuple[str, str]:
    from siaga.core.roles import Principal
    from siaga.incidents.actions import do_update_dispatch

    status = STEPS[words[0]]
    rest = words[1:]
    token = ""
    if rest and (re.fullmatch(r"[A-Za-z]{1,6}-\d{4}-\d{1,9}", rest[0]) or rest[0].isdigit()):
        token, rest = rest[0], rest[1:]
    reason = " ".join(rest).strip()
    if status == "declined" and not reason:
        raise _Answer("reason_missing", "Alasan wajib untuk menolak: 0 <tiket> <alasan>, mis. 0 "
                                        f"{_example()} unit sedang di lokasi lain.")
    dispatch = _dispatch_for(crew, token, status)
    actor = Principal.for_crew(crew.agency_id, crew.phone, crew.name)
    try:
        with translation.override("id"):
            do_update_dispatch(actor, dispatch.pk, status, reason=reason if status == "declined" else "")  # type: ignore[attr-defined]
    except ActionError as exc:
        with translation.override("id"):
            said = exc.localized()
        raise _Answer("refused", f"{dispatch.incident.ticket}: {said}. Tidak ada yang diubah.") from None  # type: ignore[attr-defined]
    at = timezone.localtime().strftime("%H:%M")
    ticket = dispatch.incident.ticket  # type: ignore[attr-defined]
    return "dispatch_step", f"OK {ticket}: {STEP_WORDS[status]} dicatat {at} WIB. Terima kasih."


def _subscribe(number: str, words: str, existing: Subscriber | None) -> tuple[str, str]:
    kecamatan, kelurahan, problem = find_area(words)
    if kecamatan is None:
        from siaga.core.models import Kecamatan

        if problem.startswith("ambiguous:"):
            return "area_ambiguous", (f"Kelurahan {words.strip()} ada di Kec. {problem.split(':', 1)[1]}. "
                                      f"Kirim DAFTAR {words.strip()} <kecamatan>.")
        names = ", ".join(Kecamatan.objects.order_by("name").values_list("name", flat=True))
        what = f"'{words.strip()}' tidak dikenal" if problem == "unknown" else "belum disebut"
        return "area_unknown", f"Wilayah {what}. Kirim DAFTAR <kelurahan>, mis. DAFTAR Ciwandan. Kecamatan: {names}."
    now = timezone.now()
    values = {"kecamatan": kecamatan, "kelurahan": kelurahan, "active": True, "stopped_at": None, "updated_at": now}
    if existing is None:
        Subscriber.objects.create(phone=number, source="sms", **values)
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()
    place = f"Kel. {kelurahan.name}, Kec. {kecamatan.name}" if kelurahan else f"Kec. {kecamatan.name}"  # type: ignore[attr-defined]
    return "subscribed", (f"{settings.SMS_SIGNATURE}: nomor Anda terdaftar untuk SMS peringatan dini {place}. "
                          "Ketik BERHENTI untuk berhenti. Darurat: telepon 112.")


def _stop(existing: Subscriber | None) -> tuple[str, str]:
    if existing is None or not existing.active:
        return "not_subscribed", (f"{settings.SMS_SIGNATURE}: nomor ini tidak terdaftar. "
                                  "DAFTAR <kelurahan> untuk mendaftar.")
    existing.active, existing.stopped_at, existing.updated_at = False, timezone.now(), timezone.now()
    existing.save(update_fields=["active", "stopped_at", "updated_at"])
    return "stopped", (f"{settings.SMS_SIGNATURE}: Anda tidak lagi menerima SMS peringatan. "
                       "Kirim DAFTAR <kelurahan> untuk mendaftar lagi.")


def _answered_lately(number: str) -> int:
    since = timezone.now() - timedelta(hours=1)
    return Inbound.objects.filter(phone=number, received_at__gte=since, replies__isnull=False).distinct().count()


def _storable(text: str) -> str:
    """What any database keeps: no NUL or other control character, no lone surrogate."""
    clean = "".join(c if c >= " " or c == "\n" else " " for c in text)
    return clean.encode("utf-8", "replace").decode("utf-8")


def receive(message: Received) -> tuple[Inbound, bool]:
    """Store and act on one incoming message; (the row, whether it is new). The same gateway id again is
    the same row, acted on once."""
    message = Received(*(_storable(v) for v in (message.gateway_id, message.sender, message.receiver,
                                                 message.text)))
    with transaction.atomic():
        inbound, created = Inbound.objects.get_or_create(gateway_id=message.gateway_id[:64], defaults={
            "sender": message.sender[:40], "receiver": message.receiver[:40], "text": message.text[:1000]})
        if not created:
            return inbound, False
        number = phone.normalise(message.sender, settings.PHONE_REGION)
        inbound.phone = number.e164 or ""
        outcome, reply = _act(inbound, number.e164, message.text)
        inbound.outcome, inbound.detail = outcome, reply[:300]
        inbound.save(update_fields=["phone", "outcome", "detail"])
        if reply and number.e164:
            if _answered_lately(number.e164) >= settings.SMS_REPLIES_PER_HOUR:
                inbound.detail = f"not answered: {settings.SMS_REPLIES_PER_HOUR} answers this hour"[:300]
                inbound.save(update_fields=["detail"])
            else:
                outbox.queue(number.e164, outbox.compose(reply), Purpose.REPLY, reply_to=inbound)
    log.info("SMS from %s: %s -> %s", message.sender, message.text[:60], inbound.outcome)
    return inbound, True


def _act(inbound: Inbound, number: str | None, text: str) -> tuple[str, str]:
    if number is None:
        return "invalid_sender", ""
    words = text.replace("#", " ").replace("*", " ").split()
    keyword = words[0].upper().rstrip(".,:") if words else ""
    if keyword in STEPS:
        crew = CrewMember.objects.select_related("agency").filter(phone=number, active=True).first()
        if crew is None:
            return "unknown_crew", ("Nomor ini tidak terdaftar sebagai nomor petugas, jadi tidak ada penugasan yang "
                                    "diubah. Hubungi Call Center 112 untuk mendaftarkan nomor.")
        try:
            with transaction.atomic():
                return _step(crew, [keyword, *words[1:]])
        except _Answer as answer:
            return answer.outcome, answer.text
    existing = Subscriber.objects.filter(phone=number).first()
    if keyword in SUBSCRIBE:
        return _subscribe(number, " ".join(words[1:]), existing)
    if keyword in STOP:
        return _stop(existing)
    if keyword in HELP:
        return "help", _help()
    return "unknown_keyword", "Perintah tidak dikenal. " + _help()
