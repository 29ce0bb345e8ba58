#!/usr/bin/env python3
"""Crash safety of the CTI lane: kill -9 every server process under load, restart, and count.

For each database a fresh database is migrated and a PBX registered (as bench/cti_ingest.py does); then C
clients play whole calls (offered, answered, ended) against `siaga serve` over real HTTP, each event
retried until it is acknowledged (201 stored or 200 duplicate), as a PBX retries. K times during the load
every server process is killed with SIGKILL (the whole process group: uvicorn's supervisor and its workers)
and the server started again. With ``--nodes 2`` two servers share the database, as two nodes behind a
load balancer: each event goes to one node and, unacknowledged, to the other (as nginx's
``proxy_next_upstream`` does, deploy/nginx/siaga.conf); the kills take the nodes in turn, so one is always
up. After the load, every acknowledged event is sent once more. Printed:

- acknowledged: distinct events the server acknowledged;
- stored: of those, the ones in the database (counted there, before the re-send);
- lost: acknowledged but not stored (must be 0);
- duplicated: events stored twice, or calls with two rows (must be 0);
- resend: the answers to the re-send (all must be 200 duplicate: a 201 is an acknowledged event that was lost);
- audit: whether `siaga audit verify` finds the audit chain intact after the kills.

With ``--deliveries`` the same is done to the outbox (siaga.core.outbox): a webhook receiver (an HTTP server
in this process, answering 200 after 20 ms) is subscribed to incident events, and the clients open incidents
through the API (each with its ``client_ref``, retried until acknowledged, as a console does), while every
server process is killed K times. After the load the outbox is given time to finish (the lease is set to
15 s), and the receiver's log is counted:

- acknowledged: incidents the API acknowledged;
- lost: acknowledged incidents whose ``incident.created`` never reached the receiver (must be 0);
- duplicated: incidents opened twice, or whose event reached the receiver under two delivery ids (must be 0);
- re-sent: deliveries the receiver got more than once under the same ``X-Siaga-Delivery`` id (a kill between
  the receiver's answer and the outbox's record of it: at least once, and the id lets a receiver drop it).

    .venv/bin/python bench/crash_safety.py [--clients 12] [--kills 4] [--interval 4] [--db both] [--nodes 1|2|both]
                                           [--deliveries]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import result
from cti_ingest import PG_URL, SIAGA, free_port, prepare

TYPES = (("offered", {"line": "112"}), ("answered", {"agent": "2001"}), ("ended", {"cause": "normal"}))


class Server:
    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.env, self.workers, self.port = env, workers, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([*SIAGA, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("siaga serve did not come up")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)  # every process of the server, no chance to clean up
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)


async def post(port: int, token: str, body: bytes) -> int:
    """One request on its own connection; the status, or raises OSError / IncompleteReadError."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
    try:
        writer.write((f"POST /api/v1/cti/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                      ).encode() + body)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        return int(head[9:12])
    finally:
        writer.close()


class Load:
    def __init__(self, servers: list[Server], token: str) -> None:
        self.servers, self.token = servers, token
        self.acknowledged: dict[str, bytes] = {}  # event_id -> the body that was acknowledged
        self.first_answer: Counter[int] = Counter()
        self.retries = 0
        self.stopping = False

    async def deliver(self, event_id: str, body: bytes, first: int = 0) -> None:
        attempt = 0
        while True:  # a PBX retries until it has an answer that is not a 5xx; a balancer tries the next node
            server = self.servers[(first + attempt) % len(self.servers)]
            attempt += 1
            try:
                status = await post(server.port, self.token, body)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
            if status in (200, 201):
                self.acknowledged[event_id] = body
                self.first_answer[status] += 1
                return
            if 400 <= status < 500:
                raise RuntimeError(f"{event_id}: refused with {status}")
            self.retries += 1
            await asyncio.sleep(0.2)

    async def client(self, number: int) -> None:
        serial = 0
        while not self.stopping:
            serial += 1
            call = f"crash{number}-{serial}"
            for kind, extra in TYPES:
                event = {"event_id": f"{call}:{kind}", "type": f"call.{kind}", "call_id": call,
                         "occurred_at": datetime.now(UTC).isoformat(), **extra}
                if kind == "offered":
                    event["caller"] = f"0812{number:04d}{serial % 10000:04d}"
                await self.deliver(event["event_id"], json.dumps(event).encode(), number + serial)


async def kill_in_turn(servers: list[Server], kills: int, interval: float) -> None:
    """``kills`` times: ``interval`` s of load, then kill -9 of the next server and its start again; then
    ``interval`` s more of load."""
    for kill in range(kills):
        await asyncio.sleep(interval)
        server = servers[kill % len(servers)]
        server.kill()
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.start)
    await asyncio.sleep(interval)


async def scenario(servers: list[Server], token: str, clients: int, kills: int, interval: float) -> Load:
    load = Load(servers, token)
    tasks = [asyncio.create_task(load.client(i)) for i in range(clients)]
    await kill_in_turn(servers, kills, interval)
    load.stopping = True
    await asyncio.gather(*tasks)
    return load


def stored_counts(env: dict[str, str]) -> tuple[Counter[str], Counter[str]]:
    """How many rows each event id and each call has in the database, read there directly."""
    queries = ("SELECT event_id, COUNT(*) FROM calls_ctievent GROUP BY event_id",
               "SELECT call_ref, COUNT(*) FROM calls_call GROUP BY call_ref")
    if "SIAGA_DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["SIAGA_DATABASE_URL"]) as conn:
            results = [conn.execute(q).fetchall() for q in queries]
    else:
        with sqlite3.connect(Path(env["SIAGA_VAR_DIR"]) / "siaga.sqlite3") as conn:
            results = [conn.execute(q).fetchall() for q in queries]
    return Counter(dict(results[0])), Counter(dict(results[1]))


async def resend(load: Load) -> Counter[int]:
    answers: Counter[int] = Counter()
    semaphore = asyncio.Semaphore(16)

    async def one(body: bytes) -> None:
        async with semaphore:
            answers[await post(load.servers[0].port, load.token, body)] += 1

    await asyncio.gather(*(one(body) for body in load.acknowledged.values()))
    return answers


def run_one(db: str, workers: int, clients: int, kills: int, interval: float, nodes: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="siaga-crash-") as tmp:
        env = prepare(db, Path(tmp))
        servers = [Server({**env, "SIAGA_NODE_NAME": f"bench-{n}"}, workers) for n in range(nodes)]
        for server in servers:
            server.start()
        try:
            started = time.monotonic()
            load = asyncio.run(scenario(servers, env["BENCH_TOKEN"], clients, kills, interval))
            elapsed = time.monotonic() - started
            events, _ = stored_counts(env)
            answers = asyncio.run(resend(load))
            events_after, calls_after = stored_counts(env)
        finally:
            for server in servers:
                server.stop()
        verify = subprocess.run([*SIAGA, "audit", "verify", "--json"], env=env, capture_output=True, text=True)
        report = json.loads(verify.stdout) if verify.stdout.strip().startswith("{") else {"ok": False}
    acknowledged = set(load.acknowledged)
    acked_calls = {event_id.split(":")[0] for event_id in acknowledged}
    return {
        "db": db, "nodes": nodes, "workers": workers, "clients": clients, "kills": kills, "seconds": elapsed,
        "acknowledged": len(acknowledged),
        "stored": sum(1 for e in acknowledged if events[e] >= 1),
        "lost": sum(1 for e in acknowledged if events[e] == 0),
        "duplicated": sum(1 for e in acknowledged if events_after[e] > 1)
        + sum(1 for c in acked_calls if calls_after[c] > 1),
        "retries": load.retries, "first_200": load.first_answer[200],
        "resend_200": answers[200], "resend_other": sum(n for s, n in answers.items() if s != 200),
        "audit": "intact" if report.get("ok") else "BROKEN " + "; ".join(report.get("problems", []))[:200],
    }


class Receiver:
    """A webhook receiver on loopback: logs (delivery id, topic, incident id) of every POST, answers 200."""

    def __init__(self) -> None:
        import http.server
        import threading

        log: list[tuple[str, str, int]] = []
        self.log = log

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(0.02)  # a receiver's own work: a kill can fall between its answer and our record
                log.append((self.headers["X-Siaga-Delivery"], body.get("topic", ""),
                            int((body.get("data") or {}).get("id") or 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


async def open_incident(port: int, token: str, ref: str) -> tuple[int, int]:
    """POST /api/v1/incidents with ``client_ref`` on its own connection: (status, incident id or 0)."""
    body = json.dumps({"category": "kebakaran", "lat": -6.0171, "lon": 106.0556, "client_ref": ref,
                       "description": f"uji crash {ref}"}).encode()
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
    try:
        writer.write((f"POST /api/v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                      ).encode() + body)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        status = int(head[9:12])
        rest = await asyncio.wait_for(reader.read(), 10)
        return status, int(json.loads(rest).get("id", 0)) if status in (200, 201) else 0
    finally:
        writer.close()


async def incident_load(servers: list[Server], token: str, clients: int, kills: int, interval: float
                        ) -> tuple[dict[str, int], int]:
    acknowledged: dict[str, int] = {}
    retries = 0
    stopping = False

    async def client(number: int) -> None:
        nonlocal retries
        serial = 0
        while not stopping:
            serial += 1
            ref = f"crash-{number}-{serial}"
            attempt = 0
            while True:
                server = servers[(number + attempt) % len(servers)]
                attempt += 1
                try:
                    status, incident = await open_incident(server.port, token, ref)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    status, incident = 0, 0
                if status in (200, 201):
                    acknowledged[ref] = incident
                    break
                if 400 <= status < 500:
                    raise RuntimeError(f"{ref}: refused with {status}")
                retries += 1
                await asyncio.sleep(0.2)

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await kill_in_turn(servers, kills, interval)
    stopping = True
    await asyncio.gather(*tasks)
    return acknowledged, retries


def outbox_open(env: dict[str, str]) -> int:
    """Webhook deliveries not yet delivered (or given up), read in the database."""
    query = "SELECT COUNT(*) FROM webhooks_delivery WHERE status NOT IN ('delivered', 'gave_up')"
    if "SIAGA_DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["SIAGA_DATABASE_URL"]) as conn:
            return int(conn.execute(query).fetchone()[0])  # type: ignore[index]
    with sqlite3.connect(Path(env["SIAGA_VAR_DIR"]) / "siaga.sqlite3") as conn:
        return int(conn.execute(query).fetchone()[0])


def run_deliveries(db: str, workers: int, clients: int, kills: int, interval: float, nodes: int = 1
                   ) -> dict[str, Any]:
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="siaga-crash-outbox-") as tmp:
        env = prepare(db, Path(tmp))
        env["SIAGA_OUTBOX_LEASE_SECONDS"] = "15"
        for command in (["load-demo"],
                        ["shell", "-c", "from siaga.webhooks.models import Webhook; Webhook.objects.create("
                                        f"name='bench', url='{receiver.url}', topics='incident.created')"]):
            subprocess.run([*SIAGA, *command], env=env, check=True, capture_output=True)
        token = subprocess.run([*SIAGA, "token", "create", "operator", "--name", "bench-crash"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1]
        servers = [Server({**env, "SIAGA_NODE_NAME": f"bench-{n}"}, workers) for n in range(nodes)]
        for server in servers:
            server.start()
        try:
            started = time.monotonic()
            acknowledged, retries = asyncio.run(incident_load(servers, token, clients, kills, interval))
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + 15 + 60  # the lease, then the policy's first retries
            while outbox_open(env) and time.monotonic() < deadline:
                time.sleep(0.5)
            unfinished = outbox_open(env)
        finally:
            for server in servers:
                server.stop()
            receiver.close()
    by_incident: dict[int, set[str]] = {}
    times: Counter[str] = Counter()
    for delivery, topic, incident in receiver.log:
        if topic == "incident.created":
            by_incident.setdefault(incident, set()).add(delivery)
            times[delivery] += 1
    incidents = list(acknowledged.values())
    return {
        "db": db, "nodes": nodes, "workers": workers, "clients": clients, "kills": kills, "seconds": elapsed,
        "acknowledged": len(incidents), "retries": retries, "unfinished": unfinished,
        "lost": sum(1 for i in incidents if i not in by_incident),
        "duplicated": (len(incidents) - len(set(incidents)))
        + sum(1 for i in incidents if len(by_incident.get(i, ())) > 1),
        "resent": sum(1 for n in times.values() if n > 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--interval", type=float, default=4.0, help="seconds of load before each kill")
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: 1 SQLite, 2 PG)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--nodes", choices=["1", "2", "both"], default="1",
                        help="servers on one database (2: two nodes behind a balancer; PostgreSQL only)")
    parser.add_argument("--deliveries", action="store_true",
                        help="the outbox instead of the CTI lane: webhook deliveries of incidents under kill -9")
    parser.add_argument("--smoke", action="store_true",
                        help="one kill after 1 s, SQLite, the CTI lane and the outbox: the benchmark still works")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.kills, args.interval, args.db, args.nodes = 4, 1, 1.0, "sqlite", "1"
    if args.deliveries or args.smoke:
        deliveries_main(args)
        if args.deliveries:
            return
    runs = [(db, n) for db in (["sqlite", "postgres"] if args.db == "both" else [args.db])
            for n in ([1, 2] if args.nodes == "both" else [int(args.nodes)]) if n == 1 or db == "postgres"]
    rows = [run_one(db, args.workers or (1 if db == "sqlite" else 2), args.clients, args.kills, args.interval, n)
            for db, n in runs]
    header = (f"{'database':<9} {'nodes':>5} {'workers':>7} {'clients':>7} {'kills':>5} {'acknowledged':>12} "
              f"{'stored':>7} {'lost':>5} {'duplicated':>10} {'retries':>7} {'resend 200':>10} "
              f"{'resend other':>12}  audit verify")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['db']:<9} {r['nodes']:>5} {r['workers']:>7} {r['clients']:>7} {r['kills']:>5} "
              f"{r['acknowledged']:>12} {r['stored']:>7} {r['lost']:>5} {r['duplicated']:>10} {r['retries']:>7} "
              f"{r['resend_200']:>10} "
              f"{r['resend_other']:>12}  {r['audit']}")
    print(f"({os.cpu_count()} cores, {sys.version.split()[0]}; PostgreSQL at {PG_URL}; load generator on the same "
          "machine; 'retries' counts requests a kill cut off or refused, each sent again until acknowledged)")
    for r in rows:
        where = f"{r['db']}, {r['nodes']} node(s), {r['kills']} kill -9"
        result("crash_safety", f"acknowledged CTI events lost, {where}", r["lost"], "events", goal=0,
               duplicated=r["duplicated"], acknowledged=r["acknowledged"], audit=r["audit"])
    if any(r["lost"] or r["duplicated"] or r["resend_other"] or r["audit"] != "intact" for r in rows):
        sys.exit(1)


def deliveries_main(args: argparse.Namespace) -> None:
    runs = [(db, n) for db in (["sqlite", "postgres"] if args.db == "both" else [args.db])
            for n in ([1, 2] if args.nodes == "both" else [int(args.nodes)]) if n == 1 or db == "postgres"]
    rows = [run_deliveries(db, args.workers or (1 if db == "sqlite" else 2), args.clients, args.kills, args.interval,
                           n) for db, n in runs]
    header = (f"{'database':<9} {'nodes':>5} {'workers':>7} {'clients':>7} {'kills':>5} {'acknowledged':>12} "
              f"{'lost':>5} {'duplicated':>10} {'re-sent':>7} {'unfinished':>10} {'retries':>7}")
    print("outbox: webhook deliveries of incident.created under kill -9")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['db']:<9} {r['nodes']:>5} {r['workers']:>7} {r['clients']:>7} {r['kills']:>5} "
              f"{r['acknowledged']:>12} {r['lost']:>5} {r['duplicated']:>10} {r['resent']:>7} {r['unfinished']:>10} "
              f"{r['retries']:>7}")
    for r in rows:
        where = f"{r['db']}, {r['nodes']} node(s), {r['kills']} kill -9"
        result("crash_safety", f"acknowledged incidents whose webhook never arrived, {where}", r["lost"], "events",
               goal=0, duplicated=r["duplicated"], resent=r["resent"], acknowledged=r["acknowledged"])
    if any(r["lost"] or r["duplicated"] or r["unfinished"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
