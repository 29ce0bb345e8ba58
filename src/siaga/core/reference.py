"""Loading Kota Cilegon's reference data: kecamatan, kelurahan, agencies and the role groups.

Idempotent. Regions are official data and are brought up to date by code on every run; agencies are
created when missing and otherwise left as the admins edited them (``reset=True`` restores the defaults).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, Permission

from siaga.core import regions
from siaga.core.models import Agency, Kecamatan, Kelurahan
from siaga.core.roles import HUMAN_ROLES, Role
from siaga.geo import bbox_of, centroid_of, polygons_of

DATA = Path(__file__).resolve().parent / "data"
GEO = DATA / "geo"
EXPECTED_KECAMATAN = 8
EXPECTED_KELURAHAN = 43


class ReferenceDataError(Exception):
    """The bundled reference files disagree with each other or with what the city has."""


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated}


def _geo_fields(geometry: dict[str, Any]) -> dict[str, Any]:
    polygons = polygons_of(geometry)
    lat, lon = centroid_of(polygons)
    return {"geometry": geometry, "bbox": bbox_of(polygons).as_list(), "centroid_lat": lat, "centroid_lon": lon}


def load_regions(report: LoadReport) -> None:
    kec_doc = json.loads((GEO / "cilegon_kecamatan.geojson").read_text(encoding="utf-8"))
    kel_doc = json.loads((GEO / "cilegon_kelurahan.geojson").read_text(encoding="utf-8"))
    with (GEO / "cilegon_kelurahan_codes.csv").open(encoding="utf-8") as fh:
        by_bps = {row["kode_bps"]: row for row in csv.DictReader(fh)}
    with (GEO / "cilegon_kelurahan_postcodes.csv").open(encoding="utf-8") as fh:
        postcodes = {row["kemendagri_code"]: row["postal_code"] for row in csv.DictReader(fh)}

    if len(kec_doc["features"]) != EXPECTED_KECAMATAN or len(kel_doc["features"]) != EXPECTED_KELURAHAN:
        raise ReferenceDataError(
            f"expected {EXPECTED_KECAMATAN} kecamatan and {EXPECTED_KELURAHAN} kelurahan, found "
            f"{len(kec_doc['features'])} and {len(kel_doc['features'])}"
        )
    kecamatan: dict[str, Kecamatan] = {}
    for feature in kec_doc["features"]:
        props = feature["properties"]
        obj, created = Kecamatan.objects.update_or_create(
            code=props["kode_kemendagri"],
            defaults={"bps_code": props["kode_bps"], "name": props["kecamatan"],
                      "source": "HDX cod-ab-idn (BPS 2020), CC BY-IGO", **_geo_fields(feature["geometry"])},
        )
        kecamatan[obj.code] = obj
        report.count("kecamatan", created)

    for feature in kel_doc["features"]:
        props = feature["properties"]
        bps = props["village_code"].removeprefix("id")
        row = by_bps.get(bps)
        if row is None:
            raise ReferenceDataError(
                f"kelurahan {props['village']} (BPS {bps}) has no Kemendagri code in the crosswalk")
        code = row["kode_kemendagri"]
        if code not in postcodes:
            raise ReferenceDataError(f"kelurahan {code} has no postcode")
        parent = kecamatan.get(row["kode_kec_kemendagri"])
        if parent is None:
            raise ReferenceDataError(f"kelurahan {code} belongs to unknown kecamatan {row['kode_kec_kemendagri']}")
        _, created = Kelurahan.objects.update_or_create(
            code=code,
            defaults={"bps_code": bps, "name": row["nama_kemendagri"], "kecamatan": parent,
                      "postcode": postcodes[code], "source": "HDX cod-ab-idn (BPS 2020), CC BY-IGO",
                      **_geo_fields(feature["geometry"])},
        )
        report.count("kelurahan", created)
    regions.invalidate()


def load_agencies(report: LoadReport, reset: bool = False) -> None:
    for item in json.loads((DATA / "agencies.json").read_text(encoding="utf-8")):
        defaults = {k: item[k] for k in ("name", "short_name", "phone")}
        if reset:
            _, created = Agency.objects.update_or_create(code=item["code"], defaults=defaults)
        else:
            _, created = Agency.objects.get_or_create(code=item["code"], defaults=defaults)
        report.count("agency", created)


# Django model permissions per role, for the admin site (the API and pages check roles themselves).
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.ADMIN: [
        "core.*", "incidents.*", "calls.*", "auth.*", "shifts.*", "webhooks.*",
    ],
    Role.SUPERVISOR: [
        "shifts.view_shiftdefinition", "shifts.view_rosterentry", "shifts.view_handover",
        "core.view_agency", "core.view_kecamatan", "core.view_kelurahan", "core.view_auditlog",
        "incidents.view_category", "calls.view_call", "calls.view_callersanction",
    ],
}


def _permissions(patterns: list[str]) -> list[Permission]:
    perms: list[Permission] = []
    for pattern in patterns:
        app, _, codename = pattern.partition(".")
        qs = Permission.objects.filter(content_type__app_label=app)
        if codename != "*":
            qs = qs.filter(codename=codename)
        perms.extend(qs)
    # The audit log is read-only for everybody, admins included.
    return [p for p in perms if not (p.content_type.model == "auditlog" and not p.codename.startswith("view_"))]


def load_groups(report: LoadReport) -> None:
    for role in HUMAN_ROLES:
        group, created = Group.objects.get_or_create(name=role.value)
        report.count("group", created)
        if role in ROLE_PERMISSIONS:
            group.permissions.set(_permissions(ROLE_PERMISSIONS[role]))


def load_evacuation(report: LoadReport) -> None:
    """The announced sites and routes, by name. Existing rows (with the city's positions) are kept."""
    from siaga.core.models import EvacuationRoute, EvacuationSite

    data = json.loads((DATA / "evacuation_sites.json").read_text(encoding="utf-8"))
    for site in data["sites"]:
        _, created = EvacuationSite.objects.get_or_create(
            name=site["name"], defaults={"kind": site["kind"], "area": site["area"], "source": site["source"]})
        report.count("evacuation_site", created)
    for route in data["routes"]:
        _, created = EvacuationRoute.objects.get_or_create(
            name=route["name"], defaults={"area": route["area"], "source": route["source"]})
        report.count("evacuation_route", created)
