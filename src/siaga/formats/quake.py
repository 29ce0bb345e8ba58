"""What every earthquake source gives Siaga112: one :class:`Quake`, whatever feed it came from.

The BMKG open-data feeds, BMKG's InaTEWS tsunami warnings and the USGS GeoJSON feeds are parsed into this
shape by :mod:`siaga.formats.bmkg`, :mod:`siaga.formats.inatews` and :mod:`siaga.formats.usgs`. The helpers
here read the pieces of text those feeds share: Indonesian coordinates ("7.54 LS"), depths ("10 km"), WIB
times, BMKG's ``Potensi`` sentence and the ``Dirasakan`` list of felt intensities.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from siaga.formats.errors import FormatError
from siaga.geo import haversine_km

WIB = timezone(timedelta(hours=7), "WIB")
WITA = timezone(timedelta(hours=8), "WITA")
WIT = timezone(timedelta(hours=9), "WIT")
ZONES = {"WIB": WIB, "WITA": WITA, "WIT": WIT, "UTC": UTC, "GMT": UTC}

MONTHS = {"jan": 1, "feb": 2, "peb": 2, "mar": 3, "apr": 4, "mei": 5, "may": 5, "jun": 6, "jul": 7, "agu": 8,
          "ags": 8, "agt": 8, "aug": 8, "sep": 9, "okt": 10, "oct": 10, "nov": 11, "nop": 11, "des": 12, "dec": 12}

# Potensi sentences seen in BMKG records, normalised (lower case, single spaces, no final full stop).
KNOWN_NO_POTENTIAL = frozenset({
    "tidak berpotensi tsunami",
    "gempa ini dirasakan untuk diteruskan pada masyarakat",
    "gempa ini tidak berpotensi tsunami",
    "tidak berpotensi tsunami namun dirasakan",
})
KNOWN_POTENTIAL = frozenset({
    "potensi tsunami untuk diteruskan pada masyarakat",
    "berpotensi tsunami",
})
_NEGATIONS = frozenset({"tidak", "tak", "bukan", "tanpa", "no", "not", "non"})
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11,
          "XII": 12}
_FELT_ENTRY = re.compile(r"^\s*(?P<low>[IVX]{1,4})(?:\s*-\s*(?P<high>[IVX]{1,4}))?\s+(?P<place>\S.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Felt:
    """One entry of a ``Dirasakan`` list: ``"II - III Cianjur"`` -> MMI 2..3 in Cianjur."""

    place: str
    mmi_low: int | None
    mmi_high: int | None


@dataclass(frozen=True, slots=True)
class Quake:
    """One earthquake as one record of one feed described it."""

    source: str  # autogempa | gempaterkini | gempadirasakan | bmkg | inatews | usgs
    event_id: str  # stable for the record: "bmkg-YYYYMMDDhhmmss" (origin time, UTC) or the source's own id
    time_utc: datetime
    magnitude: float
    depth_km: float | None
    lat: float
    lon: float
    region: str = ""
    potential_text: str = ""
    tsunami_potential: bool = False
    potential_known: bool = True
    felt: tuple[Felt, ...] = ()
    felt_text: str = ""
    shakemap: str | None = None
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "event_id": self.event_id,
            "time_utc": iso_utc(self.time_utc),
            "magnitude": self.magnitude,
            "depth_km": self.depth_km,
            "lat": self.lat,
            "lon": self.lon,
            "region": self.region,
            "potential_text": self.potential_text,
            "tsunami_potential": self.tsunami_potential,
            "potential_known": self.potential_known,
            "felt": [{"place": f.place, "mmi_low": f.mmi_low, "mmi_high": f.mmi_high} for f in self.felt],
            "felt_text": self.felt_text,
            "shakemap": self.shakemap,
            "notes": list(self.notes),
        }


def iso_utc(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def bmkg_event_id(when: datetime) -> str:
    return "bmkg-" + when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def text_of(record: dict[str, Any], name: str, what: str, *, required: bool = True) -> str:
    value = record.get(name)
    if value is None:
        if required:
            raise FormatError(f"{what}: {name} is missing", name)
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise FormatError(f"{what}: {name} must be text, not {type(value).__name__}", name)
    return value.strip()


def number(value: str, name: str, what: str, low: float, high: float) -> float:
    """``"7.4"`` or ``"10 km"`` -> a float inside ``low..high``."""
    match = re.fullmatch(r"\s*([-+]?\d+(?:[.,]\d+)?)\s*(?:km|kilometer|m|sr|mb|mw|ml|mwp)?\s*", value, re.IGNORECASE)
    if not match:
        raise FormatError(f"{what}: {name}={value!r} is not a number", name)
    result = float(match.group(1).replace(",", "."))
    if math.isnan(result) or not low <= result <= high:
        raise FormatError(f"{what}: {name}={value!r} is outside {low:g}..{high:g}", name)
    return result


def lat_lon_pair(value: str, name: str, what: str, *, lon_first: bool = False) -> tuple[float, float]:
    """``"-7.54,121.78"`` (lat,lon; BMKG open data) or ``"98.39,-0.93"`` (lon,lat; InaTEWS point)."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2:
        raise FormatError(f"{what}: {name}={value!r} is not two comma-separated numbers", name)
    first = number(parts[0], name, what, -180, 180)
    second = number(parts[1], name, what, -180, 180)
    lat, lon = (second, first) if lon_first else (first, second)
    if not -90 <= lat <= 90:
        raise FormatError(f"{what}: {name}={value!r} gives latitude {lat:g}, outside -90..90", name)
    return lat, lon


