"""CTI ingestion through the API: idempotent, order-independent, authenticated, never half-written."""

import itertools
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siaga.calls.models import Call, CtiEvent
from siaga.core.auth import sign
from siaga.core.models import AuditLog
from tests.calls.helpers import T0, ev, post_event

pytestmark = pytest.mark.django_db

FLOW = [
    ev("offered", at=0, caller="081234567890", line="112"),
    ev("answered", at=6, agent="2001"),
    ev("transferred", at=40, target="psc119"),
    ev("ended", at=95, cause="normal"),
]


def counts() -> tuple[int, int, int]:
    return Call.objects.count(), CtiEvent.objects.count(), AuditLog.objects.count()


def test_a_call_from_offered_to_ended(client: Any, pbx: Any, actors: Any) -> None:
    actors["operator"].user.siaga_profile.extension = "2001"
    actors["operator"].user.siaga_profile.save()
    for body in FLOW:
        response = post_event(client, pbx, body)
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "stored"
    call = Call.objects.get()
    assert call.caller == "+6281234567890" and call.caller_raw == "081234567890"
    assert call.state == "ended"
    assert call.answer_seconds == 6
    assert call.operator == actors["operator"].user
    assert call.transferred_to == "psc119"
    assert call.end_cause == "normal"
    assert call.outcome == ""  # answered calls wait for the operator's tag
    assert call.anomalies == []
    assert AuditLog.objects.filter(action__startswith="cti.", object_id=str(call.pk)).count() == 4


def test_same_event_twice_is_stored_once(client: Any, pbx: Any) -> None:
    first = post_event(client, pbx, FLOW[0])
    before = counts()
    again = post_event(client, pbx, FLOW[0])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"status": "duplicate", "event_id": FLOW[0]["event_id"], "call_id": first.json()["call_id"]}
    assert counts() == before


def test_reused_event_id_with_other_content_is_a_conflict(client: Any, pbx: Any) -> None:
    post_event(client, pbx, FLOW[0])
    before = counts()
    response = post_event(client, pbx, {**FLOW[0], "caller": "089999999999"})
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "event_id"
    assert counts() == before


def test_unanswered_call_is_abandoned_until_an_answer_arrives(client: Any, pbx: Any) -> None:
    post_event(client, pbx, ev("offered", call="c-2", at=0, caller="0812000111"))
    post_event(client, pbx, ev("ended", call="c-2", at=20))
    call = Call.objects.get(call_ref="c-2")
    assert (call.state, call.outcome, call.outcome_auto) == ("ended", "abandoned", True)
    post_event(client, pbx, ev("answered", call="c-2", at=5, agent="2002"))  # arrived late
    call.refresh_from_db()
    assert (call.state, call.outcome, call.outcome_auto) == ("ended", "", False)
    assert (call.answered_at - T0).total_seconds() == 5


def _final_state(call: Call) -> tuple[Any, ...]:
    return (call.caller, call.line, call.state, call.offered_at, call.answered_at, call.ended_at, call.agent,
            call.transferred_to, call.end_cause, call.outcome, tuple(call.anomalies))


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_any_arrival_order_gives_the_same_call(client: Any, pbx: Any, order: tuple[int, ...]) -> None:
    for index in order:
        assert post_event(client, pbx, FLOW[index]).status_code == 201
    call = Call.objects.get()
    assert _final_state(call) == (
        "+6281234567890", "112", "ended", T0, T0 + (call.answered_at - T0), T0 + (call.ended_at - T0), "2001",
        "psc119", "normal", "", ())
    assert (call.answered_at - T0).total_seconds() == 6 and (call.ended_at - T0).total_seconds() == 95
    assert CtiEvent.objects.count() == 4


def test_clock_trouble_is_kept_and_flagged(client: Any, pbx: Any) -> None:
    post_event(client, pbx, ev("offered", call="c-3", at=10, caller="0812000222"))
    post_event(client, pbx, ev("ended", call="c-3", at=2))
    call = Call.objects.get(call_ref="c-3")
    assert call.state == "ended"
    assert any("ended before offered" in a for a in call.anomalies)


