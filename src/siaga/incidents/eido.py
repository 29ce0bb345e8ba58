"""The EIDO document of an incident, from the database (see :mod:`siaga.formats.eido`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from siaga.formats import eido
from siaga.incidents.models import Incident


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def incident_input(incident: Incident, dispatches: list[Any] | None = None) -> dict[str, Any]:
    """What :func:`siaga.formats.eido.build` needs; ``dispatches`` limits the document to those visible."""
    rows = dispatches if dispatches is not None else list(incident.dispatches.select_related("agency"))
    kelurahan = incident.kelurahan
    return {
        "id": incident.pk, "ticket": incident.ticket, "category": incident.category.code,
        "category_name": incident.category.name, "priority": incident.priority,
        "priority_label": str(incident.get_priority_display()), "status": incident.status,
        "created_at": _iso(incident.created_at), "updated_at": _iso(incident.updated_at),
        "description": incident.description, "lat": incident.lat, "lon": incident.lon,
        "accuracy_m": incident.location_accuracy_m, "address": incident.address,
        "kelurahan": kelurahan.name if kelurahan else None,
        "kecamatan": incident.kecamatan.name if incident.kecamatan else None,
        "postcode": kelurahan.postcode if kelurahan else None, "province": "Banten", "city": settings.CITY_NAME,
        "country": "ID", "reporter_name": incident.reporter_name, "callback": incident.reporter_phone,
        "agency_name": f"Call Center 112 {settings.CITY_NAME}", "tracking_id": incident.eido_tracking_id or None,
        "dispatches": [{
            "id": d.pk, "agency": d.agency.code, "agency_name": d.agency.name, "unit": d.unit_name,
            "status": d.status, "requested_at": _iso(d.requested_at), "acknowledged_at": _iso(d.acknowledged_at),
            "en_route_at": _iso(d.en_route_at), "on_scene_at": _iso(d.on_scene_at),
            "completed_at": _iso(d.completed_at), "declined_at": _iso(d.declined_at),
            "cancelled_at": _iso(d.cancelled_at), "reason": d.reason,
        } for d in rows],
        "calls": [{"id": c.pk, "caller": c.caller, "offered_at": _iso(c.offered_at), "answered_at": _iso(c.answered_at),
                   "ended_at": _iso(c.ended_at)} for c in incident.calls.all()],
        "notes": [{"id": e.pk, "at": _iso(e.at), "actor": e.actor, "text": e.message,
                   "agency": e.data.get("eido_agency"), "eido_id": e.data.get("eido_note")}
                  for e in incident.timeline.filter(kind="note")],
    }


def document(incident: Incident, dispatches: list[Any] | None = None) -> dict[str, Any]:
    return eido.build(incident_input(incident, dispatches), issuer=settings.EIDO_ISSUER)
