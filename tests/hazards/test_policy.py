"""The warning policy for Kota Cilegon: real records, drill scenarios, each rule and its boundary."""

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from siaga.formats import feeds, inatews
from siaga.formats.inatews import TsunamiWarning, Zone
from siaga.formats.quake import Felt, Quake
from siaga.hazards.policy import PolicyConfig, decide, default_city

ROOT = Path(__file__).resolve().parents[2] / "src" / "siaga" / "hazards" / "data"
CONFIG = PolicyConfig()
CITY = default_city()


def _decide(path: Path) -> list[tuple[str, str | None, tuple[str, ...]]]:
    readings = feeds.distinct(feeds.read(path.read_bytes()))
    return [(d.display, d.ews_level, d.reasons) for d in
            (decide(r.quake, CITY, CONFIG, r.warning) for r in readings)]


def quake(lat: float = -6.85, lon: float = 105.22, magnitude: float = 7.4, potential: bool = False,
          felt: tuple[Felt, ...] = (), known: bool = True) -> Quake:
    return Quake(source="test", event_id="bmkg-x", time_utc=datetime(2026, 11, 12, 3, 2, 41, tzinfo=UTC),
                 magnitude=magnitude, depth_km=10.0, lat=lat, lon=lon, tsunami_potential=potential, felt=felt,
                 potential_known=known)


def test_real_records_show_nothing_or_information_for_cilegon() -> None:
    recorded = ROOT / "recorded"
    for path in recorded.glob("autogempa_*.json"):
        assert {d for d, _, _ in _decide(path)} == {"none"}, path.name
    flores = _decide(recorded / "gempaterkini_2021-12-14_flores_potensi_tsunami.json")
    assert ("ticker", "WASPADA", ("tsunami_potential_far",)) in flores  # far away: information only
    assert sum(1 for d, _, _ in flores if d != "none") == 1
    assert _decide(recorded / "inatews_warning_2023-04-25_mentawai_PD1_original.json") == [
        ("ticker", "WASPADA", ("tsunami_potential_far",))]  # zones named, ours not among them


@pytest.mark.parametrize(("name", "display", "level", "reason"), [
    ("autogempa_drill_selat_sunda_m5_felt.json", "ticker", "WASPADA", "felt_here"),
    ("autogempa_drill_selat_sunda_m7_tsunami.json", "fullscreen", "AWAS", "tsunami_potential_near"),
    ("inatews_drill_selat_sunda_PD1.json", "fullscreen", "AWAS", "inatews_zone_awas"),
    ("inatews_drill_selat_sunda_PD2.json", "fullscreen", "SIAGA", "inatews_zone_siaga"),
    ("inatews_drill_selat_sunda_PD4.json", "none", None, "warning_ended"),
    ("inatews_drill_south_java_waspada.json", "ticker", "WASPADA", "inatews_zone_waspada"),
])
def test_drill_scenarios(name: str, display: str, level: str | None, reason: str) -> None:
    [(got_display, got_level, reasons)] = _decide(ROOT / "scenarios" / name)
    assert (got_display, got_level, reasons[0]) == (display, level, reason)


def test_distance_is_zero_inside_the_city_and_grows_outside() -> None:
    assert CITY.distance_km(-6.0, 106.03) == 0.0  # central Cilegon
    assert 50 < CITY.distance_km(-6.102, 105.423) < 62  # Anak Krakatau
    assert 370 < CITY.distance_km(-9.25, 107.41) < 400  # Pangandaran 2006


def test_tsunami_potential_boundary_is_the_configured_distance() -> None:
    near = quake(lat=-8.0, lon=105.8, potential=True)  # Java trench south of Banten, ~215 km
    assert decide(near, CITY, CONFIG).display == "fullscreen"
    tight = dataclasses.replace(CONFIG, tsunami_km=200.0)
    assert decide(near, CITY, tight).display == "ticker"
    far = quake(lat=-9.25, lon=107.41, potential=True)  # Pangandaran
    assert decide(far, CITY, CONFIG).reasons == ("tsunami_potential_far",)


def test_ticker_rules() -> None:
    assert decide(quake(magnitude=5.0, lat=-6.86, lon=107.01), CITY, CONFIG).reasons == ("strong_nearby",)
    assert decide(quake(magnitude=4.9, lat=-6.86, lon=107.01), CITY, CONFIG).display == "none"
    felt = quake(magnitude=3.1, lat=-6.86, lon=107.01, felt=(Felt("Kota Serang", 2, 3),))
    assert decide(felt, CITY, CONFIG).reasons == ("felt_here",)
    elsewhere = quake(magnitude=3.1, lat=-6.86, lon=107.01, felt=(Felt("Cianjur", 2, 3),))
    assert decide(elsewhere, CITY, CONFIG).display == "none"
    assert decide(quake(magnitude=6.0, lat=-8.63, lon=110.08), CITY, CONFIG).display == "none"  # Bantul, 527 km


