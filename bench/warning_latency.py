#!/usr/bin/env python3
"""Warning latency: a tsunami record appears on the local BMKG feed -> every set-top box in Cilegon shows AWAS.

The whole chain of `siaga demo tsunami`, in one process on a fresh database: the BMKG replay server on
loopback, the real poller thread (polling autogempa every P seconds over HTTP), the policy, the CAP alert,
the dispatcher's `ews` delivery, the carousel sending MPEG-TS over UDP (multicast on loopback). What the
boxes show is read off the air by the independent reader (bench/air.py: tests/ews/vendor_reader.py, which
imports nothing of siaga and reads as MStar's published code does: PAT gate, PID 0x0080, whole sub-tables,
the TRDW version that rebuilds), one box for each of Cilegon's 29 postcodes. Each run publishes a new
tsunami quake at a random point of the poll cycle and times until all 29 boxes show AWAS; then the warning
is cancelled and every box must go back to nothing before the next run. Goal: p99 <= poll interval + 1 s.
The warning is city-wide (29 postcodes: 6 packages of at most 5).

A receiver waits for one whole repetition of the carousel, so what many packages on air cost is printed
separately: the length of one repetition at the configured bitrate for 1 to 32 packages of the drill's
warning (computed from the encoded sections, not timed; 32 packages is all a receiver holds).

    .venv/bin/python bench/warning_latency.py [--runs 50] [--intervals 1,5] [--db sqlite|postgres] [--smoke]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from air import Air
from alert_latency import arguments, percentile
from common import result


def measure(interval: float, runs: int, series: int, on_air: list[int], sizes: list[float]) -> list[float]:
    from django.conf import settings

    from siaga.alerts import actions
    from siaga.alerts.actions import SYSTEM
    from siaga.alerts.models import Thread
    from siaga.broadcast.service import CarouselService
    from siaga.hazards.replay import scenario
    from siaga.runtime.drill import Drill

    settings.ALERT_CHANNELS = ["ews"]
    settings.ALERT_MAX_AGE_MINUTES = 24 * 60  # the runs' quakes go back a minute each
    group = f"239.255.113.{1 + series}:{5100 + series}"
    air = Air(group)
    drill = Drill(udp=group, interval=interval, http_port=None, boxes=())
    drill.start()
    base = json.loads(scenario("autogempa_drill_selat_sunda_m7_tsunami.json"))["Infogempa"]["gempa"]
    now = datetime.now(UTC)
    latencies = []

    def carousel() -> CarouselService | None:
        for keeper in drill.node.keepers.values():
            for work in keeper.work:
                if isinstance(work, CarouselService):
                    return work
        return None

    try:
        if not _wait(lambda: carousel() is not None and air.watching(), 15):
            raise RuntimeError("the carousel did not start, or no box sees the EWS programme in the PAT")
        for run in range(runs):
            time.sleep(random.uniform(0, interval))
            record = dict(base, Coordinates=f"{-6.5 - 0.9 * series:.2f},105.40")
            drill.replay.state.publish("autogempa", record=record, shift_to_now=True,
                                       at=now - timedelta(seconds=61 * (run + 1)))
            published = time.monotonic()
            shown = air.wait(lambda levels: all(level == "AWAS" for level in levels.values()), interval + 15)
            if shown is None:
                raise RuntimeError(f"run {run}: not every box showed AWAS within {interval + 15} s: {air.levels()}")
            latencies.append(shown - published)
            service = carousel()
            on_air.append(len(service.state.packages) if service and service.state else 0)
            sizes.append(service.carousel.repetition_seconds if service else 0.0)
            for thread in Thread.objects.filter(active=True):
                actions.do_cancel_thread(SYSTEM, thread.pk, "benchmark")
            if air.wait(lambda levels: not any(levels.values()), 15) is None:
                raise RuntimeError(f"run {run}: the cancel did not clear every box: {air.levels()}")
    finally:
        drill.stop()
        air.close()
    return latencies


def _wait(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def main() -> None:
    args = arguments(__doc__, smoke={"runs": 3, "intervals": "1"})
    print(f"{'poll interval':>13} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'goal p99 ms':>12} {'met':>4} "
          f"{'packages (max)':>15} {'repetition ms (max)':>20}")
    for series, interval in enumerate(float(v) for v in args.intervals.split(",")):
        on_air: list[int] = []
        sizes: list[float] = []
        latencies = measure(interval, args.runs, series, on_air, sizes)
        p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 99) * 1000
        goal = interval * 1000 + 1000
        print(f"{interval:>12g}s {p50:>8.0f} {p99:>8.0f} {max(latencies) * 1000:>8.0f} {goal:>12.0f} "
              f"{'yes' if p99 <= goal else 'NO':>4} {max(on_air):>15} {max(sizes) * 1000:>20.0f}", flush=True)
        result("warning_latency", f"feed to AWAS on all 29 postcodes, poll {interval:g} s, p99", p99, "ms",
               goal=goal, runs=len(latencies), p50=p50, max=max(latencies) * 1000)
    sizing()


def sizing() -> None:
    """One repetition of the carousel for 1-32 packages carrying the drill's tsunami warning."""
    import dataclasses

    from django.conf import settings

    from siaga.alerts.models import Alert
    from siaga.broadcast.service import make_carousel
    from siaga.ews.fromcap import message_of
    from siaga.ews.sections import Location, encode, plan
    from siaga.formats import cap

    alert = Alert.objects.filter(msg_type="Alert").order_by("-pk").first()
    if alert is None:
        return
    message = message_of(cap.parse(alert.xml.encode()), "drill")
    city = encode(plan([message]).packages, 0)
    carousel = make_carousel()
    print(f"\ncarousel at {settings.EWS_BITRATE} bit/s, every section again within {settings.EWS_REPEAT_MS} ms; "
          f"the drill's city-wide warning is {len(plan([message]).packages)} packages, "
          f"{sum(len(s) for s in city)} bytes of sections")
    print(f"{'packages on air':>15} {'bytes':>7} {'repetition ms':>14} {'within repeat':>14}")
    for count in (1, 6, 12, 24, 32):
        separate = [dataclasses.replace(message, key=str(n), locations=(Location(f"42{n:03d}"),))
                    for n in range(100, 100 + count)]
        sections = encode(plan(separate).packages, 0)
        carousel.set_sections(sections)
        print(f"{count:>15} {sum(len(s) for s in sections):>7} {carousel.repetition_seconds * 1000:>14.0f} "
              f"{'no' if carousel.overbooked else 'yes':>14}")


if __name__ == "__main__":
    main()
