"""A PBX is never told to retry forever: every body is stored or refused with a 4xx naming what is wrong,
through both doors (the django-ninja operation and the ASGI lane `siaga serve` puts in front), and nothing
is written on a refusal. Arbitrary JSON is thrown at it with hypothesis."""

import asyncio
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siaga.calls import ingest
from siaga.calls.models import Call, CtiEvent
from tests.calls.helpers import ev, post_event

pytestmark = pytest.mark.django_db(transaction=True)


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


POISON = [
    # (what, raw body, expected status, field named)
    ("NaN in an extra key", json.dumps(ev("offered", call="p1", caller="0812", x=0)).replace('"x": 0', '"x": NaN'),
     422, "x"),
    ("1e400 in an extra key", json.dumps(ev("offered", call="p2", x=0)).replace('"x": 0', '"x": 1e400'), 422, "x"),
    ("Infinity nested", json.dumps(ev("offered", call="p3", x={"y": 0})).replace('"y": 0', '"y": -Infinity'), 422,
     "x"),
    ("nested thousands deep in 16 KiB", '{"x": ' + "[" * 5000 + "]" * 5000 + "}", 400, None),
    ("nested deeper than the contract allows", json.dumps(ev("offered", call="p4"))[:-1] + ', "x": ' + deep(30) + "}",
     422, "x"),
    ("occurred_at past the last year", json.dumps(ev("offered", call="p5", occurred_at="9999-12-31T23:59:59-14:00")),
     422, "occurred_at"),
    ("occurred_at before the first year", json.dumps(ev("offered", call="p6",
                                                         occurred_at="0001-01-01T00:00:00+14:00")), 422, "occurred_at"),
    ("NUL in an extra value", json.dumps(ev("offered", call="p7", note="a\u0000b")), 422, "note"),
    ("a lone surrogate", json.dumps(ev("offered", call="p8", note="x")).replace('"note": "x"', '"note": "\\ud800"'),
     422, "note"),
    ("NUL in the caller", json.dumps(ev("offered", call="p9", caller="0812\u00003")), 422, "caller"),
    ("a number beyond any database", json.dumps(ev("offered", call="p10", x=10**30)), 422, "x"),
    ("a key with NUL", json.dumps(ev("offered", call="p11")).replace('"type"', '"k\\u0000": 1, "type"'), 422,
     "<key>"),
]


def asgi_post(body: bytes, token: str) -> tuple[int, dict[str, Any]]:
    """The ASGI lane, called as uvicorn calls it."""
    scope = {"type": "http", "method": "POST", "path": ingest.PATH,
             "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")]}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(ingest.asgi_endpoint(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


@pytest.mark.parametrize(("what", "raw", "status", "field"), POISON, ids=[p[0] for p in POISON])
def test_poison_is_a_4xx_naming_the_field_through_both_doors(client: Any, pbx: Any, what: str, raw: str,
                                                             status: int, field: str | None) -> None:
    assert len(raw.encode()) <= 16 * 1024
    before = (Call.objects.count(), CtiEvent.objects.count())
    response = post_event(client, pbx, None, raw=raw.encode())
    assert response.status_code == status, (what, response.content)
    assert response.json()["error"]["field"] == field
    lane_status, lane_body = asgi_post(raw.encode(), pbx.token)
    assert (lane_status, lane_body) == (status, response.json())  # the same answer from both doors
    assert (Call.objects.count(), CtiEvent.objects.count()) == before
    ingest.batcher().stop()


def test_a_reused_event_id_for_another_call_leaves_no_empty_call(client: Any, pbx: Any, actors: Any) -> None:
    assert post_event(client, pbx, ev("offered", call="real", caller="081234567890")).status_code == 201
    reused = ev("offered", call="ghost", caller="081234567890", event_id="real:offered")
    response = post_event(client, pbx, reused)
    assert response.status_code == 409 and response.json()["error"]["code"] == "event_id_reused"
    assert list(Call.objects.values_list("call_ref", flat=True)) == ["real"]
    ringing = client.get("/api/v1/calls?state=ringing", **actors["supervisor"].headers()).json()
    assert [c["call_ref"] for c in (ringing["items"] if isinstance(ringing, dict) else ringing)] == ["real"]
    lane_status, _ = asgi_post(json.dumps(dict(reused, event_id="real:offered")).encode(), pbx.token)
    assert lane_status == 409 and Call.objects.count() == 1
    ingest.batcher().stop()


def test_a_failing_batch_is_retried_in_halves(pbx: Any) -> None:
    """A batch that fails at the database (a case validation did not foresee) is split in halves: the good
    events are stored, the bad one fails alone, and it costs a few transactions, not one per neighbour."""
    from siaga.calls.actions import IngestItem, do_ingest_cti_events
    from siaga.formats import cti

    calls: list[int] = []

    def store(items: list[IngestItem]) -> list[Any]:
        calls.append(len(items))
        if any(item.event.call_id == "bad" for item in items):
            raise RuntimeError("the database refused it")
        return do_ingest_cti_events(items)

    batcher = ingest.Batcher(store=store)
    items = [IngestItem(pbx.integration, cti.validate(body), body) for body in
             [ev("offered", call=f"ok-{n}") for n in range(31)] + [ev("offered", call="bad")]]
    batcher._process([ingest._Pending(item) for item in items[:16]] + [ingest._Pending(items[-1])]
                     + [ingest._Pending(item) for item in items[16:-1]])
    assert CtiEvent.objects.count() == 31
    assert len(calls) <= 2 * math.ceil(math.log2(32)) + 1 < 32


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None), max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")


FIELDS = ["event_id", "type", "call_id", "occurred_at", "caller", "line", "agent", "target", "cause"]
bodies = st.one_of(
    # a good event with arbitrary extra keys (stored, or refused naming the key)
    st.tuples(st.uuids(), st.dictionaries(st.sampled_from(["x", "y", "note", "ÿ"]), json_values, min_size=1,
                                          max_size=3)).map(lambda t: {**ev("offered", call=f"h-{t[0]}"), **t[1]}),
    # a good event with one of its own fields replaced by anything
    st.tuples(st.uuids(), st.sampled_from(FIELDS), json_values).map(
        lambda t: {**ev("offered", call=f"h-{t[0]}"), t[1]: t[2]}),
    # anything at all
    st.dictionaries(st.sampled_from([*FIELDS, "x"]), json_values, max_size=8), json_values)


@given(bodies)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_property_arbitrary_json_is_never_a_5xx_and_a_4xx_writes_nothing(client: Any, pbx: Any, body: Any) -> None:
    raw = _dump(body)
    before = (Call.objects.count(), CtiEvent.objects.count())
    response = post_event(client, pbx, None, raw=raw)
    assert response.status_code < 500, (body, response.content)
    if response.status_code >= 400:
        assert response.json()["error"]["message"]
        assert (Call.objects.count(), CtiEvent.objects.count()) == before, body
