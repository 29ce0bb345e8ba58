#!/usr/bin/env python3
"""Run every benchmark, in full or as a smoke run (``--smoke``: each for a few seconds), and check that each
printed its figures (``BENCH`` lines, bench/common.py). A benchmark that crashes, exits non-zero or prints
no figure fails the run: CI runs ``--smoke`` so that no benchmark rots unnoticed.

    .venv/bin/python bench/run.py [--smoke] [--only warning_latency,live_fanout] [--repeat 5]

Full runs take tens of minutes; ``--repeat N`` runs each N times and prints min / median / max of every
figure (how docs/benchmarks.md records them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the user's paths, in the order a warning travels; then the 112 call lane and its crash safety
BENCHMARKS = ["warning_latency", "alert_latency", "live_fanout", "sms_fanout", "cti_ingest", "crash_safety",
              "cap_throughput"]


def run(name: str, smoke: bool) -> tuple[list[dict[str, object]], str, float]:
    command = [sys.executable, str(HERE / f"{name}.py"), *(["--smoke"] if smoke else [])]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=900 if smoke else 7200, check=False)
    took = time.monotonic() - started
    rows = [json.loads(line[6:]) for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    problem = ""
    if done.returncode != 0:
        problem = f"exit {done.returncode}"
    elif not rows:
        problem = "printed no figure"
    elif any(not isinstance(r.get("value"), int | float) for r in rows):
        problem = "a figure is not a number"
    if problem:
        print(f"--- {name}: {problem}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}", file=sys.stderr)
    return rows, problem, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or BENCHMARKS
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed = []
    figures: dict[tuple[str, str], list[dict[str, object]]] = {}
    for name in names:
        for _ in range(args.repeat):
            rows, problem, took = run(name, args.smoke)
            print(f"{name:<16} {'FAILED: ' + problem if problem else 'ok':<28} {took:6.1f} s", flush=True)
            if problem:
                failed.append(name)
                break
            for row in rows:
                figures.setdefault((name, str(row["what"])), []).append(row)
    print(f"\n{'benchmark':<16} {'figure':<78} {'min':>10} {'median':>10} {'max':>10} {'unit':<9} {'goal':>8} met")
    for (name, what), rows in figures.items():
        values = [float(r["value"]) for r in rows]  # type: ignore[arg-type]
        goal = rows[0].get("goal")
        met = "-" if goal is None else ("yes" if all(r.get("met") for r in rows) else "NO")
        print(f"{name:<16} {what[:78]:<78} {min(values):>10.1f} {statistics.median(values):>10.1f} "
              f"{max(values):>10.1f} {rows[0]['unit']!s:<9} {goal if goal is not None else '-':>8} {met}")
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
