#!/usr/bin/env python3
"""SMS fan-out: one warning to N subscribers in Cilegon, through `siaga serve` and a real Kannel.

A fresh database (SQLite file, or PostgreSQL with --db postgres) with Cilegon's reference and demo data and
N subscribers (imported with ``siaga sms import``, spread over the eight kecamatan); Kannel's bearerbox and
smsbox with its fake SMSC (``fakesmsc``, Debian's kannel-extras) on loopback; `siaga serve` with the
``sms`` role pointed at them. An operator drafts a city-wide warning and a supervisor approves it over the
API; from that answer the benchmark measures:

* issued: the approval's answer (the alert and its N deliveries committed);
* handed: until every message was handed to Kannel (its sendsms answered 202);
* phones: until fakesmsc had received every message;
* reports: until every message's delivery report (type 1, delivered) was recorded;
* DLR p50 / p99: per message, from being handed to Kannel to its "delivered" report being recorded.

    .venv/bin/python bench/sms_fanout.py [--subscribers 10000] [--rate 1000] [--concurrency 8] [--db sqlite]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote_to_bytes

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import result  # noqa: E402

from tests.e2e.servers import SIAGA, free_port, prepared_env, start  # noqa: E402
from tests.sms.kannel import Kannel, require_kannel  # noqa: E402

SECRET = "bench-sms-secret"  # noqa: S105 (signs this run's callback URLs, nothing else)
KECAMATAN = [f"36.72.0{i}" for i in range(1, 9)]


def subscribers_csv(count: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["nomor", "jenis", "kecamatan"])
    for n in range(count):
        writer.writerow([f"+62813{n:08d}", "warga", KECAMATAN[n % len(KECAMATAN)]])
    return out.getvalue()


def query(env: dict[str, str], script: str) -> object:
    """A value read from the node's database by `siaga shell` (the benchmark holds no connection of its own)."""
    done = subprocess.run([*SIAGA, "shell", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _last_part(line: bytes) -> bool:
    """A line fakesmsc printed for a whole message, or for the last part of a concatenated one."""
    fields = line.split(b"<", 1)[1].split(b" ", 4)
    if len(fields) < 4 or fields[2] != b"udh":
        return True
    header = unquote_to_bytes(fields[3])
    return len(header) >= 6 and header[4] == header[5]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction + 0.5) - 1)]


