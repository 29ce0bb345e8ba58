"""Dispatches by SMS to crews with a basic phone.

When the call centre dispatches an incident to an agency, every active crew number of that agency gets an
SMS (queued in the dispatch's own transaction): the ticket, the category and priority, the address with its
kelurahan and kecamatan, the coordinates and a short link to the public page of the place, the callback
number, and how to answer (``1 <ticket>`` acknowledge, ``2`` en route, ``3`` on scene, ``4`` completed,
``0 <reason>`` decline; :mod:`siaga.sms.inbound`). A dispatch the call centre withdraws is said too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from siaga.sms import gateway, outbox
from siaga.sms.models import CrewMember, PlaceLink, Purpose

TOPICS = ("dispatch.created", "dispatch.updated")
HOW_TO_ANSWER = "Balas: 1 {ticket} terima, 2 berangkat, 3 tiba, 4 selesai, 0 alasan = tolak."


def _place(incident: Any) -> str:
    parts = []
    if incident.kelurahan_id:
        parts.append(f"Kel. {incident.kelurahan.name}")
    if incident.kecamatan_id:
        parts.append(f"Kec. {incident.kecamatan.name}")
    return ", ".join(parts)


def place_link(dispatch: Any) -> PlaceLink | None:
    incident = dispatch.incident
    if incident.lat is None and not incident.kecamatan_id:
        return None
    place = ", ".join(p for p in (incident.address, _place(incident)) if p)
    return PlaceLink.objects.create(dispatch=dispatch, lat=incident.lat, lon=incident.lon, place=place[:300],
                                    expires_at=timezone.now() + timedelta(days=settings.SMS_PLACE_LINK_DAYS))


def dispatch_text(dispatch: Any, link: PlaceLink | None) -> tuple[str, str]:
    """(body, tail) of a dispatch's SMS: the tail (how to answer) is never cut."""
    incident = dispatch.incident
    callback = incident.reporter_phone or next(
        (n for n in incident.calls.order_by("offered_at", "id").values_list("caller", flat=True) if n), "")
    lines = [f"112 {incident.ticket} {incident.category.name} P{incident.priority}."]
    where = ", ".join(p for p in (incident.address.strip().rstrip("."), _place(incident)) if p)
    if where:
        lines.append(f"{where}.")
    if incident.lat is not None and incident.lon is not None:
        lines.append(f"Lok {incident.lat:.5f},{incident.lon:.5f}")
    if link is not None:
        lines.append(f"{settings.PUBLIC_URL}/l/{link.code}")
    if callback:
        lines.append(f"Pelapor {incident.reporter_name + ' ' if incident.reporter_name else ''}{callback}.")
    if incident.description.strip():
        lines.append(incident.description.strip().replace("\n", " "))
    return " ".join(lines), " " + HOW_TO_ANSWER.format(ticket=incident.ticket)


def enqueue(topic: str, data: dict[str, Any]) -> None:
    """Transactional hook of ``dispatch.*`` events: the crews' SMS exist if and only if the dispatch does."""
    if not gateway.configured():
        return
    if topic == "dispatch.updated" and data.get("status") != "cancelled":
        return
    crews = list(CrewMember.objects.filter(agency_id=data.get("agency_id"), active=True))
    if not crews:
        return
    from siaga.incidents.models import Dispatch

    dispatch = (Dispatch.objects.select_related("incident", "incident__category", "incident__kelurahan",
                                                "incident__kecamatan").filter(pk=data.get("id")).first())
    if dispatch is None:
        return
    if topic == "dispatch.created":
        body, tail = dispatch_text(dispatch, place_link(dispatch))
    else:
        reason = f": {dispatch.reason}" if dispatch.reason else ""
        body, tail = f"112 {dispatch.incident.ticket}: penugasan DITARIK oleh Call Center{reason}.", \
            " Tidak perlu ke lokasi."
    fitted = outbox.compose(body, tail=tail)
    for crew in crews:
        outbox.queue(crew.phone, fitted, Purpose.DISPATCH, dispatch=dispatch)
