"""API for the command-centre wall: today's KPIs, who is on duty, active warnings, evacuation layer."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from siaga.core import presence, warnings
from siaga.core.api_support import ErrorOut, allow
from siaga.core.models import EvacuationRoute, EvacuationSite
from siaga.core.roles import HUMAN_ROLES, STAFF, Role, user_roles
from siaga.reports import kpis

router = Router(tags=["command centre"])
WALL_READERS = (*STAFF, Role.WALL)


class KpisOut(Schema):
    start: datetime
    end: datetime
    calls: int
    by_outcome: dict[str, int]
    share_prank: float | None
    share_ghost: float | None
    share_information: float | None
    answer_sample: int
    answered_within_15s: float | None
    nena_target: float
    incidents: int
    open_incidents: int
    median_dispatch_seconds: float | None
    open_by_agency: dict[str, int]


@router.get("/kpis/today", auth=allow(*WALL_READERS), response=KpisOut,
            summary="Today's indicators (Jakarta day): calls, shares, NENA answer time, time to dispatch")
def kpis_today(request: HttpRequest) -> Any:
    return kpis.today().as_dict()


class PresenceOut(Schema):
    username: str
    name: str
    roles: list[str]
    last_seen: datetime


@router.get("/presence", auth=allow(*WALL_READERS), response=list[PresenceOut],
            summary="Who is on duty: users seen in the last 10 minutes")
def on_duty(request: HttpRequest) -> Any:
    return [{"username": p.user.get_username(), "name": p.user.get_full_name() or p.user.get_username(),
             "roles": sorted(r.value for r in user_roles(p.user)), "last_seen": p.last_seen}
            for p in presence.online()]


class WarningOut(Schema):
    id: str
    headline: str
    level: str
    issued_at: str
    exercise: bool
    review: list[str] = Field(default_factory=list, description="why a supervisor should check the automatic "
                              "decision behind it (policy reason codes); empty when nothing")
    ews_level: str = Field("", description="WASPADA, SIAGA or AWAS (empty for an earthquake notice)")
    event: str = Field("", description="the CAP event in Bahasa Indonesia")
    area_codes: list[str] = Field(default_factory=list, description="Kemendagri codes of the kecamatan it "
                                  "covers; empty: the whole city")
    expires: str | None = None


@router.get("/warnings/active", auth=allow(*HUMAN_ROLES), response=list[WarningOut],
            summary="Active public warnings (full-screen first)")
def active_warnings(request: HttpRequest) -> Any:
    return warnings.active()


class ReportFilter(Schema):
    date: str | None = None
    month: str | None = None
    shift: str | None = None


@router.get("/reports/{kind}", auth=allow(Role.SUPERVISOR, Role.ADMIN), response={200: dict[str, Any], 422: ErrorOut},
            summary="A shift, daily or monthly report as JSON (schema siaga112.report/1)")
def report(request: HttpRequest, kind: Literal["shift", "daily", "monthly"], filters: Query[ReportFilter]) -> Any:
    from siaga.reports import compute
    from siaga.reports.views import choose

    return compute.build(choose({"kind": kind, "date": filters.date, "month": filters.month,
                                 "shift": filters.shift}))


@router.get("/evacuation", auth=allow(*HUMAN_ROLES), response=dict[str, Any],
            summary="Tsunami evacuation sites and routes (GeoJSON; items without a position are listed apart)")
def evacuation(request: HttpRequest) -> Any:
    features: list[dict[str, Any]] = []
    unplaced: list[dict[str, Any]] = []
    for site in EvacuationSite.objects.all():
        props = {"kind": "site", "name": site.name, "site_kind": site.kind, "area": site.area,
                 "capacity": site.capacity}
        if site.lat is None or site.lon is None:
            unplaced.append(props)
        else:
            features.append({"type": "Feature", "properties": props,
                             "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]}})
    for route in EvacuationRoute.objects.all():
        props = {"kind": "route", "name": route.name, "area": route.area}
        if route.geometry:
            features.append({"type": "Feature", "properties": props, "geometry": route.geometry})
        else:
            unplaced.append(props)
    return {"type": "FeatureCollection", "features": features, "unplaced": unplaced,
            "fullscreen_warning": warnings.any_fullscreen()}
