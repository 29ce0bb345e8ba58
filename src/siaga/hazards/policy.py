"""The warning policy: what this city's people see for an earthquake or a tsunami warning.

Pure (no Django): the console command, the pollers and the tests call the same function. Three answers:

``fullscreen``
    Tsunami potential relevant to this city's coast. Either an InaTEWS warning zone for our area at
    AWAS (EWS level AWAS) or SIAGA (EWS level SIAGA), or, when BMKG has sent no zones (the open-data
    feeds never carry them), tsunami potential with the epicentre within ``tsunami_km`` of the city
    (EWS level AWAS: without zones nobody can say the wave is small).
``ticker``
    A notice at the bottom of the screen, EWS level WASPADA: a WASPADA zone for our area; tsunami
    potential elsewhere (information only); no tsunami potential but felt here (``Dirasakan`` names the
    city or a neighbour); or magnitude >= ``ticker_magnitude`` within ``ticker_km``.
``none``
    Everything else. It is still recorded and shown in the command centre.

When BMKG's ``Potensi`` sentence is missing, empty or not one seen before, its absence never means "no
tsunami": the decision follows BMKG's own criteria for a tsunami-capable quake (M >= 7.0, at most 100 km
deep, the epicentre at sea or not known to be on land) with the same distances, and is flagged for the
supervisor (:attr:`Decision.review`). So is a tsunami warning whose zones had to be read in the safe
direction (an unreadable level read as AWAS).

The default distance for tsunami relevance is 300 km from the city boundary. Measured from Cilegon's
boundary: Anak Krakatau 56 km, the Sunda Strait mouth 140 km, the Sunda megathrust off Ujung Kulon about
210 km, the Java trench south of Banten about 215 km, the 2009 Tasikmalaya quake 279 km; the 2006
Pangandaran tsunami source (383 km) and Bengkulu 2007 (534 km) stay outside, as their waves did not reach
the Strait. The same 300 km bounds the ticker for M >= 5.0 (Cianjur 2022 is 137 km, Sumedang 224 km).
See docs/decisions/0011-warning-policy.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

from siaga.formats.inatews import LEVEL_RANK, Zone
from siaga.formats.quake import Quake
from siaga.geo import PolygonRings, distance_to_polygons_km, polygons_of, simplify_ring

DISPLAYS = ("none", "ticker", "fullscreen")


class WarningLike(Protocol):
    """What the policy reads of an InaTEWS warning (a :class:`TsunamiWarning` or its stored state)."""

    @property
    def zones(self) -> tuple[Zone, ...]: ...

    @property
    def ended(self) -> bool: ...

    @property
    def problems(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class WarningState:
    zones: tuple[Zone, ...]
    ended: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    city_name: str = "Kota Cilegon"
    tsunami_km: float = 300.0
    ticker_km: float = 300.0
    ticker_magnitude: float = 5.0
    felt_places: tuple[str, ...] = ("Cilegon", "Serang", "Anyer", "Merak", "Pandeglang", "Lampung Selatan")
    zone_provinces: tuple[str, ...] = ("BANTEN",)
    zone_districts: tuple[str, ...] = ("CILEGON",)
    criteria_magnitude: float = 7.0  # BMKG: a quake that can cause a tsunami
    criteria_depth_km: float = 100.0


@dataclass(frozen=True, slots=True)
class City:
    name: str
    polygons: tuple[PolygonRings, ...]

    def distance_km(self, lat: float, lon: float) -> float:
        return distance_to_polygons_km(lat, lon, self.polygons)


@dataclass(frozen=True, slots=True)
class Decision:
    display: str  # none | ticker | fullscreen
    ews_level: str | None  # None | WASPADA | SIAGA | AWAS
    distance_km: float
    reasons: tuple[str, ...]  # machine codes, most important first
    our_zones: tuple[Zone, ...] = field(default=())
    ended: bool = False
    review: tuple[str, ...] = ()  # why a person should check this automatic decision (codes); empty: nothing

    def as_json(self) -> dict[str, Any]:
        return {"display": self.display, "ews_level": self.ews_level, "distance_km": round(self.distance_km, 1),
                "reasons": list(self.reasons), "our_zones": [z.as_json() for z in self.our_zones],
                "ended": self.ended, "review": list(self.review)}


REASON_TEXT = {
    "inatews_zone_awas": ("Zona peringatan tsunami AWAS untuk wilayah kita",
                          "Tsunami warning zone AWAS for our area"),
    "inatews_zone_siaga": ("Zona peringatan tsunami SIAGA untuk wilayah kita",
                           "Tsunami warning zone SIAGA for our area"),
    "inatews_zone_waspada": ("Zona peringatan tsunami WASPADA untuk wilayah kita",
                             "Tsunami warning zone WASPADA for our area"),
    "tsunami_potential_near": ("Berpotensi tsunami, pusat gempa dekat pesisir kita",
                               "Tsunami potential, epicentre near our coast"),
    "tsunami_potential_far": ("Berpotensi tsunami di wilayah lain (informasi)",
                              "Tsunami potential elsewhere (information)"),
    "felt_here": ("Gempa dirasakan di wilayah kita", "Felt in our area"),
    "strong_nearby": ("Gempa kuat di sekitar wilayah kita", "Strong earthquake near our area"),
    "far_or_small": ("Jauh atau kecil: hanya dicatat", "Far away or small: recorded only"),
    "warning_ended": ("Peringatan dini tsunami telah berakhir", "The tsunami warning has ended"),
    "unknown_potential_wording": ("Kalimat potensi BMKG belum dikenal", "BMKG potential wording not seen before"),
    "missing_potential_wording": ("BMKG tidak menyebut potensi tsunami", "BMKG gave no tsunami potential"),
    "tsunami_criteria": ("Memenuhi kriteria tsunami BMKG (M >= 7, dangkal, di laut)",
                         "Meets BMKG's tsunami criteria (M >= 7, shallow, at sea)"),
    "inatews_zone_unreadable": ("Zona InaTEWS tidak terbaca; dibaca ke arah aman",
                                "An InaTEWS zone could not be read; read in the safe direction"),
    "revision_lower_held": ("Pembaruan BMKG akan menurunkan peringatan yang berlaku; peringatan tetap sampai "
                            "BMKG mengakhiri, supervisor membatalkan, atau masa berlakunya habis",
                            "A BMKG update would lower the warning in force; it stays until BMKG ends it, a "
                            "supervisor cancels it or it expires"),
}


def tsunami_criteria(quake: Quake, config: PolicyConfig) -> bool:
    """BMKG's criteria for a quake that can cause a tsunami: M >= 7.0, at most 100 km deep (a missing depth
    counts as shallow), the epicentre at sea or not known to be on land (BMKG writes "di darat")."""
    on_land = "di darat" in quake.region.lower()
    shallow = quake.depth_km is None or quake.depth_km <= config.criteria_depth_km
    return quake.magnitude >= config.criteria_magnitude and shallow and not on_land


def _names_district(zone: Zone, config: PolicyConfig) -> bool:
    district = zone.district.upper().replace("-", " ")
    return any(name.upper() in district for name in config.zone_districts)


def _names_province(zone: Zone, config: PolicyConfig) -> bool:
    province = zone.province.upper().replace("-", " ")
    return any(name.upper() == province or name.upper() in province.split() for name in config.zone_provinces)


def our_zones(warning: WarningLike, config: PolicyConfig) -> tuple[Zone, ...]:
    """The zones that speak for this city: those naming the city itself when there are any (BMKG's most
    specific word wins: Cilegon SIAGA beside Pandeglang AWAS is SIAGA here), else those naming its province."""
    named = tuple(zone for zone in warning.zones if _names_district(zone, config))
    if named:
        return named
    return tuple(zone for zone in warning.zones if _names_province(zone, config))


def felt_here(quake: Quake, config: PolicyConfig) -> bool:
    places = [entry.place for entry in quake.felt] or ([quake.felt_text] if quake.felt_text else [])
    wanted = [name.lower() for name in config.felt_places]
    return any(name in place.lower() for place in places for name in wanted)


def decide(quake: Quake, city: City, config: PolicyConfig, warning: WarningLike | None = None) -> Decision:
    """What the people of ``city`` see for this quake (and its InaTEWS warning, when there is one)."""
    distance = city.distance_km(quake.lat, quake.lon)
    notes: list[str] = []
    review: list[str] = []
    if not quake.potential_known:
        notes.append("unknown_potential_wording" if quake.potential_text.strip() else "missing_potential_wording")
        if quake.potential_text.strip():
            review.append("unknown_potential_wording")
    if warning is not None and warning.problems:
        notes.append("inatews_zone_unreadable")
        review.append("inatews_zone_unreadable")
    if warning is not None and warning.ended:
        return Decision("none", None, distance, ("warning_ended", *notes), ended=True, review=tuple(review))
    potential = quake.tsunami_potential or (warning is not None and bool(warning.zones or warning.problems))
    if not potential and not quake.potential_known and tsunami_criteria(quake, config):
        potential = True  # when in doubt, warn: the sentence says nothing we know, the quake can cause a tsunami
        notes.insert(0, "tsunami_criteria")
        review.insert(0, "tsunami_criteria")
    flagged = tuple(review)
    if warning is not None and warning.zones:
        ours = our_zones(warning, config)
        if ours:
            level = max((z.level for z in ours), key=LEVEL_RANK.__getitem__)
            if level == "AWAS":
                return Decision("fullscreen", "AWAS", distance, ("inatews_zone_awas", *notes), ours, review=flagged)
            if level == "SIAGA":
                return Decision("fullscreen", "SIAGA", distance, ("inatews_zone_siaga", *notes), ours, review=flagged)
            return Decision("ticker", "WASPADA", distance, ("inatews_zone_waspada", *notes), ours, review=flagged)
        if not warning.problems:
            # BMKG has named the threatened coasts and ours is not among them
            return Decision("ticker", "WASPADA", distance, ("tsunami_potential_far", *notes), review=flagged)
    if potential:
        if distance <= config.tsunami_km:
            return Decision("fullscreen", "AWAS", distance, ("tsunami_potential_near", *notes), review=flagged)
        return Decision("ticker", "WASPADA", distance, ("tsunami_potential_far", *notes), review=flagged)
    if felt_here(quake, config):
        return Decision("ticker", "WASPADA", distance, ("felt_here", *notes), review=flagged)
    if quake.magnitude >= config.ticker_magnitude and distance <= config.ticker_km:
        return Decision("ticker", "WASPADA", distance, ("strong_nearby", *notes), review=flagged)
    return Decision("none", None, distance, ("far_or_small", *notes), review=flagged)


def city_from_geojson(name: str, geojson: dict[str, Any], max_vertices: int = 400) -> City:
    """The city's shape from its (kecamatan or boundary) GeoJSON, simplified for distance checks."""
    polygons: list[PolygonRings] = []
    for feature in geojson.get("features", []):
        for rings in polygons_of(feature["geometry"]):
            polygons.append([simplify_ring(ring, max_vertices) for ring in rings if len(ring) >= 4])
    if not polygons:
        raise ValueError("the city GeoJSON has no polygons")
    return City(name, tuple(polygons))


@lru_cache(maxsize=1)
def default_city() -> City:
    """Kota Cilegon from the reference data shipped with Siaga112."""
    path = resources.files("siaga.core") / "data" / "geo" / "cilegon_kecamatan.geojson"
    return city_from_geojson("Kota Cilegon", json.loads(path.read_text(encoding="utf-8")))
