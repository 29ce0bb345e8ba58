"""Python's garbage collector in a server process."""

import gc

from django.conf import settings


def tune_collector() -> None:
    """A server process holds many long-lived objects: the whole application, and a task, a queue and a
    protocol per open live stream. With CPython's default thresholds a fan-out to 10,000 streams set off
    collections that walked all of them over and over: 35% of the process's time in a profile, and p99
    delivery past 1 s. What is loaded now is moved out of the collector's sight (``gc.freeze``) and the
    collector runs after ``SIAGA_GC_YOUNG_THRESHOLD`` allocations (700 by default in CPython), its older
    generations after 20 younger passes each (docs/benchmarks.md, live fan-out)."""
    gc.freeze()
    gc.set_threshold(settings.GC_YOUNG_THRESHOLD, 20, 20)
