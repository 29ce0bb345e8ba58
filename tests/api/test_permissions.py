"""Every API operation has a role gate, and each role gets exactly the access this table says.

The table is written out by hand (it is the specification); a test fails when an operation exists that
the table does not list, so a new endpoint cannot ship without deciding who may call it.
"""

import json
from typing import Any

import pytest

from siaga.config.api import api
from siaga.core.api_support import roles_of
from siaga.incidents import actions
from tests.calls.helpers import ev, post_event

pytestmark = pytest.mark.django_db

EVERYONE = {"operator", "supervisor", "agency", "wall", "admin"}
STAFF = {"operator", "supervisor", "admin"}
READERS = STAFF | {"wall", "agency"}

# (method, path, roles allowed)
MATRIX: list[tuple[str, str, set[str]]] = [
    ("GET", "/me", EVERYONE | {"pbx", "aml"}),
    ("PATCH", "/me/preferences", EVERYONE),
    ("GET", "/agencies", EVERYONE),
    ("GET", "/regions/kecamatan", EVERYONE),
    ("GET", "/regions/kelurahan", EVERYONE),
    ("GET", "/regions/resolve?lat=-6.0&lon=106.0", EVERYONE),
    ("GET", "/regions/geojson", EVERYONE),
    ("GET", "/audit", {"supervisor", "admin"}),
    ("GET", "/audit/chain", {"admin"}),
    ("POST", "/cti/events", {"pbx"}),
    ("POST", "/eido", {"partner"}),
    ("POST", "/aml/sms", {"aml"}),
    ("POST", "/aml/https", {"aml"}),
    ("GET", "/blocklist", STAFF | {"pbx"}),
    ("GET", "/calls", STAFF),
    ("GET", "/calls/{call}", STAFF),
    ("POST", "/calls/{call}/tag", STAFF),
    ("GET", "/callers/{number}", STAFF),
    ("POST", "/callers/{number}/lift", {"supervisor", "admin"}),
    ("GET", "/categories", READERS),
    ("GET", "/incidents", READERS),
    ("POST", "/incidents", STAFF),
    ("GET", "/incidents/{incident}", READERS),
    ("GET", "/incidents/{incident}/eido", READERS),
    ("PATCH", "/incidents/{incident}", STAFF),
    ("POST", "/incidents/{incident}/status", STAFF),
    ("POST", "/incidents/{incident}/notes", STAFF | {"agency"}),
    ("POST", "/incidents/{incident}/dispatches", STAFF),
    ("GET", "/dispatches", READERS),
    ("GET", "/dispatches/{dispatch}", READERS),
    ("POST", "/dispatches/{dispatch}/status", {"agency", "supervisor", "admin"}),
    ("POST", "/dispatches/{dispatch}/withdraw", STAFF),
    ("GET", "/kpis/today", STAFF | {"wall"}),
    ("GET", "/presence", STAFF | {"wall"}),
    ("GET", "/warnings/active", EVERYONE),
    ("GET", "/evacuation", EVERYONE),
    ("GET", "/shifts/definitions", EVERYONE),
    ("PUT", "/shifts/definitions", {"admin"}),
    ("GET", "/shifts/current", STAFF | {"wall"}),
    ("POST", "/shifts/start", STAFF),
    ("POST", "/shifts/end", STAFF),
    ("GET", "/roster?month=2026-12", STAFF),
    ("POST", "/roster", {"supervisor", "admin"}),
    ("DELETE", "/roster/{entry}", {"supervisor", "admin"}),
    ("GET", "/roster/export?month=2026-12", {"supervisor", "admin"}),
    ("POST", "/roster/import?month=2026-12", {"supervisor", "admin"}),
    ("GET", "/staff", {"supervisor", "admin"}),
    ("POST", "/handovers", {"supervisor", "admin"}),
    ("POST", "/handovers/{handover}/acknowledge", {"supervisor", "admin"}),
    ("GET", "/handovers/{handover}", STAFF | {"wall"}),
    ("GET", "/reports/{kind}?date=2026-11-01", {"supervisor", "admin"}),
    ("GET", "/alerts/threads", EVERYONE),
    ("GET", "/alerts/{alert}", EVERYONE),
    ("GET", "/alerts/{alert}/cap", EVERYONE),
    ("POST", "/alerts/threads/{thread}/update", {"supervisor", "admin"}),
    ("POST", "/alerts/threads/{thread}/cancel", {"supervisor", "admin"}),
    ("GET", "/alerts/drafts", STAFF),
    ("POST", "/alerts/drafts", STAFF),
    ("POST", "/alerts/drafts/{draft}/submit", STAFF),
    ("POST", "/alerts/drafts/{draft}/approve", {"supervisor", "admin"}),
    ("POST", "/alerts/drafts/{draft}/reject", {"supervisor", "admin"}),
    ("GET", "/alerts/deliveries", STAFF),
    ("POST", "/alerts/deliveries/resend", {"admin"}),
    ("GET", "/alerts/external", STAFF | {"wall"}),
    ("GET", "/hazards/events", STAFF | {"wall"}),
    ("GET", "/hazards/feeds", STAFF | {"wall"}),
    ("GET", "/hazards/review", STAFF | {"wall"}),
    ("POST", "/hazards/events/{event}/review", {"supervisor", "admin"}),
]


def _operations() -> set[tuple[str, str]]:
    found = set()
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    found.add((method, path))
    return found


def _template(path: str) -> str:
    import re

    return re.sub(r"\{[a-z_:]+\}", "{x}", path.split("?")[0])


