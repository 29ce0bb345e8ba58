#!/usr/bin/env python3
"""Warning latency: a tsunami record appears on the local BMKG feed -> a set-top box shows it full screen.

The whole chain of `siaga demo tsunami`, in one process on a fresh database: the BMKG replay server on
loopback, the real poller thread (polling autogempa every P seconds over HTTP), the policy, the CAP alert,
the dispatcher's `ews` delivery, the carousel sending MPEG-TS over UDP (multicast on loopback), and a
set-top-box emulator receiving it. Each run publishes a new tsunami quake at a random point of the poll
cycle and times until the emulator's state is full screen; then the warning is cancelled and the box
goes back to nothing before the next run. Goal: p99 <= poll interval + 1 s.

    .venv/bin/python bench/warning_latency.py [--runs 50] [--intervals 1,5] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alert_latency import percentile, setup


def measure(interval: float, runs: int, series: int) -> list[float]:
    from django.conf import settings

    from siaga.alerts import actions
    from siaga.alerts.actions import SYSTEM
    from siaga.alerts.models import Thread
    from siaga.broadcast.drill import Box, Drill
    from siaga.hazards.replay import scenario

    settings.ALERT_CHANNELS = ["ews"]
    settings.ALERT_MAX_AGE_MINUTES = 24 * 60  # the runs' quakes go back a minute each
    fullscreen = threading.Event()
    drill = Drill(udp=f"239.255.112.1:{5100 + series}", interval=interval, http_port=None,
                  boxes=(Box("42431", "Pulomerak"),),
                  on_change=lambda box, state, what: fullscreen.set() if state.overlay == "fullscreen" else None)
    drill.start()
    base = json.loads(scenario("autogempa_drill_selat_sunda_m7_tsunami.json"))["Infogempa"]["gempa"]
    now = datetime.now(UTC)
    latencies = []
    try:
        time.sleep(2)
        for run in range(runs):
            time.sleep(random.uniform(0, interval))
            record = dict(base, Coordinates=f"{-6.5 - 0.9 * series:.2f},105.40")
            fullscreen.clear()
            drill.replay.state.publish("autogempa", record=record, shift_to_now=True,
                                       at=now - timedelta(seconds=61 * (run + 1)))
            published = time.monotonic()
            if not fullscreen.wait(interval + 15):
                raise RuntimeError(f"run {run}: the box was not full screen within {interval + 15} s")
            latencies.append(time.monotonic() - published)
            for thread in Thread.objects.filter(active=True):
                actions.do_cancel_thread(SYSTEM, thread.pk, "benchmark")
            if not drill.wait(lambda states: states[0][1]["overlay"] == "none", 15):
                raise RuntimeError(f"run {run}: the cancel did not clear the box")
    finally:
        drill.stop()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--intervals", default="1,5", help="poll intervals in seconds, comma-separated")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    setup(args.db)
    print(f"database: {args.db}; runs per interval: {args.runs}")
    print(f"{'poll interval':>13} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'goal p99 ms':>12} {'met':>4}")
    for series, interval in enumerate(float(v) for v in args.intervals.split(",")):
        latencies = measure(interval, args.runs, series)
        p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 99) * 1000
        goal = interval * 1000 + 1000
        print(f"{interval:>12g}s {p50:>8.0f} {p99:>8.0f} {max(latencies) * 1000:>8.0f} {goal:>12.0f} "
              f"{'yes' if p99 <= goal else 'NO':>4}", flush=True)


if __name__ == "__main__":
    main()