def run(count: int, rate: float, concurrency: int, db: str, timeout: float) -> dict[str, object]:
    require_kannel()
    with tempfile.TemporaryDirectory(prefix="siaga-sms-bench-") as tmp:
        folder = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        token = hmac.new(SECRET.encode(), b"kannel-mo", hashlib.sha256).hexdigest()[:32]
        (folder / "kannel").mkdir()
        kannel = Kannel(folder / "kannel", f"{url}/sms/kannel/mo/{token}/?id=%I&from=%p&to=%P&text=%a").start()
        if db == "postgres":
            os.environ.setdefault("SIAGA_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/siaga")
        else:
            os.environ.pop("SIAGA_TEST_DATABASE_URL", None)
        (folder / "node").mkdir()
        env = prepared_env(folder / "node", "siaga_bench_sms", {
            "SIAGA_SMS_SENDSMS_URL": kannel.url, "SIAGA_SMS_USERNAME": "siaga", "SIAGA_SMS_PASSWORD": "rahasia",
            "SIAGA_SMS_SECRET": SECRET, "SIAGA_SMS_CALLBACK_URL": url, "SIAGA_ALERT_CHANNELS": "web,sms",
            "SIAGA_LOG_LEVEL": "error",
            # the product's own defaults unless the run names other values
            **({"SIAGA_SMS_RATE": str(rate)} if rate else {}),
            **({"SIAGA_SMS_CONCURRENCY": str(concurrency)} if concurrency else {})})
        sheet = folder / "subscribers.csv"
        sheet.write_text(subscribers_csv(count))
        subprocess.run([*SIAGA, "sms", "import", str(sheet)], env=env, check=True, capture_output=True)
        with (folder / "node.log").open("w") as log:
            server = start(env, port=port, output=log)
        try:
            demo = int(query(env, "import json; from siaga.sms.models import Subscriber; "
                                  "print(json.dumps(Subscriber.objects.filter(active=True).count()))"))
            headers = {who: server.headers(who) for who in ("operator", "supervisor")}
            with httpx.Client(base_url=url + "/api/v1", timeout=60) as client:
                draft = client.post("/alerts/drafts", headers=headers["operator"], json={
                    "hazard": "kimia", "display": "fullscreen", "severity": "Extreme",
                    "headline": "Kebocoran gas beracun di kawasan industri Cilegon",
                    "description": "Latihan beban SMS.", "instruction": "Tutup pintu dan jendela, tetap di dalam.",
                    "exercise": True, "area_codes": KECAMATAN}).json()
                client.post(f"/alerts/drafts/{draft['id']}/submit", headers=headers["operator"]).raise_for_status()
                started = time.monotonic()
                approved = client.post(f"/alerts/drafts/{draft['id']}/approve", headers=headers["supervisor"])
                approved.raise_for_status()
                issued = time.monotonic() - started
            phones = None
            deadline = started + timeout
            counted, offset = 0, 0
            while time.monotonic() < deadline:
                with kannel.phones_log.open("rb") as log:  # read on from where the last look ended
                    log.seek(offset)
                    chunk = log.read()
                complete = chunk.rfind(b"\n") + 1
                offset += complete
                counted += sum(1 for line in chunk[:complete].splitlines() if b"Got message" in line
                               and _last_part(line))
                if counted >= demo:
                    phones = time.monotonic() - started
                    break
                time.sleep(0.5)
            reports = None
            while time.monotonic() < deadline:
                delivered = query(env, "import json; from siaga.sms.models import Message; "
                                       "print(json.dumps(Message.objects.filter(status='delivered').count()))")
                if delivered >= demo:
                    reports = time.monotonic() - started
                    break
                time.sleep(1.0)
            rows = query(env, "import json; from siaga.sms.models import Message; from siaga.alerts.models import "
                              "Alert; a = Alert.objects.latest('id'); print(json.dumps([[m.submitted_at.isoformat() "
                              "if m.submitted_at else None, [r['at'] for r in m.reports if r['type'] == 1], "
                              "a.created_at.isoformat()] for m in Message.objects.filter(delivery__alert=a)]))")
        finally:
            server.stop()
            kannel.stop()
    created = datetime.fromisoformat(rows[0][2])
    handed = max(datetime.fromisoformat(r[0]) for r in rows if r[0])
    dlr = [(datetime.fromisoformat(r[1][0]) - datetime.fromisoformat(r[0])).total_seconds()
           for r in rows if r[0] and r[1]]
    return {"db": db, "subscribers": demo, "rate": rate, "concurrency": concurrency, "issued_s": issued,
            "handed_s": (handed - created).total_seconds() + issued, "phones_s": phones, "reports_s": reports,
            "dlr_p50_ms": statistics.median(dlr) * 1000 if dlr else None,
            "dlr_p99_ms": percentile(dlr, 0.99) * 1000 if dlr else None, "messages": len(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=None,
                        help="SIAGA_SMS_RATE: messages a second to Kannel (default: the product's, 50)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="SIAGA_SMS_CONCURRENCY (default: the product's, 8)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--smoke", action="store_true", help="50 subscribers: the benchmark still works")
    args = parser.parse_args()
    if args.smoke:
        args.subscribers, args.timeout = 50, 120.0
    row = run(args.subscribers, args.rate, args.concurrency, args.db, args.timeout)

    def seconds(value: object) -> str:
        return f"{value:.1f}" if isinstance(value, float) else "-"

    header = (f"{'database':<9} {'subscribers':>11} {'rate/s':>7} {'conc':>4} {'issued s':>8} {'handed s':>8} "
              f"{'phones s':>8} {'reports s':>9} {'DLR p50 ms':>10} {'DLR p99 ms':>10}")
    print(header)
    print("-" * len(header))
    print(f"{row['db']:<9} {row['subscribers']:>11} {row['rate'] or 'dflt':>7} {row['concurrency'] or 'dflt':>4} "
          f"{seconds(row['issued_s']):>8} {seconds(row['handed_s']):>8} {seconds(row['phones_s']):>8} "
          f"{seconds(row['reports_s']):>9} {row['dlr_p50_ms'] or 0:>10.0f} {row['dlr_p99_ms'] or 0:>10.0f}")
    print(f"({os.cpu_count()} cores, {sys.version.split()[0]}, Kannel, fakesmsc and siaga serve on one machine; "
          f"{row['messages']} messages)")
    settings = f"rate {row['rate'] or 'default'}, {row['concurrency'] or 'default'} in flight"
    if not isinstance(row["phones_s"], float):
        sys.exit(f"not every message reached the phones within {args.timeout:g} s")
    result("sms_fanout", f"warning approved to every phone, {row['subscribers']} subscribers, {settings}",
           row["phones_s"], "s", handed_s=row["handed_s"], reports_s=row["reports_s"] or -1,
           dlr_p99_ms=row["dlr_p99_ms"] or -1)


if __name__ == "__main__":
    main()
