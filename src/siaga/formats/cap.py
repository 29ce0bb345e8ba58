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
from datetime import UTC, datetime, timedelta, tzinfo
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
    if int(match.group(8)) > 14 or int(match.group(9)) > 59:
        raise ValueError(f"{value!r} has an impossible UTC offset")
    try:
        return datetime.fromisoformat(value)  # the pattern above is a strict subset of what it reads
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
# parse (and check the rules the XSD cannot say, in the same single pass)
# --------------------------------------------------------------------------------------------------------



def _root(data: bytes) -> tuple[etree._Element, str]:
    root = xmlsafe.parse(data, "CAP")
    ns = xmlsafe.namespace(root.tag)
    if xmlsafe.local(root.tag) != "alert" or ns not in NAMESPACES:
        raise CapError(f"CAP: the root element is {root.tag!r}, not a CAP 1.1 or 1.2 alert", "alert")
    return root, NAMESPACES[ns]


_TWO_COMMAS = re.compile(r",[^\s,]*,|\s,|,\s")  # two commas in a token, or a comma at its edge


def parse_points(text: str) -> list[tuple[float, float]]:
    """``"lat,lon lat,lon ..."`` -> pairs; :class:`ValueError` naming the first bad pair."""
    # the common case, quickly: every token one "lat,lon" pair of plain numbers (no nan / inf). Two numbers
    # per comma and no token with two commas means one comma in every token, between two numbers.
    if "n" not in text and "N" not in text and _TWO_COMMAS.search(text) is None:
        words = text.replace(",", " ").split()
        if words and len(words) == 2 * text.count(","):
            try:
                numbers = list(map(float, words))
            except ValueError:
                numbers = []
            if numbers:
                lats, lons = numbers[0::2], numbers[1::2]
                if min(lats) >= -90 and max(lats) <= 90 and min(lons) >= -180 and max(lons) <= 180:
                    return list(zip(lats, lons, strict=True))
    tokens = text.split()
    points = []
    for pair in tokens:
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
    if not points:
        raise ValueError("no points")
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


