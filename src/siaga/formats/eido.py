"""Incidents as NENA EIDO-style JSON documents (Emergency Incident Data Object, NENA-STA-021).

An EIDO is a set of components that point at each other with ``{"$ref": id}``: one incident component,
and call, dispatch, agency, location and notes components. Locations are carried "by value" as PIDF-LO
XML (RFC 4119 / 5491: a GML circle for the point and its accuracy, a civic address). This module takes
plain data (no Django) and returns the document; :func:`incident_input` in the incidents app fills it.

The "CommonRegistryText" values below are Siaga112's mapping of its categories and statuses to the
English terms of NENA's registries, chosen by hand; the internal code and Indonesian name are always
sent beside them, so a receiver can rely on those.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

EIDO_VERSION = "1.0"

INCIDENT_TYPES = {
    "kebakaran": "Fire", "kecelakaan-lalu-lintas": "Traffic Collision", "kegawatdaruratan-medis": "Medical",
    "kriminalitas": "Law Enforcement", "gempa-bumi": "Earthquake", "tsunami": "Tsunami", "banjir": "Flood",
    "tanah-longsor": "Landslide", "pohon-tumbang": "Public Service", "tiang-kabel-roboh": "Utility",
    "kebocoran-gas-kimia": "Hazardous Materials", "orang-tenggelam-sar": "Water Rescue",
    "binatang-berbahaya": "Animal", "odgj-pmks": "Mental Health", "konflik-sosial": "Civil Disturbance",
    "penemuan-jenazah": "Death Investigation", "gangguan-listrik": "Utility", "gangguan-air-bersih": "Utility",
}
INCIDENT_STATUSES = {
    "new": "Received", "verified": "Verified", "dispatched": "Dispatched", "on_scene": "On Scene",
    "resolved": "Resolved", "closed": "Closed", "cancelled": "Cancelled", "duplicate": "Duplicate",
}
DISPATCH_STATUSES = {
    "requested": "Requested", "acknowledged": "Acknowledged", "en_route": "Enroute", "on_scene": "On Scene",
    "completed": "Completed", "declined": "Declined", "cancelled": "Cancelled",
}

NS = {
    "": "urn:ietf:params:xml:ns:pidf",
    "gp": "urn:ietf:params:xml:ns:pidf:geopriv10",
    "gml": "http://www.opengis.net/gml",
    "gs": "http://www.opengis.net/pidflo/1.0",
    "ca": "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr",
}


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}"


def pidf_lo(entity: str, lat: float | None, lon: float | None, radius_m: float | None,
            civic: Mapping[str, str | None], timestamp: str) -> str:
    """A PIDF-LO document: a GML circle (or point) and a civic address."""
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    presence = ET.Element(_q("", "presence"), {"entity": entity})
    tuple_ = ET.SubElement(presence, _q("", "tuple"), {"id": "location"})
    status = ET.SubElement(tuple_, _q("", "status"))
    geopriv = ET.SubElement(status, _q("gp", "geopriv"))
    info = ET.SubElement(geopriv, _q("gp", "location-info"))
    if lat is not None and lon is not None:
        if radius_m:
            shape = ET.SubElement(info, _q("gs", "Circle"), {"srsName": "urn:ogc:def:crs:EPSG::4326"})
            ET.SubElement(shape, _q("gml", "pos")).text = f"{lat:.6f} {lon:.6f}"
            ET.SubElement(shape, _q("gs", "radius"), {"uom": "urn:ogc:def:uom:EPSG::9001"}).text = f"{radius_m:g}"
        else:
            point = ET.SubElement(info, _q("gml", "Point"), {"srsName": "urn:ogc:def:crs:EPSG::4326"})
            ET.SubElement(point, _q("gml", "pos")).text = f"{lat:.6f} {lon:.6f}"
    address = ET.SubElement(info, _q("ca", "civicAddress"))
    for tag in ("country", "A1", "A2", "A3", "A4", "PC", "LOC"):
        value = civic.get(tag)
        if value:
            ET.SubElement(address, _q("ca", tag)).text = value
    ET.SubElement(geopriv, _q("gp", "usage-rules"))
    ET.SubElement(tuple_, _q("", "timestamp")).text = timestamp
    return ET.tostring(presence, encoding="unicode")


def _ref(identifier: str) -> dict[str, str]:
    return {"$ref": identifier}


def build(incident: Mapping[str, Any], issuer: str) -> dict[str, Any]:
    """The EIDO-style document of one incident.

    ``incident`` holds: ticket, id, category (code), category_name, priority, priority_label, status,
    created_at, updated_at (ISO 8601), description, lat, lon, accuracy_m, address, kelurahan, kecamatan,
    postcode, province, city, country, and lists ``dispatches`` (id, agency, agency_name, unit, status,
    times), ``calls`` (id, caller, offered_at, answered_at, ended_at, operator) and ``notes`` (at, actor, text).
    """
    ticket = str(incident["ticket"])
    updated = str(incident.get("updated_at") or incident["created_at"])
    inc_id, loc_id = f"inc-{ticket}", f"loc-{ticket}"
    agencies: dict[str, dict[str, Any]] = {}
    dispatches: list[dict[str, Any]] = []
    for d in incident.get("dispatches", ()):
        agency_id = f"agency-{d['agency']}"
        agencies.setdefault(agency_id, {"$id": agency_id, "agencyIdentifier": f"urn:siaga112:agency:{d['agency']}",
                                        "agencyName": d.get("agency_name") or d["agency"]})
        dispatches.append({
            "$id": f"dispatch-{d['id']}",
            "dispatchStatusCommonRegistryText": DISPATCH_STATUSES.get(d["status"], d["status"]),
            "dispatchStatusInternalText": d["status"], "dispatchUnitText": d.get("unit") or None,
            "agencyReference": _ref(agency_id), "incidentReference": _ref(inc_id),
            "dispatchRequestedTimeStamp": d.get("requested_at"),
            "dispatchAcknowledgedTimeStamp": d.get("acknowledged_at"),
            "dispatchEnrouteTimeStamp": d.get("en_route_at"), "dispatchOnSceneTimeStamp": d.get("on_scene_at"),
            "dispatchCompletedTimeStamp": d.get("completed_at"), "dispatchDeclinedTimeStamp": d.get("declined_at"),
            "dispatchCancelledTimeStamp": d.get("cancelled_at"), "dispatchReasonText": d.get("reason") or None,
        })
    calls = [{
        "$id": f"call-{c['id']}", "callStateRegistryText": "Completed" if c.get("ended_at") else "Active",
        "standardPrimaryCallType": "Emergency", "direction": "incoming", "callStartTimestamp": c.get("offered_at"),
        "answerDate": c.get("answered_at"), "callEndTimestamp": c.get("ended_at"),
        "callbackNumber": c.get("caller"), "incidentReference": _ref(inc_id),
    } for c in incident.get("calls", ())]
    notes = [{"$id": f"note-{ticket}-{i}", "notesTimeStamp": n["at"], "notesActionComments": n["text"],
              "authorText": n.get("actor")} for i, n in enumerate(incident.get("notes", ()), start=1)]
    civic = {"country": incident.get("country", "ID"), "A1": incident.get("province"), "A2": incident.get("city"),
             "A3": incident.get("kecamatan"), "A4": incident.get("kelurahan"), "PC": incident.get("postcode"),
             "LOC": incident.get("address")}
    location = {
        "$id": loc_id, "locationTypeDescriptionRegistryText": "Incident",
        "locationByValue": pidf_lo(f"pres:{ticket}@{issuer}", incident.get("lat"), incident.get("lon"),
                                   incident.get("accuracy_m"), civic, updated),
        "latitude": incident.get("lat"), "longitude": incident.get("lon"),
    }
    return {
        "$id": f"urn:siaga112:eido:{ticket}:{updated}",
        "eidoVersion": EIDO_VERSION,
        "lastUpdateTimeStamp": updated,
        "issuingElementIdentification": issuer,
        "incidentComponent": {
            "$id": inc_id, "incidentTrackingIdentifier": ticket, "internalIncidentId": str(incident["id"]),
            "incidentTypeCommonRegistryText": INCIDENT_TYPES.get(str(incident["category"]), "Other"),
            "incidentTypeInternalCode": incident["category"], "incidentTypeInternalText": incident.get("category_name"),
            "incidentStatusCommonRegistryText": [INCIDENT_STATUSES.get(str(incident["status"]), "Other")],
            "incidentStatusInternalText": [incident["status"]],
            "incidentCommonPriorityNumber": incident.get("priority"),
            "incidentPriorityInternalText": incident.get("priority_label"),
            "incidentCreationTimeStamp": incident["created_at"],
            "incidentDescriptionText": incident.get("description") or None,
            "locationReference": [_ref(loc_id)],
            "callReference": [_ref(c["$id"]) for c in calls],
            "dispatchReference": [_ref(d["$id"]) for d in dispatches],
            "notesReference": [_ref(n["$id"]) for n in notes],
        },
        "callComponent": calls,
        "dispatchComponent": dispatches,
        "agencyComponent": list(agencies.values()),
        "locationComponent": [location],
        "notesComponent": notes,
    }


def references(document: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """Every ``$id`` and every ``$ref`` in a document (a consistent document refers only to its own ids)."""
    ids: set[str] = set()
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "$id" and isinstance(value, str):
                    ids.add(value)
                elif key == "$ref" and isinstance(value, str):
                    refs.add(value)
                else:
                    walk(value)
        elif isinstance(node, Sequence) and not isinstance(node, str):
            for item in node:
                walk(item)

    walk(document)
    return ids, refs
