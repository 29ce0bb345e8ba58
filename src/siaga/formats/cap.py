"""Common Alerting Protocol (OASIS CAP 1.2; 1.1 is read too): build, serialise, parse and validate.

Validation is the official XSD (``data/CAP-v1.2.xsd``) plus the rules of the specification the XSD cannot
say: times without "Z" or fractions and that exist on the calendar, polygons as closed rings of at least
four "lat,lon" points, circles as "lat,lon radius_km", ``references`` as space-separated
``sender,identifier,sent`` triples, identifiers and senders without spaces, commas, "<" or "&",
absolute ``web`` and resource URLs, ``restriction`` for Restricted scope and ``addresses`` for Private,
references for Update / Cancel / Ack / Error, ``ceiling`` only with ``altitude``.

Every problem is reported, each with the path of the element it is about, so ``siaga cap validate`` can
list them all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from siaga.formats import xmlsafe
from siaga.formats.errors import FormatError

NS12 = "urn:oasis:names:tc:emergency:cap:1.2"
NS11 = "urn:oasis:names:tc:emergency:cap:1.1"
NAMESPACES = {NS12: "1.2", NS11: "1.1"}

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE",
              "Other")
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([-+])(\d{2}):(\d{2})$")
_FORBIDDEN_IN_ID = re.compile(r"[\s,<&]")


class CapError(FormatError):
    """A document that is not a CAP alert at all (not XML, another root element)."""


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(slots=True)
class Reference:
    sender: str
    identifier: str
    sent: str  # kept as written: references must repeat the referenced message's sent exactly

    def __str__(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(slots=True)
class Area:
    desc: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # (lat, lon) pairs, closed
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # lat, lon, radius_km
    geocodes: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)
    altitude: float | None = None
    ceiling: float | None = None


@dataclass(slots=True)
class Resource:
    desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(slots=True)
class Info:
    event: str
    urgency: str
    severity: str
    certainty: str
    categories: list[str] = field(default_factory=lambda: ["Geo"])
    language: str = "en-US"
    response_types: list[str] = field(default_factory=list)
    audience: str | None = None
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: list[tuple[str, str]] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)

    def parameter(self, name: str) -> str | None:
        return next((value for key, value in self.parameters if key == name), None)


@dataclass(slots=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime
    status: str = "Actual"
    msg_type: str = "Alert"
    scope: str = "Public"
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: list[str] = field(default_factory=list)
    note: str | None = None
    references: list[Reference] = field(default_factory=list)
    incidents: str | None = None
    infos: list[Info] = field(default_factory=list)
    version: str = "1.2"

    def reference(self) -> Reference:
        """How another message refers to this one."""
        return Reference(self.sender, self.identifier, format_time(self.sent))

    def info_for(self, language: str) -> Info | None:
        prefix = language.split("-")[0].lower()
        return next((i for i in self.infos if i.language.lower().split("-")[0] == prefix), None)


# --------------------------------------------------------------------------------------------------------
# times
# --------------------------------------------------------------------------------------------------------

def format_time(when: datetime, zone: tzinfo | None = None) -> str:
    """CAP's dateTime: ``2026-11-12T10:07:02+07:00``; UTC is written ``-00:00`` as the specification asks."""
    if when.tzinfo is None:
        raise ValueError("CAP times need a time zone")
    local = when.astimezone(zone) if zone is not None else when
    local = local.replace(microsecond=0)
    offset = local.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        return local.strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"
    return local.isoformat()


