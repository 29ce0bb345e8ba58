"""What every benchmark prints last: one line per measured figure, which bench/run.py (`make bench-smoke`, in
`.ci/run`) parses after each ``--smoke`` run (a benchmark that crashes, or stops printing its figures, fails
CI instead of rotting).

    BENCH {"bench": "warning_latency", "what": "...", "value": 1234.5, "unit": "ms", "goal": 2000.0, ...}

``goal`` is the figure the issue set (a ceiling for a latency, a floor when ``higher_is_better``); ``met``
says whether this run reached it. A smoke run is too short to judge a p99: CI checks that every figure is
there and is a number, and prints the goals beside them.
"""

from __future__ import annotations

import json
import math


def result(bench: str, what: str, value: float, unit: str, *, goal: float | None = None,
           higher_is_better: bool = False, **extra: float | int | str) -> dict[str, object]:
    if not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{bench}: {what} is not a number: {value!r}")
    met = None if goal is None else (value >= goal if higher_is_better else value <= goal)
    row = {"bench": bench, "what": what, "value": round(float(value), 3), "unit": unit, "goal": goal, "met": met,
           **extra}
    print("BENCH " + json.dumps(row, ensure_ascii=False), flush=True)
    return row
