#!/usr/bin/env python3
"""CTI ingestion benchmark: real HTTP on loopback against `siaga serve`, on SQLite and PostgreSQL.

For each database it creates a fresh database, migrates it, registers a PBX, starts the server, and then
runs C concurrent keep-alive clients for D seconds; each client plays whole calls (offered, answered,
ended) with unique event ids, so every request is a real write. It prints events/s and the p50 / p99
latency of each request as a table.

    .venv/bin/python bench/cti_ingest.py [--duration 20] [--clients 32] [--workers 2] [--db both]

The load generator is a few lines of asyncio HTTP/1.1 (not httpx) so that it takes as little of the
machine's two cores as possible from the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIAGA = [sys.executable, "-m", "siaga.cli"]
PG_URL = os.environ.get("SIAGA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(db: str, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update({"SIAGA_VAR_DIR": str(var), "SIAGA_ENV": "development", "SIAGA_DEBUG": "0",
                "SIAGA_LOG_LEVEL": "error"})
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS siaga_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE siaga_bench")
        env["SIAGA_DATABASE_URL"] = f"{PG_URL}/siaga_bench"
    for command in (["migrate", "--noinput"], ["load-reference"]):
        subprocess.run([*SIAGA, *command], env=env, check=True, capture_output=True)
    out = subprocess.run([*SIAGA, "integration", "create", "bench-pbx", "--kind", "pbx"], env=env, check=True,
                         capture_output=True, text=True).stdout
    env["BENCH_TOKEN"] = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("token:"))
    return env


async def client(port: int, token: str, worker: int, deadline: float, latencies: list[float],
                 statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    serial = 0
    try:
        while time.perf_counter() < deadline:
            serial += 1
            call = f"b{worker}-{serial}"
            now = datetime.now(UTC).isoformat()
            for kind, extra in (("offered", {"caller": f"0812{worker:04d}{serial % 10000:04d}", "line": "112"}),
                                ("answered", {"agent": "2001"}), ("ended", {"cause": "normal"})):
                body = json.dumps({"event_id": f"{call}:{kind}", "type": f"call.{kind}", "call_id": call,
                                   "occurred_at": now, **extra}).encode()
                request = (f"POST /api/v1/cti/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def load(port: int, token: str, clients: int, duration: float) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    # warm-up: one call per client, not measured
    await asyncio.gather(*(client(port, token, 9000 + i, time.perf_counter() + 0.3, [], {}) for i in range(clients)))
    start = time.perf_counter()
    deadline = start + duration
    await asyncio.gather(*(client(port, token, i, deadline, latencies, statuses) for i in range(clients)))
    return latencies, statuses, time.perf_counter() - start


def run_one(db: str, workers: int, clients: int, duration: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="siaga-bench-") as tmp:
        env = prepare(db, Path(tmp))
        port = free_port()
        server = subprocess.Popen([*SIAGA, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            time.sleep(1.0)
            latencies, statuses, elapsed = asyncio.run(load(port, env["BENCH_TOKEN"], clients, duration))
        finally:
            server.terminate()
            server.wait(timeout=15)
    latencies.sort()
    ok = statuses.get(201, 0)
    return {
        "db": db, "workers": workers, "clients": clients, "seconds": round(elapsed, 1), "events": len(latencies),
        "errors": len(latencies) - ok, "events_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: 1 SQLite, 2 PG)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    rows = []
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        workers = args.workers or (1 if db == "sqlite" else 2)
        rows.append(run_one(db, workers, args.clients, args.duration))
    header = f"{'database':<10} {'workers':>7} {'clients':>7} {'events':>8} {'errors':>6} {'events/s':>9} " \
             f"{'p50 ms':>7} {'p99 ms':>7}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['db']:<10} {r['workers']:>7} {r['clients']:>7} {r['events']:>8} {r['errors']:>6} "
              f"{r['events_per_s']:>9.0f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f}")
    print(f"({os.cpu_count()} cores, {sys.version.split()[0]}, load generator on the same machine)")


if __name__ == "__main__":
    main()
