"""Any hazard feed document -> the quakes in it, told apart by content, not by file name.

BMKG open data (``Infogempa``, JSON or XML), InaTEWS warnings (an ``info`` with ``wzarea``, JSON or XML)
and USGS GeoJSON. Each reading is a quake with, for InaTEWS, the warning that came with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from siaga.formats import bmkg, inatews, usgs, xmlsafe
from siaga.formats.bmkg import BadRecord
from siaga.formats.errors import FormatError
from siaga.formats.inatews import TsunamiWarning
from siaga.formats.quake import Quake, same_event


@dataclass(frozen=True, slots=True)
class Reading:
    quake: Quake
    warning: TsunamiWarning | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """The readings of one document, and the records of it that could not be used (BMKG lists)."""

    readings: list[Reading]
    bad: list[BadRecord]


def kind_of(data: bytes) -> str:
    """``bmkg``, ``inatews`` or ``usgs``; :class:`FormatError` when it is none of them."""
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise FormatError(f"not valid JSON ({exc})", "document") from None
        if isinstance(document, dict):
            if "Infogempa" in document:
                return "bmkg"
            if "info" in document and ("identifier" in document or "sent" in document):
                return "inatews"
            if document.get("type") in ("FeatureCollection", "Feature"):
                return "usgs"
        raise FormatError("JSON that is neither BMKG (Infogempa), InaTEWS (info) nor USGS GeoJSON", "document")
    if head == b"<":
        root = xmlsafe.parse(data, "feed")
        name = xmlsafe.local(root.tag)
        if name == "Infogempa":
            return "bmkg"
        if name == "alert" and xmlsafe.namespace(root.tag).startswith("urn:oasis:names:tc:emergency:cap"):
            raise FormatError("this is a CAP message, not a BMKG feed (use siaga cap)", "document")
        if any(xmlsafe.local(child.tag) == "info" for child in root):
            return "inatews"
        raise FormatError(f"XML with root {name!r} is neither BMKG (Infogempa) nor InaTEWS", "document")
    raise FormatError("the document is neither JSON nor XML", "document")


def read(data: bytes, source: str | None = None) -> list[Reading]:
    """The readings of one document; ``source`` names the BMKG feed (autogempa, ...) when known. Strict: a bad
    record is an error (:func:`read_each` keeps the good ones)."""
    document = read_each(data, source)
    if document.bad:
        raise FormatError(document.bad[0].message, document.bad[0].field)
    return document.readings


def read_each(data: bytes, source: str | None = None) -> Document:
    """The readings of the good records of one document and what is wrong with the others; FormatError only
    when the document itself cannot be read."""
    kind = kind_of(data)
    if kind == "bmkg":
        quakes, bad = bmkg.parse_each(data, source or "bmkg")
        return Document([Reading(q) for q in quakes], bad)
    if kind == "inatews":
        warning = inatews.parse(data)
        return Document([Reading(warning.quake, warning)], [])
    return Document([Reading(q) for q in usgs.parse(data)], [])


def distinct(readings: list[Reading]) -> list[Reading]:
    """One reading per quake, the first one listed (BMKG lists the newest first)."""
    kept: list[Reading] = []
    for reading in readings:
        if not any(same_event(reading.quake, other.quake) for other in kept):
            kept.append(reading)
    return kept