def parse_time(text: str) -> datetime:
    """A CAP dateTime -> an aware datetime; :class:`ValueError` naming what is wrong."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        raise ValueError(f"{value!r} uses 'Z'; CAP writes UTC as -00:00")
    if "." in value:
        raise ValueError(f"{value!r} has fractions of a second, which CAP does not allow")
    match = _TIME.match(value)
    if not match:
        raise ValueError(f"{value!r} is not YYYY-MM-DDThh:mm:ss+hh:mm")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    sign = -1 if match.group(7) == "-" else 1
    oh, om = int(match.group(8)), int(match.group(9))
    if oh > 14 or om > 59:
        raise ValueError(f"{value!r} has an impossible UTC offset")
    try:
        zone = timezone(sign * timedelta(hours=oh, minutes=om))
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real time ({exc})") from None


# --------------------------------------------------------------------------------------------------------
# serialise
# --------------------------------------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(text: str) -> str:
    """Drops the characters XML 1.0 cannot carry (control characters): a warning must never fail on them."""
    return _NOT_XML.sub("", text)


def _add(parent: etree._Element, name: str, value: Any) -> None:
    if value is None or value == "":
        return
    child = etree.SubElement(parent, f"{{{NS12}}}{name}")
    child.text = clean(value if isinstance(value, str) else str(value))


def _pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    """valueName and value are both required, even when the value is empty."""
    pair = etree.SubElement(parent, f"{{{NS12}}}{name}")
    etree.SubElement(pair, f"{{{NS12}}}valueName").text = clean(value_name)
    etree.SubElement(pair, f"{{{NS12}}}value").text = clean(value)


def _number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def polygon_text(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{_number(lat)},{_number(lon)}" for lat, lon in points)


def to_xml(alert: Alert, zone: tzinfo | None = None) -> bytes:
    """The alert as CAP 1.2 XML (UTF-8, with the XML declaration); times in ``zone`` (default: as given)."""
    root = etree.Element(f"{{{NS12}}}alert", nsmap={None: NS12})  # type: ignore[dict-item]
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", alert.sender)
    _add(root, "sent", format_time(alert.sent, zone))
    _add(root, "status", alert.status)
    _add(root, "msgType", alert.msg_type)
    _add(root, "source", alert.source)
    _add(root, "scope", alert.scope)
    _add(root, "restriction", alert.restriction)
    _add(root, "addresses", alert.addresses)
    for code in alert.codes:
        _add(root, "code", code)
    _add(root, "note", alert.note)
    if alert.references:
        _add(root, "references", " ".join(str(r) for r in alert.references))
    _add(root, "incidents", alert.incidents)
    for info in alert.infos:
        element = etree.SubElement(root, f"{{{NS12}}}info")
        _add(element, "language", info.language)
        for category in info.categories:
            _add(element, "category", category)
        _add(element, "event", info.event)
        for response in info.response_types:
            _add(element, "responseType", response)
        _add(element, "urgency", info.urgency)
        _add(element, "severity", info.severity)
        _add(element, "certainty", info.certainty)
        _add(element, "audience", info.audience)
        for name, value in info.event_codes:
            _pair(element, "eventCode", name, value)
        for name in ("effective", "onset", "expires"):
            when = getattr(info, name)
            if when is not None:
                _add(element, name, format_time(when, zone))
        _add(element, "senderName", info.sender_name)
        _add(element, "headline", info.headline)
        _add(element, "description", info.description)
        _add(element, "instruction", info.instruction)
        _add(element, "web", info.web)
        _add(element, "contact", info.contact)
        for name, value in info.parameters:
            _pair(element, "parameter", name, value)
        for resource in info.resources:
            node = etree.SubElement(element, f"{{{NS12}}}resource")
            _add(node, "resourceDesc", resource.desc)
            _add(node, "mimeType", resource.mime_type)
            _add(node, "size", resource.size)
            _add(node, "uri", resource.uri)
            _add(node, "derefUri", resource.deref_uri)
            _add(node, "digest", resource.digest)
        for area in info.areas:
            node = etree.SubElement(element, f"{{{NS12}}}area")
            _add(node, "areaDesc", area.desc)
            for polygon in area.polygons:
                _add(node, "polygon", polygon_text(polygon))
            for lat, lon, radius in area.circles:
                _add(node, "circle", f"{_number(lat)},{_number(lon)} {_number(radius)}")
            for name, value in area.geocodes:
                _pair(node, "geocode", name, value)
            if area.altitude is not None:
                _add(node, "altitude", _number(area.altitude))
            if area.ceiling is not None:
                _add(node, "ceiling", _number(area.ceiling))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --------------------------------------------------------------------------------------------------------
# parse
# --------------------------------------------------------------------------------------------------------

def _root(data: bytes) -> tuple[etree._Element, str]:
    root = xmlsafe.parse(data, "CAP")
    ns = xmlsafe.namespace(root.tag)
    if xmlsafe.local(root.tag) != "alert" or ns not in NAMESPACES:
        raise CapError(f"CAP: the root element is {root.tag!r}, not a CAP 1.1 or 1.2 alert", "alert")
    return root, NAMESPACES[ns]


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if xmlsafe.local(child.tag) == name]


def _text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if xmlsafe.local(child.tag) == name:
            return (child.text or "").strip()
    return None


def _opt(element: etree._Element, name: str) -> str | None:
    """An optional element's text; present but empty counts as absent."""
    return _text(element, name) or None


def _pairs(element: etree._Element, name: str) -> list[tuple[str, str]]:
    return [(_text(pair, "valueName") or "", _text(pair, "value") or "") for pair in _children(element, name)]


