"""The incident and dispatch lifecycles: which step may follow which.

Incident::

    new -> verified -> dispatched -> on_scene -> resolved -> closed
      \\________\\___________\\_________-> cancelled / duplicate   (until resolved)

``dispatched`` and ``on_scene`` are reached through dispatches (the first dispatch, the first unit on
scene) or set by hand; ``resolved`` needs a unit that reached the scene (a dispatch ``on_scene`` or
``completed``): "Tertangani" while every agency is still "Diminta" would be a claim nobody made;
``closed`` needs ``resolved`` and no dispatch still active. :func:`incident_next_steps` is the one place
that says which steps are open now; the console offers exactly those and the actions refuse the rest.

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


# A dispatch whose unit reached the scene: what makes an incident "handled".
REACHED_SCENE = (D.ON_SCENE, D.COMPLETED)
ACTIVE = (D.REQUESTED, D.ACKNOWLEDGED, D.EN_ROUTE, D.ON_SCENE)


def incident_step_allowed(current: str, target: str) -> bool:
    return target in INCIDENT_NEXT.get(current, ())


def step_refusal(current: str, target: str, dispatch_statuses: list[str]) -> str | None:
    """Why ``target`` cannot follow ``current`` given the incident's dispatches, or None when it can."""
    if not incident_step_allowed(current, target):
        return "order"
    active = any(s in ACTIVE for s in dispatch_statuses)
    if target in (S.DISPATCHED, S.ON_SCENE) and not active:
        return "no_active_dispatch"
    if target == S.RESOLVED and not any(s in REACHED_SCENE for s in dispatch_statuses):
        return "no_unit_on_scene"
    if target == S.CLOSED and active:
        return "active_dispatches"
    return None


def incident_next_steps(current: str, dispatch_statuses: list[str]) -> list[str]:
    """The statuses an incident may move to now, in lifecycle order."""
    return [t for t in INCIDENT_NEXT.get(current, ()) if step_refusal(current, t, dispatch_statuses) is None]


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