def test_withheld_and_odd_numbers_are_never_refused(client: Any, pbx: Any) -> None:
    assert post_event(client, pbx, ev("offered", call="w", caller="anonymous")).status_code == 201
    assert post_event(client, pbx, ev("offered", call="o", caller="12")).status_code == 201
    assert post_event(client, pbx, ev("offered", call="n")).status_code == 201  # no caller at all
    withheld, odd, missing = (Call.objects.get(call_ref=r) for r in ("w", "o", "n"))
    assert withheld.caller is None and withheld.caller_withheld
    assert odd.caller is None and odd.caller_raw == "12" and odd.anomalies
    assert missing.caller_withheld


@pytest.mark.parametrize(("raw", "status", "field", "words"), [
    (b'{"event_id": "x", ', 400, None, "not valid JSON"),
    (b"[]", 422, None, "JSON object"),
    (json.dumps(ev("exploded")).encode(), 422, "type", "unknown"),
    (json.dumps({"type": "call.offered", "call_id": "c", "occurred_at": "2026-01-01T00:00:00Z"}).encode(), 422,
     "event_id", "required"),
    (json.dumps({**ev("offered"), "occurred_at": "2026-01-01T00:00:00"}).encode(), 422, "occurred_at", "time zone"),
    (json.dumps({**ev("offered"), "call_id": None}).encode(), 422, "call_id", "required"),
])
def test_bad_input_is_named_and_nothing_is_written(client: Any, pbx: Any, raw: bytes, status: int,
                                                    field: str | None, words: str) -> None:
    before = counts()
    response = post_event(client, pbx, None, raw=raw)
    assert response.status_code == status
    error = response.json()["error"]
    assert words in error["message"]
    assert error["field"] == field
    assert counts() == before


def test_authentication(client: Any, pbx: Any, actors: Any) -> None:
    body = json.dumps(FLOW[0])
    cases = {
        "none": {},
        "unknown token": {"HTTP_AUTHORIZATION": "Bearer sgi_not-a-token"},
        "garbage": {"HTTP_AUTHORIZATION": "Bearer xyz"},
    }
    for headers in cases.values():
        response = client.post("/api/v1/cti/events", data=body, content_type="application/json", **headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
    # a person's token is valid but not a PBX
    response = client.post("/api/v1/cti/events", data=body, content_type="application/json",
                           **actors["supervisor"].headers())
    assert response.status_code == 403 and "pbx" in response.json()["error"]["message"]
    pbx.integration.active = False
    pbx.integration.save()
    response = post_event(client, pbx, FLOW[0])
    assert response.status_code == 401
    assert Call.objects.count() == 0


def _signed(secret: str, body: bytes, stamp: int | None = None, name: str = "test-pbx") -> dict[str, str]:
    ts = str(int(time.time()) if stamp is None else stamp)
    return {"HTTP_X_SIAGA_INTEGRATION": name, "HTTP_X_SIAGA_TIMESTAMP": ts,
            "HTTP_X_SIAGA_SIGNATURE": sign(secret, ts, body)}


def test_hmac_signature(client: Any, pbx: Any) -> None:
    body = json.dumps(FLOW[0]).encode()
    ok = client.post("/api/v1/cti/events", data=body, content_type="application/json",
                     **_signed("s3cret-pbx-signing-key", body))
    assert ok.status_code == 201
    other = json.dumps(FLOW[1]).encode()
    wrong_key = client.post("/api/v1/cti/events", data=other, content_type="application/json",
                            **_signed("another-key", other))
    assert wrong_key.status_code == 401 and "does not match" in wrong_key.json()["error"]["message"]
    tampered = client.post("/api/v1/cti/events", data=other, content_type="application/json",
                           **_signed("s3cret-pbx-signing-key", body))
    assert tampered.status_code == 401
    stale = client.post("/api/v1/cti/events", data=other, content_type="application/json",
                        **_signed("s3cret-pbx-signing-key", other, stamp=int(time.time()) - 3600))
    assert stale.status_code == 401 and "clock" in stale.json()["error"]["message"]
    assert CtiEvent.objects.count() == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["event_id", "type", "call_id", "occurred_at", "caller", "agent"]),
                       st.none() | st.integers() | st.text(max_size=20), max_size=6))
def test_fuzz_payloads_get_a_clear_answer(client: Any, pbx: Any, data: dict[str, Any]) -> None:
    response = post_event(client, pbx, data)
    assert response.status_code in (200, 201, 409, 422), response.content
    if response.status_code >= 400:
        assert response.json()["error"]["message"]
