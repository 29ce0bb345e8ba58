"""Incidents as NENA EIDO JSON documents (Emergency Incident Data Object, NENA-STA-021), both ways.

An EIDO is a set of components that point at each other with ``{"$ref": id}``: one incident component,
and call, callback, dispatch, emergency resource, agent, agency, location and notes components, each with
NENA's prologue. The document's ``$id`` is the incident tracking identifier. Validated in the tests against
NENA's published schema (NENA911/EIDO-JSON ``Schema/openapi.yaml``); :func:`read` takes a partner's
document apart. Locations are carried "by value" as PIDF-LO
XML (RFC 4119 / 5491: a GML circle for the point and its accuracy, a civic address). This module takes
plain data (no Django) and returns the document; :func:`incident_input` in the incidents app fills it.

The "CommonRegistryText" values below are Siaga112's mapping of its categories and statuses to the
English terms of NENA's registries, chosen by hand; the internal code and Indonesian name are always
sent beside them, so a receiver can rely on those.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


EXTENSION_ID = "urn:siaga112:eido:extension:1"  # declared in eidoExtensionId; its members are named "siaga112:..."
EXT = "siaga112:"
AGENCY_TYPES = {"damkar": "fire", "polres": "law", "psc119": "ems", "bpbd": "emergencyManagement",
                "satpolpp": "law", "dishub": "transportation", "pln": "utility"}
RESOURCE_TYPES = {"fire": "Fire", "law": "Law Enforcement", "ems": "EMS", "emergencyManagement": "Emergency Management",
                  "transportation": "Public Works", "utility": "Utility"}
UNIT_STATUSES = {
    "requested": "Dispatched", "acknowledged": "Acknowledged", "en_route": "Enroute", "on_scene": "On Scene",
    "completed": "Available", "declined": "Declined", "cancelled": "Cancelled",
}


def tracking_identifier(ticket: str, issuer: str) -> str:
    """NENA's incident tracking identifier (urn:emergency:uid:incidentid:<id>:<domain>): the document's $id."""
    return f"urn:emergency:uid:incidentid:{ticket}:{issuer}"


def build(incident: Mapping[str, Any], issuer: str) -> dict[str, Any]:
    """The EIDO document of one incident, as NENA's schema (NENA-STA-021, openapi.yaml) defines it.

    ``incident`` holds: ticket, id, category (code), category_name, priority, priority_label, status,
    created_at, updated_at (ISO 8601), description, lat, lon, accuracy_m, address, kelurahan, kecamatan,
    postcode, province, city, country, reporter_name, callback, optionally ``tracking_id`` (an incident a
    partner handed over keeps the partner's) and ``agency_name`` (this call centre), and lists
    ``dispatches`` (id, agency, agency_name, unit, status, reason, times), ``calls`` (id, caller,
    offered_at, answered_at, ended_at) and ``notes`` (id, at, actor, text, agency: the partner that wrote
    it). Every component carries NENA's prologue (``$id``, ``lastUpdateTimeStamp``,
    ``updatedByAgencyReference``); what NENA has no member for (step times, the creation time, kecamatan)
    is under Siaga112's extension, declared in ``eidoExtensionId``, in members named ``siaga112:...``.
    """
    ticket = str(incident["ticket"])
    updated = str(incident.get("updated_at") or incident["created_at"])
    tracking = str(incident.get("tracking_id") or tracking_identifier(ticket, issuer))

    def cid(kind: str, local: object) -> str:
        return f"urn:siaga112:{issuer}:{kind}:{local}"

    us = issuer
    prologue = {"lastUpdateTimeStamp": updated, "updatedByAgencyReference": _ref(us)}
    agencies: dict[str, dict[str, Any]] = {us: {
        "$id": us, **prologue, "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatch"],
        "agencyType": ["psap"], "incidentOwningAgencyIndicator": True,
        f"{EXT}name": incident.get("agency_name") or issuer}}
    agents: list[dict[str, Any]] = []
    resources: list[dict[str, Any]] = []
    dispatches: list[dict[str, Any]] = []
    for d in incident.get("dispatches", ()):
        code = str(d["agency"])
        agency_id = f"{code}.{issuer}"
        kind = AGENCY_TYPES.get(code, "other")
        agencies.setdefault(agency_id, {
            "$id": agency_id, **prologue, "agencyRoleDescriptionRegistryText": ["Responding"],
            "agencyType": [kind], f"{EXT}code": code, f"{EXT}name": d.get("agency_name") or code})
        times = {k: d.get(f"{k}_at") for k in ("requested", "acknowledged", "en_route", "on_scene", "completed",
                                                "declined", "cancelled") if d.get(f"{k}_at")}
        changed = max(times.values()) if times else updated
        by_agency = d["status"] not in ("requested", "cancelled")  # the agency reported the last step
        step = {"lastUpdateTimeStamp": changed, "updatedByAgencyReference": _ref(agency_id if by_agency else us)}
        agent_id, resource_id = cid("crew", d["id"]), cid("resource", d["id"])
        agents.append({"$id": agent_id, **step, "agencyReference": _ref(agency_id),
                       "agentRoleRegistryText": ["Responder"]})
        resource: dict[str, Any] = {
            "$id": resource_id, **step, "agentReference": [_ref(agent_id)],
            "emergencyResourceTypeCommonRegistryText": RESOURCE_TYPES.get(kind, "Other"),
            "emergencyResourceTypeInternalText": code,
            "emergencyResourceName": d.get("unit") or d.get("agency_name") or code,
            "resourceAttributeRegistryText": [], "secondaryUnitStatusRegistryText": [],
            "primaryUnitStatusRegistryText": UNIT_STATUSES.get(str(d["status"]), "Other"),
            "unitStatusInternal": [d["status"]], f"{EXT}steps": times}
        if d.get("reason"):
            resource[f"{EXT}reason"] = d["reason"]
        resources.append(resource)
        dispatches.append({"$id": cid("dispatch", d["id"]), **step, "agencyReference": _ref(agency_id),
                           "emergencyResourceReference": [_ref(resource_id)]})
    callbacks: list[dict[str, Any]] = []
    calls = []
    for c in incident.get("calls", ()):
        call: dict[str, Any] = {
            "$id": cid("call", c["id"]), **prologue, "callStartTimestamp": c.get("offered_at") or updated,
            "callStateRegistryText": "callTerminated" if c.get("ended_at") else (
                "callAnswered" if c.get("answered_at") else "callQueued"),
            "direction": "incoming", "standardPrimaryCallType": "emergency", "agencyReference": [_ref(us)]}
        if c.get("answered_at"):
            call["answerDate"] = c["answered_at"]
        if c.get("ended_at"):
            call[f"{EXT}callEndTimestamp"] = c["ended_at"]
        if c.get("caller"):
            callback_id = cid("callback", c["id"])
            callbacks.append({"$id": callback_id, **prologue, "callBackInformationUri": [f"tel:{c['caller']}"]})
            call["callBackReference"] = _ref(callback_id)
        calls.append(call)
    notes = []
    if incident.get("description"):
        notes.append({"$id": cid("note", f"{ticket}-description"), **prologue,
                      "notesActionComments": incident["description"], f"{EXT}kind": "description"})
    if incident.get("reporter_name") or incident.get("callback"):
        said = " ".join(str(v) for v in (incident.get("reporter_name"), incident.get("callback")) if v)
        notes.append({"$id": cid("note", f"{ticket}-reporter"), **prologue, "notesActionComments": f"Pelapor: {said}",
                      f"{EXT}kind": "reporter"})
    for n in incident.get("notes", ()):
        author = str(n.get("agency") or us)
        if author != us:
            agencies.setdefault(author, {"$id": author, "lastUpdateTimeStamp": n["at"],
                                         "updatedByAgencyReference": _ref(author),
                                         "agencyRoleDescriptionRegistryText": ["Coordinating"],
                                         "agencyType": ["other"]})
        note: dict[str, Any] = {"$id": str(n.get("eido_id") or cid("note", n["id"])), "lastUpdateTimeStamp": n["at"],
                                "updatedByAgencyReference": _ref(author), "notesActionComments": n["text"]}
        if n.get("actor"):
            note[f"{EXT}author"] = n["actor"]
        notes.append(note)
    civic = {"country": incident.get("country", "ID"), "A1": incident.get("province"), "A2": incident.get("city"),
             "A3": incident.get("kecamatan"), "A4": incident.get("kelurahan"), "PC": incident.get("postcode"),
             "LOC": incident.get("address")}
    location: dict[str, Any] = {
        "$id": cid("location", ticket), **prologue, "locationTypeDescriptionRegistryText": "Incident",
        "locationByValue": pidf_lo(f"pres:{ticket}@{issuer}", incident.get("lat"), incident.get("lon"),
                                   incident.get("accuracy_m"), civic, updated)}
    if incident.get("address"):
        location["locationDescriptionText"] = incident["address"]
    incident_component: dict[str, Any] = {
        "$id": cid("incident", ticket), **prologue,
        "incidentTypeCommonRegistryText": INCIDENT_TYPES.get(str(incident["category"]), "Other"),
        "incidentTypeInternalCode": incident["category"], "incidentTypeInternalText": incident.get("category_name"),
        "incidentStatusCommonRegistryText": [INCIDENT_STATUSES.get(str(incident["status"]), "Other")],
        "incidentStatusInternalText": [incident["status"]],
        "internalIncidentId": ticket,
        "locationReference": [_ref(location["$id"])],
        "notesReference": [_ref(n["$id"]) for n in notes],
        f"{EXT}createdAt": incident["created_at"],
    }
    if incident.get("priority") is not None:
        incident_component["incidentCommonPriorityNumber"] = int(incident["priority"])
        incident_component["incidentPriorityInternalText"] = incident.get("priority_label") or str(incident["priority"])
    for key in ("kelurahan", "kecamatan"):
        if incident.get(key):
            incident_component[f"{EXT}{key}"] = incident[key]
    document: dict[str, Any] = {
        "$id": tracking, **prologue, "eidoVersion": EIDO_VERSION, "eidoExtensionId": [EXTENSION_ID],
        "issuingElementIdentification": issuer, "incidentComponent": incident_component,
        "agencyComponent": list(agencies.values()), "locationComponent": [location],
    }
    for name, rows in (("callComponent", calls), ("callbackComponent", callbacks),
                       ("dispatchComponent", dispatches), ("emergencyResourceComponent", resources),
                       ("agentComponent", agents), ("notesComponent", notes)):
        if rows:
            document[name] = rows
    return document


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


# --------------------------------------------------------------------------------------------------------
# reading a partner's document
# --------------------------------------------------------------------------------------------------------

class EidoError(ValueError):
    """A document that cannot be taken, with the path of what is wrong (``$.incidentComponent.$id``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class ReceivedNote:
    id: str
    at: str
    text: str
    agency: str


@dataclass(frozen=True)
class ReceivedDispatch:
    id: str
    agency: str  # the agency component's $id
    agency_code: str  # Siaga112's code when the sender is a Siaga112 ("siaga112:code"), else ""
    agency_name: str
    status: str  # Siaga112's status when known (unitStatusInternal), else NENA's primary unit status
    unit: str


@dataclass
class Received:
    tracking_id: str
    issuer: str
    updated_by: str
    updated_at: str
    type_code: str
    type_text: str
    status: str
    priority: int | None
    description: str
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    address: str
    notes: list[ReceivedNote] = field(default_factory=list)
    dispatches: list[ReceivedDispatch] = field(default_factory=list)
    agencies: dict[str, str] = field(default_factory=dict)  # $id -> a name for it


def _text(value: Any, path: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise EidoError(path, "a non-empty string is required" if required else "must be a string")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise EidoError(path, "must be an array")
    return value


def _position(pidf: str, path: str) -> tuple[float | None, float | None, float | None, str]:
    """(lat, lon, radius in m, civic LOC) of a PIDF-LO document (any of them may be missing)."""
    from siaga.formats import xmlsafe
    from siaga.formats.errors import FormatError

    try:
        root = xmlsafe.parse(pidf.encode(), "PIDF-LO")
    except FormatError as exc:
        raise EidoError(path, exc.message) from None
    lat = lon = radius = None
    pos = root.find(f".//{{{NS['gml']}}}pos")
    if pos is not None and pos.text:
        parts = pos.text.split()
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise EidoError(path, f"gml:pos {pos.text!r} is not 'lat lon'") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise EidoError(path, f"gml:pos {pos.text!r} is not a position on Earth")
    found = root.find(f".//{{{NS['gs']}}}radius")
    if found is not None and found.text:
        try:
            radius = float(found.text)
        except ValueError:
            raise EidoError(path, f"radius {found.text!r} is not a number") from None
    loc = root.find(f".//{{{NS['ca']}}}LOC")
    return lat, lon, radius, (loc.text or "") if loc is not None else ""


def read(document: Any) -> Received:
    """What a partner's EIDO says of its incident; EidoError with the path when it cannot be taken."""
    if not isinstance(document, Mapping):
        raise EidoError("$", "an EIDO document is a JSON object")
    tracking = _text(document.get("$id"), "$.$id", required=True)
    if document.get("eidoVersion") != EIDO_VERSION:
        raise EidoError("$.eidoVersion", f"{document.get('eidoVersion')!r} is not {EIDO_VERSION!r}")
    incident = document.get("incidentComponent")
    if not isinstance(incident, Mapping):
        raise EidoError("$.incidentComponent", "an incident component is required to create or update an incident")
    components: dict[str, Mapping[str, Any]] = {}
    for name, value in document.items():
        if name.endswith("Component") and name != "incidentComponent":
            for index, item in enumerate(_list(value, f"$.{name}")):
                if not isinstance(item, Mapping):
                    raise EidoError(f"$.{name}[{index}]", "must be an object")
                components[_text(item.get("$id"), f"$.{name}[{index}].$id", required=True)] = item
    ids, refs = references(document)
    missing = sorted(refs - ids)
    if missing:
        raise EidoError("$", f"refers to {missing[0]!r}, which the document does not contain")
    agencies = {key: str(c.get(f"{EXT}name") or key) for key, c in components.items()
                if key in {a.get("$id") for a in _list(document.get("agencyComponent"), "$.agencyComponent")}}
    priority = incident.get("incidentCommonPriorityNumber")
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool) or
                                 not 1 <= priority <= 9):
        raise EidoError("$.incidentComponent.incidentCommonPriorityNumber", f"{priority!r} is not a priority 1-9")
    lat = lon = accuracy = None
    address = ""
    for index, ref in enumerate(_list(incident.get("locationReference"), "$.incidentComponent.locationReference")):
        location = components.get(ref.get("$ref", "") if isinstance(ref, Mapping) else "")
        if location is None or not location.get("locationByValue"):
            continue
        lat, lon, accuracy, civic = _position(_text(location["locationByValue"], "locationByValue"),
                                              f"$.locationComponent[{index}].locationByValue")
        address = _text(location.get("locationDescriptionText"), "locationDescriptionText") or civic
        break
    description, notes = "", list[ReceivedNote]()
    for index, ref in enumerate(_list(incident.get("notesReference"), "$.incidentComponent.notesReference")):
        note = components.get(ref.get("$ref", "") if isinstance(ref, Mapping) else "")
        if note is None:
            continue
        text = _text(note.get("notesActionComments"), f"$.notesComponent[{index}].notesActionComments")
        kind = note.get(f"{EXT}kind")  # a Siaga112 sender marks the description and the reporter's note
        if kind == "description":
            description = text
        elif kind != "reporter":
            by = note.get("updatedByAgencyReference")
            notes.append(ReceivedNote(str(note["$id"]), _text(note.get("lastUpdateTimeStamp"), "lastUpdateTimeStamp"),
                                      text, str(by.get("$ref", "")) if isinstance(by, Mapping) else ""))
    dispatches = []
    for index, dispatch in enumerate(_list(document.get("dispatchComponent"), "$.dispatchComponent")):
        agency = dispatch.get("agencyReference")
        agency_id = str(agency.get("$ref", "")) if isinstance(agency, Mapping) else ""
        resource = next((components[r["$ref"]] for r in _list(dispatch.get("emergencyResourceReference"),
                                                               f"$.dispatchComponent[{index}]")
                         if isinstance(r, Mapping) and r.get("$ref") in components), {})
        internal = _list(resource.get("unitStatusInternal"), "unitStatusInternal")
        dispatches.append(ReceivedDispatch(
            str(dispatch["$id"]), agency_id, str(components.get(agency_id, {}).get(f"{EXT}code") or ""),
            agencies.get(agency_id, agency_id), str(internal[0] if internal else
                                                    resource.get("primaryUnitStatusRegistryText") or ""),
            str(resource.get("emergencyResourceName") or "")))
    updated_by = document.get("updatedByAgencyReference")
    statuses = _list(incident.get("incidentStatusInternalText"), "$.incidentComponent.incidentStatusInternalText")
    common = _list(incident.get("incidentStatusCommonRegistryText"),
                   "$.incidentComponent.incidentStatusCommonRegistryText")
    return Received(
        tracking_id=tracking, issuer=_text(document.get("issuingElementIdentification"),
                                           "$.issuingElementIdentification", required=True),
        updated_by=str(updated_by.get("$ref", "")) if isinstance(updated_by, Mapping) else "",
        updated_at=_text(document.get("lastUpdateTimeStamp"), "$.lastUpdateTimeStamp", required=True),
        type_code=_text(incident.get("incidentTypeInternalCode"), "$.incidentComponent.incidentTypeInternalCode"),
        type_text=_text(incident.get("incidentTypeCommonRegistryText"),
                        "$.incidentComponent.incidentTypeCommonRegistryText", required=True),
        status=str(statuses[0] if statuses else (common[0] if common else "")), priority=priority,
        description=description, lat=lat, lon=lon, accuracy_m=accuracy, address=address, notes=notes,
        dispatches=dispatches, agencies=agencies)
