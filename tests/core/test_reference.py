"""Cilegon's reference data: complete, consistent, resolvable, and loaded idempotently."""

import csv
from pathlib import Path

import pytest

from siaga.core import regions
from siaga.core.models import Agency, Kecamatan, Kelurahan
from siaga.incidents.models import Category
from siaga.runtime.reference import load_all

# The bundled reference geography (see its SOURCE.txt).
GEO = Path(__file__).resolve().parents[2] / "src" / "siaga" / "core" / "data" / "geo"

REQUIRED_AGENCIES = {"damkar", "polres", "psc119", "bpbd", "satpolpp", "dishub", "dinsos", "pmi", "pln", "pdam",
                     "basarnas"}
REQUIRED_CATEGORIES = {"kebakaran", "kecelakaan-lalu-lintas", "kegawatdaruratan-medis", "kriminalitas", "gempa-bumi",
                       "tsunami", "banjir", "tanah-longsor", "pohon-tumbang", "tiang-kabel-roboh",
                       "kebocoran-gas-kimia", "orang-tenggelam-sar", "binatang-berbahaya", "odgj-pmks",
                       "konflik-sosial", "penemuan-jenazah", "gangguan-listrik"}


def test_counts_and_codes(reference: None) -> None:
    assert Kecamatan.objects.count() == 8
    assert Kelurahan.objects.count() == 43
    assert set(Kecamatan.objects.values_list("code", flat=True)) == {f"36.72.0{i}" for i in range(1, 9)}
    for kel in Kelurahan.objects.select_related("kecamatan"):
        assert kel.code.startswith(kel.kecamatan.code + ".")
        assert len(kel.postcode) == 5 and kel.postcode.startswith("424")


def test_postcodes_match_the_shared_table(reference: None) -> None:
    with (GEO / "cilegon_kelurahan_postcodes.csv").open() as fh:
        expected = {row["kemendagri_code"]: row["postal_code"] for row in csv.DictReader(fh)}
    assert dict(Kelurahan.objects.values_list("code", "postcode")) == expected


def test_every_kelurahan_centroid_resolves_to_itself(reference: None) -> None:
    """The published centroid of each kelurahan (independent source) lands in that kelurahan's polygon."""
    with (GEO / "cilegon_kelurahan_codes.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    by_code = {k.code: k for k in Kelurahan.objects.all()}
    misses = []
    for row in rows:
        found = regions.resolve(float(row["centroid_lat"]), float(row["centroid_lng"]))
        if found.kelurahan_id != by_code[row["kode_kemendagri"]].pk:
            misses.append((row["kode_kemendagri"], found.kelurahan_name))
    # The centroids come from a different (coarser) boundary set; nearly all must agree.
    assert len(misses) <= 2, misses


def test_points_resolve(reference: None) -> None:
    jombang = regions.resolve(-6.0171, 106.0556)
    assert (jombang.kelurahan_name, jombang.kecamatan_name, jombang.postcode) == ("Jombang Wetan", "Jombang", "42411")
    jakarta = regions.resolve(-6.1754, 106.8272)
    assert jakarta.kelurahan_id is None and jakarta.kecamatan_id is None
    with pytest.raises(ValueError, match="latitude"):
        regions.resolve(123.0, 106.0)


def test_agencies_and_categories(reference: None) -> None:
    assert set(Agency.objects.values_list("code", flat=True)) >= REQUIRED_AGENCIES
    assert set(Category.objects.values_list("code", flat=True)) >= REQUIRED_CATEGORIES
    fire = Category.objects.get(code="kebakaran")
    assert fire.default_priority == 1
    assert "damkar" in set(fire.default_agencies.values_list("code", flat=True))
    chem = Category.objects.get(code="kebocoran-gas-kimia")
    assert {"damkar", "bpbd", "dlh"} <= set(chem.default_agencies.values_list("code", flat=True))


def test_loading_twice_is_idempotent_and_keeps_admin_edits(reference: None) -> None:
    Agency.objects.filter(code="damkar").update(phone="0254-000000")
    before = (Kecamatan.objects.count(), Kelurahan.objects.count(), Agency.objects.count(), Category.objects.count())
    report = load_all()
    after = (Kecamatan.objects.count(), Kelurahan.objects.count(), Agency.objects.count(), Category.objects.count())
    assert before == after
    assert report.created.get("agency", 0) == 0
    assert Agency.objects.get(code="damkar").phone == "0254-000000"
    load_all(reset=True)
    assert Agency.objects.get(code="damkar").phone == "113"
