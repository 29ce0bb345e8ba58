#!/usr/bin/env python3
"""Live fan-out benchmark: N Server-Sent-Events subscribers on one `siaga serve` node, or on two through Redis.

Opens N authenticated SSE streams (`/live/events`), then creates incidents through the API one at a time
and measures, for every subscriber, the latency as a person at a screen meets it: from the moment the API
request that creates the incident was sent to the moment the subscriber has read the `incident.created`
event. With ``--nodes 2`` two nodes share the database and a Redis (the production layout of docs/deploy.md);
half the subscribers are on each, and the incidents are created through node A, so half the events travel
through Redis to node B. Prints p50 / p99 / max per N. Goal (issue 24): 10,000 subscribers, p99 < 1 s, on
one node and on two.

    .venv/bin/python bench/live_fanout.py [--subscribers 100,1000,10000] [--events 10] [--nodes 1|2|both] [--smoke]

The N subscribers live in this one process (asyncio, raw sockets); servers and subscribers share the
machine's two cores, so the numbers include the reading side's work too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import result  # noqa: E402

from tests.e2e.servers import REDIS_URL, prepared_env, require_redis, start  # noqa: E402

_parsed: dict[bytes, tuple[str, int]] = {}


def parse(line: bytes) -> tuple[str, int]:
    """Every subscriber receives the same bytes for an event: decode them once."""
    hit = _parsed.get(line)
    if hit is None:
        message = json.loads(line)
        data = message.get("data") or {}
        hit = (message.get("topic", ""), int(data.get("id", 0)) if isinstance(data, dict) else 0)
        _parsed[line] = hit
    return hit


class Subscriber:
    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.seen: dict[int, float] = {}

    async def open(self, port: int, token: str) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        self.writer.write((f"GET /live/events?topics=incident.created HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(head.decode(errors="replace"))
        await self.reader.readuntil(b"\n\n")  # retry + hello

    async def read(self, stop: asyncio.Event) -> None:
        assert self.reader is not None
        while not stop.is_set():
            chunk = await self.reader.readuntil(b"\n\n")
            now = time.monotonic()
            # chunked transfer: SSE blocks arrive inside chunk framing; find the JSON payload
            start = chunk.find(b"data: ")
            if start < 0:
                continue
            line = chunk[start + 6:chunk.find(b"\n", start)]
            try:
                topic, incident = parse(line)
            except (ValueError, KeyError):
                continue
            if topic == "incident.created":
                self.seen[incident] = now  # when this subscriber had read it


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(ports: list[int], token: str, count: int, events: int, pids: list[int]) -> dict[str, float]:
    """``count`` subscribers spread over the nodes at ``ports``; the incidents are created through the first."""
    subscribers = [Subscriber() for _ in range(count)]
    semaphore = asyncio.Semaphore(200)

    async def connect(n: int, sub: Subscriber) -> None:
        async with semaphore:
            await sub.open(ports[n % len(ports)], token)

    started = time.monotonic()
    await asyncio.gather(*(connect(n, s) for n, s in enumerate(subscribers)))
    connect_seconds = time.monotonic() - started
    memory = sum(rss_mb(pid) for pid in pids)
    stop = asyncio.Event()
    readers = [asyncio.create_task(s.read(stop)) for s in subscribers]
    import httpx

    sent_at: dict[int, float] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        for i in range(events):
            sent = time.monotonic()
            response = await client.post("/api/v1/incidents", json={"category": "kebakaran", "lat": -6.0171,
                                                                     "lon": 106.0556, "description": f"bench {i}"})
            incident = response.json()["id"]
            sent_at[incident] = sent
            deadline = time.monotonic() + 30
            while sum(1 for s in subscribers if incident in s.seen) < count and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.3)
    stop.set()
    for task in readers:
        task.cancel()
    for s in subscribers:
        if s.writer:
            s.writer.close()
    # from the request that caused the event to each subscriber's reading of it
    latencies = sorted(at - sent_at[incident] for s in subscribers for incident, at in s.seen.items()
                       if incident in sent_at)
    expected = count * events
    return {
        "subscribers": count, "nodes": len(ports), "events": events, "delivered": len(latencies),
        "missing": expected - len(latencies), "connect_s": connect_seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, "max_ms": latencies[-1] * 1000,
        "rss_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", default="100,1000,10000")
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--nodes", choices=["1", "2", "both"], default="both",
                        help="one node, or two on one database and one Redis (the subscribers split over them)")
    parser.add_argument("--smoke", action="store_true", help="50 subscribers, 3 events: the benchmark still works")
    args = parser.parse_args()
    if args.smoke:
        args.subscribers, args.events = "50", 3
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows = []
    for nodes in [1, 2] if args.nodes == "both" else [int(args.nodes)]:
        with tempfile.TemporaryDirectory(prefix="siaga-fanout-") as tmp:
            extra = {"SIAGA_LOG_LEVEL": "error"}
            if nodes > 1:
                require_redis()
                extra.update(SIAGA_REDIS_URL=REDIS_URL, SIAGA_REDIS_CHANNEL=f"siaga-bench-{uuid.uuid4().hex}")
            env = prepared_env(Path(tmp), "siaga_bench_live", extra)
            servers = [start(env) for _ in range(nodes)]
            try:
                ports = [int(server.url.rsplit(":", 1)[1]) for server in servers]
                token = servers[0].credentials["supervisor_token"]
                for count in (int(n) for n in args.subscribers.split(",")):
                    if count + 100 > hard:
                        print(f"N={count}: skipped, the file-descriptor limit is {hard}")
                        continue
                    rows.append(asyncio.run(run(ports, token, count, args.events,
                                                [server.proc.pid for server in servers])))
            finally:
                for server in servers:
                    server.stop()
    header = (f"{'nodes':>5} {'subscribers':>11} {'events':>6} {'delivered':>9} {'missing':>7} {'connect s':>9} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'server MB':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['nodes']:>5} {r['subscribers']:>11} {r['events']:>6} {r['delivered']:>9} {r['missing']:>7} "
              f"{r['connect_s']:>9.1f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['max_ms']:>7.1f} {r['rss_mb']:>9.0f}")
    print(f"({os.cpu_count()} cores, {sys.version.split()[0]}, one server process per node, subscribers in this "
          "process; latency from the API request that creates the incident)")
    for r in rows:
        result("live_fanout", f"API request to {r['subscribers']} subscribers, {r['nodes']} node(s), p99",
               r["p99_ms"], "ms", goal=1000.0, p50=r["p50_ms"], max=r["max_ms"], missing=r["missing"])
    if any(r["missing"] for r in rows):
        sys.exit("some subscribers missed events")


if __name__ == "__main__":
    main()
