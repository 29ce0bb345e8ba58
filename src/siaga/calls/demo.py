"""The call simulator behind ``siaga demo calls``: realistic 112 traffic through the real HTTP API.

Indonesian 112 centres report that most calls are not emergencies: silent (ghost) calls from pockets and
children, prank calls, requests for information. The mix below follows that picture: about one call in
eight is a real emergency, which becomes an incident, is dispatched to the category's default agencies
and is followed to closure. A few repeat prank callers make the blocking policy visible.

Everything goes through the public API (the CTI endpoint as the demo PBX, AML as the demo provider, tags,
incidents and dispatches as the demo supervisor), so the demo exercises what a real PBX would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# outcome -> weight (per 100 calls)
MIX = {"ghost": 38, "prank": 26, "information": 17, "abandoned": 7, "normal": 12}
# Calls per hour by hour of day (WIB), relative; pranks peak after school and in the evening.
DIURNAL = [0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.7, 0.9, 1.0, 1.0, 1.1, 1.2,
           1.3, 1.4, 1.5, 1.6, 1.6, 1.5, 1.5, 1.6, 1.5, 1.2, 0.8, 0.5]
CATEGORY_WEIGHTS = {
    "kecelakaan-lalu-lintas": 20, "kegawatdaruratan-medis": 22, "kebakaran": 10, "kriminalitas": 10,
    "pohon-tumbang": 6, "binatang-berbahaya": 6, "odgj-pmks": 5, "banjir": 4, "tiang-kabel-roboh": 4,
    "kebocoran-gas-kimia": 3, "orang-tenggelam-sar": 3, "konflik-sosial": 3, "gangguan-listrik": 4,
}
PREFIXES = ["0812", "0813", "0821", "0822", "0852", "0853", "0817", "0818", "0819", "0859", "0877", "0878",
            "0856", "0857", "0815", "0896", "0897", "0898", "0881", "0882"]
WIB = timedelta(hours=7)
# Live demo traffic never drops below this (calls per hour, at any hour): a third goes to the demo operator,
# so a newcomer logged in at 02:00 WIB still gets a call every quarter of an hour or so. Backfills keep
# the real night-time lull (reports should look like a real month).
LIVE_MINIMUM_PER_HOUR = 12.0


def random_number(rng: random.Random) -> str:
    return rng.choice(PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(rng.choice([7, 8, 8, 8])))


@dataclass
class PlannedCall:
    call_id: str
    caller: str
    offered_at: datetime
    outcome: str
    answer_after: float
    talk_seconds: float
    category: str | None = None


@dataclass
class Plan:
    calls: list[PlannedCall] = field(default_factory=list)


def plan(start: datetime, minutes: float, rng: random.Random, rate_per_hour: float = 20.0,
         minimum_per_hour: float = 0.0) -> Plan:
    """Calls between ``start`` and ``start + minutes`` as a Poisson process shaped by the time of day, never
    below ``minimum_per_hour``."""
    prank_pool = [random_number(rng) for _ in range(8)]
    result = Plan()
    t = start
    end = start + timedelta(minutes=minutes)
    outcomes, weights = zip(*MIX.items(), strict=True)
    categories, category_weights = zip(*CATEGORY_WEIGHTS.items(), strict=True)
    serial = 0
    while True:
        hour = (t + WIB).hour
        rate = max(0.05, minimum_per_hour, rate_per_hour * DIURNAL[hour]) / 3600.0
        t = t + timedelta(seconds=rng.expovariate(rate))
        if t >= end:
            return result
        serial += 1
        outcome = rng.choices(outcomes, weights)[0]
        caller = rng.choice(prank_pool) if outcome == "prank" and rng.random() < 0.7 else random_number(rng)
        if outcome == "ghost" and rng.random() < 0.1:
            caller = "anonymous"
        answer_after = rng.uniform(2, 14) if rng.random() < 0.88 else rng.uniform(15, 40)
        talk = {"ghost": rng.uniform(5, 25), "prank": rng.uniform(8, 60), "information": rng.uniform(30, 150),
                "normal": rng.uniform(60, 240), "abandoned": 0.0}[outcome]
        result.calls.append(PlannedCall(
            call_id=f"demo-{int(t.timestamp())}-{serial}-{rng.randint(1000, 9999)}",
            caller=caller, offered_at=t, outcome=outcome, answer_after=answer_after, talk_seconds=talk,
            category=rng.choices(categories, category_weights)[0] if outcome == "normal" else None,
        ))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class DemoClient:
    """Talks to a running Siaga112 as the demo PBX, AML provider and supervisor."""

    def __init__(self, url: str, credentials: dict[str, str], rng: random.Random) -> None:
        self.url = url.rstrip("/") + "/api/v1"
        self.credentials = credentials
        self.rng = rng
        self.http = httpx.AsyncClient(timeout=15.0)
        self.kelurahan: list[dict[str, Any]] = []
        self.categories: dict[str, list[str]] = {}
        self.sent = 0

    def _auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credentials[who + '_token']}"}

    async def _post(self, path: str, who: str, payload: Any = None, content: bytes | None = None,
                    headers: dict[str, str] | None = None) -> Any:
        response = await self.http.post(self.url + path, json=payload if content is None else None,
                                        content=content, headers={**self._auth(who), **(headers or {})})
        self.sent += 1
        if response.status_code >= 400:
            raise RuntimeError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    async def load_reference(self) -> None:
        response = await self.http.get(self.url + "/regions/kelurahan", headers=self._auth("supervisor"))
        response.raise_for_status()
        self.kelurahan = response.json()
        response = await self.http.get(self.url + "/categories", headers=self._auth("supervisor"))
        response.raise_for_status()
        self.categories = {c["code"]: c["default_agencies"] for c in response.json()}

    async def newest_call(self) -> datetime | None:
        """When the most recent call was offered (so a restarted demo only fills the gap)."""
        response = await self.http.get(self.url + "/calls?limit=1", headers=self._auth("supervisor"))
        response.raise_for_status()
        rows = response.json()
        if not rows or not rows[0]["offered_at"]:
            return None
        return datetime.fromisoformat(rows[0]["offered_at"].replace("Z", "+00:00"))

    async def cti(self, call: PlannedCall, kind: str, at: datetime, **extra: Any) -> int:
        body = {"event_id": f"{call.call_id}:{kind}", "type": f"call.{kind}", "call_id": call.call_id,
                "occurred_at": iso(at), **extra}
        return int((await self._post("/cti/events", "pbx", body))["call_id"])

    def place(self) -> tuple[float, float]:
        kel = self.rng.choice(self.kelurahan)
        # within ~300 m of the kelurahan's centre
        dlat = self.rng.uniform(-0.0027, 0.0027)
        dlon = self.rng.uniform(-0.0027, 0.0027) / max(0.2, math.cos(math.radians(kel["centroid_lat"])))
        return round(kel["centroid_lat"] + dlat, 6), round(kel["centroid_lon"] + dlon, 6)

    async def aml(self, call: PlannedCall, at: datetime, lat: float, lon: float) -> None:
        text = (f'A"ML=1;lt={lat:+.5f};lg={lon:+.5f};rd={self.rng.randint(8, 60)};'
                f"top={at.astimezone(UTC):%Y%m%d%H%M%S};lc=68;pm={self.rng.choice('GGGW')};"
                f"si=510100000000000;ei=35{self.rng.randint(10**12, 10**13 - 1)};mcc=510;mnc=10;")
        for digits in (2, 3, 4):
            length = len(text) + len("ml=") + digits
            if len(str(length)) == digits:
                text += f"ml={length}"
                break
        await self._post("/aml/sms", "aml", {"sender": call.caller, "text": text})


HUMAN_AGENT = "2001"  # the demo `operator` login's extension


async def play_call(client: DemoClient, call: PlannedCall, wait_until: Callable[[datetime], Awaitable[None]],
                    now: Callable[[], datetime], live: bool = False) -> None:
    """One call from ringing to (for emergencies) a closed incident, each step at its planned time.

    In live mode the calls answered at the demo operator's extension are left to the person logged in as
    `operator`: they ring, are answered and end, and the tag and any incident are that person's to make.
    """
    await wait_until(call.offered_at)
    call_pk = await client.cti(call, "offered", call.offered_at, caller=call.caller, line="112")
    if call.outcome == "abandoned":
        await wait_until(call.offered_at + timedelta(seconds=call.answer_after))
        await client.cti(call, "ended", call.offered_at + timedelta(seconds=call.answer_after), cause="caller")
        return
    answered = call.offered_at + timedelta(seconds=call.answer_after)
    await wait_until(answered)
    agent = client.rng.choice([HUMAN_AGENT, "2002", "2003"])
    await client.cti(call, "answered", answered, agent=agent)
    lat = lon = None
    if call.caller != "anonymous" and client.rng.random() < 0.6:
        lat, lon = client.place()
        await wait_until(answered + timedelta(seconds=8))
        await client.aml(call, answered + timedelta(seconds=5), lat, lon)
    ended = answered + timedelta(seconds=call.talk_seconds)
    if live and agent == HUMAN_AGENT:
        await wait_until(ended)
        await client.cti(call, "ended", ended, cause="normal")
        return
    if call.outcome != "normal":
        await wait_until(ended)
        await client.cti(call, "ended", ended, cause="normal")
        await client._post(f"/calls/{call_pk}/tag", "supervisor", {"outcome": call.outcome})
        return
    assert call.category is not None
    if lat is None:
        lat, lon = client.place()
    created = answered + timedelta(seconds=client.rng.uniform(25, 70))
    await wait_until(created)
    incident = await client._post("/incidents", "supervisor", {
        "category": call.category, "lat": lat, "lon": lon, "call_id": call_pk, "at": iso(created),
        "description": "Laporan dari penelepon (simulasi demo)", "client_ref": f"{call.call_id}:incident",
    })
    await wait_until(ended)
    await client.cti(call, "ended", max(ended, created), cause="normal")
    agencies = client.categories.get(call.category, [])[:2] or ["bpbd"]
    dispatched = created + timedelta(seconds=client.rng.uniform(15, 60))
    await wait_until(dispatched)
    dispatch_ids = []
    for code in agencies:
        d = await client._post(f"/incidents/{incident['id']}/dispatches", "supervisor",
                               {"agency": code, "at": iso(dispatched)})
        dispatch_ids.append(d["id"])
    moment = dispatched
    for step, (low, high) in (("acknowledged", (30, 120)), ("en_route", (30, 180)), ("on_scene", (300, 900)),
                              ("completed", (900, 2700))):
        moment = moment + timedelta(seconds=client.rng.uniform(low, high))
        if moment > now() + timedelta(hours=2):
            return  # far beyond the simulated window: leave it open, as in a real shift
        await wait_until(moment)
        for dispatch_id in dispatch_ids:
            await client._post(f"/dispatches/{dispatch_id}/status", "supervisor", {"status": step, "at": iso(moment)})
    resolved = moment + timedelta(seconds=60)
    await wait_until(resolved)
    await client._post(f"/incidents/{incident['id']}/status", "supervisor", {"status": "resolved", "at": iso(resolved)})
    await client._post(f"/incidents/{incident['id']}/status", "supervisor",
                       {"status": "closed", "at": iso(resolved + timedelta(seconds=30))})


async def run(url: str, credentials: dict[str, str], minutes: float, speed: float, backfill: bool, seed: int | None,
              rate: float, log: Callable[[str], None], fill_gap: bool = False, concurrency: int = 1) -> int:
    rng = random.Random(seed)
    client = DemoClient(url, credentials, rng)
    await client.load_reference()
    real_start = datetime.now(UTC)
    if backfill:
        start = real_start - timedelta(minutes=minutes)
        if fill_gap:
            newest = await client.newest_call()
            if newest is not None and newest > start:
                start = newest
                minutes = max(0.0, (real_start - start).total_seconds() / 60)
        the_plan = plan(start, minutes, rng, rate)
        log(f"backfilling {len(the_plan.calls)} calls over the last {minutes:g} minutes")
        # Steps that would lie in the future are skipped by play_call's horizon check. Calls run side by side
        # (each one's own steps stay in order), which is how a month of traffic is written in minutes.
        gate = asyncio.Semaphore(max(1, concurrency))
        done = 0

        async def one(call: PlannedCall) -> None:
            nonlocal done
            async with gate:
                await _guarded(_play_backfill(client, call), log)
            done += 1
            if done % 500 == 0:
                log(f"  {done}/{len(the_plan.calls)} calls")

        await asyncio.gather(*(one(call) for call in the_plan.calls))
        await client.http.aclose()
        return len(the_plan.calls)

    def sim_now() -> datetime:
        return real_start + (datetime.now(UTC) - real_start) * speed

    async def wait_live(moment: datetime) -> None:
        delay = (moment - sim_now()).total_seconds() / speed
        if delay > 0:
            await asyncio.sleep(delay)

    total = 0
    window = minutes if minutes > 0 else 60.0
    tasks: set[asyncio.Task[None]] = set()
    while True:
        start = sim_now()
        the_plan = plan(start, window, rng, rate, minimum_per_hour=min(LIVE_MINIMUM_PER_HOUR, rate))
        log(f"{len(the_plan.calls)} calls in the next {window:g} simulated minutes (speed x{speed:g})")
        for call in the_plan.calls:
            task = asyncio.create_task(_guarded(play_call(client, call, wait_live, sim_now, live=True), log))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        total += len(the_plan.calls)
        await asyncio.sleep(window * 60 / speed)
        if minutes > 0:
            break
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    await client.http.aclose()
    return total


async def _play_backfill(client: DemoClient, call: PlannedCall) -> None:
    horizon = datetime.now(UTC)

    async def wait_until(moment: datetime) -> None:
        if moment > horizon:
            raise _Horizon

    with contextlib.suppress(_Horizon):
        await play_call(client, call, wait_until, lambda: horizon)


class _Horizon(Exception):
    """A backfilled call reached the present: what is left happens later (or not) in real life."""


async def _guarded(coro: Awaitable[None], log: Callable[[str], None]) -> None:
    try:
        await coro
    except Exception as exc:  # one failed simulated call must not end the demo
        log(f"simulated call failed: {exc}")


def load_credentials(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as fh:
        data: dict[str, str] = json.load(fh)
    return data
