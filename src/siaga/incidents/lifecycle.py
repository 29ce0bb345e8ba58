"""The incident and dispatch lifecycles: which step may follow which.

Incident::

    new -> verified -> dispatched -> on_scene -> resolved -> closed
      \\________\\___________\\_________-> cancelled / duplicate   (until resolved)

``dispatched`` and ``on_scene`` are reached through dispatches (the first dispatch, the first unit on
scene) or set by hand; ``resolved`` needs at least one dispatch that was not declined or withdrawn;
``closed`` needs ``resolved`` and no dispatch still active.

Dispatch::

    requested -> acknowledged -> en_route -> on_scene -> completed
        \\____________\\-> declined (with a reason)
    any active step -> cancelled (withdrawn, e.g. the incident was cancelled)

Steps may be skipped forward (a unit already nearby goes straight to on_scene), never backward.
"""

from __future__ import annotations

from siaga.incidents.models import DispatchStatus as D
from siaga.incidents.models import IncidentStatus as S

INCIDENT_NEXT: dict[str, tuple[str, ...]] = {
    S.NEW: (S.VERIFIED, S.DISPATCHED, S.CANCELLED, S.DUPLICATE),
    S.VERIFIED: (S.DISPATCHED, S.CANCELLED, S.DUPLICATE),
    S.DISPATCHED: (S.ON_SCENE, S.RESOLVED, S.CANCELLED, S.DUPLICATE),
    S.ON_SCENE: (S.RESOLVED, S.CANCELLED),
    S.RESOLVED: (S.CLOSED,),
    S.CLOSED: (),
    S.CANCELLED: (),
    S.DUPLICATE: (),
}

# The incident timestamp each status sets.
INCIDENT_TIME_FIELD: dict[str, str] = {
    S.VERIFIED: "verified_at",
    S.DISPATCHED: "dispatched_at",
    S.ON_SCENE: "on_scene_at",
    S.RESOLVED: "resolved_at",
    S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
    S.DUPLICATE: "cancelled_at",
}

DISPATCH_ORDER = (D.REQUESTED, D.ACKNOWLEDGED, D.EN_ROUTE, D.ON_SCENE, D.COMPLETED)
DISPATCH_TERMINAL = (D.COMPLETED, D.DECLINED, D.CANCELLED)

DISPATCH_TIME_FIELD: dict[str, str] = {
    D.REQUESTED: "requested_at",
    D.ACKNOWLEDGED: "acknowledged_at",
    D.EN_ROUTE: "en_route_at",
    D.ON_SCENE: "on_scene_at",
    D.COMPLETED: "completed_at",
    D.DECLINED: "declined_at",
    D.CANCELLED: "cancelled_at",
}

# Incidents that accept new dispatches.
DISPATCHABLE = (S.NEW, S.VERIFIED, S.DISPATCHED, S.ON_SCENE)


def incident_step_allowed(current: str, target: str) -> bool:
    return target in INCIDENT_NEXT.get(current, ())


def dispatch_step_allowed(current: str, target: str) -> bool:
    if current in DISPATCH_TERMINAL:
        return False
    if target == D.CANCELLED:
        return True
    if target == D.DECLINED:
        return current in (D.REQUESTED, D.ACKNOWLEDGED)
    if target in DISPATCH_ORDER and current in DISPATCH_ORDER:
        return DISPATCH_ORDER.index(target) > DISPATCH_ORDER.index(current)
    return False
