#!/usr/bin/env python3
"""CTI ingestion benchmark: real HTTP on loopback against `siaga serve`, on SQLite and PostgreSQL.

For each database it creates a fresh database, migrates it, registers a PBX, starts the server, and then
runs C concurrent keep-alive clients for D seconds; each client plays whole calls (offered, answered,
ended) with unique event ids, so every request is a real write. It prints events/s and the p50 / p99
latency of each request as a table.

    .venv/bin/python bench/cti_ingest.py [--duration 20] [--clients 32] [--workers 2] [--db both] [--nodes 1|2|both]
                                         [--rate 1000]

Without ``--rate`` the clients send as fast as they are answered: the machine's maximum, where latency is
mostly queueing (p50 is about clients / throughput). With ``--rate R`` they offer R events a second in all,
each request on a fixed schedule, and its latency runs from when it was due: the latency at that load.

With ``--nodes 2`` two servers share the PostgreSQL database, as two nodes behind a balancer, and the
clients are spread over them; by default each then has 1 worker process, so that one node with 2 workers
and two nodes with 1 each use the same number of server processes on this machine.

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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import result  # noqa: E402

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
                 statuses: dict[int, int], interval: float = 0.0) -> None:
    """Plays whole calls until ``deadline``: each request as soon as the last is answered (closed loop) or,
    with ``interval``, one request every ``interval`` seconds on a fixed schedule (open loop: the latency of
    a request is counted from when it was due, so a server that falls behind cannot hide it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    serial = 0
    sent = 0
    first = time.perf_counter() + (worker % 97) / 97 * interval  # clients spread over one interval
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
                if interval:
                    due = first + sent * interval
                    sent += 1
                    if due > started:
                        await asyncio.sleep(due - started)
                    started = due
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


# what a broken PBX might send: each must be refused with a 4xx at once, never slow the good events
POISON = [
    b'{"event_id": "p%d", "type": "call.offered", "call_id": "p%d", "occurred_at": "%s", "x": NaN}',
    b'{"event_id": "p%d", "type": "call.offered", "call_id": "p%d", "occurred_at": "%s", "x": 1e400}',
    b'{"event_id": "p%d", "type": "call.offered", "call_id": "p%d", "occurred_at": "%s", "caller": "08\\u0000"}',
    b'{"event_id": "p%d", "type": "call.offered", "call_id": "p%d", "occurred_at": "%s", "caller": "\\ud800"}',
    b'{"event_id": "p%d", "type": "call.offered", "call_id": "p%d", "occurred_at": "9999-12-31T23:59:59-14:00"%s}',
]


async def poisoner(port: int, token: str, worker: int, deadline: float, statuses: dict[int, int],
                   rate: float) -> None:
    """Sends poisoned events, ``rate`` a second (0: as fast as answers come, a flood)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    serial = 0
    started = time.perf_counter()
    try:
        while time.perf_counter() < deadline:
            serial += 1
            if rate:
                await asyncio.sleep(max(0.0, started + serial / rate - time.perf_counter()))
            template = POISON[serial % len(POISON)]
            key = worker * 1_000_000 + serial
            tail = b"" if b"9999" in template else datetime.now(UTC).isoformat().encode()
            body = template % (key, key, tail)
            writer.write((f"POST /api/v1/cti/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}"
                          f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                         + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = next((int(line[15:]) for line in head.split(b"\r\n")
                           if line[:15].lower() == b"content-length:"), 0)
            await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def cpu_seconds(pids: list[int], descendants: bool = True) -> float:
    """User + system CPU of these processes (and all their descendants: the uvicorn workers), from /proc."""
    total, todo, tick = 0.0, list(pids), os.sysconf("SC_CLK_TCK")
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir() if descendants else ():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def postgres_cpu_seconds() -> float:
    """CPU of every PostgreSQL process (the benchmark's backends among them; the rest are idle)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return cpu_seconds(pids, descendants=False)


async def load(ports: list[int], token: str, clients: int, duration: float, poisoners: int = 0,
               rate: float = 0.0, probe: Callable[[], None] = lambda: None, offered: float = 0.0,
               ) -> tuple[list[float], dict[int, int], float, dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    poisoned: dict[int, int] = {}
    # warm-up: one call per client, not measured
    await asyncio.gather(*(client(ports[i % len(ports)], token, 9000 + i, time.perf_counter() + 0.3, [], {})
                           for i in range(clients)))
    probe()
    start = time.perf_counter()
    deadline = start + duration
    interval = clients / offered if offered else 0.0
    await asyncio.gather(*(client(ports[i % len(ports)], token, i, deadline, latencies, statuses, interval)
                           for i in range(clients)),
                         *(poisoner(ports[i % len(ports)], token, i, deadline, poisoned, rate)
                           for i in range(poisoners)))
    elapsed = time.perf_counter() - start
    probe()
    return latencies, statuses, elapsed, poisoned


def run_one(db: str, workers: int, clients: int, duration: float, poisoners: int = 0,
            rate: float = 0.0, nodes: int = 1, offered: float = 0.0) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="siaga-bench-") as tmp:
        env = prepare(db, Path(tmp))
        ports = [free_port() for _ in range(nodes)]
        servers = [subprocess.Popen([*SIAGA, "serve", "--port", str(port), "--workers", str(workers)],
                                    env={**env, "SIAGA_NODE_NAME": f"bench-{n}"}, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for n, port in enumerate(ports)]
        try:
            for port in ports:
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                        break
                    except OSError:
                        time.sleep(0.2)
            time.sleep(1.0)
            cpu: list[tuple[float, float]] = []

            def probe() -> None:
                cpu.append((cpu_seconds([s.pid for s in servers]),
                            postgres_cpu_seconds() if db == "postgres" else 0.0))

            latencies, statuses, elapsed, poisoned = asyncio.run(load(ports, env["BENCH_TOKEN"], clients, duration,
                                                                      poisoners, rate, probe, offered))
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=15)
    latencies.sort()
    ok = statuses.get(201, 0)
    return {
        "db": db, "nodes": nodes, "workers": workers, "clients": clients, "seconds": round(elapsed, 1),
        "offered": f"{offered:g}/s" if offered else "max",
        "poison": f"{poisoners}x{rate:g}/s" if poisoners and rate else (f"{poisoners} flood" if poisoners else "-"),
        "events": len(latencies), "poison_refused": sum(n for s, n in poisoned.items() if 400 <= s < 500),
        "poison_5xx": sum(n for s, n in poisoned.items() if s >= 500),
        "errors": len(latencies) - ok, "events_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        # CPU per stored event: steadier than events/s on a noisy machine (and what a change to the code moves)
        "server_ms": (cpu[1][0] - cpu[0][0]) * 1000 / max(1, len(latencies)),
        "db_ms": (cpu[1][1] - cpu[0][1]) * 1000 / max(1, len(latencies)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: 1 SQLite, 2 PG)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--poison", type=int, default=0,
                        help="also run this many clients sending events no database can store (NaN, 1e400, NUL, "
                             "lone surrogates, a time beyond a clock): each row then runs without and with them")
    parser.add_argument("--poison-rate", type=float, default=25.0,
                        help="requests per second of each poisoning client (0: a flood, as fast as answered)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="events per second offered by all clients together, each on a fixed schedule (open "
                             "loop; latency counted from when each request was due); 0: every client sends its "
                             "next request as soon as the last is answered (closed loop, the machine's maximum)")
    parser.add_argument("--nodes", choices=["1", "2", "both"], default="1",
                        help="servers on one database (2: two nodes, the clients spread over them; PostgreSQL only)")
    parser.add_argument("--smoke", action="store_true", help="3 s, 4 clients, SQLite: the benchmark still works")
    args = parser.parse_args()
    if args.smoke:
        args.duration, args.clients, args.db, args.nodes, args.poison = 3.0, 4, "sqlite", "1", 0
    rows = []
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        for nodes in ([1, 2] if args.nodes == "both" else [int(args.nodes)]):
            if nodes > 1 and db != "postgres":
                continue
            workers = args.workers or (1 if db == "sqlite" or nodes > 1 else 2)
            for poisoners in ([0, args.poison] if args.poison else [0]):
                rows.append(run_one(db, workers, args.clients, args.duration, poisoners, args.poison_rate, nodes,
                                    args.rate))
    header = f"{'database':<10} {'nodes':>5} {'workers':>7} {'clients':>7} {'offered':>8} {'poison':>9} " \
             f"{'events':>8} {'errors':>6} " \
             f"{'events/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'server CPU ms/ev':>16} {'db CPU ms/ev':>12} " \
             f"{'poison 4xx':>10} {'poison 5xx':>10}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['db']:<10} {r['nodes']:>5} {r['workers']:>7} {r['clients']:>7} {r['offered']:>8} {r['poison']:>9} "
              f"{r['events']:>8} "
              f"{r['errors']:>6} "
              f"{r['events_per_s']:>9.0f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['server_ms']:>16.2f} "
              f"{r['db_ms']:>12.2f} {r['poison_refused']:>10} "
              f"{r['poison_5xx']:>10}")
    print(f"({os.cpu_count()} cores, {sys.version.split()[0]}, load generator on the same machine)")
    for r in rows:
        where = f"{r['db']}, {r['nodes']} node(s), {r['clients']} clients, {r['offered']} offered"
        result("cti_ingest", f"CTI events stored, {where}", r["events_per_s"], "events/s", higher_is_better=True,
               p50_ms=r["p50_ms"], p99_ms=r["p99_ms"], errors=r["errors"])
        if r["errors"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
