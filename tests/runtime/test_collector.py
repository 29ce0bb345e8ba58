"""The server process's garbage collector: tuned for many long-lived live streams (siaga.config.collector)."""

import gc
from typing import Any

from siaga.config import collector


def test_a_server_process_collects_after_the_configured_allocations(settings: Any) -> None:
    before = gc.get_threshold()
    settings.GC_YOUNG_THRESHOLD = 12_345
    try:
        collector.tune_collector()
        assert gc.get_threshold() == (12_345, 20, 20)
        assert gc.get_freeze_count() > 0  # what was loaded at start is out of the collector's sight
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