def hemisphere(value: str, name: str, what: str) -> float:
    """``"7.54 LS"`` -> -7.54, ``"3.65 LU"`` -> 3.65, ``"121.78 BT"`` -> 121.78, ``"10 BB"`` -> -10."""
    match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*°?\s*(LS|LU|BT|BB|S|N|E|W)\s*", value, re.IGNORECASE)
    if not match:
        raise FormatError(f"{what}: {name}={value!r} is not like '7.54 LS' or '121.78 BT'", name)
    amount = float(match.group(1).replace(",", "."))
    sign = -1.0 if match.group(2).upper() in {"LS", "S", "BB", "W"} else 1.0
    limit = 90.0 if match.group(2).upper() in {"LS", "LU", "S", "N"} else 180.0
    if amount > limit:
        raise FormatError(f"{what}: {name}={value!r} is outside 0..{limit:g}", name)
    return sign * amount


def check_against(lat: float, lon: float, lintang: str, bujur: str, what: str) -> tuple[str, ...]:
    """Notes when the Lintang / Bujur text disagrees with the coordinates (the coordinates are used)."""
    notes = []
    if lintang:
        stated = hemisphere(lintang, "Lintang", what)
        if abs(stated - lat) > 0.05:
            notes.append(f"Lintang {lintang!r} disagrees with latitude {lat:g}; the coordinates are used")
    if bujur:
        stated = hemisphere(bujur, "Bujur", what)
        if abs(stated - lon) > 0.05:
            notes.append(f"Bujur {bujur!r} disagrees with longitude {lon:g}; the coordinates are used")
    return tuple(notes)


def iso_time(value: str, name: str, what: str) -> datetime:
    """An ISO 8601 time with an offset (``2021-10-05T11:00:27+00:00``), as UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"{what}: {name}={value!r} is not an ISO 8601 time", name) from None
    if parsed.tzinfo is None:
        raise FormatError(f"{what}: {name}={value!r} has no UTC offset", name)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise FormatError(f"{what}: {name}={value!r} is outside the years a clock can hold", name) from None


def _zone(text: str, name: str, what: str) -> tuple[str, timezone]:
    match = re.search(r"\s*(WIB|WITA|WIT|UTC|GMT)\s*$", text, re.IGNORECASE)
    if not match:
        raise FormatError(f"{what}: {name}={text!r} does not end in WIB, WITA, WIT or UTC", name)
    return text[: match.start()].strip(), ZONES[match.group(1).upper()]


def local_time(value: str, name: str, what: str) -> datetime:
    """``2023-04-25T03:05:33WIB`` or ``25/04/2023 03:05:33WIB`` -> UTC."""
    body, zone = _zone(value, name, what)
    for pattern in ("%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%d-%m-%y %H:%M:%S",
                    "%Y-%m-%d %H:%M:%S"):
        try:
            naive = datetime.strptime(body, pattern)  # noqa: DTZ007 - the zone is attached on the next line
        except ValueError:
            continue
        try:
            return naive.replace(tzinfo=zone).astimezone(UTC)
        except OverflowError:
            break
    raise FormatError(f"{what}: {name}={value!r} is not a time BMKG writes", name)


def date_and_clock(date: str, clock: str, what: str, date_name: str, clock_name: str) -> datetime:
    """BMKG's separate date and time: ``"05 Okt 2021"`` / ``"25-04-23"`` with ``"18:00:27 WIB"`` -> UTC."""
    body, zone = _zone(clock, clock_name, what)
    match = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})", body)
    if not match:
        raise FormatError(f"{what}: {clock_name}={clock!r} is not hh:mm:ss", clock_name)
    hour, minute, second = (int(g) for g in match.groups())
    day = month = year = 0
    text = date.strip()
    words = re.fullmatch(r"(\d{1,2})[\s-]+([A-Za-z]{3,})[\s-]+(\d{2,4})", text)
    digits = re.fullmatch(r"(\d{1,2})[-/](\d{1,2})[-/](\d{2,4})", text)
    if words:
        day, year = int(words.group(1)), int(words.group(3))
        month = MONTHS.get(words.group(2)[:3].lower(), 0)
        if not month:
            raise FormatError(f"{what}: {date_name}={date!r} has an unknown month", date_name)
    elif digits:
        day, month, year = (int(g) for g in digits.groups())
    else:
        raise FormatError(f"{what}: {date_name}={date!r} is not a date like '05 Okt 2021' or '25-04-23'", date_name)
    if year < 100:
        year += 2000
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise FormatError(f"{what}: {date_name} {date!r} {clock!r} is not a real time ({exc})", date_name) from None


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip(" .!")


