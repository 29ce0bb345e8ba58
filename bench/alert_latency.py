#!/usr/bin/env python3
"""Alert latency: a new record on the local BMKG feed -> the alert committed with all its deliveries queued.

In one process: a fresh database (SQLite file, or PostgreSQL with --db postgres), Cilegon's reference data,
the BMKG replay server on loopback, and the real poller thread polling autogempa every P seconds over HTTP.
Each run publishes a new felt quake near Cilegon (a ticker alert) at a random moment relative to the poll
cycle and waits for the alert's ``alert.issued`` event, which is published after the commit of the
transaction that also queued every delivery (web, MQTT, e-mail, webhook, TTS targets). It prints p50 / p99
/ max per poll interval. Goal: p99 <= poll interval + 200 ms.

    .venv/bin/python bench/alert_latency.py [--runs 50] [--intervals 1,5] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import result  # noqa: E402

PG_URL = os.environ.get("SIAGA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def setup(db: str) -> None:
    var = Path(tempfile.mkdtemp(prefix="siaga-latency-"))
    os.environ.update({"SIAGA_ENV": "development", "SIAGA_VAR_DIR": str(var), "SIAGA_DEBUG": "0",
                       "SIAGA_LOG_LEVEL": "error", "SIAGA_HAZARD_POLLING": "0",
                       # every channel configured, so queueing computes every target inside the transaction
                       "SIAGA_ALERT_CHANNELS": "web,mqtt,email,webhook,tts", "SIAGA_MQTT_URL": "mqtt://127.0.0.1:1883",
                       "SIAGA_SMTP_URL": "smtp://127.0.0.1:2525", "SIAGA_ALERT_EMAILS": "pusdalops@cilegon.go.id"})
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS siaga_latency WITH (FORCE)")
            conn.execute("CREATE DATABASE siaga_latency")
        os.environ["SIAGA_DATABASE_URL"] = f"{PG_URL}/siaga_latency"
    else:
        os.environ["SIAGA_DATABASE_URL"] = f"sqlite:///{var}/latency.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from siaga.runtime.reference import load_all
    from siaga.runtime.roles import warm_warning_path

    load_all()
    warm_warning_path()  # as every node does at its start (siaga.runtime.roles.Node)


def measure(interval: float, runs: int, series: int = 0) -> list[float]:
    import json

    from django.conf import settings

    from siaga.core.events import get_bus
    from siaga.hazards import poller
    from siaga.hazards.replay import ReplayServer, scenario

    replay = ReplayServer(recorded=False)
    replay.start()
    settings.BMKG_FEEDS = [replay.feed_urls()["autogempa"]]
    settings.INATEWS_FEEDS = settings.USGS_FEEDS = settings.CAP_FEEDS = []
    settings.ALERT_MAX_AGE_MINUTES = 24 * 60  # the runs' quakes go back a minute each
    [feed] = poller.ensure_feeds()
    issued: dict[str, float] = {}
    arrived = threading.Event()

    def on_alert(event: object) -> None:
        issued[event.data["identifier"]] = time.monotonic()  # type: ignore[attr-defined]
        arrived.set()

    remove = get_bus().add_listener(on_alert, ["alert.issued"])
    thread = poller.Poller(feed, interval=interval, timeout=2.0)
    thread.start()
    base = json.loads(scenario("autogempa_drill_selat_sunda_m5_felt.json"))["Infogempa"]["gempa"]
    latencies = []
    now = datetime.now(UTC)
    try:
        for run in range(runs):
            time.sleep(random.uniform(0, interval))  # publish at a random point of the poll cycle
            # each run a different quake (61 s before the one before: not the same event); each series
            # of runs 130 km further south than the one before, so no two series share a quake either
            record = dict(base, Coordinates=f"{-6.12 - 1.2 * series:.2f},105.71")
            when = now - timedelta(seconds=61 * (run + 1))
            arrived.clear()
            before = len(issued)
            replay.state.publish("autogempa", record=record, shift_to_now=True, at=when)
            published = time.monotonic()
            if not arrived.wait(interval + 10) or len(issued) == before:
                raise RuntimeError(f"run {run}: no alert within {interval + 10} s")
            latencies.append(max(issued.values()) - published)
    finally:
        thread.stop()
        remove()
        replay.shutdown()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def arguments(doc: str | None, smoke: dict[str, object] | None = None) -> argparse.Namespace:
    """--runs, --intervals, --db and --smoke of the latency benchmarks; the database is set up and named."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--intervals", default="1,5", help="poll intervals in seconds, comma-separated")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--smoke", action="store_true", help="a few runs, in seconds: the benchmark still works")
    args = parser.parse_args()
    if args.smoke:
        for name, value in (smoke or {"runs": 5, "intervals": "1"}).items():
            setattr(args, name, value)
    setup(args.db)
    print(f"database: {args.db}; runs per interval: {args.runs}")
    return args


def main() -> None:
    args = arguments(__doc__)
    print(f"{'poll interval':>13} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'goal p99 ms':>12} {'met':>4}")
    for series, interval in enumerate(float(v) for v in args.intervals.split(",")):
        latencies = measure(interval, args.runs, series)
        p50 = statistics.median(latencies) * 1000
        p99 = percentile(latencies, 99) * 1000
        goal = interval * 1000 + 200
        print(f"{interval:>12g}s {p50:>8.0f} {p99:>8.0f} {max(latencies) * 1000:>8.0f} {goal:>12.0f} "
              f"{'yes' if p99 <= goal else 'NO':>4}")
        result("alert_latency", f"feed to alert committed, poll {interval:g} s, p99", p99, "ms", goal=goal,
               runs=len(latencies), p50=p50, max=max(latencies) * 1000)


if __name__ == "__main__":
    main()