def _absolute(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. "//[" (an unclosed IPv6 host): not a URL at all, so not an absolute one
        return False
    return bool(parts.scheme and parts.netloc) and " " not in url.strip()


def _strip(text: str | None) -> str:
    return text.strip() if text else ""


def _pair_of(element: etree._Element, qlen: int) -> tuple[str, str]:
    if len(element) == 2:  # the usual <valueName/><value/>, read without a loop
        first, second = element
        if first.tag[qlen:] == "valueName" and second.tag[qlen:] == "value":
            return (first.text or "").strip(), (second.text or "").strip()
    key = value = ""
    for child in element:
        name = child.tag[qlen:]
        if name == "valueName":
            key = (child.text or "").strip()
        elif name == "value":
            value = (child.text or "").strip()
    return key, value


class _Rules:
    """Collects what breaks the rules the XSD cannot say (a no-op when nobody asked), and remembers the
    polygons already read: a bilingual alert repeats every area in each language."""

    def __init__(self, problems: list[Problem] | None) -> None:
        self.problems = problems
        self.polygons: dict[str, list[tuple[float, float]] | str] = {}

    def add(self, path: str, message: str) -> None:
        if self.problems is not None:
            self.problems.append(Problem(path, message))

    def time(self, text: str, path: str) -> datetime | None:
        if not text:
            return None
        try:
            return parse_time(text)
        except ValueError as exc:
            self.add(path, str(exc))
            return None


_SINGLE_ALERT = {"identifier", "sender", "sent", "status", "msgType", "scope", "source", "restriction",
                 "addresses", "note", "references", "incidents"}
_SINGLE_INFO = {"language", "event", "urgency", "severity", "certainty", "audience", "effective", "onset",
                "expires", "senderName", "headline", "description", "instruction", "web", "contact"}


def from_root(root: etree._Element, version: str = "1.2", problems: list[Problem] | None = None) -> Alert:
    """Read the alert in one walk over the tree, checking the rules the XSD cannot say into ``problems``.

    Each element's children are visited once and dispatched by name (the first of a single-valued
    element counts, as the schema allows one).
    """
    qlen = len(root.tag) - len("alert")
    rules = _Rules(problems)
    checking = problems is not None
    head: dict[str, str] = {}
    codes: list[str] = []
    info_elements: list[etree._Element] = []
    for child in root:
        name = child.tag[qlen:]
        if name in _SINGLE_ALERT:
            if name not in head:
                head[name] = (child.text or "").strip()
        elif name == "info":
            info_elements.append(child)
        elif name == "code":
            codes.append((child.text or "").strip())
    identifier, sender, sent_text = head.get("identifier"), head.get("sender"), head.get("sent")
    if checking:  # list what is missing or out of its set, every one (the XSD stops at the first)
        for name in ("identifier", "sender", "sent", "status", "msgType", "scope"):
            if not head.get(name):
                rules.add(name, f"{name} is missing (required)")
        for name, allowed in (("status", STATUSES), ("msgType", MSG_TYPES), ("scope", SCOPES)):
            if head.get(name) and head[name] not in allowed:
                rules.add(name, f"{head[name]!r} is not one of {', '.join(allowed)}")
        identifier, sender = identifier or "", sender or ""
        sent_text = sent_text or "1970-01-01T00:00:00+00:00"
    elif not identifier:
        raise CapError("CAP: identifier is missing", "identifier")
    elif not sender:
        raise CapError("CAP: sender is missing", "sender")
    elif not sent_text:
        raise CapError("CAP: sent is missing", "sent")
    try:
        sent = parse_time(sent_text)
    except ValueError as exc:
        if not checking:
            raise CapError(f"CAP: sent {exc}", "sent") from None
        rules.add("sent", str(exc))
        sent = datetime(1970, 1, 1, tzinfo=UTC)
    msg_type, scope = head.get("msgType", ""), head.get("scope", "")
    references: list[Reference] = []
    reference_text = head.get("references")
    if reference_text is not None:
        try:
            references = parse_references(reference_text)
        except ValueError as exc:
            rules.add("references", str(exc))
    if checking:
        for name, value in (("identifier", identifier), ("sender", sender)):
            if _FORBIDDEN_IN_ID.search(value):
                rules.add(name, f"{value!r} must not contain spaces, commas, '<' or '&'")
        if msg_type in ("Update", "Cancel", "Ack", "Error") and not reference_text:
            rules.add("references", f"a {msg_type} must reference the message(s) it is about")
        if scope == "Restricted" and not head.get("restriction"):
            rules.add("restriction", "a Restricted alert must say its restriction")
        if scope == "Private" and not head.get("addresses"):
            rules.add("addresses", "a Private alert must list its addresses")
    alert = Alert(
        identifier=identifier, sender=sender, sent=sent, status=head.get("status", ""), msg_type=msg_type,
        scope=scope, source=head.get("source") or None, restriction=head.get("restriction") or None,
        addresses=head.get("addresses") or None, codes=codes, note=head.get("note") or None,
        references=references, incidents=head.get("incidents") or None, version=version,
    )
    for i, element in enumerate(info_elements, start=1):
        alert.infos.append(_info(element, qlen, rules, checking, i))
    return alert


def _info(element: etree._Element, qlen: int, rules: _Rules, checking: bool, i: int) -> Info:
    fields: dict[str, str] = {}
    categories: list[str] = []
    responses: list[str] = []
    event_codes: list[tuple[str, str]] = []
    parameters: list[tuple[str, str]] = []
    resources: list[etree._Element] = []
    areas: list[etree._Element] = []
    for child in element:
        name = child.tag[qlen:]
        if name in _SINGLE_INFO:
            if name not in fields:
                fields[name] = (child.text or "").strip()
        elif name == "category":
            categories.append((child.text or "").strip())
        elif name == "responseType":
            responses.append((child.text or "").strip())
        elif name == "parameter":
            parameters.append(_pair_of(child, qlen))
        elif name == "eventCode":
            event_codes.append(_pair_of(child, qlen))
        elif name == "area":
            areas.append(child)
        elif name == "resource":
            resources.append(child)
    if checking:
        for name, allowed in (("urgency", URGENCIES), ("severity", SEVERITIES), ("certainty", CERTAINTIES)):
            if not fields.get(name):
                rules.add(f"info[{i}]/{name}", f"{name} is missing (required)")
            elif fields[name] not in allowed:
                rules.add(f"info[{i}]/{name}", f"{fields[name]!r} is not one of {', '.join(allowed)}")
        if not fields.get("event"):
            rules.add(f"info[{i}]/event", "event is missing (required)")
        if not categories:
            rules.add(f"info[{i}]/category", "category is missing (at least one is required)")
        for value in categories:
            if value not in CATEGORIES:
                rules.add(f"info[{i}]/category", f"{value!r} is not one of {', '.join(CATEGORIES)}")
        for value in responses:
            if value not in RESPONSE_TYPES:
                rules.add(f"info[{i}]/responseType", f"{value!r} is not one of {', '.join(RESPONSE_TYPES)}")
    web = fields.get("web") or None
    if checking and web is not None and not _absolute(web):
        rules.add(f"info[{i}]/web", f"{web!r} is not an absolute URL")
    info = Info(
        event=fields.get("event", ""), urgency=fields.get("urgency", ""), severity=fields.get("severity", ""),
        certainty=fields.get("certainty", ""), categories=categories, language=fields.get("language") or "en-US",
        response_types=responses, audience=fields.get("audience") or None, event_codes=event_codes,
        effective=rules.time(fields.get("effective", ""), f"info[{i}]/effective"),
        onset=rules.time(fields.get("onset", ""), f"info[{i}]/onset"),
        expires=rules.time(fields.get("expires", ""), f"info[{i}]/expires"),
        sender_name=fields.get("senderName") or None, headline=fields.get("headline") or None,
        description=fields.get("description") or None, instruction=fields.get("instruction") or None,
        web=web, contact=fields.get("contact") or None, parameters=parameters,
    )
    for j, node in enumerate(resources, start=1):
        values: dict[str, str] = {}
        for child in node:
            name = child.tag[qlen:]
            if name not in values:
                values[name] = (child.text or "").strip()
        uri = values.get("uri") or None
        if checking and uri is not None and not _absolute(uri):
            rules.add(f"info[{i}]/resource[{j}]/uri", f"{uri!r} is not an absolute URL")
        size = values.get("size", "")
        info.resources.append(Resource(
            desc=values.get("resourceDesc", ""), mime_type=values.get("mimeType", ""),
            size=int(size) if size.isdigit() else None, uri=uri, deref_uri=values.get("derefUri") or None,
            digest=values.get("digest") or None))
    for j, node in enumerate(areas, start=1):
        info.areas.append(_area(node, qlen, rules, checking, i, j))
    return info


def _area(node: etree._Element, qlen: int, rules: _Rules, checking: bool, i: int, j: int) -> Area:
    desc = ""
    polygons: list[str] = []
    circles: list[str] = []
    geocodes: list[tuple[str, str]] = []
    altitude = ceiling = None
    for child in node:
        name = child.tag[qlen:]
        if name == "polygon":
            polygons.append(child.text or "")
        elif name == "geocode":
            geocodes.append(_pair_of(child, qlen))
        elif name == "circle":
            circles.append(child.text or "")
        elif name == "areaDesc":
            desc = (child.text or "").strip()
        elif name == "altitude":
            altitude = (child.text or "").strip()
        elif name == "ceiling":
            ceiling = (child.text or "").strip()
    if checking and ceiling is not None and altitude is None:
        rules.add(f"info[{i}]/area[{j}]/ceiling", "ceiling is only allowed with altitude")
    area = Area(desc=desc, geocodes=geocodes, altitude=_float_or_none(altitude), ceiling=_float_or_none(ceiling))
    for k, polygon in enumerate(polygons, start=1):
        known = rules.polygons.get(polygon)
        if known is None:
            try:
                known = parse_points(polygon)
            except ValueError as exc:
                known = str(exc)
            rules.polygons[polygon] = known
        if isinstance(known, str):
            rules.add(f"info[{i}]/area[{j}]/polygon[{k}]", known)
            continue
        if len(known) < 4:
            rules.add(f"info[{i}]/area[{j}]/polygon[{k}]", f"{len(known)} points; a polygon needs at least 4")
        elif known[0] != known[-1]:
            rules.add(f"info[{i}]/area[{j}]/polygon[{k}]", "not closed: the first and last points differ")
        area.polygons.append(list(known))
    for k, circle in enumerate(circles, start=1):
        try:
            area.circles.append(parse_circle(circle))
        except ValueError as exc:
            rules.add(f"info[{i}]/area[{j}]/circle[{k}]", str(exc))
    return area


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def parse(data: bytes) -> Alert:
    """The alert in ``data`` (CAP 1.2 or 1.1, any declared encoding), as far as it can be read.

    Only a document that is not a CAP alert at all, or whose ``identifier``, ``sender`` or ``sent`` cannot
    be read, raises :class:`CapError`; everything else that is wrong is for :func:`validate` to list.
    """
    root, version = _root(data)
    return from_root(root, version)


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


def parse_and_validate(data: bytes) -> tuple[Alert | None, list[Problem]]:
    """The alert and every problem that keeps it from being valid CAP 1.2, from one parse of the XML.

    The common case (a valid CAP 1.2 message) is validated against the schema while it is parsed; only
    a message that fails is read again, without the schema, to list every problem.
    """
    try:
        root = xmlsafe.parse(data, "CAP", schema())
    except xmlsafe.SchemaMismatch:
        root = None
    except FormatError as exc:
        return None, [Problem(exc.field or "document", exc.message)]
    if root is not None and root.tag == f"{{{NS12}}}alert":
        rules: list[Problem] = []
        return from_root(root, "1.2", rules), rules
    try:
        root, version = _root(data)
    except FormatError as exc:
        return None, [Problem(exc.field or "document", exc.message)]
    if version != "1.2":
        problems = [Problem("alert", f"this is CAP {version} ({NS11}); a CAP 1.2 message is expected")]
        try:
            return from_root(root, version), problems
        except FormatError as exc:
            return None, [*problems, Problem(exc.field or "alert", exc.message)]
    problems = _xsd_problems(root)
    rules = []
    alert: Alert | None = from_root(root, version, rules)
    if alert is not None and not (alert.identifier and alert.sender):
        alert = None  # not an alert one could act on; its problems say why
    # the required elements and value sets are the schema's too, where it did not stop first: each once
    said = {_element_of(p.path) + ":" + _value_in(p.message) for p in problems}
    return alert, problems + [r for r in rules if not _schema_rule(r)
                              or _element_of(r.path) + ":" + _value_in(r.message) not in said]


def _schema_rule(problem: Problem) -> bool:
    return "is not one of" in problem.message or "is missing (required)" in problem.message


def _element_of(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path.split(" (line")[0]).rsplit("/", 1)[-1]


def _value_in(message: str) -> str:
    """The value a problem is about ('Alarm' of "'Alarm' is not one of ..."; the XSD says "The value
    'Alarm' is not an element of the set"), or '' for a missing element."""
    found = re.search(r"'([^']*)' is not|value '([^']*)'", message)
    return (found.group(1) or found.group(2) or "") if found else ""


def validate(data: bytes) -> list[Problem]:
    """Every problem that keeps ``data`` from being a valid CAP 1.2 alert (empty when it is valid)."""
    return parse_and_validate(data)[1]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
