"""BMKG InaTEWS tsunami warnings (``Warning Tsunami PD-1`` .. ``PD-4``), JSON and XML.

A CAP-like envelope (``identifier``, ``sender``, ``sent`` like ``2023-04-25T03:05:33WIB``, ``status``,
``msgType``) around one ``info``: the quake (``date`` ``25-04-23``, ``time`` ``03:00:57 WIB``,
``point/coordinates`` as ``"lon,lat"``, ``magnitude``, ``depth`` ``"84 Km"``, ``area``, ``eventid``),
``potential``, ``subject`` (``Warning Tsunami PD-1``), ``headline``, ``description``, ``instruction`` and
``wzarea``: the warning zones, each ``{province, district, level, date, time}`` with the level

* ``WASPADA``: expected height below 0.5 m, stay away from the beach and river banks;
* ``SIAGA``: 0.5 to 3 m, evacuate;
* ``AWAS``: above 3 m, full evacuation.

The phases: PD-1 is the first warning (quake parameters and zones, minutes after the quake), PD-2 adds
arrival estimates, PD-3 reports observed waves, PD-4 ends the warning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from siaga.formats import xmlsafe
from siaga.formats.errors import FormatError
from siaga.formats.quake import (
    Quake,
    bmkg_event_id,
    check_against,
    date_and_clock,
    iso_time,
    iso_utc,
    lat_lon_pair,
    local_time,
    number,
    text_of,
    tsunami_potential,
)

LEVELS = ("WASPADA", "SIAGA", "AWAS")  # in rising order
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS, start=1)}


class InatewsError(FormatError):
    """An InaTEWS warning that cannot be used, with the field that is wrong."""


@dataclass(frozen=True, slots=True)
class Zone:
    province: str
    district: str
    level: str  # WASPADA | SIAGA | AWAS
    time_utc: datetime | None  # the estimated arrival time, when given

    def as_json(self) -> dict[str, Any]:
        return {"province": self.province, "district": self.district, "level": self.level,
                "time_utc": iso_utc(self.time_utc) if self.time_utc else None}


@dataclass(frozen=True, slots=True)
class TsunamiWarning:
    identifier: str
    sender: str
    sent_utc: datetime
    status: str
    msg_type: str
    subject: str
    phase: int | None  # 1..4 from "PD-n"; None when the subject names none
    headline: str
    description: str
    instruction: str
    instructions: tuple[str, ...]
    zones: tuple[Zone, ...]
    quake: Quake
    bmkg_event_id: str
    problems: tuple[str, ...] = ()  # zones that had to be read in the safe direction (a person should look)

    @property
    def ended(self) -> bool:
        """PD-4: BMKG has ended the warning."""
        return self.phase == 4 or "berakhir" in self.subject.lower()

    def max_level(self) -> str | None:
        levels = [z.level for z in self.zones]
        return max(levels, key=LEVEL_RANK.__getitem__) if levels else None

    def as_json(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier, "sender": self.sender, "sent_utc": iso_utc(self.sent_utc),
            "status": self.status, "msg_type": self.msg_type, "subject": self.subject, "phase": self.phase,
            "headline": self.headline, "description": self.description, "instruction": self.instruction,
            "instructions": list(self.instructions), "zones": [z.as_json() for z in self.zones],
            "quake": self.quake.as_json(), "bmkg_event_id": self.bmkg_event_id, "ended": self.ended,
            "problems": list(self.problems),
        }


def parse(data: bytes) -> TsunamiWarning:
    head = data.lstrip()[:1]
    if head == b"{":
        return parse_json(data)
    if head == b"<":
        return parse_xml(data)
    raise InatewsError("InaTEWS: the document is neither JSON nor XML", "document")


def parse_json(data: bytes | str) -> TsunamiWarning:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InatewsError(f"InaTEWS: not valid JSON ({exc})", "document") from None
    if not isinstance(document, dict):
        raise InatewsError("InaTEWS: the document must be an object", "document")
    return from_dict(document)


def parse_xml(data: bytes) -> TsunamiWarning:
    root = xmlsafe.parse(data, "InaTEWS")
    document: dict[str, Any] = {}
    for child in root:
        name = xmlsafe.local(child.tag)
        if name == "info":
            document["info"] = _info_from_xml(child)
        elif name:
            document[name] = (child.text or "").strip()
    return from_dict(document)


def _info_from_xml(element: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"wzarea": []}
    for child in element:
        name = xmlsafe.local(child.tag)
        if name == "point":
            for grandchild in child:
                if xmlsafe.local(grandchild.tag) == "coordinates":
                    info["point"] = {"coordinates": (grandchild.text or "").strip()}
        elif name == "wzarea":
            info["wzarea"].append({xmlsafe.local(g.tag): (g.text or "").strip() for g in child
                                   if xmlsafe.local(g.tag)})
        elif name:
            info[name] = (child.text or "").strip()
    return info


def from_dict(document: dict[str, Any]) -> TsunamiWarning:
    what = "InaTEWS"
    info = document.get("info")
    if isinstance(info, list):  # CAP style allows several; BMKG sends one
        info = info[0] if info else None
    if not isinstance(info, dict):
        raise InatewsError(f"{what}: info is missing", "info")
    sent_text = text_of(document, "sent", what)
    in_local_time = re.search(r"(WIB|WITA|WIT)\s*$", sent_text, re.IGNORECASE)
    sent = local_time(sent_text, "sent", what) if in_local_time else iso_time(sent_text, "sent", what)
    point = info.get("point")
    coordinates = point.get("coordinates") if isinstance(point, dict) else None
    if not isinstance(coordinates, str) or not coordinates.strip():
        raise InatewsError(f"{what}: info.point.coordinates is missing", "info.point.coordinates")
    lat, lon = lat_lon_pair(coordinates, "info.point.coordinates", what, lon_first=True)
    notes = check_against(lat, lon, text_of(info, "latitude", what, required=False),
                          text_of(info, "longitude", what, required=False), what)
    origin = date_and_clock(text_of(info, "date", what), text_of(info, "time", what), what, "info.date", "info.time")
    magnitude = number(text_of(info, "magnitude", what), "info.magnitude", what, 0, 10)
    depth_text = text_of(info, "depth", what, required=False)
    depth = number(depth_text, "info.depth", what, 0, 1000) if depth_text else None
    potential_text = text_of(info, "potential", what, required=False)
    potential, known = tsunami_potential(potential_text)
    subject = text_of(info, "subject", what, required=False)
    phase_match = re.search(r"PD\s*-?\s*(\d)", subject, re.IGNORECASE)
    own_id = text_of(info, "eventid", what, required=False) or text_of(document, "identifier", what)
    zones, problems = _zones(info.get("wzarea"), what)
    if (zones or problems) and not potential:
        # warning zones are tsunami potential, whatever the sentence says (unreadable ones too)
        potential = True
    quake = Quake(
        source="inatews", event_id=bmkg_event_id(origin), time_utc=origin, magnitude=magnitude, depth_km=depth,
        lat=lat, lon=lon, region=text_of(info, "area", what, required=False), potential_text=potential_text,
        tsunami_potential=potential, potential_known=known,
        shakemap=text_of(info, "shakemap", what, required=False) or None, notes=notes,
    )
    instructions = tuple(text_of(info, f"instruction{n}", what, required=False) for n in (1, 2, 3))
    return TsunamiWarning(
        identifier=text_of(document, "identifier", what), sender=text_of(document, "sender", what, required=False),
        sent_utc=sent, status=text_of(document, "status", what, required=False) or "Actual",
        msg_type=text_of(document, "msgType", what, required=False) or "Alert", subject=subject,
        phase=int(phase_match.group(1)) if phase_match else None,
        headline=text_of(info, "headline", what, required=False),
        description=text_of(info, "description", what, required=False),
        instruction=text_of(info, "instruction", what, required=False),
        instructions=tuple(i for i in instructions if i), zones=zones, quake=quake, bmkg_event_id=own_id,
        problems=problems,
    )


def _zones(raw: Any, what: str) -> tuple[tuple[Zone, ...], tuple[str, ...]]:
    """The warning zones, and what was wrong with any of them. A zone is never dropped for its level: an
    unreadable level is read as AWAS (when in doubt, warn); a zone that names no place cannot be matched to
    any coast and is left out; both are reported for a person to check."""
    if raw is None or raw == "":
        return (), ()
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        return (), (f"{what}: info.wzarea must be a list of zones, not {type(raw).__name__}: no zone could be "
                    "read",)
    zones: list[Zone] = []
    problems: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for index, entry in enumerate(raw):
        where = f"{what} info.wzarea[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object; left out")
            continue
        try:
            level = text_of(entry, "level", where, required=False).upper()
            province = text_of(entry, "province", where, required=False)
            district = text_of(entry, "district", where, required=False)
        except FormatError as exc:
            problems.append(f"{exc.message}; left out")
            continue
        if level not in LEVEL_RANK:
            problems.append(f"{where}: level {level!r} is not WASPADA, SIAGA or AWAS: read as AWAS")
            level = "AWAS"
        if not province and not district:
            problems.append(f"{where}: names neither a province nor a district; left out")
            continue
        arrival = None
        try:
            date, clock = text_of(entry, "date", where, required=False), text_of(entry, "time", where,
                                                                                  required=False)
            if date and clock:
                arrival = date_and_clock(date, clock, where, "info.wzarea.date", "info.wzarea.time")
        except FormatError as exc:
            problems.append(f"{exc.message}; the arrival time is left out")
        key = (province.upper(), district.upper(), level)
        if key in seen:  # BMKG repeats zones (the Mentawai 2023 PD-1 names Nias Selatan twice)
            continue
        seen.add(key)
        zones.append(Zone(province, district, level, arrival))
    return tuple(zones), tuple(problems)
