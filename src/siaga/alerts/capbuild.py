"""From a hazard event or a manual draft to a CAP 1.2 alert: texts (Indonesian first), codes, areas.

Areas are the city's kecamatan, each a polygon simplified to at most 100 vertices, with geocodes: the
Kemendagri code (``KEMENDAGRI``) and the postcode of every kelurahan in it (``POSTCODE``), which the
DVB-T2 EWS carousel uses to address set-top boxes. Identifiers are
``urn:oid:<SIAGA_CAP_OID>.<kind>.<yyyymmddhhmmss>.<n>`` (kind 1 = BMKG, 2 = manual).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from siaga.formats import cap
from siaga.geo import polygons_of, simplify_ring

JAKARTA = ZoneInfo("Asia/Jakarta")

# EWS disaster codes (Samsung's EWBSDataType.h, docs/decisions/0013-ews-on-air.md): a CAP parameter for the EWS channel
DISASTER_CODES = {"gempa": "01", "tsunami": "02", "erupsi": "03", "banjir": "05", "kebakaran_lahan": "07",
                  "kebakaran": "09", "cuaca": "0B", "kimia": "0C", "longsor": "0C", "lainnya": "0C"}
HAZARD_EVENT = {
    "banjir": ("Banjir", "Flood", "Met"),
    "kimia": ("Kebocoran gas / bahan kimia", "Chemical release", "CBRNE"),
    "kebakaran": ("Kebakaran", "Fire", "Fire"),
    "tsunami": ("Peringatan Dini Tsunami", "Tsunami warning", "Geo"),
    "gempa": ("Gempa bumi", "Earthquake", "Geo"),
    "longsor": ("Tanah longsor", "Landslide", "Geo"),
    "cuaca": ("Cuaca ekstrem", "Severe weather", "Met"),
    "lainnya": ("Keadaan darurat", "Emergency", "Other"),
}


@dataclass(frozen=True, slots=True)
class CityArea:
    code: str
    name: str
    polygons: tuple[tuple[tuple[float, float], ...], ...]  # (lat, lon), closed, <= 100 vertices each
    postcodes: tuple[str, ...]

    def cap_area(self) -> cap.Area:
        geocodes = [("KEMENDAGRI", self.code)] + [("POSTCODE", p) for p in self.postcodes]
        return cap.Area(desc=f"Kecamatan {self.name}, {settings.CITY_NAME}",
                        polygons=[list(p) for p in self.polygons], geocodes=geocodes)


@lru_cache(maxsize=1)
def _all_areas() -> tuple[CityArea, ...]:
    from siaga.core.models import Kecamatan, Kelurahan

    postcodes: dict[int, set[str]] = {}
    for kecamatan_id, postcode in Kelurahan.objects.values_list("kecamatan_id", "postcode"):
        if postcode:
            postcodes.setdefault(kecamatan_id, set()).add(postcode)
    areas = []
    for kecamatan in Kecamatan.objects.order_by("code"):
        rings = []
        for polygon in polygons_of(kecamatan.geometry):
            simple = simplify_ring(polygon[0], 100)
            rings.append(tuple((round(lat, 5), round(lon, 5)) for lon, lat in simple))
        areas.append(CityArea(kecamatan.code, kecamatan.name, tuple(rings),
                              tuple(sorted(postcodes.get(kecamatan.pk, ())))))
    if not areas:
        raise RuntimeError("no kecamatan in the database: run `siaga load-reference` first")
    return tuple(areas)


def city_areas(codes: list[str] | None = None) -> list[CityArea]:
    areas = list(_all_areas())
    if codes:
        wanted = set(codes)
        unknown = wanted - {a.code for a in areas}
        if unknown:
            raise ValueError(f"unknown kecamatan code(s): {', '.join(sorted(unknown))}")
        areas = [a for a in areas if a.code in wanted]
    return areas


def forget_areas() -> None:
    _all_areas.cache_clear()


@dataclass(slots=True)
class Message:
    """Everything one CAP message needs, in both languages."""

    identifier: str
    sent: datetime
    msg_type: str
    status: str
    display: str
    ews_level: str | None
    event: str
    event_en: str
    category: str
    response: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    headline_en: str
    description: str
    description_en: str
    instruction: str
    instruction_en: str
    expires: datetime | None
    areas: list[CityArea]
    disaster_code: str
    references: list[cap.Reference] = field(default_factory=list)
    parameters: list[tuple[str, str]] = field(default_factory=list)
    web: str | None = None
    incidents: str | None = None
    onset: datetime | None = None


def identifier(kind: int, sent: datetime, number: int) -> str:
    return f"urn:oid:{settings.CAP_OID}.{kind}.{sent.astimezone(JAKARTA):%Y%m%d%H%M%S}.{number}"


EXERCISE_MARKS = ("[LATIHAN] ", "[EXERCISE] ")


def bare_headline(text: str) -> str:
    """A headline without the exercise marks that :func:`build` puts in front (however many were added)."""
    while text.startswith(EXERCISE_MARKS):
        text = text.removeprefix("[LATIHAN] ").removeprefix("[EXERCISE] ")
    return text


def build(message: Message) -> cap.Alert:
    exercise = message.status == "Exercise"
    mark_id = "[LATIHAN] " if exercise else ""
    mark_en = "[EXERCISE] " if exercise else ""
    parameters = [
        ("SIAGA112_DISPLAY", message.display),
        ("EWS_LEVEL", message.ews_level or ""),
        ("EWS_DISASTER_CODE", message.disaster_code),
        *message.parameters,
    ]
    infos = []
    for language, event, headline, description, instruction, mark in (
        ("id-ID", message.event, message.headline, message.description, message.instruction, mark_id),
        ("en-US", message.event_en, message.headline_en, message.description_en, message.instruction_en, mark_en),
    ):
        infos.append(cap.Info(
            language=language, categories=[message.category], event=event, response_types=[message.response],
            urgency=message.urgency, severity=message.severity, certainty=message.certainty,
            onset=message.onset, expires=message.expires, sender_name=settings.CAP_SENDER_NAME,
            headline=(mark + bare_headline(headline))[:300], description=description, instruction=instruction,
            web=message.web, contact=settings.CAP_CONTACT, parameters=list(parameters),
            event_codes=[("EWS_DISASTER_CODE", message.disaster_code)],
            areas=[area.cap_area() for area in message.areas],
        ))
    note = "LATIHAN - bukan kejadian sebenarnya / EXERCISE - not a real event" if exercise else None
    return cap.Alert(identifier=message.identifier, sender=settings.CAP_SENDER, sent=message.sent,
                     status=message.status, msg_type=message.msg_type, scope="Public", note=note,
                     references=message.references, incidents=message.incidents, infos=infos,
                     codes=["profile:Siaga112:1.0"])


def xml_of(alert: cap.Alert) -> bytes:
    return cap.to_xml(alert, zone=JAKARTA)


# --------------------------------------------------------------------------------------------------------
# texts for BMKG events
# --------------------------------------------------------------------------------------------------------

def _wib(when: datetime) -> str:
    return when.astimezone(JAKARTA).strftime("%d-%m-%Y %H:%M:%S WIB")


def _where(lat: float, lon: float) -> str:
    return f"{abs(lat):.2f} {'LS' if lat < 0 else 'LU'} {abs(lon):.2f} {'BT' if lon >= 0 else 'BB'}"


def quake_texts(event: Any, display: str, ews_level: str | None, reasons: list[str], ended: bool = False
                ) -> dict[str, Any]:
    """Texts and CAP codes for a quake event (``HazardEvent`` or anything with the same attributes)."""
    city = settings.CITY_NAME
    depth = f", kedalaman {event.depth_km:g} km" if event.depth_km is not None else ""
    depth_en = f", depth {event.depth_km:g} km" if event.depth_km is not None else ""
    base = (f"Gempa bumi M{event.magnitude:.1f} pada {_wib(event.origin_time)}, lokasi {_where(event.lat, event.lon)}"
            f" ({event.region}){depth}. Jarak sekitar {event.distance_km:.0f} km dari {city}. Sumber: BMKG.")
    base_en = (f"Earthquake M{event.magnitude:.1f} at {_wib(event.origin_time)}, {_where(event.lat, event.lon)}"
               f" ({event.region}){depth_en}, about {event.distance_km:.0f} km from {city}. Source: BMKG.")
    reason = reasons[0] if reasons else ""
    tsunami = event.tsunami_potential or reason.startswith(("inatews_zone", "tsunami"))
    texts: dict[str, Any] = {"category": "Geo", "disaster_code": "02" if tsunami else "01"}
    if ended:
        texts.update(
            event="Peringatan Dini Tsunami", event_en="Tsunami warning", response="AllClear", urgency="Past",
            severity="Minor", certainty="Observed",
            headline=f"Peringatan dini tsunami telah berakhir ({city})",
            headline_en=f"The tsunami warning has ended ({city})",
            description=f"BMKG menyatakan peringatan dini tsunami telah berakhir. {base}",
            description_en=f"BMKG has ended the tsunami warning. {base_en}",
            instruction="Masyarakat dapat kembali ke tempat semula dengan tetap waspada dan mengikuti arahan BPBD.",
            instruction_en="People may return home, staying alert and following BPBD's directions.")
    elif display == "fullscreen" and ews_level == "AWAS":
        texts.update(
            event="Peringatan Dini Tsunami", event_en="Tsunami warning", response="Evacuate", urgency="Immediate",
            severity="Extreme", certainty="Likely",
            headline=f"AWAS TSUNAMI: segera evakuasi dari pantai {city}",
            headline_en=f"TSUNAMI WARNING (AWAS): evacuate the coast of {city} now",
            description=f"{base} Berpotensi tsunami di pesisir {city}.",
            description_en=f"{base_en} A tsunami may reach the coast of {city}.",
            instruction=("Segera evakuasi menyeluruh ke tempat tinggi atau tempat evakuasi sementara terdekat. "
                         "Jauhi pantai dan tepian sungai. Jangan kembali sebelum ada pengumuman resmi bahwa "
                         "peringatan berakhir. Telepon 112 hanya untuk keadaan darurat."),
            instruction_en=("Evacuate fully to high ground or the nearest evacuation site now. Stay away from the "
                            "beach and river banks. Do not return until the warning is officially ended. "
                            "Call 112 for emergencies only."))
    elif display == "fullscreen":
        texts.update(
            event="Peringatan Dini Tsunami", event_en="Tsunami warning", response="Evacuate", urgency="Immediate",
            severity="Severe", certainty="Likely",
            headline=f"SIAGA TSUNAMI: evakuasi dari pantai {city}",
            headline_en=f"TSUNAMI WARNING (SIAGA): evacuate the coast of {city}",
            description=f"{base} BMKG: status SIAGA (perkiraan tinggi 0,5-3 m) untuk {city}.",
            description_en=f"{base_en} BMKG: SIAGA (0.5-3 m expected) for {city}.",
            instruction=("Segera evakuasi dari pantai dan tepian sungai ke tempat yang lebih tinggi. "
                         "Ikuti arahan BPBD. Telepon 112 hanya untuk keadaan darurat."),
            instruction_en=("Evacuate from the beach and river banks to higher ground now. Follow BPBD's "
                            "directions. Call 112 for emergencies only."))
    elif reason == "inatews_zone_waspada":
        texts.update(
            event="Peringatan Dini Tsunami", event_en="Tsunami warning", response="Avoid", urgency="Expected",
            severity="Moderate", certainty="Likely",
            headline=f"WASPADA TSUNAMI: jauhi pantai {city}",
            headline_en=f"TSUNAMI ADVISORY (WASPADA): stay away from the coast of {city}",
            description=f"{base} BMKG: status WASPADA (perkiraan tinggi di bawah 0,5 m).",
            description_en=f"{base_en} BMKG: WASPADA (below 0.5 m expected).",
            instruction="Jauhi pantai dan tepian sungai sampai ada pengumuman resmi. Tetap tenang.",
            instruction_en="Stay away from the beach and river banks until told otherwise. Stay calm.")
    elif reason == "tsunami_potential_far":
        texts.update(
            event="Informasi Gempa Berpotensi Tsunami", event_en="Earthquake with tsunami potential (elsewhere)",
            response="Monitor", urgency="Expected", severity="Minor", certainty="Possible",
            headline=f"Info BMKG: gempa M{event.magnitude:.1f} berpotensi tsunami di {event.region}, jauh dari {city}",
            headline_en=f"BMKG: M{event.magnitude:.1f} quake with tsunami potential near {event.region}, "
                        f"far from {city}",
            description=base, description_en=base_en,
            instruction="Tetap tenang dan ikuti informasi resmi BMKG dan BPBD.",
            instruction_en="Stay calm and follow official BMKG and BPBD information.")
    else:
        texts.update(
            event="Gempa Bumi", event_en="Earthquake", response="Assess", urgency="Past", severity="Minor",
            certainty="Observed",
            headline=f"Gempa M{event.magnitude:.1f} {event.region}: tidak berpotensi tsunami",
            headline_en=f"M{event.magnitude:.1f} earthquake, {event.region}: no tsunami potential",
            description=base, description_en=base_en,
            instruction=("Tetap tenang, waspadai gempa susulan, periksa bangunan sebelum masuk kembali. "
                         "Telepon 112 bila ada korban atau kerusakan."),
            instruction_en=("Stay calm, expect aftershocks, check buildings before going back in. "
                            "Call 112 if anyone is hurt or buildings are damaged."))
    return texts


def expiry(sent: datetime, display: str) -> datetime:
    if display == "fullscreen":
        return sent + timedelta(hours=settings.ALERT_FULLSCREEN_HOURS)
    return sent + timedelta(minutes=settings.ALERT_TICKER_MINUTES)