def test_every_operation_is_gated() -> None:
    ungated = []
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if roles_of(operation.auth_callbacks) is None:
                    ungated.append(path)
    assert ungated == []


def test_the_table_covers_every_operation() -> None:
    actual = {(m, _template(p)) for m, p in _operations()}
    table = {(m, _template(p)) for m, p, _ in MATRIX}
    assert actual == table, {"not in table": actual - table, "no longer exist": table - actual}


def _machine(name: str, kind: str, secret: str = "") -> Any:
    from siaga.core.models import Integration
    from siaga.core.roles import Principal
    from tests.conftest import Machine

    integration = Integration.objects.create(name=name, kind=kind, hmac_secret=secret)
    return Machine(integration, integration.rotate_token(), Principal.for_integration(integration))


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One of everything an operation can name, built once for the module (72 cases read it) inside a
    transaction that is rolled back at the module's end; each case runs in a savepoint of its own, so what
    one case changes is undone before the next."""
    from datetime import timedelta

    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from siaga.alerts import actions as alert_actions
    from siaga.calls.models import Call
    from siaga.core.models import Integration
    from siaga.hazards.models import HazardEvent
    from siaga.shifts import actions as shift_actions
    from siaga.shifts import queries as shift_queries
    from siaga.shifts.models import RosterEntry
    from tests.alerts.conftest import issue
    from tests.conftest import ROLE_USERS, make_actor

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            # named apart from the ``actors`` fixture's users, which the other tests here create beside these
            actors = {name: make_actor(f"w_{name}", role, agency) for name, (role, agency) in ROLE_USERS.items()}
            pbx = _machine("perm-pbx", Integration.Kind.PBX, "s3cret-pbx-signing-key")
            aml = _machine("perm-aml", Integration.Kind.AML, "aml-perm-key-0123456789")
            partner = _machine("perm-partner", Integration.Kind.PARTNER)
            post_event(Client(), pbx, ev("offered", call="perm", caller="081234567890"))
            incident, _ = actions.do_create_incident(actors["operator"].principal, category="kebakaran",
                                                     lat=-6.0171, lon=106.0556)
            dispatch, _ = actions.do_dispatch(actors["operator"].principal, incident.pk, "damkar")
            entry = shift_actions.do_roster_add(actors["admin"].principal,
                                                timezone.localdate() + timedelta(days=3), "pagi", "w_operator",
                                                "operator")
            RosterEntry.objects.create(shift=shift_queries.current_shift(), user=actors["supervisor"].user,
                                       role="supervisor")
            handover = shift_actions.do_write_handover(actors["supervisor"].principal, "serah terima uji")
            alert = issue(actors)
            draft = alert_actions.do_draft_create(actors["operator"].principal, {
                "hazard": "banjir", "headline": "uji", "description": "uji", "instruction": "uji"})
            event = HazardEvent.objects.create(key="bmkg-perm", origin_time=timezone.now(), lat=-6.85, lon=105.22,
                                               magnitude=7.4, review=["tsunami_criteria"])
            yield {"ids": {"call": Call.objects.get(call_ref="perm").pk, "number": "+6281234567890",
                           "incident": incident.pk, "dispatch": dispatch.pk, "entry": entry.pk,
                           "handover": handover.pk, "kind": "daily", "alert": alert.pk, "thread": alert.thread_id,
                           "draft": draft.pk, "event": event.pk},
                   "who": {**actors, "pbx": pbx, "aml": aml, "partner": partner}}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.parametrize(("method", "path", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_access(client: Any, world: dict[str, Any], method: str, path: str, allowed: set[str]) -> None:
    url = "/api/v1" + path.format(**world["ids"])
    call = getattr(client, method.lower())
    kwargs: dict[str, Any] = {"content_type": "application/json"} if method != "GET" else {}
    if method != "GET":
        kwargs["data"] = json.dumps({})
    anonymous = call(url, **kwargs)
    assert anonymous.status_code == 401, (url, anonymous.content)
    for name, who in world["who"].items():
        role = "agency" if name.startswith("agency") else name
        if name == "agency_polres":
            continue  # covered by the agency isolation tests
        response = call(url, **kwargs, **who.headers())
        if role in allowed:
            assert response.status_code not in (401, 403), (name, url, response.status_code, response.content)
        else:
            assert response.status_code == 403, (name, url, response.status_code, response.content)
            assert "peran" in response.json()["error"]["message"]  # Indonesian unless asked otherwise


def test_session_auth_needs_csrf_for_writes(client: Any, actors: Any) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(actors["operator"].user)
    assert strict.get("/api/v1/incidents").status_code == 200
    response = strict.post("/api/v1/incidents", data=json.dumps({"category": "banjir"}),
                           content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]["message"]
    strict.get("/console/")  # the page sets the CSRF cookie
    token = strict.cookies["csrftoken"].value
    ok = strict.post("/api/v1/incidents", data=json.dumps({"category": "banjir"}), content_type="application/json",
                     HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 201, ok.content


def test_expired_and_revoked_tokens(client: Any, actors: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from siaga.core.models import ApiToken

    operator = actors["operator"]
    token = ApiToken.objects.get(user=operator.user)
    token.expires_at = timezone.now() - timedelta(minutes=1)
    token.save()
    assert client.get("/api/v1/calls", **operator.headers()).status_code == 401
    token.expires_at = None
    token.revoked_at = timezone.now()
    token.save()
    assert client.get("/api/v1/calls", **operator.headers()).status_code == 401
    operator.user.is_active = False
    operator.user.save()
    token.revoked_at = None
    token.save()
    assert client.get("/api/v1/calls", **operator.headers()).status_code == 401