def tsunami_potential(text: str) -> tuple[bool, bool]:
    """``(potential, known)`` for a Potensi sentence.

    Conservative by design: any mention of tsunami that is not negated within the same clause counts as
    potential ("Tidak berpotensi tsunami. Berpotensi tsunami di ..." is potential). ``known`` is False for a
    wording not seen before and for a missing or empty one: the policy then decides from BMKG's own tsunami
    criteria (:func:`siaga.hazards.policy.decide`), never from the absence of a word.
    """
    normal = _normalise(text)
    if not normal:
        return False, False
    known = normal in KNOWN_NO_POTENTIAL or normal in KNOWN_POTENTIAL
    potential = False
    for clause in re.split(r"[.;:!?,()\n]", normal):
        words = re.findall(r"[a-z]+", clause)
        for index, word in enumerate(words):
            if "tsunami" not in word:
                continue
            before = words[max(0, index - 4): index]
            if not _NEGATIONS.intersection(before):
                potential = True
    return potential, known


def felt_list(text: str) -> tuple[Felt, ...]:
    """``"II - III Cianjur, II Sukabumi"`` -> entries with their MMI range; entries without one keep the place."""
    entries = []
    for chunk in re.split(r"[,;]", text):
        chunk = chunk.strip()
        if not chunk or chunk.strip("-\u2013 ") == "":
            continue
        match = _FELT_ENTRY.match(chunk)
        if match and match.group("low") in _ROMAN and (match.group("high") or "I") in _ROMAN:
            low = _ROMAN[match.group("low")]
            high = _ROMAN[match.group("high")] if match.group("high") else low
            entries.append(Felt(match.group("place"), min(low, high), max(low, high)))
        else:
            entries.append(Felt(chunk, None, None))
    return tuple(entries)


# BMKG's revision tolerances: a reviewed solution moves the origin by seconds, the epicentre by tens of km
# and the magnitude by a few tenths (Flores 2021: M7.5 at 10:20:22, then M7.4 at 10:20:23, 20 km apart).
SAME_EVENT_SECONDS = 30.0
SAME_EVENT_KM = 75.0
SAME_EVENT_MAGNITUDE = 0.5
# USGS describes a BMKG quake with its own methods (another magnitude type, another location)
USGS_EVENT_SECONDS = 60.0
USGS_EVENT_KM = 100.0
USGS_EVENT_MAGNITUDE = 1.0


def same_event(a: Quake, b: Quake) -> bool:
    """Two records of one quake by their parameters: origin time, epicentre and magnitude all within BMKG's
    revision tolerances (wider when one side is USGS). Two quakes close in time and place but of other sizes
    (an M5.1 seconds after an M7.0) are two quakes. Identifiers, when both records carry the same one, are
    compared before this (:mod:`siaga.hazards.actions`)."""
    usgs = "usgs" in (a.source, b.source)
    seconds, km, magnitude = ((USGS_EVENT_SECONDS, USGS_EVENT_KM, USGS_EVENT_MAGNITUDE) if usgs
                              else (SAME_EVENT_SECONDS, SAME_EVENT_KM, SAME_EVENT_MAGNITUDE))
    if abs((a.time_utc - b.time_utc).total_seconds()) > seconds:
        return False
    if abs(a.magnitude - b.magnitude) > magnitude + 1e-9:
        return False
    return haversine_km(a.lat, a.lon, b.lat, b.lon) <= km


def identifiers(quake: Quake, inatews_event_id: str = "") -> tuple[str, ...]:
    """BMKG's own names for the quake in a record: its shakemap (``shakemap:20211005180027``) and, for an
    InaTEWS message, its event id (``inatews:20230425030533``)."""
    found = []
    if quake.shakemap:
        stem = re.sub(r"\.(mmi|jpg|png|gif).*$", "", quake.shakemap.strip().lower())
        if stem:
            found.append(f"shakemap:{stem[:40]}")
    if inatews_event_id.strip():
        found.append(f"inatews:{inatews_event_id.strip()[:40]}")
    return tuple(found)