def _time_or_none(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def parse_points(text: str) -> list[tuple[float, float]]:
    """``"lat,lon lat,lon ..."`` -> pairs; :class:`ValueError` naming the first bad pair."""
    points = []
    for pair in text.split():
        parts = pair.split(",")
        if len(parts) != 2:
            raise ValueError(f"{pair!r} is not 'lat,lon'")
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"{pair!r} is not two numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"{pair!r} is outside -90..90, -180..180")
        points.append((lat, lon))
    return points


def parse_circle(text: str) -> tuple[float, float, float]:
    parts = text.split()
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not 'lat,lon radius_km'")
    [(lat, lon)] = parse_points(parts[0])
    try:
        radius = float(parts[1])
    except ValueError:
        raise ValueError(f"radius {parts[1]!r} is not a number") from None
    if not radius >= 0:
        raise ValueError(f"radius {parts[1]!r} is negative")
    return lat, lon, radius


def parse_references(text: str) -> list[Reference]:
    found = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{triple!r} is not sender,identifier,sent")
        parse_time(parts[2])
        found.append(Reference(*parts))
    return found


def parse(data: bytes) -> Alert:
    """The alert in ``data`` (CAP 1.2 or 1.1, any declared encoding), as far as it can be read.

    Only a document that is not a CAP alert at all, or whose ``identifier``, ``sender`` or ``sent`` cannot
    be read, raises :class:`CapError`; everything else that is wrong is for :func:`validate` to list.
    """
    root, version = _root(data)
    return from_root(root, version)


def from_root(root: etree._Element, version: str = "1.2") -> Alert:
    identifier = _text(root, "identifier")
    sender = _text(root, "sender")
    sent_text = _text(root, "sent")
    if not identifier:
        raise CapError("CAP: identifier is missing", "identifier")
    if not sender:
        raise CapError("CAP: sender is missing", "sender")
    if not sent_text:
        raise CapError("CAP: sent is missing", "sent")
    try:
        sent = parse_time(sent_text)
    except ValueError as exc:
        raise CapError(f"CAP: sent {exc}", "sent") from None
    references: list[Reference] = []
    reference_text = _text(root, "references")
    if reference_text:
        try:
            references = parse_references(reference_text)
        except ValueError:
            references = []
    alert = Alert(
        identifier=identifier, sender=sender, sent=sent, status=_text(root, "status") or "",
        msg_type=_text(root, "msgType") or "", scope=_text(root, "scope") or "", source=_opt(root, "source"),
        restriction=_opt(root, "restriction"), addresses=_opt(root, "addresses"),
        codes=[(c.text or "").strip() for c in _children(root, "code")], note=_opt(root, "note"),
        references=references, incidents=_opt(root, "incidents"), version=version,
    )
    for element in _children(root, "info"):
        info = Info(
            event=_text(element, "event") or "", urgency=_text(element, "urgency") or "",
            severity=_text(element, "severity") or "", certainty=_text(element, "certainty") or "",
            categories=[(c.text or "").strip() for c in _children(element, "category")],
            language=_text(element, "language") or "en-US",
            response_types=[(c.text or "").strip() for c in _children(element, "responseType")],
            audience=_opt(element, "audience"), event_codes=_pairs(element, "eventCode"),
            effective=_time_or_none(_text(element, "effective")), onset=_time_or_none(_text(element, "onset")),
            expires=_time_or_none(_text(element, "expires")), sender_name=_opt(element, "senderName"),
            headline=_opt(element, "headline"), description=_opt(element, "description"),
            instruction=_opt(element, "instruction"), web=_opt(element, "web"), contact=_opt(element, "contact"),
            parameters=_pairs(element, "parameter"),
        )
        for node in _children(element, "resource"):
            size = _text(node, "size")
            info.resources.append(Resource(
                desc=_text(node, "resourceDesc") or "", mime_type=_text(node, "mimeType") or "",
                size=int(size) if size and size.isdigit() else None, uri=_opt(node, "uri"),
                deref_uri=_opt(node, "derefUri"), digest=_opt(node, "digest")))
        for node in _children(element, "area"):
            area = Area(desc=_text(node, "areaDesc") or "", geocodes=_pairs(node, "geocode"),
                        altitude=_float_or_none(_text(node, "altitude")),
                        ceiling=_float_or_none(_text(node, "ceiling")))
            for polygon in _children(node, "polygon"):
                try:
                    area.polygons.append(parse_points(polygon.text or ""))
                except ValueError:
                    continue
            for circle in _children(node, "circle"):
                try:
                    area.circles.append(parse_circle(circle.text or ""))
                except ValueError:
                    continue
            info.areas.append(area)
        alert.infos.append(info)
    return alert


# --------------------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    path = resources.files("siaga.formats") / "data" / "CAP-v1.2.xsd"
    return etree.XMLSchema(etree.fromstring(path.read_bytes()))


_XSD_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")


def _xsd_problems(root: etree._Element) -> list[Problem]:
    validator = schema()
    if validator.validate(root):
        return []
    problems = []
    for error in validator.error_log:  # type: ignore[attr-defined]
        match = _XSD_ELEMENT.search(error.message)
        name = match.group(1) if match else "alert"
        message = re.sub(r"\{urn:oasis:names:tc:emergency:cap:1\.2\}", "", error.message)
        problems.append(Problem(f"{name} (line {error.line})", f"schema: {message}"))
    return problems


def _path(*parts: str) -> str:
    return "/".join(parts)


def _rule_problems(root: etree._Element) -> list[Problem]:
    problems: list[Problem] = []

    def check_time(element: etree._Element, path: str) -> None:
        try:
            parse_time(element.text or "")
        except ValueError as exc:
            problems.append(Problem(path, str(exc)))

    for name in ("identifier", "sender"):
        value = _text(root, name)
        if value and _FORBIDDEN_IN_ID.search(value):
            problems.append(Problem(name, f"{value!r} must not contain spaces, commas, '<' or '&'"))
    for element in _children(root, "sent"):
        check_time(element, "sent")
    msg_type = _text(root, "msgType")
    references = _text(root, "references")
    if references is not None:
        try:
            parse_references(references)
        except ValueError as exc:
            problems.append(Problem("references", str(exc)))
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not references:
        problems.append(Problem("references", f"a {msg_type} must reference the message(s) it is about"))
    scope = _text(root, "scope")
    if scope == "Restricted" and not _text(root, "restriction"):
        problems.append(Problem("restriction", "a Restricted alert must say its restriction"))
    if scope == "Private" and not _text(root, "addresses"):
        problems.append(Problem("addresses", "a Private alert must list its addresses"))
    for i, info in enumerate(_children(root, "info"), start=1):
        base = f"info[{i}]"
        for name in ("effective", "onset", "expires"):
            for element in _children(info, name):
                check_time(element, _path(base, name))
        web = _text(info, "web")
        if web is not None and not _absolute(web):
            problems.append(Problem(_path(base, "web"), f"{web!r} is not an absolute URL"))
        for j, resource in enumerate(_children(info, "resource"), start=1):
            uri = _text(resource, "uri")
            if uri is not None and not _absolute(uri):
                problems.append(Problem(_path(base, f"resource[{j}]", "uri"), f"{uri!r} is not an absolute URL"))
        for j, area in enumerate(_children(info, "area"), start=1):
            where = _path(base, f"area[{j}]")
            for k, polygon in enumerate(_children(area, "polygon"), start=1):
                try:
                    points = parse_points(polygon.text or "")
                except ValueError as exc:
                    problems.append(Problem(_path(where, f"polygon[{k}]"), str(exc)))
                    continue
                if len(points) < 4:
                    problems.append(Problem(_path(where, f"polygon[{k}]"),
                                            f"{len(points)} points; a polygon needs at least 4"))
                elif points[0] != points[-1]:
                    problems.append(Problem(_path(where, f"polygon[{k}]"),
                                            "not closed: the first and last points differ"))
            for k, circle in enumerate(_children(area, "circle"), start=1):
                try:
                    parse_circle(circle.text or "")
                except ValueError as exc:
                    problems.append(Problem(_path(where, f"circle[{k}]"), str(exc)))
            if _text(area, "ceiling") is not None and _text(area, "altitude") is None:
                problems.append(Problem(_path(where, "ceiling"), "ceiling is only allowed with altitude"))
    return problems


def _absolute(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.scheme and parts.netloc) and " " not in url.strip()


def validate(data: bytes) -> list[Problem]:
    """Every problem that keeps ``data`` from being a valid CAP 1.2 alert (empty when it is valid)."""
    try:
        root, version = _root(data)
    except FormatError as exc:
        return [Problem(exc.field or "document", exc.message)]
    if version != "1.2":
        return [Problem("alert", f"this is CAP {version} ({NS11}); a CAP 1.2 message is expected")]
    return _xsd_problems(root) + _rule_problems(root)


def parse_and_validate(data: bytes) -> tuple[Alert | None, list[Problem]]:
    """Both from one XML parse (what the ingest and the benchmark use)."""
    try:
        root, version = _root(data)
    except FormatError as exc:
        return None, [Problem(exc.field or "document", exc.message)]
    if version == "1.2":
        problems = _xsd_problems(root) + _rule_problems(root)
    else:
        problems = [Problem("alert", f"this is CAP {version} ({NS11}); a CAP 1.2 message is expected")]
    try:
        return from_root(root, version), problems
    except FormatError as exc:
        return None, [*problems, Problem(exc.field or "alert", exc.message)]
