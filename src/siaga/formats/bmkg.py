"""BMKG's open earthquake data: ``autogempa``, ``gempaterkini`` and ``gempadirasakan``, JSON and XML.

Published at ``https://data.bmkg.go.id/DataMKG/TEWS/<name>.json`` and ``.xml``. Both wrap the records in
``Infogempa`` / ``gempa``: one object in ``autogempa`` (the latest quake), a list of up to 15 in the others
(M 5.0+ for ``gempaterkini``, felt quakes for ``gempadirasakan``). A record has ``Tanggal`` and ``Jam``
(local date and time, e.g. ``"05 Okt 2021"``, ``"18:00:27 WIB"``), ``DateTime`` (ISO 8601 in UTC, the
one used here), ``Coordinates`` (``"lat,lon"``; in the XML ``point/coordinates``), ``Lintang`` / ``Bujur``
(``"8.15 LS"`` / ``"118.10 BT"``), ``Magnitude``, ``Kedalaman`` (``"20 km"``), ``Wilayah``, ``Potensi``
(absent in gempadirasakan), ``Dirasakan`` (MMI by place) and ``Shakemap`` (an image file name).

The records carry no event id; :func:`siaga.formats.quake.bmkg_event_id` makes one from the origin time.

:func:`parse_each` reads every record on its own: one malformed record (a bad magnitude, a missing time) is
reported with its index and field and the others are still read, because the next record in the list may
be a tsunami. :func:`parse` is the strict form (the first bad record is an error).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from siaga.formats import xmlsafe
from siaga.formats.errors import FormatError
from siaga.formats.quake import (
    WIB,
    Quake,
    bmkg_event_id,
    check_against,
    date_and_clock,
    felt_list,
    hemisphere,
    iso_time,
    lat_lon_pair,
    number,
    text_of,
    tsunami_potential,
)

FEEDS = ("autogempa", "gempaterkini", "gempadirasakan")


class BmkgError(FormatError):
    """A BMKG record that cannot be used, with the field that is wrong."""


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record of a feed document that could not be used: which one, which field, and why."""

    index: int
    field: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


def parse(data: bytes, source: str = "bmkg") -> list[Quake]:
    """The quakes in a BMKG feed document, JSON or XML (told apart by the first character); the first bad
    record is an error."""
    quakes, bad = parse_each(data, source)
    if bad:
        raise BmkgError(bad[0].message, bad[0].field)
    return quakes


def parse_each(data: bytes, source: str = "bmkg") -> tuple[list[Quake], list[BadRecord]]:
    """The quakes of the records that are good, and what is wrong with the others. A document that is not a
    BMKG feed at all (not JSON or XML, no Infogempa, JSON without gempa) is still an error; an XML
    Infogempa without gempa is an empty feed, as the JSON's ``"gempa": []``."""
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        records = _json_records(data, source)
    elif head == b"<":
        records = _xml_records(data, source)
    else:
        raise BmkgError(f"{source}: the document is neither JSON nor XML", "document")
    quakes: list[Quake] = []
    bad: list[BadRecord] = []
    for index, record in enumerate(records):
        try:
            quakes.append(record_to_quake(record, source, index))
        except FormatError as exc:
            bad.append(BadRecord(index, exc.field or "gempa", exc.message))
    return quakes, bad


def parse_json(data: bytes | str, source: str = "bmkg") -> list[Quake]:
    return [record_to_quake(r, source, i) for i, r in enumerate(_json_records(data, source))]


def parse_xml(data: bytes, source: str = "bmkg") -> list[Quake]:
    return [record_to_quake(r, source, i) for i, r in enumerate(_xml_records(data, source))]


def _json_records(data: bytes | str, source: str) -> list[Any]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BmkgError(f"{source}: not valid JSON ({exc})", "document") from None
    if not isinstance(document, dict) or not isinstance(document.get("Infogempa"), dict):
        raise BmkgError(f"{source}: the document has no Infogempa object", "Infogempa")
    records = document["Infogempa"].get("gempa")
    if records is None:  # JSON says an empty feed with "gempa": []; no key at all is another format
        raise BmkgError(f"{source}: Infogempa has no gempa", "gempa")
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise BmkgError(f"{source}: gempa must be an object or a list", "gempa")
    return records


def _xml_records(data: bytes, source: str) -> list[dict[str, Any]]:
    root = xmlsafe.parse(data, source)
    if xmlsafe.local(root.tag) != "Infogempa":
        raise BmkgError(f"{source}: the root element is {xmlsafe.local(root.tag)!r}, not Infogempa", "Infogempa")
    records = []
    for element in root:
        if xmlsafe.local(element.tag) != "gempa":
            continue
        record: dict[str, Any] = {}
        for child in element:
            name = xmlsafe.local(child.tag)
            if name == "point":
                for grandchild in child:
                    if xmlsafe.local(grandchild.tag) == "coordinates":
                        record["Coordinates"] = (grandchild.text or "").strip()
            elif name:
                record[name] = (child.text or "").strip()
        records.append(record)
    return records  # none: an empty feed, read as the JSON's "gempa": [] is


