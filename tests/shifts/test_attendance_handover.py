"""Attendance (late starts, early leaves) and the handover between shifts with what is still open."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from siaga.core import warnings
from siaga.core.errors import Conflict, Forbidden
from siaga.incidents import actions as incident_actions
from siaga.shifts import actions, queries
from siaga.shifts.models import Handover, RosterEntry

pytestmark = pytest.mark.django_db


def test_late_start_and_early_leave(actors: Any) -> None:
    shift = queries.current_shift()
    assert shift is not None
    RosterEntry.objects.create(shift=shift, user=actors["operator"].user, role="operator")
    late = shift.starts_at + timedelta(minutes=25)
    attendance = actions.do_start_shift(actors["operator"].principal, at=late)
    assert attendance.late_minutes == 25 and attendance.entry.planned
    assert actions.do_start_shift(actors["operator"].principal, at=late + timedelta(minutes=1)).pk == attendance.pk
    ended = actions.do_end_shift(actors["operator"].principal, at=shift.ends_at - timedelta(minutes=45))
    assert ended.early_minutes == 45
    with pytest.raises(Conflict, match="not started"):
        actions.do_end_shift(actors["operator"].principal)


def test_an_unplanned_start_is_recorded_as_a_substitute(actors: Any) -> None:
    attendance = actions.do_start_shift(actors["supervisor"].principal)
    assert attendance.entry.planned is False and attendance.entry.role == "supervisor"
    assert attendance.late_minutes == 0 or attendance.started_at > attendance.entry.shift.starts_at


def rostered(actor: Any, shift: Any = None, role: str = "supervisor") -> Any:
    shift = shift or queries.current_shift()
    RosterEntry.objects.create(shift=shift, user=actor.user, role=role)
    return actor.principal


def test_handover_carries_what_is_open(actors: Any) -> None:
    op, sup = actors["operator"].principal, rostered(actors["supervisor"])
    open_one, _ = incident_actions.do_create_incident(op, category="kebakaran")
    incident_actions.do_dispatch(op, open_one.pk, "damkar")
    closed, _ = incident_actions.do_create_incident(op, category="banjir")
    incident_actions.do_change_incident_status(sup, closed.pk, "cancelled")
    remove = warnings.register_provider(lambda: [{"id": "w1", "headline": "Gempa M5.0", "level": "ticker",
                                                  "issued_at": timezone.now().isoformat(), "exercise": False}])
    try:
        handover = actions.do_write_handover(sup, "Kebakaran di Jombang masih ditangani Damkar.")
    finally:
        remove()
    items = handover.open_items
    assert [i["ticket"] for i in items["incidents"]] == [open_one.ticket]
    assert [(d["ticket"], d["agency"]) for d in items["dispatches"]] == [(open_one.ticket, "Damkar")]
    assert [w["id"] for w in items["warnings"]] == ["w1"]
    assert handover.to_shift.starts_at == handover.from_shift.ends_at
    with pytest.raises(Forbidden):
        actions.do_write_handover(op, "operators do not write handovers")
    rewritten = actions.do_write_handover(sup, "Catatan diperbarui.")
    assert rewritten.pk == handover.pk and rewritten.note == "Catatan diperbarui."
    # the rewrite keeps the first text: both versions, in order
    assert [(v.number, v.note) for v in rewritten.versions.all()] == [
        (1, "Kebakaran di Jombang masih ditangani Damkar."), (2, "Catatan diperbarui.")]
    with pytest.raises(Conflict, match="incoming supervisor"):
        actions.do_acknowledge_handover(sup, handover.pk)
    acknowledged = actions.do_acknowledge_handover(actors["admin"].principal, handover.pk)
    assert acknowledged.acknowledged_by == actors["admin"].user
    with pytest.raises(Conflict, match="already acknowledged"):
        actions.do_write_handover(sup, "too late")


def test_current_shift_api_flags_an_unacknowledged_handover(client: Any, actors: Any) -> None:
    shift = queries.current_shift()
    assert shift is not None
    previous = queries.shift_at(shift.starts_at - timedelta(seconds=1))
    assert previous is not None
    actions.do_write_handover(rostered(actors["supervisor"], previous), "dari shift sebelumnya",
                              at=previous.ends_at - timedelta(minutes=5))
    body = client.get("/api/v1/shifts/current", **actors["wall"].headers()).json()
    assert body["shift"]["id"] == shift.pk
    assert body["pending_handover"]["note"] == "dari shift sebelumnya"
    client.post(f"/api/v1/handovers/{body['pending_handover']['id']}/acknowledge", **actors["admin"].headers())
    assert client.get("/api/v1/shifts/current", **actors["wall"].headers()).json()["pending_handover"] is None


def test_only_the_rostered_supervisor_or_an_admin_writes_the_handover(client: Any, actors: Any) -> None:
    import time_machine

    from tests.conftest import make_actor

    # in the middle of a shift: within 30 minutes of the next one, starting a shift starts the next one
    with time_machine.travel(datetime(2026, 6, 10, 3, 0, tzinfo=UTC), tick=True):  # 10.00 WIB, Pagi
        _rostered_supervisor_or_admin(client, actors, make_actor)


def _rostered_supervisor_or_admin(client: Any, actors: Any, make_actor: Any) -> None:
    shift = queries.current_shift()
    other = make_actor("t_supervisor2", "supervisor")
    rostered(actors["supervisor"], shift)
    on_another_shift = queries.next_shift(shift)
    RosterEntry.objects.create(shift=on_another_shift, user=other.user, role="supervisor")
    response = client.post("/api/v1/handovers", {"note": "bukan shift saya"}, content_type="application/json",
                           **other.headers())
    assert response.status_code == 403 and "terjadwal" in response.json()["error"]["message"]
    # an operator on the shift is not its supervisor either
    rostered(actors["operator"], shift, role="operator")
    with pytest.raises(Forbidden):
        actions.do_write_handover(actors["operator"].principal, "x")
    first = client.post("/api/v1/handovers", {"note": "versi pertama"}, content_type="application/json",
                        **actors["supervisor"].headers())
    assert first.status_code == 201
    second = client.post("/api/v1/handovers", {"note": "ditambah admin"}, content_type="application/json",
                         **actors["admin"].headers())
    assert second.status_code == 201
    body = second.json()
    assert body["id"] == first.json()["id"] and body["note"] == "ditambah admin"
    assert [(v["number"], v["note"], v["written_by"]) for v in body["versions"]] == [
        (1, "versi pertama", "t_supervisor"), (2, "ditambah admin", "t_admin")]
    # a substitute who starts the shift is on its roster from then on
    actions.do_start_shift(other.principal)
    assert actions.do_write_handover(other.principal, "pengganti").versions.count() == 3
    assert Handover.objects.count() == 1
