"""The Asterisk AMI adapter against an AMI server speaking the real protocol with a replayed transcript."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from siaga.calls.ami import AmiTranslator, HttpSink, agent_of, run_adapter
from tests.calls.ami_server import FakeAmi, transcript_blocks


def parse_block(block: str) -> dict[str, str]:
    event = {}
    for line in block.split("\n"):
        key, _, value = line.partition(": ")
        event[key] = value
    return event


def translate_all() -> list[dict[str, Any]]:
    translator = AmiTranslator(["112"])
    out: list[dict[str, Any]] = []
    for block in transcript_blocks():
        out.extend(translator.feed(parse_block(block)))
    return out


def test_translation_of_the_transcript() -> None:
    events = translate_all()
    kinds = [(e["call_id"], e["type"]) for e in events]
    assert kinds == [
        ("1764309600.16", "call.offered"), ("1764309600.16", "call.answered"), ("1764309600.16", "call.ended"),
        ("1764309700.20", "call.offered"), ("1764309700.20", "call.ended"),
        ("1764309800.30", "call.offered"), ("1764309800.30", "call.answered"), ("1764309800.30", "call.transferred"),
        ("1764309800.30", "call.ended"),
    ]
    first = {e["type"]: e for e in events if e["call_id"] == "1764309600.16"}
    assert first["call.offered"]["caller"] == "081234567890"
    assert first["call.offered"]["line"] == "112@from-pstn"
    assert first["call.answered"]["agent"] == "2001"
    assert first["call.ended"]["cause"] == "Normal Clearing"
    offered = datetime.fromisoformat(first["call.offered"]["occurred_at"])
    answered = datetime.fromisoformat(first["call.answered"]["occurred_at"])
    assert offered == datetime.fromtimestamp(1764309600.101, tz=UTC)
    assert round((answered - offered).total_seconds(), 2) == 6.0
    transfer = next(e for e in events if e["type"] == "call.transferred")
    assert transfer["target"] == "119"
    assert len({e["event_id"] for e in events}) == len(events)


def test_agent_names() -> None:
    assert agent_of("PJSIP/2001-0000002a", "2001") == "2001"
    assert agent_of("SIP/operator3-00000001", "") == "operator3"
    assert agent_of("", "2005") == "2005"


def test_odd_events_are_ignored() -> None:
    translator = AmiTranslator()
    assert translator.feed({"Event": "Hangup", "Linkedid": "nope"}) == []
    assert translator.feed({"Event": "SomethingNew"}) == []
    assert translator.feed({}) == []


async def _run_against(server: FakeAmi, sink: Any, expected: int, secret: str = "amisecret") -> None:
    stop = asyncio.Event()
    received: list[Any] = []

    async def counting(payload: dict[str, Any]) -> None:
        received.append(payload)
        result = sink(payload)
        if asyncio.iscoroutine(result):
            await result
        if len(received) >= expected:
            stop.set()

    task = asyncio.create_task(run_adapter("127.0.0.1", server.port, "siaga", secret, counting,
                                           AmiTranslator(["112"]), stop))
    try:
        await asyncio.wait_for(stop.wait(), timeout=15)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)


def test_adapter_logs_in_and_reads_the_stream() -> None:
    collected: list[dict[str, Any]] = []

    async def scenario() -> FakeAmi:
        server = FakeAmi("siaga", "amisecret")
        await server.start()
        try:
            await _run_against(server, collected.append, expected=9)
        finally:
            await server.stop()
        return server

    server = asyncio.run(scenario())
    assert server.logins == [("siaga", True)]
    assert server.sent_events == 44
    assert [e["type"] for e in collected] == [e["type"] for e in translate_all()]


@pytest.mark.django_db(transaction=True)
def test_adapter_posts_to_siaga_over_http(live_server: Any, pbx: Any) -> None:
    from siaga.calls.models import Call, CtiEvent

    async def scenario() -> None:
        server = FakeAmi("siaga", "amisecret")
        await server.start()
        sink = HttpSink(live_server.url, pbx.token)
        try:
            await _run_against(server, sink, expected=9)
            # Asterisk reconnects and replays: nothing is stored twice.
            await _run_against(server, sink, expected=9)
        finally:
            await sink.close()
            await server.stop()

    asyncio.run(scenario())
    assert CtiEvent.objects.count() == 9
    calls = {c.call_ref: c for c in Call.objects.all()}
    assert set(calls) == {"1764309600.16", "1764309700.20", "1764309800.30"}
    first = calls["1764309600.16"]
    assert (first.caller, first.state, first.agent) == ("+6281234567890", "ended", "2001")
    assert first.answer_seconds == pytest.approx(6.0, abs=0.01)
    ghost = calls["1764309700.20"]
    assert (ghost.state, ghost.outcome) == ("ended", "abandoned")
    assert calls["1764309800.30"].transferred_to == "119"


def test_http_sink_retries_outages_until_stored() -> None:
    """A Siaga112 that answers 503 twice (restarting) still gets the event: nothing is lost."""
    statuses = [503, 503, 201]
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
        length = int({k.lower(): v for k, v in headers.items()}[b"content-length"])
        seen.append(await reader.readexactly(length))
        status = statuses.pop(0)
        body = b'{"status": "stored", "event_id": "e", "call_id": 1}'
        writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (status, len(body), body))
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sink = HttpSink(f"http://127.0.0.1:{port}", "sgi_x", first_retry=0.01)
        try:
            await asyncio.wait_for(sink({"event_id": "e", "type": "call.offered"}), timeout=10)
        finally:
            await sink.close()
            server.close()

    asyncio.run(scenario())
    assert statuses == [] and len(seen) == 3
    assert all(json.loads(body)["event_id"] == "e" for body in seen)


def test_bad_secret_is_refused_by_the_server() -> None:
    async def scenario() -> FakeAmi:
        server = FakeAmi("siaga", "amisecret")
        await server.start()
        stop = asyncio.Event()
        task = asyncio.create_task(run_adapter("127.0.0.1", server.port, "siaga", "wrong", lambda p: None,
                                               AmiTranslator(), stop))
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        await server.stop()
        return server

    server = asyncio.run(scenario())
    assert server.logins and server.logins[0] == ("siaga", False)
    assert server.sent_events == 0
