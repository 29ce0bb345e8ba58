"""Every call and incident belongs to the shift it happened in, including across midnight."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from siaga.calls.actions import do_ingest_cti_event
from siaga.calls.models import Call
from siaga.formats import cti
from siaga.incidents import actions

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


@pytest.mark.parametrize(("local", "shift_date", "code"), [
    ("2026-11-20 06:59:59", "2026-11-19", "malam"),
    ("2026-11-20 07:00:00", "2026-11-20", "pagi"),
    ("2026-11-20 22:59:59", "2026-11-20", "siang"),
    ("2026-11-21 00:00:00", "2026-11-20", "malam"),
])
def test_calls_and_incidents_take_their_shift(pbx: Any, actors: Any, local: str, shift_date: str, code: str) -> None:
    moment = datetime.fromisoformat(local).replace(tzinfo=WIB)
    body = {"event_id": f"s-{local}", "type": "call.offered", "call_id": f"s-{local}",
            "occurred_at": moment.isoformat(), "caller": "081234567890"}
    do_ingest_cti_event(pbx.integration, cti.validate(body), body)
    call = Call.objects.select_related("shift__definition").get(call_ref=f"s-{local}")
    assert (call.shift.date.isoformat(), call.shift.definition.code) == (shift_date, code)
    incident, _ = actions.do_create_incident(actors["operator"].principal, category="banjir", at=moment)
    incident.refresh_from_db()
    assert (incident.shift.date.isoformat(), incident.shift.definition.code) == (shift_date, code)
    assert incident.shift.starts_at <= moment < incident.shift.ends_at


def test_a_late_offered_event_moves_the_call_to_its_real_shift(pbx: Any) -> None:
    ended = {"event_id": "late:ended", "type": "call.ended", "call_id": "late",
             "occurred_at": datetime(2026, 11, 20, 7, 0, 5, tzinfo=WIB).isoformat()}
    do_ingest_cti_event(pbx.integration, cti.validate(ended), ended)
    offered = {"event_id": "late:offered", "type": "call.offered", "call_id": "late", "caller": "0812",
               "occurred_at": datetime(2026, 11, 20, 6, 59, 50, tzinfo=WIB).isoformat()}
    do_ingest_cti_event(pbx.integration, cti.validate(offered), offered)
    call = Call.objects.select_related("shift__definition").get(call_ref="late")
    assert call.shift.definition.code == "malam"
