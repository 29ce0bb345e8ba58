#!/usr/bin/env python3
"""Live fan-out benchmark: N Server-Sent-Events subscribers on one `siaga serve` node.

Opens N authenticated SSE streams (`/live/events`), then creates incidents through the API one at a time
and measures, for every subscriber, the delivery latency: from the moment the server published the event
(the `at` the event carries, same machine clock) to the moment the subscriber has read it. Prints
p50 / p99 / max per N, and the end-to-end time from the API request to the last subscriber.

    .venv/bin/python bench/live_fanout.py [--subscribers 100,1000,10000] [--events 10]

The N subscribers live in this one process (asyncio, raw sockets); server and subscribers share the
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
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.servers import prepared_env, start  # noqa: E402

_parsed: dict[bytes, tuple[str, int, float]] = {}


def parse(line: bytes) -> tuple[str, int, float]:
    """Every subscriber receives the same bytes for an event: decode them once."""
    hit = _parsed.get(line)
    if hit is None:
        message = json.loads(line)
        data = message.get("data") or {}
        published = datetime.fromisoformat(message["at"]).timestamp() if message.get("at") else 0.0
        hit = (message.get("topic", ""), int(data.get("id", 0)) if isinstance(data, dict) else 0, published)
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
            now = time.time()
            # chunked transfer: SSE blocks arrive inside chunk framing; find the JSON payload
            start = chunk.find(b"data: ")
            if start < 0:
                continue
            line = chunk[start + 6:chunk.find(b"\n", start)]
            try:
                topic, incident, published = parse(line)
            except (ValueError, KeyError):
                continue
            if topic == "incident.created":
                self.seen[incident] = now - published


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(port: int, token: str, count: int, events: int, pid: int) -> dict[str, float]:
    subscribers = [Subscriber() for _ in range(count)]
    semaphore = asyncio.Semaphore(200)

    async def connect(sub: Subscriber) -> None:
        async with semaphore:
            await sub.open(port, token)

    started = time.monotonic()
    await asyncio.gather(*(connect(s) for s in subscribers))
    connect_seconds = time.monotonic() - started
    memory = rss_mb(pid)
    stop = asyncio.Event()
    readers = [asyncio.create_task(s.read(stop)) for s in subscribers]
    import httpx

    end_to_end: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        for i in range(events):
            sent = time.monotonic()
            response = await client.post("/api/v1/incidents", json={"category": "kebakaran", "lat": -6.0171,
                                                                     "lon": 106.0556, "description": f"bench {i}"})
            incident = response.json()["id"]
            deadline = time.monotonic() + 30
            while sum(1 for s in subscribers if incident in s.seen) < count and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            end_to_end.append(time.monotonic() - sent)
            await asyncio.sleep(0.3)
    stop.set()
    for task in readers:
        task.cancel()
    for s in subscribers:
        if s.writer:
            s.writer.close()
    latencies = sorted(v for s in subscribers for v in s.seen.values())
    expected = count * events
    return {
        "subscribers": count, "events": events, "delivered": len(latencies), "missing": expected - len(latencies),
        "connect_s": connect_seconds, "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, "max_ms": latencies[-1] * 1000,
        "e2e_max_ms": max(end_to_end) * 1000, "rss_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", default="100,1000,10000")
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rows = []
    with tempfile.TemporaryDirectory(prefix="siaga-fanout-") as tmp:
        env = prepared_env(Path(tmp), "siaga_bench_live", {"SIAGA_LOG_LEVEL": "error"})
        server = start(env)
        try:
            port = int(server.url.rsplit(":", 1)[1])
            token = server.credentials["supervisor_token"]
            for count in (int(n) for n in args.subscribers.split(",")):
                if count + 100 > hard:
                    print(f"N={count}: skipped, the file-descriptor limit is {hard}")
                    continue
                rows.append(asyncio.run(run(port, token, count, args.events, server.proc.pid)))
        finally:
            server.stop()
    header = (f"{'subscribers':>11} {'events':>6} {'delivered':>9} {'missing':>7} {'connect s':>9} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'e2e max ms':>10} {'server MB':>9}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['subscribers']:>11} {r['events']:>6} {r['delivered']:>9} {r['missing']:>7} {r['connect_s']:>9.1f} "
              f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['max_ms']:>7.1f} {r['e2e_max_ms']:>10.1f} "
              f"{r['rss_mb']:>9.0f}")
    print(f"({os.cpu_count()} cores, {sys.version.split()[0]}, one server process, subscribers in this process)")


if __name__ == "__main__":
    main()
