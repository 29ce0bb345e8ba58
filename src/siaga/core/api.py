"""API: who am I, reference data (agencies, regions), point resolution, the audit log."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import pgettext_lazy
from ninja import Query, Router, Schema
from pydantic import StrictBool

from siaga.core import audit, regions
from siaga.core.api_support import ErrorOut, Limit, allow, clamp_limit
from siaga.core.errors import ValidationFailed
from siaga.core.models import Agency, AuditLog, Kecamatan, Kelurahan, UserProfile
from siaga.core.roles import HUMAN_ROLES, Principal, Role

router = Router(tags=["reference"])
ANYONE = HUMAN_ROLES
MACHINES_TOO = (*HUMAN_ROLES, Role.PBX, Role.AML)


class MeOut(Schema):
    principal: str
    username: str | None
    roles: list[str]
    agency: str | None
    ring_muted: bool


@router.get("/me", response=MeOut, auth=allow(*MACHINES_TOO), summary="Who the request acts as")
def me(request: HttpRequest) -> dict[str, Any]:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    agency = Agency.objects.filter(pk=principal.agency_id).values_list("code", flat=True).first()
    return {
        "principal": principal.label,
        "username": principal.user.get_username() if principal.user is not None else None,
        "roles": sorted(r.value for r in principal.roles),
        "agency": agency,
        "ring_muted": _profile_flag(principal, "ring_muted"),
    }


def _profile_flag(principal: Principal, name: str) -> bool:
    if principal.user is None:
        return False
    return bool(UserProfile.objects.filter(user=principal.user).values_list(name, flat=True).first())


class PreferencesIn(Schema):
    ring_muted: StrictBool


@router.patch("/me/preferences", response={200: MeOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
              auth=allow(*ANYONE), summary="My own settings (the console's ring sound on or off)")
def my_preferences(request: HttpRequest, payload: PreferencesIn) -> dict[str, Any]:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    assert principal.user is not None
    UserProfile.objects.update_or_create(user=principal.user, defaults={"ring_muted": payload.ring_muted})
    return me(request)


class AgencyOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    phone: str
    active: bool


@router.get("/agencies", response=list[AgencyOut], auth=allow(*ANYONE), summary="Agencies that receive dispatches")
def agencies(request: HttpRequest) -> Any:
    return Agency.objects.order_by("short_name")


class KecamatanOut(Schema):
    id: int
    code: str
    bps_code: str
    name: str
    centroid_lat: float
    centroid_lon: float
    bbox: list[float]
    geometry: dict[str, Any] | None = None


class KelurahanOut(KecamatanOut):
    kecamatan_id: int
    postcode: str


class GeometryFilter(Schema):
    geometry: bool = False


def _with_geometry(rows: Any, geometry: bool) -> list[dict[str, Any]]:
    fields = [f.attname for f in rows.model._meta.concrete_fields if f.attname != "geometry" or geometry]
    return list(rows.values(*fields))


@router.get("/regions/kecamatan", response=list[KecamatanOut], auth=allow(*ANYONE),
            summary="The city's kecamatan (boundaries with ?geometry=true)")
def kecamatan(request: HttpRequest, filters: Query[GeometryFilter]) -> Any:
    return _with_geometry(Kecamatan.objects.order_by("code"), filters.geometry)


@router.get("/regions/kelurahan", response=list[KelurahanOut], auth=allow(*ANYONE),
            summary="The city's kelurahan with postcodes (boundaries with ?geometry=true)")
def kelurahan(request: HttpRequest, filters: Query[GeometryFilter]) -> Any:
    return _with_geometry(Kelurahan.objects.order_by("code"), filters.geometry)


@router.get("/regions/geojson", auth=allow(*ANYONE), response=dict[str, Any],
            summary="Boundaries as a GeoJSON FeatureCollection (level=kelurahan or kecamatan), for maps")
def regions_geojson(request: HttpRequest, level: Literal["kelurahan", "kecamatan"] = "kelurahan") -> Any:
    if level not in ("kelurahan", "kecamatan"):
        raise ValidationFailed(pgettext_lazy("error", "level must be kelurahan or kecamatan"), field="level")
    features = []
    if level == "kelurahan":
        for kel in Kelurahan.objects.select_related("kecamatan").order_by("code"):
            features.append({"type": "Feature", "geometry": kel.geometry, "properties": {
                "code": kel.code, "name": kel.name, "kecamatan": kel.kecamatan.name, "postcode": kel.postcode}})
    else:
        for kec in Kecamatan.objects.order_by("code"):
            features.append({"type": "Feature", "geometry": kec.geometry,
                             "properties": {"code": kec.code, "name": kec.name}})
    return {"type": "FeatureCollection", "features": features}


class ResolveOut(Schema):
    lat: float
    lon: float
    inside_city: bool
    kelurahan_id: int | None
    kelurahan: str | None
    kecamatan_id: int | None
    kecamatan: str | None
    postcode: str | None


@router.get("/regions/resolve", response={200: ResolveOut, 422: ErrorOut}, auth=allow(*ANYONE),
            summary="The kelurahan and kecamatan of a point")
def resolve(request: HttpRequest, lat: float, lon: float) -> Any:
    try:
        found = regions.resolve(lat, lon)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="lat" if "latitude" in str(exc) else "lon") from None
    return {"lat": lat, "lon": lon, "inside_city": found.kelurahan_id is not None,
            "kelurahan_id": found.kelurahan_id, "kelurahan": found.kelurahan_name,
            "kecamatan_id": found.kecamatan_id, "kecamatan": found.kecamatan_name, "postcode": found.postcode}


class AuditOut(Schema):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str

    # rows written before a field was known to be secret (a webhook's `secret`, once) show its fingerprint
    @staticmethod
    def resolve_before(row: AuditLog) -> Any:
        return audit.masked(row.before)

    @staticmethod
    def resolve_after(row: AuditLog) -> Any:
        return audit.masked(row.after)


class AuditFilter(Schema):
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    limit: Limit = 100


@router.get("/audit", response=list[AuditOut], auth=allow(Role.SUPERVISOR, Role.ADMIN),
            summary="The append-only audit log, newest first")
def audit_log(request: HttpRequest, filters: Query[AuditFilter]) -> Any:
    rows = AuditLog.objects.order_by("-id")
    if filters.object_type:
        rows = rows.filter(object_type=filters.object_type)
    if filters.object_id:
        rows = rows.filter(object_id=filters.object_id)
    if filters.action:
        rows = rows.filter(action__startswith=filters.action)
    return rows[: clamp_limit(filters.limit)]


class AuditChainOut(Schema):
    ok: bool
    rows: int
    seals: int
    unsealed: int
    head: str
    anchor: str  # SEAL:HASH, what `siaga audit verify --expect` takes
    problems: list[str]


@router.get("/audit/chain", response=AuditChainOut, auth=allow(Role.ADMIN),
            summary="Verify the audit log's hash chain (for monitoring; walks every seal, so poll it hourly, "
                    "not every second)")
def audit_chain(request: HttpRequest) -> dict[str, Any]:
    from siaga.core.auditchain import verify

    report = verify()
    return {"ok": report.ok, "rows": report.rows, "seals": report.seals, "unsealed": report.unsealed,
            "head": report.head, "anchor": report.anchor, "problems": report.problems}