def record_to_quake(record: Any, source: str, index: int = 0) -> Quake:
    what = f"{source} gempa[{index}]"
    if not isinstance(record, dict):
        raise BmkgError(f"{what}: must be an object", "gempa")
    if record.get("DateTime"):
        when = iso_time(text_of(record, "DateTime", what), "DateTime", what)
    else:
        when = date_and_clock(text_of(record, "Tanggal", what), text_of(record, "Jam", what), what, "Tanggal", "Jam")
    coordinates = text_of(record, "Coordinates", what, required=False)
    lintang = text_of(record, "Lintang", what, required=False)
    bujur = text_of(record, "Bujur", what, required=False)
    notes: tuple[str, ...] = ()
    if coordinates:
        lat, lon = lat_lon_pair(coordinates, "Coordinates", what)
        notes = check_against(lat, lon, lintang, bujur, what)
    elif lintang and bujur:
        lat, lon = hemisphere(lintang, "Lintang", what), hemisphere(bujur, "Bujur", what)
    else:
        raise BmkgError(f"{what}: Coordinates is missing", "Coordinates")
    magnitude = number(text_of(record, "Magnitude", what), "Magnitude", what, 0, 10)
    depth_text = text_of(record, "Kedalaman", what, required=False)
    depth = number(depth_text, "Kedalaman", what, 0, 1000) if depth_text else None
    potential_text = text_of(record, "Potensi", what, required=False)
    potential, known = tsunami_potential(potential_text)
    felt_text = text_of(record, "Dirasakan", what, required=False)
    shakemap = text_of(record, "Shakemap", what, required=False) or None
    return Quake(
        source=source, event_id=bmkg_event_id(when), time_utc=when, magnitude=magnitude, depth_km=depth,
        lat=lat, lon=lon, region=text_of(record, "Wilayah", what, required=False), potential_text=potential_text,
        tsunami_potential=potential, potential_known=known, felt=felt_list(felt_text), felt_text=felt_text,
        shakemap=shakemap, notes=notes,
    )


def to_xml(quakes: list[Quake]) -> bytes:
    """The XML form of a BMKG feed, as data.bmkg.go.id serves it; used by the local replay server."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<Infogempa>"]
    for quake in quakes:
        local = quake.time_utc.astimezone(WIB)
        fields = [
            ("Tanggal", f"{local.day:02d} {_MONTH_NAMES[local.month - 1]} {local.year}"),
            ("Jam", local.strftime("%H:%M:%S") + " WIB"),
            ("DateTime", quake.time_utc.isoformat()),
        ]
        lines.append("<gempa>")
        lines.extend(f"<{name}>{escape(value)}</{name}>" for name, value in fields)
        lines.append(f"<point><coordinates>{quake.lat:.2f},{quake.lon:.2f}</coordinates></point>")
        rest = [
            ("Lintang", f"{abs(quake.lat):.2f} {'LS' if quake.lat < 0 else 'LU'}"),
            ("Bujur", f"{abs(quake.lon):.2f} {'BB' if quake.lon < 0 else 'BT'}"),
            ("Magnitude", f"{quake.magnitude:.1f}"),
            ("Kedalaman", f"{quake.depth_km:g} km" if quake.depth_km is not None else ""),
            ("Wilayah", quake.region),
            ("Potensi", quake.potential_text),
            ("Dirasakan", quake.felt_text),
            ("Shakemap", quake.shakemap or ""),
        ]
        lines.extend(f"<{name}>{escape(value)}</{name}>" for name, value in rest if value)
        lines.append("</gempa>")
    lines.append("</Infogempa>")
    return ("\n".join(lines) + "\n").encode()


def to_json(quakes: list[Quake], *, single: bool = False) -> bytes:
    """The JSON form of a BMKG feed (``single`` for autogempa's one object)."""
    records = []
    for quake in quakes:
        local = quake.time_utc.astimezone(WIB)
        record = {
            "Tanggal": f"{local.day:02d} {_MONTH_NAMES[local.month - 1]} {local.year}",
            "Jam": local.strftime("%H:%M:%S") + " WIB",
            "DateTime": quake.time_utc.isoformat(),
            "Coordinates": f"{quake.lat:.2f},{quake.lon:.2f}",
            "Lintang": f"{abs(quake.lat):.2f} {'LS' if quake.lat < 0 else 'LU'}",
            "Bujur": f"{abs(quake.lon):.2f} {'BB' if quake.lon < 0 else 'BT'}",
            "Magnitude": f"{quake.magnitude:.1f}",
            "Kedalaman": f"{quake.depth_km:g} km" if quake.depth_km is not None else "",
            "Wilayah": quake.region,
        }
        if quake.potential_text:
            record["Potensi"] = quake.potential_text
        if quake.felt_text:
            record["Dirasakan"] = quake.felt_text
        if quake.shakemap:
            record["Shakemap"] = quake.shakemap
        records.append(record)
    body: Any = records[0] if single and records else records
    return json.dumps({"Infogempa": {"gempa": body}}, ensure_ascii=False).encode()


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
