"""Incidents and dispatches: the happy path, every refused step, idempotency, tickets and timeline."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.calls.models import Call
from siaga.core.errors import Forbidden, IllegalTransition, ValidationFailed
from siaga.core.models import AuditLog
from siaga.incidents import actions
from siaga.incidents.models import Dispatch, Incident, TicketCounter
from tests.calls.helpers import ev, post_event

pytestmark = pytest.mark.django_db


def new_incident(actor: Any, **extra: Any) -> Incident:
    incident, _ = actions.do_create_incident(actor.principal, category="kebakaran", lat=-6.0171, lon=106.0556,
                                             description="Rumah terbakar", **extra)
    return incident


def test_happy_path_to_closure(actors: Any) -> None:
    op, sup, damkar = actors["operator"], actors["supervisor"], actors["agency"]
    incident = new_incident(op)
    assert incident.ticket.startswith(f"CLG-{timezone.localtime().year}-")
    assert (incident.priority, incident.status) == (1, "new")
    assert (incident.kelurahan.name, incident.kecamatan.name) == ("Jombang Wetan", "Jombang")
    actions.do_change_incident_status(op.principal, incident.pk, "verified")
    dispatch, created = actions.do_dispatch(op.principal, incident.pk, "damkar")
    assert created
    incident.refresh_from_db()
    assert incident.status == "dispatched" and incident.dispatched_at == dispatch.requested_at
    for step in ("acknowledged", "en_route", "on_scene"):
        actions.do_update_dispatch(damkar.principal, dispatch.pk, step)
    incident.refresh_from_db()
    assert incident.status == "on_scene" and incident.on_scene_at is not None
    actions.do_update_dispatch(damkar.principal, dispatch.pk, "completed")
    actions.do_change_incident_status(op.principal, incident.pk, "resolved")
    actions.do_change_incident_status(sup.principal, incident.pk, "closed", note="api padam, tidak ada korban")
    incident.refresh_from_db()
    assert incident.status == "closed"
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds[0] == "created" and kinds.count("dispatch_status") == 4 and kinds[-1] == "status"
    times = [incident.created_at, incident.verified_at, incident.dispatched_at, incident.on_scene_at,
             incident.resolved_at, incident.closed_at]
    assert times == sorted(times)
    assert AuditLog.objects.filter(object_type="incidents.incident", object_id=str(incident.pk)).count() >= 5


def test_closing_an_undispatched_incident_is_refused(actors: Any) -> None:
    incident = new_incident(actors["operator"])
    with pytest.raises(IllegalTransition, match="cannot become closed"):
        actions.do_change_incident_status(actors["supervisor"].principal, incident.pk, "closed")
    with pytest.raises(IllegalTransition, match="cannot become resolved"):
        actions.do_change_incident_status(actors["operator"].principal, incident.pk, "resolved")
    incident.refresh_from_db()
    assert incident.status == "new"


def test_resolving_when_every_dispatch_was_declined_is_refused(actors: Any) -> None:
    incident = new_incident(actors["operator"])
    dispatch, _ = actions.do_dispatch(actors["operator"].principal, incident.pk, "damkar")
    actions.do_update_dispatch(actors["agency"].principal, dispatch.pk, "declined", reason="di luar wilayah")
    incident.refresh_from_db()
    assert incident.status == "verified"  # no agency on its way: waiting for a dispatch again
    with pytest.raises(IllegalTransition, match="cannot become resolved"):
        actions.do_change_incident_status(actors["operator"].principal, incident.pk, "resolved")


def test_resolved_needs_a_unit_on_scene_and_the_next_steps_say_so(actors: Any) -> None:
    """"Tertangani" while every dispatch is still "Diminta" is refused, and not offered."""
    from siaga.incidents.lifecycle import incident_next_steps

    op = actors["operator"].principal
    incident = new_incident(actors["operator"])
    assert incident_next_steps("new", []) == ["verified", "cancelled", "duplicate"]
    dispatch, _ = actions.do_dispatch(op, incident.pk, "damkar")
    incident.refresh_from_db()
    assert incident_next_steps(incident.status, ["requested"]) == ["on_scene", "cancelled", "duplicate"]
    with pytest.raises(IllegalTransition, match="no unit has reached the scene"):
        actions.do_change_incident_status(op, incident.pk, "resolved")
    actions.do_update_dispatch(actors["agency"].principal, dispatch.pk, "on_scene")
    incident.refresh_from_db()
    assert incident.status == "on_scene"
    assert incident_next_steps(incident.status, ["on_scene"]) == ["resolved", "cancelled"]
    actions.do_change_incident_status(op, incident.pk, "resolved")
    assert incident_next_steps("resolved", ["on_scene"]) == []  # closing waits for the unit to finish
    assert incident_next_steps("resolved", ["completed"]) == ["closed"]


def test_staff_withdraw_a_dispatch_with_a_reason(actors: Any) -> None:
    op, damkar = actors["operator"].principal, actors["agency"].principal
    incident = new_incident(actors["operator"])
    dispatch, _ = actions.do_dispatch(op, incident.pk, "damkar")
    with pytest.raises(ValidationFailed, match="reason"):
        actions.do_withdraw_dispatch(op, dispatch.pk, "  ")
    with pytest.raises(Forbidden):
        actions.do_withdraw_dispatch(damkar, dispatch.pk, "salah kirim")
    actions.do_withdraw_dispatch(op, dispatch.pk, "salah instansi")
    again = actions.do_withdraw_dispatch(op, dispatch.pk, "salah instansi")  # twice is harmless
    assert again.status == "cancelled" and again.reason == "salah instansi"
    assert AuditLog.objects.filter(action="dispatch.cancelled", object_id=str(dispatch.pk)).count() == 1
    assert incident.timeline.filter(kind="dispatch_status", data__to="cancelled").count() == 1
    completed, _ = actions.do_dispatch(op, incident.pk, "polres")
    actions.do_update_dispatch(actors["agency_polres"].principal, completed.pk, "completed")
    with pytest.raises(IllegalTransition, match="only an active dispatch"):
        actions.do_withdraw_dispatch(op, completed.pk, "terlambat")


def test_closing_with_active_dispatches_is_refused(actors: Any) -> None:
    incident = new_incident(actors["operator"])
    dispatch, _ = actions.do_dispatch(actors["operator"].principal, incident.pk, "damkar")
    actions.do_update_dispatch(actors["agency"].principal, dispatch.pk, "on_scene")
    actions.do_change_incident_status(actors["operator"].principal, incident.pk, "resolved")
    with pytest.raises(IllegalTransition, match="still has active dispatches"):
        actions.do_change_incident_status(actors["supervisor"].principal, incident.pk, "closed")


def test_no_dispatch_on_a_closed_or_cancelled_incident(actors: Any) -> None:
    incident = new_incident(actors["operator"])
    actions.do_change_incident_status(actors["supervisor"].principal, incident.pk, "cancelled", note="laporan palsu")
    with pytest.raises(IllegalTransition, match="only an open incident"):
        actions.do_dispatch(actors["operator"].principal, incident.pk, "polres")
    assert not Dispatch.objects.filter(incident=incident).exists()


def test_cancelling_withdraws_active_dispatches(actors: Any) -> None:
    incident = new_incident(actors["operator"])
    dispatch, _ = actions.do_dispatch(actors["operator"].principal, incident.pk, "damkar")
    actions.do_change_incident_status(actors["supervisor"].principal, incident.pk, "cancelled", note="sudah padam")
    dispatch.refresh_from_db()
    assert dispatch.status == "cancelled" and dispatch.cancelled_at is not None
    with pytest.raises(IllegalTransition):
        actions.do_update_dispatch(actors["agency"].principal, dispatch.pk, "on_scene")


def test_times_cannot_go_backwards(actors: Any) -> None:
    op, damkar = actors["operator"], actors["agency"]
    incident = new_incident(op)
    dispatch, _ = actions.do_dispatch(op.principal, incident.pk, "damkar")
    actions.do_update_dispatch(damkar.principal, dispatch.pk, "en_route")
    with pytest.raises(IllegalTransition, match="times cannot go backwards"):
        actions.do_update_dispatch(damkar.principal, dispatch.pk, "on_scene",
                                   at=dispatch.requested_at - timedelta(minutes=5))
    with pytest.raises(IllegalTransition, match="before"):
        actions.do_dispatch(op.principal, incident.pk, "polres", at=incident.created_at - timedelta(seconds=1))
    with pytest.raises(ValidationFailed, match="future"):
        actions.do_update_dispatch(damkar.principal, dispatch.pk, "on_scene",
                                   at=timezone.now() + timedelta(hours=1))
    dispatch.refresh_from_db()
    assert dispatch.status == "en_route"


def test_dispatch_steps_only_go_forward(actors: Any) -> None:
    op, damkar = actors["operator"], actors["agency"]
    incident = new_incident(op)
    dispatch, _ = actions.do_dispatch(op.principal, incident.pk, "damkar")
    actions.do_update_dispatch(damkar.principal, dispatch.pk, "on_scene")  # skipping forward is fine
    with pytest.raises(IllegalTransition):
        actions.do_update_dispatch(damkar.principal, dispatch.pk, "acknowledged")
    with pytest.raises(IllegalTransition):
        actions.do_update_dispatch(damkar.principal, dispatch.pk, "declined", reason="x")
    actions.do_update_dispatch(damkar.principal, dispatch.pk, "on_scene")  # repeating is harmless


def test_decline_needs_a_reason(actors: Any) -> None:
    incident = new_incident(actors["operator"])
    dispatch, _ = actions.do_dispatch(actors["operator"].principal, incident.pk, "damkar")
    with pytest.raises(ValidationFailed, match="reason"):
        actions.do_update_dispatch(actors["agency"].principal, dispatch.pk, "declined")
    actions.do_update_dispatch(actors["agency"].principal, dispatch.pk, "declined", reason="unit sedang bertugas")
    dispatch.refresh_from_db()
    assert dispatch.status == "declined" and dispatch.reason == "unit sedang bertugas"


def test_agency_only_updates_its_own_dispatches(actors: Any) -> None:
    incident = new_incident(actors["operator"])
    dispatch, _ = actions.do_dispatch(actors["operator"].principal, incident.pk, "damkar")
    with pytest.raises(Forbidden):
        actions.do_update_dispatch(actors["agency_polres"].principal, dispatch.pk, "acknowledged")
    with pytest.raises(Forbidden):
        actions.do_update_dispatch(actors["operator"].principal, dispatch.pk, "acknowledged")
    with pytest.raises(Forbidden):
        actions.do_update_dispatch(actors["agency"].principal, dispatch.pk, "cancelled")


def test_idempotent_writes(actors: Any) -> None:
    op = actors["operator"].principal
    first, created = actions.do_create_incident(op, category="banjir", client_ref="tablet-7:0042")
    again, created_again = actions.do_create_incident(op, category="banjir", client_ref="tablet-7:0042")
    assert (created, created_again, first.pk) == (True, False, again.pk)
    d1, c1 = actions.do_dispatch(op, first.pk, "bpbd")
    d2, c2 = actions.do_dispatch(op, first.pk, "bpbd")
    d3, c3 = actions.do_dispatch(op, first.pk, "bpbd", unit_name="Regu 2")
    assert (c1, c2, c3) == (True, False, True) and d1.pk == d2.pk != d3.pk
    assert Incident.objects.filter(client_ref="tablet-7:0042").count() == 1


def test_tickets_count_per_jakarta_year(actors: Any) -> None:
    op = actors["operator"].principal
    # 31 Dec 2025 17:30 UTC is already 1 Jan 2026 in WIB.
    at = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)
    a, _ = actions.do_create_incident(op, category="banjir", at=at)
    b, _ = actions.do_create_incident(op, category="banjir", at=at)
    assert a.ticket.startswith("CLG-2026-") and int(b.ticket[-6:]) == int(a.ticket[-6:]) + 1
    assert TicketCounter.objects.filter(year=2026).exists()


def test_bad_input(actors: Any) -> None:
    op = actors["operator"].principal
    with pytest.raises(ValidationFailed, match="category"):
        actions.do_create_incident(op, category="alien-invasion")
    with pytest.raises(ValidationFailed, match="priority"):
        actions.do_create_incident(op, category="banjir", priority=9)
    with pytest.raises(ValidationFailed, match="latitude"):
        actions.do_create_incident(op, category="banjir", lat=-100.0, lon=106.0)
    with pytest.raises(ValidationFailed, match="together"):
        actions.do_create_incident(op, category="banjir", lat=-6.0)
    with pytest.raises(Forbidden):
        actions.do_create_incident(actors["wall"].principal, category="banjir")
    assert not Incident.objects.exists()


def test_incident_from_a_call_tags_and_links_it(client: Any, pbx: Any, actors: Any) -> None:
    post_event(client, pbx, ev("offered", call="inc-call", caller="081234567890"))
    call = Call.objects.get(call_ref="inc-call")
    incident, _ = actions.do_create_incident(actors["operator"].principal, category="kecelakaan-lalu-lintas",
                                             call_id=call.pk)
    call.refresh_from_db()
    assert call.incident == incident and call.outcome == "normal"
    with pytest.raises(Exception, match="already belongs"):
        actions.do_create_incident(actors["operator"].principal, category="banjir", call_id=call.pk)


def test_outside_the_city_is_kept_without_region(actors: Any) -> None:
    incident, _ = actions.do_create_incident(actors["operator"].principal, category="kecelakaan-lalu-lintas",
                                             lat=-6.12, lon=106.15)
    assert incident.lat == -6.12 and incident.kelurahan is None and incident.kecamatan is None


def test_duplicate_marking(actors: Any) -> None:
    sup = actors["supervisor"].principal
    first, second = new_incident(actors["operator"]), new_incident(actors["operator"])
    with pytest.raises(ValidationFailed, match="duplicate_of"):
        actions.do_change_incident_status(sup, second.pk, "duplicate")
    with pytest.raises(ValidationFailed):
        actions.do_change_incident_status(sup, second.pk, "duplicate", duplicate_of=second.pk)
    actions.do_change_incident_status(sup, second.pk, "duplicate", duplicate_of=first.pk)
    second.refresh_from_db()
    assert second.status == "duplicate" and second.duplicate_of == first


def test_without_an_active_dispatch_a_dispatched_incident_waits_for_one_again(actors: Any) -> None:
    """Declining or withdrawing the last active dispatch: no agency is on its way, so the incident is
    "verified" again (it used to stay "dispatched" and look handled on the wall)."""
    op, damkar = actors["operator"].principal, actors["agency"].principal
    incident = new_incident(actors["operator"])
    first, _ = actions.do_dispatch(op, incident.pk, "damkar")
    second, _ = actions.do_dispatch(op, incident.pk, "polres")
    actions.do_withdraw_dispatch(op, second.pk, "salah instansi")
    incident.refresh_from_db()
    assert incident.status == "dispatched"  # Damkar is still coming
    actions.do_update_dispatch(damkar, first.pk, "declined", reason="semua unit sedang bertugas")
    incident.refresh_from_db()
    assert incident.status == "verified" and incident.verified_at is not None
    assert AuditLog.objects.filter(action="incident.verified", object_id=str(incident.pk)).count() == 1
    assert incident.timeline.filter(kind="status", data__to="verified").count() == 1
    again, _ = actions.do_dispatch(op, incident.pk, "damkar")  # and it can be dispatched again
    incident.refresh_from_db()
    assert incident.status == "dispatched"
    actions.do_update_dispatch(damkar, again.pk, "on_scene")
    actions.do_update_dispatch(damkar, again.pk, "completed")
    incident.refresh_from_db()
    assert incident.status == "on_scene"  # a unit reached the scene: nothing falls back any more