def _warning(*zones: tuple[str, str, str]) -> TsunamiWarning:
    base = inatews.parse((ROOT / "scenarios" / "inatews_drill_selat_sunda_PD1.json").read_bytes())
    return dataclasses.replace(base, zones=tuple(Zone(p, d, lvl, None) for p, d, lvl in zones))


def test_zones_for_the_city_win_over_its_province() -> None:
    q = quake(potential=True)
    both = _warning(("BANTEN", "PANDEGLANG", "AWAS"), ("BANTEN", "KOTA-CILEGON", "WASPADA"))
    assert (decide(q, CITY, CONFIG, both).display, decide(q, CITY, CONFIG, both).ews_level) == ("ticker", "WASPADA")
    province_only = _warning(("BANTEN", "PANDEGLANG", "SIAGA"), ("LAMPUNG", "LAMPUNG-SELATAN", "AWAS"))
    assert decide(q, CITY, CONFIG, province_only).ews_level == "SIAGA"
    other = _warning(("LAMPUNG", "LAMPUNG-SELATAN", "AWAS"))
    decision = decide(q, CITY, CONFIG, other)
    assert (decision.display, decision.reasons) == ("ticker", ("tsunami_potential_far",))


def test_unknown_wording_is_flagged_in_the_reasons() -> None:
    unfamiliar = dataclasses.replace(quake(potential=True, known=False), potential_text="Waspada tsunami susulan")
    decision = decide(unfamiliar, CITY, CONFIG)
    assert decision.display == "fullscreen"
    assert "unknown_potential_wording" in decision.reasons and "unknown_potential_wording" in decision.review


@pytest.mark.parametrize(("text", "magnitude", "depth", "region", "expected", "review"), [
    # the wording says nothing we know: BMKG's own criteria decide, and a person is asked to look
    ("", 7.4, 10.0, "", ("fullscreen", "AWAS", "tsunami_potential_near"), ("tsunami_criteria",)),
    ("Gempa tidak dirasakan", 7.0, 100.0, "37 km BaratDaya KAB-PANDEGLANG", ("fullscreen", "AWAS",
     "tsunami_potential_near"), ("tsunami_criteria", "unknown_potential_wording")),
    ("", 7.4, None, "Pusat gempa berada di laut 40 km Barat Daya", ("fullscreen", "AWAS",
     "tsunami_potential_near"), ("tsunami_criteria",)),
    # not a tsunami-capable quake by the criteria: the ordinary rules, nothing to review but new words
    ("", 6.9, 10.0, "", ("ticker", "WASPADA", "strong_nearby"), ()),
    ("", 7.4, 101.0, "", ("ticker", "WASPADA", "strong_nearby"), ()),
    ("", 7.4, 10.0, "Pusat gempa berada di darat 20 km Timur Serang", ("ticker", "WASPADA", "strong_nearby"), ()),
    ("Tidak berpotensi tsunami", 7.4, 10.0, "", ("ticker", "WASPADA", "strong_nearby"), ()),
])
def test_a_missing_or_unknown_potensi_is_decided_by_bmkgs_tsunami_criteria(
        text: str, magnitude: float, depth: float | None, region: str, expected: tuple[str, str, str],
        review: tuple[str, ...]) -> None:
    from siaga.formats.quake import tsunami_potential

    potential, known = tsunami_potential(text)
    record = dataclasses.replace(quake(magnitude=magnitude, potential=potential, known=known), depth_km=depth,
                                 region=region, potential_text=text)
    decision = decide(record, CITY, CONFIG)
    assert (decision.display, decision.ews_level, decision.reasons[0]) == expected
    assert decision.review == review


def test_criteria_far_away_are_information_flagged() -> None:
    far = dataclasses.replace(quake(lat=-9.25, lon=107.41, known=False), potential_text="")  # Pangandaran
    decision = decide(far, CITY, CONFIG)
    assert (decision.display, decision.reasons[0], decision.review) == ("ticker", "tsunami_potential_far",
                                                                         ("tsunami_criteria",))


def test_an_unreadable_zone_is_never_read_as_someone_elses_coast() -> None:
    """Zones naming others, and one that could not be read: it might be ours, so the distance decides, and
    the decision is flagged."""
    unread = _warning(("LAMPUNG", "LAMPUNG-SELATAN", "AWAS"))
    unread = dataclasses.replace(unread, problems=("InaTEWS info.wzarea[1]: names neither a province nor a "
                                                   "district; left out",))
    decision = decide(quake(), CITY, CONFIG, unread)
    assert (decision.display, decision.ews_level) == ("fullscreen", "AWAS")
    assert "inatews_zone_unreadable" in decision.review
