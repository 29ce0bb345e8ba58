"""Asterisk AMI adapter: turns Newchannel / DialBegin / BridgeEnter / Hangup into CTI events.

A 112 call in Asterisk is a set of channels sharing a ``Linkedid`` (the Uniqueid of the first channel,
the caller's). The translator follows them:

* ``Newchannel`` of a first channel (``Uniqueid == Linkedid``) dialling an emergency extension
  (``Exten``, default 112) -> ``call.offered`` (caller = CallerIDNum, line = Exten@Context);
* ``BridgeEnter`` of another channel of that call -> ``call.answered`` (agent = the extension in the
  channel name, ``PJSIP/2001-0000002a`` -> ``2001``, or its CallerIDNum);
* ``DialBegin`` from an answered call to a new destination -> ``call.transferred`` (target = DestExten);
* ``Hangup`` of the caller's channel -> ``call.ended`` (cause = Cause-txt).

Event ids are derived from Asterisk's own ids (``<Linkedid>:offered`` ...), so replaying a transcript or
reconnecting after a drop never stores an event twice. Times come from the AMI ``Timestamp`` header
(``timestampevents=yes`` in manager.conf) or, without it, from the moment the event is read.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("siaga.cti.ami")
_CHANNEL_EXT = re.compile(r"^[A-Za-z0-9_]+/([^-@/]+)")
MAX_TRACKED = 10_000


@dataclass
class _CallState:
    linkedid: str
    caller_channel: str
    answered: bool = False
    ended: bool = False
    agent_channels: set[str] = field(default_factory=set)
    transfers: set[str] = field(default_factory=set)


def _when(event: Mapping[str, Any], clock: Callable[[], datetime]) -> str:
    stamp = event.get("Timestamp")
    if stamp:
        try:
            return datetime.fromtimestamp(float(stamp), tz=UTC).isoformat()
        except (TypeError, ValueError, OverflowError):
            pass
    return clock().isoformat()


def agent_of(channel: str, callerid: str | None) -> str:
    match = _CHANNEL_EXT.match(channel or "")
    if match:
        return match.group(1)
    return (callerid or "").strip() or channel


class AmiTranslator:
    """Stateful translation of AMI events (dicts of header -> value) into CTI event dicts."""

    def __init__(self, extensions: Iterable[str] = ("112",), all_calls: bool = False,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.extensions = {e.strip() for e in extensions if e.strip()}
        self.all_calls = all_calls
        self.clock = clock or (lambda: datetime.now(UTC))
        self.calls: dict[str, _CallState] = {}

    def _emergency(self, event: Mapping[str, Any]) -> bool:
        return self.all_calls or str(event.get("Exten", "")).strip() in self.extensions

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        name = str(event.get("Event", ""))
        handler = getattr(self, f"_on_{name.lower()}", None)
        if handler is None:
            return []
        try:
            return handler(event)  # type: ignore[no-any-return]
        except Exception:  # one odd event must not stop the adapter
            log.exception("could not translate AMI %s event", name)
            return []

    def _on_newchannel(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        uniqueid, linkedid = str(event.get("Uniqueid", "")), str(event.get("Linkedid", ""))
        if not uniqueid or uniqueid != linkedid or linkedid in self.calls or not self._emergency(event):
            return []
        if len(self.calls) >= MAX_TRACKED:  # calls whose Hangup we never saw
            self.calls.pop(next(iter(self.calls)))
        self.calls[linkedid] = _CallState(linkedid=linkedid, caller_channel=str(event.get("Channel", "")))
        line = f"{event.get('Exten', '')}@{event.get('Context', '')}".strip("@")
        return [{"event_id": f"{linkedid}:offered", "type": "call.offered", "call_id": linkedid,
                 "occurred_at": _when(event, self.clock), "caller": str(event.get("CallerIDNum", "")),
                 "line": line[:64]}]

    def _on_bridgeenter(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        call = self.calls.get(str(event.get("Linkedid", "")))
        channel = str(event.get("Channel", ""))
        if call is None or call.answered or channel == call.caller_channel:
            return []
        call.answered = True
        call.agent_channels.add(channel)
        return [{"event_id": f"{call.linkedid}:answered", "type": "call.answered", "call_id": call.linkedid,
                 "occurred_at": _when(event, self.clock),
                 "agent": agent_of(channel, str(event.get("CallerIDNum", "")))[:64]}]

    def _on_dialbegin(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        call = self.calls.get(str(event.get("Linkedid", "")))
        if call is None or not call.answered:
            return []  # ringing the operators is not a transfer
        dest = str(event.get("DestUniqueid", ""))
        if not dest or dest in call.transfers:
            return []
        call.transfers.add(dest)
        target = str(event.get("DestExten") or event.get("DialString") or event.get("DestChannel") or "")
        return [{"event_id": f"{call.linkedid}:transferred:{dest}", "type": "call.transferred",
                 "call_id": call.linkedid, "occurred_at": _when(event, self.clock), "target": target[:64]}]

    def _on_hangup(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        linkedid = str(event.get("Linkedid", ""))
        call = self.calls.get(linkedid)
        if call is None or str(event.get("Channel", "")) != call.caller_channel:
            return []
        self.calls.pop(linkedid, None)
        return [{"event_id": f"{linkedid}:ended", "type": "call.ended", "call_id": linkedid,
                 "occurred_at": _when(event, self.clock),
                 "cause": str(event.get("Cause-txt") or event.get("Cause") or "")[:64]}]


class HttpSink:
    """Posts CTI events to Siaga112's endpoint with the PBX token, retrying until stored."""

    def __init__(self, url: str, token: str, timeout: float = 5.0, first_retry: float = 0.5) -> None:
        import httpx

        self.first_retry = first_retry
        self.url = url.rstrip("/") + "/api/v1/cti/events"
        self.client = httpx.AsyncClient(timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    async def __call__(self, payload: dict[str, Any]) -> None:
        delay = self.first_retry
        while True:
            try:
                response = await self.client.post(self.url, json=payload)
            except Exception as exc:  # network trouble: the event must not be lost, keep trying
                log.warning("posting %s failed (%s); retrying in %.1fs", payload["event_id"], exc, delay)
            else:
                if response.status_code in (200, 201):
                    return
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    log.error("Siaga112 refused %s: %s %s", payload["event_id"], response.status_code,
                              response.text[:300])
                    return
                log.warning("Siaga112 answered %s for %s; retrying", response.status_code, payload["event_id"])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def close(self) -> None:
        await self.client.aclose()


async def run_adapter(host: str, port: int, username: str, secret: str,
                      sink: Callable[[dict[str, Any]], Any], translator: AmiTranslator,
                      stop: asyncio.Event | None = None) -> None:
    """Connect with panoramisk, translate every event, hand the results to ``sink`` in order."""
    from panoramisk import Manager

    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    manager = Manager(loop=loop, host=host, port=port, username=username, secret=secret,
                      ping_delay=10, ping_interval=10, reconnect_timeout=2)

    def on_event(_manager: Any, message: Any) -> None:
        for payload in translator.feed(dict(message.items())):
            queue.put_nowait(payload)

    manager.register_event("*", on_event)
    try:
        await manager.connect()
    except OSError as exc:  # panoramisk keeps retrying in the background
        log.warning("AMI %s:%s not reachable yet (%s); retrying", host, port, exc)
    stopper = stop or asyncio.Event()
    try:
        while not stopper.is_set():
            try:
                payload = await asyncio.wait_for(queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            result = sink(payload)
            if asyncio.iscoroutine(result):
                await result
    finally:
        manager.close()
