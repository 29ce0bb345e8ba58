"""KPIs on a small fixed day, computed by hand and asserted exactly."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from siaga.calls.actions import do_ingest_cti_event, do_tag_call
from siaga.calls.models import Call
from siaga.formats import cti
from siaga.incidents import actions
from siaga.reports import kpis

pytestmark = pytest.mark.django_db


def at(day: datetime, hhmm: str, seconds: float = 0) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return day.replace(hour=hour, minute=minute) + timedelta(seconds=seconds)


def call(pbx: Any, ref: str, offered: datetime, answer_after: float | None, end_after: float, caller: str) -> Call:
    def event(kind: str, when: datetime, **extra: Any) -> None:
        body = {"event_id": f"{ref}:{kind}", "type": f"call.{kind}", "call_id": ref, "occurred_at": when.isoformat(),
                **extra}
        do_ingest_cti_event(pbx.integration, cti.validate(body), body)

    event("offered", offered, caller=caller)
    if answer_after is not None:
        event("answered", offered + timedelta(seconds=answer_after), agent="2001")
    event("ended", offered + timedelta(seconds=end_after))
    return Call.objects.get(call_ref=ref)


def test_a_day_by_hand(pbx: Any, actors: Any) -> None:
    op = actors["operator"].principal
    day = kpis.today_start() - timedelta(days=1)  # yesterday, Jakarta time: every step is in the past
    plan = [("prank", "08:00", 5, 30), ("ghost", "08:10", 20, 40), ("information", "09:00", 10, 90),
            ("abandoned", "09:30", None, 8), ("abandoned", "09:40", None, 40), ("normal", "10:00", 3, 200),
            ("normal", "10:30", 15, 200)]
    calls = []
    for i, (outcome, hhmm, answer, end) in enumerate(plan):
        c = call(pbx, f"k{i}", at(day, hhmm), answer, end, f"08120000000{i}")
        if outcome not in ("abandoned", "normal"):
            do_tag_call(c.pk, outcome, op)
        calls.append(c)
    first, _ = actions.do_create_incident(op, category="kebakaran", call_id=calls[5].pk, at=at(day, "10:01"))
    actions.do_dispatch(op, first.pk, "damkar", at=at(day, "10:02"))
    second, _ = actions.do_create_incident(op, category="banjir", call_id=calls[6].pk, at=at(day, "10:31"))
    actions.do_dispatch(op, second.pk, "bpbd", at=at(day, "10:35"))
    walk_in, _ = actions.do_create_incident(op, category="pohon-tumbang", at=at(day, "11:00"))
    actions.do_dispatch(op, walk_in.pk, "dlh", at=at(day, "11:01"))
    call(pbx, "day-before", at(day, "00:00", -3600), 2, 20, "081200000099")  # the evening before: not counted

    result = kpis.compute(day, day + timedelta(days=1))
    assert result.calls == 7
    assert result.by_outcome == {"prank": 1, "ghost": 1, "information": 1, "abandoned": 2, "normal": 2}
    assert result.share_prank == pytest.approx(1 / 7)
    assert result.share_ghost == pytest.approx(1 / 7)
    assert result.share_information == pytest.approx(1 / 7)
    # answered: prank(5s) ghost(20s) info(10s) normal(3s) normal(15s); abandoned after 40 s counts, after 8 s not
    assert result.answer_sample == 6
    assert result.answered_within_15s == pytest.approx(4 / 6)
    assert result.incidents == 3
    # 10:00 call -> 10:02 dispatch = 120 s; 10:30 call -> 10:35 = 300 s; walk-in 11:00 -> 11:01 = 60 s
    assert result.median_dispatch_seconds == 120
    assert result.open_by_agency == {"bpbd": 1, "damkar": 1, "dlh": 1}
    assert result.open_incidents == 3


def test_empty_day() -> None:
    day = kpis.today_start() - timedelta(days=400)
    result = kpis.compute(day, day + timedelta(days=1))
    assert result.calls == 0 and result.answered_within_15s is None and result.median_dispatch_seconds is None


def test_kpi_api(client: Any, actors: Any) -> None:
    response = client.get("/api/v1/kpis/today", **actors["wall"].headers())
    assert response.status_code == 200
    body = response.json()
    assert body["nena_target"] == 0.9 and "open_by_agency" in body
